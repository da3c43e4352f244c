"""Bad input, numerical faults, persistence and determinism."""

import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

import sklearn_cgmlp
from sklearn_cgmlp import CGMLPClassifier, InconsistentVersionWarning


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


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


# -------------------------------------------------------------- bad input
def _bad_fit_inputs():
    X, y = load_iris(return_X_y=True)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    y_nan = y.astype(float)
    y_nan[5] = np.nan
    sw = np.ones(len(y))
    return {
        "nan in X": (X_nan, y, None, ValueError, "Input X contains NaN"),
        "inf in X": (X_inf, y, None, ValueError, "Input X contains infinity"),
        "empty X": (X[:0], y[:0], None, ValueError, "0 sample"),
        "one sample": (X[:1], y[:1], None, ValueError, "at least 2 classes"),
        "one class": (X[:40], y[:40], None, ValueError, "at least 2 classes"),
        "nan in y": (X, y_nan, None, ValueError, "Input y contains NaN"),
        "continuous y": (X, X[:, 0], None, ValueError, "Unknown label type"),
        "complex X": (X + 1j, y, None, ValueError, "Complex data not supported"),
        "text in X": (
            np.full(X.shape, "a", dtype=object),
            y,
            None,
            ValueError,
            "could not convert string to float",
        ),
        "1-D X": (X[:, 0], y, None, ValueError, "Expected 2D array, got 1D array"),
        "3-D X": (X[:, :, None], y, None, ValueError, "Found array with dim 3"),
        "length mismatch": (
            X[:-1],
            y,
            None,
            ValueError,
            "inconsistent numbers of samples",
        ),
        "negative weight": (
            X,
            y,
            np.where(np.arange(len(y)) == 3, -1.0, 1.0),
            ValueError,
            "Negative values in data passed to `sample_weight`",
        ),
        "nan weight": (
            X,
            y,
            np.where(np.arange(len(y)) == 3, np.nan, 1.0),
            ValueError,
            "Input sample_weight contains NaN",
        ),
        "all-zero weights": (
            X,
            y,
            0 * sw,
            ValueError,
            "Sample weights must contain at least one non-zero number",
        ),
        "wrong-length weights": (
            X,
            y,
            sw[:-1],
            ValueError,
            r"sample_weight.shape == \(149,\), expected \(150,\)",
        ),
    }


BAD_FIT = _bad_fit_inputs()


@pytest.mark.parametrize("case", BAD_FIT)
def test_bad_fit_input_gets_sklearns_error_and_no_fitted_state(case):
    X, y, sw, error, match = BAD_FIT[case]
    clf = CGMLPClassifier()
    with pytest.raises(error, match=match):
        clf.fit(X, y, sample_weight=sw)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    assert not [k for k in vars(clf) if k.endswith("_") and not k.startswith("_")]


@pytest.mark.parametrize("case", BAD_FIT)
def test_bad_refit_input_leaves_the_previous_model_intact(fitted, iris, case):
    X, y, sw, error, match = BAD_FIT[case]
    clf = pickle.loads(pickle.dumps(fitted))
    before = clf.predict_proba(iris[0])
    with pytest.raises(error, match=match):
        clf.fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(clf.predict_proba(iris[0]), before)
    assert clf.n_features_in_ == 4


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": 0}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (5, -1)}, "hidden_layer_sizes must be positive"),
        ({"hidden_layer_sizes": (5, 2.5)}, "hidden_layer_sizes must be positive"),
        ({"activation": "softplus"}, "'activation' parameter"),
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
    import sklearn_cgmlp._objective as objective_module

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    original = objective_module.data_loss_grad
    start = {}

    def nan_far_away(theta, *args, **kwargs):
        loss = original(theta, *args, **kwargs)
        start.setdefault("theta", theta.copy())
        if np.linalg.norm(theta - start["theta"]) > 2.0:
            kwargs["grad"][:] = np.nan
            return np.nan
        return loss

    monkeypatch.setattr(objective_module, "data_loss_grad", nan_far_away)
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), random_state=0, max_iter=500)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
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


def test_package_exposes_its_version():
    assert isinstance(sklearn_cgmlp.__version__, str)
