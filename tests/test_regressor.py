"""Behaviour of CGMLPRegressor (_regressor.py): MLPRegressor's objective, start
and attributes, its targets, and the training options whose outcome is the
regressor's own (R² early stopping, several outputs). What it shares with
CGMLPClassifier (sample weights, data types, sparse input, chunks, warm start,
progress, interrupts, callbacks, failed fits, persistence) is tested on both in
test_estimators.py."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.fixes import parse_version
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

import sklearn_cgmlp._base as base_module
import sklearn_cgmlp._data as data_module
from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor
from sklearn_cgmlp._hessian import CurvatureProduct
from sklearn_cgmlp._layout import ParameterLayout
from sklearn_cgmlp._loss import MLPLoss

SOLVERS = ["cg", "newton-cg", "trust-ncg", "lbfgs"]
LOSSES = ["squared_error", "poisson"]
OUT_ACTIVATION = {"squared_error": "identity", "poisson": "exp"}
SKLEARN_VERSION = parse_version(sklearn.__version__).release
# MLPRegressor accepts sample_weight and loss="poisson" from scikit-learn 1.7.
MLP_HAS_POISSON_AND_WEIGHTS = SKLEARN_VERSION >= (1, 7)
needs_mlp_poisson_and_weights = pytest.mark.skipif(
    not MLP_HAS_POISSON_AND_WEIGHTS,
    reason="MLPRegressor has loss='poisson' and sample_weight from scikit-learn 1.7",
)


def fit_quietly(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


@pytest.fixture(scope="module")
def diabetes():
    """Diabetes with scaled features and a standardised target."""
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


@pytest.fixture(scope="module")
def counts():
    """Poisson counts with a log-linear-plus-nonlinear mean, a quarter zeros."""
    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    mu = np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1] ** 2 + 0.4 * np.tanh(X[:, 2]) + 0.5)
    return X, rng.poisson(mu).astype(float)


def data_for(loss, diabetes, counts):
    return diabetes if loss == "squared_error" else counts


def two_outputs(X, y, loss):
    """A second target column of the same kind as ``y``."""
    if loss == "poisson":
        second = np.random.RandomState(1).poisson(np.exp(0.3 * X[:, 3])).astype(float)
    else:
        second = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    return np.column_stack([y, second])


def fitted_attributes(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_")}


# ------------------------------------------------- MLPRegressor's objective
def mlpregressor_at(theta, layout, *, loss, activation, alpha, n_outputs):
    """An MLPRegressor holding the weights ``theta``, ready for its L-BFGS
    objective ``_loss_grad_lbfgs`` (the bookkeeping of its ``_fit_lbfgs``)."""
    mlp = mlp_regressor(loss=loss, activation=activation, alpha=alpha, solver="lbfgs")
    mlp.n_layers_ = layout.n_layers
    mlp.n_outputs_ = n_outputs
    mlp.out_activation_ = OUT_ACTIVATION[loss]
    coefs, intercepts = layout.unpack(theta)
    mlp.coefs_ = [c.copy() for c in coefs]
    mlp.intercepts_ = [b.copy() for b in intercepts]
    mlp._coef_indptr = [
        (sl.start, sl.stop, shape)
        for sl, shape in zip(layout.coef_slices, layout.coef_shapes)
    ]
    mlp._intercept_indptr = [(sl.start, sl.stop) for sl in layout.intercept_slices]
    return mlp


def mlpregressor_loss_grad(mlp, theta, X, Y, sample_weight):
    n_layers = mlp.n_layers_
    activations = [X] + [None] * (n_layers - 1)
    deltas = [None] * (n_layers - 1)
    coef_grads = [np.empty_like(c) for c in mlp.coefs_]
    intercept_grads = [np.empty_like(b) for b in mlp.intercepts_]
    if not MLP_HAS_POISSON_AND_WEIGHTS:  # before 1.7: no sample_weight argument
        assert sample_weight is None
        return mlp._loss_grad_lbfgs(
            theta, X, Y, activations, deltas, coef_grads, intercept_grads
        )
    return mlp._loss_grad_lbfgs(
        theta, X, Y, sample_weight, activations, deltas, coef_grads, intercept_grads
    )


def kernel_problem(loss, n_outputs, seed=0):
    rng = np.random.RandomState(seed)
    n_samples, n_features = 60, 4
    X = rng.randn(n_samples, n_features)
    if loss == "poisson":
        Y = rng.poisson(2.0, size=(n_samples, n_outputs)).astype(float)
        Y[:3] = 0.0
    else:
        Y = 2.0 * rng.randn(n_samples, n_outputs) + 1.0
    layout = ParameterLayout([n_features, 6, 5, n_outputs])
    theta = 0.5 * rng.randn(layout.n_params)
    sw = rng.uniform(0.1, 3.0, n_samples)
    return X, Y, layout, theta, sw


def both_objectives(loss, n_outputs, weighted, alpha, activation="tanh"):
    """(ours, MLPRegressor's) loss and gradient at the same weights."""
    X, Y, layout, theta, sw = kernel_problem(loss, n_outputs)
    sw = sw if weighted else None
    objective = MLPLoss(layout, activation, OUT_ACTIVATION[loss], alpha)
    ours = objective.loss_gradient(theta, X, Y, sample_weight=sw)
    mlp = mlpregressor_at(
        theta,
        layout,
        loss=loss,
        activation=activation,
        alpha=alpha,
        n_outputs=n_outputs,
    )
    return ours, mlpregressor_loss_grad(mlp, theta, X, Y, sw), layout


def mlp_regressor(*, loss, **params):
    """``MLPRegressor(loss=loss, **params)``; before scikit-learn 1.7 it has no
    ``loss`` parameter (squared error only), and Poisson cases skip."""
    if MLP_HAS_POISSON_AND_WEIGHTS:
        return MLPRegressor(loss=loss, **params)
    if loss != "squared_error":
        pytest.skip("MLPRegressor has loss='poisson' from scikit-learn 1.7")
    return MLPRegressor(**params)


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))


