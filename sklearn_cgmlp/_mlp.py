"""The CGMLPClassifier estimator: orchestration of the kernel and the solver."""

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _loss, _persistence
from ._hessian import CurvatureProduct
from ._layout import ParameterLayout
from ._solvers import (
    METHODS,
    NonFiniteInitialLoss,
    SciPyHessp,
    SciPyObjective,
    minimize,
)

try:  # scikit-learn >= 1.9: callbacks (ProgressBar, ScoringMonitor, ...)
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:
        """Stand-in when scikit-learn has no callback API."""


class CGMLPClassifier(CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    """Multilayer perceptron classifier trained full-batch by conjugate gradient.

    The network and its loss are those of
    :class:`sklearn.neural_network.MLPClassifier`: fully connected hidden
    layers, a softmax output for multiclass targets, independent logistic
    outputs for binary and multilabel targets, the cross-entropy loss averaged
    over samples and an L2 penalty ``alpha`` on the coefficient matrices. The
    parameters are fitted on the whole training set at once by SciPy's
    nonlinear conjugate-gradient solver
    (``scipy.optimize.minimize(method="CG")``), which is handed a vectorized,
    exact gradient, or by one of SciPy's truncated-Newton solvers fed with
    exact Gauss-Newton-vector products.

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

    solver : {"cg", "newton-cg", "trust-ncg", "lbfgs"}, default="cg"
        The SciPy solver; all minimise the same objective.

        - "cg": nonlinear conjugate gradient (Polak-Ribière) with a Wolfe line
          search, restarted with a backtracking step when the line search
          fails on a kink of relu units. Needs only gradients and few vectors.
        - "newton-cg": truncated Newton with a line search; each inner CG step
          costs one Gauss-Newton-vector product (about two evaluations).
        - "trust-ncg": truncated Newton in a trust region (Steihaug CG), with
          the same products.
        - "lbfgs": L-BFGS-B, as in MLPClassifier, for comparison.

        The user guide compares them on benchmark tasks.

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
        norm, like MLPClassifier's L-BFGS solver). With ``early_stopping``,
        also the least improvement of the validation accuracy that counts, as
        in MLPClassifier.

    max_fun : int, default=15000
        Maximum number of loss (and gradient) evaluations. The solver stops at
        the end of the iteration in which it is reached.

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied with ``sample_weight``: a dict
        ``{label: weight}``, or "balanced" for ``n_samples / (n_classes *
        np.bincount(y))``. For multilabel targets, as in
        :func:`sklearn.utils.class_weight.compute_sample_weight`.

    early_stopping : bool, default=False
        Whether to set aside ``validation_fraction`` of the training data
        (stratified, except for multilabel targets) and stop when the accuracy
        on it has not improved by at least ``tol`` for ``n_iter_no_change``
        consecutive iterations. The fitted model carries the weights of the
        iteration with the best validation accuracy. The training part is a
        copy of ``X``.

    validation_fraction : float, default=0.1
        Proportion of the training data set aside for early stopping. Only
        used if ``early_stopping`` is True.

    n_iter_no_change : int, default=10
        Number of iterations without an improvement of at least ``tol`` of the
        validation accuracy after which training stops. Only used if
        ``early_stopping`` is True.

    random_state : int, RandomState instance or None, default=None
        Seed of the initial weights (Glorot uniform initialisation, drawn
        exactly as MLPClassifier draws them). Pass an int for reproducible
        results: the same seed gives a bit-identical model.

    warm_start : bool, default=False
        When True, reuse the solution of the previous call to fit as the
        initial weights. The classes and the architecture must not change.

    verbose : bool or int, default=False
        Print the loss and the gradient norm at each iteration.

    chunk_size : int, default=None
        Evaluate the loss and gradient over at most ``chunk_size`` rows at a
        time. The extra memory of an evaluation is then bounded by
        ``O(chunk_size * max(hidden_layer_sizes))`` instead of growing with
        the number of samples, and ``X`` may be a :class:`numpy.memmap` larger
        than memory. The loss and gradient are the same up to rounding. None
        evaluates all rows at once, which is fastest when memory allows. CSC
        input is converted to CSR once when chunks are used. The curvature
        products of "newton-cg" and "trust-ncg" are not chunked.

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
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``. Defined only when `X`
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

    validation_scores_ : list of float or None
        Accuracy on the validation set after each iteration, if
        ``early_stopping`` is True; None otherwise.

    best_validation_score_ : float or None
        Best of ``validation_scores_``, whose weights the model carries, if
        ``early_stopping`` is True; None otherwise.

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

    Pressing Ctrl-C (``KeyboardInterrupt``) during the solver's iterations stops
    it; the estimator is then fitted with the last accepted weights, and a
    warning says so.

    With scikit-learn 1.9 or later, callbacks of :mod:`sklearn.callback` set by
    ``set_callbacks`` (``ProgressBar``, ``ScoringMonitor``, ...) are called for
    the fit and for every solver iteration.

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
        "solver": [StrOptions(set(METHODS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
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
        solver="cg",
        alpha=0.0001,
        max_iter=200,
        tol=1e-4,
        max_fun=15000,
        class_weight=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=None,
        warm_start=False,
        verbose=False,
        chunk_size=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.max_fun = max_fun
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
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
        # A failed fit leaves the estimator exactly as it was (except for the
        # callback book-keeping that _fit_context tears down afterwards).
        saved_state = self.__dict__.copy()
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            callback_state = {
                k: v for k, v in self.__dict__.items() if k in _CALLBACK_STATE
            }
            self.__dict__.clear()
            self.__dict__.update(saved_state)
            self.__dict__.update(callback_state)
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

    def _validate_targets(self, y, warm):
        """Classes, target type and indicator encoding of ``y``."""
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
        return y, binarizer

    def _validate_weights(self, sample_weight, X, y, dtype):
        """Sample weights times class weights, or None when all are one."""
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=dtype, ensure_non_negative=True
            )
        if self.class_weight is not None:
            class_weight = compute_sample_weight(self.class_weight, y).astype(dtype)
            if sample_weight is None:
                sample_weight = class_weight
            else:
                sample_weight = sample_weight * class_weight
        # (scikit-learn < 1.7 does not check this itself.)
        if sample_weight is not None and not np.any(sample_weight > 0):
            raise ValueError(
                "Sample weights must contain at least one non-zero number"
                + (" (after applying class_weight)." if self.class_weight else ".")
            )
        return sample_weight

    def _split_validation(self, X, y, Y, sample_weight, target_type, rng):
        """Training and validation parts for early stopping."""
        n_samples = X.shape[0]
        stratify = None if target_type == "multilabel-indicator" else y
        n_classes = Y.shape[1] if Y.shape[1] > 1 else 2
        n_val = int(np.ceil(self.validation_fraction * n_samples))
        if stratify is not None and (n_val < n_classes or n_samples - n_val < 1):
            raise ValueError(
                f"validation_fraction={self.validation_fraction} sets aside "
                f"{n_val} of {n_samples} samples for early stopping, fewer than "
                f"the {n_classes} classes a stratified split needs. Increase "
                "validation_fraction, or set early_stopping=False."
            )
        train, val = train_test_split(
            np.arange(n_samples),
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=stratify,
        )
        sw_train = None if sample_weight is None else sample_weight[train]
        sw_val = None if sample_weight is None else sample_weight[val]
        return (X[train], y[train], Y[train], sw_train), (X[val], y[val], sw_val)

    def _initial_parameters(self, layout, warm, rng):
        """Float64 starting point: the previous fit's weights, or Glorot's."""
        if not warm:
            return _glorot_init(layout, self.activation, rng)
        fitted_units = (
            self.coefs_[0].shape[0],
            *(b.shape[0] for b in self.intercepts_),
        )
        if layout.layer_units != fitted_units:
            raise ValueError(
                "warm_start needs the same architecture as the previous fit: "
                f"hidden_layer_sizes={self.hidden_layer_sizes} does not match the "
                "fitted coefs_."
            )
        return layout.pack(self.coefs_, self.intercepts_, dtype=np.float64)

    def _objective(self, X, Y, sample_weight, layout, out_activation, dtype):
        """The SciPy objective and, for Newton solvers, its curvature products."""
        n_samples = X.shape[0]
        chunked = self.chunk_size is not None and self.chunk_size < n_samples
        if chunked and sparse.issparse(X) and X.format == "csc":
            X = X.tocsr()  # row slices of CSC matrices are slow
        problem = dict(
            X=X,
            Y=Y,
            layout=layout,
            activation=self.activation,
            out_activation=out_activation,
            alpha=float(self.alpha),
            sample_weight=sample_weight,
            sample_weight_sum=_loss.weight_sum(n_samples, sample_weight),
        )
        fun = partial(
            _objective,
            chunk_size=self.chunk_size if chunked else None,
            workspace=_loss.Workspace(
                layout.layer_units, self.chunk_size if chunked else n_samples, dtype
            ),
            **problem,
        )
        hessp = None
        if self.solver in ("newton-cg", "trust-ncg"):
            hessp = SciPyHessp(partial(CurvatureProduct, **problem), dtype)
        return SciPyObjective(fun, layout.n_params, dtype), hessp

    def _fit(self, X, y, sample_weight):
        hidden_layer_sizes = self._hidden_layer_sizes()
        warm = self.warm_start and hasattr(self, "coefs_")
        # scikit-learn's finiteness check sums X first; on huge finite values
        # that sum overflows and warns although the check then passes.
        with np.errstate(over="ignore", invalid="ignore"):
            X, y = validate_data(
                self,
                X,
                y,
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
                multi_output=True,
                reset=not warm,
            )
        y, binarizer = self._validate_targets(y, warm)
        target_type, classes = binarizer.y_type_, binarizer.classes_
        dtype = X.dtype
        Y = binarizer.transform(y).astype(dtype, copy=False)
        sample_weight = self._validate_weights(sample_weight, X, y, dtype)
        out_activation = "softmax" if target_type == "multiclass" else "logistic"
        layout = ParameterLayout([X.shape[1], *hidden_layer_sizes, Y.shape[1]])

        # The random state draws the initial weights, then the validation split,
        # in MLPClassifier's order.
        rng = check_random_state(self.random_state)
        x0 = self._initial_parameters(layout, warm, rng)
        validation = None
        if self.early_stopping:
            (X, y, Y, sample_weight), validation = self._split_validation(
                X, y, Y, sample_weight, target_type, rng
            )
        objective, hessp = self._objective(
            X, Y, sample_weight, layout, out_activation, dtype
        )

        fitted = dict(
            classes_=classes,
            _target_type=target_type,
            n_layers_=layout.n_layers,
            n_outputs_=Y.shape[1],
            out_activation_=out_activation,
        )
        monitor = _IterationMonitor(
            self, layout, dtype, fitted, validation, X_fit=X, y_fit=y
        )
        monitor.begin(x0)
        try:
            result = minimize(
                objective,
                x0,
                solver=self.solver,
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
                hessp=hessp,
                on_iteration=monitor.on_iteration,
                verbose=self.verbose,
            )
        except NonFiniteInitialLoss as exc:
            raise ValueError(
                f"{exc} The input data may contain very large values and need to "
                "be scaled, e.g. with sklearn.preprocessing.StandardScaler."
            ) from None
        monitor.close()
        self._warn_on_exit(result)

        x, loss = result.x, result.loss
        if self.early_stopping:
            x, loss = monitor.best(x, loss, result.loss_curve)
        coefs, intercepts = layout.unpack(x.astype(dtype))
        # Fitted state: plain arrays and numbers, set only once fit succeeded.
        for name, value in fitted.items():
            setattr(self, name, value)
        self.coefs_ = coefs
        self.intercepts_ = intercepts
        self.n_iter_ = result.n_iter
        self.n_fun_evals_ = result.n_evals
        self.loss_ = loss
        self.loss_curve_ = result.loss_curve
        self.validation_scores_ = monitor.validation_scores
        self.best_validation_score_ = monitor.best_validation_score
        monitor.end()
        return self

    def _warn_on_exit(self, result):
        """Warn about a solver exit other than convergence or early stopping."""
        solver = f"Solver {self.solver!r}"
        gradient = (
            f"the largest gradient entry is {result.grad_norm:.3g} > tol={self.tol:g}"
        )
        kink = (
            ", or that the iterate sits on a kink of the relu units, where the "
            "loss has no gradient (a smooth activation such as 'tanh' converges "
            "further)"
            if self.activation == "relu"
            else ""
        )
        messages = {
            "max_iter": (
                f"{solver} did not converge in max_iter={self.max_iter} "
                f"iterations: {gradient}. Increase max_iter, scale the features "
                "(e.g. StandardScaler) or increase tol."
            ),
            "max_fun": (
                f"{solver} reached max_fun={self.max_fun} loss evaluations before "
                f"converging: {gradient}. Increase max_fun, scale the features or "
                "increase tol."
            ),
            "stalled": (
                f"{solver} stopped before converging ({result.message}), while "
                f"{gradient}: its line search could not decrease the loss any "
                "further (precision loss). The fitted weights are the best point "
                "found. This usually means that tol is below what the floating-point "
                f"precision of the loss allows (increase tol, or fit float64 "
                f"data){kink}."
            ),
            "nonfinite": (
                f"{solver} met a non-finite loss and kept the last iterate with a "
                "finite loss. The input data may contain very large values and need "
                "to be scaled (e.g. StandardScaler)."
            ),
        }
        if result.status == "interrupted":
            warnings.warn(
                f"Training interrupted by the user after {result.n_iter} "
                "iterations; the model carries the last accepted weights.",
                UserWarning,
                stacklevel=5,
            )
        elif result.status in messages:
            warnings.warn(messages[result.status], ConvergenceWarning, stacklevel=5)

    # -------------------------------------------------------------- predict
    def _logits(self, X):
        check_is_fitted(self)
        with np.errstate(over="ignore", invalid="ignore"):
            X = validate_data(
                self,
                X,
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
                reset=False,
            )
        return _loss.forward(self.coefs_, self.intercepts_, X, self.activation)

    def _class_logits(self, X):
        """Logits with one column per entry of ``classes_`` (binary: -z, z)."""
        Z = self._logits(X)
        return np.hstack([-Z, Z]) if self._target_type == "binary" else Z

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
        Z = self._logits(X)  # checks that the model is fitted
        return _predictions(Z, self.out_activation_, self._target_type, self.classes_)

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
        Z = self._class_logits(X)  # checks that the model is fitted
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
        Z = self._class_logits(X)  # checks that the model is fitted
        return _loss.output_log_proba(self.out_activation_, Z)

    def score(self, X, y, sample_weight=None):
        """Mean accuracy on the given test data and labels.

        For multilabel targets this is the subset accuracy: a sample counts
        as correct only if all its labels are predicted correctly.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels for ``X``.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean accuracy of ``self.predict(X)`` with respect to ``y``.
        """
        return super().score(X, y, sample_weight=sample_weight)

    # ---------------------------------------------------------- persistence
    def __getstate__(self):
        return _persistence.stamp_state(super().__getstate__())

    def __setstate__(self, state):
        state = _persistence.check_state_version(type(self).__name__, dict(state))
        super().__setstate__(state)

    def to_npz(self, file):
        """Export the fitted model to a pickle-free ``.npz`` file.

        The file holds the weights, the classes, the feature names and the
        parameters as plain arrays and a JSON string; :meth:`from_npz` reads it
        back with ``numpy.load(allow_pickle=False)``, so loading an untrusted
        file never executes code. Class labels must be numbers or strings.

        Parameters
        ----------
        file : str, path-like or file object
            Where to write (NumPy appends ``.npz`` to a path without it).

        Returns
        -------
        self : object
            The estimator.
        """
        check_is_fitted(self)
        _persistence.export_npz(self, file)
        return self

    @classmethod
    def from_npz(cls, file):
        """Load a model exported by :meth:`to_npz`.

        Every array shape, dtype and value is validated against the others
        before the estimator is built; a file that does not describe a valid
        model raises ValueError. Nothing in the file is executed.

        Parameters
        ----------
        file : str, path-like or file object
            The ``.npz`` file.

        Returns
        -------
        estimator : CGMLPClassifier
            The fitted estimator.
        """
        return _persistence.import_npz(cls, file)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags


# Attributes that sklearn's _fit_context uses to tear callbacks down after fit.
_CALLBACK_STATE = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


class _IterationMonitor:
    """Per-iteration work of a fit: validation scores and sklearn callbacks.

    ``on_iteration(x, loss)`` is handed to the solver glue; it returns True to
    stop the solver (early stopping, or a callback that asks for it).
    """

    def __init__(self, estimator, layout, dtype, fitted, validation, X_fit, y_fit):
        self.estimator = estimator
        self.layout = layout
        self.dtype = dtype
        self.fitted = fitted
        self.validation = validation
        self.X_fit, self.y_fit = X_fit, y_fit
        self.validation_scores = [] if validation is not None else None
        self.best_validation_score = -np.inf if validation is not None else None
        self.best_iteration = None
        self._best_x = None
        self._no_improvement = 0
        self._ctx = None
        self._iter_ctx = None

    def _attributes(self, x):
        """Fitted attributes of the model with parameter vector ``x``."""
        coefs, intercepts = self.layout.unpack(x.astype(self.dtype))
        return {**self.fitted, "coefs_": coefs, "intercepts_": intercepts}

    def _score(self, x):
        X_val, y_val, sw_val = self.validation
        attrs = self._attributes(x)
        Z = _loss.forward(
            attrs["coefs_"], attrs["intercepts_"], X_val, self.estimator.activation
        )
        pred = _predictions(Z, attrs["out_activation_"], attrs["_target_type"],
                            attrs["classes_"])  # fmt: skip
        return float(accuracy_score(y_val, pred, sample_weight=sw_val))

    # sklearn.callback bridge ------------------------------------------------
    def _start_iteration(self, x):
        ctx = self._ctx.subcontext(task_name="iteration")
        ctx.call_on_fit_task_begin(
            estimator=self.estimator,
            X=self.X_fit,
            y=self.y_fit,
            reconstruction_attributes=lambda: self._attributes(x),
        )
        return ctx

    def begin(self, x0):
        est = self.estimator
        if not hasattr(est, "_init_callback_context"):
            return
        # One subtask per iteration, plus the one begun after the last iteration.
        self._ctx = est._init_callback_context(max_subtasks=est.max_iter + 1)
        self._ctx.call_on_fit_task_begin(estimator=est, X=self.X_fit, y=self.y_fit)
        self._iter_ctx = self._start_iteration(x0)

    def on_iteration(self, x, loss):
        stop = False
        if self._iter_ctx is not None:
            stop = bool(
                self._iter_ctx.call_on_fit_task_end(
                    estimator=self.estimator,
                    X=self.X_fit,
                    y=self.y_fit,
                    reconstruction_attributes=lambda: self._attributes(x),
                )
            )
            self._iter_ctx = self._start_iteration(x)
        if self.validation is not None:
            stop |= self._update_early_stopping(x)
        return stop

    def close(self):
        """End the subtask begun after the last iteration, which never ran."""
        if self._iter_ctx is not None:
            self._iter_ctx.call_on_fit_task_end(estimator=self.estimator)
            self._iter_ctx = None

    def end(self):
        if self._ctx is not None:
            self._ctx.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X_fit,
                y=self.y_fit,
                reconstruction_attributes={},
            )

    # early stopping --------------------------------------------------------
    def _update_early_stopping(self, x):
        """MLPClassifier's rule, applied after each iteration."""
        est = self.estimator
        score = self._score(x)
        self.validation_scores.append(score)
        iteration = len(self.validation_scores)
        if est.verbose:
            print(f"Validation score: {score:.6f}")
        if score < self.best_validation_score + est.tol:
            self._no_improvement += 1
        else:
            self._no_improvement = 0
        if score > self.best_validation_score:
            self.best_validation_score = score
            self.best_iteration = iteration
            self._best_x = x
        if self._no_improvement > est.n_iter_no_change:
            if est.verbose:
                print(
                    f"Validation score did not improve more than tol={est.tol:g} "
                    f"for {est.n_iter_no_change} consecutive iterations. Stopping."
                )
            return True
        return False

    def best(self, x, loss, loss_curve):
        """The best-validation iterate and its training loss."""
        if self._best_x is None:  # no iteration ran: score the final weights
            self.best_validation_score = self._score(x)
            return x, loss
        return self._best_x, loss_curve[self.best_iteration - 1]


def _predictions(Z, out_activation, target_type, classes):
    """Predicted labels from output logits."""
    if out_activation == "softmax":
        return classes[np.argmax(Z, axis=1)]
    if target_type == "multilabel-indicator":
        return (Z > 0).astype(int)
    return classes[(Z[:, 0] > 0).astype(int)]


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
