"""CGMLPRegressor against MLPRegressor(solver="lbfgs"): evaluations and fits.

(a) The cost of one loss+gradient evaluation of the squared error: ours
(``MLPLoss.loss_gradient`` with its workspace, as in ``bench_evaluation.py``) and the
``_loss_grad_lbfgs`` method that ``MLPRegressor(solver="lbfgs")`` hands to
SciPy, at the same weights, on 20,000 x 200 data with 256 relu units and 1 or
10 outputs, in float64 and float32.

(b) The time and evaluations each of our solvers needs to reach the final
training loss of ``MLPRegressor(solver="lbfgs")`` (same objective, same initial
weights: same ``random_state``), on make_friedman1 (n=5000) and diabetes, with
tanh and relu units. A probe fit with ``tol=0`` finds the iteration at which
the loss first reaches the target; a fit stopping at that iteration is timed
(same seed, same trajectory). MLPRegressor's evaluations are counted by
wrapping its ``_loss_grad_lbfgs``.

Both estimators get the same number of BLAS threads: ``threadpool_limits(n)``
limits NumPy's and SciPy's OpenBLAS alike. Times are medians of repeats that
interleave the implementations, and every ratio comes from one run.

Run ``python benchmarks/bench_regression.py`` (a few minutes on 2 cores);
``--quick`` runs a smaller version in well under a minute.
"""

import argparse
import os
import time
import warnings

import numpy as np
from _common import machine_summary, print_table
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_cgmlp import CGMLPRegressor, _hessian
from sklearn_cgmlp._layout import ParameterLayout
from sklearn_cgmlp._layout import glorot_init as _glorot_init
from sklearn_cgmlp._loss import MLPLoss
from sklearn_cgmlp._workspace import Workspace

SOLVERS = ["cg", "newton-cg", "trust-ncg", "lbfgs"]


def interleaved_medians(funcs, repeat, warmup=1):
    """Median wall time of each callable, the repeats interleaved."""
    for _ in range(warmup):
        for func in funcs.values():
            func()
    times = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


# ------------------------------------------------------------ (a) evaluation
def mlpregressor_evaluation(X, Y, theta64, layout):
    """The loss/gradient function MLPRegressor's L-BFGS path calls.

    Called with the parameters in ``X``'s dtype, as SciPy's L-BFGS-B calls it
    inside ``MLPRegressor.fit`` (its ``x0``, the initial weights, has ``X``'s
    dtype): a float32 fit computes in float32.
    """
    theta = theta64.astype(X.dtype)
    mlp = MLPRegressor(hidden_layer_sizes=layout.layer_units[1:-1], solver="lbfgs")
    mlp.n_layers_ = layout.n_layers
    mlp.n_outputs_ = Y.shape[1]
    mlp.out_activation_ = "identity"
    coefs, intercepts = layout.unpack(theta)
    mlp.coefs_, mlp.intercepts_ = list(coefs), list(intercepts)
    # The same bookkeeping as MLPRegressor._fit and _fit_lbfgs.
    mlp._coef_indptr = [
        (sl.start, sl.stop, shape)
        for sl, shape in zip(layout.coef_slices, layout.coef_shapes)
    ]
    mlp._intercept_indptr = [(sl.start, sl.stop) for sl in layout.intercept_slices]
    activations = [X] + [None] * (layout.n_layers - 1)
    deltas = [None] * (layout.n_layers - 1)
    coef_grads = [np.empty(s, dtype=X.dtype) for s in layout.coef_shapes]
    intercept_grads = [np.empty(s[1], dtype=X.dtype) for s in layout.coef_shapes]

    def run():
        return mlp._loss_grad_lbfgs(
            theta, X, Y, None, activations, deltas, coef_grads, intercept_grads
        )

    return run


