"""Pure numerical kernel: the loss of an MLP, its gradient and its penalty.

Everything here is a function of arrays. :class:`MLPLoss` holds only the
problem's settings (layout, hidden activation, output, ``alpha``), never data;
the :class:`~sklearn_cgmlp._workspace.Workspace` only holds scratch buffers so
that repeated evaluations do not allocate arrays of size ``n_samples x n_units``
again and again.

The objective is the one of :class:`sklearn.neural_network.MLPClassifier`::

    L(theta) = sum_i s_i * l(y_i, f(x_i; theta)) / S
               + alpha / (2 S) * sum_layers ||W_layer||_F^2

with ``s_i`` the sample weights (all ones by default), ``S = sum_i s_i`` and
``l`` the loss of the output layer (:mod:`sklearn_cgmlp._outputs`: the
cross-entropy of softmax or logistic outputs for classifiers, the squared error
or the Poisson deviance for regressors), computed from the output *logits*.
This is the objective of :class:`sklearn.neural_network.MLPClassifier` and
:class:`sklearn.neural_network.MLPRegressor`. Intercepts are not penalised.

:class:`MLPLoss` is to an MLP what scikit-learn's ``LinearModelLoss`` is to a
linear model: one object that the objectives (in memory, on a device, on the
blocks of a cluster) hold and hand data to. It evaluates the data term over
one block of rows (:meth:`MLPLoss.data_loss_gradient`, in chunks if asked),
the L2 penalty's value, gradient and curvature (written once, in
:mod:`sklearn_cgmlp._penalty`, a base of :class:`MLPLoss`), both together
(:meth:`MLPLoss.loss_gradient`), and curvature products
(:meth:`MLPLoss.curvature_product`).
"""

import numpy as np

from ._activations import resolve
from ._ops import NUMPY
from ._outputs import OUTPUTS
from ._penalty import L2Penalty
from ._workspace import Workspace, accumulate, chunks, row_slice, weight_sum


def _lookup(table, name, what):
    if not isinstance(name, str):
        return name  # already an entry of the table
    try:
        return table[name]
    except KeyError:
        raise ValueError(
            f"Unknown {what} {name!r}; expected one of {sorted(table)}."
        ) from None


def forward(coefs, intercepts, X, activation, return_hidden=False, ops=NUMPY, *,
            output=True, return_inputs=False):  # fmt: skip
    """Output logits of the network for ``X`` (new arrays, thread-safe).

    Parameters
    ----------
    coefs, intercepts : list of array
        Per-layer parameters, in the namespace of ``X``.
    X : {array, sparse matrix} of shape (n_samples, n_features)
        Input data.
    activation : str, Activation, or tuple or list of them
        Hidden activation (a name of
        :data:`~sklearn_cgmlp._activations.ACTIVATIONS`), or one per hidden
        layer.
    return_hidden : bool, default=False
        Also return the outputs of the hidden layers.
    ops : NumPyOps or ArrayAPIOps, default=NUMPY
        Operations of the arrays' namespace (:mod:`sklearn_cgmlp._ops`).
    output : bool, default=True
        Whether to run the output layer; False stops the pass at the last
        hidden layer and returns its activations (``transform``).
    return_inputs : bool, default=False
        With ``return_hidden``, also return the hidden layers'
        pre-activations where their activation ``needs_input``.

    Returns
    -------
    Z : array of shape (n_samples, n_outputs)
        Output logits (before the output activation); with ``output=False``,
        the last hidden layer's activations, of shape (n_samples, n_units).
    hidden : list of array
        Outputs of the hidden layers, if ``return_hidden``.
    inputs : list of array or None
        Those pre-activations (None for other layers), if ``return_inputs``.
    """
    activations = resolve(activation, len(coefs) - 1)
    A, hidden, inputs = X, [], []
    last = len(coefs) - 1
    n_layers = len(coefs) if output else last
    for i, (W, b) in enumerate(zip(coefs[:n_layers], intercepts[:n_layers])):
        Z = ops.matmul(A, W)
        Z += b
        if i < last:
            Z, kept = activations[i].forward_(Z, ops, return_inputs)
            hidden.append(Z)
            inputs.append(kept)
        A = Z
    if not return_hidden:
        return A
    return (A, hidden, inputs) if return_inputs else (A, hidden)


