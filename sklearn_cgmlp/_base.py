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

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import _npz, _persistence
from ._activations import ACTIVATIONS, is_per_layer
from ._adapters import NonFiniteInitialLoss, SciPyObjective, Transfer
from ._backends import backend_of
from ._diagnostics import Scales, exit_warning, known_rows, non_finite_hint
from ._features import HiddenFeaturesMixin
from ._layout import ParameterLayout, glorot_init
from ._loss import MLPLoss
from ._monitor import IterationMonitor
from ._ops import NUMPY, numpy_dtype, to_host
from ._repr import DocLinkMixin
from ._scoring import validation_score
from ._solvers import SOLVERS, minimize
from ._threads import torch_cpu_threads
from ._validation import check_arguments, check_given_validation
from ._warn import warn

try:  # scikit-learn >= 1.9: callbacks (ProgressBar, ScoringMonitor, ...)
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - older scikit-learn

    class CallbackSupportMixin:
        """Stand-in when scikit-learn has no callback API."""


class _Count(Interval):
    """An integer interval that refuses booleans (``True`` is not 1 here)."""

    def is_satisfied_by(self, val):
        return not isinstance(val, bool | np.bool_) and super().is_satisfied_by(val)


class _PerLayerActivations(Options):
    """A tuple or list of activation names, one per hidden layer (an
    ``Options`` subclass, since scikit-learn takes no other constraint
    objects)."""

    def __init__(self):
        super().__init__(tuple, frozenset(ACTIVATIONS))

    def is_satisfied_by(self, val):
        return is_per_layer(val) and all(
            isinstance(a, str) and a in ACTIVATIONS for a in val
        )

    def __str__(self):
        return "a tuple or list of those, one per hidden layer"


# Attributes that scikit-learn's _fit_context uses to tear callbacks down
# after fit; they are not part of the model.
_CALLBACK_STATE = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


