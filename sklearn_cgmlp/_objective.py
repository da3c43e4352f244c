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

from ._loss import Workspace, weight_sum
from ._ops import NUMPY
from ._threads import BlasThreads, RowPool

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
            Workspace(loss.layout.layer_units, chunk_size if chunked else rows, X.dtype)
            for _ in self.blocks
        ]
        self._pool = RowPool(n_blocks)
        blas = blas if blas is not None else BlasThreads()
        self._single_thread = blas.numpy_single_thread
        self._block_grads = None
        self._slices = _even_slices(loss.n_params, n_blocks)

    @property
    def n_params(self):
        """Length of the parameter vector."""
        return self.loss.n_params

    @property
    def n_threads(self):
        """Threads an evaluation runs in."""
        return len(self.blocks)

    def close(self):
        """Release the threads (the objective stays usable)."""
        self._pool.close()

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
        if self._block_grads is None:
            self._block_grads = [grad.copy() for _ in self.blocks[1:]]
        buffers = [grad, *self._block_grads]
        with self._single_thread():
            losses = self._pool.map(
                lambda b: self._block_data_loss(theta, buffers[b], b),
                range(len(self.blocks)),
            )
            squares = self._pool.map(
                lambda s: self._reduce(theta, buffers, s, strength), self._slices
            )
        return sum(losses) + loss.penalty_value(strength, sum(squares)), grad

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

    def __init__(self, X, Y, *, loss, sample_weight=None, chunk_size=None, ops):
        self.X, self.Y = X, Y
        self.loss = loss
        self.sample_weight = sample_weight
        self.ops = ops
        self.sample_weight_sum = weight_sum(X.shape[0], sample_weight, ops)
        chunked = chunk_size is not None and chunk_size < X.shape[0]
        self.chunk_size = chunk_size if chunked else None
        self.dtype = X.dtype

    @property
    def n_params(self):
        """Length of the parameter vector."""
        return self.loss.n_params

    def close(self):
        """Nothing to release."""

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
