"""Pure numerical kernel: forward pass, loss and gradient of an MLP.

Everything here is a function of arrays. Nothing holds estimator state; the
:class:`Workspace` only holds scratch buffers so that repeated evaluations do
not allocate arrays of size ``n_samples x n_units`` again and again.

The objective is the one of :class:`sklearn.neural_network.MLPClassifier`::

    L(theta) = sum_i s_i * l(y_i, f(x_i; theta)) / S
               + alpha / (2 S) * sum_layers ||W_layer||_F^2

with ``s_i`` the sample weights (all ones by default), ``S = sum_i s_i`` and
``l`` the loss of the output layer (:mod:`sklearn_cgmlp._outputs`: the
cross-entropy of softmax or logistic outputs for classifiers, the squared error
or the Poisson deviance for regressors), computed from the output *logits*.
This is the objective of :class:`sklearn.neural_network.MLPClassifier` and
:class:`sklearn.neural_network.MLPRegressor`. Intercepts are not penalised.

:func:`data_loss_grad` evaluates the data term over one block of rows (in
chunks if asked), :func:`add_penalty` the L2 term; :func:`loss_grad` is both,
normalised.
"""

import numpy as np
from scipy import sparse

from ._ops import NUMPY
from ._outputs import OUTPUTS

HIDDEN_ACTIVATIONS = ("identity", "logistic", "tanh", "relu")


def activate(name, Z, ops=NUMPY):
    """Apply the hidden activation ``name`` to ``Z`` (in place with NumPy)."""
    if name == "logistic":
        return ops.expit_(Z)
    if name == "tanh":
        return ops.tanh_(Z)
    if name == "relu":
        return ops.relu_(Z)
    if name != "identity":
        raise ValueError(f"Unknown activation {name!r}.")
    return Z


def multiply_by_derivative(name, A, delta, ops=NUMPY):
    """Multiply ``delta`` by the activation derivative at output ``A``.

    The derivative is expressed through the activation's *output* ``A``:
    ``a (1 - a)`` for logistic, ``1 - a**2`` for tanh, ``1[a > 0]`` for relu.
    With NumPy, ``A`` is used as scratch space and overwritten (the backward
    pass needs it no longer), so no temporary of its size is allocated, and
    ``delta`` is multiplied in place.
    """
    if name == "logistic":
        delta *= A
        delta *= ops.one_minus_(A)
    elif name == "tanh":
        delta *= ops.one_minus_(ops.square_(A))
    elif name == "relu":
        delta *= ops.positive_(A)
    elif name != "identity":
        raise ValueError(f"Unknown activation {name!r}.")
    return delta


def forward(coefs, intercepts, X, activation, return_hidden=False, ops=NUMPY):
    """Output logits of the network for ``X`` (new arrays, thread-safe).

    Parameters
    ----------
    coefs, intercepts : list of array
        Per-layer parameters, in the namespace of ``X``.
    X : {array, sparse matrix} of shape (n_samples, n_features)
        Input data.
    activation : str
        Hidden activation.
    return_hidden : bool, default=False
        Also return the outputs of the hidden layers.
    ops : NumPyOps or ArrayAPIOps, default=NUMPY
        Operations of the arrays' namespace (:mod:`sklearn_cgmlp._ops`).

    Returns
    -------
    Z : array of shape (n_samples, n_outputs)
        Output logits (before the output activation).
    hidden : list of array
        Outputs of the hidden layers, if ``return_hidden``.
    """
    A, hidden = X, []
    last = len(coefs) - 1
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = ops.matmul(A, W)
        Z += b
        if i < last:
            Z = activate(activation, Z, ops)
            hidden.append(Z)
        A = Z
    return (A, hidden) if return_hidden else A


def weight_sum(n_samples, sample_weight, ops=NUMPY):
    """``S``, the sum of the sample weights (``n_samples`` without weights)."""
    if sample_weight is None:
        return float(n_samples)
    return ops.total(sample_weight)


