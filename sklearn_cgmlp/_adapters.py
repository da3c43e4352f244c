"""Adapters between an objective and a solver's vectors.

:class:`Transfer` moves vectors between the solver's search space (host
float64 NumPy for SciPy, the data's namespace for the device-resident CG) and
the objective's parameters (the data's namespace and dtype);
:class:`SciPyObjective` evaluates the objective at a search vector, scaled as
the solver is posed it, keeps count and remembers the last evaluations;
:class:`SciPyHessp` does the same for curvature-vector products.
"""

from collections import deque

import numpy as np

from ._ops import NUMPY


class NonFiniteError(ArithmeticError):
    """A curvature product was not finite; the solver cannot go on."""


class NonFiniteInitialLoss(ValueError):
    """The loss or its gradient is not finite at the starting point."""


class Transfer:
    """Moves vectors between the solver's search space and the objective's.

    SciPy's solvers work on host float64 NumPy vectors; the device-resident
    CG on float64 vectors of the data's namespace (its most precise float);
    the objective computes in the data's namespace and dtype.

    Parameters
    ----------
    data_ops : NumPyOps or ArrayAPIOps
        Operations of the data's namespace.
    dtype : dtype
        dtype of the data (and of the objective's parameters).
    search_ops : NumPyOps or ArrayAPIOps, default=NUMPY
        Operations of the solver's namespace.
    """

    def __init__(self, data_ops, dtype, search_ops=NUMPY):
        self.data_ops, self.dtype, self.search_ops = data_ops, dtype, search_ops
        self.search_dtype = (
            np.float64 if search_ops.is_numpy else search_ops.float_dtype
        )

    def to_data(self, x, out=None):
        """The search vector ``x`` as parameters of the objective (may alias
        ``x``; with NumPy, a C-contiguous array, written into ``out`` if
        given)."""
        if self.data_ops.is_numpy:
            if out is not None:
                out[...] = x
                return out
            return np.ascontiguousarray(x, dtype=self.dtype)
        if self.search_ops.is_numpy:  # host to device
            return self.data_ops.from_numpy(x, self.dtype)
        return x if x.dtype == self.dtype else self.data_ops.astype(x, self.dtype)

    def to_search(self, grad):
        """A gradient of the objective as a new search-space vector."""
        if self.data_ops.is_numpy:
            return grad.astype(np.float64)
        if self.search_ops.is_numpy:  # device to host
            return np.array(self.data_ops.to_numpy(grad), dtype=np.float64)
        return self.data_ops.astype(grad, self.search_dtype)

    def from_host(self, x):
        """A host float64 vector in the search space."""
        if self.search_ops.is_numpy:
            return np.asarray(x, dtype=np.float64)
        return self.search_ops.from_numpy(x, self.search_dtype)


