"""The L2 term of the MLP objective (pure kernel): its value, gradient and
curvature, the only place they are written.

``alpha / (2 S) * sum_layers ||W_layer||_F^2`` over the coefficient matrices
(intercepts are not penalised), ``S`` the sum of the sample weights.
:class:`L2Penalty` is a base of :class:`~sklearn_cgmlp._loss.MLPLoss`, whose
``alpha``, ``layout`` and ``n_coefs`` (the coefficient entries lead the
parameter vector) it uses.
"""

import numpy as np

from ._ops import NUMPY


class L2Penalty:
    """The L2 term's methods of :class:`~sklearn_cgmlp._loss.MLPLoss`."""

    def penalty_strength(self, sample_weight_sum):
        """The factor ``alpha / S`` of the L2 term's gradient."""
        return self.alpha / sample_weight_sum

    def coef_parts(self, part=None):
        """The coefficient entries within ``part`` (a slice of the parameter
        vector; None for all), as one slice per layer when ``part`` is None,
        else as one slice (possibly empty)."""
        if part is None:
            return list(self.layout.coef_slices)
        start = max(part.start or 0, 0)
        stop = self.n_coefs if part.stop is None else min(part.stop, self.n_coefs)
        return [slice(start, stop)] if start < stop else []

    def add_penalty_gradient(self, theta, grad, strength, *, parts=None,
                             scratch=None, ops=NUMPY):  # fmt: skip
        """Add the L2 term's gradient ``strength * W`` to ``grad`` in place.

        Intercepts are not penalised.

        Parameters
        ----------
        theta, grad : array of shape (n_params,)
            Parameters and the gradient to add to (in the same namespace).
        strength : float
            ``alpha / S`` (:meth:`penalty_strength`).
        parts : list of slice, default=None
            Where to add: slices of the coefficient entries (from
            :meth:`coef_parts`), e.g. the share of one thread; None for every
            coefficient (layer by layer with NumPy, at once elsewhere).
        scratch : ndarray of shape (n_coefs,), default=None
            NumPy: room for ``strength * W``, so that no temporary is made.
        ops : NumPyOps or ArrayAPIOps, default=NUMPY
            Operations of the arrays' namespace. Other namespaces update
            ``grad`` by slice assignment, which the standard defines.

        Returns
        -------
        squares : float
            The sum of the squared coefficients over ``parts``, from which
            :meth:`penalty_value` gives the term's value.
        """
        if strength == 0:
            return 0.0
        if parts is None:
            parts = self.coef_parts() if ops.is_numpy else self.coef_parts(slice(None))
        squares = 0.0
        for part in parts:
            W = theta[part]
            squares += ops.squared_norm(W)
            if ops.is_numpy:
                factor = theta.dtype.type(strength)
                tmp = None if scratch is None else scratch[part]
                grad[part] += np.multiply(W, factor, out=tmp)
            else:
                grad[part] += strength * W
        return squares

    def penalty_value(self, strength, squares):
        """The L2 term ``strength / 2 * sum ||W||^2`` from the sum of squares."""
        return 0.5 * strength * squares

    def add_penalty(self, theta, grad, strength, *, scratch=None, ops=NUMPY):
        """:meth:`add_penalty_gradient` over every coefficient; returns the
        term's value."""
        squares = self.add_penalty_gradient(
            theta, grad, strength, scratch=scratch, ops=ops
        )
        return self.penalty_value(strength, squares)

    def add_penalty_curvature(self, v, Hv, strength):
        """Add the L2 term's curvature times ``v`` to ``Hv`` in place; return
        it. The term's Hessian is ``strength`` on the coefficient entries and
        zero on the intercepts."""
        if strength:
            coefs = slice(0, self.n_coefs)
            Hv[coefs] += strength * v[coefs]
        return Hv