def evaluation_rows(n_samples, n_features, n_hidden, repeat, threads):
    rows = []
    rng = np.random.default_rng(0)
    X64 = rng.standard_normal((n_samples, n_features))
    for n_outputs in (1, 10):
        Y64 = rng.standard_normal((n_samples, n_outputs))
        layout = ParameterLayout([n_features, n_hidden, n_outputs])
        theta64 = _glorot_init(layout, "relu", 0)
        for dtype in (np.float64, np.float32):
            X, Y, theta = (a.astype(dtype) for a in (X64, Y64, theta64))
            workspace = Workspace(layout.layer_units, n_samples, dtype)
            grad = np.empty_like(theta)
            loss = MLPLoss(layout, "relu", "identity", 1e-4)

            def ours(theta=theta, X=X, Y=Y, workspace=workspace, grad=grad, loss=loss):
                return loss.loss_gradient(theta, X, Y, grad=grad, workspace=workspace)

            theirs = mlpregressor_evaluation(X, Y, theta64, layout)
            # Same objective value at the same weights (single output: same
            # gradient too), so the two evaluate the same thing.
            loss_ours, loss_theirs = ours()[0], theirs()[0]
            assert np.isclose(loss_ours, loss_theirs, rtol=1e-4), (
                loss_ours,
                loss_theirs,
            )
            for n_threads in threads:
                with threadpool_limits(n_threads):
                    t = interleaved_medians({"ours": ours, "mlp": theirs}, repeat)
                rows.append(
                    [
                        str(n_outputs),
                        np.dtype(dtype).name,
                        str(n_threads),
                        f"{t['ours'] * 1e3:.1f}",
                        f"{t['mlp'] * 1e3:.1f}",
                        f"{t['mlp'] / t['ours']:.2f}",
                    ]
                )
    return rows