class SciPyObjective:
    """Adapt an objective to SciPy's ``jac=True`` protocol (and our CG's).

    Parameters
    ----------
    fun : object or callable
        An objective with ``loss_grad(theta, out=None) -> (loss, grad)`` and
        ``ops`` (:mod:`sklearn_cgmlp._objective`), or, for NumPy, a callable
        ``fun(theta, grad) -> loss`` that writes the gradient into ``grad``.
    n_params : int
        Length of the parameter vector.
    dtype : dtype
        dtype in which the objective computes.
    search_ops : NumPyOps or ArrayAPIOps, default=NUMPY
        Namespace of the solver's vectors (see :class:`Transfer`).

    Attributes
    ----------
    scale : float
        The solver is handed ``scale * loss`` and ``scale * grad`` (see the
        module docstring); 1 unless :func:`minimize` sets it.
    n_evals : int
        Number of evaluations so far.

    Notes
    -----
    SciPy keeps references to the gradients it is handed (CG compares the new
    gradient with the previous one), so every call returns a new gradient
    array. With NumPy float32 data the parameter and gradient vectors of the
    evaluation itself are preallocated and reused.
    """

    def __init__(self, fun, n_params, dtype, *, search_ops=NUMPY):
        self.fun = fun
        self.n_params = n_params
        data_ops = getattr(fun, "ops", NUMPY)
        self.dtype = np.dtype(dtype) if data_ops.is_numpy else dtype
        self.transfer = Transfer(data_ops, self.dtype, search_ops)
        self.ops = search_ops
        self.scale = 1.0
        self.n_evals = 0
        # The most recent evaluations, unscaled: (copy of x, loss, largest
        # absolute gradient entry). Copies, because some SciPy methods update
        # their iterate in place after evaluating it.
        self.recent = deque(maxlen=4)
        self._theta = self._grad = None
        if data_ops.is_numpy and self.dtype != np.float64:
            self._theta = np.empty(n_params, dtype=self.dtype)
            self._grad = np.empty(n_params, dtype=self.dtype)

    def __call__(self, x):
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grad = self._evaluate(x, self.scale)
        if not np.isfinite(loss):
            # Tell the line search this point is unacceptable without
            # poisoning its arithmetic with NaN.
            return np.inf, self.ops.zeros(self.n_params, self.transfer.search_dtype)
        return self.scale * loss, grad

    def evaluate(self, x):
        """Unscaled loss and gradient (a new search-space vector) at ``x``;
        the loss is inf when the loss or the gradient is not finite."""
        # Trial points of a line search may overflow; a non-finite result is
        # reported as an infinite loss, so floating-point warnings would only
        # be noise.
        with np.errstate(over="ignore", invalid="ignore"):
            return self._evaluate(x, 1.0)

    def _evaluate(self, x, scale):
        """Loss, and gradient times ``scale`` as a new search-space vector;
        records the unscaled loss and gradient norm with a copy of ``x``."""
        self.n_evals += 1
        host = self.ops.is_numpy and self.transfer.data_ops.is_numpy
        # With NumPy data the per-evaluation passes over parameter-sized
        # vectors (cast, scale, norm, copy) run in the objective's threads.
        slices = getattr(self.fun, "map_slices", None) if host else None
        if slices is not None and self._theta is not None:
            theta = self._theta
            slices(lambda part: np.copyto(theta[part], x[part], casting="same_kind"))
        else:
            theta = self.transfer.to_data(x, out=self._theta)
        if hasattr(self.fun, "loss_grad"):
            loss, grad = self.fun.loss_grad(theta, out=self._grad)
        else:
            grad = self._grad if self._grad is not None else np.empty_like(theta)
            loss = self.fun(theta, grad)
        if host:
            # A new float64 array every call (SciPy keeps references); the
            # objective's own float64 gradient is already new.
            out = grad if self._grad is None else np.empty(self.n_params)
            norms = _map(
                slices,
                lambda part: _scale_into(grad[part], scale, out[part]),
            )
            grad_search, gnorm = out, max(norms) / scale
            x_copy = np.empty_like(x)
            _map(slices, lambda part: np.copyto(x_copy[part], x[part]))
        else:
            grad_search = self.transfer.to_search(grad)
            gnorm = self.ops.inf_norm(grad_search)
            if scale != 1.0:
                grad_search *= scale
            x_copy = self.ops.copy(x)
        loss = float(loss) if np.isfinite(loss) and np.isfinite(gnorm) else np.inf
        self.recent.append((x_copy, loss, gnorm))
        return loss, grad_search

    def lookup(self, x):
        """Unscaled loss and gradient norm of a recently evaluated point, or None."""
        for x_seen, loss, gnorm in reversed(self.recent):
            if self.ops.equal(x_seen, x):
                return loss, gnorm
        return None


class SciPyHessp:
    """Adapt a curvature-product factory to SciPy's ``hessp(x, p)`` protocol.

    Parameters
    ----------
    make_product : callable
        ``make_product(theta)`` returns an object whose ``dot(v)`` is the
        curvature at ``theta`` (parameters of the objective) times ``v``.
    transfer : Transfer
        How host vectors become the objective's parameters and back; the
        products are computed where the data lives.

    Notes
    -----
    Truncated-Newton solvers make many products at one point; the forward
    pass behind them is computed once per point. A product ``Hp`` that is not
    finite, or whose curvature ``p @ Hp`` overflows, raises
    :class:`NonFiniteError`: SciPy's Newton solvers would fail on it with errors
    of their own, and trust-ncg's subproblem, which divides by ``p @ Hp``, would
    never end.
    """

    def __init__(self, make_product, transfer):
        self.make_product = make_product
        self.transfer = transfer
        self._x = None
        self._product = None

    def __call__(self, x, p):
        if self._x is None or not np.array_equal(x, self._x):
            # Copies: SciPy's Newton-CG updates its iterate in place, and the
            # product keeps views of the parameters it was built at.
            self._x = np.array(x, copy=True)
            self._product = self.make_product(
                self.transfer.to_data(np.array(x, copy=True))
            )
        with np.errstate(over="ignore", invalid="ignore"):
            Hp = self.transfer.to_search(self._product.dot(self.transfer.to_data(p)))
            if not (np.isfinite(inf_norm(Hp)) and np.isfinite(np.dot(p, Hp))):
                raise NonFiniteError("non-finite curvature product")
        return Hp


def _map(slices, func):
    """``func`` over slices of the parameter vector: in the objective's
    threads when it has ``map_slices``, else once over the whole vector."""
    return slices(func) if slices is not None else [func(slice(None))]


def _scale_into(grad, scale, out):
    """``out = scale * grad`` (into float64); returns ``max |out|``."""
    np.multiply(grad, scale, out=out, dtype=np.float64)
    return inf_norm(out)


def inf_norm(v):
    """Largest absolute entry, without a temporary of ``v``'s size."""
    return float(max(v.max(), -v.min())) if v.size else 0.0