def loss_cases():
    for loss in LOSSES:
        for n_outputs in (1, 3):
            for weighted in (False, True):
                marks = []
                if (loss == "poisson" or weighted) and not MLP_HAS_POISSON_AND_WEIGHTS:
                    marks = [needs_mlp_poisson_and_weights]
                yield pytest.param(
                    loss,
                    n_outputs,
                    weighted,
                    marks=marks,
                    id=f"{loss}-{n_outputs}out-{'weighted' if weighted else 'plain'}",
                )


@pytest.mark.parametrize("loss, n_outputs, weighted", list(loss_cases()))
def test_loss_value_equals_mlpregressors(loss, n_outputs, weighted):
    (ours, _), (theirs, _), _ = both_objectives(loss, n_outputs, weighted, alpha=0.7)
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert ours > 0.1  # a loss that carries information, not a zero


@pytest.mark.parametrize("loss, n_outputs, weighted", list(loss_cases()))
def test_gradient_equals_mlpregressors_where_theirs_is_exact(loss, n_outputs, weighted):
    """Single output: the gradients agree. Several outputs: Poisson agrees;
    MLPRegressor's squared-error gradient is ``n_outputs`` times ours (its
    loss averages over outputs, its gradient does not divide by them), which
    without the penalty is exactly a factor."""
    (_, g_ours), (_, g_theirs), _ = both_objectives(
        loss, n_outputs, weighted, alpha=0.7
    )
    if loss == "poisson" or n_outputs == 1:
        assert relative_error(g_ours, g_theirs) < 1e-10
        return
    assert relative_error(g_ours, g_theirs) > 0.1  # really not the same
    (_, g_ours), (_, g_theirs), _ = both_objectives(
        loss, n_outputs, weighted, alpha=0.0
    )
    assert relative_error(n_outputs * g_ours, g_theirs) < 1e-10


