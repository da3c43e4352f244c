"""Time and evaluations for each solver to reach MLPClassifier's loss.

``MLPClassifier(solver="lbfgs")`` and ``CGMLPClassifier`` minimise the same
objective (cross-entropy plus the same L2 term) from the same initial weights
(same ``random_state``). For each task, MLPClassifier's L-BFGS is run first;
its final training loss is the *target*. Each CGMLPClassifier solver is then
run until its loss first reaches the target: a probe fit finds the iteration,
and a second fit stopping there is timed (same seed, same trajectory). All
fits of a task are timed in the same run.

Rows "cg, c2=0.4" use SciPy's default curvature condition for CG's line
search instead of ours (0.1), to show what that setting is worth.

Run ``python benchmarks/bench_fit.py`` (about two minutes on 2 cores).
"""

import argparse
import time
import warnings
from contextlib import contextmanager

import numpy as np
from _common import machine_summary, print_table
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier, _hessian, _solvers

VARIANTS = [
    ("cg", {}),
    ("cg, c2=0.4", {"c2": 0.4}),
    ("newton-cg", {}),
    ("trust-ncg", {}),
    ("lbfgs", {}),
]


def tasks(quick):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    yield "digits 64-50-10 relu", X, y, (50,), "relu"
    yield "digits 64-50-10 tanh", X, y, (50,), "tanh"
    n = 5000 if quick else 10000
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


def count_calls(obj, name):
    """Wrap ``obj.name`` to count its calls; returns the one-element counter."""
    counter = [0]
    original = getattr(obj, name)

    def counted(*args, **kwargs):
        counter[0] += 1
        return original(*args, **kwargs)

    setattr(obj, name, counted)
    return counter, original


@contextmanager
def cg_c2(value):
    saved = _solvers.CG_LINE_SEARCH_C2
    _solvers.CG_LINE_SEARCH_C2 = value if value is not None else saved
    try:
        yield
    finally:
        _solvers.CG_LINE_SEARCH_C2 = saved


def timed_fit(est, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    return time.perf_counter() - start


def run_variant(solver, options, params, X, y, target, max_iter):
    """Time, iterations, evaluations and products to reach ``target``."""
    solver = solver.split(",")[0]
    with cg_c2(options.get("c2")):
        probe = CGMLPClassifier(solver=solver, max_iter=max_iter, tol=0.0, **params)
        timed_fit(probe, X, y)
        reached = np.flatnonzero(np.asarray(probe.loss_curve_) <= target)
        if not reached.size:
            return None, probe
        est = CGMLPClassifier(
            solver=solver, max_iter=int(reached[0]) + 1, tol=0.0, **params
        )
        products, original = count_calls(_hessian.CurvatureProduct, "dot")
        try:
            elapsed = timed_fit(est, X, y)
        finally:
            _hessian.CurvatureProduct.dot = original
    return (elapsed, est.n_iter_, est.n_fun_evals_, products[0]), est


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lbfgs-max-iter", type=int, default=200)
    args = parser.parse_args()
    print(machine_summary())
    rows = []
    for name, X, y, hidden, activation in tasks(args.quick):
        params = dict(hidden_layer_sizes=hidden, activation=activation, random_state=0)
        mlp = MLPClassifier(solver="lbfgs", max_iter=args.lbfgs_max_iter, **params)
        evals, _ = count_calls(mlp, "_loss_grad_lbfgs")
        t_ref = timed_fit(mlp, X, y)
        target = mlp.loss_
        rows.append(
            [name, "MLPClassifier lbfgs", f"{target:.4g}", f"{t_ref:.2f}", "1.00"]
            + [str(mlp.n_iter_), str(evals[0]), "-", f"{t_ref / evals[0] * 1e3:.1f}"]
        )
        for label, options in VARIANTS:
            # Probe budget: CG needs about as many iterations as L-BFGS, the
            # truncated-Newton solvers far fewer (see the report).
            newton = label in ("newton-cg", "trust-ncg")
            budget = (mlp.n_iter_ if newton else 2 * mlp.n_iter_) + 10
            figures, est = run_variant(label, options, params, X, y, target, budget)
            if figures is None:
                rows.append(
                    [name, label, f"{target:.4g}", f"not reached in {budget} iter."]
                    + ["-"] * 5
                )
                continue
            elapsed, n_iter, n_evals, n_products = figures
            rows.append(
                [
                    name,
                    label,
                    f"{target:.4g}",
                    f"{elapsed:.2f}",
                    f"{elapsed / t_ref:.2f}",
                    str(n_iter),
                    str(n_evals),
                    str(n_products) if n_products else "-",
                    f"{elapsed / n_evals * 1e3:.1f}",
                ]
            )
    print_table(
        "Time to reach MLPClassifier(solver='lbfgs')'s final training loss",
        [
            "task",
            "solver",
            "target loss",
            "time (s)",
            "time / MLPClassifier's",
            "iterations",
            "loss+grad evaluations",
            "curvature products",
            "ms per evaluation",
        ],
        rows,
    )
    print(
        "\n'ms per evaluation' is the fit time divided by the loss+gradient "
        "evaluations; for newton-cg and trust-ncg it includes the curvature "
        "products."
    )


if __name__ == "__main__":
    main()
