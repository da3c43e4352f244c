"""Time and evaluations for CGMLPClassifier to reach MLPClassifier's loss.

``MLPClassifier(solver="lbfgs")`` and ``CGMLPClassifier`` minimise the same
objective (cross-entropy plus the same L2 term) from the same initial weights
(same ``random_state``). For each task, L-BFGS is run first; its final
training loss is the *target*. CG is then run until its loss reaches the
target, and its wall time and number of loss/gradient evaluations are
compared with L-BFGS's. Both fits are timed in the same run.

Run ``python benchmarks/bench_fit.py`` (about two minutes on 2 cores).
"""

import argparse
import time
import warnings

import numpy as np
from _common import machine_summary, print_table
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier


def tasks(quick):
    X, y = load_digits(return_X_y=True)
    yield "digits 64-50-10 relu", StandardScaler().fit_transform(X), y, (50,), "relu"
    yield "digits 64-50-10 tanh", StandardScaler().fit_transform(X), y, (50,), "tanh"
    n = 5000 if quick else 20000
    X, y = make_classification(
        n_samples=n,
        n_features=100,
        n_informative=40,
        n_classes=5,
        n_clusters_per_class=2,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    yield f"synthetic n={n} 100-100-5 relu", X, y, (100,), "relu"
    yield f"synthetic n={n} 100-100-5 tanh", X, y, (100,), "tanh"


def count_evaluations(mlp):
    """Count the loss/gradient calls of an MLPClassifier's L-BFGS fit."""
    counter = [0]
    original = mlp._loss_grad_lbfgs

    def counted(*args, **kwargs):
        counter[0] += 1
        return original(*args, **kwargs)

    mlp._loss_grad_lbfgs = counted
    return counter


def timed_fit(est, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lbfgs-max-iter", type=int, default=200)
    args = parser.parse_args()
    print(machine_summary())
    rows = []
    for name, X, y, hidden, activation in tasks(args.quick):
        params = dict(hidden_layer_sizes=hidden, activation=activation, random_state=0)
        lbfgs = MLPClassifier(solver="lbfgs", max_iter=args.lbfgs_max_iter, **params)
        lbfgs_evals = count_evaluations(lbfgs)
        t_lbfgs = timed_fit(lbfgs, X, y)
        target = lbfgs.loss_
        # Find the first CG iteration at or below the target, then time a fit
        # that stops there (same seed, same trajectory).
        probe = CGMLPClassifier(max_iter=3 * lbfgs.n_iter_ + 10, tol=0.0, **params)
        timed_fit(probe, X, y)
        reached = np.flatnonzero(np.asarray(probe.loss_curve_) <= target)
        if reached.size:
            cg = CGMLPClassifier(max_iter=int(reached[0]) + 1, tol=0.0, **params)
            t_cg = timed_fit(cg, X, y)
            cg_cells = [
                f"{t_cg:.2f}",
                str(cg.n_iter_),
                str(cg.n_fun_evals_),
                f"{cg.n_fun_evals_ / cg.n_iter_:.2f}",
                f"{t_cg / cg.n_fun_evals_ * 1e3:.1f}",
                f"{t_cg / t_lbfgs:.2f}",
            ]
        else:
            cg_cells = [
                f"not reached (best {min(probe.loss_curve_):.4g})",
                str(probe.n_iter_),
                str(probe.n_fun_evals_),
                "-",
                "-",
                "-",
            ]
        rows.append(
            [
                name,
                f"{target:.4g}",
                f"{t_lbfgs:.2f}",
                str(lbfgs.n_iter_),
                str(lbfgs_evals[0]),
                f"{lbfgs_evals[0] / lbfgs.n_iter_:.2f}",
                f"{t_lbfgs / lbfgs_evals[0] * 1e3:.1f}",
                *cg_cells,
            ]
        )
    print_table(
        "Fit to MLPClassifier(solver='lbfgs')'s final training loss",
        [
            "task",
            "target loss",
            "L-BFGS time (s)",
            "L-BFGS iterations",
            "L-BFGS evaluations",
            "evals / iter",
            "ms / eval",
            "CG time (s)",
            "CG iterations",
            "CG evaluations",
            "evals / iter",
            "ms / eval",
            "CG / L-BFGS time",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
