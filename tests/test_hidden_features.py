"""``transform``: the last hidden layer's activations, as a transformer gives them.

The activations are checked against a forward pass written out here (not the
package's), and against the output logits: ``predict`` is the output layer
applied to ``transform``'s result, so both come from one forward pass.
"""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from scipy import sparse
from scipy.special import expit
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from test_array_api import host, namespaces, on, to_namespace

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor

ACTIVATIONS = {
    "identity": lambda Z: Z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda Z: np.maximum(Z, 0),
}


def fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def hidden_by_hand(est, X):
    """The last hidden layer's activations, written out."""
    A = np.asarray(X, dtype=np.float64)
    for W, b in zip(est.coefs_[:-1], est.intercepts_[:-1]):
        A = ACTIVATIONS[est.activation](A @ W + b)
    return A


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [(6,), (7, 4)])
@pytest.mark.parametrize("Estimator", [CGMLPClassifier, CGMLPRegressor])
def test_transform_is_the_last_hidden_layer(iris, Estimator, activation, hidden):
    X, y = iris
    est = fit_quietly(
        Estimator(hidden, activation=activation, max_iter=15, random_state=0), X, y
    )
    H = est.transform(X)
    assert H.shape == (X.shape[0], hidden[-1])
    np.testing.assert_allclose(H, hidden_by_hand(est, X), rtol=1e-12, atol=1e-14)
    # The output layer applied to the features gives predict's logits.
    Z = H @ est.coefs_[-1] + est.intercepts_[-1]
    if Estimator is CGMLPClassifier:
        np.testing.assert_array_equal(est.predict(X), est.classes_[Z.argmax(axis=1)])
    else:
        np.testing.assert_allclose(est.predict(X), Z[:, 0], rtol=1e-12)


def test_transform_keeps_float32_and_promotes_like_predict(iris):
    X, y = iris
    est = fit_quietly(CGMLPClassifier((5,), max_iter=10, random_state=0), X, y)
    assert est.transform(X.astype(np.float32)).dtype == np.float64
    est32 = fit_quietly(clone(est), X.astype(np.float32), y)
    H32 = est32.transform(X.astype(np.float32))
    assert H32.dtype == np.float32
    assert est32.transform(X).dtype == np.float64  # float64 X, as predict
    np.testing.assert_allclose(H32, hidden_by_hand(est32, X), rtol=1e-5, atol=1e-6)
    assert get_tags(est).transformer_tags.preserves_dtype == ["float64", "float32"]


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_transform_of_sparse_input_is_that_of_dense_input(iris, fmt):
    X, y = iris
    est = fit_quietly(CGMLPRegressor((4,), max_iter=10, random_state=0), X, y)
    H = est.transform(sparse.csr_matrix(X).asformat(fmt))
    assert isinstance(H, np.ndarray)
    np.testing.assert_allclose(H, est.transform(X), rtol=1e-12)


@pytest.mark.parametrize("Estimator", [CGMLPClassifier, CGMLPRegressor])
def test_feature_names_out_are_prefixed_with_the_class_name(iris, Estimator):
    X, y = iris
    est = Estimator((8, 3), max_iter=5, random_state=0)
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()
    with pytest.raises(NotFittedError):
        est.transform(X)
    fit_quietly(est, X, y)
    prefix = Estimator.__name__.lower()
    assert list(est.get_feature_names_out()) == [f"{prefix}{i}" for i in range(3)]
    with pytest.raises(ValueError, match="features"):
        est.transform(X[:, :3])


