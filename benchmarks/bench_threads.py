"""Thread scaling of one evaluation: ours against the GEMM floor and MLPClassifier.

The motivating problem (n=10,000, 3072-200-10, logistic units) at 1, 2, 4 and
16 BLAS threads (those the machine has), in float32 and float64. For each
thread count, measured in the same run with interleaved repeats (medians):

- *floor*: the five matrix products any implementation must do, with that many
  BLAS threads (``threadpool_limits``);
- *objective*: our in-memory objective alone (row blocks in threads, each with
  single-threaded products, reduced in block order), timed right after the
  other functions: above one thread, their OpenBLAS threads still spin for a
  while after a call and take cores from the row-block threads, so
  this column is an upper bound. A fit keeps NumPy's BLAS on one thread for
  its whole solve, which *inside fit* measures;
- *inside fit*: one evaluation inside ``CGMLPClassifier.fit`` (fit time of a
  short ``solver="cg"`` fit divided by its evaluations: the objective plus
  SciPy's vector arithmetic and our casts), with line searches on full
  evaluations (cached lines off, so that every iteration's work is counted
  in evaluations; ``bench_fit.py`` measures the cached lines);
- *MLPClassifier*: the loss/gradient function its L-BFGS calls, same threads.

Run ``python benchmarks/bench_threads.py`` (about 2 minutes on 2 cores, more
on machines with more cores: the 1-thread rows dominate).
"""

import argparse
import os
import time
import warnings

import numpy as np
from _common import machine_summary, print_table
from bench_evaluation import (
    N_CLASSES,
    N_FEATURES,
    N_HIDDEN,
    floor_products,
    make_data,
    mlpclassifier_evaluation,
)
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from sklearn_cgmlp import CGMLPClassifier, _line
from sklearn_cgmlp._layout import ParameterLayout
from sklearn_cgmlp._layout import glorot_init as _glorot_init
from sklearn_cgmlp._loss import MLPLoss
from sklearn_cgmlp._objective import InMemoryObjective


def interleaved_medians(funcs, repeat):
    """Median time of each function, called in turn ``repeat`` times."""
    for f in funcs.values():
        f()  # warm-up
    times = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, f in funcs.items():
            start = time.perf_counter()
            f()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def measure(X, y, Y, theta, layout, threads, args):
    """Medians for one dtype and thread count (see the module docstring)."""
    theta64 = theta.astype(np.float64)
    objective = InMemoryObjective(
        X, Y, loss=MLPLoss(layout, "logistic", "softmax", 1e-4), n_threads=threads
    )
    grad = np.empty_like(theta)
    evaluations = {}

    def fit(iterations):
        def run():
            clf = CGMLPClassifier(
                hidden_layer_sizes=(N_HIDDEN,), activation="logistic",
                max_iter=iterations, tol=0.0, random_state=0,
            )  # fmt: skip
            pays, _line.line_pays = _line.line_pays, lambda *a, **k: False
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    clf.fit(X, y)
            finally:
                _line.line_pays = pays
            evaluations[iterations] = clf.n_fun_evals_

        return run

    short, long = args.fit_iterations, 2 * args.fit_iterations
    with threadpool_limits(limits=threads):
        medians = interleaved_medians(
            {
                "floor": floor_products(
                    X, layout.unpack(theta)[0], X.shape[0], theta.dtype
                ),
                "objective": lambda: objective.loss_grad(theta, out=grad),
                "short fit": fit(short),
                "long fit": fit(long),
                "mlp": mlpclassifier_evaluation(X, y, theta64, layout),
            },
            args.repeat,
        )
    objective.close()
    # The difference of two fit lengths cancels the fit's set-up (validation,
    # initial weights, thread pool).
    medians["inside fit"] = (medians["long fit"] - medians["short fit"]) / (
        evaluations[long] - evaluations[short]
    )
    return medians


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fit-iterations", type=int, default=5)
    args = parser.parse_args()
    cores = os.cpu_count()
    thread_counts = [t for t in (1, 2, 4, 16) if t <= cores]
    print(machine_summary())
    layout = ParameterLayout([N_FEATURES, N_HIDDEN, N_CLASSES])
    theta64 = _glorot_init(layout, "logistic", 0)
    rows = []
    for dtype in (np.float32, np.float64):
        X, y, Y = make_data(args.n_samples, dtype)
        theta = theta64.astype(dtype)
        for threads in thread_counts:
            m = measure(X, y, Y, theta, layout, threads, args)
            floor = m["floor"]
            rows.append(
                [
                    np.dtype(dtype).name,
                    threads,
                    f"{floor * 1e3:.1f}",
                    f"{m['objective'] * 1e3:.1f}",
                    f"{m['objective'] / floor:.2f}",
                    f"{m['inside fit'] * 1e3:.1f}",
                    f"{m['inside fit'] / floor:.2f}",
                    f"{m['mlp'] * 1e3:.1f}",
                    f"{m['mlp'] / m['inside fit']:.2f}",
                ]
            )
    print_table(
        f"One evaluation, n={args.n_samples}, 3072-200-10 logistic, by BLAS threads "
        f"({cores} cores; medians of {args.repeat} interleaved repeats)",
        [
            "dtype",
            "threads",
            "floor (ms)",
            "objective (ms)",
            "objective / floor",
            "inside fit (ms)",
            "inside fit / floor",
            "MLPClassifier (ms)",
            "MLPClassifier / inside fit",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
