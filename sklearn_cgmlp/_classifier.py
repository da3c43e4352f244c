"""CGMLPClassifier: target encoding, class weights and probabilities."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import StrOptions

from ._backends import backend_of
from ._base import BaseCGMLP
from ._data import ACCURACY
from ._docstrings import fill_docstring
from ._ops import to_host
from ._outputs import OUTPUTS
from ._targets import ClassificationTargets


@fill_docstring
class CGMLPClassifier(ClassifierMixin, BaseCGMLP):
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
    %(hidden_layer_sizes)s

    %(activation)s

    %(solver)s

    %(alpha)s

    %(max_iter)s

    %(tol)s

    %(max_fun)s

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied with ``sample_weight``: a dict
        ``{label: weight}`` of non-negative finite numbers, or "balanced" for
        ``n_samples / (n_classes * np.bincount(y))``. For multilabel targets,
        as in :func:`sklearn.utils.class_weight.compute_sample_weight`.

    early_stopping : bool, default=False
        Whether to set aside ``validation_fraction`` of the training data
        (stratified, except for multilabel targets), or to use the validation
        set given to ``fit`` (``X_val``, ``y_val``), and stop when the
        validation score (``scoring``; the accuracy by default) has not
        improved by at least ``tol`` for ``n_iter_no_change`` consecutive
        iterations. The fitted model carries the weights of the iteration
        with the best validation score. The training part of a split is a
        copy of ``X``. Unlike MLPClassifier, which ignores ``early_stopping``
        with its L-BFGS solver, every solver here honours it.

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
    classes_ : ndarray of shape (n_classes,) or (n_outputs,)
        Class labels; for multilabel targets, the column indices of ``y``.

    %(fitted_network)s

    %(fitted_solver)s

    validation_scores_ : list of float or None
        Validation score (``scoring``: the accuracy by default, minus the
        log-loss for "loss") after each iteration, if ``early_stopping`` is
        True; None otherwise.

    best_validation_score_ : float or None
        Best of ``validation_scores_``, whose weights the model carries, if
        ``early_stopping`` is True; None otherwise.

    %(fitted_shape)s

    out_activation_ : str
        Output activation: "softmax" for multiclass, "logistic" for binary and
        multilabel targets.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : The same network trained by
        stochastic gradient methods or L-BFGS.
    CGMLPRegressor : The regression counterpart.

    Notes
    -----
    The objective is evaluated in the dtype of ``X`` (float32 or float64); the
    solver keeps its search vector in float64. Features should be scaled (for
    instance with :class:`~sklearn.preprocessing.StandardScaler`): unscaled
    inputs saturate logistic and tanh units and stall the optimisation.

    Probabilities of logistic outputs are bounded to ``[eps, 1 - eps]`` of the
    floating dtype, the range in which they can differ from certainty.

    With scikit-learn 1.9 or later, callbacks of :mod:`sklearn.callback` set by
    ``set_callbacks`` (``ProgressBar``, ``ScoringMonitor``, ...) are called for
    the fit and for every solver iteration.

    ``predict``, ``predict_proba``, ``predict_log_proba`` and ``score`` may
    run in several threads at once, also while the same object is being
    refitted: each call uses the old or the new model, never a mix, and a
    refit that fails leaves the old model in place. Two fits of one object at
    the same time are not safe; fit clones (:func:`sklearn.base.clone`)
    instead.

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
    >>> round(clf.score(X_test, y_test), 2)
    1.0
    >>> cgmlp.n_iter_ == len(cgmlp.loss_curve_)
    True

    The last hidden layer's activations, features learned by the network:

    >>> clf.transform(X_test[:2]).shape
    (2, 10)
    """

    _parameter_constraints: dict = {
        **BaseCGMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
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
        self.class_weight = class_weight

    # ------------------------------------------------------------- targets
    def _targets(self, previous):
        return ClassificationTargets(self.class_weight, previous)

    _score_metric = staticmethod(accuracy_score)
    _score_needs = ACCURACY

    @staticmethod
    def _predictions(Z, attributes, ops):
        return _predictions(Z, attributes, ops)

    # -------------------------------------------------------------- predict
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
        Z, model, backend = self._forward(X, "predict")
        attributes, ops = vars(model), backend.ops
        multilabel = model._target_type == "multilabel-indicator"
        return backend.map_rows(
            Z,
            lambda z: _predictions(z, attributes, ops),
            dtype=np.int64 if multilabel else to_host(model.classes_).dtype,
            n_columns=Z.shape[1] if multilabel else None,
        )

    def _probabilities(self, X, method, log):
        """(Log-)probabilities with one column per entry of ``classes_``."""
        Z, model, backend = self._forward(X, method)
        output, ops = OUTPUTS[model.out_activation_], backend.ops
        binary = model._target_type == "binary"

        def proba(z):
            if binary:  # one logit z for two classes: (-z, z)
                z = (
                    ops.xp.concat([-z, z], axis=1)
                    if not ops.is_numpy
                    else np.hstack([-z, z])
                )
            return output.log_proba(z, ops) if log else output.inverse_link(z, ops)

        n_columns = 2 if binary else Z.shape[1]
        return backend.map_rows(Z, proba, dtype=Z.dtype, n_columns=n_columns)

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
        return self._probabilities(X, "predict_proba", log=False)

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
        return self._probabilities(X, "predict_log_proba", log=True)

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
        return backend_of(X).accuracy(self.predict(X), y, sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _predictions(Z, attributes, ops):
    """Predicted labels from output logits, where the logits are (string
    labels stay NumPy arrays, as in scikit-learn)."""
    xp, classes = ops.xp, attributes["classes_"]
    if attributes["_target_type"] == "multilabel-indicator":
        return ops.astype(Z > 0, xp.int64)
    if attributes["out_activation_"] == "softmax":
        indices = xp.argmax(Z, axis=1)
    else:
        indices = ops.astype(Z[:, 0] > 0, xp.int64)
    if ops.is_numpy:
        return classes[indices]
    if isinstance(classes, np.ndarray):  # labels that cannot live on a device
        return classes[to_host(indices)]
    return xp.take(classes, indices, axis=0)
