"""Bad input, numerical faults, persistence and determinism."""

import pickle
import re
import threading
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

import sklearn_cgmlp
from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor, InconsistentVersionWarning


@pytest.fixture(scope="module")
def fitted(iris):
    X, y = iris
    return CGMLPClassifier(
        hidden_layer_sizes=(6,), activation="tanh", random_state=0
    ).fit(X, np.array(["setosa", "versicolor", "virginica"])[y])


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return func(*args, **kwargs)


# ------------------------------------------- failing fits change nothing
# "A failing input never leaves a half-fitted or inconsistent estimator": a
# fresh estimator stays unfitted, a fitted one keeps its exact state.
def snapshot(est):
    """The estimator's state: its attribute dictionary and its weights' bytes."""
    weights = [a.tobytes() for a in getattr(est, "coefs_", [])]
    weights += [a.tobytes() for a in getattr(est, "intercepts_", [])]
    return dict(vars(est)), weights


def assert_unchanged(est, state):
    attributes, weights = state
    assert vars(est).keys() == attributes.keys()
    for name, value in attributes.items():
        assert vars(est)[name] is value, name
    assert snapshot(est)[1] == weights


def assert_unfitted(est, attributes_before):
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert vars(est).keys() == attributes_before


def _data(kind, n=150):
    if kind == "classifier":
        X, y = load_iris(return_X_y=True)
        return StandardScaler().fit_transform(X), y
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X[:n]), (y[:n] - 150) / 75


def _with(X, index, value):
    X = X.astype(float)
    X[index] = value
    return X


def _one_positive(n):
    """Weights with one positive entry: one early-stopping part has none."""
    sw = np.zeros(n)
    sw[7] = 1.0
    return sw


ESTIMATORS = {"classifier": CGMLPClassifier, "regressor": CGMLPRegressor}
_INT_RANGE = r"must be an int in the range \[1, inf\)(?: or None)?\. Got True instead"