def test_our_gradient_is_the_one_of_mlpregressors_loss():
    """The multi-output factor is MLPRegressor's: our gradient matches finite
    differences of MLPRegressor's own loss value."""
    X, Y, layout, theta, sw = kernel_problem("squared_error", 3)
    mlp = mlpregressor_at(
        theta, layout, loss="squared_error", activation="tanh", alpha=0.7, n_outputs=3
    )

    def their_loss(t):
        return mlpregressor_loss_grad(mlp, t, X, Y, None)[0]

    eps = 1e-6
    fd = np.array(
        [
            (their_loss(theta + eps * e) - their_loss(theta - eps * e)) / (2 * eps)
            for e in np.eye(layout.n_params)
        ]
    )
    _, g_ours = MLPLoss(layout, "tanh", "identity", 0.7).loss_gradient(theta, X, Y)
    assert relative_error(g_ours, fd) < 1e-7


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_fitted_loss_is_mlpregressors_loss_at_the_fitted_weights(
    loss, n_outputs, diabetes, counts
):
    """``loss_`` of a fit (with sample weights) is the value MLPRegressor's
    objective takes at the fitted weights."""
    if loss == "poisson" and not MLP_HAS_POISSON_AND_WEIGHTS:
        pytest.skip("MLPRegressor has loss='poisson' from scikit-learn 1.7")
    X, y = data_for(loss, diabetes, counts)
    Y = y[:, None] if n_outputs == 1 else two_outputs(X, y, loss)
    sw = np.random.RandomState(0).uniform(0.5, 2.0, len(X))
    if not MLP_HAS_POISSON_AND_WEIGHTS:
        sw = None
    reg = CGMLPRegressor(
        hidden_layer_sizes=(6,), loss=loss, alpha=2.0, max_iter=30, random_state=0
    )
    fit_quietly(reg, X, Y, sample_weight=sw)
    layout = ParameterLayout([X.shape[1], 6, n_outputs])
    theta = layout.pack(reg.coefs_, reg.intercepts_)
    mlp = mlpregressor_at(
        theta, layout, loss=loss, activation="relu", alpha=2.0, n_outputs=n_outputs
    )
    theirs, _ = mlpregressor_loss_grad(mlp, theta, X, Y, sw)
    assert reg.loss_ == pytest.approx(theirs, rel=1e-12)
    assert reg.loss_curve_[-1] == reg.loss_


