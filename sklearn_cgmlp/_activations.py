"""Hidden activations, as a table: everything the kernel needs of one.

Each entry holds, for one activation ``f`` of the hidden layers:

- its value, applied in place to the pre-activations ``Z`` (NumPy) or as a new
  array (other namespaces);
- what its derivatives are taken at (``needs_input``): the activation's
  *output* ``A = f(Z)``, so that the forward pass keeps nothing but ``A``, or,
  where ``f'`` cannot be written through ``A`` (gelu, silu), the
  *pre-activation* ``Z``, which the forward pass then keeps besides ``A`` (one
  more ``n_rows x units`` array per such layer; relu and tanh pay nothing);
- its derivative applied to a backpropagated error ``delta``;
- the first and second derivatives ``f'`` and ``f''``, for the curvature
  products of :mod:`sklearn_cgmlp._hessian`;
- the factor of the Glorot initialisation scikit-learn's MLPs use (2 for
  logistic, 6 for every other activation, the new ones included).

==========  ========================  ==========================  ====  ====
activation  ``f(z)``                  ``f'``                      at    init
==========  ========================  ==========================  ====  ====
identity    ``z``                     1                           --    6
logistic    ``1/(1+e^-z)``            ``a (1 - a)``               a     2
tanh        ``tanh(z)``               ``1 - a**2``                a     6
relu        ``max(0, z)``             ``1[a > 0]``                a     6
softplus    ``log(1 + e^z)``          ``1 - e^-a``                a     6
elu         ``z`` or ``e^z - 1``      1 or ``a + 1``              a     6
leaky_relu  ``z`` or ``0.01 z``       1 or 0.01                   a     6
gelu        ``z Phi(z)``              ``Phi(z) + z phi(z)``       z     6
silu        ``z sigmoid(z)``          ``s (1 + z (1 - s))``       z     6
==========  ========================  ==========================  ====  ====

The constants are PyTorch's defaults: softplus ``beta=1`` (computed as
``logaddexp(0, z)``, its derivative as ``-expm1(-a)``, both without overflow),
elu ``alpha=1.0``, leaky_relu ``negative_slope=0.01``, gelu the exact form
with the normal distribution function ``Phi`` (``approximate="none"``; ``phi``
its density), silu ``z * sigmoid(z)`` (``s = sigmoid(z)``).

A new activation is one class here (and a row in the reference functions of
the tests); nothing else names activations. ``ops`` are the operations of the
arrays' namespace (:mod:`sklearn_cgmlp._ops`). The hidden layers may each
have their own activation: :func:`resolve` turns the ``activation`` parameter
(one name, or one name per hidden layer) into one entry per layer.
"""

import math

import numpy as np
from scipy.special import expit

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Activation:
    """Interface of a hidden activation; see the module docstring."""

    #: The name scikit-learn's MLPs (or PyTorch) give the activation.
    name = None
    #: ``bound = sqrt(init_factor / (fan_in + fan_out))`` for the initial
    #: weights, as scikit-learn's MLPs draw them.
    init_factor = 6.0
    #: Whether the derivatives need the pre-activation ``Z`` (kept by the
    #: forward pass); otherwise they are written through the output ``A``.
    needs_input = False

    def apply_(self, Z, ops):
        """``f(Z)``; with NumPy in place (``Z`` is returned)."""
        raise NotImplementedError

    def apply(self, Z, ops, out=None):
        """``f(Z)``, leaving ``Z`` as it is; with NumPy into ``out`` (a new
        array when None). The forward pass uses it where ``needs_input``."""
        if ops.is_numpy:
            if out is None:
                out = np.empty_like(Z)
            np.copyto(out, Z)
            return self.apply_(out, ops)
        return self.apply_(ops.copy(Z), ops)

    def forward_(self, Z, ops, keep_input, out=None):
        """``(f(Z), Z or None)``: a hidden layer's output, and its
        pre-activation ``Z`` if ``keep_input`` and the derivatives need it
        (then ``f(Z)`` is new, or ``out`` with NumPy); otherwise ``f(Z)``
        overwrites ``Z`` (NumPy) and None is kept."""
        if keep_input and self.needs_input:
            return self.apply(Z, ops, out=out), Z
        return self.apply_(Z, ops), None

    def multiply_by_derivative(self, A, Z, delta, ops):
        """``delta * f'`` at the output ``A`` (and the pre-activation ``Z``,
        None unless ``needs_input``).

        With NumPy, ``A`` and ``Z`` are used as scratch space and overwritten
        (the backward pass needs them no longer), so no temporary of their
        size is allocated, and ``delta`` is multiplied in place.
        """
        raise NotImplementedError

    def derivatives(self, A, Z, ops):
        """``(f', f'')`` at the output ``A`` (and ``Z``, as above), new
        arrays; None stands for a derivative that is 1 (``f'``) or 0
        (``f''``)."""
        raise NotImplementedError