# name -> (kinds, builder(X, y) -> (params, X, y, sample_weight), error, match)
FAILING = {
    "nan in X": (
        ESTIMATORS,
        lambda X, y: ({}, _with(X, (3, 1), np.nan), y, None),
        ValueError,
        "Input X contains NaN",
    ),
    "inf in X": (
        ESTIMATORS,
        lambda X, y: ({}, _with(X, (0, 0), np.inf), y, None),
        ValueError,
        "Input X contains infinity",
    ),
    "empty X": (
        ESTIMATORS,
        lambda X, y: ({}, X[:0], y[:0], None),
        ValueError,
        "0 sample",
    ),
    "complex X": (
        ESTIMATORS,
        lambda X, y: ({}, X + 1j, y, None),
        ValueError,
        "Complex data not supported",
    ),
    "text in X": (
        ESTIMATORS,
        lambda X, y: ({}, np.full(X.shape, "a", dtype=object), y, None),
        ValueError,
        "could not convert string to float",
    ),
    "1-D X": (
        ESTIMATORS,
        lambda X, y: ({}, X[:, 0], y, None),
        ValueError,
        "Expected 2D array, got 1D array",
    ),
    "3-D X": (
        ESTIMATORS,
        lambda X, y: ({}, X[:, :, None], y, None),
        ValueError,
        "Found array with dim 3",
    ),
    "length mismatch": (
        ESTIMATORS,
        lambda X, y: ({}, X[:-1], y, None),
        ValueError,
        "inconsistent numbers of samples",
    ),
    "nan in y": (
        ESTIMATORS,
        lambda X, y: ({}, X, _with(y, 5, np.nan), None),
        ValueError,
        "Input y contains NaN",
    ),
    "negative weight": (
        ESTIMATORS,
        lambda X, y: ({}, X, y, np.where(np.arange(len(y)) == 3, -1.0, 1.0)),
        ValueError,
        "Negative values in data passed to `sample_weight`",
    ),
    "nan weight": (
        ESTIMATORS,
        lambda X, y: ({}, X, y, np.where(np.arange(len(y)) == 3, np.nan, 1.0)),
        ValueError,
        "Input sample_weight contains NaN",
    ),
    "all-zero weights": (
        ESTIMATORS,
        lambda X, y: ({}, X, y, np.zeros(len(y))),
        ValueError,
        "Sample weights must contain at least one non-zero number",
    ),
    "wrong-length weights": (
        ESTIMATORS,
        lambda X, y: ({}, X, y, np.ones(len(y) - 1)),
        ValueError,
        r"sample_weight.shape == \(\d+,\), expected \(\d+,\)",
    ),
    # The loss divides by the sum of the weights: it must not overflow ...
    "weights whose sum overflows": (
        ESTIMATORS,
        lambda X, y: ({}, X, y, np.full(len(y), 1e307)),
        ValueError,
        r"The weights \(sample_weight\) are too large",
    ),
    # ... nor be so small that its inverse does (it was blamed on the weights
    # of the network growing without bound).
    "subnormal weights": (
        ESTIMATORS,
        lambda X, y: ({}, X, y, np.full(len(y), 1e-320)),
        ValueError,
        r"The weights \(sample_weight\) are too small for float64",
    ),
    "weights beyond float32": (
        ESTIMATORS,
        lambda X, y: ({}, X.astype(np.float32), y, np.full(len(y), 1e39)),
        ValueError,
        r"The weights \(sample_weight\) reach 1e\+39, beyond what float32",
    ),
    "float32 weights whose sum overflows float32's scale": (
        ESTIMATORS,
        lambda X, y: ({}, X.astype(np.float32), y, np.full(len(y), 1e37)),
        ValueError,
        r"The weights \(sample_weight\) are too large: .* in float32",
    ),
    # It used to fail with ZeroDivisionError, or inside scikit-learn's
    # scorer in the middle of the fit.
    "early-stopping part of zero weight": (
        ESTIMATORS,
        lambda X, y: (
            {"early_stopping": True, "validation_fraction": 0.5},
            X,
            y,
            _one_positive(len(y)),
        ),
        ValueError,
        r"The early-stopping (training|validation) part has only samples of weight "
        "zero. .*validation_fraction",
    ),
    "chunk_size=True": (
        ESTIMATORS,
        lambda X, y: ({"chunk_size": True}, X, y, None),
        InvalidParameterError,
        "The 'chunk_size' parameter of CGMLP.* " + _INT_RANGE,
    ),
    "max_iter=True": (
        ESTIMATORS,
        lambda X, y: ({"max_iter": True}, X, y, None),
        InvalidParameterError,
        "The 'max_iter' parameter of CGMLP.* " + _INT_RANGE,
    ),
    "max_fun=True": (
        ESTIMATORS,
        lambda X, y: ({"max_fun": True}, X, y, None),
        InvalidParameterError,
        "The 'max_fun' parameter of CGMLP.* " + _INT_RANGE,
    ),
    "n_iter_no_change=True": (
        ESTIMATORS,
        lambda X, y: ({"n_iter_no_change": True}, X, y, None),
        InvalidParameterError,
        "The 'n_iter_no_change' parameter of CGMLP.* " + _INT_RANGE,
    ),
    "hidden_layer_sizes=True": (
        ESTIMATORS,
        lambda X, y: ({"hidden_layer_sizes": True}, X, y, None),
        InvalidParameterError,
        "The 'hidden_layer_sizes' parameter of CGMLP.*Got True instead",
    ),
    "one sample": (
        ["classifier"],
        lambda X, y: ({}, X[:1], y[:1], None),
        ValueError,
        "at least 2 classes",
    ),
    # It printed np.float64(0.0).
    "one class": (
        ["classifier"],
        lambda X, y: ({}, X, np.zeros(len(y)), None),
        ValueError,
        r"the data contains only one class: 0\.0\.$",
    ),
    "continuous y": (
        ["classifier"],
        lambda X, y: ({}, X, X[:, 0], None),
        ValueError,
        "Unknown label type",
    ),
    # scikit-learn's own TypeError from sorting the labels.
    "labels mixing str and None": (
        ["classifier"],
        lambda X, y: ({}, X, np.array(["a", None, "b"], dtype=object)[y], None),
        ValueError,
        r"Class labels must be all numbers or all strings, got labels of types "
        r"\['NoneType', 'str'\]",
    ),
    "labels mixing bytes and str": (
        ["classifier"],
        lambda X, y: ({}, X, np.array([b"a", "a", "b"], dtype=object)[y], None),
        ValueError,
        # scikit-learn 1.6's type_of_target refuses them first, in its words.
        "Class labels must be all numbers or all strings"
        "|legacy multi-label data representation",
    ),
    # Negative class weights were fitted (to a loss of -6e119), NaN and inf
    # ones failed as "very large input values".
    "negative class_weight": (
        ["classifier"],
        lambda X, y: ({"class_weight": {0: -1.0, 1: 1.0, 2: 1.0}}, X, y, None),
        ValueError,
        r"class_weight values must be non-negative finite numbers, got \{0: -1.0\}",
    ),
    "nan class_weight": (
        ["classifier"],
        lambda X, y: ({"class_weight": {0: 1.0, 1: np.nan, 2: 1.0}}, X, y, None),
        ValueError,
        r"class_weight values must be non-negative finite numbers, got \{1: nan\}",
    ),
    "inf class_weight": (
        ["classifier"],
        lambda X, y: ({"class_weight": {0: 1.0, 1: 1.0, 2: np.inf}}, X, y, None),
        ValueError,
        r"class_weight values must be non-negative finite numbers, got \{2: inf\}",
    ),
    "sample times class weights overflow": (
        ["classifier"],
        lambda X, y: (
            {"class_weight": {0: 1e200, 1: 1.0, 2: 1.0}},
            X,
            y,
            np.full(len(y), 1e200),
        ),
        ValueError,
        r"The weights \(sample_weight times class_weight\) reach inf",
    ),
    "sample times class weights underflow": (
        ["classifier"],
        lambda X, y: (
            {"class_weight": {0: 1e-200, 1: 1e-200, 2: 1e-200}},
            X,
            y,
            np.full(len(y), 1e-200),
        ),
        ValueError,
        r"The weights \(sample_weight times class_weight\) are too small for "
        "float64: they sum to 0",
    ),
    "class weights beyond float32": (
        ["classifier"],
        lambda X, y: (
            {"class_weight": {0: 1e39, 1: 1.0, 2: 1.0}},
            X.astype(np.float32),
            y,
            None,
        ),
        ValueError,
        r"The weights \(sample_weight times class_weight\) reach 1e\+39, beyond "
        "what float32",
    ),
    "validation part too small for a stratified split": (
        ["classifier"],
        lambda X, y: (
            {"early_stopping": True, "validation_fraction": 0.01},
            X,
            y,
            None,
        ),
        ValueError,
        r"sets aside 2 of 150 samples.*3 classes",
    ),
}
# scikit-learn 1.5 and 1.6 warn that bytes labels are deprecated before the
# error these tests expect (a FutureWarning, which fails the run).
_BYTES_DEPRECATED = pytest.mark.filterwarnings(
    "ignore:Support for labels represented as bytes:FutureWarning"
)
FAILING_CASES = [
    pytest.param(
        kind,
        name,
        id=f"{kind}: {name}",
        marks=[_BYTES_DEPRECATED] if "bytes" in name else [],
    )
    for name, (kinds, *_) in FAILING.items()
    for kind in kinds
]


