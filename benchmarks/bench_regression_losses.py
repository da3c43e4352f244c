"""The Huber and Gamma losses on the problems of examples/plot_regression.py.

Not timings: quality. Prints Markdown tables of

(a) a sine with about 5% of the targets shifted up by 5 to 10: R² against the
    clean curve and the mean offset of the prediction, for the squared error
    and the Huber loss (several ``epsilon``), with every solver;
(b) Gamma-distributed targets with a log-linear mean: test R², mean Gamma
    deviance and smallest prediction for the Gamma, Poisson and squared-error
    losses.

Each fit's seed is fixed, so a rerun prints the same figures up to BLAS
rounding. About 15 s on 2 cores at 1 BLAS thread.

    python benchmarks/bench_regression_losses.py
"""

import time
import warnings

import _common  # noqa: F401  (puts this working tree first on sys.path)
import numpy as np
from _common import machine_summary
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_gamma_deviance, r2_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from sklearn_cgmlp import CGMLPRegressor


def sine_with_outliers(seed=0):
    """The example's data: 400 points, each shifted up by 5 to 10 with
    probability 0.05 (26 of them are)."""
    rng = np.random.RandomState(seed)
    x = rng.uniform(-3, 3, size=(400, 1))
    y = np.sin(2 * x[:, 0]) + 0.1 * rng.randn(400)
    outliers = rng.rand(400) < 0.05
    y[outliers] += rng.uniform(5, 10, outliers.sum())
    return x, y


def gamma_targets(seed=0):
    """The example's data: a log-linear mean, Gamma noise of shape 2."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, size=(2000, 3))
    mean = np.exp(0.8 * X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.3 * X[:, 2])
    return X, rng.gamma(2.0, mean / 2.0)


def fit(model, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, converged


def outliers_table():
    x, y = sine_with_outliers()
    n_outliers = int(np.sum(np.abs(y - np.sin(2 * x[:, 0])) > 4))
    grid = np.linspace(-3, 3, 300)[:, None]
    truth = np.sin(2 * grid[:, 0])
    print(f"#### (a) sin(2x) + 0.1 noise, 400 points, {n_outliers} of them shifted up "
          "by 5-10; 1-20-1 tanh, alpha=1.0, max_iter=1000; R² against the clean "
          "curve\n")  # fmt: skip
    print("| loss | epsilon | solver | R² (clean curve) | mean offset | iterations "
          "| converged | time (s) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    settings = [("squared_error", None), ("huber", 0.3), ("huber", 1.35)]
    for loss, epsilon in settings:
        for solver in ("cg", "newton-cg", "trust-ncg", "lbfgs"):
            model = CGMLPRegressor(
                (20,), activation="tanh", loss=loss, epsilon=epsilon or 1.35,
                solver=solver, alpha=1.0, max_iter=1000, random_state=0,
            )  # fmt: skip
            seconds, converged = fit(model, x, y)
            pred = model.predict(grid)
            print(
                f"| {loss} | {epsilon or '-'} | {solver} "
                f"| {r2_score(truth, pred):.4f} | {np.mean(pred - truth):+.3f} "
                f"| {model.n_iter_} | {'yes' if converged else 'no'} "
                f"| {seconds:.2f} |"
            )
    print()


def gamma_table():
    X, y = gamma_targets()
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    print("#### (b) Gamma targets (shape 2) with a log-linear mean, 2000 points, "
          "3-10-1 tanh, alpha=1.0, max_iter=1000, cg; test quarter\n")  # fmt: skip
    print("| loss | output | test R² | mean Gamma deviance | smallest prediction "
          "| iterations | converged | time (s) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for loss in ("gamma", "poisson", "squared_error"):
        model = CGMLPRegressor(
            (10,), activation="tanh", loss=loss, alpha=1.0, max_iter=1000,
            random_state=0,
        )  # fmt: skip
        seconds, converged = fit(model, X_train, y_train)
        pred = model.predict(X_test)
        # The deviance is undefined for predictions <= 0; the squared error's
        # are floored at 1e-3 for it (and the table says how low they went).
        deviance = mean_gamma_deviance(y_test, np.maximum(pred, 1e-3))
        print(
            f"| {loss} | {model.out_activation_} | {model.score(X_test, y_test):.4f} "
            f"| {deviance:.4f} | {pred.min():+.4f} | {model.n_iter_} "
            f"| {'yes' if converged else 'no'} | {seconds:.2f} |"
        )
    print()


if __name__ == "__main__":
    print(machine_summary(), "\n")
    start = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        outliers_table()
        gamma_table()
    print(f"Total run time: {time.perf_counter() - start:.0f} s.")
