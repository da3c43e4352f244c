"""Hidden activations as ONNX operators, for :mod:`sklearn_cgmlp.onnx` (which
alone imports this module, and only where skl2onnx and onnx are installed).

Each entry of :data:`HIDDEN` takes the converter's graph builder and the
name of a layer's pre-activation ``Z``, adds the nodes of ``f(Z)`` and
returns the name of their output.
"""

import numpy as np
from onnx import TensorProto

from ._activations import ACTIVATIONS
from ._ops import _NDTR_COEFFICIENTS


# ------------------------------------------------------- hidden activations
# One function per activation of the table: graph, Z -> the name of f(Z).
# onnxruntime has no float64 kernels of Softplus, Elu, LeakyRelu and Erf, and
# our graphs often compute in float64: those activations are written with
# operators it runs in both dtypes (Relu, Exp, Log, Abs, Mul, ...), and gelu's
# Phi in float64 as the Chebyshev series of sklearn_cgmlp._ops (Erf in float32).
def _softplus(graph, Z):
    # relu(z) + log(1 + exp(-|z|)): no overflow for large |z|.
    tail = graph.node("Exp", [graph.node("Neg", [graph.node("Abs", [Z])])])
    tail = graph.node("Log", [graph.node("Add", [tail, graph.constant("one", 1.0)])])
    return graph.node("Add", [graph.node("Relu", [Z]), tail])


def _negative_part(graph, Z):
    """``min(z, 0)``."""
    return graph.node("Neg", [graph.node("Relu", [graph.node("Neg", [Z])])])


def _elu(graph, Z):
    alpha = ACTIVATIONS["elu"].alpha
    tail = graph.node("Exp", [_negative_part(graph, Z)])
    tail = graph.node("Sub", [tail, graph.constant("one", 1.0)])
    tail = graph.node("Mul", [tail, graph.constant("elu_alpha", alpha)])
    return graph.node("Add", [graph.node("Relu", [Z]), tail])


def _leaky_relu(graph, Z):
    slope = graph.constant("negative_slope", ACTIVATIONS["leaky_relu"].negative_slope)
    tail = graph.node("Mul", [_negative_part(graph, Z), slope])
    return graph.node("Add", [graph.node("Relu", [Z]), tail])


def _ndtr(graph, Z):
    """``Phi(Z)``: from Erf in float32, from ``_ops``' series in float64."""
    if graph.dtype == TensorProto.FLOAT:
        scaled = graph.node("Mul", [Z, graph.constant("inv_sqrt2", 1 / np.sqrt(2))])
        erf = graph.node("Erf", [scaled])
        one_plus = graph.node("Add", [erf, graph.constant("one", 1.0)])
        return graph.node("Mul", [one_plus, graph.constant("half", 0.5)])
    coefficients = _NDTR_COEFFICIENTS
    z = graph.node("Mul", [graph.node("Abs", [Z]), graph.constant("c", 1 / np.sqrt(2))])
    two = graph.constant("two", 2.0)
    t = graph.node("Div", [two, graph.node("Add", [two, z])])
    u2 = graph.node("Sub", [graph.node("Mul", [t, graph.constant("four", 4.0)]), two])
    b1, b2 = graph.constant("c", coefficients[-1]), graph.constant("zero", 0.0)
    for c in coefficients[-2:0:-1]:
        b = graph.node("Sub", [graph.node("Mul", [u2, b1]), b2])
        b1, b2 = graph.node("Add", [b, graph.constant("c", c)]), b1
    half_u2 = graph.node("Mul", [u2, graph.constant("half", 0.5)])
    g = graph.node("Sub", [graph.node("Mul", [half_u2, b1]), b2])
    g = graph.node("Add", [g, graph.constant("c", coefficients[0])])
    g = graph.node("Sub", [g, graph.node("Mul", [z, z])])
    half_erfc = graph.node("Mul", [graph.node("Exp", [g]), t])
    half_erfc = graph.node("Mul", [half_erfc, graph.constant("half", 0.5)])
    upper = graph.node("Sub", [graph.constant("one", 1.0), half_erfc])
    negative = graph.node("Less", [Z, graph.constant("zero", 0.0)])
    return graph.node("Where", [negative, half_erfc, upper])


def _gelu(graph, Z):
    return graph.node("Mul", [Z, _ndtr(graph, Z)])


def _silu(graph, Z):
    return graph.node("Mul", [Z, graph.node("Sigmoid", [Z])])


HIDDEN = {
    "identity": lambda graph, Z: Z,
    "logistic": lambda graph, Z: graph.node("Sigmoid", [Z]),
    "tanh": lambda graph, Z: graph.node("Tanh", [Z]),
    "relu": lambda graph, Z: graph.node("Relu", [Z]),
    "softplus": _softplus,
    "elu": _elu,
    "leaky_relu": _leaky_relu,
    "gelu": _gelu,
    "silu": _silu,
}