class Workspace:
    """Scratch buffers for :func:`data_loss_grad`, reused across evaluations.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input and output included.
    n_rows : int
        Largest number of rows evaluated at once (the chunk size).
    dtype : dtype
        Floating dtype of the data and parameters.

    Notes
    -----
    Besides the ``n_rows x units`` buffers, one buffer per coefficient matrix
    holds partial gradients (the L2 term, and per-chunk products when the
    rows are evaluated in chunks). Element-wise work is done in these buffers
    with NumPy rather than through ``scipy.linalg.blas``: SciPy ships its own
    OpenBLAS, whose idle threads would compete with NumPy's for the cores
    during the next matrix product.
    """

    def __init__(self, layer_units, n_rows, dtype):
        self.layer_units = tuple(layer_units)
        self.n_rows = int(n_rows)
        self.dtype = np.dtype(dtype)
        units = self.layer_units[1:]
        # Z of every non-input layer; activations overwrite them in place, the
        # output delta overwrites the logits.
        self.acts = [np.empty((self.n_rows, u), dtype=self.dtype) for u in units]
        # Backpropagated errors of the hidden layers.
        self.deltas = [np.empty((self.n_rows, u), dtype=self.dtype) for u in units[:-1]]
        # Scratch for the output loss.
        self.out_tmp = np.empty((self.n_rows, units[-1]), dtype=self.dtype)
        self.row_loss = np.empty(self.n_rows, dtype=self.dtype)
        self.coef_tmp = [
            np.empty((fi, fo), dtype=self.dtype)
            for fi, fo in zip(self.layer_units[:-1], self.layer_units[1:])
        ]

    def fits(self, layer_units, n_rows, dtype):
        """Whether this workspace can serve the given evaluation."""
        return (
            self.layer_units == tuple(layer_units)
            and self.n_rows >= n_rows
            and self.dtype == np.dtype(dtype)
        )


def row_slice(A, start, stop):
    """Rows ``start:stop`` of a 1-D or 2-D array or a sparse matrix (a view)."""
    if A.ndim == 2 and not sparse.issparse(A):
        return A[start:stop, ...]  # the array API needs every axis indexed
    return A[start:stop]


def _chunks(n_samples, chunk_size):
    if chunk_size is None or chunk_size >= n_samples:
        return [(0, n_samples)]
    return [
        (start, min(start + chunk_size, n_samples))
        for start in range(0, n_samples, chunk_size)
    ]


def data_loss_grad(
    theta,
    X,
    Y,
    *,
    layout,
    activation,
    out_activation,
    sample_weight=None,
    scale=1.0,
    grad,
    workspace=None,
    chunk_size=None,
):
    """Weighted data loss of a block of rows and its gradient (NumPy).

    Computes ``scale * sum_i s_i l(y_i, f(x_i; theta))`` and writes its
    gradient into ``grad`` (no penalty). With ``scale = 1 / S`` this is the
    data term of the objective; blocks of rows evaluated separately add up to
    the whole. :func:`data_loss_and_grad` is the same for any array namespace.

    Parameters
    ----------
    theta : ndarray of shape (n_params,)
        Flat parameter vector (see :class:`~sklearn_cgmlp._layout.ParameterLayout`),
        same dtype as ``X``.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Input data. Dense arrays may be memory maps; sparse matrices are used
        without densifying (CSR is best when ``chunk_size`` is set).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets: one-hot rows for ``"softmax"``, 0/1 entries for
        ``"logistic"``, values for ``"identity"`` and ``"exp"`` outputs.
    layout : ParameterLayout
        Layout of ``theta``.
    activation : {"identity", "logistic", "tanh", "relu"}
        Hidden activation.
    out_activation : {"softmax", "logistic", "identity", "exp"}
        Output activation, which selects the loss
        (:data:`sklearn_cgmlp._outputs.OUTPUTS`).
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative sample weights; None means all ones.
    scale : float, default=1.0
        Factor applied to the loss and the gradient.
    grad : ndarray of shape (n_params,)
        Where to write the gradient.
    workspace : Workspace, default=None
        Scratch buffers from an earlier call; new ones when None or unfit.
    chunk_size : int, default=None
        Evaluate at most this many rows at a time, bounding the scratch
        memory to ``O(chunk_size * max(layer_units))``. None evaluates all
        rows at once. The result is the same up to rounding.

    Returns
    -------
    loss : float
        The scaled, weighted data loss of the block.
    """
    n_rows = min(X.shape[0], chunk_size or X.shape[0])
    if workspace is None or not workspace.fits(layout.layer_units, n_rows, theta.dtype):
        workspace = Workspace(layout.layer_units, n_rows, theta.dtype)
    loss, _ = _data_loss_grad(
        theta, X, Y, layout, activation, out_activation, sample_weight, scale,
        grad, workspace, chunk_size, NUMPY,
    )  # fmt: skip
    return loss


