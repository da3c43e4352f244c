"""Does a smooth hidden activation get CG to a given loss faster than relu?

For each task (two of bench_fit.py's, same split and scaling) and each hidden
activation, ``CGMLPClassifier(solver="cg", tol=0)`` is fitted from the same
seed for ``--max-iter`` iterations (the *full* fit). The *target* is the
training loss the relu fit reaches at its last iteration. For each activation
the table gives:

* the final loss, and the test accuracy, of the full fit;
* the first iteration whose loss is at most relu's loss after a quarter, half
  and all of its iterations ("-": never within ``--max-iter``);
* the fit stopped at the first iteration at most the target (``max_iter``
  set to it: same seed, same trajectory): its gradient evaluations
  (``n_fun_evals_``), its time (median of ``--repeats`` interleaved repeats,
  1 BLAS thread), the time per evaluation and its test accuracy. "not
  reached" when the full fit never gets to the target.

The objective differs between activations only through the network (the same
cross-entropy and L2 term), so the losses are comparable; the accuracies are
on the held-out quarter.

Run ``python benchmarks/bench_activations.py`` (a few minutes on a quiet
2-core machine); ``--quick`` is a smoke test.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_summary, print_table  # noqa: E402
from bench_fit import _digits, _mnist1d_like, split  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_cgmlp import CGMLPClassifier  # noqa: E402

TASKS = {
    # name: (load, hidden_layer_sizes, alpha), as bench_fit.py's tasks
    "digits": (_digits, (64,), 1e-4),
    "mnist1d-like": (_mnist1d_like, (100, 100), 1.0),
}
ACTIVATIONS = ["relu", "leaky_relu", "elu", "softplus", "gelu", "silu", "tanh"]


def fit(X, y, hidden, alpha, activation, max_iter):
    est = CGMLPClassifier(
        hidden, activation=activation, alpha=alpha, solver="cg", tol=0.0,
        max_iter=max_iter, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        est.fit(X, y)
        return est, time.perf_counter() - start


def first_at_or_below(curve, level):
    """The first iteration (1-based) whose loss is at most ``level``."""
    below = np.flatnonzero(np.asarray(curve) <= level)
    return int(below[0]) + 1 if below.size else None


def run_task(name, quick, max_iter, repeats, activations):
    load, hidden, alpha = TASKS[name]
    X, y, description = load(quick)
    X_train, X_test, y_train, y_test = split(X, y, np.float64)
    full = {
        a: fit(X_train, y_train, hidden, alpha, a, max_iter)[0] for a in activations
    }
    checkpoints = [max_iter // 4, max_iter // 2, max_iter]
    levels = [full["relu"].loss_curve_[k - 1] for k in checkpoints]
    target = levels[-1]
    stops = {a: first_at_or_below(full[a].loss_curve_, target) for a in activations}
    times = {a: [] for a in activations}
    stopped = {}
    for _ in range(repeats):  # interleaved
        for a in activations:
            if stops[a] is not None:
                stopped[a], seconds = fit(X_train, y_train, hidden, alpha, a, stops[a])
                times[a].append(seconds)
    rows = []
    for a in activations:
        est = full[a]
        reached = [first_at_or_below(est.loss_curve_, level) for level in levels]
        row = [
            a,
            f"{est.loss_curve_[-1]:.3g}",
            f"{est.score(X_test, y_test):.3f}",
            *("-" if k is None else k for k in reached),
        ]
        if stops[a] is None:
            row += ["not reached", "", "", ""]
        else:
            at = stopped[a]
            assert at.n_iter_ == stops[a] and at.loss_curve_[-1] <= target
            seconds = np.median(times[a])
            row += [
                at.n_fun_evals_,
                f"{seconds:.2f}",
                f"{1e3 * seconds / at.n_fun_evals_:.1f}",
                f"{at.score(X_test, y_test):.3f}",
            ]
        rows.append(row)
    print_table(
        f"{name}: {description}, hidden {hidden}, alpha {alpha}, cg, "
        f"{max_iter} iterations; relu's loss at iterations {checkpoints}: "
        f"{', '.join(f'{v:.3g}' for v in levels)}",
        [
            "activation",
            f"loss at {max_iter}",
            f"test acc. at {max_iter}",
            *(f"iterations to relu's loss at {k}" for k in checkpoints),
            f"evaluations to relu's loss at {max_iter}",
            "time there (s)",
            "ms per evaluation",
            "test acc. there",
        ],
        rows,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    args = parser.parse_args(argv)
    max_iter, repeats = (30, 1) if args.quick else (args.max_iter, args.repeats)
    with threadpool_limits(1):
        print(machine_summary())
        for name in args.tasks:
            run_task(name, args.quick, max_iter, repeats, ACTIVATIONS)


if __name__ == "__main__":
    main()
