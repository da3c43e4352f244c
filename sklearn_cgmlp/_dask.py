"""The objective of one fit over Dask arrays on a ``distributed`` cluster.

:class:`DaskObjective` has the interface of
:class:`~sklearn_cgmlp._objective.InMemoryObjective`, so the solver glue of
:mod:`sklearn_cgmlp._solvers` runs on the client unchanged, while the data
stay on the workers:

- At construction the row blocks of ``X``, ``Y`` and ``sample_weight`` are
  persisted once and packed, block by block, into one :class:`_Block` on the
  worker that holds the ``X`` block (the small ``Y`` and weight blocks move
  to it once). Nothing of the data ever comes to the client, and nothing is
  computed from the input graphs again, except to rebuild a block a dead
  worker held.
- Every evaluation is one round: one graph holding the parameter vector
  once, a task per block that runs the kernel of :mod:`sklearn_cgmlp._loss`
  on the worker holding the block, and a fixed tree of sums over the blocks
  in block order (so the result does not depend on where the blocks live or
  which task finishes first, only on the row chunks and ``fan_in``). Only
  the root's ``(loss, gradient)`` is gathered; the client adds the L2 term.
  The client holds no future of the round afterwards, so the scheduler
  forgets its tasks.
- Curvature products go the same way, one round per product. The parameter
  vector of a curvature point is broadcast once for all its products, and
  each block caches the forward pass at that point on its worker (as
  :class:`~sklearn_cgmlp._hessian.CurvatureProduct` does in memory) unless
  ``chunk_size`` bounds the worker's memory, in which case every product
  recomputes it chunk by chunk.

The helpers that validate and encode Dask inputs are in
:mod:`sklearn_cgmlp._dask_data`.
"""

import sys
import uuid

import numpy as np

from ._hessian import CurvatureProduct
from ._loss import Workspace, add_penalty, data_loss_grad

_START_A_CLIENT = (
    "Start one before fitting, e.g. on this machine\n"
    "    from distributed import Client, LocalCluster\n"
    "    client = Client(LocalCluster(n_workers=4, threads_per_worker=1))\n"
    "or connect to a running scheduler with Client('tcp://host:8786')."
)


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask collection (imports Dask only if in use).

    An object of a Dask type can only exist once Dask has been imported, so
    this never imports it for NumPy or SciPy inputs.
    """
    if "dask" not in sys.modules:
        return False
    from dask.base import is_dask_collection as _is_dask_collection

    return _is_dask_collection(obj)


def get_client(client=None):
    """The ``distributed.Client`` a Dask fit runs on.

    Parameters
    ----------
    client : distributed.Client, default=None
        The client to use; None takes the current (default) client.

    Returns
    -------
    client : distributed.Client

    Raises
    ------
    ImportError
        If ``distributed`` is not installed.
    ValueError
        If there is no client, or it is closed, with how to start one.
    """
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "Fitting on Dask arrays needs dask.distributed: install it with "
            'pip install "sklearn-cgmlp[dask]" (or "dask[distributed]").'
        ) from exc
    if client is None:
        try:
            client = distributed.default_client()
        except ValueError:
            raise ValueError(
                "Fitting on Dask arrays needs a distributed.Client, and none is "
                f"running. {_START_A_CLIENT}"
            ) from None
    if client.status != "running":
        raise ValueError(
            f"The distributed.Client is {client.status}, not running. {_START_A_CLIENT}"
        )
    return client


# --------------------------------------------------------------- workers


class _Block:
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


def _make_block(X, Y, sample_weight):
    return _Block(X, Y, sample_weight)


def _block_weight_sum(block):
    if block.sample_weight is None:
        return float(block.X.shape[0])
    return float(np.sum(block.sample_weight, dtype=np.float64))


class _Spec:
    """What a task needs besides the data: small, pickled into every task."""

    def __init__(self, layout, activation, out_activation, chunk_size, blas_threads):
        self.layout = layout
        self.activation = activation
        self.out_activation = out_activation
        self.chunk_size = chunk_size
        self.blas_threads = blas_threads


_CONTROLLER = None  # one threadpoolctl controller per worker process


def _blas_limit(n_threads):
    """Context limiting BLAS to ``n_threads`` in this process (None: as is)."""
    global _CONTROLLER
    from contextlib import nullcontext

    if n_threads is None:
        return nullcontext()
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=n_threads, user_api="blas")


def _block_loss_grad(block, theta, spec, scale):
    """``(scale * weighted data loss, its gradient)`` of one block."""
    rows = block.X.shape[0]
    if spec.chunk_size is not None and spec.chunk_size < rows:
        rows = spec.chunk_size
    units = spec.layout.layer_units
    if block.workspace is None or not block.workspace.fits(units, rows, theta.dtype):
        block.workspace = Workspace(units, rows, theta.dtype)
    grad = np.empty_like(theta)
    with _blas_limit(spec.blas_threads):
        loss = data_loss_grad(
            theta,
            block.X,
            block.Y,
            layout=spec.layout,
            activation=spec.activation,
            out_activation=spec.out_activation,
            sample_weight=block.sample_weight,
            scale=scale,
            grad=grad,
            workspace=block.workspace,
            chunk_size=spec.chunk_size,
        )
    return loss, grad


def _block_curvature_dot(block, theta, token, v, spec, weight_sum):
    """Curvature of one block's data term (no penalty) at ``theta`` times ``v``."""

    def product(rows):
        return CurvatureProduct(
            theta,
            block.X[rows],
            block.Y[rows],
            layout=spec.layout,
            activation=spec.activation,
            out_activation=spec.out_activation,
            alpha=0.0,
            sample_weight=None
            if block.sample_weight is None
            else (block.sample_weight[rows]),
            sample_weight_sum=weight_sum,
        )

    n_rows = block.X.shape[0]
    with _blas_limit(spec.blas_threads):
        if spec.chunk_size is None or spec.chunk_size >= n_rows:
            # Solvers make many products at one point: keep its forward pass.
            if block.curvature is None or block.curvature[0] != token:
                block.curvature = None  # free the old one before building
                block.curvature = (token, product(slice(None)))
            return block.curvature[1].dot(v)
        total = None
        for start in range(0, n_rows, spec.chunk_size):
            part = product(slice(start, start + spec.chunk_size)).dot(v)
            total = part if total is None else _add(total, part)
        return total