def data_loss_and_grad(
    theta,
    X,
    Y,
    *,
    layout,
    activation,
    out_activation,
    sample_weight=None,
    scale=1.0,
    chunk_size=None,
    ops,
):
    """:func:`data_loss_grad` for any array namespace: ``(loss, grad)``.

    ``theta``, ``X``, ``Y`` and ``sample_weight`` are arrays of the namespace
    of ``ops`` (:mod:`sklearn_cgmlp._ops`), on one device; the gradient is a
    new array there.
    """
    return _data_loss_grad(
        theta, X, Y, layout, activation, out_activation, sample_weight, scale,
        None, None, chunk_size, ops,
    )  # fmt: skip


def _data_loss_grad(
    theta, X, Y, layout, activation, out_activation, sample_weight, scale, grad,
    workspace, chunk_size, ops,
):  # fmt: skip
    """The forward and backward pass, once for every namespace.

    With a ``workspace`` (NumPy) every array of an evaluation lives in its
    buffers or in ``grad``; without, the operations return new arrays.
    """
    output = OUTPUTS[out_activation]
    xp = ops.xp
    chunks = _chunks(X.shape[0], chunk_size)
    coefs, intercepts = layout.unpack(theta, xp)
    n_layers = len(coefs)
    if grad is not None:
        coef_grads, intercept_grads = layout.unpack(grad)
    else:
        coef_grads, intercept_grads = [None] * n_layers, [None] * n_layers
    data_loss = 0.0

    for chunk_index, (start, stop) in enumerate(chunks):
        m = stop - start
        Xc = X if len(chunks) == 1 else row_slice(X, start, stop)
        if workspace is not None:
            acts = [a[:m] for a in workspace.acts]
            deltas = [d[:m] for d in workspace.deltas]
            row_loss, out_tmp = workspace.row_loss[:m], workspace.out_tmp[:m]
            coef_tmp = workspace.coef_tmp
        else:
            acts, deltas = [None] * n_layers, [None] * (n_layers - 1)
            row_loss = out_tmp = None
            coef_tmp = [None] * n_layers

        # Forward pass; acts[i] holds the output of layer i + 1.
        A = Xc
        for i in range(n_layers):
            Z = ops.matmul(A, coefs[i], out=acts[i])
            Z += intercepts[i]
            if i < n_layers - 1:
                Z = activate(activation, Z, ops)
            acts[i] = A = Z

        # Output loss; the output delta dloss/dlogits (times s_i * scale)
        # overwrites the logits.
        row_loss, delta = output.loss_and_delta(
            acts[-1], row_slice(Y, start, stop), row_loss, out_tmp, ops
        )
        if sample_weight is None:
            data_loss += ops.total(row_loss)
            delta *= scale
        else:
            swc = sample_weight[start:stop]
            data_loss += ops.weighted_total(swc, row_loss)
            delta *= (swc * scale)[:, None]

        # Backward pass.
        for i in range(n_layers - 1, -1, -1):
            A_prev = Xc if i == 0 else acts[i - 1]
            first = chunk_index == 0
            gW_out = coef_grads[i] if first else coef_tmp[i]
            gW = ops.matmul(A_prev.T, delta, out=gW_out)
            gb = ops.sum(delta, axis=0, out=intercept_grads[i] if first else None)
            if first:
                coef_grads[i], intercept_grads[i] = gW, gb
            else:
                coef_grads[i] += gW
                intercept_grads[i] += gb
            if i > 0:
                D = ops.matmul(delta, coefs[i].T, out=deltas[i - 1])
                # acts[i - 1] was last needed for gW above; it becomes scratch.
                delta = multiply_by_derivative(activation, acts[i - 1], D, ops)
    if grad is None:
        grad = layout.flatten(coef_grads, intercept_grads, ops)
    return data_loss * scale, grad


