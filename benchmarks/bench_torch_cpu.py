"""PyTorch CPU tensors against NumPy arrays, at equal threads: fit and evaluation.

The problem a new user reported slow: digits (1,797 x 64, scaled to [0, 1], float32) ->
200 logistic units -> 10 classes, ``CGMLPClassifier(max_iter=200)``; with
``--tile k`` the rows are repeated k times (a larger problem, the same
network). For 1 thread and for every other thread count the machine has (up to
2, 4, 16), in the same run, medians of interleaved repeats:

- *NumPy*: NumPy arrays, NumPy's and SciPy's bundled OpenBLAS limited to t
  threads (``threadpool_limits``; the fit then runs t row-block threads);
- *torch*: torch CPU tensors through array API dispatch, ``torch.set_num_threads(t)``
  and both OpenBLAS limited to t too.

Two more rows isolate which pool costs the time: torch's intra-op pool at the
machine's thread count with both OpenBLAS at 1, and torch at 1 thread with both
OpenBLAS at the machine's thread count.

Columns: the fit's wall time and evaluations, its time per evaluation, and one
loss+gradient evaluation of the objective alone (``ArrayAPIObjective`` or
``InMemoryObjective``); ratios are torch / NumPy at the same threads.

Run ``python benchmarks/bench_torch_cpu.py`` (about 2 minutes on 2 cores;
``SCIPY_ARRAY_API=1`` is set by the script). Needs PyTorch.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from _common import machine_summary, print_table  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sklearn_cgmlp import CGMLPClassifier  # noqa: E402
from sklearn_cgmlp._layout import ParameterLayout  # noqa: E402
from sklearn_cgmlp._layout import glorot_init as _glorot_init  # noqa: E402
from sklearn_cgmlp._loss import MLPLoss  # noqa: E402
from sklearn_cgmlp._objective import ArrayAPIObjective, InMemoryObjective  # noqa: E402
from sklearn_cgmlp._ops import array_ops  # noqa: E402

HIDDEN = 200


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def make_data(tile):
    X, y = load_digits(return_X_y=True)
    X = np.tile((X / 16).astype(np.float32), (tile, 1))
    y = np.tile(y, tile)
    return X, y, np.eye(10, dtype=np.float32)[y]


class Case:
    """One configuration: which arrays, torch threads, OpenBLAS threads."""

    def __init__(self, label, library, torch_threads, blas_threads, data, torch):
        self.label, self.library = label, library
        self.torch_threads, self.blas_threads = torch_threads, blas_threads
        self.torch = torch
        X, y, Y = data
        layout = ParameterLayout([X.shape[1], HIDDEN, Y.shape[1]])
        theta = _glorot_init(layout, "logistic", 0).astype(np.float32)
        problem = dict(loss=MLPLoss(layout, "logistic", "softmax", 1e-4))
        if library == "torch":
            self.X, self.y = torch.asarray(X), torch.asarray(y)
            Xt, Yt = self.X, torch.asarray(Y)
            objective = ArrayAPIObjective(Xt, Yt, ops=array_ops(Xt), **problem)
            theta_t = torch.asarray(theta)
            self.evaluate = lambda: objective.loss_grad(theta_t)
        else:
            self.X, self.y = X, y
            objective = InMemoryObjective(X, Y, n_threads=blas_threads, **problem)
            grad = np.empty_like(theta)
            self.evaluate = lambda: objective.loss_grad(theta, out=grad)
        self.objective = objective
        self.fit_times, self.eval_times, self.n_evals = [], [], None

    def _settings(self):
        self.torch.set_num_threads(self.torch_threads)
        return threadpool_limits(limits=self.blas_threads, user_api="blas")

    def run(self, n_evals, record=True):
        with self._settings():
            clf = CGMLPClassifier(
                hidden_layer_sizes=(HIDDEN,), activation="logistic",
                random_state=0, max_iter=200,
            )  # fmt: skip
            start = time.perf_counter()
            with sklearn.config_context(array_api_dispatch=self.library == "torch"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    clf.fit(self.X, self.y)
            fit_time = time.perf_counter() - start
            start = time.perf_counter()
            for _ in range(n_evals):
                self.evaluate()
            eval_time = (time.perf_counter() - start) / n_evals
        if record:
            self.fit_times.append(fit_time)
            self.eval_times.append(eval_time)
            self.n_evals = clf.n_fun_evals_

    @property
    def fit(self):
        return float(np.median(self.fit_times))

    @property
    def evaluation(self):
        return float(np.median(self.eval_times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--evals", type=int, default=20, help="evaluations per objective timing"
    )
    parser.add_argument("--tile", type=int, default=1)
    args = parser.parse_args()
    import torch

    default_threads = torch.get_num_threads()
    cores = os.cpu_count()
    many = [t for t in (2, 4, 16) if t <= cores]
    print(machine_summary())
    backend = torch.__config__.parallel_info().split("ATen parallel backend:")[-1]
    print(
        f"CPU: {cpu_model()}; torch {torch.__version__}, intra-op threads by "
        f"default {default_threads}, backend {backend.strip()}"
    )
    data = make_data(args.tile)
    cases = []
    for t in [1, *many]:
        cases.append(Case(f"NumPy, {t}", "numpy", t, t, data, torch))
        cases.append(Case(f"torch, {t}", "torch", t, t, data, torch))
    if many:
        m = many[-1]
        cases.append(Case(f"torch {m}, OpenBLAS 1", "torch", m, 1, data, torch))
        cases.append(Case(f"torch 1, OpenBLAS {m}", "torch", 1, m, data, torch))
    try:
        for case in cases:
            case.run(args.evals, record=False)  # warm-up
        for _ in range(args.repeat):
            for case in cases:
                case.run(args.evals)
    finally:
        torch.set_num_threads(default_threads)
    numpy_at = {c.torch_threads: c for c in cases if c.library == "numpy"}
    rows = []
    for c in cases:
        base = numpy_at[c.blas_threads if c.library == "numpy" else c.torch_threads]
        per_eval = c.fit / c.n_evals
        rows.append(
            [
                c.label,
                c.torch_threads if c.library == "torch" else "-",
                c.blas_threads,
                f"{c.fit:.2f}",
                c.n_evals,
                f"{per_eval * 1e3:.2f}",
                f"{c.evaluation * 1e3:.2f}",
                f"{c.fit / base.fit:.2f}",
                f"{per_eval / (base.fit / base.n_evals):.2f}",
                f"{c.evaluation / base.evaluation:.2f}",
            ]
        )
    X = data[0]
    print_table(
        f"{X.shape[0]} x {X.shape[1]}-{HIDDEN}-10 logistic, float32, max_iter=200 "
        f"({cores} cores; medians of {args.repeat} interleaved repeats; ratios to "
        "NumPy at the torch row's intra-op threads)",
        [
            "arrays, threads",
            "torch threads",
            "OpenBLAS threads",
            "fit (s)",
            "evaluations",
            "fit / evaluation (ms)",
            "objective alone (ms)",
            "fit / NumPy",
            "per evaluation / NumPy",
            "objective / NumPy",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
