"""Adapters between an objective and a solver's vectors.

The glue sees an objective only through :class:`Objective` and its curvature
only through :class:`CurvatureOperator`; every objective (in memory, on a
device, on a Dask cluster) implements both. :class:`Transfer` moves vectors
between the solver's search space (host float64 NumPy for SciPy, the data's
namespace for the device-resident CG) and the objective's parameters (the
data's namespace and dtype); :class:`SciPyObjective` evaluates the objective at
a search vector, scaled as the solver is posed it, keeps count, and remembers
the last few points in its one cache (:class:`PointCache`), which also serves
the curvature products of :meth:`SciPyObjective.hessp`.
"""

from collections import deque
from typing import Protocol

import numpy as np

from ._ops import NUMPY


class NonFiniteError(ArithmeticError):
    """A curvature product was not finite; the solver cannot go on."""


class NonFiniteInitialLoss(ValueError):
    """The loss or its gradient is not finite at the starting point."""


class CurvatureOperator(Protocol):
    """The curvature (Gauss-Newton matrix) of an objective at one point."""

    def dot(self, v):
        """Curvature times ``v``, a new parameter vector."""


class Objective(Protocol):
    """What the solver glue needs of an objective, wherever its data live.

    ``ops`` are the operations of the parameters' namespace
    (:mod:`sklearn_cgmlp._ops`), ``dtype`` their dtype.
    """

    ops: object
    dtype: object
    n_params: int
    n_threads: int

    def loss_grad(self, theta, out=None):
        """``(loss, grad)`` at ``theta`` (parameters of ``ops`` and ``dtype``);
        the gradient goes into ``out`` where the namespace allows it."""

    def curvature(self, theta) -> CurvatureOperator:
        """The curvature at ``theta``."""

    def map_slices(self, func):
        """``[func(part) for part in parts]`` over contiguous slices that
        cover the parameter vector (in the objective's threads)."""

    def line(self, theta, p, continues=False):
        """The objective along ``theta + a p`` on cached products (an object
        with ``trial(a) -> (loss, slope)`` and ``gradient(a) -> (loss,
        grad)``), or None where that does not pay or the objective cannot.
        ``continues``: ``theta`` is the step of the last ``gradient`` of the
        previous line."""

    def close(self):
        """Release threads and scratch space (the objective stays usable)."""


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


class _Point:
    """What is known at one search vector."""

    __slots__ = ("x", "loss", "gnorm", "grad", "grad_scale", "curvature")

    def __init__(self, x):
        self.x = x
        self.loss = self.gnorm = self.grad = self.grad_scale = self.curvature = None


class PointCache:
    """The most recent points the glue evaluated, newest last: their loss,
    gradient norm and curvature operator, and the newest one's gradient.

    The points are copies: some SciPy methods update their iterate in place
    after evaluating it. Only the newest point keeps its gradient (one
    parameter-sized vector), which is all that is asked for again: at the
    start of a solver run, at a restart, and by a line search that asks for
    the value and the slope of one trial point separately.
    """

    def __init__(self, ops, size=4):
        self.ops = ops
        self._points = deque(maxlen=size)

    def find(self, x):
        """The entry for ``x`` (newest first), or None."""
        for point in reversed(self._points):
            if self.ops.equal(point.x, x):
                return point
        return None

    def newest(self, x):
        """The newest entry if it is the one for ``x``, else None (one
        comparison: the check made before every evaluation)."""
        if self._points and self.ops.equal(self._points[-1].x, x):
            return self._points[-1]
        return None

    def add(self, x_copy):
        """A new (newest) entry for ``x_copy``, a private copy of a point."""
        if self._points:
            self._points[-1].grad = None
        point = _Point(x_copy)
        self._points.append(point)
        return point