def failing_fit(kind, name):
    _, build, error, match = FAILING[name]
    params, X, y, sw = build(*_data(kind))
    return params, X, y, sw, error, match


@pytest.fixture(scope="module")
def fitted_models():
    models = {}
    for kind, Estimator in ESTIMATORS.items():
        X, y = _data(kind)
        est = Estimator(hidden_layer_sizes=(6,), activation="tanh", random_state=0)
        models[kind] = quiet(est.fit, X, y)
    return models


@pytest.mark.parametrize("kind, name", FAILING_CASES)
def test_a_failing_fit_leaves_a_fresh_estimator_unfitted(kind, name):
    params, X, y, sw, error, match = failing_fit(kind, name)
    est = ESTIMATORS[kind](**params)
    attributes = vars(est).keys()
    with pytest.raises(error, match=match):
        est.fit(X, y, sample_weight=sw)
    assert_unfitted(est, attributes)


@pytest.mark.parametrize("kind, name", FAILING_CASES)
def test_a_failing_refit_leaves_the_previous_model_unchanged(fitted_models, kind, name):
    params, X, y, sw, error, match = failing_fit(kind, name)
    est = pickle.loads(pickle.dumps(fitted_models[kind])).set_params(**params)
    state = snapshot(est)
    X_before = _data(kind)[0]
    before = est.predict(X_before)
    with pytest.raises(error, match=match):
        est.fit(X, y, sample_weight=sw)
    assert_unchanged(est, state)
    np.testing.assert_array_equal(est.predict(X_before), before)


