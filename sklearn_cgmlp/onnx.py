"""ONNX export of CGMLPClassifier and CGMLPRegressor through skl2onnx.

Importing this module registers converters for
:class:`~sklearn_cgmlp.CGMLPClassifier` and
:class:`~sklearn_cgmlp.CGMLPRegressor` with skl2onnx, so that
``skl2onnx.to_onnx`` converts them, alone or inside a scikit-learn pipeline
(scalers, ``ColumnTransformer``, ...), to ONNX graphs that onnxruntime runs
without Python. It needs the ``onnx`` extra (skl2onnx, onnx and onnxruntime);
the rest of the package never imports them.

The graphs compute what ``predict`` and ``predict_proba`` compute:

* in the dtype our ``predict`` computes in: float32 when both the input and
  the model are float32, float64 otherwise (a float32 or int64 input is cast
  up inside the graph for a float64 model; a float32 model's weights are
  stored in float64 for a float64 input). Probabilities and predictions come
  out as skl2onnx's own converters give them: float64 for a float64 input,
  float32 otherwise;
* labels from the output logits (``argmax`` for softmax outputs, ``logit > 0``
  for logistic ones), so that they equal ``predict``'s even where
  probabilities round to a tie;
* probabilities of logistic outputs (binary, multilabel) from logits clipped
  to ``log(1 / eps)`` of the computing dtype, so they stay in
  ``[eps, 1 - eps]`` and finite for extreme logits, as ``predict_proba``;
* ``exp`` of the logits for ``loss="poisson"`` and ``loss="gamma"`` (the
  Huber loss has the identity output of the squared error).

Every hidden activation converts, one per hidden layer where the model has
one per layer: identity, logistic (Sigmoid), tanh, relu, silu (``z *
Sigmoid(z)``), and softplus, elu, leaky_relu and gelu written with operators
onnxruntime runs in float32 and float64 alike (it has no float64 Softplus,
Elu, LeakyRelu or Erf): gelu's ``Phi`` is Erf in float32 graphs and, in
float64 graphs, the Chebyshev series the package uses on array API devices.
An activation without a conversion is refused with a ``ValueError`` naming
it.

Only standard ONNX operators are used (plus skl2onnx's ``ZipMap`` when the
classifier option ``zipmap`` asks for it). Class labels become an int64 output
for numbers (booleans and floats holding integers included) and a string
output for strings.
"""

import numbers

import numpy as np

try:
    import onnx  # noqa: F401  (skl2onnx needs it; say so if it is missing)
    from skl2onnx import update_registered_converter
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
        guess_tensor_type,
    )
    from skl2onnx.common.utils import (
        check_input_and_output_numbers,
        check_input_and_output_types,
    )
    from skl2onnx.proto import onnx_proto
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "sklearn_cgmlp.onnx needs skl2onnx and onnx (and onnxruntime to run the "
        "graphs). Install them with the 'onnx' extra: pip install "
        '"sklearn-cgmlp[onnx]" (or pip install skl2onnx onnx onnxruntime).'
    ) from exc

from sklearn.utils.validation import check_is_fitted

from ._activations import resolve
from ._classifier import CGMLPClassifier
from ._onnx_activations import HIDDEN as _HIDDEN
from ._ops import to_host
from ._outputs import logistic_logit_bound
from ._regressor import CGMLPRegressor

__all__ = ["register_converters", "restore_input_names"]

#: skl2onnx aliases of the two estimators.
CLASSIFIER_ALIAS = "SklearnCGMLPClassifier"
REGRESSOR_ALIAS = "SklearnCGMLPRegressor"

#: Options of the classifier's converter, as skl2onnx's classifiers offer them.
CLASSIFIER_OPTIONS = {"zipmap": [True, False, "columns"], "nocl": [True, False]}