class Identity(Activation):
    name = "identity"

    def apply_(self, Z, ops):
        return Z

    def multiply_by_derivative(self, A, Z, delta, ops):
        return delta

    def derivatives(self, A, Z, ops):
        return None, None


class Logistic(Activation):
    name = "logistic"
    init_factor = 2.0

    def apply_(self, Z, ops):
        return ops.expit_(Z)

    def multiply_by_derivative(self, A, Z, delta, ops):
        delta *= A
        delta *= ops.one_minus_(A)
        return delta

    def derivatives(self, A, Z, ops):
        d1 = A * (1 - A)
        return d1, d1 * (1 - 2 * A)


class Tanh(Activation):
    name = "tanh"

    def apply_(self, Z, ops):
        return ops.tanh_(Z)

    def multiply_by_derivative(self, A, Z, delta, ops):
        delta *= ops.one_minus_(ops.square_(A))
        return delta

    def derivatives(self, A, Z, ops):
        d1 = 1 - A * A
        return d1, -2 * A * d1


class Relu(Activation):
    name = "relu"

    def apply_(self, Z, ops):
        return ops.relu_(Z)

    def multiply_by_derivative(self, A, Z, delta, ops):
        delta *= ops.positive_(A)
        return delta

    def derivatives(self, A, Z, ops):
        return ops.astype(A > 0, A.dtype), None


class Softplus(Activation):
    """``log(1 + exp(z))`` (PyTorch's ``beta=1``); ``f' = sigmoid(z) =
    -expm1(-a)`` and ``f'' = f' (1 - f') = f' exp(-a)``, through the output."""

    name = "softplus"

    def apply_(self, Z, ops):
        return ops.log1pexp(Z, out=Z if ops.is_numpy else None)

    def multiply_by_derivative(self, A, Z, delta, ops):
        if ops.is_numpy:
            np.negative(A, out=A)
            np.expm1(A, out=A)
            np.negative(A, out=A)
            delta *= A
        else:
            delta *= -ops.xp.expm1(-A)
        return delta

    def derivatives(self, A, Z, ops):
        xp = ops.xp
        d1 = -xp.expm1(-A)
        return d1, d1 * xp.exp(-A)


class Elu(Activation):
    """``z`` for ``z > 0``, else ``alpha (exp(z) - 1)`` (PyTorch's
    ``alpha=1.0``); ``f' = f'' + 1[a > 0]`` with ``f'' = a + alpha`` where
    ``a <= 0`` (0 elsewhere), through the output."""

    name = "elu"
    alpha = 1.0

    def apply_(self, Z, ops):
        if ops.is_numpy:
            negative = Z < 0  # a boolean mask: one byte per entry
            np.expm1(Z, out=Z, where=negative)
            if self.alpha != 1.0:
                np.multiply(Z, Z.dtype.type(self.alpha), out=Z, where=negative)
            return Z
        xp = ops.xp
        return xp.where(Z > 0, Z, self.alpha * xp.expm1(xp.clip(Z, max=0.0)))

    def multiply_by_derivative(self, A, Z, delta, ops):
        if ops.is_numpy:
            positive = A > 0
            A += A.dtype.type(self.alpha)
            np.copyto(A, 1, where=positive)
            delta *= A
        else:
            delta *= self.derivatives(A, Z, ops)[0]
        return delta

    def derivatives(self, A, Z, ops):
        xp = ops.xp
        positive = A > 0
        d2 = xp.where(positive, xp.zeros_like(A), A + self.alpha)
        return xp.where(positive, xp.ones_like(A), A + self.alpha), d2


class LeakyRelu(Activation):
    """``z`` for ``z > 0``, else ``negative_slope * z`` (PyTorch's
    ``negative_slope=0.01``); ``f'`` is 1 or the slope, ``f''`` is 0."""

    name = "leaky_relu"
    negative_slope = 0.01

    def apply_(self, Z, ops):
        slope = self.negative_slope
        if ops.is_numpy:
            return np.multiply(Z, Z.dtype.type(slope), out=Z, where=Z < 0)
        return ops.xp.where(Z > 0, Z, slope * Z)

    def multiply_by_derivative(self, A, Z, delta, ops):
        delta *= self._derivative(ops.positive_(A))
        return delta

    def _derivative(self, positive):
        """``1[a > 0] (1 - slope) + slope``, in the array ``positive``."""
        positive *= 1.0 - self.negative_slope
        positive += self.negative_slope
        return positive

    def derivatives(self, A, Z, ops):
        return self._derivative(ops.astype(A > 0, A.dtype)), None


