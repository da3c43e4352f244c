"""The objective of one fit over Dask arrays on a ``distributed`` cluster.

:class:`DaskObjective` has the interface of
:class:`~sklearn_cgmlp._adapters.Objective`, so the solver glue of
:mod:`sklearn_cgmlp._solvers` runs on the client unchanged, while the data
stay on the workers:

- At construction the row blocks of ``X``, ``Y`` and ``sample_weight`` are
  persisted once and packed, block by block, into one
  :class:`~sklearn_cgmlp._dask.tasks.Block` on one worker: the worker that
  holds the ``X`` block, unless it already has its share of the rows (then
  the one with the fewest). The small ``Y`` and weight blocks move to it
  once. Every task of a block is pinned to that worker, so that no idle
  worker steals it and copies the block. Nothing of the data ever comes to
  the client, and nothing is computed from the input graphs again, except
  to rebuild the blocks of a worker that died (a round waiting on a dead
  worker notices, and runs again where the blocks were rebuilt).
- Every evaluation is one round: one graph holding the parameter vector
  once, a task per block that runs the kernel of the fit's
  :class:`~sklearn_cgmlp._loss.MLPLoss` on the worker holding the block, and
  a fixed tree of sums over the blocks in block order (so the result does
  not depend on where the blocks live or which task finishes first, only on
  the row chunks and ``fan_in``). Only
  the root's ``(loss, gradient)`` is gathered; the client adds the L2 term.
  The client holds no future of the round afterwards, so the scheduler
  forgets its tasks.
- Curvature products go the same way, one round per product. The first
  product at a point brings the point, and each block keeps the forward
  pass there on its worker (as
  :class:`~sklearn_cgmlp._hessian.CurvatureProduct` does in memory); later
  products bring only their vector. With ``chunk_size`` set, which bounds
  the worker's memory, every product brings the point and recomputes the
  forward pass chunk by chunk.

The helpers that validate and encode Dask inputs are in
:mod:`sklearn_cgmlp._dask.validation` and :mod:`sklearn_cgmlp._dask.targets`.
"""

import asyncio
import uuid

import numpy as np

from .. import _line
from .._ops import NUMPY
from .tasks import (
    MissingLine,
    MissingPoint,
    TaskSpec,
    block_curvature_dot,
    block_line_gradient,
    block_line_start,
    block_line_trial,
    block_loss_grad,
    block_weight_sum,
    clear_block,
    make_block,
    sum_parts,
)

_START_A_CLIENT = (
    "Start one before fitting, e.g. on this machine\n"
    "    from distributed import Client, LocalCluster\n"
    "    client = Client(LocalCluster(n_workers=4, threads_per_worker=1))\n"
    "or connect to a running scheduler with Client('tcp://host:8786')."
)


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


def _tree_sum(parts, delayed, fan_in):
    """Sums over ``parts`` in a fixed tree: groups of ``fan_in`` neighbours,
    level by level, each summed left to right (block order)."""
    add = delayed(sum_parts, pure=False)
    while len(parts) > 1:
        groups = [parts[i : i + fan_in] for i in range(0, len(parts), fan_in)]
        parts = [group[0] if len(group) == 1 else add(*group) for group in groups]
    return parts[0]


# --------------------------------------------------------------- client

# While a round runs, check this often that the workers holding blocks live.
_LIVENESS_CHECK_S = 2.0


