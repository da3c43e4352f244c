"""The engine both estimators share: validation, fit orchestration, state.

:class:`BaseCGMLP` holds everything the classifier and the regressor do alike.
A face (:mod:`sklearn_cgmlp._classifier`, :mod:`sklearn_cgmlp._regressor`)
adds only what differs: how targets are encoded and which output loss they
get, extra sample weights (class weights), predictions, and the score used for
early stopping.

A fit never writes to the estimator until it has succeeded: the new fitted
state is built aside and installed in one step (one reference swap of the
instance dictionary), and prediction methods read one snapshot of it. So a
failed fit leaves the previous model intact, and predictions made from other
threads while the same object is refitted see either the old or the new model,
never a mix.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from . import _loss, _persistence
from ._diagnostics import exit_warning, feature_magnitude, scale_hint
from ._layout import ParameterLayout
from ._monitor import IterationMonitor
from ._objective import InMemoryObjective
from ._repr import DocLinkMixin
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


class _Count(Interval):
    """An integer interval that refuses booleans (``True`` is not 1 here)."""

    def is_satisfied_by(self, val):
        return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)


# Attributes that scikit-learn's _fit_context uses to tear callbacks down
# after fit; they are not part of the model.
_CALLBACK_STATE = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


class BaseCGMLP(DocLinkMixin, CallbackSupportMixin, BaseEstimator):
    """Base class of the full-batch MLP estimators (not for direct use)."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", _Count(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_loss.HIDDEN_ACTIVATIONS))],
        "solver": [StrOptions(set(METHODS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [_Count(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_fun": [_Count(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [_Count(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "chunk_size": [_Count(Integral, 1, None, closed="left"), None],
        "on_interrupt": [StrOptions({"keep", "raise"})],
    }

    #: Fitted attributes whose names do not end with "_".
    _private_fitted = ("_target_type",)
    #: Whether validate_data converts y to numbers (regressors).
    _y_numeric = False

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
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=None,
        warm_start=False,
        verbose=False,
        chunk_size=None,
        on_interrupt="keep",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.max_fun = max_fun
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.chunk_size = chunk_size
        self.on_interrupt = on_interrupt

    # ------------------------------------------------------ what faces add
    def _encode_targets(self, y, dtype, warm):
        """``(Y, stratify, fitted)``: the encoded targets of the loss, labels
        to stratify the validation split by (or None), and the fitted
        attributes that describe the targets (``out_activation_`` included)."""
        raise NotImplementedError

    def _extra_sample_weight(self, y):
        """Weights multiplied with ``sample_weight`` (class weights), or None."""
        return None

    def _score_model(self, attributes, X, y, sample_weight):
        """Early-stopping score of the model with fitted ``attributes``."""
        raise NotImplementedError

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
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative sample weights. The loss is the weighted mean of the
            per-sample losses: a zero weight drops a sample, an integer weight
            repeats it.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # Nothing below writes the model until _install; restoring the
        # dictionary undoes whatever else a failure (or an interrupt) left,
        # except the callback book-keeping that _fit_context tears down.
        saved_state = self.__dict__.copy()
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            callback_state = {
                k: v for k, v in self.__dict__.items() if k in _CALLBACK_STATE
            }
            self.__dict__ = {**saved_state, **callback_state}
            raise

    def _fit(self, X, y, sample_weight):
        hidden_layer_sizes = self._hidden_layer_sizes()
        warm = self.warm_start and hasattr(self, "coefs_")
        # validate_data records n_features_in_ / feature_names_in_ on the
        # estimator it is given: give it a throw-away view.
        proxy = self._view()
        # scikit-learn's finiteness check sums X first; on huge finite values
        # that sum overflows and warns although the check then passes.
        with np.errstate(over="ignore", invalid="ignore"):
            X, y = validate_data(
                proxy,
                X,
                y,
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
                multi_output=True,
                y_numeric=self._y_numeric,
                reset=not warm,
            )
        dtype = X.dtype
        Y, stratify, fitted = self._encode_targets(y, dtype, warm)
        sample_weight = self._validate_weights(sample_weight, X, y, dtype)
        layout = ParameterLayout([X.shape[1], *hidden_layer_sizes, Y.shape[1]])
        fitted.update(n_features_in_=proxy.n_features_in_, n_layers_=layout.n_layers)
        if hasattr(proxy, "feature_names_in_"):
            fitted["feature_names_in_"] = proxy.feature_names_in_

        # The random state draws the initial weights, then the validation
        # split, in scikit-learn's order.
        rng = check_random_state(self.random_state)
        x0 = self._initial_parameters(layout, warm, rng)
        validation = None
        if self.early_stopping:
            (X, y, Y, sample_weight), validation = self._split_validation(
                X, y, Y, sample_weight, stratify, rng
            )
        objective = InMemoryObjective(
            X,
            Y,
            layout=layout,
            activation=self.activation,
            out_activation=fitted["out_activation_"],
            alpha=float(self.alpha),
            sample_weight=sample_weight,
            chunk_size=self.chunk_size,
        )

        def attributes(x):
            coefs, intercepts = layout.unpack(x.astype(dtype))
            return {**fitted, "coefs_": coefs, "intercepts_": intercepts}

        monitor = IterationMonitor(
            self, attributes, self._score_model, validation, X_fit=X, y_fit=y
        )
        monitor.begin(x0)
        result = self._run_solver(objective, x0, monitor, X)
        monitor.close()

        x, loss = result.x, result.loss
        if self.early_stopping:
            x, loss = monitor.best(x, loss, result.loss_curve)
        fitted.update(
            attributes(x),
            n_iter_=result.n_iter,
            n_fun_evals_=result.n_evals,
            t_=result.n_evals * X.shape[0],
            loss_=loss,
            best_loss_=None if self.early_stopping else loss,
            loss_curve_=result.loss_curve,
            validation_scores_=monitor.validation_scores,
            best_validation_score_=monitor.best_validation_score,
        )
        self._install(fitted)
        monitor.end()
        return self

    def _run_solver(self, objective, x0, monitor, X):
        """Run the solver, warn about its exit, and return its result."""
        hessp = None
        if self.solver in ("newton-cg", "trust-ncg"):
            hessp = SciPyHessp(objective.curvature, objective.dtype)
        try:
            result = minimize(
                SciPyObjective(objective, objective.n_params, objective.dtype),
                x0,
                solver=self.solver,
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
                hessp=hessp,
                on_iteration=monitor.on_iteration,
                verbose=self.verbose,
                keep_on_interrupt=self.on_interrupt == "keep",
            )
        except NonFiniteInitialLoss as exc:
            raise ValueError(
                f"{exc} {self._non_finite_hint(feature_magnitude(X))}"
            ) from None
        magnitude = feature_magnitude(X)
        message = exit_warning(
            result,
            solver=self.solver,
            tol=self.tol,
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            activation=self.activation,
            dtype=objective.dtype,
            hint=self._non_finite_hint(magnitude),
            features=magnitude,
        )
        if message is not None:
            category, text = message
            warnings.warn(text, category, stacklevel=6)
        return result

    def _non_finite_hint(self, magnitude):
        """What to change when the loss overflows."""
        unscaled = scale_hint(magnitude)
        if unscaled is not None:
            return unscaled
        if self.alpha > 1e100:
            return f"alpha={self.alpha:g} makes the penalty overflow: lower it."
        return (
            "The weights grew without bound: scale the features (e.g. "
            "StandardScaler) or increase alpha."
        )

    def _install(self, fitted):
        """Replace the fitted state with ``fitted`` in one step."""
        state = {k: v for k, v in self.__dict__.items() if not self._is_fitted(k)}
        state.update(fitted)
        self.__dict__ = state

    def _is_fitted(self, name):
        return (
            name.endswith("_") and not name.startswith("__")
        ) or name in self._private_fitted

    def _view(self):
        """A shallow snapshot of the estimator: its own dictionary copy."""
        view = object.__new__(type(self))
        view.__dict__ = self.__dict__.copy()
        return view

    def _fitted_view(self):
        """One consistent snapshot of the fitted model, for predictions."""
        check_is_fitted(self)
        return self._view()

    # -------------------------------------------------------- fit helpers
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

    def _validate_weights(self, sample_weight, X, y, dtype):
        """Sample weights times the face's extra weights, or None if all one.

        The product is formed in float64. It must be finite and representable
        in ``dtype``, and its sum ``S`` must be positive with ``1 / S`` a
        normal number of ``dtype`` (the loss is scaled by it).
        """
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        extra = self._extra_sample_weight(y)
        if extra is None:
            if sample_weight is None:
                return None
            weights, given = sample_weight, sample_weight
        elif sample_weight is None:
            weights, given = extra, extra
        else:
            with np.errstate(over="ignore", under="ignore", invalid="ignore"):
                weights = sample_weight * extra
            # Where both factors are positive, a zero product is an underflow.
            given = np.minimum(sample_weight, extra)
        what = "sample_weight" + (" times class_weight" if extra is not None else "")
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            in_dtype = weights.astype(dtype)
        if not np.all(np.isfinite(weights)) or not np.all(np.isfinite(in_dtype)):
            raise ValueError(
                f"The weights ({what}) reach {np.max(weights):.3g}, beyond what "
                f"{np.dtype(dtype).name} represents. {_RESCALE_WEIGHTS}"
            )
        if not np.any(given > 0):
            raise ValueError(
                f"Sample weights must contain at least one non-zero number "
                f"({what} sums to zero)."
            )
        _check_weight_total(in_dtype, what, dtype)
        return in_dtype

    def _split_validation(self, X, y, Y, sample_weight, stratify, rng):
        """Training and validation parts for early stopping."""
        n_samples = X.shape[0]
        n_val = int(np.ceil(self.validation_fraction * n_samples))
        if stratify is not None:
            n_classes = len(np.unique(stratify))
            if n_val < n_classes or n_samples - n_val < n_classes:
                raise ValueError(
                    f"validation_fraction={self.validation_fraction} sets aside "
                    f"{n_val} of {n_samples} samples for early stopping, fewer "
                    f"than the {n_classes} classes a stratified split needs. "
                    "Increase validation_fraction, or set early_stopping=False."
                )
        elif n_val < 1 or n_samples - n_val < 1:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} leaves no samples "
                f"for training or validation out of {n_samples}. Change "
                "validation_fraction, or set early_stopping=False."
            )
        train, val = train_test_split(
            np.arange(n_samples),
            test_size=self.validation_fraction,
            random_state=rng,
            stratify=stratify,
        )
        sw_train = sw_val = None
        if sample_weight is not None:
            sw_train, sw_val = sample_weight[train], sample_weight[val]
            for part, sw in (("training", sw_train), ("validation", sw_val)):
                if not np.any(sw > 0):
                    raise ValueError(
                        f"The early-stopping {part} part has only samples of "
                        "weight zero. Give more samples a positive weight, change "
                        "validation_fraction or random_state, or set "
                        "early_stopping=False."
                    )
            _check_weight_total(
                sw_train, "of the early-stopping training part", sw_train.dtype
            )
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

    # -------------------------------------------------------------- predict
    def _model_logits(self, attributes, X):
        """Output logits of the model with fitted ``attributes``."""
        return _loss.forward(
            attributes["coefs_"], attributes["intercepts_"], X, self.activation
        )

    def _forward(self, X):
        """Output logits for ``X`` and the fitted snapshot they come from."""
        model = self._fitted_view()
        with np.errstate(over="ignore", invalid="ignore"):
            X = validate_data(
                model,
                X,
                accept_sparse=["csr", "csc"],
                dtype=(np.float64, np.float32),
                reset=False,
            )
        return model._model_logits(vars(model), X), model

    # ---------------------------------------------------------- persistence
    def __getstate__(self):
        return _persistence.stamp_state(super().__getstate__())

    def __setstate__(self, state):
        state = _persistence.check_state_version(type(self).__name__, dict(state))
        super().__setstate__(state)

    def to_npz(self, file):
        """Export the fitted model to a pickle-free ``.npz`` file.

        The file holds the weights, the targets' description, the feature
        names and the parameters as plain arrays and a JSON string;
        :meth:`from_npz` reads it back without ever unpickling, so loading an
        untrusted file never executes code. Class labels must be numbers or
        strings.

        Parameters
        ----------
        file : str, path-like or file object
            Where to write (NumPy appends ``.npz`` to a path without it).

        Returns
        -------
        self : object
            The estimator.
        """
        _persistence.export_npz(self._fitted_view(), file)
        return self

    @classmethod
    def from_npz(cls, file):
        """Load a model exported by :meth:`to_npz`.

        Every array header, shape, dtype and value is validated against the
        others before any array data is read and before the estimator is
        built; a file that does not describe a valid model raises ValueError.
        Nothing in the file is executed.

        Parameters
        ----------
        file : str, path-like or file object
            The ``.npz`` file.

        Returns
        -------
        estimator : object
            The fitted estimator.
        """
        return _persistence.import_npz(cls, file)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_RESCALE_WEIGHTS = (
    "Multiply them by a common factor, and alpha by the same factor to keep "
    "the same objective."
)


def _check_weight_total(weights, what, dtype):
    """Refuse weights whose sum ``S`` the loss cannot be divided by in ``dtype``.

    The loss and its gradient are scaled by ``1 / S`` in ``dtype``; outside
    ``[1 / max, 1 / tiny]`` that scale overflows or loses its precision
    (subnormal). Zero is refused too, also where positive weights underflowed.
    """
    finfo = np.finfo(dtype)
    with np.errstate(over="ignore"):
        total = float(np.sum(weights, dtype=np.float64))
    if not total <= 1 / float(finfo.tiny):
        raise ValueError(
            f"The weights ({what}) are too large: they sum to {total:.3g}, and "
            f"the loss is divided by that sum in {finfo.dtype.name}. "
            f"{_RESCALE_WEIGHTS}"
        )
    if not total >= 1 / float(finfo.max) or np.max(weights) < finfo.tiny:
        raise ValueError(
            f"The weights ({what}) are too small for {finfo.dtype.name}: they "
            f"sum to {total:.3g}, underflowing to zero or too little to divide "
            f"the loss by. {_RESCALE_WEIGHTS}"
        )


def _glorot_init(layout, activation, random_state):
    """Initial float64 parameter vector, drawn as scikit-learn's MLPs draw it."""
    rng = check_random_state(random_state)
    factor = 2.0 if activation == "logistic" else 6.0
    coefs, intercepts = [], []
    for fan_in, fan_out in layout.coef_shapes:
        bound = np.sqrt(factor / (fan_in + fan_out))
        coefs.append(rng.uniform(-bound, bound, (fan_in, fan_out)))
        intercepts.append(rng.uniform(-bound, bound, fan_out))
    return layout.pack(coefs, intercepts, dtype=np.float64)
