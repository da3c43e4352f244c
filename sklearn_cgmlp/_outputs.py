"""Output layers: an output activation with its canonical loss, as a table.

Each entry pairs the activation of the output layer (the inverse link) with the
loss that MLPClassifier or MLPRegressor attaches to it, so that the derivative
of the loss with respect to the output *logits* ``Z`` is simply
``inverse_link(Z) - Y`` (divided by the number of outputs for the squared
error, which is averaged over outputs). Losses are computed from the logits,
never from the activated outputs (log-sum-exp, ``logaddexp``), so they stay
finite and accurate for saturated outputs.

=============  ===========================================  ==================
activation     loss per sample (``K`` outputs)               used by
=============  ===========================================  ==================
``softmax``    ``logsumexp(z) - sum_k y_k z_k``              multiclass
``logistic``   ``sum_k log(1 + exp(z_k)) - y_k z_k``         binary, multilabel
``identity``   ``sum_k (z_k - y_k)**2 / (2 K)``              squared error
``exp``        ``sum_k xlogy(y_k, y_k) - y_k - y_k z_k       Poisson (half
               + exp(z_k)``                                  deviance)
=============  ===========================================  ==================

Each output also says which target values its loss accepts
(:meth:`_Output.check_targets`, as scikit-learn's losses check ``y_true``), so
that no caller special-cases a loss by its name. :data:`REGRESSION_LOSSES` maps
the ``loss`` parameter of the regressor to its output.

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


class _Output:
    """Interface of an output layer; see the module docstring.

    ``ops`` are the operations of the arrays' namespace
    (:mod:`sklearn_cgmlp._ops`).
    """

    #: The name MLPClassifier / MLPRegressor give the output activation.
    activation = None
    #: Smallest target value the loss accepts (None: every finite value),
    #: and what to say when a target is below it.
    y_min = None
    y_min_message = None

    def check_targets(self, smallest):
        """Raise ValueError unless every target is in the loss's range.

        ``smallest`` is the smallest target value (a reduction, so that data
        on a cluster or a device need not come to the host for the check).
        """
        if self.y_min is not None and smallest < self.y_min:
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

    def curvature_state(self, Z, ops=NUMPY):
        """What :meth:`hessian_times` needs at logits ``Z`` (a new array)."""
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
        P = ops.clip(P, -float(np.log(np.finfo(numpy_dtype(P.dtype)).tiny)))
        P = ops.exp_(P)
        P /= xp.sum(P, axis=1, keepdims=True)
        return P

    def log_proba(self, Z, ops=NUMPY):
        """Log-probabilities, a new array, computed stably."""
        xp = ops.xp
        Zs = Z - xp.max(Z, axis=1, keepdims=True)
        Zs -= xp.log(xp.sum(xp.exp(Zs), axis=1, keepdims=True))
        return Zs

    def curvature_state(self, Z, ops=NUMPY):
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

    def curvature_state(self, Z, ops=NUMPY):
        return ops.expit_(ops.copy(Z))

    def hessian_times(self, P, U, ops=NUMPY):
        return P * (1 - P) * U


class Identity(_Output):
    """Squared error, averaged over outputs as MLPRegressor averages it."""

    activation = "identity"

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

    def curvature_state(self, Z, ops=NUMPY):
        return Z

    def hessian_times(self, P, U, ops=NUMPY):
        return U * (1.0 / P.shape[1])


class Exp(_Output):
    """Poisson half deviance with a log link, summed over outputs."""

    activation = "exp"
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

    def curvature_state(self, Z, ops=NUMPY):
        return self.inverse_link(Z, ops)

    def hessian_times(self, P, U, ops=NUMPY):
        return P * U


OUTPUTS = {
    output.activation: output for output in (Softmax(), Logistic(), Identity(), Exp())
}

#: The regressor's ``loss`` parameter -> its output activation (and loss).
REGRESSION_LOSSES = {"squared_error": "identity", "poisson": "exp"}