class DaskObjective:
    """The objective over Dask arrays, evaluated on a ``distributed`` cluster.

    Same interface as :class:`~sklearn_cgmlp._objective.InMemoryObjective`;
    see the module docstring for what runs where.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Training data of the dtype the objective is computed in, with known
        row chunks and one chunk along the columns
        (:func:`sklearn_cgmlp._dask.validation.check_X` makes it so).
    Y : dask.array.Array of shape (n_samples, n_outputs)
        Encoded targets (see
        :meth:`sklearn_cgmlp._loss.MLPLoss.data_loss_gradient`) in ``X``'s
        dtype, chunked along the rows as ``X``.
    loss : MLPLoss
        The network, its loss and its penalty (pickled into every task).
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

    ops = NUMPY  # the parameters travel as NumPy vectors

    def __init__(
        self,
        X,
        Y,
        *,
        loss,
        sample_weight=None,
        chunk_size=None,
        client=None,
        blas_threads=None,
        fan_in=8,
        cached_line=None,
    ):
        import distributed
        from distributed import futures_of

        self.client = get_client(client)
        _check_aligned(X, Y, sample_weight)
        # No-ops where the dtypes already agree (the data-preparation helpers
        # make them agree).
        Y = Y.astype(X.dtype)
        if sample_weight is not None:
            sample_weight = sample_weight.astype(X.dtype)
        self.loss = loss
        self.fan_in = int(fan_in)
        self.dtype = np.dtype(X.dtype)
        self.rows_per_block = tuple(int(c) for c in X.chunks[0])
        self._spec = TaskSpec(loss, chunk_size, blas_threads)
        arrays = [a for a in (X, Y, sample_weight) if a is not None]
        persisted = self.client.persist(arrays)
        block_futures = []
        for array in persisted:
            by_key = {f.key: f for f in futures_of(array)}
            keys = [k if array.ndim == 1 else k[0] for k in array.__dask_keys__()]
            block_futures.append([by_key[k] for k in keys])
        if sample_weight is None:
            block_futures.append([None] * len(self.rows_per_block))
        distributed.wait(block_futures[0])
        holders = self.client.who_has(block_futures[0])
        homes = _balanced_homes(
            self.rows_per_block,
            [holders.get(f.key, ()) for f in block_futures[0]],
            _live_workers(self.client),
        )
        # Packing moves the blocks of an unbalanced placement (all of X on one
        # worker, as when one worker loaded it) once, here. Loosely: a block lost
        # with its worker is rebuilt on another.
        self._blocks = [
            self.client.submit(
                make_block,
                x,
                y,
                sw,
                workers=[home],
                allow_other_workers=True,
                pure=False,  # a block of its own, even on the same data
            )
            for x, y, sw, home in zip(*block_futures, homes)
        ]
        # The persisted input blocks are released here; the packed blocks
        # reference the same arrays on the workers (no copy).
        del persisted, block_futures
        sums = self.client.gather(
            [self.client.submit(block_weight_sum, b) for b in self._blocks]
        )
        self.sample_weight_sum = float(sum(sums))  # in block order
        self._homes = self._locate_blocks()
        self._scratch = np.empty(loss.n_coefs, self.dtype)
        if cached_line is None:
            rows = max(self.rows_per_block)
            cached_line = _line.line_pays(
                loss.layout.layer_units, rows, X.shape[1],
                chunked=chunk_size is not None and chunk_size < rows,
            )  # fmt: skip
        #: Whether :meth:`line` offers lines on cached first-layer products.
        self.cached_line = bool(cached_line)

    def _locate_blocks(self):
        """Where each block is (waiting for blocks being rebuilt).

        Raises the error of a block that could not be rebuilt, and a
        ``RuntimeError`` once the cluster has no workers left to rebuild on
        (rather than waiting for ever).
        """
        import distributed

        while True:
            try:
                distributed.wait(self._blocks, timeout=_LIVENESS_CHECK_S)
                break
            except (TimeoutError, asyncio.TimeoutError):
                if not _live_workers(self.client):
                    raise RuntimeError(
                        "The Dask cluster has no workers left, so the blocks of "
                        "the training data lost with its workers cannot be "
                        "rebuilt. Start workers (or a new cluster) and fit again."
                    ) from None
        for block in self._blocks:
            if block.status == "error":
                block.result()  # raises the block's error
        where = self.client.who_has(self._blocks)
        return [sorted(where[b.key])[0] for b in self._blocks]

    @property
    def n_params(self):
        """Length of the parameter vector."""
        return self.loss.n_params

    @property
    def n_threads(self):
        """Threads an evaluation runs in on the client."""
        return 1

    def map_slices(self, func):
        """``[func(slice(None))]``: one pass, on the client."""
        return [func(slice(None))]

    @property
    def n_blocks(self):
        """Number of row blocks (tasks per round)."""
        return len(self._blocks)

    def close(self):
        """Free the workers' scratch space (the objective stays usable)."""
        if self._blocks and self.client.status == "running":
            self.client.gather(
                [self.client.submit(clear_block, b, pure=False) for b in self._blocks]
            )

    def _round(self, task, *args):
        """Run ``task(block, *args)`` on every block, sum the results in a
        fixed tree on the workers, and return the sum."""
        import dask
        from dask import delayed

        while True:
            # Literal arguments enter the graph once, under keys of their
            # own, so a parameter vector is sent once per round, not once
            # per block.
            literals = [
                delayed(a, name=f"cgmlp-arg-{uuid.uuid4().hex}")
                if isinstance(a, np.ndarray)
                else a
                for a in args
            ]
            parts = []
            # Block tasks run where their block is, never stolen by an idle
            # worker (which would copy the block there).
            for block, home in zip(self._blocks, self._homes):
                with dask.annotate(workers=[home], allow_other_workers=False):
                    parts.append(delayed(task, pure=False)(block, *literals))
            root = self.client.compute(
                _tree_sum(parts, delayed, self.fan_in), optimize_graph=False
            )
            # Only the root future is held: the scheduler forgets every task
            # of the round once its result is here and the future dropped.
            result = self._result(root)
            if result is not None:
                return result
            self._homes = self._locate_blocks()

    def _result(self, root):
        """The round's result, or None if a worker holding blocks is gone
        (its tasks would wait for it for ever)."""
        while True:
            try:
                return root.result(timeout=_LIVENESS_CHECK_S)
            except (TimeoutError, asyncio.TimeoutError):
                alive = _live_workers(self.client)
                if not set(self._homes) <= set(alive):
                    root.cancel()
                    return None

    def loss_grad(self, theta, out=None):
        """``(loss, grad)`` at ``theta``; the gradient goes into ``out`` if
        given (a new array otherwise)."""
        S = self.sample_weight_sum
        value, block_grad = self._round(block_loss_grad, theta, self._spec, 1.0 / S)
        grad = out if out is not None else np.empty_like(theta)
        grad[...] = block_grad
        value += self.loss.add_penalty(
            theta, grad, self.loss.penalty_strength(S), scratch=self._scratch
        )
        return value, grad

    def curvature(self, theta):
        """Gauss-Newton-vector products at ``theta`` (one round each)."""
        return _DaskCurvature(self, theta)

    def line(self, theta, p, continues=False):
        """The objective along ``theta + a p`` on first-layer products cached
        by the workers (:mod:`sklearn_cgmlp._line`): a trial round brings a
        step and returns two numbers per block. None where the cache does
        not pay (``cached_line``)."""
        if not self.cached_line:
            return None
        return _DaskLine(self, theta, p, continues)