@pytest.mark.parametrize("Estimator", [CGMLPClassifier, CGMLPRegressor])
def test_set_output_pandas_and_the_estimator_type(iris, Estimator):
    pd = pytest.importorskip("pandas")
    X, y = iris
    frame = pd.DataFrame(X, columns=list("abcd"), index=np.arange(150) + 1000)
    est = Estimator((5,), max_iter=5, random_state=0).set_output(transform="pandas")
    assert is_classifier(est) == (Estimator is CGMLPClassifier)
    assert is_regressor(est) == (Estimator is CGMLPRegressor)
    H = fit_quietly(est, frame, y).transform(frame)
    assert isinstance(H, pd.DataFrame)
    assert list(H.columns) == list(est.get_feature_names_out())
    assert list(H.index) == list(frame.index)
    np.testing.assert_allclose(H.to_numpy(), hidden_by_hand(est, X), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        H2 = clone(est).fit_transform(frame, y)
    assert isinstance(H2, pd.DataFrame)
    pd.testing.assert_frame_equal(H2, H)
    # Predictions stay arrays: set_output is about transform only.
    assert isinstance(est.predict(frame), np.ndarray)
    with sklearn.config_context(transform_output="pandas"):
        H3 = est.set_output(transform="default").transform(frame)
        assert isinstance(H3, np.ndarray)


def test_fit_transform_is_fit_then_transform(iris):
    X, y = iris
    est = CGMLPClassifier((6,), max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        H = est.fit_transform(X, y)
    np.testing.assert_array_equal(H, est.transform(X))
    np.testing.assert_array_equal(
        H, fit_quietly(clone(est), X, y).transform(X)
    )  # deterministic with random_state


def test_hidden_features_feed_a_second_model_in_a_pipeline(iris):
    pd = pytest.importorskip("pandas")
    X, y = iris
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("mlp", CGMLPClassifier((6,), max_iter=30, random_state=0)),
            ("logreg", LogisticRegression()),
        ]
    ).set_output(transform="pandas")
    fit_quietly(pipe, X, y)
    mlp = pipe.named_steps["mlp"]
    features = pipe[:-1].transform(X)
    assert list(features.columns) == [f"cgmlpclassifier{i}" for i in range(6)]
    np.testing.assert_allclose(
        pipe.named_steps["logreg"].coef_.shape, (3, 6)
    )  # the second model saw the hidden features
    assert list(pipe.named_steps["logreg"].feature_names_in_) == list(
        mlp.get_feature_names_out()
    )
    assert pipe.get_feature_names_out is not None
    assert pd.api.types.is_float_dtype(features.dtypes.iloc[0])


def test_transform_survives_pickle(iris):
    X, y = iris
    est = fit_quietly(CGMLPRegressor((4,), max_iter=5, random_state=0), X, y)
    loaded = pickle.loads(pickle.dumps(est.set_output(transform="pandas")))
    pytest.importorskip("pandas")
    np.testing.assert_array_equal(loaded.transform(X).to_numpy(), est.transform(X))


def test_transform_on_dask_is_lazy_and_equal(dask_client, iris):
    da = pytest.importorskip("dask.array")
    X, y = iris
    est = fit_quietly(CGMLPClassifier((7, 4), max_iter=10, random_state=0), X, y)
    X_dask = da.from_array(X, chunks=(40, 4))
    H = est.transform(X_dask)
    assert isinstance(H, da.Array)
    assert H.shape == (150, 4)
    np.testing.assert_allclose(H.compute(), est.transform(X), rtol=1e-12)
    on_dask = fit_quietly(clone(est), X_dask, da.from_array(y, chunks=40))
    np.testing.assert_allclose(
        on_dask.transform(X_dask).compute(), hidden_by_hand(on_dask, X), rtol=1e-10
    )
    X_nan = X.copy()
    X_nan[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.transform(da.from_array(X_nan, chunks=(40, 4))).compute()


@pytest.mark.parametrize("xp, device, dtype", namespaces())
def test_transform_output_of_an_array_api_fit_is_in_its_namespace(
    iris, xp, device, dtype, array_api_dispatch
):
    X, y = iris
    X_xp = to_namespace(xp, device, X, dtype)
    with sklearn.config_context(array_api_dispatch=True):
        est = fit_quietly(
            CGMLPRegressor((5,), max_iter=10, random_state=0),
            X_xp,
            to_namespace(xp, device, y, dtype),
        )
        H = est.transform(X_xp)
    assert on(H, xp, device)
    assert str(H.dtype).endswith(dtype)
    host_model = clone(est)
    host_model.__dict__.update(
        {k: v for k, v in vars(est).items() if k.endswith("_")},
        coefs_=[host(c) for c in est.coefs_],
        intercepts_=[host(b) for b in est.intercepts_],
    )
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(
        host(H), hidden_by_hand(host_model, X), rtol=rtol, atol=rtol
    )
