"""Hidden activations, as a table: everything the kernel needs of one.

Each entry holds, for one activation ``f`` of the hidden layers:

- its value, applied in place to the pre-activations ``Z`` (NumPy) or as a new
  array (other namespaces);
- its derivative applied to a backpropagated error ``delta``, expressed
  through the activation's *output* ``A = f(Z)`` (so the forward pass need not
  keep ``Z``);
- the first and second derivatives ``f'`` and ``f''`` through ``A``, for the
  curvature products of :mod:`sklearn_cgmlp._hessian`;
- the factor of the Glorot initialisation scikit-learn's MLPs use.

============  ================  ================  ===============  ======
activation    ``f(z)``          ``f'`` via ``a``  ``f''`` via a    init
============  ================  ================  ===============  ======
identity      ``z``             1                 0                6
logistic      ``1/(1+e^-z)``    ``a (1 - a)``     ``f' (1 - 2a)``  2
tanh          ``tanh(z)``       ``1 - a**2``      ``-2 a f'``      6
relu          ``max(0, z)``     ``1[a > 0]``      0                6
============  ================  ================  ===============  ======

A new activation is one class here (and its rows in the tests); nothing else
names activations. ``ops`` are the operations of the arrays' namespace
(:mod:`sklearn_cgmlp._ops`).
"""


class Activation:
    """Interface of a hidden activation; see the module docstring."""

    #: The name scikit-learn's MLPs give the activation.
    name = None
    #: ``bound = sqrt(init_factor / (fan_in + fan_out))`` for the initial
    #: weights, as scikit-learn's MLPs draw them.
    init_factor = 6.0

    def apply_(self, Z, ops):
        """``f(Z)``; with NumPy in place (``Z`` is returned)."""
        raise NotImplementedError

    def multiply_by_derivative(self, A, delta, ops):
        """``delta * f'`` at the activation output ``A``.

        With NumPy, ``A`` is used as scratch space and overwritten (the
        backward pass needs it no longer), so no temporary of its size is
        allocated, and ``delta`` is multiplied in place.
        """
        raise NotImplementedError

    def derivatives(self, A, ops):
        """``(f', f'')`` at the activation output ``A``, new arrays; None
        stands for a derivative that is 1 (``f'``) or 0 (``f''``)."""
        raise NotImplementedError


class Identity(Activation):
    name = "identity"

    def apply_(self, Z, ops):
        return Z

    def multiply_by_derivative(self, A, delta, ops):
        return delta

    def derivatives(self, A, ops):
        return None, None


class Logistic(Activation):
    name = "logistic"
    init_factor = 2.0

    def apply_(self, Z, ops):
        return ops.expit_(Z)

    def multiply_by_derivative(self, A, delta, ops):
        delta *= A
        delta *= ops.one_minus_(A)
        return delta

    def derivatives(self, A, ops):
        d1 = A * (1 - A)
        return d1, d1 * (1 - 2 * A)


class Tanh(Activation):
    name = "tanh"

    def apply_(self, Z, ops):
        return ops.tanh_(Z)

    def multiply_by_derivative(self, A, delta, ops):
        delta *= ops.one_minus_(ops.square_(A))
        return delta

    def derivatives(self, A, ops):
        d1 = 1 - A * A
        return d1, -2 * A * d1


class Relu(Activation):
    name = "relu"

    def apply_(self, Z, ops):
        return ops.relu_(Z)

    def multiply_by_derivative(self, A, delta, ops):
        delta *= ops.positive_(A)
        return delta

    def derivatives(self, A, ops):
        return ops.astype(A > 0, A.dtype), None


#: The hidden activations by name.
ACTIVATIONS = {a.name: a for a in (Identity(), Logistic(), Tanh(), Relu())}