class Gelu(Activation):
    """``z Phi(z)``, the exact form (PyTorch's ``approximate="none"``):
    ``f' = Phi(z) + z phi(z)``, ``f'' = phi(z) (2 - z**2)``, at ``z``."""

    name = "gelu"
    needs_input = True

    def apply_(self, Z, ops):
        if ops.is_numpy:
            Z *= ops.ndtr(Z)
            return Z
        return Z * ops.ndtr(Z)

    def apply(self, Z, ops, out=None):
        if ops.is_numpy:
            out = ops.ndtr(Z, out=out)
            out *= Z
            return out
        return Z * ops.ndtr(Z)

    def multiply_by_derivative(self, A, Z, delta, ops):
        if ops.is_numpy:
            # A <- z phi(z), then Z <- Phi(z) + A.
            np.square(Z, out=A)
            A *= A.dtype.type(-0.5)
            np.exp(A, out=A)
            A *= A.dtype.type(_INV_SQRT_2PI)
            A *= Z
            Z = ops.ndtr(Z, out=Z)
            Z += A
            delta *= Z
        else:
            delta *= self.derivatives(A, Z, ops)[0]
        return delta

    def derivatives(self, A, Z, ops):
        xp = ops.xp
        pdf = _INV_SQRT_2PI * xp.exp(-0.5 * (Z * Z))
        return ops.ndtr(Z) + Z * pdf, pdf * (2.0 - Z * Z)


class Silu(Activation):
    """``z sigmoid(z)`` (also called swish): with ``s = sigmoid(z)``,
    ``f' = s (1 + z (1 - s))`` and ``f'' = s (1 - s) (2 + z (1 - 2 s))``, at
    ``z``."""

    name = "silu"
    needs_input = True

    def apply_(self, Z, ops):
        if ops.is_numpy:
            Z *= expit(Z)
            return Z
        return Z * ops.expit_(ops.copy(Z))

    def apply(self, Z, ops, out=None):
        if ops.is_numpy:
            out = expit(Z, out=out)
            out *= Z
            return out
        return Z * ops.expit_(ops.copy(Z))

    def multiply_by_derivative(self, A, Z, delta, ops):
        if ops.is_numpy:
            s = expit(Z, out=A)  # A <- s
            delta *= s
            ops.one_minus_(s)  # 1 - s
            s *= Z
            s += 1
            delta *= s
        else:
            delta *= self.derivatives(A, Z, ops)[0]
        return delta

    def derivatives(self, A, Z, ops):
        s = ops.expit_(ops.copy(Z))
        d1 = s * (1.0 + Z * (1.0 - s))
        return d1, s * (1.0 - s) * (2.0 + Z * (1.0 - 2.0 * s))


#: The hidden activations by name.
ACTIVATIONS = {
    a.name: a
    for a in (
        Identity(),
        Logistic(),
        Tanh(),
        Relu(),
        Softplus(),
        Elu(),
        LeakyRelu(),
        Gelu(),
        Silu(),
    )
}


def lookup(name):
    """The table's entry for ``name`` (an entry is returned as it is)."""
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}."
        ) from None


def is_per_layer(activation):
    """Whether ``activation`` names one activation per hidden layer."""
    return isinstance(activation, tuple | list)


def resolve(activation, n_hidden):
    """The entries of the ``n_hidden`` hidden layers, as a tuple.

    ``activation`` is one name (or entry) for every hidden layer, or a tuple
    or list of one per hidden layer, whose length must be ``n_hidden``.
    """
    if not is_per_layer(activation):
        return (lookup(activation),) * n_hidden
    if len(activation) != n_hidden:
        raise ValueError(
            f"activation has {len(activation)} entries, but the network has "
            f"{n_hidden} hidden layer{'s' if n_hidden != 1 else ''}: give one "
            "activation for all hidden layers, or one per hidden layer."
        )
    return tuple(lookup(a) for a in activation)


def init_factors(activation, n_hidden):
    """The Glorot factor of each of the ``n_hidden + 1`` layers: a hidden
    layer's is its activation's, the output layer's the last hidden
    activation's (scikit-learn's factor everywhere for one activation)."""
    entries = resolve(activation, n_hidden)
    if entries:
        last = entries[-1]
    else:
        last = Activation() if is_per_layer(activation) else lookup(activation)
    return [e.init_factor for e in entries] + [last.init_factor]
