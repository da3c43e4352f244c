"""What runs on the workers for :class:`sklearn_cgmlp._dask.objective.DaskObjective`.

Module-level functions and classes only, so that tasks pickle by reference
and capture no arrays: the data reach a task as futures of its block, the
parameters as one key of the round's graph.
"""

from contextlib import contextmanager, nullcontext

import numpy as np

from .._line import BlockLine, step_parameters
from .._ops import NUMPY


class Block:
    """One row block of the training data, held by one worker.

    Besides the data it keeps scratch space of the worker's evaluations (the
    kernel's workspace and the forward pass of the current curvature point),
    which is never pickled: were the block moved or spilled, the copy would
    rebuild it.
    """

    def __init__(self, X, Y, sample_weight):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.workspace = None
        self.curvature = None  # (token, CurvatureProduct)
        self.line = None  # (token, BlockLine, theta, p, step buffer)

    def __getstate__(self):
        return {"X": self.X, "Y": self.Y, "sample_weight": self.sample_weight}

    def __setstate__(self, state):
        self.__init__(state["X"], state["Y"], state["sample_weight"])

    def __sizeof__(self):
        # Dask measures results with sys.getsizeof: report the data, so that
        # the scheduler keeps tasks where the block is and accounts memory.
        nbytes = self.X.nbytes + self.Y.nbytes
        if self.sample_weight is not None:
            nbytes += self.sample_weight.nbytes
        return nbytes + 64


def _aligned(a):
    """``a``, or an aligned copy of it.

    Dask may deserialize a small block at an offset that is not a multiple of
    its item size; NumPy then computes its matrix products without BLAS (far
    slower, and rounded otherwise than in memory).
    """
    return a if a is None or a.flags.aligned else np.array(a, copy=True)


def make_block(X, Y, sample_weight):
    return Block(_aligned(X), _aligned(Y), _aligned(sample_weight))


def block_weight_sum(block):
    if block.sample_weight is None:
        return float(block.X.shape[0])
    return float(np.sum(block.sample_weight, dtype=np.float64))


class TaskSpec:
    """What a task needs besides the data: small, pickled into every task.

    ``loss`` is the fit's :class:`~sklearn_cgmlp._loss.MLPLoss`, ``chunk_size``
    the rows a worker evaluates at a time, ``blas_threads`` the BLAS threads
    of the worker's matrix products (None: as the worker has them).
    """

    def __init__(self, loss, chunk_size, blas_threads):
        self.loss = loss
        self.chunk_size = chunk_size
        self.blas_threads = blas_threads


_CONTROLLER = None  # one threadpoolctl controller per worker process


def blas_limit(n_threads):
    """Context limiting BLAS to ``n_threads`` in this process (None: as is)."""
    global _CONTROLLER
    if n_threads is None:
        return nullcontext()
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=n_threads, user_api="blas")


@contextmanager
def task_context(spec):
    """BLAS threads as asked, and no floating-point warnings: trial points
    of a line search may overflow, which the solver on the client sees as a
    non-finite loss (as it does in memory, where it silences them too)."""
    with np.errstate(over="ignore", invalid="ignore"), blas_limit(spec.blas_threads):
        yield


def block_loss_grad(block, theta, spec, scale):
    """``(scale * weighted data loss, its gradient)`` of one block."""
    workspace = _workspace(block, spec, theta.dtype)
    theta = _aligned(theta)
    with task_context(spec):
        return spec.loss.data_loss_gradient(
            theta,
            block.X,
            block.Y,
            sample_weight=block.sample_weight,
            scale=scale,
            workspace=workspace,
            chunk_size=spec.chunk_size,
        )


class MissingPoint(LookupError):
    """A block does not have the forward pass of the curvature point, and
    the round did not bring the point (``theta``) to build it."""


def block_curvature_dot(block, theta, token, v, spec, weight_sum):
    """Curvature of one block's data term (no penalty) at the point of
    ``token`` times ``v``; ``theta`` is that point, or None if the block
    should have its forward pass already."""

    weights = block.sample_weight

    def product(rows):
        return spec.loss.curvature_product(
            theta,
            block.X[rows],
            block.Y[rows],
            sample_weight=None if weights is None else weights[rows],
            sample_weight_sum=weight_sum,
            penalized=False,
        )

    n_rows = block.X.shape[0]
    with task_context(spec):
        if spec.chunk_size is None or spec.chunk_size >= n_rows:
            # Solvers make many products at one point: keep its forward pass.
            if block.curvature is None or block.curvature[0] != token:
                if theta is None:
                    raise MissingPoint(token)
                block.curvature = None  # free the old one before building
                block.curvature = (token, product(slice(None)))
            return block.curvature[1].dot(v)
        total = None
        for start in range(0, n_rows, spec.chunk_size):
            part = product(slice(start, start + spec.chunk_size)).dot(v)
            total = part if total is None else add(total, part)
        return total


class MissingLine(LookupError):
    """A block has not set up the line of a trial (it was rebuilt since)."""


def _workspace(block, spec, dtype):
    """The block's scratch space for evaluations of ``spec``."""
    rows = block.X.shape[0]
    if spec.chunk_size is not None and spec.chunk_size < rows:
        rows = spec.chunk_size
    block.workspace = spec.loss.workspace(rows, dtype, block.workspace)
    return block.workspace


def block_line_start(block, theta, p, token, continues, spec, scale):
    """Set up the line ``theta + a p`` of ``token`` on the block
    (:meth:`sklearn_cgmlp._line.BlockLine.start`); returns 0.0."""
    theta, p = _aligned(theta), _aligned(p)
    with task_context(spec):
        line = None
        if block.line is not None:
            line = block.line[1]
        if line is None:
            line = BlockLine(
                spec.loss, block.X, block.Y, block.sample_weight, scale=scale,
                chunk_size=spec.chunk_size,
                workspace=_workspace(block, spec, theta.dtype), ops=NUMPY,
            )  # fmt: skip
        line.workspace = _workspace(block, spec, theta.dtype)
        line.start(theta, p, continues)
        block.line = (token, line, theta, p, np.empty_like(theta))
    return 0.0


def _line_of(block, token):
    if block.line is None or block.line[0] != token:
        raise MissingLine(token)
    return block.line


def block_line_trial(block, a, token, spec):
    """``(data loss, slope)`` of the block at step ``a`` of the line."""
    _, line, theta, p, step = _line_of(block, token)
    with task_context(spec):
        upper, _ = step_parameters(spec.loss, theta, p, a, step, NUMPY)
        direction = spec.loss.layout.unpack(p)
        return line.trial(a, upper, direction)


def block_line_gradient(block, a, token, spec):
    """``(data loss, data gradient)`` of the block at step ``a``."""
    _, line, theta, p, step = _line_of(block, token)
    with task_context(spec):
        params, _ = step_parameters(spec.loss, theta, p, a, step, NUMPY)
        return line.gradient(a, params, np.empty_like(theta))


def clear_block(block):
    block.workspace = None
    block.curvature = None
    block.line = None


def add(a, b):
    """Sum of two block results: numbers, arrays, or pairs of them."""
    if isinstance(a, tuple):
        return add(a[0], b[0]), add(a[1], b[1])
    if not isinstance(a, np.ndarray):
        return a + b
    if not a.flags.writeable:  # as deserialized from a read-only buffer
        return a + b
    a += b  # a is the fresh result of one task, used by this sum alone
    return a


def sum_parts(*parts):
    """Sum of block results, left to right."""
    total = parts[0]
    with np.errstate(over="ignore", invalid="ignore"):
        for part in parts[1:]:
            total = add(total, part)
    return total