class BaseCGMLP(DocLinkMixin, CallbackSupportMixin, HiddenFeaturesMixin, BaseEstimator):
    """Base class of the full-batch MLP estimators (not for direct use)."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", _Count(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS)), _PerLayerActivations()],
        "solver": [StrOptions(set(SOLVERS))],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [_Count(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_fun": [_Count(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "scoring": [None, str, callable],
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
        scoring=None,
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
        self.scoring = scoring
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.chunk_size = chunk_size
        self.on_interrupt = on_interrupt

    # ------------------------------------------------------ what faces add
    def _targets(self, previous):
        """The targets of this face (:mod:`sklearn_cgmlp._targets`);
        ``previous`` is the fitted estimator a warm start continues, or None."""
        raise NotImplementedError

    def _predictions(self, Z, attributes, ops):
        """Predictions from output logits ``Z`` of the model with fitted
        ``attributes``, in the namespace of ``ops``."""
        raise NotImplementedError

    #: ``metric(y_true, y_pred, sample_weight=)``: the early-stopping score.
    _score_metric = None
    #: What that score needs of the validation part (a ``_data.ScoreNeeds``).
    _score_needs = None

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X, y, sample_weight=None, *, X_val=None, y_val=None,
        sample_weight_val=None,
    ):  # fmt: skip
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

        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
                default=None
            Validation data for early stopping, in place of the
            ``validation_fraction`` split (which then does not happen: all of
            ``X`` is trained on). Needs ``early_stopping=True`` and ``y_val``.
            Checked as ``X`` is (features, their names, finiteness) and of
            the kind ``X`` is (in memory, on the same device, or Dask). In a
            :class:`~sklearn.pipeline.Pipeline`, ``X_val`` can be transformed
            as ``X`` is with ``Pipeline(..., transform_input=["X_val"])``.

        y_val : array-like of shape (n_val,) or (n_val, n_outputs), \
                default=None
            Targets of ``X_val``: labels seen in training (a label unseen
            there is a ValueError), or values of as many outputs as ``y``.

        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples in the early-stopping score
            (used as given: ``class_weight`` does not apply to them).

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
            with torch_cpu_threads(X):
                return self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val)
        except BaseException:
            callback_state = {
                k: v for k, v in self.__dict__.items() if k in _CALLBACK_STATE
            }
            self.__dict__ = {**saved_state, **callback_state}
            raise

    def _fit(self, X, y, sample_weight, X_val, y_val, sample_weight_val):
        hidden_layer_sizes = self._hidden_layer_sizes()
        given_validation = check_arguments(
            self.early_stopping, X_val, y_val, sample_weight_val
        )
        # The scoring is checked (a scorer name) before the data.
        score_needs = validation_score(self)[1] if self.early_stopping else None
        self._check_activation(len(hidden_layer_sizes))
        warm = self.warm_start and hasattr(self, "coefs_")
        # validate_data records n_features_in_ / feature_names_in_ on the
        # estimator it is given: give it a throw-away view.
        proxy = self._view()
        targets = self._targets(self if warm else None)
        data = backend_of(X).training_data(
            proxy, X, y, sample_weight, targets=targets, warm=warm
        )
        fitted = data.fitted
        layout = ParameterLayout(
            [data.X.shape[1], *hidden_layer_sizes, data.Y.shape[1]]
        )
        fitted.update(n_features_in_=proxy.n_features_in_, n_layers_=layout.n_layers)
        if hasattr(proxy, "feature_names_in_"):
            fitted["feature_names_in_"] = proxy.feature_names_in_

        # The random state draws the initial weights, then the validation
        # split, in scikit-learn's order.
        rng = check_random_state(self.random_state)
        x0 = self._initial_parameters(layout, warm, rng)
        validation = None
        if given_validation:
            validation = data.given_validation(
                proxy, X_val, y_val, sample_weight_val, targets=targets
            )
            check_given_validation(validation, score_needs)
        elif self.early_stopping:
            data, validation = data.split(self.validation_fraction, rng, score_needs)
        loss = MLPLoss(layout, self.activation, targets.loss_output(fitted), self.alpha)
        objective = data.objective(loss, chunk_size=self.chunk_size)
        X, y, ops = data.X, data.y, objective.ops
        spec = SOLVERS[self.solver]
        # The device-resident CG keeps its vectors where the data is; SciPy's
        # solvers work on host float64 vectors.
        search_ops = ops if spec.on_device else NUMPY
        transfer = Transfer(ops, X.dtype, search_ops)

        def attributes(x):
            # x is a private copy of the solver's vector, in its namespace.
            coefs, intercepts = layout.unpack(ops.copy(transfer.to_data(x)), ops.xp)
            return {**fitted, "coefs_": coefs, "intercepts_": intercepts}

        monitor = IterationMonitor(
            self, attributes, self._score_model, validation, X_fit=X, y_fit=y
        )
        monitor.begin(x0)
        try:
            result = self._run_solver(objective, search_ops, x0, monitor, data)
        finally:
            objective.close()
        monitor.close()

        x, loss = result.x, result.loss
        if self.early_stopping:
            x, loss = monitor.best(x, loss, result.loss_curve)
        if self.verbose:
            print(monitor.closing_line(result))
        fitted.update(
            attributes(x),
            n_iter_=result.n_iter,
            n_fun_evals_=result.n_evals,
            n_line_trials_=result.n_trials,
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

    def _run_solver(self, objective, search_ops, x0, monitor, data):
        """Run the solver, warn about its exit, and return its result."""
        solver_objective = SciPyObjective(objective, search_ops=search_ops)

        def scales():
            # Only for the messages: a pass over the data.
            return Scales(
                *data.magnitudes(),
                alpha=float(self.alpha),
                penalty=float(objective.loss.penalty_strength(
                    objective.sample_weight_sum
                )),
                dtype=numpy_dtype(objective.dtype),
                n_samples=known_rows(data.X),
            )  # fmt: skip

        try:
            result = minimize(
                solver_objective,
                x0,
                solver=self.solver,
                max_iter=self.max_iter,
                max_fun=self.max_fun,
                tol=self.tol,
                on_iteration=monitor.on_iteration,
                verbose=self.verbose,
                progress=monitor,
                keep_on_interrupt=self.on_interrupt == "keep",
            )
        except NonFiniteInitialLoss as exc:
            hint = non_finite_hint(scales(), initial=True)
            raise ValueError(f"{exc} {hint}") from None
        message = exit_warning(
            result,
            solver=self.solver,
            tol=self.tol,
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            activation=self.activation,
            scales=scales,
        )
        if message is not None:
            category, text = message
            warn(text, category)
        return result

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

    def _check_activation(self, n_hidden):
        """Refuse a per-layer ``activation`` of the wrong length."""
        activation = self.activation
        if is_per_layer(activation) and len(activation) != n_hidden:
            n = len(activation)
            raise ValueError(
                f"activation={activation!r} names {n} activation"
                f"{'s' if n != 1 else ''}, but hidden_layer_sizes="
                f"{self.hidden_layer_sizes!r} gives {n_hidden} hidden layer"
                f"{'s' if n_hidden != 1 else ''}: give one activation per "
                "hidden layer, or one name for all."
            )

    def _initial_parameters(self, layout, warm, rng):
        """Float64 starting point: the previous fit's weights, or Glorot's."""
        if not warm:
            return glorot_init(layout, self.activation, rng)
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
        return layout.pack(
            [to_host(c) for c in self.coefs_],
            [to_host(b) for b in self.intercepts_],
            dtype=np.float64,
        )

    # -------------------------------------------------------------- predict
    def _forward(self, X, method, output=True):
        """Output logits for ``X``, the fitted snapshot they come from and the
        backend of ``X`` (:mod:`sklearn_cgmlp._backends`): lazy logits for a
        Dask ``X``, computed block by block. ``output=False`` stops the
        forward pass at the last hidden layer."""
        model = self._fitted_view()
        backend = backend_of(X)
        return backend.logits(model, X, method, output=output), model, backend

    def _score_model(self, attributes, validation):
        """Early-stopping score (``scoring``) of the model with fitted
        ``attributes`` on the ``validation`` set (in memory, on a device or
        on a cluster)."""
        score, _ = validation_score(self)
        return score(attributes, validation)

    def _model(self, attributes):
        """A snapshot of the estimator with the fitted ``attributes`` (of an
        iteration, for a scorer)."""
        model = self._view()
        model.__dict__ = {
            **{k: v for k, v in model.__dict__.items() if not self._is_fitted(k)},
            **attributes,
        }
        return model

    # ---------------------------------------------------------- persistence
    def __getstate__(self):
        return _persistence.stamp_state(super().__getstate__())

    def __setstate__(self, state):
        state = _persistence.check_state_version(type(self).__name__, dict(state))
        super().__setstate__(state)

    def to_npz(self, file):
        """Export the fitted model to a pickle-free ``.npz`` file.

        The file holds the weights, the targets' description, the feature
        names, the training history and the parameters as plain arrays and a
        JSON string; :meth:`from_npz` reads it back without ever unpickling,
        so loading an untrusted file never executes code.

        The file describes the fitted model. Parameters that define it and
        that ``set_params`` may change after fit are stored at their values
        at fit: ``hidden_layer_sizes`` as the widths of the fitted weights,
        and the regressor's ``loss`` as the loss it was fitted with (which
        gives ``out_activation_``). So a model changed with ``set_params``
        after fit still exports, with its fitted weights, output and
        predictions, and the loaded estimator's ``get_params()`` shows those
        parameters' fitted values; this estimator is left as it is. Other
        parameters are stored as they are now (``activation`` included,
        which ``predict`` uses as set).

        Before writing, the file is built in memory, loaded back with the
        checks of :meth:`from_npz` and compared with the model: only a file
        that loads back as the same model (the same parameters, fitted
        attributes and predictions) is written. A path is written atomically:
        to a temporary file in the same folder, which then replaces the
        target, so a failed export (a full disk, an interrupt) leaves an
        existing file untouched. A file object is written to directly, at its
        current position.

        Parameters
        ----------
        file : str, path-like or file object
            Where to write: a path (``.npz`` is appended to a path without it,
            as :func:`numpy.savez` does) or a binary file object.

        Returns
        -------
        self : object
            The estimator.

        Raises
        ------
        ValueError
            If the model cannot be represented in the format (class labels
            that are neither all numbers nor all strings, a ``random_state``
            that is a ``RandomState`` instance, a parameter of a type JSON
            cannot hold), with the reason and what to do; nothing is written.
        """
        model = self._fitted_view()
        # The file holds NumPy arrays, wherever the model lives.
        model.coefs_ = [to_host(c) for c in model.coefs_]
        model.intercepts_ = [to_host(b) for b in model.intercepts_]
        if hasattr(model, "classes_"):
            model.classes_ = to_host(model.classes_)
        _npz.export_npz(model, file)
        return self

    @classmethod
    def from_npz(cls, file):
        """Load a model exported by :meth:`to_npz`.

        Every array header, shape, dtype and value is validated against the
        others before any array data is read and before the estimator is
        built; a file that does not describe a valid model raises ValueError
        naming the field (among others, a regressor's ``loss`` that does not
        give its output, or ``hidden_layer_sizes`` other than the widths of
        the weights; the user guide lists the checks). Nothing in the file is
        executed.

        Parameters
        ----------
        file : str, path-like or file object
            The ``.npz`` file.

        Returns
        -------
        estimator : object
            The fitted estimator.
        """
        return _npz.import_npz(cls, file)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags
