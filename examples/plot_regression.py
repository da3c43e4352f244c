"""
==========================================
Regression: a drop-in for MLPRegressor
==========================================

:class:`~sklearn_cgmlp.CGMLPRegressor` minimises the objective of
:class:`~sklearn.neural_network.MLPRegressor` (half the squared error plus the
same L2 penalty) from the same initial weights. Here both fit the diabetes data
with the same architecture and seed, inside a pipeline that standardises the
features and, through
:class:`~sklearn.compose.TransformedTargetRegressor`, the targets: the
solvers' tolerance ``tol`` bounds the gradient in absolute terms, and targets
in the hundreds would make it far stricter than on unit-size targets.

A second part fits counts with ``loss="poisson"``, a third data with a few
gross outliers with ``loss="huber"``, and a fourth positive, skewed targets
with ``loss="gamma"``.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.metrics import mean_gamma_deviance, r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPRegressor

X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# alpha=10 keeps 442 samples from being overfitted; both fits converge.
params = dict(hidden_layer_sizes=(20,), activation="tanh", alpha=10.0, random_state=0)


def scaled(regressor):
    """Standardise the features and the targets around ``regressor``."""
    return TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), regressor),
        transformer=StandardScaler(),
    )


models = {
    "CGMLPRegressor (cg)": scaled(CGMLPRegressor(**params)),
    "CGMLPRegressor (lbfgs)": scaled(CGMLPRegressor(solver="lbfgs", **params)),
    "MLPRegressor (lbfgs)": scaled(
        MLPRegressor(solver="lbfgs", max_iter=1000, **params)
    ),
}
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    net = model.regressor_[-1]
    print(
        f"{name:24s} loss {net.loss_:.5f} after {net.n_iter_:4d} iterations, "
        f"{elapsed:.2f} s; test R² {model.score(X_test, y_test):.3f}"
    )

# %%
# Both estimators reach the same training loss (on the standardised targets)
# and the same test R². ``MLPRegressor(solver="lbfgs")`` records no loss
# curve; its final loss is the horizontal line. Right: the test predictions
# of the two L-BFGS fits, on the original scale, nearly coincide.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
for name in ("CGMLPRegressor (cg)", "CGMLPRegressor (lbfgs)"):
    curve = models[name].regressor_[-1].loss_curve_
    ax1.semilogy(range(1, len(curve) + 1), curve, label=name)
reference = models["MLPRegressor (lbfgs)"].regressor_[-1].loss_
ax1.axhline(reference, color="k", ls="--", label="MLPRegressor (lbfgs): final loss")
ax1.set(xlabel="iteration", ylabel="training loss (standardised y)")
ax1.legend()

ours = models["CGMLPRegressor (lbfgs)"].predict(X_test)
theirs = models["MLPRegressor (lbfgs)"].predict(X_test)
ax2.scatter(y_test, ours, s=12, label="CGMLPRegressor (lbfgs)")
ax2.scatter(y_test, theirs, s=12, marker="x", label="MLPRegressor (lbfgs)")
ax2.plot([25, 350], [25, 350], color="k", lw=0.8)
ax2.set(xlabel="true disease progression", ylabel="predicted", title="test set")
ax2.legend()
fig.tight_layout()
print(f"largest difference of the test predictions: {np.abs(ours - theirs).max():.2g}")

# %%
# Counts: the Poisson loss
# ------------------------
# For non-negative counts whose spread grows with their mean,
# ``loss="poisson"`` fits an exponential output (a log link), as
# ``MLPRegressor(loss="poisson")`` does: predictions are always positive. The
# squared error fits the same counts with an identity output, which can
# predict negative counts. Counts are not standardised (they must stay
# non-negative); the log link absorbs their scale in the output intercept.
# These fits take several hundred CG iterations to reach ``tol`` (printed
# below), more than the default ``max_iter=200``, which would end them with a
# ConvergenceWarning.
rng = np.random.RandomState(0)
X = rng.uniform(-2, 2, size=(1500, 3))
mean = np.exp(0.8 * X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.3 * X[:, 2])
counts = rng.poisson(mean)
X_train, X_test, c_train, c_test = train_test_split(X, counts, random_state=0)
for loss in ("poisson", "squared_error"):
    model = CGMLPRegressor(
        hidden_layer_sizes=(10,), activation="tanh", loss=loss, alpha=1.0,
        max_iter=1000, random_state=0,
    )  # fmt: skip
    model.fit(X_train, c_train)
    pred = model.predict(X_test)
    print(
        f"loss={loss!r:16s} output {model.out_activation_!r:10s} "
        f"test R² {model.score(X_test, c_test):.3f}, "
        f"smallest prediction {pred.min():+.3f}, {model.n_iter_} iterations"
    )

# %%
# Outliers: the Huber loss
# ------------------------
# Each of 400 noisy samples of :math:`\sin(2x)` is shifted up by 5 to 10 with
# probability 0.05 (26 are). The squared error grows with the square of a
# residual, so those few pull the whole curve up; ``loss="huber"`` is
# quadratic only for residuals up to ``epsilon`` (in the targets' units) and
# linear beyond, so each outlier pulls with a bounded force. ``epsilon=0.3``
# is three noise standard deviations. benchmarks/README.md ("Regression
# losses") has these fits with every solver, and with the default
# ``epsilon=1.35``.
rng = np.random.RandomState(0)
x = rng.uniform(-3, 3, size=(400, 1))
y = np.sin(2 * x[:, 0]) + 0.1 * rng.randn(400)
outliers = rng.rand(400) < 0.05
y[outliers] += rng.uniform(5, 10, outliers.sum())
grid = np.linspace(-3, 3, 300)[:, None]
truth = np.sin(2 * grid[:, 0])

fig, ax = plt.subplots(figsize=(7, 4.5))
ax.scatter(x[:, 0], y, s=8, color="0.6", label="training data")
ax.plot(grid[:, 0], truth, color="k", lw=1, label="sin(2x)")
for loss in ("squared_error", "huber"):
    model = CGMLPRegressor(
        hidden_layer_sizes=(20,), activation="tanh", loss=loss, epsilon=0.3,
        alpha=1.0, max_iter=1000, random_state=0,
    ).fit(x, y)  # fmt: skip
    pred = model.predict(grid)
    ax.plot(grid[:, 0], pred, lw=2, label=f"loss={loss!r}")
    print(
        f"loss={loss!r:16s} R² against sin(2x) {r2_score(truth, pred):.3f}, "
        f"mean offset {np.mean(pred - truth):+.3f}, {model.n_iter_} iterations"
    )
ax.set(xlabel="x", ylabel="y", ylim=(-2, 11), title="26 of 400 targets shifted up")
ax.legend()
fig.tight_layout()

# %%
# Positive, skewed targets: the Gamma loss
# ----------------------------------------
# Claim amounts, durations, prices: positive targets whose spread grows with
# their mean. ``loss="gamma"`` fits an exponential output (a log link) to half
# the Gamma deviance, which weighs a residual relative to the prediction, as
# :class:`~sklearn.linear_model.GammaRegressor` does for a linear model.
# Targets must be strictly positive. Here the mean is log-linear in the
# features and the noise Gamma with shape 2; the squared error predicts some
# negative amounts, which the deviance cannot even score (they are floored at
# 1e-3 for it).
rng = np.random.RandomState(0)
X = rng.uniform(-2, 2, size=(2000, 3))
mean = np.exp(0.8 * X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.3 * X[:, 2])
amounts = rng.gamma(2.0, mean / 2.0)
X_train, X_test, a_train, a_test = train_test_split(X, amounts, random_state=0)
for loss in ("gamma", "poisson", "squared_error"):
    model = CGMLPRegressor(
        hidden_layer_sizes=(10,), activation="tanh", loss=loss, alpha=1.0,
        max_iter=1000, random_state=0,
    ).fit(X_train, a_train)  # fmt: skip
    pred = model.predict(X_test)
    deviance = mean_gamma_deviance(a_test, np.maximum(pred, 1e-3))
    print(
        f"loss={loss!r:16s} test mean Gamma deviance {deviance:.3f}, "
        f"R² {model.score(X_test, a_test):.3f}, smallest prediction {pred.min():+.3f}"
    )
