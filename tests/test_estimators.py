"""Behaviour shared by both estimators, from their common base (_base.py).

Each test runs on the cases below: the classifier, and the regressor with each
of its losses (with one output, and with two where a test needs them). What
only one estimator does is tested in test_classifier.py and test_regressor.py.
"""

import functools
import io
import pickle
import re
import warnings
from dataclasses import dataclass, field

import joblib
import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor
from sklearn_cgmlp._loss import MLPLoss

SOLVERS = ["cg", "newton-cg", "trust-ncg", "lbfgs"]


def fit_quietly(est, X, y, **kwargs):
    """Fit, ignoring a ConvergenceWarning (where convergence is not tested)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


# ------------------------------------------------------------------ data
@functools.cache
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@functools.cache
def diabetes():
    """Diabetes with scaled features and a standardised target."""
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


@functools.cache
def counts():
    """Poisson counts with a log-linear-plus-nonlinear mean, a quarter zeros."""
    rng = np.random.RandomState(0)
    X = rng.randn(300, 5)
    mu = np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1] ** 2 + 0.4 * np.tanh(X[:, 2]) + 0.5)
    return X, rng.poisson(mu).astype(float)


def two_outputs(data, loss):
    """``data`` with a second target column of the same kind as its first."""

    @functools.cache
    def load():
        X, y = data()
        if loss == "poisson":
            rng = np.random.RandomState(1)
            second = rng.poisson(np.exp(0.3 * X[:, 3])).astype(float)
        else:
            second = np.sin(X[:, 0]) + 0.5 * X[:, 1]
        return X, np.column_stack([y, second])

    return load


# ----------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    """An estimator (class and parameters) and data it fits."""

    id: str
    Estimator: type
    data: object  # a function: () -> (X, y), cached; do not modify them
    params: dict = field(default_factory=dict)

    def __call__(self, **params):
        return self.Estimator(**self.params, **params)

    @property
    def classifier(self):
        return self.Estimator is CGMLPClassifier

    @property
    def loss(self):
        return self.params.get("loss")


CASES = {
    case.id: case
    for case in [
        Case("classifier-multiclass", CGMLPClassifier, iris),
        Case(
            "regressor-squared_error",
            CGMLPRegressor,
            diabetes,
            {"loss": "squared_error"},
        ),
        Case("regressor-poisson", CGMLPRegressor, counts, {"loss": "poisson"}),
        Case(
            "regressor-squared_error-2outputs",
            CGMLPRegressor,
            two_outputs(diabetes, "squared_error"),
            {"loss": "squared_error"},
        ),
        Case(
            "regressor-poisson-2outputs",
            CGMLPRegressor,
            two_outputs(counts, "poisson"),
            {"loss": "poisson"},
        ),
    ]
}
ONE_OUTPUT = ["classifier-multiclass", "regressor-squared_error", "regressor-poisson"]
TWO_OUTPUTS = ["regressor-squared_error-2outputs", "regressor-poisson-2outputs"]


def over(*names):
    """Parametrize a test over the named cases (default: ONE_OUTPUT)."""
    return pytest.mark.parametrize(
        "case", [CASES[name] for name in names or ONE_OUTPUT], ids=lambda c: c.id
    )


# --------------------------------------------------------- sample weights
# A smooth, well-posed problem (tanh units, strong penalty) so that two fits of
# equal objectives converge to the same minimum from the same initial weights;
# each fit converges well within max_iter (no ConvergenceWarning).
SMOOTH = dict(
    hidden_layer_sizes=(5,),
    activation="tanh",
    alpha=1.0,
    random_state=0,
    tol=1e-8,
    max_iter=2000,
)


def assert_same_predictions(case, a, b, X):
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-4)
    if case.classifier:
        np.testing.assert_allclose(
            a.predict_proba(X), b.predict_proba(X), rtol=1e-4, atol=1e-6
        )


@over()
def test_zero_sample_weight_equals_dropping_samples(case):
    X, y = case.data()
    sw = (np.random.RandomState(0).rand(len(X)) > 0.3).astype(float)
    kept = sw > 0
    weighted = case(**SMOOTH).fit(X, y, sample_weight=sw)
    dropped = case(**SMOOTH).fit(X[kept], y[kept])
    # The same objective, not only the same minimiser: a loss divided by the
    # row count instead of the weight sum is a multiple of it, with the same
    # predictions. The paths agree until rounding sets them apart (measured,
    # classifier: 2e-14 over the first 10 iterations, 4e-14 at the end,
    # weights 1.5e-6; regressor: 2e-15, 2e-14, weights 1e-6).
    assert weighted.loss_ == pytest.approx(dropped.loss_, rel=1e-10)
    np.testing.assert_allclose(
        weighted.loss_curve_[:10], dropped.loss_curve_[:10], rtol=1e-12
    )
    for a, b in zip(
        weighted.coefs_ + weighted.intercepts_, dropped.coefs_ + dropped.intercepts_
    ):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)
    assert_same_predictions(case, weighted, dropped, X)


@over()
def test_integer_sample_weight_equals_repetition(case):
    X, y = case.data()
    sw = np.random.RandomState(0).randint(1, 4, size=len(X))
    weighted = case(**SMOOTH).fit(X, y, sample_weight=sw)
    repeated = case(**SMOOTH).fit(np.repeat(X, sw, 0), np.repeat(y, sw))
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-6)
    assert_same_predictions(case, weighted, repeated, X)


@over()
def test_sample_weight_pulls_the_fit_towards_heavy_samples(case):
    X, y = case.data()
    # A class, or the samples of the largest targets, weighs more.
    if case.classifier:
        heavy, weight = y == 2, 10.0
    else:
        heavy, weight = y > 1.0, 20.0
    sw = np.where(heavy, weight, 1.0)
    params = dict(hidden_layer_sizes=(3,), alpha=5.0, random_state=0)
    plain = fit_quietly(case(**params), X, y)
    weighted = fit_quietly(case(**params), X, y, sample_weight=sw)
    if case.classifier:  # more probability on the heavy class
        assert (
            weighted.predict_proba(X)[:, 2].mean() > plain.predict_proba(X)[:, 2].mean()
        )
    else:  # predictions closer to the heavy samples' targets
        error = np.abs(weighted.predict(X[heavy]) - y[heavy]).mean()
        error_plain = np.abs(plain.predict(X[heavy]) - y[heavy]).mean()
        assert error < 0.8 * error_plain


# ------------------------------------------------------------ data types
@over(*ONE_OUTPUT, *TWO_OUTPUTS)
def test_dtype_is_preserved_end_to_end(case, monkeypatch):
    """float32 data is fitted in float32 (weights, targets, every loss
    evaluation, on X itself: no copy, no upcast), float64 in float64; the
    predictions follow X; the two fits agree."""
    X, y = case.data()
    seen = []
    original = MLPLoss.data_loss_gradient

    def spy(self, theta, X_arg, Y_arg, *args, **kwargs):
        seen.append((theta.dtype, Y_arg.dtype, X_arg))
        return original(self, theta, X_arg, Y_arg, *args, **kwargs)

    monkeypatch.setattr(MLPLoss, "data_loss_gradient", spy)
    fits = {}
    for dtype in (np.float32, np.float64):
        X_dtype = np.ascontiguousarray(X, dtype=dtype)
        seen.clear()
        est = fit_quietly(case(hidden_layer_sizes=(10,), random_state=0), X_dtype, y)
        assert seen
        for theta_dtype, Y_dtype, X_arg in seen:
            assert theta_dtype == dtype and Y_dtype == dtype
            assert X_arg is X_dtype
        for a in est.coefs_ + est.intercepts_:
            assert a.dtype == dtype
        if case.classifier:
            assert est.predict_proba(X_dtype).dtype == dtype
            assert est.score(X_dtype, y) > 0.95
        else:
            assert est.predict(X_dtype).dtype == dtype
        fits[dtype] = est
    f32, f64 = fits[np.float32], fits[np.float64]
    X64 = np.asarray(X, dtype=np.float64)
    predict = f32.predict_proba if case.classifier else f32.predict
    assert predict(X64).dtype == np.float64  # predictions follow X
    assert f32.score(X64, y) == pytest.approx(f64.score(X64, y), abs=0.02)
    if case.classifier:
        assert np.mean(f64.predict(X64) == f32.predict(X64)) > 0.97


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@over()
def test_sparse_input_gives_the_dense_fit(case, fmt):
    X, y = case.data()
    X = X.copy()
    X[np.abs(X) < 0.5] = 0.0
    Xs = sparse.csr_matrix(X) if fmt == "csr" else sparse.csc_matrix(X)
    params = dict(hidden_layer_sizes=(10,), random_state=0, max_iter=50)
    dense = fit_quietly(case(**params), X, y)
    sp = fit_quietly(case(**params), Xs, y)
    np.testing.assert_allclose(sp.loss_curve_[:10], dense.loss_curve_[:10], rtol=1e-9)
    np.testing.assert_allclose(sp.predict(Xs), sp.predict(X), rtol=1e-12)
    if case.classifier:
        np.testing.assert_allclose(
            sp.predict_proba(Xs), sp.predict_proba(X), rtol=1e-12
        )
        assert np.mean(sp.predict(Xs) == dense.predict(X)) > 0.98


@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@over()
def test_chunked_fit_follows_the_full_fit(case, fmt):
    X, y = case.data()
    if fmt != "dense":
        X = getattr(sparse, f"{fmt}_matrix")(X)
    params = dict(hidden_layer_sizes=(10,), random_state=0, max_iter=15)
    full = fit_quietly(case(**params), X, y)
    chunked = fit_quietly(case(chunk_size=37, **params), X, y)
    np.testing.assert_allclose(
        chunked.loss_curve_[:10], full.loss_curve_[:10], rtol=1e-9
    )
    np.testing.assert_allclose(chunked.loss_curve_, full.loss_curve_, rtol=1e-8)
    for a, b in zip(chunked.coefs_, full.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


# ------------------------------------------------------------- warm start
@over()
def test_warm_start_continues_from_previous_weights(case):
    X, y = case.data()
    est = case(hidden_layer_sizes=(10,), max_iter=10, warm_start=True, random_state=0)
    fit_quietly(est, X, y)
    first_loss, first_coef = est.loss_, est.coefs_[0]
    fit_quietly(est, X, y)
    # The second fit starts at the first fit's end point, so its first
    # iterate is already at or below the first fit's final loss.
    assert est.loss_curve_[0] <= first_loss
    assert est.loss_ < first_loss
    # The previous fitted arrays were not modified in place.
    assert first_coef is not est.coefs_[0]

    cold = case(hidden_layer_sizes=(10,), max_iter=10, random_state=0)
    fit_quietly(cold, X, y)
    fit_quietly(cold, X, y)
    assert cold.loss_ == pytest.approx(first_loss)


@over()
def test_warm_start_with_other_architecture_raises(case):
    X, y = case.data()
    est = case(hidden_layer_sizes=(5,), warm_start=True, random_state=0)
    fit_quietly(est, X, y)
    est.set_params(hidden_layer_sizes=(6,))
    with pytest.raises(ValueError, match="same architecture"):
        est.fit(X, y)


# ------------------------------------------------- progress, interrupts
@over()
def test_verbose_prints_every_iteration(case, capsys, verbose_story):
    X, y = case.data()
    est = case(hidden_layer_sizes=(5,), verbose=True, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        est.fit(X, y)
    out = capsys.readouterr().out
    pattern = re.compile(r"Iteration \d+, loss = [0-9.]+, max \|gradient\| = \S+$")
    assert all(pattern.match(ln) for ln in out.splitlines()[1:-1])
    closing = verbose_story(est, out)
    # The closing line says what the warning (if any) says.
    if not caught:
        assert ": converged: max |gradient| = " in closing
    elif est.n_iter_ == est.max_iter:
        assert closing.endswith(": reached max_iter=200.")
    else:
        assert ": the solver stopped before converging: " in closing


@pytest.mark.parametrize("solver", SOLVERS)
@over()
def test_keyboard_interrupt_keeps_the_last_accepted_weights(
    case, solver, interrupt_gradient
):
    X, y = case.data()
    interrupt_gradient(6)
    est = case(hidden_layer_sizes=(10,), solver=solver, random_state=0)
    with pytest.warns(UserWarning, match="interrupted by the user"):
        est.fit(X, y)
    assert 0 < est.n_iter_ < 6
    assert est.loss_ == est.loss_curve_[-1]
    assert all(np.all(np.isfinite(c)) for c in est.coefs_)
    if case.classifier:
        assert set(est.predict(X)) <= set(est.classes_)
    elif case.loss == "poisson":
        assert np.all(est.predict(X) > 0)

    # With on_interrupt="raise", the interrupt propagates and a fresh
    # estimator stays unfitted.
    interrupt_gradient(6)
    fresh = case(
        hidden_layer_sizes=(10,), solver=solver, on_interrupt="raise", random_state=0
    )
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(fresh)


# ------------------------------------------------------------- callbacks
class StopAfter:
    """A callback that asks the estimator to stop after ``n`` iterations."""

    def __init__(self, n):
        self.n = n
        self.ended = 0

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "iteration":
            self.ended += 1
            return self.ended >= self.n
        return False


@over()
def test_scoring_monitor_scores_every_iteration(case):
    sklearn_callback = pytest.importorskip(
        "sklearn.callback", reason="scikit-learn<1.9"
    )
    X, y = case.data()
    scoring = "accuracy" if case.classifier else "r2"  # the estimator's score
    monitor = sklearn_callback.ScoringMonitor(scoring=scoring)
    est = case(hidden_layer_sizes=(10,), max_iter=15, random_state=0)
    fit_quietly(est.set_callbacks(monitor), X, y)
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "iteration"]
    assert len(rows) == est.n_iter_
    # The last iteration's model is the fitted model.
    assert rows[-1][scoring] == pytest.approx(est.score(X, y))
    assert rows[-1][scoring] > rows[0][scoring]
    assert not hasattr(est, "_callback_fit_ctx")  # torn down after fit


@over()
def test_a_callback_can_stop_the_fit_without_warning(case):
    pytest.importorskip("sklearn.callback", reason="scikit-learn<1.9")
    X, y = case.data()
    est = case(hidden_layer_sizes=(10,), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.set_callbacks(StopAfter(4)).fit(X, y)
    assert est.n_iter_ == 4


@over()
def test_progress_bar_runs_a_fit(case):
    sklearn_callback = pytest.importorskip(
        "sklearn.callback", reason="scikit-learn<1.9"
    )
    pytest.importorskip("rich")
    X, y = case.data()
    est = case(hidden_layer_sizes=(10,), max_iter=10, random_state=0)
    fit_quietly(est.set_callbacks(sklearn_callback.ProgressBar()), X, y)
    assert est.n_iter_ == 10


# ------------------------------------------------------------ fitted state
@over()
def test_failed_fit_and_clone_leave_the_model_intact(case):
    X, y = case.data()
    est = fit_quietly(case(hidden_layer_sizes=(5,), random_state=0), X, y)
    before = dict(vars(est))
    # A target the estimator refuses (one class; negative Poisson counts),
    # with another number of features.
    if case.classifier:
        params, y_bad, match = {}, np.ones(len(X)), "at least 2 classes"
    else:
        params, y_bad = {"loss": "poisson"}, y - y.max() - 1.0
        match = "negative.*Poisson"
    with pytest.raises(ValueError, match=match):
        est.set_params(**params).fit(X[:, :2], y_bad)
    est.set_params(**case.params)  # the parameters as they were
    assert vars(est).keys() == before.keys()
    for key, value in before.items():
        if key not in params:
            assert vars(est)[key] is value
    assert est.n_features_in_ == X.shape[1]
    assert not hasattr(clone(est), "coefs_")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@over("classifier-multiclass", *TWO_OUTPUTS)
def test_pickle_joblib_and_npz_round_trips(case, dtype, tmp_path):
    X, y = case.data()
    X = X.astype(dtype)
    est = fit_quietly(case(hidden_layer_sizes=(6,), random_state=0), X, y)
    expected = est.predict(X)
    buffer = io.BytesIO()
    assert est.to_npz(buffer) is est
    buffer.seek(0)
    for loaded in (
        pickle.loads(pickle.dumps(est)),
        joblib.load(joblib.dump(est, tmp_path / "m.joblib")[0]),
        case.Estimator.from_npz(buffer),
    ):
        assert type(loaded) is case.Estimator
        np.testing.assert_array_equal(loaded.predict(X), expected)
        if case.classifier:
            proba = loaded.predict_proba(X)
            np.testing.assert_array_equal(proba, est.predict_proba(X))
            assert proba.dtype == dtype
        else:
            assert loaded.predict(X).dtype == dtype
        assert loaded.get_params() == est.get_params()
        for name in ("out_activation_", "n_outputs_", "n_layers_", "loss_", "t_"):
            assert getattr(loaded, name) == getattr(est, name)
        assert loaded.loss_curve_ == est.loss_curve_
