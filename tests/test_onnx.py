"""ONNX export (sklearn_cgmlp.onnx): onnxruntime must give what we give.

Labels must equal ``predict``'s; probabilities and predictions must equal ours
to 1e-5 in float32 graphs and 1e-9 in float64 graphs, on held-out rows that
include extreme logits (beyond the logistic clipping bound), where ours are
finite and the graph's must be too. Skipped without the ``onnx`` extra.
"""

import copy
import functools
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import sklearn
from scipy.special import expit, ndtr
from sklearn.compose import ColumnTransformer
from sklearn.datasets import (
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

pytest.importorskip("onnx")
pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

import skl2onnx  # noqa: E402
from onnx import TensorProto  # noqa: E402
from skl2onnx import to_onnx  # noqa: E402

import sklearn_cgmlp.onnx as cgmlp_onnx  # noqa: E402
from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor  # noqa: E402
from sklearn_cgmlp._activations import ACTIVATIONS as _ACTIVATION_TABLE  # noqa: E402
from sklearn_cgmlp._outputs import logistic_logit_bound  # noqa: E402

# Every activation of the table, and one per hidden layer (two hidden layers).
ACTIVATIONS = [*_ACTIVATION_TABLE, ("gelu", "softplus"), ("silu", "leaky_relu")]
DTYPES = [np.float32, np.float64]
# Tolerance by the dtype of the graph's input and outputs.
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-9}
N_TRAIN, N_FEATURES = 120, 5


