"""Output layers: an output activation with its loss, as a table.

Each entry pairs the activation of the output layer (the inverse link) with a
loss on the output *logits* ``Z``. The canonical pairs, those of MLPClassifier
and MLPRegressor, have ``dloss/dZ = inverse_link(Z) - Y`` (divided by the
number of outputs for the losses averaged over outputs); the Huber and Gamma
losses reuse the identity and exp outputs with other losses. Losses are
computed from the logits, never from the activated outputs (log-sum-exp,
``logaddexp``, ``expm1``), so they stay finite and accurate for saturated
outputs.

=============  =============================================  ==================
activation     loss per sample (``K`` outputs)                 used by
=============  =============================================  ==================
``softmax``    ``logsumexp(z) - sum_k y_k z_k``                multiclass
``logistic``   ``sum_k log(1 + exp(z_k)) - y_k z_k``           binary, multilabel
``identity``   ``sum_k (z_k - y_k)**2 / (2 K)``                squared error
``identity``   ``sum_k h_eps(z_k - y_k) / K``, ``h_eps(r)`` =  Huber
               ``r**2 / 2`` for ``|r| <= eps``, else
               ``eps * |r| - eps**2 / 2``
``exp``        ``sum_k xlogy(y_k, y_k) - y_k - y_k z_k         Poisson (half
               + exp(z_k)``                                    deviance)
``exp``        ``sum_k expm1(w_k) - w_k``, ``w_k = log(y_k)    Gamma (half
               - z_k``, i.e. ``y_k exp(-z_k) + z_k`` up to     deviance)
               the constant ``-log(y_k) - 1``
=============  =============================================  ==================

Each output also says which target values its loss accepts
(:meth:`_Output.check_targets`, as scikit-learn's losses check ``y_true``), so
that no caller special-cases a loss by its name. :data:`OUTPUTS` maps an
output activation to its canonical entry (what predictions and classifiers
need); :data:`LOSSES` maps the ``loss`` parameter of the regressor to the
class of its entry, which takes the regressor's parameters named in its
``params`` (:func:`regression_output`); :data:`REGRESSION_LOSSES` maps it to
the output activation.

Every function here is a pure function of arrays.
"""

import numpy as np

from ._ops import NUMPY, numpy_dtype


def logistic_logit_bound(dtype):
    """Largest logit magnitude whose probability differs from 0 and 1.

    ``expit(z)`` rounds to exactly 1 (and ``expit(-z)`` to 0) beyond about
    ``log(1 / eps)``. Clipping logits to this bound keeps predicted
    probabilities of logistic outputs inside ``[eps, 1 - eps]``.
    """
    eps = np.finfo(numpy_dtype(dtype)).eps
    return float(np.log1p(-eps) - np.log(eps))


def _log_tiny(dtype):
    """``-log`` of the smallest normal number of ``dtype``: the bound of
    softmax's shifted logits and log-probabilities (708 in float64)."""
    return -float(np.log(np.finfo(numpy_dtype(dtype)).tiny))


class _Output:
    """Interface of an output layer; see the module docstring.

    ``ops`` are the operations of the arrays' namespace
    (:mod:`sklearn_cgmlp._ops`).
    """

    #: The name MLPClassifier / MLPRegressor give the output activation.
    activation = None
    #: The regressor's ``loss`` of this entry (None for classifiers' outputs).
    loss = None
    #: The regressor's parameters the loss takes (keywords of ``__init__``).
    params = ()
    #: Smallest target value the loss accepts (None: every finite value),
    #: whether targets must exceed it (``y_min_strict``) or may equal it, and
    #: what to say when a target is outside.
    y_min = None
    y_min_strict = False
    y_min_message = None

    def __repr__(self):
        return f"{type(self).__name__}()"

    def check_targets(self, smallest):
        """Raise ValueError unless every target is in the loss's range.

        ``smallest`` is the smallest target value (a reduction, so that data
        on a cluster or a device need not come to the host for the check).
        """
        if self.y_min is None:
            return
        if smallest < self.y_min or (self.y_min_strict and smallest == self.y_min):
            raise ValueError(self.y_min_message)

    def loss_and_delta(self, Z, Y, row_loss, tmp, ops=NUMPY):
        """``(row_loss, delta)``: the per-row loss and ``dloss/dZ``.

        With NumPy, ``Z`` is overwritten by the delta and ``row_loss`` and
        ``tmp`` (scratch of ``Z``'s shape) are buffers; elsewhere they are
        None and new arrays are returned.
        """
        raise NotImplementedError

    def inverse_link(self, Z, ops=NUMPY):
        """Activated outputs (probabilities or predictions), a new array."""
        raise NotImplementedError

    def curvature_state(self, Z, Y, ops=NUMPY):
        """What :meth:`hessian_times` needs at logits ``Z`` and targets ``Y``
        (a new array, or ``Z`` itself where it is not needed)."""
        raise NotImplementedError

    def hessian_times(self, P, U, ops=NUMPY):
        """The loss's Hessian with respect to the logits times ``U``, row by
        row, with ``P = curvature_state(Z)`` (positive semi-definite)."""
        raise NotImplementedError


