"""CG against L-BFGS on every kind of task: iterations and time to MLP's loss.

For each task ``MLPClassifier`` or ``MLPRegressor(solver="lbfgs")`` is fitted
with its defaults (``max_iter=200``); its final training loss is the *target*
and its iteration count ``n_iter_`` is "L-BFGS's iterations". Our estimators
minimise the same objective from the same initial weights (same
``random_state``). Each CG variant is fitted with ``tol=0`` for at most
``6 x`` L-BFGS's iterations; the first accepted iterate whose loss is at most
the target gives its *iterations to the target* (a fit stopped there, with
``max_iter`` set to that iteration, follows the same trajectory). The table
gives them divided by L-BFGS's, the full evaluations (loss and gradient) and
cached line trials per iteration, and for the timed variants the time of that
stopped fit divided by the time of MLP's whole default fit: medians of
``--repeats`` interleaved repeats (MLP, ours, MLP, ours, ...), at one BLAS
thread for both (``threadpool_limits(1)`` limits NumPy's and SciPy's OpenBLAS
alike).

The variants:

* ``cg``: the default. Where trials are full evaluations, CG preconditioned
  by the limited-memory BFGS approximation of its last 10 curvature pairs,
  line searches with ``c2=0.9``; on cached lines, no pairs and ``c2=0.4``;
* ``cg m=5``: 5 pairs; ``cg m=0``: none (the default's line searches, no
  preconditioner);
* ``cg two-loop``: the default's iteration with ``H g`` by the two-loop
  recursion (:class:`TwoLoopPairs`, eight passes over the pairs) instead of
  the compact representation (two);
* ``cg cached m=10``: 10 pairs on cached lines too (the default before they
  were dropped there);
* ``cg c2=0.4`` and ``cg c2=0.1``: other curvature conditions of the line
  search (whether the outcome still swings with ``c2``);
* ``cg full`` and ``cg cached``: every line-search trial a full evaluation,
  or on cached first-layer products, whatever ``_line.line_pays`` says;
* ``SciPy CG``: no preconditioner (``memory=0``), ``c2=0.1``: the default
  before preconditioning, the Polak-Ribiere+ iteration of
  ``scipy.optimize.minimize(method="CG")``.

The tasks: those of ``bench_fit.py`` (``--quick`` takes their smaller
sizes), on a 75/25 split with standardised features (standardised targets
for ``regression-wide``, as there), and regressions with *raw* targets:
diabetes (scaled X, defaults), make_friedman1 (2000 rows, relu (100,)),
make_regression with noise (2000 x 500, y std about 190, tanh, alpha 1e-2)
and a wide one (1500 x 3072, 200 informative, targets rescaled to std 2.1 and
mean 1, tanh, alpha 1e-2).

Run ``python benchmarks/bench_cg.py`` (about 30 minutes on a quiet 2-core
machine); ``--tasks`` picks tasks by name, ``--quick`` shrinks the wide ones
and runs one repeat.
"""

import argparse
import time
import warnings

import numpy as np
from _common import machine_summary, print_table
from bench_fit import TASKS as FIT_TASKS
from bench_fit import Task, split
from sklearn.datasets import load_diabetes, make_friedman1, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from threadpoolctl import threadpool_limits

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor, _line, _nlcg, _solvers

DEFAULT = "cg"
VARIANTS = {
    "cg": {},
    "cg m=5": {"CG_MEMORY": 5},
    "cg m=0": {"CG_MEMORY": 0},
    "cg two-loop": {"CurvaturePairs": "two-loop"},
    "cg cached m=10": {"CG_CACHED_LINE_MEMORY": 10},
    "cg c2=0.9": {"CG_LINE_SEARCH_C2": 0.9, "CG_CACHED_LINE_C2": 0.9},
    "cg c2=0.4": {"CG_LINE_SEARCH_C2": 0.4, "CG_CACHED_LINE_C2": 0.4},
    "cg c2=0.1": {"CG_LINE_SEARCH_C2": 0.1, "CG_CACHED_LINE_C2": 0.1},
    "cg full": {"line_pays": False},
    "cg cached": {"line_pays": True},
    "SciPy CG": {"CG_MEMORY": 0, "CG_LINE_SEARCH_C2": 0.1, "CG_CACHED_LINE_C2": 0.1},
}
#: The variants that are timed.
TIMED = (
    "cg",
    "cg m=0",
    "cg two-loop",
    "cg cached m=10",
    "cg full",
    "cg cached",
    "SciPy CG",
)
MAX_ITER_FACTOR = 6