def _clear_block(block):
    block.workspace = None
    block.curvature = None


def _add(a, b):
    """Sum of two block results: arrays, or ``(loss, gradient)`` pairs."""
    if isinstance(a, tuple):
        return a[0] + b[0], _add(a[1], b[1])
    if not a.flags.writeable:  # as deserialized from a read-only buffer
        return a + b
    a += b  # a is the fresh result of one task, used by this sum alone
    return a


def _sum(*parts):
    """Sum of block results, left to right."""
    total = parts[0]
    for part in parts[1:]:
        total = _add(total, part)
    return total


def _tree_sum(parts, delayed, fan_in):
    """Sums over ``parts`` in a fixed tree: groups of ``fan_in`` neighbours,
    level by level, each summed left to right (block order)."""
    add = delayed(_sum, pure=False)
    while len(parts) > 1:
        groups = [parts[i : i + fan_in] for i in range(0, len(parts), fan_in)]
        parts = [group[0] if len(group) == 1 else add(*group) for group in groups]
    return parts[0]


# --------------------------------------------------------------- client


class DaskObjective:
    """The objective over Dask arrays, evaluated on a ``distributed`` cluster.

    Same interface as :class:`~sklearn_cgmlp._objective.InMemoryObjective`;
    see the module docstring for what runs where.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Training data of the dtype the objective is computed in, with known
        row chunks and one chunk along the columns
        (:func:`sklearn_cgmlp._dask_data.check_X` makes it so).
    Y : dask.array.Array of shape (n_samples, n_outputs)
        Encoded targets (see :func:`sklearn_cgmlp._loss.data_loss_grad`) in
        ``X``'s dtype, chunked along the rows as ``X``.
    layout : ParameterLayout
        Layout of the parameter vector.
    activation : str
        Hidden activation.
    out_activation : str
        Output activation, which selects the loss.
    alpha : float
        L2 penalty.
    sample_weight : dask.array.Array of shape (n_samples,) or None
        Sample weights in ``X``'s dtype, chunked as ``X``; None means all ones.
    chunk_size : int or None
        Rows a worker evaluates at a time within its block (bounds its
        scratch memory; see the module docstring for curvature products).
    client : distributed.Client, default=None
        The client; None takes the current one (:func:`get_client`).
    blas_threads : int, default=None
        BLAS threads of the workers' matrix products, set inside every task;
        None leaves the workers' own setting (Dask's nanny starts workers with
        one BLAS thread).
    fan_in : int, default=8
        Block results summed per task of the reduction tree. Every level of
        the tree costs a scheduler round trip and every task the scheduler's
        overhead, while a task receives ``fan_in - 1`` parameter-sized
        vectors: 8 sums up to 8 blocks in one task, at no more than 7 vectors
        into one worker per level. 2 makes it a binary tree.

    Attributes
    ----------
    sample_weight_sum : float
        ``S``, the sum of the sample weights (``n_samples`` without weights).
    rows_per_block : tuple of int
        Rows of each block.
    """

    def __init__(
        self,
        X,
        Y,
        *,
        layout,
        activation,
        out_activation,
        alpha,
        sample_weight=None,
        chunk_size=None,
        client=None,
        blas_threads=None,
        fan_in=8,
    ):
        from distributed import futures_of

        self.client = get_client(client)
        _check_aligned(X, Y, sample_weight)
        # No-ops where the dtypes already agree (the data-preparation helpers
        # make them agree).
        Y = Y.astype(X.dtype)
        if sample_weight is not None:
            sample_weight = sample_weight.astype(X.dtype)
        self.layout = layout
        self.alpha = alpha
        self.fan_in = int(fan_in)
        self.dtype = np.dtype(X.dtype)
        self.rows_per_block = tuple(int(c) for c in X.chunks[0])
        self._spec = _Spec(layout, activation, out_activation, chunk_size, blas_threads)
        arrays = [a for a in (X, Y, sample_weight) if a is not None]
        persisted = self.client.persist(arrays)
        block_futures = []
        for array in persisted:
            by_key = {f.key: f for f in futures_of(array)}
            keys = [k if array.ndim == 1 else k[0] for k in array.__dask_keys__()]
            block_futures.append([by_key[k] for k in keys])
        if sample_weight is None:
            block_futures.append([None] * len(self.rows_per_block))
        submit = self.client.submit
        self._blocks = [
            submit(_make_block, x, y, sw, pure=False)
            for x, y, sw in zip(*block_futures)
        ]
        # The persisted input blocks are released here; the packed blocks
        # reference the same arrays on the workers (no copy).
        del persisted, block_futures
        sums = self.client.gather(
            [submit(_block_weight_sum, b, pure=False) for b in self._blocks]
        )
        self.sample_weight_sum = float(sum(sums))  # in block order
        self._scratch = [np.empty(shape, self.dtype) for shape in layout.coef_shapes]

    @property
    def n_params(self):
        """Length of the parameter vector."""
        return self.layout.n_params

    @property
    def n_threads(self):
        """Threads an evaluation runs in on the client."""
        return 1

    @property
    def n_blocks(self):
        """Number of row blocks (tasks per round)."""
        return len(self._blocks)

    def close(self):
        """Free the workers' scratch space (the objective stays usable)."""
        if self._blocks and self.client.status == "running":
            self.client.gather(
                [self.client.submit(_clear_block, b, pure=False) for b in self._blocks]
            )

    def _round(self, task, *args):
        """Run ``task(block, *args)`` on every block, sum the results in a
        fixed tree on the workers, and return the sum."""
        from dask import delayed

        # Literal arguments enter the graph once, under keys of their own, so
        # a parameter vector is sent once per round, not once per block.
        args = [
            delayed(a, name=f"cgmlp-arg-{uuid.uuid4().hex}")
            if isinstance(a, np.ndarray)
            else a
            for a in args
        ]
        parts = [delayed(task, pure=False)(b, *args) for b in self._blocks]
        root = self.client.compute(
            _tree_sum(parts, delayed, self.fan_in), optimize_graph=False
        )
        # Only the root future is held: the scheduler forgets every task of
        # the round once its result is here and the future dropped.
        return root.result()

    def __call__(self, theta, grad):
        """The loss at ``theta``; its gradient is written into ``grad``."""
        S = self.sample_weight_sum
        loss, block_grad = self._round(_block_loss_grad, theta, self._spec, 1.0 / S)
        grad[...] = block_grad
        return loss + add_penalty(
            theta,
            grad,
            layout=self.layout,
            strength=self.alpha / S,
            scratch=self._scratch,
        )

    def curvature(self, theta):
        """Gauss-Newton-vector products at ``theta`` (one round each)."""
        return _DaskCurvature(self, theta)


class _DaskCurvature:
    """Curvature products at one point, summed over the blocks by the workers."""

    def __init__(self, objective, theta):
        self.objective = objective
        # Broadcast once for all products at this point; held (and the
        # workers' cached forward passes keyed) while this object lives.
        self._theta = objective.client.scatter(
            np.array(theta, copy=True), broadcast=True, hash=False
        )
        self._token = uuid.uuid4().hex

    def dot(self, v):
        """Curvature times ``v`` (a new array)."""
        objective = self.objective
        v = np.ascontiguousarray(v, dtype=objective.dtype)
        total = objective._round(
            _block_curvature_dot,
            self._theta,
            self._token,
            v,
            objective._spec,
            objective.sample_weight_sum,
        )
        if objective.alpha:
            strength = objective.alpha / objective.sample_weight_sum
            layout = objective.layout
            for H, V in zip(layout.unpack(total)[0], layout.unpack(v)[0]):
                H += strength * V
        return total


def _check_aligned(X, Y, sample_weight):
    """The blocks of the inputs must line up row for row."""
    if X.ndim != 2 or Y.ndim != 2 or X.numblocks[1] != 1 or Y.numblocks[1] != 1:
        raise ValueError(
            "X and Y must be 2-D Dask arrays with one chunk along the columns; "
            "prepare them with sklearn_cgmlp._dask_data."
        )
    others = {"Y": Y, "sample_weight": sample_weight}
    for name, array in others.items():
        if array is None:
            continue
        if array.chunks[0] != X.chunks[0]:
            raise ValueError(
                f"{name} must be chunked along the rows as X: {array.chunks[0]} "
                f"!= {X.chunks[0]}."
            )
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has unknown row-chunk sizes: call X.compute_chunk_sizes().")