# ------------------------------------------------ MLPRegressor's start, names
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ["relu", "logistic"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_initial_weights_are_mlpregressors(
    loss, activation, n_outputs, counts, monkeypatch
):
    """The starting point handed to the solver is the one MLPRegressor's
    ``_initialize`` draws from the same random_state."""
    X, y = counts
    Y = np.column_stack([y] * n_outputs)
    seen = []
    original = base_module.minimize

    def spy(objective, x0, **kwargs):
        seen.append(x0.copy())
        return original(objective, x0, **kwargs)

    monkeypatch.setattr(base_module, "minimize", spy)
    params = dict(hidden_layer_sizes=(7, 4), activation=activation, loss=loss)
    fit_quietly(CGMLPRegressor(max_iter=1, random_state=42, **params), X, Y)

    mlp = mlp_regressor(**params)
    mlp._random_state = check_random_state(42)
    layer_units = [X.shape[1], 7, 4, n_outputs]
    mlp._initialize(Y, layer_units, np.float64)
    layout = ParameterLayout(layer_units)
    np.testing.assert_array_equal(seen[0], layout.pack(mlp.coefs_, mlp.intercepts_))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("n_outputs", [1, 2])
def test_fitted_attributes_mirror_mlpregressor(loss, n_outputs, diabetes, counts):
    if loss == "poisson" and not MLP_HAS_POISSON_AND_WEIGHTS:
        pytest.skip("MLPRegressor has loss='poisson' from scikit-learn 1.7")
    X, y = data_for(loss, diabetes, counts)
    Y = y if n_outputs == 1 else two_outputs(X, y, loss)
    params = dict(hidden_layer_sizes=(7, 4), loss=loss, random_state=0, max_iter=20)
    ours = fit_quietly(CGMLPRegressor(**params), X, Y)
    theirs = fit_quietly(mlp_regressor(solver="lbfgs", **params), X, Y)
    for name in ["n_features_in_", "n_layers_", "n_outputs_", "out_activation_"]:
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.out_activation_ == OUT_ACTIVATION[loss]
    assert ours.n_layers_ == 4 and ours.n_outputs_ == n_outputs
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    assert ours.predict(X).shape == theirs.predict(X).shape
    assert isinstance(ours.loss_, float)
    assert len(ours.loss_curve_) == ours.n_iter_ == 20
    assert ours.t_ == ours.n_fun_evals_ * len(X)
    assert ours.best_loss_ == ours.loss_
    assert ours.validation_scores_ is None and ours.best_validation_score_ is None


def test_same_objective_same_start_same_lbfgs_minimum():
    """A drop-in: on a smooth single-output problem from the same seed,
    CGMLPRegressor(solver="lbfgs") follows MLPRegressor(solver="lbfgs") to the
    same loss, and CG reaches it too."""
    X, y = make_friedman1(200, noise=0.5, random_state=0)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    params = dict(
        hidden_layer_sizes=(5,),
        activation="tanh",
        alpha=1.0,
        random_state=0,
        tol=1e-10,
        max_iter=3000,
    )
    # One BLAS thread: SciPy's and NumPy's OpenBLAS pools would contend.
    with threadpool_limits(1):
        theirs = MLPRegressor(solver="lbfgs", **params).fit(X, y)
    ours = fit_quietly(CGMLPRegressor(solver="lbfgs", **params), X, y)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-5)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), atol=1e-2)
    cg = fit_quietly(CGMLPRegressor(solver="cg", **params), X, y)
    assert cg.loss_ == pytest.approx(theirs.loss_, rel=1e-4)


# ----------------------------------------------------------------- targets
@pytest.mark.parametrize("loss", LOSSES)
def test_prediction_shapes_follow_mlpregressor(loss, counts):
    X, y = counts
    params = dict(hidden_layer_sizes=(5,), loss=loss, random_state=0, max_iter=10)
    for Y, shape in [
        (y, (len(X),)),
        (y[:, None], (len(X),)),  # one column: 1-D, as MLPRegressor
        (np.column_stack([y, y + 1]), (len(X), 2)),
    ]:
        reg = fit_quietly(CGMLPRegressor(**params), X, Y)
        pred = reg.predict(X)
        assert pred.shape == shape
        assert reg.n_outputs_ == (1 if len(shape) == 1 else 2)
        assert reg.coefs_[-1].shape == (5, reg.n_outputs_)


def test_poisson_predictions_are_positive_and_squared_error_unbounded(counts):
    X, y = counts
    poisson = CGMLPRegressor(hidden_layer_sizes=(8,), loss="poisson", random_state=0)
    poisson = fit_quietly(poisson, X, y)
    squared = fit_quietly(CGMLPRegressor(hidden_layer_sizes=(8,), random_state=0), X, y)
    X_far = 3 * X  # extrapolation
    assert np.all(poisson.predict(X_far) > 0)
    assert np.any(squared.predict(X_far) < 0)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("loss", LOSSES)
def test_each_solver_converges_to_a_balanced_fit(solver, loss, counts):
    """At convergence the output intercepts' gradient is below tol. For both
    canonical links it is the mean residual (over outputs too, for the
    squared error), so the mean prediction equals the mean target to tol."""
    X, y = counts
    reg = CGMLPRegressor(
        hidden_layer_sizes=(8,), activation="tanh", loss=loss, solver=solver,
        alpha=1.0, max_iter=500, random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X, y)
    assert abs(reg.predict(X).mean() - y.mean()) <= reg.tol
    assert reg.score(X, y) > 0.55
    assert all(np.diff(reg.loss_curve_) <= 1e-12)  # descent methods