# ------------------------------------------------------------------- (b) fits
def tasks(quick):
    n = 2000 if quick else 5000
    X, y = make_friedman1(n_samples=n, noise=1.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    for activation in ("tanh", "relu"):
        yield f"friedman1 n={n} 10-50-1 {activation}", X, y, (50,), activation
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    for activation in ("tanh", "relu"):
        yield f"diabetes 10-20-1 {activation}", X, y, (20,), activation


def count_calls(obj, name):
    """Wrap ``obj.name`` to count its calls; returns the counter and original."""
    counter = [0]
    original = getattr(obj, name)

    def counted(*args, **kwargs):
        counter[0] += 1
        return original(*args, **kwargs)

    setattr(obj, name, counted)
    return counter, original


def quiet_fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def first_reaching(solver, X, y, params, target, mlp_iterations):
    """The first iteration at which ``solver`` reaches ``target``, or None.

    Probes with ``tol=0`` and doubling iteration budgets: past the target, a
    truncated-Newton iteration at ``tol=0`` can cost hundreds of curvature
    products, so the probes stop soon after the target. The budget is capped
    at MLPRegressor's iterations for the Newton solvers (they need far fewer)
    and at three times as many, at least 300, for the others.
    """
    newton = solver in ("newton-cg", "trust-ncg")
    cap = mlp_iterations if newton else max(3 * mlp_iterations, 300)
    budget = 8
    while True:
        budget = min(budget, cap)
        probe = CGMLPRegressor(solver=solver, max_iter=budget, tol=0.0, **params)
        quiet_fit(probe, X, y)
        reached = np.flatnonzero(np.asarray(probe.loss_curve_) <= target)
        if reached.size:
            return int(reached[0]) + 1
        if budget >= cap or probe.n_iter_ < budget:  # capped, or stalled
            return None
        budget *= 2


def fit_rows(X, y, name, params, n_threads, max_iter, repeat):
    """Rows of one task at one thread count."""
    mlp = MLPRegressor(solver="lbfgs", max_iter=max_iter, **params)
    evals, _ = count_calls(mlp, "_loss_grad_lbfgs")
    quiet_fit(mlp, X, y)
    target, mlp_evals = mlp.loss_, evals[0]

    stops = {
        solver: first_reaching(solver, X, y, params, target, mlp.n_iter_)
        for solver in SOLVERS
    }

    fits = {
        "mlp": lambda: quiet_fit(
            MLPRegressor(solver="lbfgs", max_iter=max_iter, **params), X, y
        )
    }
    for solver, stop in stops.items():
        if stop is not None:
            fits[solver] = lambda s=solver, m=stop: quiet_fit(
                CGMLPRegressor(solver=s, max_iter=m, tol=0.0, **params), X, y
            )
    times = interleaved_medians(fits, repeat, warmup=0)

    t_ref = times["mlp"]
    rows = [
        [name, str(n_threads), "MLPRegressor lbfgs", f"{target:.5g}"]
        + [f"{t_ref:.3f}", "1.00", str(mlp.n_iter_), str(mlp_evals), "-"]
        + [f"{t_ref / mlp_evals * 1e3:.2f}"]
    ]
    for solver, stop in stops.items():
        if stop is None:
            rows.append(
                [name, str(n_threads), solver, f"{target:.5g}", "not reached"]
                + ["-"] * 5
            )
            continue
        est = CGMLPRegressor(solver=solver, max_iter=stop, tol=0.0, **params)
        products, original = count_calls(_hessian.CurvatureProduct, "dot")
        try:
            quiet_fit(est, X, y)
        finally:
            _hessian.CurvatureProduct.dot = original
        assert est.loss_ <= target
        elapsed = times[solver]
        rows.append(
            [
                name,
                str(n_threads),
                solver,
                f"{target:.5g}",
                f"{elapsed:.3f}",
                f"{elapsed / t_ref:.2f}",
                str(est.n_iter_),
                str(est.n_fun_evals_),
                str(products[0]) if products[0] else "-",
                f"{elapsed / est.n_fun_evals_ * 1e3:.2f}",
            ]
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller data, fewer repeats, fits at one BLAS thread only",
    )
    parser.add_argument("--lbfgs-max-iter", type=int, default=200)
    args = parser.parse_args()
    n_cpus = os.cpu_count() or 1
    threads = sorted({1, n_cpus})
    # --quick: one BLAS thread only in (b); MLPRegressor's L-BFGS with more
    # threads is slow (see the README), which is what the full run shows.
    fit_threads = [1] if args.quick else threads
    print(machine_summary())

    n_samples = 5000 if args.quick else 20_000
    repeat = 3 if args.quick else 7
    start = time.perf_counter()
    rows = evaluation_rows(n_samples, 200, 256, repeat, threads)
    print_table(
        f"(a) One loss+gradient evaluation, squared error: n={n_samples}, "
        "200-256-k, relu; median of interleaved repeats",
        ["outputs k", "dtype", "BLAS threads", "ours (ms)", "MLPRegressor (ms)"]
        + ["MLPRegressor / ours"],
        rows,
    )

    rows = []
    for name, X, y, hidden, activation in tasks(args.quick):
        params = dict(hidden_layer_sizes=hidden, activation=activation, random_state=0)
        for n_threads in fit_threads:
            with threadpool_limits(n_threads):
                rows += fit_rows(
                    X, y, name, params, n_threads, args.lbfgs_max_iter,
                    repeat=1 if args.quick else 3,
                )  # fmt: skip
    print_table(
        "(b) Time to reach MLPRegressor(solver='lbfgs')'s final training loss",
        [
            "task",
            "BLAS threads",
            "solver",
            "target loss",
            "time (s)",
            "time / MLPRegressor's",
            "iterations",
            "loss+grad evaluations",
            "curvature products",
            "ms per evaluation",
        ],
        rows,
    )
    print(
        f"\nMLPRegressor ran max_iter={args.lbfgs_max_iter}. 'ms per evaluation' "
        "is the fit time divided by the loss+gradient evaluations; for newton-cg "
        "and trust-ncg it includes the curvature products. Total run time: "
        f"{time.perf_counter() - start:.0f} s."
    )


if __name__ == "__main__":
    main()