# --------------------------------------------------------------------- helpers
def quiet_fit(model, X, y):
    """Fit a deliberately short training (ConvergenceWarning expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def session(graph):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(
        graph.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def run(model, X, **convert):
    """Convert ``model`` for inputs like ``X`` and run the graph on ``X``."""
    graph = to_onnx(model, X[:1], **convert)
    sess = session(graph)
    return sess.run(None, {sess.get_inputs()[0].name: X}), graph


def logits(model, X):
    """Output logits of a fitted NumPy model, computed here independently."""
    A = np.asarray(X, dtype=np.result_type(X.dtype, model.coefs_[0].dtype))
    functions = {
        "identity": lambda z: z,
        "logistic": lambda z: 0.5 * (1 + np.tanh(z / 2)),
        "tanh": np.tanh,
        "relu": lambda z: np.maximum(z, 0),
        "softplus": lambda z: np.logaddexp(0, z),
        "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
        "gelu": lambda z: z * ndtr(z),
        "silu": lambda z: z * expit(z),
    }
    activation = model.activation
    if isinstance(activation, str):
        activation = [activation] * (len(model.coefs_) - 1)
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        A = A @ W + b
        if i < len(model.coefs_) - 1:
            A = functions[activation[i]](A)
    return A


def assert_close(actual, desired, dtype):
    """Equal to the tolerance of ``dtype``, finite wherever ``desired`` is."""
    desired = np.asarray(desired)
    actual = np.asarray(actual).reshape(desired.shape)
    finite = np.isfinite(desired)
    assert np.isfinite(actual[finite]).all(), "NaN or inf where ours is finite"
    tol = TOLERANCE[dtype]
    # Rounding errors scale with the largest output, not with each entry: an
    # entry near zero is a difference of terms as large as the largest ones.
    scale = max(1.0, float(np.abs(desired[finite]).max(initial=0.0)))
    np.testing.assert_allclose(
        actual[finite], desired[finite], rtol=tol, atol=tol * scale
    )


def assert_same_labels(actual, desired):
    assert actual.shape == desired.shape
    np.testing.assert_array_equal(actual, desired)


def held_out(X, seed):
    """Rows the model was not fitted on, from typical to far away: far rows
    give extreme logits for identity and relu units, and saturate logistic and
    tanh ones."""
    rng = np.random.RandomState(seed)
    rows = rng.normal(size=(60, X.shape[1]))
    return np.vstack([rows, 30 * rows[:20], 3000 * rows[:10]])


# ------------------------------------------------------------- fitted models
@functools.cache
def classification(kind, labels):
    if kind == "multilabel":
        X, Y = make_multilabel_classification(
            n_samples=N_TRAIN, n_features=N_FEATURES, n_classes=3, random_state=0
        )
        return StandardScaler().fit_transform(X), Y
    n_classes = 2 if kind == "binary" else 3
    X, y = make_classification(
        n_samples=N_TRAIN,
        n_features=N_FEATURES,
        n_informative=3,
        n_classes=n_classes,
        random_state=0,
    )
    names = {
        "int": np.array([-7, 3, 12]),
        "str": np.array(["cat", "dog", "emu"]),
    }[labels]
    return X, names[y]


@functools.cache
def fitted_classifier(kind, labels, activation, dtype):
    X, y = classification(kind, labels)
    clf = CGMLPClassifier(
        hidden_layer_sizes=(6, 4), activation=activation, max_iter=60, random_state=0
    )
    return quiet_fit(clf, X.astype(dtype), y)


@functools.cache
def fitted_regressor(loss, n_outputs, activation, dtype):
    X, y, w = make_regression(
        n_samples=N_TRAIN,
        n_features=N_FEATURES,
        n_targets=n_outputs,
        coef=True,
        random_state=0,
    )
    if loss in ("poisson", "gamma"):
        rng = np.random.RandomState(0)
        mu = np.exp(np.clip(X @ w / np.abs(w).sum(0), -3, 3))
        y = rng.poisson(mu) if loss == "poisson" else rng.gamma(2.0, mu / 2)
    elif loss == "huber":
        y = y / np.std(y)
    reg = CGMLPRegressor(
        hidden_layer_sizes=(6, 4),
        activation=activation,
        loss=loss,
        max_iter=60,
        random_state=0,
    )
    return quiet_fit(reg, X.astype(dtype), y)


# ---------------------------------------------------------------- registration
def test_registration_makes_both_estimators_convertible():
    aliases = cgmlp_onnx.register_converters()
    assert aliases == {
        "CGMLPClassifier": "SklearnCGMLPClassifier",
        "CGMLPRegressor": "SklearnCGMLPRegressor",
    }
    assert set(aliases.values()) <= set(skl2onnx.supported_converters())
    assert set(aliases) <= set(skl2onnx.supported_converters(from_sklearn=True))


def test_core_never_imports_onnx_and_the_module_names_the_extra():
    # A fresh interpreter: the core package fits and predicts without touching
    # skl2onnx or onnx; with skl2onnx made unimportable, importing
    # sklearn_cgmlp.onnx fails with a message that names the extra.
    code = textwrap.dedent(
        """
        import sys, warnings
        import numpy as np
        import sklearn_cgmlp
        from sklearn_cgmlp import CGMLPClassifier
        warnings.simplefilter("ignore")
        X = np.random.RandomState(0).normal(size=(30, 3))
        CGMLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit(X, X[:, 0] > 0)
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in
                        ("skl2onnx", "onnx", "onnxruntime"))
        print("loaded:", loaded)
        sys.modules["skl2onnx"] = None
        try:
            import sklearn_cgmlp.onnx
        except ImportError as exc:
            print("error:", exc)
        """
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "loaded: []" in out
    assert "error:" in out
    assert "sklearn-cgmlp[onnx]" in out


# ------------------------------------------------------------------ classifier
@pytest.mark.parametrize("input_dtype", DTYPES, ids=["in32", "in64"])
@pytest.mark.parametrize("model_dtype", DTYPES, ids=["model32", "model64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(
    "kind, labels",
    [
        ("binary", "int"),
        ("binary", "str"),
        ("multiclass", "int"),
        ("multiclass", "str"),
        ("multilabel", "int"),
    ],
)
def test_classifier_matches_predict_and_predict_proba(
    kind, labels, activation, model_dtype, input_dtype
):
    clf = fitted_classifier(kind, labels, activation, model_dtype)
    assert clf.coefs_[0].dtype == model_dtype
    X = held_out(classification(kind, labels)[0], seed=1).astype(input_dtype)
    (label, proba), _ = run(clf, X, options={"zipmap": False})

    assert_same_labels(label, clf.predict(X))
    assert proba.dtype == input_dtype
    assert_close(proba, clf.predict_proba(X), input_dtype)
    if labels == "str":
        assert label.dtype == object
    else:
        assert label.dtype == np.int64


@pytest.mark.parametrize("input_dtype", DTYPES, ids=["in32", "in64"])
@pytest.mark.parametrize("model_dtype", DTYPES, ids=["model32", "model64"])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_extreme_logits_give_equal_finite_probabilities(kind, model_dtype, input_dtype):
    # Scale the output layer of a fitted model: logits of thousands, far
    # beyond the bound where expit rounds to 0 or 1 (and exp overflows).
    clf = copy.deepcopy(fitted_classifier(kind, "int", "tanh", model_dtype))
    clf.coefs_[-1] = clf.coefs_[-1] * model_dtype(1e4)
    X = held_out(classification(kind, "int")[0], seed=2).astype(input_dtype)
    Z = logits(clf, X)
    work = np.result_type(model_dtype, input_dtype)
    assert np.abs(Z).max() > 10 * logistic_logit_bound(work)

    ours = clf.predict_proba(X)
    assert np.isfinite(ours).all()
    (label, proba), _ = run(clf, X, options={"zipmap": False})
    assert_same_labels(label, clf.predict(X))
    assert_close(proba, ours, input_dtype)
    if kind != "multiclass":
        # Logistic outputs are bounded away from 0 and 1, as predict_proba's.
        eps = np.finfo(work).eps
        assert proba.min() >= np.asarray(eps, dtype=input_dtype)
        assert proba.max() <= np.asarray(1 - eps, dtype=input_dtype)
        assert (ours == ours.min()).any() and (ours == ours.max()).any()


@pytest.mark.parametrize(
    "y, expected_dtype",
    [
        (np.array([False, True]), np.int64),
        (np.array([1.0, 2.0, 4.0]), np.int64),
        (np.array([0, 200, 255], dtype=np.uint8), np.int64),
        (np.array([-(2**40), 0, 2**40]), np.int64),
        (np.array(["é", "long label", "x"], dtype=object), object),
        (np.array(["no", "yes"]), object),
    ],
    ids=["bool", "float", "uint8", "int64-large", "object-str", "binary-str"],
)
@pytest.mark.parametrize("zipmap", [False, True])
def test_labels_of_any_type(y, expected_dtype, zipmap):
    X, y_index = make_classification(
        n_samples=90,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=len(y),
        random_state=0,
    )
    clf = quiet_fit(
        CGMLPClassifier(hidden_layer_sizes=(5,), max_iter=40, random_state=0),
        X.astype(np.float32),
        y[y_index],
    )
    X_test = held_out(X, seed=3).astype(np.float32)
    (label, proba), _ = run(clf, X_test, options={"zipmap": zipmap})
    assert label.dtype == expected_dtype
    assert_same_labels(label, clf.predict(X_test))
    if zipmap:
        classes = [c.item() if hasattr(c, "item") else c for c in clf.classes_]
        keys = [int(c) if expected_dtype is np.int64 else c for c in classes]
        assert list(proba[0]) == keys
        proba = np.array([[row[k] for k in keys] for row in proba])
    assert_close(proba, clf.predict_proba(X_test), np.float32)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_zipmap_columns_and_nocl_options(kind):
    clf = fitted_classifier(
        kind, "int" if kind == "multilabel" else "str", "relu", np.float32
    )
    X = held_out(classification(kind, "int")[0], seed=4).astype(np.float32)
    ours = clf.predict_proba(X)

    outputs, graph = run(clf, X, options={"zipmap": "columns"})
    assert_same_labels(outputs[0], clf.predict(X))
    assert len(outputs) == 1 + ours.shape[1]
    assert_close(np.column_stack(outputs[1:]), ours, np.float32)

    (label, proba), _ = run(clf, X, options={"zipmap": False, "nocl": True})
    assert_close(proba, ours, np.float32)
    if kind == "multilabel":
        assert_same_labels(label, clf.predict(X))
    else:
        indices = np.searchsorted(clf.classes_, clf.predict(X))
        assert_same_labels(label, indices)


def test_zipmap_on_a_float64_graph_is_refused_clearly():
    clf = fitted_classifier("multiclass", "int", "relu", np.float64)
    with pytest.raises(RuntimeError, match="ZipMap takes float32"):
        to_onnx(clf, np.zeros((1, N_FEATURES)))


# ------------------------------------------------------------------- regressor
@pytest.mark.parametrize("input_dtype", DTYPES, ids=["in32", "in64"])
@pytest.mark.parametrize("model_dtype", DTYPES, ids=["model32", "model64"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("loss", ["squared_error", "huber", "poisson", "gamma"])
def test_regressor_matches_predict(
    loss, n_outputs, activation, model_dtype, input_dtype
):
    reg = fitted_regressor(loss, n_outputs, activation, model_dtype)
    assert reg.coefs_[0].dtype == model_dtype
    X = held_out(np.zeros((1, N_FEATURES)), seed=5).astype(input_dtype)
    if loss in ("poisson", "gamma"):
        # exp of the logits of the farthest rows overflows (of rows 30 times
        # typical ones too, through the unbounded elu, gelu, silu... units).
        X = X[:70] if activation in ("identity", "logistic", "tanh", "relu") else X[:60]
    ours = reg.predict(X)
    assert np.isfinite(ours).all()
    (pred,), _ = run(reg, X)
    assert pred.dtype == input_dtype
    assert pred.shape == (len(X), n_outputs)
    assert_close(pred, ours, input_dtype)


# ------------------------------------------------------------------- pipelines
def graph_dtypes(graph):
    """Element types of the floating initializers and of the Cast targets."""
    floating = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16}
    initializers = {t.data_type for t in graph.graph.initializer} & floating
    casts = {
        attr.i
        for node in graph.graph.node
        if node.op_type == "Cast"
        for attr in node.attribute
        if attr.name == "to"
    }
    return initializers, casts


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
def test_pipeline_with_scaler_converts_as_a_whole(dtype):
    X, y = classification("multiclass", "str")
    X = 10 * X.astype(dtype) + 3
    pipe = quiet_fit(
        make_pipeline(
            StandardScaler(),
            CGMLPClassifier(hidden_layer_sizes=(8,), max_iter=60, random_state=0),
        ),
        X,
        y,
    )
    X_test = 10 * held_out(X, seed=6).astype(dtype) + 3
    (label, proba), graph = run(pipe, X_test, options={"zipmap": False})
    assert_same_labels(label, pipe.predict(X_test))
    assert_close(proba, pipe.predict_proba(X_test), dtype)
    initializers, casts = graph_dtypes(graph)
    if dtype == np.float64:
        # A float64 graph computes in float64 throughout: no float32 weight,
        # no cast down.
        assert initializers == {TensorProto.DOUBLE}
        assert TensorProto.FLOAT not in casts


def test_column_transformer_on_data_frame_columns():
    pd = pytest.importorskip("pandas")
    X, y = classification("binary", "int")
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(N_FEATURES)])
    columns = ColumnTransformer(
        [
            ("std", StandardScaler(), ["f0", "f1", "f2"]),
            ("mm", MinMaxScaler(), ["f3"]),
            ("keep", "passthrough", ["f4"]),
        ]
    )
    pipe = quiet_fit(
        make_pipeline(
            columns,
            CGMLPClassifier(hidden_layer_sizes=(5,), max_iter=60, random_state=0),
        ),
        df,
        y,
    )
    test = pd.DataFrame(held_out(X, seed=7), columns=df.columns)
    graph = to_onnx(pipe, df[:1], options={"zipmap": False})
    sess = session(graph)
    assert [i.name for i in sess.get_inputs()] == list(df.columns)
    label, proba = sess.run(None, {c: test[[c]].to_numpy() for c in df.columns})
    assert_same_labels(label, pipe.predict(test))
    assert_close(proba, pipe.predict_proba(test), np.float64)
    initializers, casts = graph_dtypes(graph)
    assert initializers == {TensorProto.DOUBLE}
    assert TensorProto.FLOAT not in casts


# Columns that are not C identifiers, which skl2onnx renames: a space, a
# leading digit, a hyphen whose replacement collides with the next column, a
# bracket; and a plain one.
ODD_COLUMNS = ["mean radius", "2nd", "a-b", "a_b", "x(cm)"]


# scikit-learn 1.6 warns when skl2onnx reads the transformers_ of a
# ColumnTransformer with a remainder (its format changed in 1.7).
@pytest.mark.filterwarnings(
    "ignore:\\s*The format of the columns of the 'remainder':FutureWarning"
)
@pytest.mark.parametrize("estimator", ["classifier", "regressor"])
def test_inputs_keep_the_data_frames_column_names(estimator):
    pd = pytest.importorskip("pandas")
    import onnx

    X, y = classification("binary", "int")
    X = X.astype(np.float64)  # float64 columns: a float64 graph throughout
    df = pd.DataFrame(X, columns=ODD_COLUMNS)
    model = (
        CGMLPClassifier(hidden_layer_sizes=(5,), max_iter=60, random_state=0)
        if estimator == "classifier"
        else CGMLPRegressor(hidden_layer_sizes=(5,), max_iter=60, random_state=0)
    )
    columns = ColumnTransformer([("std", StandardScaler(), ODD_COLUMNS[:3])],
                                remainder="passthrough")  # fmt: skip
    pipe = quiet_fit(make_pipeline(columns, model), df, y.astype(float))
    graph = to_onnx(
        pipe, df[:1], options={"zipmap": False} if estimator == "classifier" else None
    )
    # skl2onnx makes them C identifiers, by position: this is what is undone.
    before = [i.name for i in graph.graph.input]
    assert before == ["mean_radius", "_2nd", "a_b", "a_b1", "x_cm_"]
    assert cgmlp_onnx.restore_input_names(graph, df.columns) is graph
    assert [i.name for i in graph.graph.input] == ODD_COLUMNS
    onnx.checker.check_model(graph, full_check=True)
    sess = session(graph)
    assert [i.name for i in sess.get_inputs()] == ODD_COLUMNS
    test = pd.DataFrame(held_out(X, seed=3), columns=ODD_COLUMNS)
    outputs = sess.run(None, {c: test[[c]].to_numpy() for c in ODD_COLUMNS})
    if estimator == "classifier":
        assert_same_labels(outputs[0], pipe.predict(test))
        assert_close(outputs[1], pipe.predict_proba(test), np.float64)
    else:
        assert_close(outputs[0][:, 0], pipe.predict(test), np.float64)


def test_restore_input_names_refuses_what_it_cannot_do():
    pd = pytest.importorskip("pandas")
    X, y = classification("binary", "int")
    df = pd.DataFrame(X, columns=ODD_COLUMNS)
    pipe = quiet_fit(
        make_pipeline(
            ColumnTransformer([("keep", "passthrough", ODD_COLUMNS)]),
            CGMLPClassifier(hidden_layer_sizes=(3,), max_iter=20, random_state=0),
        ),
        df,
        y,
    )
    graph = to_onnx(pipe, df[:1], options={"zipmap": False})
    before = copy.deepcopy(graph)
    with pytest.raises(ValueError, match="5 inputs, and 4 columns"):
        cgmlp_onnx.restore_input_names(graph, ODD_COLUMNS[:4])
    with pytest.raises(ValueError, match="must be unique"):
        cgmlp_onnx.restore_input_names(graph, ["a b"] * 5)
    # A column named as the classifier's output.
    with pytest.raises(ValueError, match=r"columns \['label'\]"):
        cgmlp_onnx.restore_input_names(graph, ["label", *ODD_COLUMNS[1:]])
    assert graph == before


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_column_transformer_and_regressor(loss, dtype):
    reg = fitted_regressor(loss, 2, "tanh", np.float64)
    X = held_out(np.zeros((1, N_FEATURES)), seed=8)[:60]
    columns = ColumnTransformer(
        [("std", StandardScaler(), [0, 2, 4]), ("mm", MinMaxScaler(), [1, 3])]
    )
    pipe = make_pipeline(columns, CGMLPRegressor(**reg.get_params()))
    pipe = quiet_fit(pipe, X.astype(dtype), reg.predict(X))
    X_test = held_out(X, seed=9)[:60].astype(dtype)
    (pred,), _ = run(pipe, X_test)
    assert_close(pred, pipe.predict(X_test), dtype)


def test_float32_input_to_float64_model_is_computed_in_float64():
    clf = fitted_classifier("multiclass", "int", "logistic", np.float64)
    X = held_out(classification("multiclass", "int")[0], seed=10).astype(np.float32)
    (label, proba), graph = run(clf, X, options={"zipmap": False})
    initializers, casts = graph_dtypes(graph)
    assert initializers == {TensorProto.DOUBLE}
    assert TensorProto.DOUBLE in casts  # the input, cast up
    assert proba.dtype == np.float32
    assert_same_labels(label, clf.predict(X))
    # Our predict_proba computes this in float64: the graph matches it better
    # than float32 arithmetic could, to float32 rounding of the result.
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=2**-23, atol=1e-30)


def test_integer_input():
    reg = fitted_regressor("squared_error", 1, "relu", np.float64)
    X = np.random.RandomState(11).randint(-3, 4, size=(40, N_FEATURES))
    (pred,), graph = run(reg, X)
    assert pred.dtype == np.float32  # skl2onnx's type for integer inputs
    assert_close(pred, reg.predict(X), np.float32)


def test_one_row_and_many_rows_from_one_graph():
    clf = fitted_classifier("binary", "str", "relu", np.float32)
    X = held_out(classification("binary", "str")[0], seed=12).astype(np.float32)
    sess = session(to_onnx(clf, X[:1], options={"zipmap": False}))
    for rows in (X[:1], X):
        label, proba = sess.run(None, {"X": rows})
        assert_same_labels(label, clf.predict(rows))
        assert_close(proba, clf.predict_proba(rows), np.float32)


def test_model_fitted_on_array_api_arrays_converts():
    xp = pytest.importorskip("array_api_strict")
    try:
        with sklearn.config_context(array_api_dispatch=True):
            pass
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"no array API dispatch: {exc}")
    X, y = classification("multiclass", "int")
    with sklearn.config_context(array_api_dispatch=True):
        clf = quiet_fit(
            CGMLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0),
            xp.asarray(X),
            xp.asarray(y),
        )
        X_test = held_out(X, seed=13)
        ours = clf.predict_proba(xp.asarray(X_test))
        labels = clf.predict(xp.asarray(X_test))
    (label, proba), _ = run(clf, X_test, options={"zipmap": False})
    assert_same_labels(label, np.asarray(labels))
    assert_close(proba, np.asarray(ours), np.float64)


# ---------------------------------------------------------------------- errors
def test_unfitted_model_is_refused():
    with pytest.raises(NotFittedError):
        to_onnx(CGMLPRegressor(), np.zeros((1, 3)))


def test_wrong_number_of_features_is_refused():
    reg = fitted_regressor("squared_error", 1, "relu", np.float64)
    with pytest.raises(RuntimeError, match=f"fitted on {N_FEATURES} features"):
        to_onnx(reg, np.zeros((1, N_FEATURES + 1)))


def test_old_target_opset_is_refused():
    reg = fitted_regressor("squared_error", 1, "relu", np.float64)
    with pytest.raises(RuntimeError, match="target_opset >= 11"):
        to_onnx(reg, np.zeros((1, N_FEATURES)), target_opset=9)


def test_an_activation_without_conversion_is_named(monkeypatch):
    clf = fitted_classifier("multiclass", "int", ("gelu", "tanh"), np.float64)
    hidden = {k: v for k, v in cgmlp_onnx._HIDDEN.items() if k != "gelu"}
    monkeypatch.setattr(cgmlp_onnx, "_HIDDEN", hidden)
    with pytest.raises(ValueError, match="Cannot convert the hidden activation 'gelu'"):
        to_onnx(clf, np.zeros((1, N_FEATURES)))
