"""Objectives by where the data lives.

An objective owns the training data of one fit and a
:class:`~sklearn_cgmlp._loss.MLPLoss`, and evaluates the loss and its gradient
(``objective.loss_grad(theta)``) and curvature products
(``objective.curvature(theta)``) on the data. The solver glue only sees the
interface of :class:`~sklearn_cgmlp._adapters.Objective`; the backend of the
data (:mod:`sklearn_cgmlp._backends`) picks the objective. The objective over
data on a Dask cluster is in :mod:`sklearn_cgmlp._dask.objective`.
"""

import numpy as np
from scipy import sparse

from . import _line
from ._line import BlockLine, PenaltyLine, step_parameters
from ._ops import NUMPY
from ._threads import BlasThreads, RowPool
from ._workspace import Workspace, weight_sum

# A thread of its own pays off from about this many rows on (smaller blocks
# make matrix products too thin to run at full speed).
MIN_ROWS_PER_THREAD = 512


class InMemoryObjective:
    """The objective over data in this process's memory.

    ``X`` may be a NumPy array, a memory map or a SciPy sparse matrix.

    With ``n_threads > 1`` the rows are split into as many contiguous blocks
    (at least :data:`MIN_ROWS_PER_THREAD` rows each), every block is evaluated
    in a thread of its own with its own scratch space and gradient buffer, its
    matrix products single-threaded, and the block gradients are summed in
    block order, in parallel over slices of the parameter vector, together
    with the L2 term. The element-wise work (activations, derivatives, the
    output loss) thus runs in parallel too, in the thread that has the block's
    data in cache, and results depend on the number of threads only through
    rounding (and not at all for a given number).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data, of the dtype the objective is computed in.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets (see
        :meth:`sklearn_cgmlp._loss.MLPLoss.data_loss_gradient`).
    loss : MLPLoss
        The network, its loss and its penalty.
    sample_weight : ndarray of shape (n_samples,) or None
        Sample weights; None means all ones.
    chunk_size : int or None
        Rows evaluated at a time by each thread (bounds the scratch memory).
    n_threads : int, default=1
        Threads to use.
    blas : BlasThreads, default=None
        The BLAS libraries' settings (read anew when None).
    cached_line : bool, default=None
        Whether :meth:`line` offers lines on cached first-layer products;
        None decides by :func:`sklearn_cgmlp._line.line_pays`.
    """

    ops = NUMPY

    def __init__(
        self,
        X,
        Y,
        *,
        loss,
        sample_weight=None,
        chunk_size=None,
        n_threads=1,
        blas=None,
        cached_line=None,
    ):
        n_samples = X.shape[0]
        n_blocks = max(1, min(int(n_threads), n_samples // MIN_ROWS_PER_THREAD))
        bounds = [n_samples * b // n_blocks for b in range(n_blocks + 1)]
        self.blocks = list(zip(bounds[:-1], bounds[1:]))
        rows = max(stop - start for start, stop in self.blocks)
        chunked = chunk_size is not None and chunk_size < rows
        if (chunked or n_blocks > 1) and sparse.issparse(X) and X.format == "csc":
            X = X.tocsr()  # row slices of CSC matrices are slow
        self.X, self.Y = X, Y
        self.loss = loss
        self.sample_weight = sample_weight
        self.sample_weight_sum = weight_sum(n_samples, sample_weight)
        self.chunk_size = chunk_size if chunked else None
        self.dtype = X.dtype
        self.workspaces = [
            Workspace(
                loss.layout.layer_units,
                chunk_size if chunked else rows,
                X.dtype,
                keep_input=loss.keeps_input,
            )
            for _ in self.blocks
        ]
        self._pool = RowPool(n_blocks)
        # The BLAS libraries as the fit found them; the solver's glue reuses
        # this scan (each costs milliseconds, a tenth of a small fit).
        self.blas = blas if blas is not None else BlasThreads()
        self._single_thread = self.blas.numpy_single_thread
        self._block_grads = None
        self._slices = _even_slices(loss.n_params, n_blocks)
        if cached_line is None:
            cached_line = _line.line_pays(
                loss.layout.layer_units, rows, _nnz_per_row(X),
                sparse_input=sparse.issparse(X), chunked=chunked,
            )  # fmt: skip
        self.cached_line = bool(cached_line)
        self._lines = None

    @property
    def n_params(self):
        """Length of the parameter vector."""
        return self.loss.n_params

    @property
    def n_threads(self):
        """Threads an evaluation runs in."""
        return len(self.blocks)

    def close(self):
        """Release the threads and the line caches (the objective stays
        usable)."""
        self._pool.close()
        self._lines = None

    def map_slices(self, func):
        """``[func(part) for part in slices]`` over contiguous slices of the
        parameter vector, one per thread, in parallel: for the passes over
        parameter-sized vectors that the solver glue makes per evaluation."""
        return self._pool.map(func, self._slices)

    # ----------------------------------------------------------- one block
    def _rows(self, block, A):
        start, stop = self.blocks[block]
        return A if A is None or len(self.blocks) == 1 else A[start:stop]

    def _block_data_loss(self, theta, grad, block):
        loss, _ = self.loss.data_loss_gradient(
            theta,
            self._rows(block, self.X),
            self._rows(block, self.Y),
            sample_weight=self._rows(block, self.sample_weight),
            scale=1.0 / self.sample_weight_sum,
            grad=grad,
            workspace=self.workspaces[block],
            chunk_size=self.chunk_size,
        )
        return loss

    # ---------------------------------------------------------- evaluation
    def loss_grad(self, theta, out=None):
        """``(loss, grad)`` at ``theta``; the gradient goes into ``out`` if
        given (a new array otherwise)."""
        grad = out if out is not None else np.empty_like(theta)
        loss, strength = self.loss, self.loss.penalty_strength(self.sample_weight_sum)
        if len(self.blocks) == 1:
            value = self._block_data_loss(theta, grad, 0)
            value += loss.add_penalty(
                theta, grad, strength, scratch=self.workspaces[0].coef_flat
            )
            return value, grad
        losses, squares = self._blocks_and_reduce(
            theta, grad, strength, self._block_data_loss
        )
        return sum(losses) + loss.penalty_value(strength, squares), grad

    def _blocks_and_reduce(self, theta, grad, strength, block_pass):
        """``block_pass(theta, buffer, block)`` on every block in its thread,
        each into a gradient buffer of its own, then the buffers summed into
        ``grad`` with the L2 term of ``theta``; returns the blocks' results
        and the sum of squared coefficients."""
        if self._block_grads is None:
            self._block_grads = [np.empty_like(grad) for _ in self.blocks[1:]]
        buffers = [grad, *self._block_grads]
        with self._single_thread():
            results = self._pool.map(
                lambda b: block_pass(theta, buffers[b], b), range(len(self.blocks))
            )
            squares = self._pool.map(
                lambda s: self._reduce(theta, buffers, s, strength), self._slices
            )
        return results, sum(squares)

    def _reduce(self, theta, buffers, part, strength):
        """Sum the block gradients over one slice of the parameters, in block
        order, into the first, add the L2 term there; return the slice's sum
        of squared coefficients."""
        total = buffers[0][part]
        for other in buffers[1:]:
            total += other[part]
        return self.loss.add_penalty_gradient(
            theta, buffers[0], strength, parts=self.loss.coef_parts(part)
        )

    # ---------------------------------------------------------------- lines
    def line(self, theta, p, continues=False):
        """The objective along ``theta + a p`` on cached first-layer products
        (:mod:`sklearn_cgmlp._line`), each row block in its thread; None
        where the cache does not pay (``cached_line``)."""
        if not self.cached_line:
            return None
        if self._lines is None:
            scale = 1.0 / self.sample_weight_sum
            self._lines = [
                BlockLine(
                    self.loss,
                    self._rows(b, self.X),
                    self._rows(b, self.Y),
                    self._rows(b, self.sample_weight),
                    scale=scale,
                    chunk_size=self.chunk_size,
                    workspace=self.workspaces[b],
                    ops=NUMPY,
                )  # fmt: skip
                for b in range(len(self.blocks))
            ]
        self._map_blocks(lambda b: self._lines[b].start(theta, p, continues))
        return _InMemoryLine(self, theta, p)

    def _map_blocks(self, func):
        """``func(block)`` for every block, in the block's thread."""
        if len(self.blocks) == 1:
            return [func(0)]
        with self._single_thread():
            return self._pool.map(func, range(len(self.blocks)))

    # ----------------------------------------------------------- curvature
    def curvature(self, theta):
        """Gauss-Newton-vector products at ``theta`` (not chunked)."""
        if len(self.blocks) == 1:
            return self.loss.curvature_product(
                theta,
                self.X,
                self.Y,
                sample_weight=self.sample_weight,
                sample_weight_sum=self.sample_weight_sum,
            )
        return _BlockCurvature(self, theta)


def _nnz_per_row(X):
    """Stored entries per row of ``X`` (its columns when dense)."""
    if sparse.issparse(X):
        return X.nnz / max(X.shape[0], 1)
    return X.shape[1]


class _InMemoryLine:
    """A line of :class:`InMemoryObjective` (see
    :meth:`InMemoryObjective.line`): trials and gradients summed over the
    row blocks, in block order, with the L2 term added once."""

    def __init__(self, objective, theta, p):
        self.objective, self.theta, self.p = objective, theta, p
        loss = objective.loss
        self.strength = loss.penalty_strength(objective.sample_weight_sum)
        self.penalty = PenaltyLine(loss, theta, p, self.strength, NUMPY)
        self.direction = loss.layout.unpack(p)
        self._step = np.empty_like(theta)

    def trial(self, a):
        """``(loss, slope)`` at step ``a``."""
        objective = self.objective
        upper, _ = step_parameters(objective.loss, self.theta, self.p, a,
                                   self._step, NUMPY)  # fmt: skip
        parts = objective._map_blocks(
            lambda b: objective._lines[b].trial(a, upper, self.direction)
        )
        value = sum(v for v, _ in parts) + self.penalty.value(a)
        return value, sum(s for _, s in parts) + self.penalty.slope(a)

    def gradient(self, a, out=None):
        """``(loss, grad)`` at step ``a``, the gradient into ``out`` if given."""
        objective = self.objective
        loss = objective.loss
        params, theta_a = step_parameters(
            loss, self.theta, self.p, a, self._step, NUMPY, first_layer=True
        )
        grad = out if out is not None else np.empty_like(self.theta)

        def block_pass(theta, buffer, b):
            return objective._lines[b].gradient(a, params, buffer)[0]

        if len(objective.blocks) == 1:
            value = block_pass(theta_a, grad, 0)
            loss.add_penalty_gradient(
                theta_a, grad, self.strength,
                scratch=objective.workspaces[0].coef_flat,
            )  # fmt: skip
        else:
            values, _ = objective._blocks_and_reduce(
                theta_a, grad, self.strength, block_pass
            )
            value = sum(values)
        return value + self.penalty.value(a), grad


def _even_slices(n, parts):
    bounds = [n * t // parts for t in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


class _BlockCurvature:
    """Curvature products summed over the row blocks of an objective."""

    def __init__(self, objective, theta):
        self.objective = objective

        def make(block):
            return objective.loss.curvature_product(
                theta,
                objective._rows(block, objective.X),
                objective._rows(block, objective.Y),
                sample_weight=objective._rows(block, objective.sample_weight),
                sample_weight_sum=objective.sample_weight_sum,
                penalized=False,
            )

        with objective._single_thread():
            self.products = objective._pool.map(make, range(len(objective.blocks)))

    def dot(self, v):
        """Curvature times ``v`` (a new array)."""
        objective = self.objective
        with objective._single_thread():
            parts = objective._pool.map(
                lambda b: self.products[b].dot(v), range(len(self.products))
            )
        total = parts[0]
        for part in parts[1:]:
            total += part
        loss = objective.loss
        strength = loss.penalty_strength(objective.sample_weight_sum)
        return loss.add_penalty_curvature(v, total, strength)


class ArrayAPIObjective:
    """The objective over arrays of another namespace, on their device.

    ``X``, ``Y`` and ``sample_weight`` are arrays of one array API namespace
    (PyTorch, CuPy, array-api-strict) on one device; every loss, gradient and
    curvature product is computed there, by the same kernel as
    :class:`InMemoryObjective` (through :mod:`sklearn_cgmlp._ops`). Only the
    loss crosses to the host.

    Parameters
    ----------
    X, Y, loss, sample_weight, chunk_size
        As for :class:`InMemoryObjective`, in the namespace of ``ops``.
    ops : ArrayAPIOps
        Operations of the data's namespace and device.
    """

    n_threads = 1

    def __init__(self, X, Y, *, loss, sample_weight=None, chunk_size=None, ops,
                 cached_line=None):  # fmt: skip
        self.X, self.Y = X, Y
        self.loss = loss
        self.sample_weight = sample_weight
        self.ops = ops
        self.sample_weight_sum = weight_sum(X.shape[0], sample_weight, ops)
        chunked = chunk_size is not None and chunk_size < X.shape[0]
        self.chunk_size = chunk_size if chunked else None
        self.dtype = X.dtype
        if cached_line is None:
            cached_line = _line.line_pays(
                loss.layout.layer_units, X.shape[0], X.shape[1], chunked=chunked
            )
        self.cached_line = bool(cached_line)
        self._line = None

    @property
    def n_params(self):
        """Length of the parameter vector."""
        return self.loss.n_params

    def close(self):
        """Release the line caches."""
        self._line = None

    def line(self, theta, p, continues=False):
        """The objective along ``theta + a p`` on cached first-layer
        products, on the device; None where the cache does not pay."""
        if not self.cached_line:
            return None
        if self._line is None:
            self._line = BlockLine(
                self.loss, self.X, self.Y, self.sample_weight,
                scale=1.0 / self.sample_weight_sum, chunk_size=self.chunk_size,
                workspace=None, ops=self.ops,
            )  # fmt: skip
        self._line.start(theta, p, continues)
        return _DeviceLine(self, theta, p)

    def map_slices(self, func):
        """``[func(slice(None))]``: one pass, in the calling thread."""
        return [func(slice(None))]

    def loss_grad(self, theta, out=None):
        """``(loss, grad)`` at ``theta``; the gradient is a new array on the
        data's device (``out`` is ignored: the array API has no ``out=``)."""
        return self.loss.loss_gradient(
            theta,
            self.X,
            self.Y,
            sample_weight=self.sample_weight,
            sample_weight_sum=self.sample_weight_sum,
            chunk_size=self.chunk_size,
            ops=self.ops,
        )

    def curvature(self, theta):
        """Gauss-Newton-vector products at ``theta``, on the device."""
        return self.loss.curvature_product(
            theta,
            self.X,
            self.Y,
            sample_weight=self.sample_weight,
            sample_weight_sum=self.sample_weight_sum,
            ops=self.ops,
        )


class _DeviceLine:
    """A line of :class:`ArrayAPIObjective`: every array on the device."""

    def __init__(self, objective, theta, p):
        self.objective, self.theta, self.p = objective, theta, p
        loss, ops = objective.loss, objective.ops
        self.strength = loss.penalty_strength(objective.sample_weight_sum)
        self.penalty = PenaltyLine(loss, theta, p, self.strength, ops)
        self.direction = loss.layout.unpack(p, ops.xp)

    def trial(self, a):
        """``(loss, slope)`` at step ``a``."""
        objective = self.objective
        upper, _ = step_parameters(
            objective.loss, self.theta, self.p, a, None, objective.ops
        )
        value, slope = objective._line.trial(a, upper, self.direction)
        return value + self.penalty.value(a), slope + self.penalty.slope(a)

    def gradient(self, a, out=None):
        """``(loss, grad)`` at step ``a`` (a new array; ``out`` is ignored)."""
        objective = self.objective
        loss, ops = objective.loss, objective.ops
        params, theta_a = step_parameters(loss, self.theta, self.p, a, None, ops)
        value, grad = objective._line.gradient(a, params, None)
        loss.add_penalty_gradient(theta_a, grad, self.strength, ops=ops)
        return value + self.penalty.value(a), grad
