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

Every function here is a pure function of arrays.
"""

import numpy as np
from scipy.special import expit, xlogy


def logistic_logit_bound(dtype):
    """Largest logit magnitude whose probability differs from 0 and 1.

    ``expit(z)`` rounds to exactly 1 (and ``expit(-z)`` to 0) beyond about
    ``log(1 / eps)``. Clipping logits to this bound keeps predicted
    probabilities of logistic outputs inside ``[eps, 1 - eps]``.
    """
    eps = np.finfo(dtype).eps
    return float(np.log1p(-eps) - np.log(eps))


class _Output:
    """Interface of an output layer; see the module docstring."""

    #: The name MLPClassifier / MLPRegressor give the output activation.
    activation = None

    def loss_and_delta(self, Z, Y, row_loss, tmp):
        """Per-row loss into ``row_loss``; ``dloss/dZ`` overwrites ``Z``.

        ``tmp`` is scratch space of ``Z``'s shape.
        """
        raise NotImplementedError

    def inverse_link(self, Z):
        """Activated outputs (probabilities or predictions), a new array."""
        raise NotImplementedError

    def curvature_state(self, Z):
        """What :meth:`hessian_times` needs at logits ``Z`` (a new array)."""
        raise NotImplementedError

    def hessian_times(self, P, U):
        """The loss's Hessian with respect to the logits times ``U``, row by
        row, with ``P = curvature_state(Z)`` (positive semi-definite)."""
        raise NotImplementedError


class Softmax(_Output):
    activation = "softmax"

    def loss_and_delta(self, Z, Y, row_loss, tmp):
        # loss_i = logsumexp(z_i) - sum_k y_ik z_ik, valid for rows of Y that
        # sum to one (one-hot here).
        yz = np.einsum("ij,ij->i", Y, Z)  # no temporary of Z's size
        zmax = Z.max(axis=1, keepdims=True)
        Z -= zmax
        np.exp(Z, out=Z)
        s = Z.sum(axis=1, keepdims=True)
        Z /= s
        Z -= Y
        np.log(s[:, 0], out=row_loss)
        row_loss += zmax[:, 0]
        row_loss -= yz
        return row_loss

    def inverse_link(self, Z):
        P = Z - Z.max(axis=1, keepdims=True)
        np.exp(P, out=P)
        P /= P.sum(axis=1, keepdims=True)
        return P

    def log_proba(self, Z):
        """Log-probabilities, a new array, computed stably."""
        Zs = Z - Z.max(axis=1, keepdims=True)
        Zs -= np.log(np.exp(Zs).sum(axis=1, keepdims=True))
        return Zs

    def curvature_state(self, Z):
        return self.inverse_link(Z)

    def hessian_times(self, P, U):
        return P * (U - np.sum(P * U, axis=1, keepdims=True))


class Logistic(_Output):
    activation = "logistic"

    def loss_and_delta(self, Z, Y, row_loss, tmp):
        # loss_i = sum_k log(1 + exp(z_ik)) - y_ik z_ik
        yz = np.einsum("ij,ij->i", Y, Z)
        np.logaddexp(0, Z, out=tmp)
        np.sum(tmp, axis=1, out=row_loss)
        row_loss -= yz
        expit(Z, out=Z)
        Z -= Y
        return row_loss

    def inverse_link(self, Z):
        bound = logistic_logit_bound(Z.dtype)
        return expit(np.clip(Z, -bound, bound))

    def log_proba(self, Z):
        """Log-probabilities, a new array, computed stably."""
        bound = logistic_logit_bound(Z.dtype)
        Zc = np.clip(Z, -bound, bound)
        # log(expit(z)) = -log(1 + exp(-z))
        return np.negative(np.logaddexp(0, -Zc, out=Zc), out=Zc)

    def curvature_state(self, Z):
        return expit(Z)

    def hessian_times(self, P, U):
        return P * (1 - P) * U


class Identity(_Output):
    """Squared error, averaged over outputs as MLPRegressor averages it."""

    activation = "identity"

    def loss_and_delta(self, Z, Y, row_loss, tmp):
        inv_outputs = Z.dtype.type(1.0 / Z.shape[1])
        Z -= Y
        np.square(Z, out=tmp)
        np.sum(tmp, axis=1, out=row_loss)
        row_loss *= 0.5 * inv_outputs
        Z *= inv_outputs
        return row_loss

    def inverse_link(self, Z):
        return Z.copy()

    def curvature_state(self, Z):
        return Z

    def hessian_times(self, P, U):
        return U * P.dtype.type(1.0 / P.shape[1])


class Exp(_Output):
    """Poisson half deviance with a log link, summed over outputs."""

    activation = "exp"

    def loss_and_delta(self, Z, Y, row_loss, tmp):
        # loss_i = sum_k xlogy(y, y) - y - y z + exp(z); the first two terms
        # do not depend on the weights but make the loss MLPRegressor's.
        yz = np.einsum("ij,ij->i", Y, Z)
        np.exp(Z, out=Z)
        np.subtract(Z, Y, out=tmp)
        tmp += xlogy(Y, Y)
        np.sum(tmp, axis=1, out=row_loss)
        row_loss -= yz
        Z -= Y
        return row_loss

    def inverse_link(self, Z):
        return np.exp(Z)

    def curvature_state(self, Z):
        return np.exp(Z)

    def hessian_times(self, P, U):
        return P * U


OUTPUTS = {
    output.activation: output for output in (Softmax(), Logistic(), Identity(), Exp())
}