class SciPyObjective:
    """Adapt an objective to SciPy's ``jac=True`` and ``hessp`` protocols, and
    to our CG's lines (:meth:`line`).

    Parameters
    ----------
    objective : Objective
        The objective (:mod:`sklearn_cgmlp._objective`,
        :mod:`sklearn_cgmlp._dask.objective`).
    search_ops : NumPyOps or ArrayAPIOps, default=NUMPY
        Namespace of the solver's vectors (see :class:`Transfer`).

    Attributes
    ----------
    scale : float
        The solver is handed ``scale * loss`` and ``scale * grad`` (see
        :mod:`sklearn_cgmlp._solvers`); 1 unless the glue sets it.
    n_evals : int
        Number of full evaluations (loss and gradient) so far.
    n_trials : int
        Number of trial steps on cached lines so far (:meth:`line`).
    transfer : Transfer
        How search vectors become the objective's parameters and back.

    Notes
    -----
    SciPy keeps references to the gradients it is handed (CG compares the new
    gradient with the previous one), so every call returns a new gradient
    array. With NumPy float32 data the parameter and gradient vectors of the
    evaluation itself are preallocated and reused.

    Truncated-Newton solvers make many curvature products at one point; the
    curvature operator of a point (its forward pass) is built once and kept
    with the point in the cache. A product ``Hp`` that is not finite, or
    whose curvature ``p @ Hp`` overflows, raises :class:`NonFiniteError`:
    SciPy's Newton solvers would fail on it with errors of their own, and
    trust-ncg's subproblem, which divides by ``p @ Hp``, would never end.
    """

    def __init__(self, objective, *, search_ops=NUMPY):
        self.objective = objective
        self.n_params = objective.n_params
        data_ops = objective.ops
        self.dtype = np.dtype(objective.dtype) if data_ops.is_numpy else objective.dtype
        self.transfer = Transfer(data_ops, self.dtype, search_ops)
        self.ops = search_ops
        self.scale = 1.0
        self.n_evals = 0
        self.n_trials = 0
        self.cache = PointCache(search_ops)
        # The search vector at which the last line's gradient was taken.
        self._line_end = None
        # The per-evaluation passes over parameter-sized host vectors (cast,
        # scale, norm, copy) run in the objective's threads.
        self._host = search_ops.is_numpy and data_ops.is_numpy
        self._theta = self._grad = None
        if self._host and self.dtype != np.float64:
            self._theta = np.empty(self.n_params, dtype=self.dtype)
            self._grad = np.empty(self.n_params, dtype=self.dtype)

    def __call__(self, x):
        point = self.cache.newest(x)
        if point is not None and point.grad is not None:
            loss, grad = point.loss, point.grad * (self.scale / point.grad_scale)
        else:
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
        caches the unscaled loss and gradient norm with a copy of ``x``."""
        self.n_evals += 1
        slices = self.objective.map_slices if self._host else None
        if slices is not None and self._theta is not None:
            theta = self._theta
            slices(lambda part: np.copyto(theta[part], x[part], casting="same_kind"))
        else:
            theta = self.transfer.to_data(x, out=self._theta)
        loss, grad = self.objective.loss_grad(theta, out=self._grad)
        if self._host:
            # A new float64 array every call (SciPy keeps references); the
            # objective's own float64 gradient is already new.
            out = grad if self._grad is None else np.empty(self.n_params)
            norms = slices(lambda part: _scale_into(grad[part], scale, out[part]))
            grad_search, gnorm = out, max(norms) / scale
            x_copy = np.empty_like(x)
            slices(lambda part: np.copyto(x_copy[part], x[part]))
        else:
            grad_search = self.transfer.to_search(grad)
            gnorm = self.ops.inf_norm(grad_search)
            if scale != 1.0:
                grad_search *= scale
            x_copy = self.ops.copy(x)
        loss = float(loss) if np.isfinite(loss) and np.isfinite(gnorm) else np.inf
        point = self.cache.add(x_copy)
        point.loss, point.gnorm = loss, gnorm
        point.grad, point.grad_scale = grad_search, scale
        return loss, grad_search

    def line(self, x, p):
        """The line ``x + a p`` on the objective's cached products, or None
        (then the solver evaluates trial points in full)."""
        ops = self.ops
        continues = self._line_end is not None and ops.equal(self._line_end, x)
        # New parameter vectors of the objective: the line keeps them.
        theta = self.transfer.to_data(ops.copy(x))
        direction = self.transfer.to_data(ops.copy(p))
        line = self.objective.line(theta, direction, continues=continues)
        return None if line is None else _SearchLine(self, line, x, p)

    def remember(self, x, loss, grad):
        """Cache a known unscaled evaluation at ``x`` (a private copy), so
        that the solver's first call there costs nothing."""
        point = self.cache.add(x)
        point.loss, point.gnorm = loss, self.ops.inf_norm(grad)
        point.grad, point.grad_scale = grad, 1.0

    def lookup(self, x):
        """Unscaled loss and gradient norm of a recently evaluated point, or
        None."""
        point = self.cache.find(x)
        if point is None or point.loss is None:
            return None
        return point.loss, point.gnorm

    def hessp(self, x, p):
        """The curvature at ``x`` times ``p`` (SciPy's ``hessp``)."""
        point = self.cache.find(x)
        if point is None:
            # A copy: SciPy's Newton-CG updates its iterate in place.
            point = self.cache.add(self.ops.copy(x))
        if point.curvature is None:
            # The operator keeps views of the parameters it is built at: a
            # copy of its own.
            theta = self.transfer.to_data(self.ops.copy(x))
            point.curvature = self.objective.curvature(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            Hp = self.transfer.to_search(point.curvature.dot(self.transfer.to_data(p)))
            if not (
                np.isfinite(self.ops.inf_norm(Hp)) and np.isfinite(self.ops.dot(p, Hp))
            ):
                raise NonFiniteError("non-finite curvature product")
        return Hp


class _SearchLine:
    """A line of the objective, as the solver sees it: scaled, in the search
    space, counting trials and gradients (:meth:`SciPyObjective.line`)."""

    def __init__(self, adapter, line, x, p):
        self.adapter, self.line, self.x, self.p = adapter, line, x, p
        self._alpha = self._value = None

    def _trial(self, alpha):
        alpha = float(alpha)
        if alpha != self._alpha:
            self.adapter.n_trials += 1
            with np.errstate(over="ignore", invalid="ignore"):
                loss, slope = self.line.trial(alpha)
            if not (np.isfinite(loss) and np.isfinite(slope)):
                loss, slope = np.inf, 0.0  # unacceptable, as evaluations say
            self._alpha, self._value = alpha, (float(loss), float(slope))
        return self._value

    def phi(self, alpha):
        return self.adapter.scale * self._trial(alpha)[0]

    def derphi(self, alpha):
        return self.adapter.scale * self._trial(alpha)[1]

    def gradient(self, alpha):
        """The gradient at step ``alpha`` (scaled, a new search vector); the
        point is cached as an evaluation, and the next line may continue
        from it."""
        adapter, ops = self.adapter, self.adapter.ops
        alpha = float(alpha)
        adapter.n_evals += 1
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grad = self.line.gradient(alpha)
            grad_search = adapter.transfer.to_search(grad)
            gnorm = ops.inf_norm(grad_search)
            if adapter.scale != 1.0:
                grad_search *= adapter.scale
        x = self.x + alpha * self.p  # as the solver computes its iterate
        loss = float(loss) if np.isfinite(loss) and np.isfinite(gnorm) else np.inf
        point = adapter.cache.add(x)
        point.loss, point.gnorm = loss, gnorm
        point.grad, point.grad_scale = grad_search, adapter.scale
        adapter._line_end = x
        if loss == np.inf:
            return ops.zeros(adapter.n_params, adapter.transfer.search_dtype)
        return grad_search


def _scale_into(grad, scale, out):
    """``out = scale * grad`` (into float64); returns ``max |out|``."""
    np.multiply(grad, scale, out=out, dtype=np.float64)
    return NUMPY.inf_norm(out)