@pytest.mark.parametrize("solver", ["newton-cg", "trust-ncg"])
def test_newton_solvers_use_gauss_newton_products(solver, counts, monkeypatch):
    X, y = counts
    calls = []
    original = CurvatureProduct.dot

    def spy(self, v):
        calls.append((self.gauss_newton, self.output.activation))
        return original(self, v)

    monkeypatch.setattr(CurvatureProduct, "dot", spy)
    reg = CGMLPRegressor(
        hidden_layer_sizes=(5,), loss="poisson", solver=solver, random_state=0
    )
    fit_quietly(reg, X, y)
    assert calls and set(calls) == {(True, "exp")}


def test_negative_poisson_targets_are_refused(counts):
    X, y = counts
    y = y.copy()
    y[5] = -0.5
    reg = CGMLPRegressor(loss="poisson")
    with pytest.raises(ValueError, match="negative.*Poisson"):
        reg.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(reg)
    # Zeros are valid counts, and the squared error takes any sign.
    y[5] = 0.0
    fit_quietly(CGMLPRegressor(loss="poisson", max_iter=5), X, y)
    y[5] = -0.5
    fit_quietly(CGMLPRegressor(max_iter=5), X, y)


@pytest.mark.parametrize(
    "y",
    [
        np.array(["a", "b", "c"] * 100),
        np.array(["a", "b", "c"] * 100, dtype=object),
        np.array([b"1.0"] * 300),
    ],
    ids=["str", "object", "bytes"],
)
def test_non_numeric_targets_are_refused(y, counts):
    X, _ = counts
    reg = CGMLPRegressor()
    with pytest.raises(ValueError):
        reg.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(reg)


