"""Plant known bugs in the package, one at a time, and check the tests catch them.

A developer tool (CI does not run it): each mutant below replaces one exact
snippet of a source file with a wrong one, runs the tests that should notice,
and restores the file, whatever happens (an error, Ctrl-C). A mutant is

- **killed** when its tests fail (pytest exits 1; another non-zero exit,
  such as a collection error, is reported as killed with its exit code),
- **survived** when they pass: the tests do not guard that behaviour,
- **stale** when its snippet is not found exactly once in the file (the code
  moved): update the mutant rather than trusting the run,
- **timeout** when its tests run past ``--timeout``.

Usage, from the repository root with the test environment active::

    python tools/mutation_check.py              # every mutant
    python tools/mutation_check.py --list       # names and descriptions
    python tools/mutation_check.py monitor-ignores-tol stacklevel
    python tools/mutation_check.py --baseline   # first check the tests pass

``--baseline`` first runs every mutant's tests on the unmodified source; a
failure there makes the mutant's result meaningless, and is reported as
"baseline fails". The whole run takes a few minutes on two cores.
"""

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sklearn_cgmlp"


@dataclass
class Mutant:
    name: str
    path: str  # relative to sklearn_cgmlp/
    original: str
    mutated: str
    description: str
    tests: list = field(default_factory=list)  # pytest arguments


MUTANTS = [
    Mutant(
        "monitor-ignores-tol",
        "_monitor.py",
        "if score >= self.best_validation_score + est.tol",
        "if score > self.best_validation_score",
        "early stopping counts any increase as an improvement, ignoring tol",
        ["tests/test_training_control.py", "-k", "early_stopping"],
    ),
    Mutant(
        "weight-sum-is-row-count",
        "_loss.py",
        "    return ops.total(sample_weight)\n",
        "    return float(sample_weight.shape[0])\n",
        "the loss is divided by the number of rows, not the sum of the weights",
        ["tests/test_estimators.py", "-k", "zero_sample_weight"],
    ),
    Mutant(
        "tanh-derivative-sign",
        "_activations.py",
        "delta *= ops.one_minus_(ops.square_(A))",
        "delta *= -ops.one_minus_(ops.square_(A))",
        "the backpropagated derivative of tanh has the wrong sign",
        ["tests/test_loss.py"],
    ),
    Mutant(
        "logistic-second-derivative-sign",
        "_activations.py",
        "return d1, d1 * (1 - 2 * A)",
        "return d1, d1 * (2 * A - 1)",
        "the second derivative of the logistic function has the wrong sign",
        ["tests/test_hessian.py"],
    ),
    Mutant(
        "penalty-gradient-factor",
        "_penalty.py",
        "grad[part] += np.multiply(W, factor, out=tmp)",
        "grad[part] += 2 * np.multiply(W, factor, out=tmp)",
        "the L2 penalty's gradient is twice what its value implies (NumPy)",
        ["tests/test_loss.py"],
    ),
    Mutant(
        "dask-block-sum-order",
        "_dask/objective.py",
        "else add(*group) for group in groups]",
        "else add(*group[::-1]) for group in groups]",
        "the Dask reduction tree sums each group of blocks right to left",
        ["tests/test_dask_objective.py", "-k", "block_order or deterministic"],
    ),
    Mutant(
        "dask-skips-nan-check",
        "_dask/validation.py",
        "    found = iter(_compute(*checks))\n",
        "    return\n    found = iter(_compute(*checks))\n",
        "Dask fits skip the NaN and infinity check of X and y",
        [
            "tests/test_backend_parity.py",
            "-k",
            "fit_validates and dask-array and (nan or inf)",
        ],  # fmt: skip
    ),
    Mutant(
        "memory-skips-nan-check",
        "_data.py",
        "                multi_output=True,\n",
        "                multi_output=True,\n"
        "                ensure_all_finite=False,\n",
        "in-memory fits accept NaN and infinity in X and y",
        ["tests/test_reliability.py", "-k", "nan or inf"],
    ),
    Mutant(
        "stacklevel",
        "_warn.py",
        '_INTERNAL_PACKAGES = ("sklearn_cgmlp", "sklearn", "joblib",',
        '_INTERNAL_PACKAGES = ("sklearn_cgmlp", "joblib",',
        "warnings point at scikit-learn's fit wrapper, not the user's call to fit",
        ["tests/test_messages.py", "-k", "point_at"],
    ),
    Mutant(
        "early-stopping-trains-on-all",
        "_base.py",
        "            data, validation = data.split(",
        "            _, validation = data.split(",
        "early stopping trains (and calls callbacks) on the validation rows too",
        ["tests/test_training_control.py", "-k", "early_stopping or callbacks"],
    ),
    Mutant(
        "r2-split-unchecked",
        "_data.py",
        "if needs.varying_targets and (val_positive < needs.samples or not "
        "val_varying):",
        "if False:",
        "validation parts on which R² is undefined or constant are accepted",
        ["tests/test_training_control.py", "-k", "r2"],
    ),
    Mutant(
        "targets-not-diagnosed",
        "_diagnostics.py",
        "if scales.targets > LARGE_TARGETS:",
        "if False:",
        "messages never name regression targets as the input out of scale",
        ["tests/test_messages.py"],
    ),
    Mutant(
        "no-detach",
        "_ops.py",
        "        return a.detach()\n",
        "        return a\n",
        "PyTorch tensors that require grad are not detached on entry",
        ["tests/test_array_api.py", "-k", "require_grad"],
    ),
    Mutant(
        "dask-frame-names-dropped",
        "_dask/validation.py",
        "            return pd.DataFrame(columns=columns)",
        "            return X",
        "Dask DataFrames record and check no feature names",
        ["tests/test_backend_parity.py", "-k", "feature_names"],
    ),
    Mutant(
        "dask-targets-sent-twice",
        "_dask/targets.py",
        "(Y,) = _persist(get_client(), y2d.map_blocks(_cast_quietly, dtype, "
        "dtype=dtype))",
        "Y = y2d.map_blocks(_cast_quietly, dtype, dtype=dtype)",
        "the regressor's cast targets reach the scheduler in two graphs",
        ["tests/test_backend_parity.py", "-k", "log_no_warnings"],
    ),
]

