"""Objectives by where the data lives.

An objective owns the training data of one fit and evaluates the loss and its
gradient (``objective(theta, grad) -> loss``) and curvature products
(``objective.curvature(theta)``) on it. The solver glue only ever sees these
two; the estimator picks the objective for where the data lives.
"""

from scipy import sparse

from ._hessian import CurvatureProduct
from ._loss import Workspace, add_penalty, data_loss_grad, weight_sum


class InMemoryObjective:
    """The objective over data in this process's memory.

    ``X`` may be a NumPy array, a memory map or a SciPy sparse matrix.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data, of the dtype the objective is computed in.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets (see :func:`sklearn_cgmlp._loss.data_loss_grad`).
    layout : ParameterLayout
        Layout of the parameter vector.
    activation : str
        Hidden activation.
    out_activation : str
        Output activation, which selects the loss.
    alpha : float
        L2 penalty.
    sample_weight : ndarray of shape (n_samples,) or None
        Sample weights; None means all ones.
    chunk_size : int or None
        Rows evaluated at a time (bounds the scratch memory).
    """

    def __init__(
        self,
        X,
        Y,
        *,
        layout,
        activation,
        out_activation,
        alpha,
        sample_weight=None,
        chunk_size=None,
    ):
        n_samples = X.shape[0]
        chunked = chunk_size is not None and chunk_size < n_samples
        if chunked and sparse.issparse(X) and X.format == "csc":
            X = X.tocsr()  # row slices of CSC matrices are slow
        self.X, self.Y = X, Y
        self.layout = layout
        self.activation = activation
        self.out_activation = out_activation
        self.alpha = alpha
        self.sample_weight = sample_weight
        self.sample_weight_sum = weight_sum(n_samples, sample_weight)
        self.chunk_size = chunk_size if chunked else None
        self.dtype = X.dtype
        self.workspace = Workspace(
            layout.layer_units, chunk_size if chunked else n_samples, X.dtype
        )

    @property
    def n_params(self):
        """Length of the parameter vector."""
        return self.layout.n_params

    def __call__(self, theta, grad):
        """The loss at ``theta``; its gradient is written into ``grad``."""
        inv_sw_sum = 1.0 / self.sample_weight_sum
        loss = data_loss_grad(
            theta,
            self.X,
            self.Y,
            layout=self.layout,
            activation=self.activation,
            out_activation=self.out_activation,
            sample_weight=self.sample_weight,
            scale=inv_sw_sum,
            grad=grad,
            workspace=self.workspace,
            chunk_size=self.chunk_size,
        )
        return loss + add_penalty(
            theta,
            grad,
            layout=self.layout,
            strength=self.alpha * inv_sw_sum,
            scratch=self.workspace.coef_tmp,
        )

    def curvature(self, theta):
        """Gauss-Newton-vector products at ``theta`` (not chunked)."""
        return CurvatureProduct(
            theta,
            self.X,
            self.Y,
            layout=self.layout,
            activation=self.activation,
            out_activation=self.out_activation,
            alpha=self.alpha,
            sample_weight=self.sample_weight,
            sample_weight_sum=self.sample_weight_sum,
        )
