"""Backend parity: the input validation of the in-memory estimators, run on
Dask arrays and DataFrames and on array API inputs (array-api-strict, and
PyTorch's CPU tensors where installed).

Each case runs on NumPy (or pandas) first, for the reference, then on the
other backend: ``fit``, ``predict``, ``predict_proba`` and ``score`` must raise
the same exception type with the same message (scikit-learn's wording of the
installed version), warn the same way, or return the same dtype and values.
The few differences are documented (docs/dask.rst, docs/gpu.rst) and asserted
here as documented: ``DIFFERENCES`` below.
"""

import contextlib
import logging
import re
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor

ESTIMATORS = {"classifier": CGMLPClassifier, "regressor": CGMLPRegressor}
NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _dispatch_available():
    try:
        with sklearn.config_context(array_api_dispatch=True):
            pass
    except (ImportError, RuntimeError):
        return False
    return True


# ------------------------------------------------------------ the backends
class NumPyBackend:
    """The reference: NumPy arrays (pandas frames with ``frame=True``)."""

    name = "numpy"
    lazy = False

    def __init__(self, frame=False):
        self.frame = frame

    def context(self):
        return contextlib.nullcontext()

    def X(self, A):
        if self.frame and A.ndim == 2 and A.dtype.kind != "c":
            import pandas as pd

            return pd.DataFrame(A, columns=NAMES[: A.shape[1]])
        return A

    def rows(self, a):
        return a

    def host(self, a):
        return np.asarray(a)