_MIN_OPSET = 11  # Clip with min/max inputs
_FLOAT, _DOUBLE = onnx_proto.TensorProto.FLOAT, onnx_proto.TensorProto.DOUBLE
_NUMPY_DTYPE = {_FLOAT: np.float32, _DOUBLE: np.float64}
_TENSOR_TYPE = {_FLOAT: FloatTensorType, _DOUBLE: DoubleTensorType}


def register_converters():
    """Register the ONNX converters of both estimators with skl2onnx.

    Importing :mod:`sklearn_cgmlp.onnx` calls it; calling it again does no
    harm (it re-registers the same functions). After it, ``skl2onnx.to_onnx``
    and ``skl2onnx.convert_sklearn`` convert
    :class:`~sklearn_cgmlp.CGMLPClassifier` and
    :class:`~sklearn_cgmlp.CGMLPRegressor`, alone or in pipelines.

    The classifier's graph has two outputs, ``label`` (int64 for numeric
    labels, string for string labels; an int64 indicator matrix for
    multilabel targets) and ``probabilities``. It takes skl2onnx's classifier
    options ``zipmap`` (True by default: probabilities as a list of
    dictionaries, which ONNX allows for float32 only; False: a matrix;
    ``"columns"``: one output per class) and ``nocl`` (labels as class
    indices). The regressor's graph has one output, ``variable``, of shape
    ``(n_samples, n_outputs)``.

    Returns
    -------
    aliases : dict
        The skl2onnx alias under which each estimator class is registered.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skl2onnx import to_onnx
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_cgmlp import CGMLPClassifier
    >>> from sklearn_cgmlp.onnx import register_converters
    >>> register_converters()["CGMLPClassifier"]
    'SklearnCGMLPClassifier'
    >>> X, y = load_iris(return_X_y=True)
    >>> cgmlp = CGMLPClassifier(
    ...     hidden_layer_sizes=(10,), activation="tanh", random_state=0)
    >>> clf = make_pipeline(StandardScaler(), cgmlp).fit(X, y)
    >>> graph = to_onnx(clf, X[:1], options={"zipmap": False})  # float64 input
    >>> session = ort.InferenceSession(
    ...     graph.SerializeToString(), providers=["CPUExecutionProvider"])
    >>> label, proba = session.run(None, {"X": X})
    >>> bool((label == clf.predict(X)).all())
    True
    >>> float(np.abs(proba - clf.predict_proba(X)).max()) < 1e-12
    True
    """
    update_registered_converter(
        CGMLPClassifier,
        CLASSIFIER_ALIAS,
        _classifier_shapes,
        _convert_classifier,
        options=CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        CGMLPRegressor, REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor
    )
    return {"CGMLPClassifier": CLASSIFIER_ALIAS, "CGMLPRegressor": REGRESSOR_ALIAS}


# ------------------------------------------------------------------ shapes
def _check_operator(operator, n_outputs):
    check_input_and_output_numbers(
        operator, input_count_range=1, output_count_range=n_outputs
    )
    check_input_and_output_types(
        operator, good_input_types=[FloatTensorType, DoubleTensorType, Int64TensorType]
    )
    model = operator.raw_operator
    check_is_fitted(model)
    shape = operator.inputs[0].type.shape
    if len(shape) != 2:
        raise RuntimeError(
            f"{type(model).__name__} takes a 2-D input, got shape {shape}."
        )
    if isinstance(shape[1], numbers.Integral) and shape[1] != model.n_features_in_:
        raise RuntimeError(
            f"{type(model).__name__} was fitted on {model.n_features_in_} features; "
            f"the ONNX input has {shape[1]}."
        )
    return model, operator.inputs[0].get_first_dimension()


def _classifier_shapes(operator):
    model, n_rows = _check_operator(operator, 2)
    _, label_proto = _labels(_classes(operator.scope_inst, model))
    n_columns = 2 if model._target_type == "binary" else model.n_outputs_
    if model._target_type == "multilabel-indicator":
        label_type = Int64TensorType([n_rows, n_columns])
    elif label_proto == onnx_proto.TensorProto.STRING:
        label_type = StringTensorType([n_rows])
    else:
        label_type = Int64TensorType([n_rows])
    operator.outputs[0].type = label_type
    operator.outputs[1].type = _output_type(operator, [n_rows, n_columns])