class MLPLoss(L2Penalty):
    """The objective of one network: its data term and its L2 penalty.

    Parameters
    ----------
    layout : ParameterLayout
        Layout of the flat parameter vector.
    activation : str or tuple of str
        Hidden activation, a name of
        :data:`~sklearn_cgmlp._activations.ACTIVATIONS`, or one per hidden
        layer.
    output : str
        Output activation, a name of :data:`~sklearn_cgmlp._outputs.OUTPUTS`;
        it selects the loss.
    alpha : float
        L2 penalty on the coefficient matrices (not the intercepts); the
        objective carries ``alpha / (2 S)`` times their squared norm.

    Attributes
    ----------
    activations : tuple of Activation
        The entry of the activation table of each hidden layer.
    keeps_input : tuple of bool
        Per hidden layer, whether evaluations keep its pre-activations (in a
        buffer of the :class:`~sklearn_cgmlp._workspace.Workspace`).
    output : Output
        The output's entry of the output table.
    n_coefs : int
        Number of coefficient entries; they lead the parameter vector, the
        intercepts follow.
    """

    def __init__(self, layout, activation, output, alpha):
        self.layout = layout
        self.activations = resolve(activation, len(layout.layer_units) - 2)
        self.keeps_input = tuple(a.needs_input for a in self.activations)
        self.output = _lookup(OUTPUTS, output, "output activation")
        self.alpha = float(alpha)
        self.n_coefs = layout.intercept_slices[0].start

    def __repr__(self):
        names = [a.name for a in self.activations]
        activation = names[0] if len(set(names)) == 1 else tuple(names)
        return (
            f"MLPLoss({self.layout!r}, activation={activation!r}, "
            f"output={self.output.activation!r}, alpha={self.alpha!r})"
        )

    @property
    def n_params(self):
        """Length of the parameter vector."""
        return self.layout.n_params

    # ------------------------------------------------------------ data term
    def forward(self, coefs, intercepts, X, return_hidden=False, ops=NUMPY, *,
                return_inputs=False):  # fmt: skip
        """Output logits for ``X``: :func:`forward` with these activations."""
        return forward(coefs, intercepts, X, self.activations, return_hidden, ops,
                       return_inputs=return_inputs)  # fmt: skip

    def workspace(self, n_rows, dtype, workspace=None):
        """``workspace`` if it serves ``n_rows`` rows in ``dtype``, else a new
        :class:`~sklearn_cgmlp._workspace.Workspace`."""
        units, keep = self.layout.layer_units, self.keeps_input
        if workspace is not None and workspace.fits(units, n_rows, dtype, keep):
            return workspace
        return Workspace(units, n_rows, dtype, keep_input=keep)

    def data_loss_gradient(
        self,
        theta,
        X,
        Y,
        *,
        sample_weight=None,
        scale=1.0,
        grad=None,
        workspace=None,
        chunk_size=None,
        ops=NUMPY,
    ):
        """Weighted data loss of a block of rows and its gradient.

        Computes ``scale * sum_i s_i l(y_i, f(x_i; theta))`` and its gradient
        (no penalty). With ``scale = 1 / S`` this is the data term of the
        objective; blocks of rows evaluated separately add up to the whole.

        Parameters
        ----------
        theta : array of shape (n_params,)
            Flat parameter vector (see
            :class:`~sklearn_cgmlp._layout.ParameterLayout`), in the namespace
            and dtype of ``X``.
        X : {array, sparse matrix} of shape (n_samples, n_features)
            Input data. NumPy arrays may be memory maps; sparse matrices are
            used without densifying (CSR is best when ``chunk_size`` is set).
        Y : array of shape (n_samples, n_outputs)
            Targets: one-hot rows for softmax outputs, 0/1 entries for
            logistic outputs, values for identity and exp outputs.
        sample_weight : array of shape (n_samples,), default=None
            Non-negative sample weights; None means all ones.
        scale : float, default=1.0
            Factor applied to the loss and the gradient.
        grad : ndarray of shape (n_params,), default=None
            NumPy only: where to write the gradient (a new array when None).
        workspace : Workspace, default=None
            NumPy only: scratch buffers from an earlier call; new ones when
            None or unfit.
        chunk_size : int, default=None
            Evaluate at most this many rows at a time, bounding the scratch
            memory to ``O(chunk_size * max(layer_units))``. None evaluates all
            rows at once. The result is the same up to rounding.
        ops : NumPyOps or ArrayAPIOps, default=NUMPY
            Operations of the arrays' namespace (:mod:`sklearn_cgmlp._ops`).
            Other namespaces than NumPy have no ``out=``: every array of the
            evaluation, the gradient included, is new there.

        Returns
        -------
        loss : float
            The scaled, weighted data loss of the block.
        grad : array of shape (n_params,)
            Its gradient.
        """
        if ops.is_numpy:
            n_rows = min(X.shape[0], chunk_size or X.shape[0])
            workspace = self.workspace(n_rows, theta.dtype, workspace)
            if grad is None:
                grad = np.empty_like(theta)
        return self._data_pass(
            theta, X, Y, sample_weight, scale, grad, workspace, chunk_size, ops
        )

    def _data_pass(
        self, theta, X, Y, sample_weight, scale, grad, workspace, chunk_size, ops
    ):
        """The forward and backward pass, once for every namespace.

        With a ``workspace`` (NumPy) every array of an evaluation lives in its
        buffers or in ``grad``; without, the operations return new arrays.
        """
        layout = self.layout
        coefs, intercepts = layout.unpack(theta, ops.xp)
        n_layers = len(coefs)
        if grad is not None:
            coef_grads, intercept_grads = layout.unpack(grad)
        else:
            coef_grads, intercept_grads = [None] * n_layers, [None] * n_layers
        coef_tmp = workspace.coef_tmp if workspace is not None else [None] * n_layers

        def first_layer(Xc, start, stop, out):
            Z = ops.matmul(Xc, coefs[0], out=out)
            Z += intercepts[0]
            return Z

        def first_delta(Xc, start, stop, delta, first):
            accumulate(0, Xc, delta, first, coef_grads, intercept_grads, coef_tmp, ops)

        data_loss = self.pass_rows(
            X, Y, sample_weight, scale, chunk_size, workspace, ops,
            coefs=coefs, intercepts=intercepts, grads=(coef_grads, intercept_grads),
            first_layer=first_layer, first_delta=first_delta,
        )  # fmt: skip
        if grad is None:
            grad = layout.flatten(coef_grads, intercept_grads, ops)
        return data_loss, grad

    def pass_rows(self, X, Y, sample_weight, scale, chunk_size, workspace, ops, *,
                  coefs, intercepts, grads, first_layer, first_delta):  # fmt: skip
        """A forward and backward pass over the rows of ``X``, in chunks.

        The first layer is left to the caller, so that a full evaluation and
        the trials of a line search (:mod:`sklearn_cgmlp._line`) share every
        other step:

        - ``first_layer(Xc, start, stop, out)`` returns the pre-activations of
          the first layer for rows ``start:stop`` (``Xc``), into ``out`` (a
          NumPy buffer, or None);
        - ``first_delta(Xc, start, stop, delta, first)`` consumes the scaled
          derivative of the loss with respect to them (``first``: whether
          this is the first chunk).

        ``coefs`` and ``intercepts`` of the layers above the first are used;
        the gradients of those layers go into ``grads`` (``(coef_grads,
        intercept_grads)``, lists indexed by layer whose entry 0 is left
        alone), written by the first chunk and added to by the others (None
        entries become new arrays). Returns the scaled, weighted data loss.
        """
        activations, output = self.activations, self.output
        coef_grads, intercept_grads = grads
        parts = chunks(X.shape[0], chunk_size)
        n_layers = len(coefs)
        data_loss = 0.0
        for chunk_index, (start, stop) in enumerate(parts):
            m = stop - start
            first = chunk_index == 0
            Xc = X if len(parts) == 1 else row_slice(X, start, stop)
            if workspace is not None:
                acts = [a[:m] for a in workspace.acts]
                deltas = [d[:m] for d in workspace.deltas]
                inputs = [None if z is None else z[:m] for z in workspace.inputs]
                row_loss, out_tmp = workspace.row_loss[:m], workspace.out_tmp[:m]
                coef_tmp = workspace.coef_tmp
            else:
                acts, deltas = [None] * n_layers, [None] * (n_layers - 1)
                inputs = [None] * (n_layers - 1)
                row_loss = out_tmp = None
                coef_tmp = [None] * n_layers

            # Forward pass; acts[i] holds the output of layer i + 1, inputs[i]
            # its pre-activation Z where its activation needs it (None
            # elsewhere): Z into the inputs buffer, then f(Z) into acts'.
            for i in range(n_layers):
                hidden = i < n_layers - 1
                keep = hidden and activations[i].needs_input
                out = inputs[i] if keep and inputs[i] is not None else acts[i]
                if i == 0:
                    Z = first_layer(Xc, start, stop, out)
                else:
                    Z = ops.matmul(acts[i - 1], coefs[i], out=out)
                    Z += intercepts[i]
                if hidden:
                    spare = None if out is acts[i] else acts[i]
                    Z, inputs[i] = activations[i].forward_(Z, ops, keep, out=spare)
                acts[i] = Z

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

            # Backward pass through the layers above the first.
            for i in range(n_layers - 1, 0, -1):
                accumulate(
                    i, acts[i - 1], delta, first, coef_grads, intercept_grads,
                    coef_tmp, ops,
                )  # fmt: skip
                D = ops.matmul(delta, coefs[i].T, out=deltas[i - 1])
                # acts[i - 1] (and inputs[i - 1]) were last needed for the
                # gradient above; they become scratch.
                delta = activations[i - 1].multiply_by_derivative(
                    acts[i - 1], inputs[i - 1], D, ops
                )
            first_delta(Xc, start, stop, delta, first)
        return data_loss * scale

    # ------------------------------------------------------------ objective
    def loss_gradient(
        self,
        theta,
        X,
        Y,
        *,
        sample_weight=None,
        sample_weight_sum=None,
        grad=None,
        workspace=None,
        chunk_size=None,
        ops=NUMPY,
    ):
        """The objective (module docstring) and its gradient.

        Parameters
        ----------
        theta, X, Y, sample_weight, grad, workspace, chunk_size, ops
            As in :meth:`data_loss_gradient`.
        sample_weight_sum : float, default=None
            ``S``, if already known.

        Returns
        -------
        loss : float
            The objective value.
        grad : array of shape (n_params,)
            Its gradient with respect to ``theta``, same dtype as ``theta``.
        """
        if sample_weight_sum is None:
            sample_weight_sum = weight_sum(X.shape[0], sample_weight, ops)
        if ops.is_numpy:
            n_rows = min(X.shape[0], chunk_size or X.shape[0])
            workspace = self.workspace(n_rows, theta.dtype, workspace)
        loss, grad = self.data_loss_gradient(
            theta,
            X,
            Y,
            sample_weight=sample_weight,
            scale=1.0 / sample_weight_sum,
            grad=grad,
            workspace=workspace,
            chunk_size=chunk_size,
            ops=ops,
        )
        loss += self.add_penalty(
            theta,
            grad,
            self.penalty_strength(sample_weight_sum),
            scratch=None if workspace is None else workspace.coef_flat,
            ops=ops,
        )
        return loss, grad

    def curvature_product(
        self,
        theta,
        X,
        Y,
        *,
        sample_weight=None,
        sample_weight_sum=None,
        penalized=True,
        gauss_newton=True,
        ops=NUMPY,
    ):
        """Products of the curvature at ``theta`` with vectors.

        Returns a :class:`~sklearn_cgmlp._hessian.CurvatureProduct`; see
        there. ``penalized=False`` leaves out the L2 term (for blocks of rows
        summed by the caller, who adds it once).
        """
        from ._hessian import CurvatureProduct

        return CurvatureProduct(
            self,
            theta,
            X,
            Y,
            sample_weight=sample_weight,
            sample_weight_sum=sample_weight_sum,
            penalized=penalized,
            gauss_newton=gauss_newton,
            ops=ops,
        )