# The activations scikit-learn's MLPs lack, and one activation per hidden layer.
_GRADIENT = "test_gradient_matches_finite_differences_float64"
MUTANTS += [
    Mutant(
        "softplus-second-derivative",
        "_activations.py",
        "return d1, d1 * xp.exp(-A)",
        "return d1, d1 * xp.exp(A)",
        "softplus's f'' is f' e^a instead of f' e^-a",
        ["tests/test_hessian.py", "-k", "softplus"],
    ),
    Mutant(
        "elu-derivative-constant",
        "_activations.py",
        "A += A.dtype.type(self.alpha)",
        "A += A.dtype.type(2 * self.alpha)",
        "elu's backpropagated derivative adds 2 alpha to a, not alpha (NumPy)",
        ["tests/test_loss.py", "-k", f"{_GRADIENT} and elu and not relu"],
    ),
    Mutant(
        "leaky-relu-slope",
        "_activations.py",
        "positive += self.negative_slope",
        "positive += 0.1",
        "leaky_relu's derivative on the negative side is 0.1, not 0.01",
        ["tests/test_loss.py", "-k", f"{_GRADIENT} and leaky_relu"],
    ),
    Mutant(
        "gelu-density-constant",
        "_activations.py",
        "A *= A.dtype.type(-0.5)",
        "A *= A.dtype.type(-1.0)",
        "gelu's backpropagated derivative uses exp(-z**2), not exp(-z**2 / 2)",
        ["tests/test_loss.py", "-k", f"{_GRADIENT} and gelu"],
    ),
    Mutant(
        "gelu-second-derivative",
        "_activations.py",
        "pdf * (2.0 - Z * Z)",
        "pdf * (1.0 - Z * Z)",
        "gelu's f'' is phi (1 - z**2), not phi (2 - z**2)",
        ["tests/test_hessian.py", "-k", "gelu"],
    ),
    Mutant(
        "gelu-device-derivative",
        "_activations.py",
        "return ops.ndtr(Z) + Z * pdf,",
        "return ops.ndtr(Z) + 0.5 * Z * pdf,",
        "gelu's f' on array API devices halves the z phi(z) term",
        ["tests/test_array_api.py", "-k", "kernel_on_device and gelu"],
    ),
    Mutant(
        "silu-derivative",
        "_activations.py",
        "            s += 1\n",
        "            s += 2\n",
        "silu's backpropagated derivative is s (2 + z (1 - s)) (NumPy)",
        ["tests/test_loss.py", "-k", f"{_GRADIENT} and silu"],
    ),
    Mutant(
        "silu-second-derivative",
        "_activations.py",
        "(2.0 + Z * (1.0 - 2.0 * s))",
        "(1.0 + Z * (1.0 - 2.0 * s))",
        "silu's f'' has 1 + z (1 - 2 s) for 2 + z (1 - 2 s)",
        ["tests/test_hessian.py", "-k", "silu"],
    ),
    Mutant(
        "kept-input-overwritten",
        "_loss.py",
        "spare = None if out is acts[i] else acts[i]",
        "spare = None if out is acts[i] else inputs[i]",
        "the forward pass writes gelu's output over the pre-activation it keeps",
        ["tests/test_loss.py", "-k", f"{_GRADIENT} and gelu"],
    ),
    Mutant(
        "per-layer-order",
        "_activations.py",
        "return tuple(lookup(a) for a in activation)",
        "return tuple(lookup(a) for a in activation[::-1])",
        "per-layer activations are applied to the hidden layers in reverse order",
        ["tests/test_loss.py", "-k", f"{_GRADIENT} and gelu+elu"],
    ),
    Mutant(
        "phi-series-short",
        "_ops.py",
        "_NDTR_DEGREE = 28",
        "_NDTR_DEGREE = 12",
        "Phi on array API devices comes from a series too short for float64",
        ["tests/test_activations.py", "-k", "phi"],
    ),
    Mutant(
        "per-layer-length-unchecked",
        "_base.py",
        "if is_per_layer(activation) and len(activation) != n_hidden:",
        "if False:",
        "a per-layer activation of the wrong length is not refused by fit",
        ["tests/test_activations.py", "-k", "wrong_length"],
    ),
    Mutant(
        "npz-activation-list-as-tuple",
        "_npz/write.py",
        'return items if isinstance(value, tuple) else {"__list__": items}',
        "return items",
        "a list of activations is stored as a tuple is (and loads as a tuple)",
        ["tests/test_npz_round_trips.py", "-k", "per_layer_tuple"],
    ),
    Mutant(
        "onnx-gelu-tail",
        "onnx.py",
        'negative = graph.node("Less", [Z, graph.constant("zero", 0.0)])',
        'negative = graph.node("Greater", [Z, graph.constant("zero", 0.0)])',
        "float64 ONNX graphs take gelu's Phi from the wrong tail",
        ["tests/test_onnx.py", "-k", "matches_predict and gelu and model64"],
    ),
]


