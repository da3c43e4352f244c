"""Layout of the flat parameter vector.

All coefficient matrices and intercept vectors of a network live in one
contiguous 1-D array: first the coefficient matrices of every layer (each
flattened in C order), then the intercept vectors of every layer. This is the
order :class:`sklearn.neural_network.MLPClassifier` uses, so packed vectors of
both estimators can be compared entry by entry.

Per-layer arrays are *views* into the flat vector: unpacking never copies.
"""

from itertools import pairwise

import numpy as np
from sklearn.utils import check_random_state

from ._activations import init_factors


class ParameterLayout:
    """Shapes and offsets of the per-layer parameters in a flat vector.

    Parameters
    ----------
    layer_units : sequence of int
        Number of units of every layer, input and output included, e.g.
        ``(n_features, *hidden_layer_sizes, n_outputs)``.
    """

    def __init__(self, layer_units):
        self.layer_units = tuple(int(u) for u in layer_units)
        if len(self.layer_units) < 2 or min(self.layer_units) < 1:
            raise ValueError(
                "A network needs at least an input and an output layer, each with "
                f"at least one unit; got layer_units={self.layer_units}."
            )
        self.coef_shapes = tuple(pairwise(self.layer_units))
        self.coef_slices = []
        start = 0
        for fan_in, fan_out in self.coef_shapes:
            self.coef_slices.append(slice(start, start + fan_in * fan_out))
            start += fan_in * fan_out
        self.intercept_slices = []
        for fan_out in self.layer_units[1:]:
            self.intercept_slices.append(slice(start, start + fan_out))
            start += fan_out
        self.n_params = start

    @property
    def n_layers(self):
        """Number of layers, input and output included."""
        return len(self.layer_units)

    def __eq__(self, other):
        return (
            isinstance(other, ParameterLayout) and self.layer_units == other.layer_units
        )

    def __hash__(self):
        return hash(self.layer_units)

    def __repr__(self):
        return f"ParameterLayout(layer_units={self.layer_units})"

    def unpack(self, theta, xp=None):
        """Per-layer views into a flat parameter vector.

        Parameters
        ----------
        theta : array of shape (n_params,)
            C-contiguous flat parameter vector (NumPy, or of namespace ``xp``).
        xp : namespace, default=None
            Array API namespace of ``theta``; None for NumPy.

        Returns
        -------
        coefs : list of array
            ``coefs[i]`` has shape ``(layer_units[i], layer_units[i + 1])``;
            with NumPy it shares memory with ``theta``.
        intercepts : list of array
            ``intercepts[i]`` has shape ``(layer_units[i + 1],)``; with NumPy
            it shares memory with ``theta``.
        """
        if theta.ndim != 1 or theta.shape[0] != self.n_params:
            raise ValueError(
                f"Expected a 1-D parameter vector of length {self.n_params}, got "
                f"an array of shape {tuple(theta.shape)}."
            )
        if xp is not None and not isinstance(theta, np.ndarray):
            coefs = [
                xp.reshape(theta[sl], shape)
                for sl, shape in zip(self.coef_slices, self.coef_shapes)
            ]
            return coefs, [theta[sl] for sl in self.intercept_slices]
        if not theta.flags.c_contiguous:
            raise ValueError("The parameter vector must be C-contiguous.")
        coefs = [
            theta[sl].reshape(shape)
            for sl, shape in zip(self.coef_slices, self.coef_shapes)
        ]
        intercepts = [theta[sl] for sl in self.intercept_slices]
        return coefs, intercepts

    def flatten(self, coefs, intercepts, ops):
        """A new flat vector of per-layer arrays, in the layout's order.

        ``ops`` are the operations of the arrays' namespace
        (:mod:`sklearn_cgmlp._ops`).
        """
        return ops.concat([*coefs, *intercepts])

    def pack(self, coefs, intercepts, dtype=None, out=None):
        """Copy per-layer arrays into a flat parameter vector.

        Parameters
        ----------
        coefs : list of array-like
            Coefficient matrices, one per layer.
        intercepts : list of array-like
            Intercept vectors, one per layer.
        dtype : dtype, default=None
            dtype of the new vector when ``out`` is None; defaults to the
            result type of the inputs.
        out : ndarray of shape (n_params,), default=None
            Where to write; a new array when None.

        Returns
        -------
        theta : ndarray of shape (n_params,)
        """
        coefs, intercepts = list(coefs), list(intercepts)
        n = len(self.coef_shapes)
        if len(coefs) != n or len(intercepts) != n:
            raise ValueError(
                f"Expected {n} coefficient matrices and {n} intercept vectors, got "
                f"{len(coefs)} and {len(intercepts)}."
            )
        for i, (coef, intercept, shape) in enumerate(
            zip(coefs, intercepts, self.coef_shapes)
        ):
            if np.shape(coef) != shape or np.shape(intercept) != (shape[1],):
                raise ValueError(
                    f"Layer {i}: expected coefficients of shape {shape} and "
                    f"intercepts of shape {(shape[1],)}, got {np.shape(coef)} and "
                    f"{np.shape(intercept)}."
                )
        if out is None:
            if dtype is None:
                dtype = np.result_type(*coefs, *intercepts)
            out = np.empty(self.n_params, dtype=dtype)
        out_coefs, out_intercepts = self.unpack(out)
        for dst, src in zip(out_coefs + out_intercepts, coefs + intercepts):
            dst[...] = src
        return out


def glorot_init(layout, activation, random_state):
    """Initial float64 parameter vector, drawn as scikit-learn's MLPs draw it.

    ``activation`` names the hidden activation (or one per hidden layer),
    whose entry of the activation table gives the factor of the bound: a
    hidden layer takes its activation's, the output layer the last hidden
    layer's (:func:`~sklearn_cgmlp._activations.init_factors`).
    """
    rng = check_random_state(random_state)
    factors = init_factors(activation, layout.n_layers - 2)
    coefs, intercepts = [], []
    for factor, (fan_in, fan_out) in zip(factors, layout.coef_shapes):
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return layout.pack(coefs, intercepts, dtype=np.float64)