def _regressor_shapes(operator):
    model, n_rows = _check_operator(operator, 1)
    operator.outputs[0].type = _output_type(operator, [n_rows, model.n_outputs_])


def _output_type(operator, shape):
    """Probabilities and predictions: float32 for float32 and int64 inputs,
    float64 for float64 inputs, as skl2onnx's converters give them."""
    return guess_tensor_type(operator.inputs[0].type).__class__(shape)


# ------------------------------------------------------------------ graphs
class _Graph:
    """Adds nodes and constants to skl2onnx's container, with unique names."""

    def __init__(self, scope, container, dtype):
        if container.target_opset is not None and container.target_opset < _MIN_OPSET:
            raise RuntimeError(
                f"The converters of sklearn-cgmlp need target_opset >= {_MIN_OPSET}, "
                f"got {container.target_opset}."
            )
        self.scope, self.container, self.dtype = scope, container, dtype

    def node(self, op_type, inputs, output=None, **attrs):
        output = output or self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            inputs,
            [output],
            name=self.scope.get_unique_operator_name(op_type),
            **attrs,
        )
        return output

    def constant(self, name, values, proto=None):
        """An initializer holding ``values`` (in the computing dtype by default)."""
        proto = self.dtype if proto is None else proto
        values = np.asarray(values)
        if proto != onnx_proto.TensorProto.STRING:
            values = values.astype(_NUMPY_DTYPE.get(proto, np.int64), copy=False)
            content = values.ravel()
        else:
            content = [label.encode("utf-8") for label in values.ravel()]
        unique = self.scope.get_unique_variable_name(name)
        self.container.add_initializer(unique, proto, list(values.shape), content)
        return unique

    def output(self, name, proto, output):
        """Write ``name`` (in the computing dtype) to ``output`` as ``proto``."""
        if proto == self.dtype:
            return self.node("Identity", [name], output)
        return self.node("Cast", [name], output, to=proto)


def _dtypes(operator, model):
    """ONNX dtypes of the input, of the outputs and of the computation.

    The computation is in the dtype of our ``predict``: float32 for a float32
    input and a float32 model, float64 otherwise (integers are cast to float64
    by ``predict``'s input validation).
    """
    in_type = operator.inputs[0].type
    inputs = _proto(in_type)
    outputs = _proto(guess_tensor_type(in_type))
    model_dtype = np.dtype(to_host(model.coefs_[0]).dtype)
    work = _FLOAT if inputs == _FLOAT and model_dtype == np.float32 else _DOUBLE
    return inputs, outputs, work


def _proto(tensor_type):
    for proto, cls in _TENSOR_TYPE.items():
        if isinstance(tensor_type, cls):
            return proto
    return onnx_proto.TensorProto.INT64


def _hidden_activations(model):
    """The names of the hidden layers' activations; a clear error for one
    that has no conversion."""
    names = [a.name for a in resolve(model.activation, len(model.coefs_) - 1)]
    missing = sorted({name for name in names if name not in _HIDDEN})
    if missing:
        raise ValueError(
            f"Cannot convert the hidden activation{'s' if len(missing) > 1 else ''} "
            f"{', '.join(map(repr, missing))} to ONNX; the converter knows "
            f"{sorted(_HIDDEN)}."
        )
    return names


def _logits(graph, model, input_name, in_proto):
    """The output logits of the network, in the computing dtype."""
    activations = _hidden_activations(model)
    coefs = [to_host(c) for c in model.coefs_]
    intercepts = [to_host(b) for b in model.intercepts_]
    A = input_name
    if in_proto != graph.dtype:
        A = graph.node("Cast", [A], to=graph.dtype)
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = graph.node("MatMul", [A, graph.constant(f"coef_{i}", W)])
        Z = graph.node("Add", [Z, graph.constant(f"intercept_{i}", b.reshape(1, -1))])
        if i < last:
            Z = _HIDDEN[activations[i]](graph, Z)
        A = Z
    return A