class _FailAtTheEnd:
    """A FitCallback that raises when the whole fit ends, after the new model
    has been installed."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name != "iteration":
            raise RuntimeError("callback failed")
        return False


def _fail_in_the_middle(est, monkeypatch):
    """Make the early-stopping score raise on its third call."""
    calls = []
    original = type(est)._score_model

    def score(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("scoring failed")
        return original(self, *args)

    monkeypatch.setattr(type(est), "_score_model", score)
    est.set_params(early_stopping=True)


def _fail_at_the_end(est, monkeypatch):
    pytest.importorskip("sklearn.callback", reason="scikit-learn<1.9")
    est.set_callbacks(_FailAtTheEnd())


@pytest.mark.parametrize("where", ["in the middle", "at the end"])
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_a_fit_failing_late_changes_nothing(fitted_models, kind, where, monkeypatch):
    """Failures after iterations ran, and after the new state was installed
    (in the callbacks of the fit's end), restore the estimator as it was."""
    setup = {"in the middle": _fail_in_the_middle, "at the end": _fail_at_the_end}
    X, y = _data(kind)
    for est in (
        ESTIMATORS[kind](hidden_layer_sizes=(4,), random_state=1),
        pickle.loads(pickle.dumps(fitted_models[kind])).set_params(random_state=1),
    ):
        setup[where](est, monkeypatch)
        fitted = hasattr(est, "coefs_")
        state = snapshot(est)
        with pytest.raises(RuntimeError, match="failed"):
            quiet(est.fit, X, y)
        if fitted:
            assert_unchanged(est, state)
        else:
            assert_unfitted(est, state[0].keys())
        assert not hasattr(est, "_callback_fit_ctx")


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": 0}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (5, -1)}, "hidden_layer_sizes must be positive"),
        ({"hidden_layer_sizes": (5, 2.5)}, "hidden_layer_sizes must be positive"),
        ({"activation": "softmax"}, "'activation' parameter"),
        ({"solver": "adam"}, "'solver' parameter"),
        ({"alpha": -1.0}, "'alpha' parameter"),
        ({"max_iter": 0}, "'max_iter' parameter"),
        ({"tol": -1e-3}, "'tol' parameter"),
        ({"max_fun": 0}, "'max_fun' parameter"),
        ({"class_weight": "auto"}, "'class_weight' parameter"),
        ({"early_stopping": "yes"}, "'early_stopping' parameter"),
        ({"validation_fraction": 1.0}, "'validation_fraction' parameter"),
        ({"n_iter_no_change": 0}, "'n_iter_no_change' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
        ({"warm_start": 2}, "'warm_start' parameter"),
        ({"verbose": "loud"}, "'verbose' parameter"),
        ({"chunk_size": 0}, "'chunk_size' parameter"),
    ],
)
def test_invalid_parameters(iris, params, match):
    X, y = iris
    clf = CGMLPClassifier(**params)
    error = ValueError  # InvalidParameterError is a ValueError (and TypeError)
    with pytest.raises(error, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")
    if "must be positive" not in match:
        with pytest.raises(InvalidParameterError):
            clf.fit(X, y)


def test_bad_predict_input(fitted, iris):
    pd = pytest.importorskip("pandas")
    X, _ = iris
    with pytest.raises(ValueError, match="X has 3 features, but CGMLPClassifier is "
                       "expecting 4 features as input"):  # fmt: skip
        fitted.predict(X[:, :3])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.predict(np.full((2, 4), np.nan))
    with pytest.raises(NotFittedError):
        CGMLPClassifier().predict(X)
    names = ["a", "b", "c", "d"]
    clf = CGMLPClassifier(hidden_layer_sizes=(3,), max_iter=20, random_state=0)
    quiet(clf.fit, pd.DataFrame(X, columns=names), iris[1])
    with pytest.raises(ValueError, match="The feature names should match"):
        clf.predict(pd.DataFrame(X, columns=["a", "b", "c", "e"]))


# ------------------------------------------------------ numerical faults
def test_values_up_to_float_max_end_finite_or_fail_clearly(iris):
    X, y = iris
    big = X / np.abs(X).max() * np.finfo(np.float64).max
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0)
    try:
        quiet(clf.fit, big, y)
    except ValueError as exc:
        assert "loss is not finite at the initial weights" in str(exc)
        assert not hasattr(clf, "coefs_")
    else:
        assert all(np.all(np.isfinite(a)) for a in clf.coefs_ + clf.intercepts_)
        assert np.all(np.isfinite(clf.predict_proba(big)))


def test_float32_data_near_its_range(iris):
    X, y = iris
    big = (X / np.abs(X).max() * 1e37).astype(np.float32)
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0)
    try:
        quiet(clf.fit, big, y)
    except ValueError as exc:
        assert "loss is not finite at the initial weights" in str(exc)
    else:
        assert clf.coefs_[0].dtype == np.float32
        assert all(np.all(np.isfinite(a)) for a in clf.coefs_ + clf.intercepts_)
        assert not np.any(np.isnan(clf.predict_proba(big)))


def test_constant_features_are_harmless(iris):
    X, y = iris
    X = np.hstack([X, np.ones((len(X), 2)), np.zeros((len(X), 1))])
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), activation="tanh", random_state=0)
    clf.fit(X, y)
    assert clf.score(X, y) > 0.95
    assert np.all(np.isfinite(clf.coefs_[0]))


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_separable_data_without_penalty_stays_finite(activation):
    rng = np.random.RandomState(0)
    X = rng.randn(60, 2)
    y = (X[:, 0] > 0).astype(int)
    X[:, 0] += np.where(y == 1, 3.0, -3.0)  # wide margin
    clf = CGMLPClassifier(
        hidden_layer_sizes=(4,), activation=activation, alpha=0.0, max_iter=2000,
        tol=0.0, random_state=0,
    )  # fmt: skip
    quiet(clf.fit, X, y)
    proba = clf.predict_proba(X)
    assert all(np.all(np.isfinite(a)) for a in clf.coefs_ + clf.intercepts_)
    assert np.all((proba > 0) & (proba < 1))
    assert np.all(np.isfinite(clf.predict_log_proba(X)))
    assert clf.score(X, y) == 1.0


