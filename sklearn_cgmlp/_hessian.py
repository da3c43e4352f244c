"""Curvature-vector products of the MLP objective (pure kernel).

:class:`CurvatureProduct` evaluates, at a fixed parameter vector ``theta``,
products ``H v`` with either

- the exact Hessian of the objective, through Pearlmutter's R-operator
  (forward-mode propagation of ``R{.} = d/dr (.)(theta + r v)`` followed by
  a backward pass of the R-variables), or
- the generalized Gauss-Newton matrix ``G = J^T H_L J + (alpha / S) P`` in
  Schraudolph's form, where ``J`` is the Jacobian of the output logits,
  ``H_L`` the Hessian of the cross-entropy with respect to the logits (which
  is positive semi-definite for softmax and logistic outputs) and ``P`` the
  projection onto the coefficient entries. ``G`` is positive semi-definite,
  which suits truncated-Newton solvers.

Both use the notation of :mod:`sklearn_cgmlp._loss`: ``A_l`` the output of
layer ``l`` (``A_0 = X``), ``Z_l = A_{l-1} W_l + b_l``, ``D_l`` the scaled
loss derivative with respect to ``Z_l``. For an activation output ``a`` the
first and second derivatives of the activation are ``f'`` and ``f''``
expressed through ``a`` (logistic: ``a(1-a)`` and ``f'(1-2a)``; tanh:
``1-a^2`` and ``-2a f'``; relu: ``1[a>0]`` and 0; identity: 1 and 0).

The forward quantities at ``theta`` are computed once and reused by every
product, since truncated-Newton solvers make many products at one point.
"""

from ._loss import forward, weight_sum
from ._ops import NUMPY
from ._outputs import OUTPUTS


def _derivatives(name, A, ops):
    """First and second activation derivatives at activation output ``A``."""
    if name == "logistic":
        d1 = A * (1 - A)
        return d1, d1 * (1 - 2 * A)
    if name == "tanh":
        d1 = 1 - A * A
        return d1, -2 * A * d1
    if name == "relu":
        return ops.astype(A > 0, A.dtype), None
    return None, None  # identity


class CurvatureProduct:
    """Products of the Hessian (or Gauss-Newton matrix) at ``theta`` with vectors.

    Parameters
    ----------
    theta : ndarray of shape (n_params,)
        Point at which the curvature is taken.
    X, Y, layout, activation, out_activation, alpha, sample_weight : see
        :func:`sklearn_cgmlp._loss.loss_grad`.
    sample_weight_sum : float, default=None
        ``sample_weight.sum()`` (or ``n_samples``) if already known.
    gauss_newton : bool, default=True
        Gauss-Newton matrix (positive semi-definite) if True, exact Hessian
        otherwise.
    ops : NumPyOps or ArrayAPIOps, default=NUMPY
        Operations of the arrays' namespace (:mod:`sklearn_cgmlp._ops`); all
        arrays, products included, stay in it.
    """

    def __init__(
        self,
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
        gauss_newton=True,
        ops=NUMPY,
    ):
        self.ops = ops
        xp = ops.xp
        self.layout = layout
        self.X = X
        self.activation = activation
        self.output = OUTPUTS[out_activation]
        self.alpha = alpha
        self.gauss_newton = gauss_newton
        self.coefs, intercepts = layout.unpack(theta, xp)
        if sample_weight_sum is None:
            sample_weight_sum = weight_sum(X.shape[0], sample_weight, ops)
        self.inv_sw_sum = 1.0 / sample_weight_sum
        # Per-row scale s_i / S of the output derivatives.
        if sample_weight is None:
            self.row_scale = self.inv_sw_sum
        else:
            self.row_scale = (sample_weight * self.inv_sw_sum)[:, None]

        # Forward pass at theta; acts are A_1 .. A_{L-1}, the hidden outputs.
        coefs = self.coefs
        n_hidden = len(coefs) - 1
        Z, self.acts = forward(
            coefs, intercepts, X, activation, return_hidden=True, ops=ops
        )
        self.curvature = self.output.curvature_state(Z, ops)
        derivs = [_derivatives(activation, A, ops) for A in self.acts]
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
        if self.alpha:
            scale = self.alpha * self.inv_sw_sum
            for H, Vc in zip(HV, V):
                H += scale * Vc
        return layout.flatten(HV, Hb, ops)