def _diabetes(quick):
    X, y = load_diabetes(return_X_y=True)
    return X, y, f"diabetes {X.shape[0]} x {X.shape[1]}, raw y (std {y.std():.0f})"


def _friedman1(quick):
    X, y = make_friedman1(2000, random_state=0)
    return X, y, f"make_friedman1 2000 x 10, raw y (std {y.std():.1f})"


def _noisy_regression(quick):
    X, y = make_regression(2000, 500, n_informative=50, noise=20.0, random_state=0)
    return X, y, f"make_regression 2000 x 500, noise 20, raw y (std {y.std():.0f})"


def _wide_regression(quick):
    n = 500 if quick else 1500
    X, y = make_regression(n, 3072, n_informative=200, noise=1.0, random_state=0)
    y = 1.0 + 2.1 * y / y.std()
    return X, y, f"make_regression {n} x 3072, raw y (std 2.1, mean 1)"


RAW_TASKS = [
    Task("diabetes-raw", (100,), "relu", 1e-4, _diabetes, kind="regressor"),
    Task("friedman1-raw", (100,), "relu", 1e-4, _friedman1, kind="regressor"),
    Task(
        "noisy-regression-raw",
        (100,),
        "tanh",
        1e-2,
        _noisy_regression,
        kind="regressor",
    ),  # fmt: skip
    Task(
        "wide-regression-raw", (100,), "tanh", 1e-2, _wide_regression, kind="regressor"
    ),  # fmt: skip
]


def load(task, quick):
    X, y, description = task.load(quick)
    # split() standardises the targets of kind "regressor" only.
    kind = "raw targets" if task.name.endswith("-raw") else task.kind
    X_train, _, y_train, _ = split(X, y, np.float64, kind)
    return X_train, y_train, description


def estimators(task):
    params = {
        "hidden_layer_sizes": task.hidden,
        "activation": task.activation,
        "alpha": task.alpha,
        "random_state": 0,
    }
    if task.kind == "classifier":
        return MLPClassifier, CGMLPClassifier, params
    return MLPRegressor, CGMLPRegressor, params


class TwoLoopPairs:
    """:class:`sklearn_cgmlp._nlcg.CurvaturePairs` by the two-loop recursion
    (Nocedal & Wright, algorithm 7.4), NumPy vectors only: what the
    preconditioner cost before the compact representation."""

    def __init__(self, ops, memory, pairs=()):
        self.ops, self.memory, self.pairs = ops, memory, tuple(pairs)

    def with_pair(self, s, y):
        sy, yy = float(np.dot(s, y)), float(np.dot(y, y))
        if not (sy > 0 and np.isfinite(sy) and np.isfinite(yy) and yy > 0):
            return self
        keep = self.pairs[max(0, len(self.pairs) + 1 - self.memory) :]
        return TwoLoopPairs(self.ops, self.memory, keep + ((s, y, sy, yy),))

    def apply(self, g):
        if not self.pairs:
            return g
        q = np.array(g, copy=True)
        scratch = np.empty_like(q)
        alphas = []
        for s, y, sy, _ in reversed(self.pairs):
            alphas.append(float(np.dot(s, q)) / sy)
            q -= np.multiply(alphas[-1], y, out=scratch)
        _, _, sy, yy = self.pairs[-1]
        q *= sy / yy
        for (s, y, sy, _), a in zip(self.pairs, reversed(alphas)):
            q += np.multiply(a - float(np.dot(y, q)) / sy, s, out=scratch)
        return q


def _forced(pays):
    """A ``line_pays`` rule that always answers ``pays``."""

    def rule(*args, **kwargs):
        return pays

    return rule