class _DaskLine:
    """A line of :class:`DaskObjective`: the workers keep ``X W1 + b1`` and
    ``X P1 + q1`` of their blocks; the client adds the L2 term."""

    def __init__(self, objective, theta, p, continues):
        loss = objective.loss
        self.objective = objective
        self.theta = np.array(theta, copy=True)
        self.p = np.array(p, copy=True)
        self.strength = loss.penalty_strength(objective.sample_weight_sum)
        self.penalty = _line.PenaltyLine(loss, self.theta, self.p, self.strength, NUMPY)
        self._token = uuid.uuid4().hex
        self._start(continues)

    def _start(self, continues):
        objective = self.objective
        objective._round(
            block_line_start, self.theta, self.p, self._token, continues,
            objective._spec, 1.0 / objective.sample_weight_sum,
        )  # fmt: skip

    def _round(self, task, a):
        objective = self.objective
        try:
            return objective._round(task, a, self._token, objective._spec)
        except MissingLine:
            # A block was rebuilt (its worker died): set the line up again,
            # from the exact products.
            self._start(False)
            return objective._round(task, a, self._token, objective._spec)

    def trial(self, a):
        """``(loss, slope)`` at step ``a`` (one round)."""
        value, slope = self._round(block_line_trial, a)
        return value + self.penalty.value(a), slope + self.penalty.slope(a)

    def gradient(self, a, out=None):
        """``(loss, grad)`` at step ``a`` (one round)."""
        loss = self.objective.loss
        value, block_grad = self._round(block_line_gradient, a)
        grad = out if out is not None else np.empty_like(self.theta)
        grad[...] = block_grad
        theta_a = self.theta + a * self.p
        loss.add_penalty_gradient(
            theta_a, grad, self.strength, scratch=self.objective._scratch
        )
        return value + self.penalty.value(a), grad


class _DaskCurvature:
    """Curvature products at one point, summed over the blocks by the workers."""

    def __init__(self, objective, theta):
        self.objective = objective
        self._theta = np.array(theta, copy=True)
        # Keys the forward pass each block keeps on its worker.
        self._token = uuid.uuid4().hex
        # The point travels with the first product only: the workers keep
        # what they need of it. A block rebuilt since (its worker died) asks
        # for it again, and so does every product when chunk_size is set.
        self._cached = False

    def dot(self, v):
        """Curvature times ``v`` (a new array)."""
        objective = self.objective
        v = np.ascontiguousarray(v, dtype=objective.dtype)
        chunked = objective._spec.chunk_size is not None
        try:
            total = self._round(
                v, None if self._cached and not chunked else self._theta
            )
        except MissingPoint:
            total = self._round(v, self._theta)
        self._cached = True
        loss = objective.loss
        strength = loss.penalty_strength(objective.sample_weight_sum)
        return loss.add_penalty_curvature(v, total, strength)

    def _round(self, v, theta):
        objective = self.objective
        return objective._round(
            block_curvature_dot,
            theta,
            self._token,
            v,
            objective._spec,
            objective.sample_weight_sum,
        )


def _live_workers(client):
    """The addresses of the cluster's workers, asked of the scheduler now.

    Not ``client.scheduler_info()["workers"]``: the client refreshes that cache
    in the background, and since distributed 2025 the refresh carries no
    per-worker entries, so a read racing it sees no workers at all.
    """
    return sorted(client.nthreads())


def _balanced_homes(rows, holders, workers):
    """A worker per block: where it is, unless that worker already has its
    share of the rows; then the worker with the fewest rows so far."""
    share = sum(rows) / max(len(workers), 1)
    load = dict.fromkeys(workers, 0)
    homes = []
    for r, held_by in zip(rows, holders):
        current = [w for w in held_by if w in load]
        home = min(current, key=load.get) if current else None
        if home is None or load[home] + r > share + r / 2:
            home = min(workers, key=load.get)
        load[home] += r
        homes.append(home)
    return homes


def _check_aligned(X, Y, sample_weight):
    """The blocks of the inputs must line up row for row."""
    if X.ndim != 2 or Y.ndim != 2 or X.numblocks[1] != 1 or Y.numblocks[1] != 1:
        raise ValueError(
            "X and Y must be 2-D Dask arrays with one chunk along the columns; "
            "prepare them with sklearn_cgmlp._dask.data.DaskData."
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
