"""CGMLPRegressor: identity or exp outputs, squared error, Huber, Poisson or
Gamma loss."""

from numbers import Real

from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions

from ._backends import backend_of
from ._base import BaseCGMLP
from ._data import R2
from ._docstrings import fill_docstring
from ._outputs import LOSSES, OUTPUTS
from ._targets import RegressionTargets


@fill_docstring
class CGMLPRegressor(RegressorMixin, BaseCGMLP):
    """Multilayer perceptron regressor trained full-batch by conjugate gradient.

    The network and its loss are those of
    :class:`sklearn.neural_network.MLPRegressor`: fully connected hidden
    layers, an identity output with the squared error (or an exponential
    output with the Poisson deviance), averaged over samples, and an L2
    penalty ``alpha`` on the coefficient matrices. The parameters are fitted
    on the whole training set at once by SciPy's nonlinear conjugate-gradient
    solver (``scipy.optimize.minimize(method="CG")``), which is handed a
    vectorized, exact gradient, or by one of SciPy's truncated-Newton solvers
    fed with exact Gauss-Newton-vector products.

    Read more in the :ref:`User Guide <regression>`.

    Parameters
    ----------
    %(hidden_layer_sizes)s

    %(activation)s

    loss : {"squared_error", "huber", "poisson", "gamma"}, default="squared_error"
        The loss; "squared_error" and "poisson" are MLPRegressor's:

        - "squared_error": half the squared error, averaged over outputs,
          with an identity output.
        - "huber": the Huber loss of the residuals, averaged over outputs,
          with an identity output: half the squared residual up to
          ``epsilon``, linear beyond it, so that a few large outliers pull
          the fit far less than with the squared error.
        - "poisson": half the Poisson deviance, summed over outputs, with an
          exponential output (a log link), for non-negative targets such as
          counts.
        - "gamma": half the Gamma deviance, summed over outputs, with an
          exponential output (a log link), for strictly positive targets
          whose spread grows with their mean (claim amounts, durations). It
          is scikit-learn's ``HalfGammaLoss`` plus a constant that makes a
          perfect fit's loss zero.

    epsilon : float, default=1.35
        For ``loss="huber"`` only: the residual, in the units of the
        targets, at which the loss turns from quadratic to linear (the
        meaning of :class:`~sklearn.linear_model.SGDRegressor`'s
        ``epsilon``, whose default is 0.1). 1.35 is the
        classical constant that keeps 95% of the efficiency of least squares
        under Gaussian noise of unit standard deviation, which
        :class:`~sklearn.linear_model.HuberRegressor` uses in units of a
        scale it estimates; here the scale is the targets' own, so the
        default suits targets standardized as the Notes advise. Otherwise
        set it to about 1.35 times the standard deviation of the noise.
        Residuals beyond it pull with a constant force, and do not count in
        the curvature that ``"newton-cg"`` and ``"trust-ncg"`` use.

    %(solver)s

    %(alpha)s

    %(max_iter)s

    %(tol)s

    %(max_fun)s

    early_stopping : bool, default=False
        Whether to set aside ``validation_fraction`` of the training data, or
        to use the validation set given to ``fit`` (``X_val``, ``y_val``),
        and stop when the validation score (``scoring``; the coefficient of
        determination R² by default) has not improved by at least ``tol`` for
        ``n_iter_no_change`` consecutive iterations. The fitted model carries
        the weights of the iteration with the best validation score. The
        training part of a split is a copy of ``X``. Unlike MLPRegressor,
        which ignores ``early_stopping`` with its L-BFGS solver, every solver
        here honours it.

    %(scoring)s

    %(validation_fraction)s

    %(n_iter_no_change)s

    %(random_state)s

    %(warm_start)s

    %(verbose)s

    %(chunk_size)s

    %(on_interrupt)s

    Attributes
    ----------
    %(fitted_network)s

    %(fitted_solver)s

    validation_scores_ : list of float or None
        Validation score (``scoring``: R² by default, minus the loss for
        "loss") after each iteration, if ``early_stopping`` is True; None
        otherwise.

    best_validation_score_ : float or None
        Best of ``validation_scores_``, whose weights the model carries, if
        ``early_stopping`` is True; None otherwise.

    %(fitted_shape)s

    out_activation_ : str
        Output activation: "identity" for the squared error and the Huber
        loss, "exp" for the Poisson and Gamma losses.

    See Also
    --------
    sklearn.neural_network.MLPRegressor : The same network trained by
        stochastic gradient methods or L-BFGS.
    CGMLPClassifier : The classification counterpart.

    Notes
    -----
    The objective is evaluated in the dtype of ``X`` (float32 or float64); the
    solver keeps its search vector in float64. Features should be scaled (for
    instance with :class:`~sklearn.preprocessing.StandardScaler`), and so
    should targets of the squared error whose scale is far from one (for
    instance with :class:`~sklearn.compose.TransformedTargetRegressor`):
    ``tol`` is an absolute tolerance on the gradient, whose size grows with
    the targets'.

    The gradient is exact for the documented objective. MLPRegressor's own
    gradient of the squared error is ``n_outputs`` times too large for
    multi-output targets (it does not divide by the number of outputs that
    its loss averages over), so with several outputs the two estimators
    minimise the same loss but take different paths.

    ``predict`` and ``score`` may run in several threads at once, also while
    the same object is being refitted: each call uses the old or the new
    model, never a mix.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_cgmlp import CGMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> cgmlp = CGMLPRegressor(
    ...     hidden_layer_sizes=(20,), activation="tanh", alpha=1.0, tol=1e-2,
    ...     random_state=0)
    >>> reg = make_pipeline(StandardScaler(), cgmlp).fit(X_train, y_train / 100)
    >>> reg.predict(X_test[:3]).shape
    (3,)
    >>> round(reg.score(X_test, y_test / 100), 2) > 0.3
    True
    >>> reg.transform(X_test[:3]).shape  # the last hidden layer's activations
    (3, 20)
    """

    _parameter_constraints: dict = {
        **BaseCGMLP._parameter_constraints,
        "loss": [StrOptions(set(LOSSES))],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
    }

    #: ``_fitted_loss``: the ``loss`` of the last successful fit.
    _private_fitted = (*BaseCGMLP._private_fitted, "_fitted_loss")

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        loss="squared_error",
        epsilon=1.35,
        solver="cg",
        alpha=0.0001,
        max_iter=200,
        tol=1e-4,
        max_fun=15000,
        early_stopping=False,
        scoring=None,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=None,
        warm_start=False,
        verbose=False,
        chunk_size=None,
        on_interrupt="keep",
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            max_iter=max_iter,
            tol=tol,
            max_fun=max_fun,
            early_stopping=early_stopping,
            scoring=scoring,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            random_state=random_state,
            warm_start=warm_start,
            verbose=verbose,
            chunk_size=chunk_size,
            on_interrupt=on_interrupt,
        )
        self.loss = loss
        self.epsilon = epsilon

    # ------------------------------------------------------------- targets
    def _targets(self, previous):
        return RegressionTargets(self.loss, previous, params=self.get_params())

    _score_metric = staticmethod(r2_score)
    _score_needs = R2

    @staticmethod
    def _predictions(Z, attributes, ops):
        return _predictions(Z, attributes, ops)

    # -------------------------------------------------------------- predict
    def predict(self, X):
        """Predict using the multilayer perceptron regressor.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values; one-dimensional for a single output, as in
            MLPRegressor.
        """
        Z, model, backend = self._forward(X, "predict")
        attributes, ops = vars(model), backend.ops
        return backend.map_rows(
            Z,
            lambda z: _predictions(z, attributes, ops),
            dtype=Z.dtype,
            n_columns=None if model.n_outputs_ == 1 else model.n_outputs_,
        )

    def score(self, X, y, sample_weight=None):
        """Coefficient of determination R² of the predictions.

        R² is ``1 - u / v``, with ``u`` the residual sum of squares
        ``((y - y_pred) ** 2).sum()`` and ``v`` the total sum of squares
        ``((y - y.mean()) ** 2).sum()``: 1 is a perfect fit, 0 that of a
        constant prediction of the mean, and it can be negative. It is the
        default score of early stopping (``scoring=None``), whatever the
        ``loss``. With several outputs it is the average of the outputs' R²
        (as
        :func:`~sklearn.metrics.r2_score` with
        ``multioutput="uniform_average"``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True values for ``X``.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            R² of ``self.predict(X)`` with respect to ``y`` (for Dask
            inputs, computed from block-wise sums).
        """
        return backend_of(X).r2(self.predict(X), y, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        # The loss may be invalid here (it is validated at fit).
        output = LOSSES.get(self.loss) if isinstance(self.loss, str) else None
        tags.target_tags.positive_only = output is not None and output.y_min is not None
        return tags


def _predictions(Z, attributes, ops):
    """Predictions from output logits: 1-D for a single output."""
    pred = OUTPUTS[attributes["out_activation_"]].inverse_link(Z, ops)
    return ops.xp.reshape(pred, (-1,)) if pred.shape[1] == 1 else pred