def test_boolean_targets_count_as_0_and_1(counts):
    X, y = counts
    params = dict(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    a = fit_quietly(CGMLPRegressor(**params), X, y > 1)
    b = fit_quietly(CGMLPRegressor(**params), X, (y > 1).astype(float))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_non_finite_targets_are_refused(counts):
    X, y = counts
    for bad in (np.nan, np.inf):
        y_bad = y.copy()
        y_bad[3] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            CGMLPRegressor().fit(X, y_bad)


def test_targets_beyond_float32_are_a_clear_error(counts):
    X, y = counts
    with pytest.raises(
        ValueError,
        match=r"reach [0-9.]+e\+30[0-9], beyond what float32 represents: scale",
    ):
        CGMLPRegressor().fit(X.astype(np.float32), y * 1e300)


def test_score_is_r2_with_sample_weight(diabetes):
    X, y = diabetes
    reg = fit_quietly(CGMLPRegressor(hidden_layer_sizes=(5,), random_state=0), X, y)
    sw = np.random.RandomState(0).uniform(0, 2, len(y))
    assert reg.score(X, y, sample_weight=sw) == pytest.approx(
        r2_score(y, reg.predict(X), sample_weight=sw)
    )


# ------------------------------------------------------------- early stopping
def test_early_stopping_keeps_the_best_validation_r2(diabetes, monkeypatch):
    X, y = diabetes
    splits = []
    original = data_module.train_test_split

    def spy(*args, **kwargs):
        splits.append((original(*args, **kwargs), kwargs.get("stratify")))
        return splits[-1][0]

    monkeypatch.setattr(data_module, "train_test_split", spy)
    reg = CGMLPRegressor(
        hidden_layer_sizes=(50,), early_stopping=True, max_iter=500, random_state=0
    )
    fit_quietly(reg, X, y)
    ((train, val), stratify) = splits[0]
    assert stratify is None  # no classes to stratify by
    scores = reg.validation_scores_
    assert len(scores) == reg.n_iter_ < 500  # stopped early
    assert reg.best_validation_score_ == max(scores)
    # The scores are R² of the model on the validation part, and the fitted
    # model is the best one.
    assert reg.best_validation_score_ == pytest.approx(
        r2_score(y[val], reg.predict(X[val])), rel=1e-12
    )
    best_iter = int(np.argmax(scores)) + 1
    assert best_iter < reg.n_iter_
    assert reg.n_iter_ - best_iter > reg.n_iter_no_change
    assert reg.loss_ == reg.loss_curve_[best_iter - 1]
    assert reg.best_loss_ is None


def test_early_stopping_with_multioutput_and_weights(diabetes):
    X, y = diabetes
    Y = two_outputs(X, y, "squared_error")
    sw = np.random.RandomState(0).uniform(0.5, 2, len(X))
    reg = CGMLPRegressor(hidden_layer_sizes=(20,), early_stopping=True, random_state=0)
    fit_quietly(reg, X, Y, sample_weight=sw)
    assert -1 < reg.best_validation_score_ <= 1
    assert reg.predict(X).shape == Y.shape


# ----------------------------------------------------------------- warm start
def test_warm_start_with_other_outputs_raises(diabetes):
    X, y = diabetes
    reg = CGMLPRegressor(hidden_layer_sizes=(5,), warm_start=True, max_iter=5)
    fit_quietly(reg, X, y)
    before = fitted_attributes(reg)
    with pytest.raises(ValueError, match="as many outputs as in the previous"):
        reg.fit(X, np.column_stack([y, y]))
    assert fitted_attributes(reg).keys() == before.keys()
    assert reg.coefs_ is before["coefs_"]
    # The refused fit left the previous model to warm-start from.
    reg.set_params(hidden_layer_sizes=(6,))
    with pytest.raises(ValueError, match="same architecture"):
        reg.fit(X, y)


# ----------------------------------------------------------------- persistence
def test_npz_of_one_estimator_is_refused_by_the_other(diabetes, tmp_path):
    X, y = diabetes
    reg = fit_quietly(CGMLPRegressor(hidden_layer_sizes=(3,), max_iter=5), X, y)
    reg.to_npz(tmp_path / "reg.npz")
    with pytest.raises(ValueError, match="not a CGMLPClassifier"):
        CGMLPClassifier.from_npz(tmp_path / "reg.npz")
    clf = fit_quietly(
        CGMLPClassifier(hidden_layer_sizes=(3,), max_iter=5), X, (y > 0).astype(int)
    )
    clf.to_npz(tmp_path / "clf.npz")
    with pytest.raises(ValueError, match="not a CGMLPRegressor"):
        CGMLPRegressor.from_npz(tmp_path / "clf.npz")


def test_npz_with_an_output_no_regressor_has_is_refused(diabetes, tmp_path):
    X, y = diabetes
    reg = fit_quietly(CGMLPRegressor(hidden_layer_sizes=(3,), max_iter=5), X, y)
    reg.to_npz(tmp_path / "reg.npz")
    with np.load(tmp_path / "reg.npz", allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    # The stored output must be one a regressor has (before the loss is
    # checked to give it).
    meta = str(arrays["metadata"]).replace('"identity"', '"softmax"')
    arrays["metadata"] = np.array(meta)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(
        ValueError, match=r"output 'softmax' is not one of \('identity', 'exp'\)\."
    ):
        CGMLPRegressor.from_npz(tmp_path / "bad.npz")


# ----------------------------------------------------------------- ecosystem
def test_pipeline_with_transformed_target(diabetes):
    X, _ = diabetes
    _, y_raw = load_diabetes(return_X_y=True)  # targets in the hundreds
    reg = TransformedTargetRegressor(
        regressor=make_pipeline(
            StandardScaler(), CGMLPRegressor(hidden_layer_sizes=(10,), random_state=0)
        ),
        transformer=StandardScaler(),
    )
    fit_quietly(reg, X, y_raw)
    assert reg.score(X, y_raw) > 0.5
    assert 50 < reg.predict(X).mean() < 250  # back on the original scale