def run_tests(arguments, timeout):
    """``(exit code or "timeout", seconds)`` of pytest on ``arguments``."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               *arguments]  # fmt: skip
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, timeout=timeout,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        code = done.returncode
    except subprocess.TimeoutExpired:
        code = "timeout"
    return code, time.perf_counter() - start


def check(mutant, timeout):
    """Plant ``mutant``, run its tests, restore the file: ``(result, s)``."""
    path = PACKAGE / mutant.path
    source = path.read_text()
    if source.count(mutant.original) != 1:
        return "stale", 0.0
    try:
        path.write_text(source.replace(mutant.original, mutant.mutated))
        code, seconds = run_tests(mutant.tests, timeout)
    finally:
        path.write_text(source)
    if code == 0:
        return "survived", seconds
    if code == 1:
        return "killed", seconds
    if code == "timeout":
        return "timeout", seconds
    return f"killed (pytest exit {code})", seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutants to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutants")
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="first run each mutant's tests on the clean source",
    )
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds allowed to one mutant's tests")  # fmt: skip
    args = parser.parse_args(argv)
    by_name = {m.name: m for m in MUTANTS}
    unknown = [n for n in args.names if n not in by_name]
    if unknown:
        parser.error(f"unknown mutants {unknown}; --list shows them")
    mutants = [by_name[n] for n in args.names] or MUTANTS
    if args.list:
        for m in mutants:
            print(f"{m.name:34} {m.path:20} {m.description}")
        return 0
    rows = []
    for m in mutants:
        if args.baseline:
            code, _ = run_tests(m.tests, args.timeout)
            if code != 0:
                rows.append((m, f"baseline fails (exit {code})", 0.0))
                continue
        result, seconds = check(m, args.timeout)
        rows.append((m, result, seconds))
        print(f"{m.name}: {result} ({seconds:.1f} s)", flush=True)
    print()
    print(f"| {'mutant':32} | {'file':20} | {'result':24} | {'seconds':>7} |")
    print(f"|{'-' * 34}|{'-' * 22}|{'-' * 26}|{'-' * 9}|")
    for m, result, seconds in rows:
        print(f"| {m.name:32} | {m.path:20} | {result:24} | {seconds:7.1f} |")
    survivors = [m.name for m, result, _ in rows if result != "killed"]
    print(f"\n{len(rows) - len(survivors)} of {len(rows)} killed", end="")
    print(f"; not killed: {', '.join(survivors)}" if survivors else "")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
