"""Curvature-vector products of the MLP objective (pure kernel).

:class:`CurvatureProduct` evaluates, at a fixed parameter vector ``theta``,
products ``H v`` with either

- the exact Hessian of the objective, through Pearlmutter's R-operator
  (forward-mode propagation of ``R{.} = d/dr (.)(theta + r v)`` followed by
  a backward pass of the R-variables), or
- the generalized Gauss-Newton matrix ``G = J^T H_L J + (alpha / S) P`` in
  Schraudolph's form, where ``J`` is the Jacobian of the output logits,
  ``H_L`` the Hessian of the loss with respect to the logits (positive
  semi-definite for every output of the table: the losses are convex in the
  logits) and ``P`` the
  projection onto the coefficient entries. ``G`` is positive semi-definite,
  which suits truncated-Newton solvers.

The Hessian of the loss with respect to the logits comes from the output table
(:mod:`sklearn_cgmlp._outputs`), at the logits and the targets. For the Huber
loss it is piecewise: ``1 / K`` where a residual is within ``epsilon``, 0
beyond, so both products see only the residuals inside ``epsilon``. The jump
at ``epsilon`` itself is ignored, as relu's kink is: the products are exact
wherever no residual sits exactly there.

Both use the notation of :mod:`sklearn_cgmlp._loss`: ``A_l`` the output of
layer ``l`` (``A_0 = X``), ``Z_l = A_{l-1} W_l + b_l``, ``D_l`` the scaled
loss derivative with respect to ``Z_l``. The first and second derivatives
``f'`` and ``f''`` of each hidden layer's activation, at its output (or its
pre-activation, where the activation needs it), come from the activation
table (:mod:`sklearn_cgmlp._activations`); the L2 term's
curvature from :class:`~sklearn_cgmlp._loss.MLPLoss`.

The forward quantities at ``theta`` are computed once and reused by every
product, since truncated-Newton solvers make many products at one point.
"""

from ._ops import NUMPY
from ._workspace import weight_sum


class CurvatureProduct:
    """Products of the Hessian (or Gauss-Newton matrix) at ``theta`` with vectors.

    Made by :meth:`sklearn_cgmlp._loss.MLPLoss.curvature_product`.

    Parameters
    ----------
    loss : MLPLoss
        The objective's settings: layout, activation, output and ``alpha``.
    theta : array of shape (n_params,)
        Point at which the curvature is taken.
    X, Y, sample_weight : see
        :meth:`sklearn_cgmlp._loss.MLPLoss.data_loss_gradient`.
    sample_weight_sum : float, default=None
        ``S``, the sum of the sample weights of the whole objective, if
        already known (the curvature of the data term is divided by it).
    penalized : bool, default=True
        Whether to add the L2 term's curvature (False for blocks of rows that
        the caller sums and adds the term to once).
    gauss_newton : bool, default=True
        Gauss-Newton matrix (positive semi-definite) if True, exact Hessian
        otherwise.
    ops : NumPyOps or ArrayAPIOps, default=NUMPY
        Operations of the arrays' namespace (:mod:`sklearn_cgmlp._ops`); all
        arrays, products included, stay in it.
    """

    def __init__(
        self,
        loss,
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
        self.ops = ops
        xp = ops.xp
        self.loss = loss
        self.layout = loss.layout
        self.X = X
        self.output = loss.output
        self.gauss_newton = gauss_newton
        self.coefs, intercepts = self.layout.unpack(theta, xp)
        if sample_weight_sum is None:
            sample_weight_sum = weight_sum(X.shape[0], sample_weight, ops)
        inv_sw_sum = 1.0 / sample_weight_sum
        self.penalty_strength = (
            loss.penalty_strength(sample_weight_sum) if penalized else 0.0
        )
        # Per-row scale s_i / S of the output derivatives.
        if sample_weight is None:
            self.row_scale = inv_sw_sum
        else:
            self.row_scale = (sample_weight * inv_sw_sum)[:, None]

        # Forward pass at theta; acts are A_1 .. A_{L-1}, the hidden outputs.
        coefs = self.coefs
        n_hidden = len(coefs) - 1
        Z, self.acts, inputs = loss.forward(
            coefs, intercepts, X, return_hidden=True, ops=ops, return_inputs=True
        )
        self.curvature = self.output.curvature_state(Z, Y, ops)
        derivs = [
            activation.derivatives(A, Zl, ops)
            for activation, A, Zl in zip(loss.activations, self.acts, inputs)
        ]
        self.d1 = [d[0] for d in derivs]
        self.d2 = [d[1] for d in derivs]

        if not gauss_newton:
            # Backpropagated signals at theta: G_l = D_{l+1} W_{l+1}^T (before
            # the activation derivative) and D_l, for the exact Hessian terms.
            _, D = self.output.loss_and_delta(ops.copy(Z), Y, None, None, ops)
            D *= self.row_scale
            self.deltas = [None] * (n_hidden + 1)
            self.signals = [None] * n_hidden
            self.deltas[n_hidden] = D
            for i in range(n_hidden, 0, -1):
                G = D @ coefs[i].T
                self.signals[i - 1] = G
                D = G if self.d1[i - 1] is None else G * self.d1[i - 1]
                self.deltas[i - 1] = D

    def dot(self, v):
        """Curvature times ``v``.

        Parameters
        ----------
        v : array of shape (n_params,)
            Direction, same dtype and namespace as ``theta``.

        Returns
        -------
        Hv : array of shape (n_params,)
            A new array.
        """
        ops, xp = self.ops, self.ops.xp
        layout, coefs = self.layout, self.coefs
        if ops.is_numpy:
            v = xp.ascontiguousarray(v)
        V, vb = layout.unpack(v, xp)
        n_hidden = len(coefs) - 1
        HV, Hb = [None] * (n_hidden + 1), [None] * (n_hidden + 1)
        inputs = [self.X, *self.acts]

        # R-forward: R{Z_l} and R{A_l}.
        RZ, RA = [], [None]  # RA[l] = R{A_l}; R{A_0} = 0
        for i in range(n_hidden + 1):
            rz = ops.matmul(inputs[i], V[i]) + vb[i]
            if i > 0:
                rz += RA[i] @ coefs[i]
            RZ.append(rz)
            if i < n_hidden:
                RA.append(rz if self.d1[i] is None else self.d1[i] * rz)

        # R-backward.
        RD = self.output.hessian_times(self.curvature, RZ[-1], ops) * self.row_scale
        for i in range(n_hidden, -1, -1):
            HV[i] = ops.matmul(inputs[i].T, RD)
            Hb[i] = ops.sum(RD, axis=0)
            if not self.gauss_newton and i > 0:
                HV[i] += RA[i].T @ self.deltas[i]
            if i > 0:
                RG = RD @ coefs[i].T
                if not self.gauss_newton:
                    RG += self.deltas[i] @ V[i].T
                    if self.d2[i - 1] is not None:
                        # d/dr of f'(Z) is f''(Z) R{Z}; contract with the signal.
                        RG = RG * self.d1[i - 1] + (
                            self.signals[i - 1] * self.d2[i - 1] * RZ[i - 1]
                        )
                    elif self.d1[i - 1] is not None:
                        RG = RG * self.d1[i - 1]
                    RD = RG
                else:
                    RD = RG if self.d1[i - 1] is None else RG * self.d1[i - 1]
        Hv = layout.flatten(HV, Hb, ops)
        return self.loss.add_penalty_curvature(v, Hv, self.penalty_strength)