def _classes(scope, model):
    """The class labels of the graph: ``classes_`` (as NumPy arrays wherever
    the model lives), or their indices with the option ``nocl``."""
    if scope.get_options(model, dict(nocl=False))["nocl"]:
        return np.arange(model.n_outputs_ if model.n_outputs_ > 1 else 2)
    return to_host(model.classes_)


def _labels(classes):
    """``(values, ONNX type)`` of class labels as an ONNX tensor: string for
    strings, int64 for numbers that int64 holds exactly (booleans, integers,
    floats holding integers)."""
    classes = np.asarray(classes)
    items = classes.ravel().tolist()
    if classes.dtype.kind == "U" or (
        classes.dtype.kind == "O" and all(isinstance(c, str) for c in items)
    ):
        return np.asarray(items, dtype=object), onnx_proto.TensorProto.STRING
    if classes.dtype.kind != "S" and all(map(_is_int64, items)):
        return np.asarray(items, dtype=np.int64), onnx_proto.TensorProto.INT64
    raise ValueError(
        "Class labels exported to ONNX must be strings, or numbers that int64 "
        f"holds exactly (booleans, integers, floats holding integers); got {classes!r}."
    )


def _is_int64(label):
    if isinstance(label, str | bytes):
        return False
    try:
        value = int(label)
    except (TypeError, ValueError, OverflowError):
        return False
    info = np.iinfo(np.int64)
    return value == label and info.min <= value <= info.max


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    inputs, io, work = _dtypes(operator, model)
    graph = _Graph(scope, container, work)
    Z = _logits(graph, model, operator.inputs[0].full_name, inputs)
    label_out, proba_out = (v.full_name for v in operator.outputs)
    target_type = model._target_type
    options = scope.get_options(model, dict(zipmap=True))
    if options["zipmap"] is True and io == _DOUBLE:
        raise RuntimeError(
            "ONNX's ZipMap takes float32 probabilities only: convert a float64 "
            "graph with options={'zipmap': False} or {'zipmap': 'columns'}."
        )

    if model.out_activation_ == "softmax":
        proba = graph.node("Softmax", [Z], axis=1)
        index = graph.node("ArgMax", [Z], axis=1, keepdims=0)
    else:
        if target_type == "binary":  # one logit z for two classes: (-z, z)
            Z2 = graph.node("Concat", [graph.node("Neg", [Z]), Z], axis=1)
        else:
            Z2 = Z
        bound = logistic_logit_bound(_NUMPY_DTYPE[work])
        clipped = graph.node(
            "Clip", [Z2, graph.constant("low", -bound), graph.constant("high", bound)]
        )
        proba = graph.node("Sigmoid", [clipped])
        positive = graph.node("Greater", [Z, graph.constant("zero", 0.0)])
        index = graph.node("Cast", [positive], to=onnx_proto.TensorProto.INT64)
        if target_type == "binary":
            index = graph.node(
                "Reshape",
                [index, graph.constant("flat", [-1], onnx_proto.TensorProto.INT64)],
            )
    graph.output(proba, io, proba_out)

    if target_type == "multilabel-indicator":
        graph.node("Identity", [index], label_out)
        return
    labels, label_proto = _labels(_classes(scope, model))
    graph.node(
        "Gather", [graph.constant("classes", labels, label_proto), index], label_out
    )


def _convert_regressor(scope, operator, container):
    model = operator.raw_operator
    inputs, io, work = _dtypes(operator, model)
    graph = _Graph(scope, container, work)
    Z = _logits(graph, model, operator.inputs[0].full_name, inputs)
    if model.out_activation_ == "exp":
        Z = graph.node("Exp", [Z])
    elif model.out_activation_ != "identity":
        raise ValueError(f"Unknown output activation {model.out_activation_!r}.")
    graph.output(Z, io, operator.outputs[0].full_name)


