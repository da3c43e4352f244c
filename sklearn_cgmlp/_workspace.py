"""Scratch buffers and row chunks of an evaluation of the loss.

The helpers of :meth:`sklearn_cgmlp._loss.MLPLoss.data_loss_gradient` and the
cached lines of :mod:`sklearn_cgmlp._line`. A :class:`Workspace` holds the
``n_rows x units`` buffers of the forward and backward passes, reused across
evaluations; :func:`chunks` and :func:`row_slice` cut the rows into chunks
(``chunk_size``), :func:`accumulate` sums a layer's gradient over them, and
:func:`weight_sum` is the total weight of the rows (the loss's denominator).
"""

import numpy as np
from scipy import sparse

from ._ops import NUMPY


def weight_sum(n_samples, sample_weight, ops=NUMPY):
    """``S``, the sum of the sample weights (``n_samples`` without weights)."""
    if sample_weight is None:
        return float(n_samples)
    return ops.total(sample_weight)


class Workspace:
    """Scratch buffers for
    :meth:`~sklearn_cgmlp._loss.MLPLoss.data_loss_gradient` (NumPy), reused
    across evaluations.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input and output included.
    n_rows : int
        Largest number of rows evaluated at once (the chunk size).
    dtype : dtype
        Floating dtype of the data and parameters.
    keep_input : sequence of bool, default=()
        Per hidden layer, whether its pre-activations are kept besides its
        outputs (an activation whose derivatives need them, see
        :mod:`sklearn_cgmlp._activations`): one more ``n_rows x units``
        buffer for each such layer. Missing entries are False.

    Notes
    -----
    Besides the ``n_rows x units`` buffers, one buffer of the size of the
    coefficient matrices holds partial gradients (the L2 term, and per-chunk
    products when the rows are evaluated in chunks). Element-wise work is
    done in these buffers with NumPy rather than through ``scipy.linalg.blas``:
    SciPy ships its own OpenBLAS, whose idle threads would compete with
    NumPy's for the cores during the next matrix product.
    """

    def __init__(self, layer_units, n_rows, dtype, keep_input=()):
        self.layer_units = tuple(layer_units)
        self.n_rows = int(n_rows)
        self.dtype = np.dtype(dtype)
        units = self.layer_units[1:]
        self.keep_input = _keep_input(keep_input, len(units) - 1)
        # Z of every non-input layer; activations overwrite them in place, the
        # output delta overwrites the logits.
        self.acts = [np.empty((self.n_rows, u), dtype=self.dtype) for u in units]
        # Backpropagated errors of the hidden layers.
        self.deltas = [np.empty((self.n_rows, u), dtype=self.dtype) for u in units[:-1]]
        # Pre-activations of the hidden layers that keep them; None elsewhere.
        self.inputs = [
            np.empty((self.n_rows, u), dtype=self.dtype) if keep else None
            for u, keep in zip(units[:-1], self.keep_input)
        ]
        # Scratch for the output loss.
        self.out_tmp = np.empty((self.n_rows, units[-1]), dtype=self.dtype)
        self.row_loss = np.empty(self.n_rows, dtype=self.dtype)
        # One flat buffer laid out as the coefficients of a parameter vector,
        # with a matrix view per layer.
        shapes = list(zip(self.layer_units[:-1], self.layer_units[1:]))
        self.coef_flat = np.empty(sum(fi * fo for fi, fo in shapes), dtype=self.dtype)
        self.coef_tmp, start = [], 0
        for fi, fo in shapes:
            view = self.coef_flat[start : start + fi * fo]
            self.coef_tmp.append(view.reshape(fi, fo))
            start += fi * fo

    def fits(self, layer_units, n_rows, dtype, keep_input=()):
        """Whether this workspace can serve the given evaluation."""
        return (
            self.layer_units == tuple(layer_units)
            and self.n_rows >= n_rows
            and self.dtype == np.dtype(dtype)
            and self.keep_input == _keep_input(keep_input, len(layer_units) - 2)
        )


def _keep_input(keep_input, n_hidden):
    keep = tuple(bool(k) for k in keep_input)[:n_hidden]
    return keep + (False,) * (n_hidden - len(keep))


def row_slice(A, start, stop):
    """Rows ``start:stop`` of a 1-D or 2-D array or a sparse matrix (a view)."""
    if A.ndim == 2 and not sparse.issparse(A):
        return A[start:stop, ...]  # the array API needs every axis indexed
    return A[start:stop]


def chunks(n_samples, chunk_size):
    """``(start, stop)`` of the row chunks: all rows at once when None."""
    if chunk_size is None or chunk_size >= n_samples:
        return [(0, n_samples)]
    return [
        (start, min(start + chunk_size, n_samples))
        for start in range(0, n_samples, chunk_size)
    ]


def accumulate(i, A_prev, delta, first, coef_grads, intercept_grads, coef_tmp, ops):
    """Layer ``i``'s gradient over one chunk: ``A_prev.T @ delta`` and the
    column sums of ``delta``, written into ``coef_grads[i]`` and
    ``intercept_grads[i]`` by the ``first`` chunk and added to them by the
    others (through ``coef_tmp[i]``, NumPy's scratch)."""
    gW = ops.matmul(A_prev.T, delta, out=coef_grads[i] if first else coef_tmp[i])
    gb = ops.sum(delta, axis=0, out=intercept_grads[i] if first else None)
    if first:
        coef_grads[i], intercept_grads[i] = gW, gb
    else:
        coef_grads[i] += gW
        intercept_grads[i] += gb