def test_non_finite_loss_in_a_line_search_falls_back_with_a_warning(monkeypatch):
    """A loss that turns NaN beyond some step is never accepted silently."""
    from sklearn_cgmlp._loss import MLPLoss

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    original = MLPLoss.data_loss_gradient
    start = {}

    def nan_far_away(self, theta, *args, **kwargs):
        loss, grad = original(self, theta, *args, **kwargs)
        start.setdefault("theta", theta.copy())
        if np.linalg.norm(theta - start["theta"]) > 2.0:
            grad[:] = np.nan
            return np.nan, grad
        return loss, grad

    monkeypatch.setattr(MLPLoss, "data_loss_gradient", nan_far_away)
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), random_state=0, max_iter=500)
    with pytest.warns(ConvergenceWarning):  # a stall or a non-finite value
        clf.fit(X, y)
    assert all(np.all(np.isfinite(a)) for a in clf.coefs_ + clf.intercepts_)
    assert np.isfinite(clf.loss_)
    assert not np.any(np.isnan(clf.predict_proba(X)))


# ------------------------------------------------------------ persistence
def test_pickle_round_trip_is_bit_identical_and_version_stamped(fitted, iris):
    blob = pickle.dumps(fitted)
    assert b"_sklearn_cgmlp_version" in blob
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = pickle.loads(blob)
    assert "_sklearn_cgmlp_version" not in vars(loaded)
    np.testing.assert_array_equal(
        loaded.predict_proba(iris[0]), fitted.predict_proba(iris[0])
    )


def test_loading_another_versions_pickle_warns(fitted, monkeypatch):
    state = fitted.__getstate__()
    state["_sklearn_cgmlp_version"] = "0.0.1"
    clf = CGMLPClassifier.__new__(CGMLPClassifier)
    with pytest.warns(
        InconsistentVersionWarning, match="from sklearn-cgmlp version 0.0.1"
    ):
        clf.__setstate__(state)
    # Filterable with scikit-learn's own warning class too.
    from sklearn.exceptions import InconsistentVersionWarning as SklearnWarning

    assert issubclass(InconsistentVersionWarning, SklearnWarning)
    blob = pickle.dumps(fitted)  # stamped with the installed version
    monkeypatch.setattr("sklearn_cgmlp._persistence.__version__", "9.9.9")
    with pytest.warns(InconsistentVersionWarning, match="using version 9.9.9"):
        pickle.loads(blob)


def test_joblib_round_trip_is_bit_identical(fitted, iris, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(
        loaded.predict_proba(iris[0]), fitted.predict_proba(iris[0])
    )


def test_skops_round_trip(fitted, iris, tmp_path):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(fitted, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert "sklearn_cgmlp._classifier.CGMLPClassifier" in untrusted
    loaded = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(
        loaded.predict_proba(iris[0]), fitted.predict_proba(iris[0])
    )


# ------------------------------------------------------------ determinism
def test_grid_search_is_deterministic_across_n_jobs(iris):
    X, y = iris
    grid = {"alpha": [1e-4, 1.0], "hidden_layer_sizes": [(4,), (8,)]}

    def search(n_jobs):
        gs = GridSearchCV(
            CGMLPClassifier(activation="tanh", random_state=0), grid, cv=3,
            n_jobs=n_jobs,
        )  # fmt: skip
        return quiet(gs.fit, X, y)

    sequential, parallel = search(1), search(2)
    for key in ("mean_test_score", "std_test_score", "params"):
        assert list(sequential.cv_results_[key]) == list(parallel.cv_results_[key])
    for a, b in zip(sequential.best_estimator_.coefs_, parallel.best_estimator_.coefs_):
        np.testing.assert_array_equal(a, b)


def test_predict_from_several_threads_is_identical(fitted, iris):
    X = np.tile(iris[0], (50, 1))
    expected = fitted.predict_proba(X)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: fitted.predict_proba(X), range(16)))
    for result in results:
        np.testing.assert_array_equal(result, expected)