register_converters()


# ------------------------------------------------------------- input names
def restore_input_names(onnx_model, columns):
    """Name a graph's inputs after the data frame columns they stand for.

    ``skl2onnx.to_onnx(model, df[:1])`` gives a graph converted from a data
    frame one input per column, in the columns' order, but makes each name a
    C identifier: every character other than a letter, a digit or ``_``
    becomes ``_``, a leading digit gets a ``_`` in front, and a name already
    taken gets a number appended (``"mean radius"`` becomes ``mean_radius``,
    ``"2nd"`` becomes ``_2nd``). ONNX itself takes any string as a name (its
    checker and onnxruntime accept ``"mean radius"``), so this function
    renames the inputs, in place, back to ``columns``: a user then feeds the
    graph ``{column: values}`` with the names of their data frame.

    Parameters
    ----------
    onnx_model : onnx.ModelProto
        The graph from ``skl2onnx.to_onnx`` (or ``convert_sklearn``) whose
        inputs are one per column, in the columns' order.
    columns : sequence of str
        The columns' names, e.g. ``df.columns`` of the frame converted from.

    Returns
    -------
    onnx_model : onnx.ModelProto
        The same graph, its inputs renamed. ``dict(zip(columns, old_names))``
        with ``old_names`` read before the call gives the mapping.

    Raises
    ------
    ValueError
        If the graph does not have one input per column, if ``columns``
        repeats a name, or if a column's name is already the name of another
        value of the graph; the graph is then left unchanged.

    Examples
    --------
    >>> import onnxruntime as ort
    >>> from skl2onnx import to_onnx
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_cgmlp import CGMLPClassifier
    >>> from sklearn_cgmlp.onnx import restore_input_names
    >>> df, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> clf = make_pipeline(StandardScaler(), CGMLPClassifier(
    ...     hidden_layer_sizes=(5,), tol=1e-3, random_state=0)).fit(df, y)
    >>> graph = to_onnx(clf, df[:1], options={"zipmap": False})
    >>> [i.name for i in graph.graph.input][:2]  # as skl2onnx names them
    ['mean_radius', 'mean_texture']
    >>> graph = restore_input_names(graph, df.columns)
    >>> [i.name for i in graph.graph.input][:2]
    ['mean radius', 'mean texture']
    >>> session = ort.InferenceSession(
    ...     graph.SerializeToString(), providers=["CPUExecutionProvider"])
    >>> label, proba = session.run(None, {c: df[[c]].to_numpy() for c in df})
    >>> bool((label == clf.predict(df)).all())
    True
    """
    graph = onnx_model.graph
    columns = [str(c) for c in columns]
    old = [i.name for i in graph.input]
    if len(old) != len(columns):
        raise ValueError(
            f"The graph has {len(old)} inputs, and {len(columns)} columns were "
            "given: restore_input_names needs one input per column, as "
            "skl2onnx.to_onnx makes them from a data frame."
        )
    if len(set(columns)) != len(columns):
        raise ValueError("The columns' names must be unique.")
    rename = {o: c for o, c in zip(old, columns) if o != c}
    others = {
        name
        for node in graph.node
        for name in [*node.input, *node.output]
        if name not in old
    } | {v.name for v in [*graph.output, *graph.initializer, *graph.value_info]}
    taken = sorted(set(rename.values()) & others)
    if taken:
        raise ValueError(
            f"Cannot name the inputs after the columns {taken}: the graph already "
            "has values of those names. Rename those columns."
        )
    for value in graph.input:
        value.name = rename.get(value.name, value.name)
    for node in graph.node:
        for k, name in enumerate(node.input):
            node.input[k] = rename.get(name, name)
    return onnx_model
