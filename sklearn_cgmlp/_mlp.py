"""The CGMLPClassifier estimator: orchestration of the kernel and the solver."""

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _loss
from ._layout import ParameterLayout
from ._solvers import SciPyObjective, minimize


class CGMLPClassifier(ClassifierMixin, BaseEstimator):
    """Multilayer perceptron classifier trained full-batch by conjugate gradient.

    The network and its loss are those of
    :class:`sklearn.neural_network.MLPClassifier`: fully connected hidden
    layers, a softmax output for multiclass targets, independent logistic
    outputs for binary and multilabel targets, the cross-entropy loss averaged
    over samples and an L2 penalty ``alpha`` on the coefficient matrices. The
    parameters are fitted on the whole training set at once by SciPy's
    nonlinear conjugate-gradient solver
    (``scipy.optimize.minimize(method="CG")``), which is handed a vectorized,
    exact gradient.

    Read more in the :ref:`User Guide <user_guide>`.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units in the ith hidden layer.

    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation function of the hidden layers.

        - "identity": ``f(x) = x``
        - "logistic": ``f(x) = 1 / (1 + exp(-x))``
        - "tanh": ``f(x) = tanh(x)``
        - "relu": ``f(x) = max(0, x)``

    alpha : float, default=0.0001
        Strength of the L2 penalty on the coefficient matrices (not the
        intercepts). As in MLPClassifier, the penalty ``alpha / 2 * ||W||^2``
        is divided by the number of samples (by the sum of the sample weights
        when ``sample_weight`` is given).

    max_iter : int, default=200
        Maximum number of conjugate-gradient iterations. Each iteration makes
        one line search, which costs one or more loss and gradient evaluations.

    tol : float, default=1e-4
        Tolerance of the solver: it stops when the largest absolute entry of
        the gradient is at most ``tol`` (SciPy's ``gtol`` with the infinity
        norm, like MLPClassifier's L-BFGS solver).

    max_fun : int, default=15000
        Maximum number of loss (and gradient) evaluations. The solver stops at
        the end of the iteration in which it is reached.

    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights (Glorot uniform initialisation, drawn
        exactly as MLPClassifier draws them). Pass an int for reproducible
        results: the same seed gives a bit-identical model.
        See :term:`Glossary <random_state>`.

    warm_start : bool, default=False
        When True, reuse the solution of the previous call to fit as the
        initial weights. The classes and the architecture must not change.
        See :term:`the Glossary <warm_start>`.

    verbose : bool or int, default=False
        Print the loss and the gradient norm at each iteration.

    chunk_size : int, default=None
        Evaluate the loss and gradient over at most ``chunk_size`` rows at a
        time. The extra memory of an evaluation is then bounded by
        ``O(chunk_size * max(hidden_layer_sizes))`` instead of growing with
        the number of samples, and ``X`` may be a :class:`numpy.memmap` larger
        than memory. The loss and gradient are the same up to rounding. None
        evaluates all rows at once, which is fastest when memory allows. CSC
        input is converted to CSR once when chunks are used.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,) or (n_outputs,)
        Class labels; for multilabel targets, the column indices of ``y``.

    coefs_ : list of ndarray of length n_layers - 1
        ``coefs_[i]`` is the weight matrix between layer ``i`` and layer
        ``i + 1``, of the dtype of the training data.

    intercepts_ : list of ndarray of length n_layers - 1
        ``intercepts_[i]`` is the bias vector of layer ``i + 1``.

    n_features_in_ : int
        Number of features seen during :term:`fit`.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during :term:`fit`. Defined only when `X`
        has feature names that are all strings.

    n_iter_ : int
        Number of solver iterations of the last call to fit.

    n_fun_evals_ : int
        Number of loss and gradient evaluations of the last call to fit.

    loss_ : float
        Value of the objective (penalty included) at the fitted weights.

    loss_curve_ : list of float
        Objective value after each solver iteration of the last call to fit;
        ``len(loss_curve_) == n_iter_``.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of output units.

    out_activation_ : str
        Output activation: "softmax" for multiclass, "logistic" for binary and
        multilabel targets.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same network trained by
        stochastic gradient methods or L-BFGS.

    Notes
    -----
    The objective is evaluated in the dtype of ``X`` (float32 or float64); the
    solver keeps its search vector in float64. Features should be scaled (for
    instance with :class:`~sklearn.preprocessing.StandardScaler`): unscaled
    inputs saturate logistic and tanh units and stall the optimisation.

    Probabilities of logistic outputs are bounded to ``[eps, 1 - eps]`` of the
    floating dtype, the range in which they can differ from certainty.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_cgmlp import CGMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(
    ...     X, y, stratify=y, random_state=0)
    >>> cgmlp = CGMLPClassifier(
    ...     hidden_layer_sizes=(10,), activation="tanh", random_state=0)
    >>> clf = make_pipeline(StandardScaler(), cgmlp).fit(X_train, y_train)
    >>> clf.predict(X_test[:5])
    array([0, 0, 0, 0, 1])
    >>> clf.score(X_test, y_test)
    1.0
    >>> cgmlp.n_iter_ == len(cgmlp.loss_curve_)
    True
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(_loss.HIDDEN_ACTIVATIONS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "chunk_size": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        alpha=0.0001,
        max_iter=200,
        tol=1e-4,
        max_fun=15000,
        random_state=None,
        warm_start=False,
        verbose=False,
        chunk_size=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.max_fun = max_fun
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.chunk_size = chunk_size

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data. float32 data is fitted in float32; sparse data
            should be CSR or CSC.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Class labels, or a binary indicator matrix for multilabel
            classification.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights. The loss is the weighted mean of the
            per-sample losses: a zero weight drops a sample, an integer weight
            repeats it.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # A failed fit leaves the estimator exactly as it was.
        saved_state = self.__dict__.copy()
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved_state)
            raise

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if not all(
            isinstance(s, Integral | np.integer) and not isinstance(s, bool)
            for s in sizes
        ) or any(s <= 0 for s in sizes):
            raise ValueError(
                f"hidden_layer_sizes must be positive integers, got {sizes}."
            )
        return [int(s) for s in sizes]

    def _fit(self, X, y, sample_weight):
        hidden_layer_sizes = self._hidden_layer_sizes()
        warm = self.warm_start and hasattr(self, "coefs_")
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            multi_output=True,
            reset=not warm,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        binarizer = LabelBinarizer().fit(y)
        classes = binarizer.classes_
        if len(classes) < 2 and binarizer.y_type_ != "multilabel-indicator":
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {classes[0]!r}."
            )
        if warm and (
            binarizer.y_type_ != self._target_type
            or not np.array_equal(classes, self.classes_)
        ):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in "
                f"the previous call to fit. Previously got {self.classes_}, `y` "
                f"has {classes}."
            )
        dtype = X.dtype
        Y = binarizer.transform(y).astype(dtype, copy=False)
        if sparse.issparse(Y):  # pragma: no cover - LabelBinarizer is dense here
            Y = Y.toarray()
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=dtype, ensure_non_negative=True
            )
            sample_weight_sum = float(np.sum(sample_weight, dtype=np.float64))
        else:
            sample_weight_sum = float(X.shape[0])

        out_activation = "softmax" if binarizer.y_type_ == "multiclass" else "logistic"
        layout = ParameterLayout([X.shape[1], *hidden_layer_sizes, Y.shape[1]])
        if warm:
            if layout.layer_units != tuple(
                [self.coefs_[0].shape[0]] + [b.shape[0] for b in self.intercepts_]
            ):
                raise ValueError(
                    "warm_start needs the same architecture as the previous fit: "
                    f"hidden_layer_sizes={hidden_layer_sizes} does not match the "
                    "fitted coefs_."
                )
            x0 = layout.pack(self.coefs_, self.intercepts_, dtype=np.float64)
        else:
            x0 = _glorot_init(layout, self.activation, self.random_state)

        n_samples = X.shape[0]
        chunked = self.chunk_size is not None and self.chunk_size < n_samples
        if chunked and sparse.issparse(X) and X.format == "csc":
            X = X.tocsr()  # row slices of CSC matrices are slow
        fun = partial(
            _objective,
            X=X,
            Y=Y,
            layout=layout,
            activation=self.activation,
            out_activation=out_activation,
            alpha=float(self.alpha),
            sample_weight=sample_weight,
            sample_weight_sum=sample_weight_sum,
            chunk_size=self.chunk_size if chunked else None,
            workspace=_loss.Workspace(
                layout.layer_units,
                self.chunk_size if chunked else n_samples,
                dtype,
            ),
        )
        objective = SciPyObjective(fun, layout.n_params, dtype)
        result = minimize(
            objective,
            x0,
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
            verbose=self.verbose,
        )
        self._warn_on_exit(result)

        theta = result.x.astype(dtype)
        coefs, intercepts = layout.unpack(theta)
        # Fitted state: plain arrays and numbers, set only once fit succeeded.
        self.classes_ = classes
        self._target_type = binarizer.y_type_
        self.coefs_ = coefs
        self.intercepts_ = intercepts
        self.n_iter_ = result.n_iter
        self.n_fun_evals_ = result.n_evals
        self.loss_ = result.loss
        self.loss_curve_ = result.loss_curve
        self.n_layers_ = layout.n_layers
        self.n_outputs_ = Y.shape[1]
        self.out_activation_ = out_activation
        return self

    def _warn_on_exit(self, result):
        """Turn a solver exit other than convergence into a ConvergenceWarning."""
        gradient = (
            f"the largest gradient entry is {result.grad_norm:.3g} > tol={self.tol:g}"
        )
        messages = {
            "max_iter": (
                f"CG solver did not converge in max_iter={self.max_iter} "
                f"iterations: {gradient}. Increase max_iter, scale the features "
                "(e.g. StandardScaler) or increase tol."
            ),
            "max_fun": (
                f"CG solver reached max_fun={self.max_fun} loss evaluations before "
                f"converging: {gradient}. Increase max_fun, scale the features or "
                "increase tol."
            ),
            "line_search": (
                "CG solver stopped because its line search could not decrease the "
                f"loss any further (precision loss), while {gradient}. The fitted "
                "weights are the best point found. This usually means that tol is "
                "below what the floating-point precision of the loss allows "
                "(increase tol, or fit float64 data)"
                + (
                    ", or that the iterate sits on a kink of the relu units, where "
                    "the loss has no gradient (a smooth activation such as 'tanh' "
                    "converges further)."
                    if self.activation == "relu"
                    else "."
                )
            ),
            "nonfinite": (
                "CG solver met a non-finite loss and kept the last iterate with a "
                "finite loss. The input data may contain very large values and need "
                "to be scaled (e.g. StandardScaler)."
            ),
        }
        if result.status in messages:
            warnings.warn(messages[result.status], ConvergenceWarning, stacklevel=5)

    # -------------------------------------------------------------- predict
    def _logits(self, X):
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        return _loss.forward(self.coefs_, self.intercepts_, X, self.activation)

    def predict(self, X):
        """Predict using the multilayer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes (an indicator matrix for multilabel targets).
        """
        Z = self._logits(X)
        if self.out_activation_ == "softmax":
            return self.classes_[np.argmax(Z, axis=1)]
        if self._target_type == "multilabel-indicator":
            return (Z > 0).astype(int)
        return self.classes_[(Z[:, 0] > 0).astype(int)]

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class, in the order of ``classes_``. For
            multilabel targets, the probability of each label independently.
        """
        Z = self._logits(X)
        if self._target_type == "binary":
            Z = np.hstack([-Z, Z])
        return _loss.output_proba(self.out_activation_, Z)

    def predict_log_proba(self, X):
        """Logarithm of the probability estimates, computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class, in the order of ``classes_``.
        """
        Z = self._logits(X)
        if self._target_type == "binary":
            Z = np.hstack([-Z, Z])
        return _loss.output_log_proba(self.out_activation_, Z)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags


def _glorot_init(layout, activation, random_state):
    """Initial float64 parameter vector, drawn as MLPClassifier draws it."""
    rng = check_random_state(random_state)
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in layout.coef_shapes:
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return layout.pack(coefs, intercepts, dtype=np.float64)


def _objective(theta, grad, **kwargs):
    loss, _ = _loss.loss_grad(theta, grad=grad, **kwargs)
    return loss