def _two_problems(kind):
    """Two training sets with different numbers of features and targets."""
    rng = np.random.RandomState(0)
    XB = rng.randn(120, 6 if kind == "classifier" else 3)
    if kind == "classifier":  # 4 features, classes 0-2; 6 features, "x"/"y"
        yB = np.where(XB[:, 0] + XB[:, 1] > 0, "x", "y")
    else:  # 10 features, one output; 3 features, two outputs
        yB = np.column_stack([XB[:, 0], XB[:, 1] * XB[:, 2]])
    return [_data(kind), (XB, yB)]


def _same(out, expected):
    out = np.asarray(out)
    if out.shape != np.shape(expected):
        return False
    if out.dtype.kind in "fc":
        return np.allclose(out, expected, rtol=1e-12, atol=0)
    return np.array_equal(out, expected)


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_predictions_during_refits_come_from_one_whole_model(kind, monkeypatch):
    """Threads predict while the main thread refits the same object, in turn
    on two problems with different features and targets, and fails refits
    in between. Each prediction must be the old or the new model's, whole."""
    Estimator = ESTIMATORS[kind]
    problems = _two_problems(kind)
    params = dict(
        hidden_layer_sizes=(5,), activation="tanh", max_iter=30, random_state=0
    )
    models = [quiet(Estimator(**params).fit, X, y) for X, y in problems]
    methods = ["predict", "score"]
    if kind == "classifier":
        methods += ["predict_proba", "predict_log_proba"]

    def call(est, method, i):
        X, y = problems[i]
        return (
            getattr(est, method)(X, y) if method == "score" else getattr(est, method)(X)
        )

    # Refits from the same seed are deterministic: these are the only
    # outputs a whole model can give.
    expected = {(m, i): call(models[i], m, i) for m in methods for i in (0, 1)}
    est = quiet(Estimator(**params).fit, *problems[0])
    wrong_features = re.compile(
        r"^X has \d+ features, but CGMLP\w+ is expecting \d+ features as input\.$"
    )
    stop, errors, seen = threading.Event(), [], Counter()

    def predict_in_a_loop(seed):
        rng = np.random.RandomState(seed)
        while not stop.is_set():
            i, method = int(rng.randint(2)), methods[rng.randint(len(methods))]
            try:
                out = call(est, method, i)
            except ValueError as exc:  # the current model has the other shape
                if not wrong_features.match(str(exc)):
                    errors.append(f"{method} on problem {i}: {exc!r}")
                continue
            except Exception as exc:
                errors.append(f"{method} on problem {i}: {exc!r}")
                continue
            if _same(out, expected[method, i]):
                seen[i] += 1
            else:
                errors.append(f"{method} on problem {i}: a mix of two models")

    # A refit that fails after some iterations (early-stopping scoring).
    fail_scoring = threading.Event()
    original_score = Estimator._score_model

    def score_model(self, *args):
        if fail_scoring.is_set() and threading.current_thread() is main:
            raise RuntimeError("scoring failed")
        return original_score(self, *args)

    main = threading.current_thread()
    monkeypatch.setattr(Estimator, "_score_model", score_model)

    threads = [threading.Thread(target=predict_in_a_loop, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    try:
        for k in range(10):
            new, old = problems[(k + 1) % 2], problems[k % 2]
            quiet(est.fit, *new)
            state = snapshot(est)
            with pytest.raises(ValueError, match="Input X contains NaN"):
                est.fit(_with(old[0], (0, 0), np.nan), old[1])
            with pytest.raises(ValueError, match="at least one non-zero"):
                est.fit(*old, sample_weight=np.zeros(len(old[1])))
            fail_scoring.set()
            est.set_params(early_stopping=True)
            with pytest.raises(RuntimeError, match="scoring failed"):
                quiet(est.fit, *old)
            est.set_params(early_stopping=False)
            fail_scoring.clear()
            assert_unchanged(est, state)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors, errors[:5]
    assert seen[0] > 0 and seen[1] > 0


def test_package_exposes_its_version():
    assert isinstance(sklearn_cgmlp.__version__, str)