def add_penalty(theta, grad, *, layout, strength, scratch=None, ops=NUMPY):
    """Add the L2 term ``strength / 2 * sum ||W||^2`` to ``grad``; return it.

    Intercepts are not penalised. ``scratch`` (NumPy: one array per
    coefficient matrix, e.g. :attr:`Workspace.coef_tmp`) avoids temporaries.
    Other namespaces update the coefficient part of ``grad`` (the leading
    entries of the layout) by slice assignment, which the standard defines.
    """
    if strength == 0:
        return 0.0
    if not ops.is_numpy:
        n_coefs = layout.intercept_slices[0].start
        W = theta[:n_coefs]
        grad[:n_coefs] += strength * W
        return 0.5 * strength * ops.squared_norm(W)
    coefs = layout.unpack(theta)[0]
    coef_grads = layout.unpack(grad)[0]
    squares = 0.0
    for i, (W, gW) in enumerate(zip(coefs, coef_grads)):
        squares += ops.squared_norm(W)
        tmp = scratch[i] if scratch is not None else np.empty_like(W)
        gW += np.multiply(W, theta.dtype.type(strength), out=tmp)
    return 0.5 * strength * squares


def loss_grad(
    theta,
    X,
    Y,
    *,
    layout,
    activation,
    out_activation,
    alpha,
    sample_weight=None,
    sample_weight_sum=None,
    grad=None,
    workspace=None,
    chunk_size=None,
):
    """The objective and its gradient (module docstring), NumPy arrays.

    Parameters
    ----------
    theta, X, Y, layout, activation, out_activation, sample_weight, workspace, \
chunk_size
        As in :func:`data_loss_grad`.
    alpha : float
        L2 penalty on the coefficient matrices (not the intercepts).
    sample_weight_sum : float, default=None
        ``sample_weight.sum()`` (or ``n_samples``) if already known.
    grad : ndarray of shape (n_params,), default=None
        Where to write the gradient; a new array when None.

    Returns
    -------
    loss : float
        The objective value.
    grad : ndarray of shape (n_params,)
        Its gradient with respect to ``theta``, same dtype as ``theta``.
    """
    if sample_weight_sum is None:
        sample_weight_sum = weight_sum(X.shape[0], sample_weight)
    if grad is None:
        grad = np.empty_like(theta)
    inv_sw_sum = 1.0 / sample_weight_sum
    loss = data_loss_grad(
        theta,
        X,
        Y,
        layout=layout,
        activation=activation,
        out_activation=out_activation,
        sample_weight=sample_weight,
        scale=inv_sw_sum,
        grad=grad,
        workspace=workspace,
        chunk_size=chunk_size,
    )
    scratch = workspace.coef_tmp if workspace is not None else None
    loss += add_penalty(
        theta, grad, layout=layout, strength=alpha * inv_sw_sum, scratch=scratch
    )
    return loss, grad
