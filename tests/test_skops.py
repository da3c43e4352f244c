"""skops files: dump, list the untrusted types, load with them trusted.

Only the estimator classes themselves may need trusting: every fitted
attribute must be made of types skops trusts by default (NumPy arrays, Python
numbers, strings, lists, dicts), whatever the targets, dtype, solver and
options. A loaded model is the same model: same parameters, same fitted
attributes, identical predictions.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_cgmlp._persistence
from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor, InconsistentVersionWarning

sio = pytest.importorskip("skops.io")
from skops.io.exceptions import UntrustedTypesFoundException  # noqa: E402


def type_name(cls):
    """The name skops gives a class in its lists of types."""
    return f"{cls.__module__}.{cls.__qualname__}"


def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def classifier_case(name):
    X, y = iris()
    params = dict(hidden_layer_sizes=(5, 3), activation="tanh", max_iter=30)
    if name == "binary-int":
        return CGMLPClassifier(**params), X, (y == 1).astype(int)
    if name == "multiclass-str":
        return CGMLPClassifier(**params), X, np.array(["a", "b", "c"])[y]
    if name == "multilabel":
        X, Y = make_multilabel_classification(n_samples=80, random_state=0)
        return CGMLPClassifier(**params), X, Y
    if name == "float32-early-stopping":
        est = CGMLPClassifier(**params, early_stopping=True, random_state=0)
        return est, X.astype(np.float32), y
    if name == "class-weight-lbfgs":
        est = CGMLPClassifier(
            **params, solver="lbfgs", class_weight={0: 1.0, 1: 2.0, 2: 0.5}
        )
        return est, X, y
    if name == "bool-labels-newton":
        return CGMLPClassifier(**params, solver="newton-cg"), X, y == 2
    if name == "per-layer-activations":  # a tuple of the new activations
        return CGMLPClassifier((5, 3), activation=("gelu", "elu"), max_iter=30), X, y
    if name == "silu-list":
        return CGMLPClassifier((4,), activation=["silu"], max_iter=30), X, y
    if name == "numpy-parameters":
        est = CGMLPClassifier(
            hidden_layer_sizes=np.array([4]),
            alpha=np.float64(1e-3),
            random_state=np.random.RandomState(0),
            max_iter=np.int64(20),
        )
        return est, X, y
    raise ValueError(name)


def regressor_case(name):
    X, y = iris()
    params = dict(hidden_layer_sizes=(5,), activation="relu", max_iter=30)
    if name == "squared-error":
        return CGMLPRegressor(**params), X[:, 1:], X[:, 0]
    if name == "poisson-two-outputs":
        return CGMLPRegressor(**params, loss="poisson"), X, np.c_[y, 2 - y]
    if name == "huber":
        return CGMLPRegressor(**params, loss="huber", epsilon=0.3), X[:, 1:], X[:, 0]
    if name == "gamma-two-outputs":
        return CGMLPRegressor(**params, loss="gamma"), X, np.c_[y + 1, 3 - y]
    if name == "float32-early-stopping-trust-ncg":
        est = CGMLPRegressor(
            **params, solver="trust-ncg", early_stopping=True, random_state=0
        )
        return est, X[:, 1:].astype(np.float32), X[:, 0]
    raise ValueError(name)


def fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # short fits
        return est.fit(X, y)


def round_trip(obj, tmp_path):
    """dump, get_untrusted_types, load(trusted=...); the untrusted types too."""
    path = tmp_path / "model.skops"
    sio.dump(obj, path)
    untrusted = sio.get_untrusted_types(file=path)
    return sio.load(path, trusted=untrusted), untrusted


def assert_same_fitted_state(loaded, est):
    assert type(loaded) is type(est)
    assert loaded.get_params().keys() == est.get_params().keys()
    for key, value in vars(est).items():
        other = vars(loaded)[key]
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            assert len(other) == len(value)
            for a, b in zip(other, value):
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)
        elif isinstance(value, np.ndarray):
            assert other.dtype == value.dtype
            np.testing.assert_array_equal(other, value)
        elif isinstance(value, np.random.RandomState):
            assert isinstance(other, np.random.RandomState)
        else:
            assert type(other) is type(value) and other == value, key
    assert vars(loaded).keys() == vars(est).keys()


@pytest.mark.parametrize(
    "case",
    [
        "binary-int",
        "multiclass-str",
        "multilabel",
        "float32-early-stopping",
        "class-weight-lbfgs",
        "bool-labels-newton",
        "per-layer-activations",
        "silu-list",
        "numpy-parameters",
    ],
)
def test_classifier_round_trip_trusts_only_the_class(case, tmp_path):
    est, X, y = classifier_case(case)
    fit(est, X, y)
    loaded, untrusted = round_trip(est, tmp_path)
    assert untrusted == [type_name(CGMLPClassifier)]
    assert_same_fitted_state(loaded, est)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict_log_proba(X), est.predict_log_proba(X))


@pytest.mark.parametrize(
    "case",
    [
        "squared-error",
        "poisson-two-outputs",
        "huber",
        "gamma-two-outputs",
        "float32-early-stopping-trust-ncg",
    ],
)
def test_regressor_round_trip_trusts_only_the_class(case, tmp_path):
    est, X, y = regressor_case(case)
    fit(est, X, y)
    loaded, untrusted = round_trip(est, tmp_path)
    assert untrusted == [type_name(CGMLPRegressor)]
    assert_same_fitted_state(loaded, est)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert loaded.score(X, y) == est.score(X, y)


def test_feature_names_survive(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = iris()
    df = pd.DataFrame(X, columns=["sepal l", "sepal w", "petal l", "petal w"])
    est = fit(CGMLPClassifier(hidden_layer_sizes=(4,), max_iter=20), df, y)
    loaded, untrusted = round_trip(est, tmp_path)
    assert untrusted == [type_name(CGMLPClassifier)]
    np.testing.assert_array_equal(loaded.feature_names_in_, est.feature_names_in_)
    np.testing.assert_array_equal(loaded.predict_proba(df), est.predict_proba(df))


def test_pipeline_trusts_only_our_classes(tmp_path):
    X, y = iris()
    pipe = fit(
        make_pipeline(
            StandardScaler(), CGMLPClassifier(hidden_layer_sizes=(4,), max_iter=20)
        ),
        10 * X,
        y,
    )
    loaded, untrusted = round_trip(pipe, tmp_path)
    assert untrusted == [type_name(CGMLPClassifier)]
    np.testing.assert_array_equal(
        loaded.predict_proba(10 * X), pipe.predict_proba(10 * X)
    )


@pytest.mark.parametrize("cls", [CGMLPClassifier, CGMLPRegressor])
def test_unfitted_estimator_round_trip(cls, tmp_path):
    est = cls(hidden_layer_sizes=(3, 2), alpha=0.5, solver="lbfgs")
    loaded, untrusted = round_trip(est, tmp_path)
    assert untrusted == [type_name(cls)]
    assert loaded.get_params() == est.get_params()


def test_loading_without_trusting_the_class_is_refused(tmp_path):
    est, X, y = classifier_case("binary-int")
    path = tmp_path / "model.skops"
    sio.dump(fit(est, X, y), path)
    with pytest.raises(UntrustedTypesFoundException, match="CGMLPClassifier"):
        sio.load(path)


def test_version_stamp_travels_with_skops_files(tmp_path, monkeypatch):
    # As pickles do: a file written by another sklearn-cgmlp version warns.
    est, X, y = classifier_case("binary-int")
    fit(est, X, y)
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))  # no warning
    assert not hasattr(loaded, "_sklearn_cgmlp_version")
    monkeypatch.setattr(sklearn_cgmlp._persistence, "__version__", "0.0.0-other")
    sio.dump(est, path)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="0.0.0-other"):
        loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