class DaskBackend(NumPyBackend):
    name = "dask"
    lazy = True

    def X(self, A):
        import dask.array as da

        if self.frame:
            import dask.dataframe as dd

            return dd.from_pandas(NumPyBackend(frame=True).X(A), npartitions=2)
        rows = max(A.shape[0] // 2, 1) if A.ndim else 1
        return da.from_array(A, chunks=(rows, *A.shape[1:]) if A.ndim else ())

    def rows(self, a):
        if a is None:
            return None
        import dask.array as da

        a = np.asarray(a)
        return da.from_array(a, chunks=(max(a.shape[0] // 2, 1), *a.shape[1:]))

    def host(self, a):
        return np.asarray(a.compute() if hasattr(a, "compute") else a)


class ArrayAPIBackend(NumPyBackend):
    lazy = False

    def __init__(self, module):
        super().__init__()
        self.module = module
        self.name = module

    @property
    def xp(self):
        return pytest.importorskip(self.module)

    def context(self):
        return sklearn.config_context(array_api_dispatch=True)

    def _to(self, a):
        if a is None:
            return None
        a = np.asarray(a)
        if a.dtype.kind in "OSU":
            pytest.skip(f"{self.module} holds no strings")
        if self.module == "torch":
            return self.xp.asarray(a)
        return self.xp.asarray(a, device=self.xp.Device("CPU_DEVICE"))

    def X(self, A):
        return self._to(A)

    def rows(self, a):
        return self._to(a)

    def host(self, a):
        from sklearn_cgmlp._ops import to_host

        return np.asarray(to_host(a))


def _backends():
    params = [
        pytest.param(DaskBackend(), id="dask-array"),
        pytest.param(DaskBackend(frame=True), id="dask-frame"),
    ]
    if _dispatch_available():
        params += [
            pytest.param(ArrayAPIBackend("array_api_strict"), id="array-api-strict"),
            pytest.param(ArrayAPIBackend("torch"), id="torch"),
        ]
    return params


BACKENDS = _backends()


@pytest.fixture
def backend(request):
    """The backend under test; Dask backends get the session's cluster."""
    backend = request.param
    if isinstance(backend, DaskBackend):
        pytest.importorskip("distributed")
        if backend.frame:
            pytest.importorskip("dask.dataframe")
        request.getfixturevalue("dask_client")
    return backend


def data(kind, n=60):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:: 150 // n][:n]
    y = y[:: 150 // n][:n]
    if kind == "regressor":
        y = X @ np.array([1.0, -0.5, 0.25, 2.0])
    return X, y.astype(float) if kind == "regressor" else y


def _with(A, index, value):
    A = np.array(A, dtype=float)
    A[index] = value
    return A


def normalized(backend, message):
    """``message`` with the dtypes of an array API namespace written as
    NumPy's: scikit-learn's own checks name the dtype of the input's
    namespace (documented in docs/gpu.rst)."""
    if isinstance(backend, ArrayAPIBackend) and isinstance(message, str):
        return re.sub(
            r"\b(?:array_api_strict|torch)\.((?:float|int|uint|complex)\d+|bool)\b",
            r"dtype('\1')",
            message,
        )
    return message


def outcome(func):
    """``(exception type, message)`` of ``func()``, or ``(None, result)``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return None, func()
    except Exception as exc:  # noqa: BLE001 - compared below
        return type(exc), str(exc)


# --------------------------------------------------------- fit-time cases
# name -> (kinds, builder(X, y) -> (X, y, sample_weight), backends it applies to)
ALL = ("dask-array", "dask-frame", "array_api_strict", "torch")
ARRAYS = ("dask-array", "array_api_strict", "torch")
FIT_CASES = {
    "nan in X": (lambda X, y: (_with(X, (3, 1), np.nan), y, None), ALL),
    "inf in X": (lambda X, y: (_with(X, (40, 0), np.inf), y, None), ALL),
    "nan in y": (lambda X, y: (X, _with(y, 5, np.nan), None), ALL),
    "inf in y": (lambda X, y: (X, _with(y, 45, -np.inf), None), ALL),
    "length mismatch": (lambda X, y: (X[:-1], y, None), ALL),
    "0 samples": (lambda X, y: (X[:0], y[:0], None), ARRAYS),
    "1-D X": (lambda X, y: (X[:, 0], y, None), ARRAYS),
    "3-D X": (lambda X, y: (X[:, :, None], y, None), ARRAYS),
    "complex X": (lambda X, y: (X + 1j, y, None), ("dask-array", "array_api_strict")),
    "text in X": (
        lambda X, y: (np.full(X.shape, "a", dtype=object), y, None),
        ("dask-array", "dask-frame"),
    ),
    "integer X": (lambda X, y: (np.round(X * 3).astype(np.int64), y, None), ALL),
    "negative weight": (lambda X, y: (X, y, _with(np.ones(len(y)), 3, -1.0)), ALL),
    "nan weight": (lambda X, y: (X, y, _with(np.ones(len(y)), 33, np.nan)), ALL),
    "inf weight": (lambda X, y: (X, y, _with(np.ones(len(y)), 3, np.inf)), ALL),
    "all-zero weights": (lambda X, y: (X, y, np.zeros(len(y))), ALL),
    "wrong-length weights": (lambda X, y: (X, y, np.ones(len(y) - 1)), ALL),
    "huge targets": (lambda X, y: (X, y * 1e155, None), ALL),
}

# Documented differences (docs/dask.rst): (backend, case) -> what Dask says
# instead, a regular expression that the in-memory message must match too.
DIFFERENCES = {
    # scikit-learn prints the data; a Dask array is not printed.
    ("dask-array", "1-D X"): r"^Expected 2D array, got 1D array instead",
    ("dask-array", "complex X"): r"^Complex data not supported",
    # scikit-learn prints the data, as its namespace prints it (docs/gpu.rst).
    ("array_api_strict", "1-D X"): r"^Expected 2D array, got 1D array instead",
    ("array_api_strict", "complex X"): r"^Complex data not supported",
    ("torch", "1-D X"): r"^Expected 2D array, got 1D array instead",
    ("torch", "0 samples"): r"^Found array with 0 sample\(s\) \(shape=",
}


def _fit_outcome(backend, kind, case, cases=FIT_CASES, **params):
    build, _ = cases[case]
    X, y, sw = build(*data(kind))
    est = ESTIMATORS[kind](hidden_layer_sizes=(3,), max_iter=3, random_state=0,
                           **params)  # fmt: skip
    with backend.context():
        result = outcome(
            lambda: est.fit(
                backend.X(X), backend.rows(y), sample_weight=backend.rows(sw)
            )
        )
    return result, est


@pytest.mark.parametrize("case", FIT_CASES)
@pytest.mark.parametrize("kind", ESTIMATORS)
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_fit_validates_as_in_memory(backend, kind, case):
    key = (
        ("dask-frame" if backend.frame else "dask-array")
        if isinstance(backend, DaskBackend)
        else backend.name
    )
    if key not in FIT_CASES[case][1]:
        pytest.skip(f"{key} cannot hold this input")
    if case == "huge targets" and kind == "classifier":
        pytest.skip("regression targets")
    (expected_type, expected), reference = _fit_outcome(
        NumPyBackend(frame=key == "dask-frame"), kind, case
    )
    (got_type, got), est = _fit_outcome(backend, kind, case)
    if expected_type is None:  # the fit succeeds in memory: it does here
        assert got_type is None, got
        coefs = backend.host(est.coefs_[0])
        assert coefs.dtype == reference.coefs_[0].dtype
        np.testing.assert_allclose(coefs, reference.coefs_[0], rtol=1e-5, atol=1e-6)
        return
    assert got_type is expected_type, (got_type, got, expected)
    if (key, case) in DIFFERENCES:
        pattern = DIFFERENCES[key, case]
        assert re.match(pattern, expected), expected
        assert re.match(pattern, got), got
    else:
        assert normalized(backend, got) == expected
    assert not hasattr(est, "coefs_")  # nothing half-fitted


# Each regression loss: its targets' domain checked, and its fit, as in memory.
# (loss, case) -> builder(X, y) -> (X, y, sample_weight)
LOSS_CASES = {
    ("huber", "fits"): lambda X, y: (X, y, None),
    ("huber", "fits an outlier"): lambda X, y: (X, _with(y, 3, 1e6), None),
    ("gamma", "fits"): lambda X, y: (X, np.exp(y / 4), None),
    ("gamma", "a zero target"): lambda X, y: (X, _with(np.exp(y / 4), 7, 0.0), None),
    ("gamma", "negative targets"): lambda X, y: (X, y, None),
    ("poisson", "negative targets"): lambda X, y: (X, y, None),
}


@pytest.mark.parametrize("loss, case", LOSS_CASES)
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_regression_losses_fit_and_check_targets_as_in_memory(backend, loss, case):
    cases = {case: (LOSS_CASES[loss, case], ALL)}
    frame = isinstance(backend, DaskBackend) and backend.frame
    params = dict(loss=loss, epsilon=0.5)
    (expected_type, expected), reference = _fit_outcome(
        NumPyBackend(frame=frame), "regressor", case, cases, **params
    )
    (got_type, got), est = _fit_outcome(backend, "regressor", case, cases, **params)
    assert (expected_type is None) == case.startswith("fits"), expected
    assert got_type is expected_type, (got_type, got, expected)
    if expected_type is None:
        np.testing.assert_allclose(
            backend.host(est.coefs_[0]), reference.coefs_[0], rtol=1e-5, atol=1e-6
        )
        assert est.out_activation_ == reference.out_activation_
    else:
        assert normalized(backend, got) == expected
        assert not hasattr(est, "coefs_")


# ------------------------------------------------------ every activation
@pytest.mark.parametrize(
    "activation", ["softplus", "elu", "leaky_relu", "gelu", "silu", ("gelu", "tanh")]
)
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_every_activation_fits_and_predicts_as_in_memory(backend, activation):
    """The activations scikit-learn lacks, and one per hidden layer, fit and
    predict on every backend as in memory."""
    X, y = data("classifier")
    params = dict(hidden_layer_sizes=(4, 3), activation=activation, max_iter=8,
                  random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = CGMLPClassifier(**params).fit(X, y)
        with backend.context():
            est = CGMLPClassifier(**params).fit(backend.X(X), backend.rows(y))
            proba = backend.host(est.predict_proba(backend.X(X)))
    assert est.activation == activation  # kept as given
    for got, expected in zip(est.coefs_, reference.coefs_):
        np.testing.assert_allclose(backend.host(got), expected, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(proba, reference.predict_proba(X), rtol=1e-6, atol=1e-9)


# ----------------------------------------------------- prediction-time cases
def _fitted(frame):
    models = {}
    for kind, Estimator in ESTIMATORS.items():
        X, y = data(kind)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            models[kind] = Estimator(
                hidden_layer_sizes=(3,), max_iter=20, random_state=0
            ).fit(NumPyBackend(frame=frame).X(X.astype(np.float32)), y)
    return models


@pytest.fixture(scope="module")
def fitted():
    """A float32 model of each kind, fitted in memory (the model of every
    backend is the same: it is moved there)."""
    return _fitted(frame=False)


@pytest.fixture(scope="module")
def fitted_frames():
    """The same, fitted on pandas frames (it records feature names)."""
    pytest.importorskip("pandas")
    return _fitted(frame=True)


def _on(backend, model):
    """``model`` where ``backend``'s data are (array API: the same weights
    moved to the device)."""
    import pickle

    model = pickle.loads(pickle.dumps(model))
    if isinstance(backend, ArrayAPIBackend):
        with backend.context():
            model.coefs_ = [backend.X(c) for c in model.coefs_]
            model.intercepts_ = [backend.X(b) for b in model.intercepts_]
            if hasattr(model, "classes_"):
                model.classes_ = backend.X(model.classes_)
    return model


def _methods(kind):
    return ["predict", "score"] + (
        ["predict_proba", "predict_log_proba"] if kind == "classifier" else []
    )


def _call(backend, model, method, X, y):
    def run():
        args = (backend.rows(y),) if method == "score" else ()
        result = getattr(model, method)(backend.X(X), *args)
        if method != "score":
            result = backend.host(result)  # computes a lazy result
        return result

    with backend.context():
        return outcome(run)


PREDICT_CASES = {
    "nan in X": lambda X: _with(X, (33, 2), np.nan),
    "inf in X": lambda X: _with(X, (2, 0), np.inf),
    "wrong number of features": lambda X: X[:, :3],
}


@pytest.mark.parametrize("case", PREDICT_CASES)
@pytest.mark.parametrize("kind", ESTIMATORS)
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_prediction_validates_as_in_memory(backend, request, kind, case):
    X, y = data(kind)
    X_bad = PREDICT_CASES[case](X)
    frame = getattr(backend, "frame", False)
    if frame and X_bad.shape[1] < 4:
        pytest.skip("fewer columns in a frame is a feature-name mismatch")
    reference = request.getfixturevalue("fitted_frames" if frame else "fitted")[kind]
    model = _on(backend, reference)
    for method in _methods(kind):
        expected_type, expected = _call(
            NumPyBackend(frame=getattr(backend, "frame", False)),
            reference, method, X_bad, y,
        )  # fmt: skip
        assert expected_type is ValueError
        got_type, got = _call(backend, model, method, X_bad, y)
        assert got_type is expected_type, (method, got)
        assert normalized(backend, got) == expected, method


SCORE_CASES = {
    "nan in y": lambda y, sw: (_with(y, 7, np.nan), sw),
    "inf in y": lambda y, sw: (_with(y, 37, np.inf), sw),
    "nan weight": lambda y, sw: (y, _with(sw, 7, np.nan)),
    "inf weight": lambda y, sw: (y, _with(sw, 37, np.inf)),
    "short y": lambda y, sw: (y[:-1], None),
    "short weights": lambda y, sw: (y, sw[:-1]),
}


# scikit-learn's type_of_target casts NaN labels to integers (and NumPy warns)
# before accuracy_score refuses them, in memory as on every backend.
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("case", SCORE_CASES)
@pytest.mark.parametrize("kind", ESTIMATORS)
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_score_validates_targets_and_weights_as_in_memory(backend, fitted, kind, case):
    if getattr(backend, "frame", False):
        pytest.skip("frames: see the array backends")
    X, y = data(kind)
    y_bad, sw = SCORE_CASES[case](y, np.ones(len(y)))
    reference = fitted[kind]
    model = _on(backend, reference)

    def score(backend, model):
        with backend.context():
            return outcome(
                lambda: model.score(
                    backend.X(X), backend.rows(y_bad), sample_weight=backend.rows(sw)
                )
            )

    expected_type, expected = score(NumPyBackend(), reference)
    if expected_type is not ValueError:  # scikit-learn 1.6 with bad weights
        pytest.skip(
            f"scikit-learn {sklearn.__version__} scores non-finite weights "
            f"without a ValueError: {expected!r}"
        )
    got_type, got = score(backend, model)
    assert got_type is expected_type, got
    assert normalized(backend, got) == expected


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_dask_predictions_check_finiteness_when_computed(dask_client, fitted, method):
    """Documented: a lazy prediction raises when computed, not when made
    (checking at once would read X twice); score computes at once."""
    da = pytest.importorskip("dask.array")
    X, y = data("classifier")
    X_bad = da.from_array(_with(X, (50, 1), np.nan), chunks=30)
    lazy = getattr(fitted["classifier"], method)(X_bad)
    first_block = lazy.blocks[0].compute()  # the block without NaN is fine
    assert first_block.shape[0] == 30
    with pytest.raises(ValueError, match=r"^Input X contains NaN\.\nCGMLPClassifier"):
        lazy.compute()
    with pytest.raises(ValueError, match=r"^Input X contains NaN\."):
        fitted["classifier"].score(X_bad, da.from_array(y, chunks=30))


@pytest.mark.parametrize("kind", ESTIMATORS)
@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_prediction_inputs_are_cast_as_in_memory(backend, fitted, kind):
    """A float32 model predicts float64, float16, integer and boolean inputs
    as NumPy does: the same dtype out, the same values."""
    if isinstance(backend, DaskBackend) and backend.frame:
        pytest.skip("frames: see the array backends")
    X, y = data(kind)
    reference = fitted[kind]
    model = _on(backend, reference)
    for dtype in (np.float64, np.float16, np.int64, np.bool_):
        if backend.name == "array_api_strict" and dtype == np.float16:
            continue  # array-api-strict has no float16
        X_typed = np.round(X * 2).astype(dtype)
        for method in _methods(kind):
            expected_type, expected = _call(
                NumPyBackend(), reference, method, X_typed, y
            )
            got_type, got = _call(backend, model, method, X_typed, y)
            assert got_type is expected_type is None, (dtype, method, got)
            if method == "score":
                assert got == pytest.approx(expected, abs=1e-6)
                continue
            assert got.dtype == expected.dtype, (dtype, method)
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------- feature names
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_dask_frames_record_and_check_feature_names_as_pandas(dask_client, kind):
    # A Dask DataFrame recorded no feature_names_in_, and predicting on the
    # same frame with its columns reordered silently changed predictions.
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y = data(kind)
    frame = pd.DataFrame(X, columns=NAMES)
    dask_frame = dd.from_pandas(frame, npartitions=2)
    params = dict(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        on_pandas = ESTIMATORS[kind](**params).fit(frame, y)
        on_dask = ESTIMATORS[kind](**params).fit(dask_frame, DaskBackend().rows(y))
    np.testing.assert_array_equal(
        on_dask.feature_names_in_, on_pandas.feature_names_in_
    )
    assert on_dask.n_features_in_ == 4
    reordered = NAMES[::-1]
    with pytest.raises(ValueError) as in_memory:
        on_pandas.predict(frame[reordered])
    for method in _methods(kind):
        args = (DaskBackend().rows(y),) if method == "score" else ()
        with pytest.raises(ValueError) as on_cluster:
            getattr(on_dask, method)(dask_frame[reordered], *args)
        assert str(on_cluster.value) == str(in_memory.value)
        assert "Feature names must be in the same order" in str(on_cluster.value)
    # Arrays to a model fitted with names, frames to one fitted without: the
    # same UserWarning as in memory.
    unnamed = ESTIMATORS[kind](**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        unnamed.fit(DaskBackend().X(X), DaskBackend().rows(y))
    for model, inputs, match in (
        (on_dask, DaskBackend().X(X), "X does not have valid feature names"),
        (unnamed, dask_frame, "X has feature names, but"),
    ):
        with pytest.warns(UserWarning, match=match):
            model.predict(inputs)
    # Names refitted on a warm start must be the same ones.
    warm = on_dask.set_params(warm_start=True)
    with pytest.raises(ValueError) as on_cluster, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(dask_frame[reordered], DaskBackend().rows(y))
    assert "Feature names must be in the same order" in str(on_cluster.value)


# --------------------------------------------------- tensors that need grad
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_torch_tensors_that_require_grad_fit_and_predict_as_numpy(kind):
    if not _dispatch_available():
        pytest.skip("no array API dispatch")
    torch = pytest.importorskip("torch")
    X, y = data(kind)
    X_t = torch.asarray(X).requires_grad_(True)
    y_t = torch.asarray(y)
    if y_t.is_floating_point():
        y_t.requires_grad_(True)
    params = dict(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = ESTIMATORS[kind](**params).fit(X, y)
        with sklearn.config_context(array_api_dispatch=True):
            est = ESTIMATORS[kind](**params).fit(X_t, y_t)
    with sklearn.config_context(array_api_dispatch=True):
        for method in _methods(kind):
            args = (y_t,) if method == "score" else ()
            got = getattr(est, method)(X_t, *args)
            expected = getattr(reference, method)(X, *((y,) if args else ()))
            if method == "score":
                # scikit-learn's metrics on tensors accumulate in float32
                # (measured: 1.6e-8 apart).
                assert got == pytest.approx(expected, rel=1e-7)
                continue
            assert got.grad_fn is None and not got.requires_grad
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-12)
    assert all(c.grad_fn is None and not c.requires_grad for c in est.coefs_)


# ------------------------------------------------------ sample-weight words
@pytest.mark.parametrize(
    "weights", [[0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.0, 1.0], [1.0, np.inf, 1.0, 1.0]]
)
def test_dask_weight_errors_are_the_installed_scikit_learns(dask_client, weights):
    """The Dask checks run scikit-learn's own ``_check_sample_weight`` on a
    stand-in, so their words follow the installed version (scikit-learn 1.6
    words all-zero weights differently from 1.7)."""
    from sklearn.utils.validation import _check_sample_weight

    from sklearn_cgmlp._dask import targets as dask_targets

    weights = np.array(weights)
    try:
        _check_sample_weight(weights, np.empty((4, 0)), ensure_non_negative=True)
        own = None
    except ValueError as exc:
        own = str(exc)
    X = DaskBackend().rows(np.zeros((4, 1)))
    with pytest.raises(ValueError) as error:
        dask_targets.check_sample_weight(DaskBackend().rows(weights), X, np.float64)
    if own is not None:  # scikit-learn refuses them: in its words
        assert str(error.value) == own


# -------------------------------------------------------- Dask graph hygiene
@pytest.fixture(scope="module")
def logging_cluster():
    """A two-worker LocalCluster whose scheduler and workers log warnings
    (the session's cluster silences them)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        silence_logs=logging.WARNING, dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
    )  # fmt: skip
    with distributed.Client(cluster, set_as_default=False) as client:
        yield client
    cluster.close()


def _warnings_logged(client):
    """Warnings and errors the scheduler and the workers logged, less the
    load reports of a busy test machine (they are about time, not graphs)."""
    logs = list(client.get_scheduler_logs())
    for worker_logs in client.get_worker_logs().values():
        logs += list(worker_logs)
    return [
        message
        for level, message in logs
        if level in ("WARNING", "ERROR", "CRITICAL")
        and "Event loop was unresponsive" not in message
    ]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fits_on_a_cluster_log_no_warnings(logging_cluster):
    # Every fit of the regressor logged "Detected different run_spec for key
    # ('_cast_quietly-...')": the targets' cast was computed once inside the
    # reductions that check them and again when persisted, and task fusion
    # gave the key a different task in each graph.
    da = pytest.importorskip("dask.array")
    client = logging_cluster
    assert _warnings_logged(client) == []
    rng = np.random.RandomState(0)
    X = rng.randn(200, 4)
    chunks = (50, 4)

    def arrays(dtype=np.float64):
        return da.from_array(X.astype(dtype), chunks=chunks)

    y_reg = X @ rng.randn(4)
    y_clf = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)
    sw = rng.uniform(0.5, 2.0, 200)
    with client.as_current():
        for _ in range(2):  # a refit on the same data reuses the keys
            for dtype in (np.float64, np.float32):
                reg = CGMLPRegressor(hidden_layer_sizes=(3,), max_iter=3,
                                     random_state=0)  # fmt: skip
                reg.fit(arrays(dtype), da.from_array(y_reg, chunks=50),
                        sample_weight=da.from_array(sw, chunks=50))  # fmt: skip
                reg.predict(arrays(dtype)).compute()
                reg.score(arrays(dtype), da.from_array(y_reg, chunks=50))
                clf = CGMLPClassifier(hidden_layer_sizes=(3,), max_iter=3,
                                      class_weight="balanced", early_stopping=True,
                                      random_state=0)  # fmt: skip
                clf.fit(arrays(dtype), da.from_array(y_clf, chunks=50),
                        sample_weight=da.from_array(sw, chunks=50))  # fmt: skip
                clf.predict_proba(arrays(dtype)).compute()
                clf.score(arrays(dtype), da.from_array(y_clf, chunks=50))
            CGMLPRegressor(hidden_layer_sizes=(3,), max_iter=3, early_stopping=True,
                           random_state=0).fit(
                arrays(), da.from_array(y_reg, chunks=50)
            )  # fmt: skip
    assert _warnings_logged(client) == []