class Softmax(_Output):
    activation = "softmax"

    def loss_and_delta(self, Z, Y, row_loss, tmp, ops=NUMPY):
        # loss_i = logsumexp(z_i) - sum_k y_ik z_ik, valid for rows of Y that
        # sum to one (one-hot here).
        xp = ops.xp
        yz = ops.rowdot(Y, Z)
        zmax = xp.max(Z, axis=1, keepdims=True)
        Z -= zmax
        Z = ops.exp_(Z)
        s = xp.sum(Z, axis=1, keepdims=True)
        Z /= s
        Z -= Y
        row_loss = ops.log(s[:, 0], out=row_loss)
        row_loss += zmax[:, 0]
        row_loss -= yz
        return row_loss, Z

    def inverse_link(self, Z, ops=NUMPY):
        xp = ops.xp
        P = Z - xp.max(Z, axis=1, keepdims=True)
        # exp underflows to 0 below log(tiny): clipped there, no probability
        # is 0, so log(predict_proba) stays finite where predict_log_proba is
        # (as logistic outputs keep theirs inside [eps, 1 - eps]).
        P = ops.clip(P, _log_tiny(P.dtype))
        P = ops.exp_(P)
        P /= xp.sum(P, axis=1, keepdims=True)
        return P

    def log_proba(self, Z, ops=NUMPY):
        """Log-probabilities, a new array, computed stably."""
        xp = ops.xp
        Zs = Z - xp.max(Z, axis=1, keepdims=True)
        Zs -= xp.log(xp.sum(xp.exp(Zs), axis=1, keepdims=True))
        # No lower than the log of inverse_link's floor, so that the two
        # agree on every sample: beyond it no probability is representable.
        return ops.clip(Zs, _log_tiny(Zs.dtype))

    def curvature_state(self, Z, Y, ops=NUMPY):
        return self.inverse_link(Z, ops)

    def hessian_times(self, P, U, ops=NUMPY):
        return P * (U - ops.xp.sum(P * U, axis=1, keepdims=True))


class Logistic(_Output):
    activation = "logistic"

    def loss_and_delta(self, Z, Y, row_loss, tmp, ops=NUMPY):
        # loss_i = sum_k log(1 + exp(z_ik)) - y_ik z_ik
        yz = ops.rowdot(Y, Z)
        tmp = ops.log1pexp(Z, out=tmp)
        row_loss = ops.sum(tmp, axis=1, out=row_loss)
        row_loss -= yz
        Z = ops.expit_(Z)
        Z -= Y
        return row_loss, Z

    def inverse_link(self, Z, ops=NUMPY):
        return ops.expit_(ops.clip(Z, logistic_logit_bound(Z.dtype)))

    def log_proba(self, Z, ops=NUMPY):
        """Log-probabilities, a new array, computed stably."""
        # log(expit(z)) = -log(1 + exp(-z))
        Zc = ops.clip(Z, logistic_logit_bound(Z.dtype))
        Zc = ops.log1pexp(-Zc)
        return -Zc

    def curvature_state(self, Z, Y, ops=NUMPY):
        return ops.expit_(ops.copy(Z))

    def hessian_times(self, P, U, ops=NUMPY):
        return P * (1 - P) * U


class Identity(_Output):
    """Squared error, averaged over outputs as MLPRegressor averages it."""

    activation = "identity"
    loss = "squared_error"

    def loss_and_delta(self, Z, Y, row_loss, tmp, ops=NUMPY):
        inv_outputs = 1.0 / Z.shape[1]
        Z -= Y
        tmp = ops.square(Z, out=tmp)
        row_loss = ops.sum(tmp, axis=1, out=row_loss)
        row_loss *= 0.5 * inv_outputs
        Z *= inv_outputs
        return row_loss, Z

    def inverse_link(self, Z, ops=NUMPY):
        return ops.copy(Z)

    def curvature_state(self, Z, Y, ops=NUMPY):
        return Z

    def hessian_times(self, P, U, ops=NUMPY):
        return U * (1.0 / P.shape[1])