class _settings:
    """The module constants of one variant, restored on exit; ``line_pays``
    forces the cached lines off or on whatever the rule says, and
    ``CurvaturePairs`` swaps in :class:`TwoLoopPairs`."""

    def __init__(self, changes):
        self.changes = changes

    @staticmethod
    def _module(name):
        return {"line_pays": _line, "CurvaturePairs": _nlcg}.get(name, _solvers)

    def __enter__(self):
        self.saved = {name: getattr(self._module(name), name) for name in self.changes}
        for name, value in self.changes.items():
            if name == "line_pays":
                value = _forced(value)
            elif name == "CurvaturePairs":
                value = TwoLoopPairs
            setattr(self._module(name), name, value)

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            setattr(self._module(name), name, value)


def fit_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def probe(Ours, params, X, y, target, max_iter, changes):
    """Iterations to the target (None if not reached), and the fit."""
    with _settings(changes):
        est = fit_quietly(Ours(tol=0.0, max_iter=max_iter, **params), X, y)
    hit = np.flatnonzero(np.asarray(est.loss_curve_) <= target)
    return (int(hit[0]) + 1 if hit.size else None), est


def time_ratio(Ref, Ours, params, X, y, n_iter, label, repeats):
    """Median time of our fit stopped at ``n_iter`` over that of MLP's whole
    default fit, the repeats interleaved."""
    times = {"mlp": [], "ours": []}
    for _ in range(repeats):
        start = time.perf_counter()
        fit_quietly(Ref(solver="lbfgs", **params), X, y)
        times["mlp"].append(time.perf_counter() - start)
        with _settings(VARIANTS[label]):
            start = time.perf_counter()
            fit_quietly(Ours(max_iter=n_iter, tol=0.0, **params), X, y)
            times["ours"].append(time.perf_counter() - start)
    return np.median(times["ours"]) / np.median(times["mlp"])


def run_task(task, quick, repeats, variants, log):
    X, y, description = load(task, quick)
    Ref, Ours, params = estimators(task)
    ref = fit_quietly(Ref(solver="lbfgs", **params), X, y)
    target, ref_iter = ref.loss_, ref.n_iter_
    log(f"{task.name}: {description}; MLP lbfgs: {ref_iter} iterations")
    rows = []
    for label in variants:
        n_iter, est = probe(
            Ours, params, X, y, target, MAX_ITER_FACTOR * ref_iter, VARIANTS[label]
        )
        if n_iter is None:
            reached = min(est.loss_curve_) / target
            not_reached = (
                f"not in {MAX_ITER_FACTOR * ref_iter} ({reached:.3g} x target)"
            )
            rows.append([task.name, label, ref_iter, not_reached, "-", "-", "-", "-"])
            log(f"  {label}: not reached")
            continue
        with _settings(VARIANTS[label]):
            stopped = fit_quietly(Ours(max_iter=n_iter, tol=0.0, **params), X, y)
        assert stopped.n_iter_ == n_iter, (stopped.n_iter_, n_iter)
        ratio_time = "-"
        if label in TIMED:
            ratio_time = (
                f"{time_ratio(Ref, Ours, params, X, y, n_iter, label, repeats):.2f}"
            )
        rows.append([
            task.name, label, ref_iter, n_iter, f"{n_iter / ref_iter:.2f}",
            f"{stopped.n_fun_evals_ / n_iter:.2f}",
            f"{stopped.n_line_trials_ / n_iter:.2f}", ratio_time,
        ])  # fmt: skip
        log(f"  {label}: {rows[-1][3:]}")
    return description, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", nargs="*")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    tasks = [t for t in FIT_TASKS + RAW_TASKS if not args.tasks or t.name in args.tasks]
    print(machine_summary())

    def log(message):
        print(message, flush=True)

    all_rows, descriptions = [], []
    with threadpool_limits(1):
        for task in tasks:
            description, rows = run_task(task, args.quick, repeats, args.variants, log)
            descriptions.append(f"{task.name}: {description}, {task.hidden} "
                                f"{task.activation}, alpha {task.alpha:g}")  # fmt: skip
            all_rows += rows
    print_table(
        f"Iterations and time to MLP(lbfgs)'s final training loss, 1 BLAS thread, "
        f"float64 (time: median of {repeats} interleaved repeats)",
        ["task", "solver", "L-BFGS iterations", "iterations to target",
         "÷ L-BFGS", "evaluations / iteration", "cached trials / iteration",
         "time ÷ MLP's"],
        all_rows,
    )  # fmt: skip
    print()
    for line in descriptions:
        print(f"- {line}")


if __name__ == "__main__":
    main()
