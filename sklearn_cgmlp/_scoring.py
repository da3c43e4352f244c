"""What early stopping scores: the ``scoring`` parameter.

An early-stopping score is a function ``score(attributes, validation)`` of
the model with fitted ``attributes`` and a validation set
(:class:`~sklearn_cgmlp._validation.Validation`), where a higher value is better,
together with what it needs of the validation set
(a :class:`~sklearn_cgmlp._data.ScoreNeeds`). :func:`validation_score` picks
it from the estimator's ``scoring``, from one table:

- ``None``: the face's own score (accuracy, R²), as before ``scoring``;
- ``"loss"``: minus the weighted mean loss of the validation samples (the
  data term of the objective, without the L2 penalty), as
  HistGradientBoosting's ``scoring="loss"``;
- a scikit-learn scorer name or callable (:func:`~sklearn.metrics.check_scoring`),
  called as ``scorer(model, X_val, y_val[, sample_weight=])`` on a snapshot of
  the model at the iteration.
"""

import numpy as np
from sklearn.metrics import check_scoring

from ._backends import backend_of
from ._data import R2, ScoreNeeds
from ._ops import to_host
from ._outputs import OUTPUTS
from ._validation import computed
from ._workspace import weight_sum

#: ``scoring="loss"``: defined on one sample of positive weight.
LOSS = ScoreNeeds("the validation loss", 1, False)


def _face_score(estimator):
    """``scoring=None``: the face's own metric of predictions."""

    def score(attributes, validation):
        X, y, _, sample_weight = validation
        Z, ops = backend_of(X).model_logits(attributes, estimator.activation, X)
        pred = to_host(estimator._predictions(Z, attributes, ops))
        return estimator._score_metric(y, pred, sample_weight=to_host(sample_weight))

    return score, estimator._score_needs


def _loss_score(estimator):
    """``scoring="loss"``: minus the weighted mean data loss."""

    def score(attributes, validation):
        X, _, Y, sample_weight = validation
        Z, ops = backend_of(X).model_logits(attributes, estimator.activation, X)
        Y = computed(Y)
        output = OUTPUTS[attributes["out_activation_"]]
        row_loss = tmp = None
        if ops.is_numpy:  # buffers of the in-place NumPy kernel
            row_loss, tmp = np.empty(Z.shape[0], dtype=Z.dtype), np.empty_like(Z)
        row_loss, _ = output.loss_and_delta(Z, Y, row_loss, tmp, ops)
        if sample_weight is None:
            total = ops.total(row_loss)
        else:
            total = ops.weighted_total(sample_weight, row_loss)
        return -float(total) / float(weight_sum(Z.shape[0], sample_weight, ops))

    return score, LOSS


def _scorer_score(estimator):
    """A scikit-learn scorer, called on a snapshot of the model."""
    scorer = check_scoring(estimator, estimator.scoring)
    scoring = estimator.scoring
    if scoring == "r2":
        needs = R2
    else:
        name = f"scoring={scoring!r}" if isinstance(scoring, str) else "scoring"
        needs = ScoreNeeds(name, 1, False)

    def score(attributes, validation):
        X, y, _, sample_weight = validation
        model = estimator._model(attributes)
        # X was validated (and lost its column names): the snapshot must not
        # expect names it would warn about.
        vars(model).pop("feature_names_in_", None)
        if sample_weight is None:
            return scorer(model, X, y)
        return scorer(model, X, y, sample_weight=sample_weight)

    return score, needs


_SCORES = {None: _face_score, "loss": _loss_score}


def validation_score(estimator):
    """``(score, needs)`` for the estimator's ``scoring`` (module docstring);
    an unknown scorer name raises scikit-learn's ValueError."""
    scoring = estimator.scoring
    key = scoring if isinstance(scoring, str | None) else object()
    return _SCORES.get(key, _scorer_score)(estimator)