class Exp(_Output):
    """Poisson half deviance with a log link, summed over outputs."""

    activation = "exp"
    loss = "poisson"
    y_min = 0.0
    y_min_message = (
        "Some value(s) of y are negative which is not allowed for Poisson regression."
    )

    def loss_and_delta(self, Z, Y, row_loss, tmp, ops=NUMPY):
        # loss_i = sum_k xlogy(y, y) - y - y z + exp(z); the first two terms
        # do not depend on the weights but make the loss MLPRegressor's.
        yz = ops.rowdot(Y, Z)
        Z = ops.exp_(Z)
        tmp = ops.subtract(Z, Y, out=tmp)
        tmp += ops.xlogx(Y)
        row_loss = ops.sum(tmp, axis=1, out=row_loss)
        row_loss -= yz
        Z -= Y
        return row_loss, Z

    def inverse_link(self, Z, ops=NUMPY):
        return ops.exp_(ops.copy(Z))

    def curvature_state(self, Z, Y, ops=NUMPY):
        return self.inverse_link(Z, ops)

    def hessian_times(self, P, U, ops=NUMPY):
        return P * U


class Huber(Identity):
    """Huber loss of the residual, averaged over outputs; identity output.

    Quadratic for residuals ``|r| <= epsilon`` (where it is the squared
    error), linear beyond, with a continuous first derivative
    ``clip(r, -epsilon, epsilon)``. Its second derivative is piecewise: 1
    inside, 0 outside (undefined at ``|r| = epsilon``, where 1 is taken), so
    the curvature products (Gauss-Newton and exact alike) see only the
    samples whose residual is inside; those outside act on the gradient
    alone, with a bounded pull.
    """

    loss = "huber"
    params = ("epsilon",)

    def __init__(self, epsilon=1.35):
        self.epsilon = float(epsilon)

    def __repr__(self):
        return f"Huber(epsilon={self.epsilon!r})"

    def loss_and_delta(self, Z, Y, row_loss, tmp, ops=NUMPY):
        # With c = clip(r, -eps, eps): h(r) = c (r - c / 2), which is r**2 / 2
        # inside and eps |r| - eps**2 / 2 outside, and h'(r) = c.
        eps = self.epsilon
        inv_outputs = 1.0 / Z.shape[1]
        R = ops.subtract(Z, Y, out=Z)
        C = ops.clip(R, eps)
        R -= 0.5 * C
        R *= C
        row_loss = ops.sum(R, axis=1, out=row_loss)
        row_loss *= inv_outputs
        C *= inv_outputs
        return row_loss, C

    def curvature_state(self, Z, Y, ops=NUMPY):
        # 1 / K where the residual is inside [-eps, eps], 0 outside.
        xp, eps = ops.xp, self.epsilon
        R = Z - Y
        inside = xp.abs(R) <= eps
        return ops.astype(inside, Z.dtype) * (1.0 / Z.shape[1])

    def hessian_times(self, P, U, ops=NUMPY):
        return P * U


class Gamma(Exp):
    """Gamma half deviance with a log link, summed over outputs.

    scikit-learn's ``HalfGammaLoss`` (``y exp(-z) + z``) plus its constant
    ``-log(y) - 1``, so that a perfect fit has zero loss, as the Poisson
    deviance above: with ``w = log(y) - z``, the loss is ``expm1(w) - w``, its
    derivative ``-expm1(w) = 1 - y / exp(z)`` and its second derivative
    ``exp(w) = y / exp(z)``, positive (the loss is convex in ``z``).
    """

    loss = "gamma"
    y_min = 0.0
    y_min_strict = True
    # HistGradientBoostingRegressor's words.
    y_min_message = "loss='gamma' requires strictly positive y."

    def loss_and_delta(self, Z, Y, row_loss, tmp, ops=NUMPY):
        xp = ops.xp
        W = ops.log(Y, out=tmp)
        W = ops.subtract(W, Z, out=W)
        Z = xp.expm1(W)
        R = Z - W
        row_loss = ops.sum(R, axis=1, out=row_loss)
        Z = -Z
        return row_loss, Z

    def curvature_state(self, Z, Y, ops=NUMPY):
        xp = ops.xp
        return xp.exp(xp.log(Y) - Z)


OUTPUTS = {
    output.activation: output for output in (Softmax(), Logistic(), Identity(), Exp())
}

#: The regressor's ``loss`` parameter -> the class of its output entry.
LOSSES = {output.loss: output for output in (Identity, Huber, Exp, Gamma)}

#: The regressor's ``loss`` parameter -> its output activation.
REGRESSION_LOSSES = {name: output.activation for name, output in LOSSES.items()}


def regression_output(loss, params):
    """The output entry of the regressor's ``loss``, made with the
    regressor's parameters it takes (``params``: a mapping of them, such as
    ``get_params()``; those it lacks keep the entry's defaults)."""
    output = LOSSES[loss]
    return output(**{name: params[name] for name in output.params if name in params})
