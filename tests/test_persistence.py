"""The pickle-free ``.npz`` format: round trips and inconsistent files."""

import io
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier


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


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["setosa", "versicolor", "virginica"]),
        np.array(["setosa", "versicolor", "virginica"], dtype=object),
        np.array([3, 7, 11]),
        np.array([0.0, 1.0, 2.0]),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_npz_export_round_trip(iris, labels, dtype, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame(X.astype(dtype), columns=["sl", "sw", "pl", "pw"])
    clf = CGMLPClassifier(
        hidden_layer_sizes=(6, 3), class_weight="balanced", random_state=0
    )
    quiet(clf.fit, df, labels[y])
    path = tmp_path / "model.npz"
    clf.to_npz(path)
    loaded = CGMLPClassifier.from_npz(path)
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(df), clf.predict_proba(df))
    np.testing.assert_array_equal(loaded.predict(df), clf.predict(df))
    assert loaded.predict(df).dtype == clf.predict(df).dtype
    np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    assert loaded.coefs_[0].dtype == dtype
    assert loaded.loss_curve_ == clf.loss_curve_
    # Warm start continues from the loaded weights.
    loaded.set_params(warm_start=True, max_iter=5)
    quiet(loaded.fit, df, labels[y])


def test_npz_export_of_binary_and_multilabel_models(iris, tmp_path):
    X, y = iris
    for target in [(y == 0).astype(int), np.column_stack([y == 0, y == 1]).astype(int)]:
        clf = quiet(
            CGMLPClassifier(hidden_layer_sizes=(4,), random_state=0).fit, X, target
        )
        buffer = io.BytesIO()
        clf.to_npz(buffer)
        buffer.seek(0)
        loaded = CGMLPClassifier.from_npz(buffer)
        np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def _tampered(fitted, **changes):
    buffer = io.BytesIO()
    fitted.to_npz(buffer)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    out = io.BytesIO()
    np.savez(out, **arrays)
    out.seek(0)
    return out


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"coef_0": np.zeros((3, 6))}, "layer 1 takes|n_features_in"),
        ({"intercept_1": np.zeros(2)}, "layer 1 has shapes"),
        ({"coef_1": None}, "missing array 'coef_1'"),
        ({"coef_0": np.full((4, 6), np.nan)}, "not all finite"),
        ({"coef_0": np.zeros((4, 6), dtype=np.int64)}, "float32 or all float64"),
        ({"classes": np.array(["a", "b"])}, "2 classes for a multiclass output of 3"),
        ({"metadata": np.array("{not json")}, "metadata is not JSON"),
        ({"metadata": None}, "no metadata"),
        ({"coef_9": np.zeros((2, 2))}, "unexpected arrays"),
    ],
)
def test_npz_loader_rejects_inconsistent_files(fitted, changes, match):
    with pytest.raises(ValueError, match=match):
        CGMLPClassifier.from_npz(_tampered(fitted, **changes))


def test_npz_loader_never_unpickles(fitted):
    """Object arrays (which need pickle) are refused by numpy.load itself."""
    out = io.BytesIO()
    np.savez(out, metadata=np.array([{"evil": 1}], dtype=object))
    out.seek(0)
    with pytest.raises(ValueError, match="allow_pickle"):
        CGMLPClassifier.from_npz(out)


def test_npz_needs_a_fitted_model():
    with pytest.raises(NotFittedError):
        CGMLPClassifier().to_npz(io.BytesIO())
