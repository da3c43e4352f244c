"""What a valid model is: the one table of value checks of the ``.npz`` format.

A file can be well formed (every key of its type, every array of the shape
and dtype the metadata implies) and still describe a model that no fit leaves:
a loss that is not the loss of the weights the file holds, a NaN intercept, a
class weight of infinity, two features of one name. Each check here is a small
function ``check(name, model)`` of the model the loader built (its parameters
and fitted attributes, as the estimator holds them); it fails, naming the
file's field ``name`` (or the array it found wrong), unless the values agree
with each other as a fit leaves them.

Both sides apply this table and no other: the loader
(:mod:`~sklearn_cgmlp._npz.read`) runs it on every model it builds, after the
structural checks (so lengths and shapes already agree), and the writer
(:mod:`~sklearn_cgmlp._npz.write`) loads back every file before writing it, so
it refuses exactly what the loader refuses, with the loader's reason.

A check names no activation, output or loss: what those may be comes from the
package's tables (the estimators' ``_parameter_constraints``,
:data:`~sklearn_cgmlp._outputs.REGRESSION_LOSSES`), which the schema, the
checks and ``_validate_params`` consult.

The file describes the fitted model. ``set_params`` after fit may change a
parameter that defines it (``hidden_layer_sizes``, the regressor's ``loss``)
without changing the model; the writer stores such parameters at their values
at fit (the widths of the weights, the loss the fit recorded), so a file whose
``hidden_layer_sizes`` are not the widths of its weights, or whose ``loss``
does not give its ``out_activation``, lies. ``activation`` is stored as it is
set: ``predict`` uses the parameter, as MLPClassifier's does.
"""

import math
from numbers import Integral

import numpy as np

from .._outputs import REGRESSION_LOSSES
from .._safe_read import fail, is_real, short


# ------------------------------------------------------------- parameters
def _finite_parameters(name, model):
    """Every number among the parameters is finite, class weights included.

    The writer refuses other numbers (JSON has none for them), but a file's
    ``NaN``, ``Infinity`` or ``1e999`` parses to one, and a class weight of
    infinity or NaN makes every loss of its class infinite or NaN.
    """
    for param, value in model.get_params().items():
        values = value.values() if isinstance(value, dict) else [value]
        for number in values:
            if is_real(number) and not math.isfinite(number):
                fail(
                    f"{name}: {param} holds {short.repr(number)}; parameters "
                    "are finite numbers."
                )


# ------------------------------------------------------------ architecture
def hidden_widths(sizes):
    """The hidden layer widths that ``hidden_layer_sizes`` gives a fit (an
    int is one layer), a tuple of ints; None for a value no fit accepts."""
    try:
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
    except TypeError:  # a 0-d array has __iter__ but cannot be iterated
        return None
    if not all(
        isinstance(s, Integral) and not isinstance(s, bool | np.bool_) and s >= 1
        for s in sizes
    ):
        return None
    return tuple(int(s) for s in sizes)


def fitted_widths(model):
    """The widths of the fitted hidden layers: of the weights."""
    return tuple(int(np.shape(b)[0]) for b in model.intercepts_[:-1])


def _fitted_architecture(name, model):
    """``hidden_layer_sizes`` are the widths of the weights."""
    sizes, widths = model.hidden_layer_sizes, fitted_widths(model)
    if hidden_widths(sizes) != widths:
        fail(
            f"{name}: hidden_layer_sizes={short.repr(sizes)} are not the widths "
            f"of the fitted hidden layers, {widths} (the shapes of the coef_i); "
            "the file describes the fitted model."
        )


# ----------------------------------------------------------------- weights
def _finite_weights(name, model):
    """Every coefficient and intercept is finite (else predictions are NaN)."""
    for i, (coef, intercept) in enumerate(zip(model.coefs_, model.intercepts_)):
        for field, array in ((f"coef_{i}", coef), (f"intercept_{i}", intercept)):
            if not np.isfinite(array).all():
                fail(f"{name}: {field} values are not all finite.")


# ---------------------------------------------------------------- history
# A fit records the loss of each accepted iterate in loss_curve_ and keeps,
# as loss_, the loss of the weights it returns: the last iterate's, or with
# early stopping the one of the first iterate with the best validation score
# (_base.BaseCGMLP._fit, _monitor.IterationMonitor.best). Every loss there is
# a mean of non-negative terms plus a non-negative penalty; but the Poisson
# deviance adds terms of both signs (y log y - y - y z + exp(z)), so a near
# perfect fit rounds a little below zero (-7e-16 for counts of 7, -6e-13 for
# counts of 1000, alpha=0). A loss is negative when it is below zero by more
# than this fraction of the history's largest loss (or of 1).
_ROUNDING = 1e-6


def _floor(model):
    """The least loss that is not negative: zero less rounding."""
    losses = np.abs(np.asarray([model.loss_, *model.loss_curve_], dtype=np.float64))
    return -_ROUNDING * max(1.0, float(losses.max()))


def _fitted_iteration(model):
    """The index in ``loss_curve_`` of the iterate whose weights the model
    holds and what that iterate is; None when no iteration ran (the weights
    are the starting point, whose loss the curve does not hold)."""
    if not model.loss_curve_:
        return None, None
    last = len(model.loss_curve_) - 1, "the last iterate"
    scores = model.validation_scores_
    if scores is None:
        return last
    scores = np.asarray(scores, dtype=np.float64)
    # The monitor keeps an iterate whose score beats the best so far, which
    # starts at -inf: the first maximum; NaN and -inf never.
    beat = scores > -np.inf
    if not beat.any():
        return last  # none kept: the final weights
    best = int(np.argmax(np.where(beat, scores, -np.inf)))
    return best, "the iterate of the best validation score"


def _loss_curve(name, model):
    """Finite and never negative."""
    curve = np.asarray(model.loss_curve_, dtype=np.float64)
    if not np.isfinite(curve).all():
        fail(f"{name} values are not all finite.")
    negative = curve[curve < _floor(model)]
    if negative.size:
        fail(f"{name} holds {float(negative[0])!r}; a loss is never negative.")


def _loss(name, model):
    """Never negative, and the curve's value at the iterate the model holds."""
    loss = model.loss_
    if loss < _floor(model):
        fail(f"{name}={loss!r} is negative; a loss is never negative.")
    i, which = _fitted_iteration(model)
    if i is not None and loss != model.loss_curve_[i]:
        fail(
            f"{name}={loss!r} is not loss_curve[{i}]={model.loss_curve_[i]!r}, "
            f"the loss of {which}, whose weights the file holds."
        )


def _best_loss(name, model):
    """None with early stopping; ``loss_`` without (as MLPClassifier)."""
    best, early_stopping = model.best_loss_, model.validation_scores_ is not None
    if early_stopping and best is not None:
        fail(f"{name}={best!r} with early stopping, which records None.")
    if not early_stopping and best != model.loss_:
        fail(
            f"{name}={short.repr(best)} is not loss={model.loss_!r}; a fit "
            "without early stopping records its final loss as both."
        )


def _best_validation_score(name, model):
    """The largest validation score, where any score beat -inf."""
    scores = model.validation_scores_
    if not scores:  # no early stopping, or no iteration: the final weights'
        return
    scores = np.asarray(scores, dtype=np.float64)
    kept = scores[scores > -np.inf]
    best = model.best_validation_score_
    if kept.size and not best == kept.max():
        fail(
            f"{name}={best!r} is not the best of validation_scores, "
            f"{float(kept.max())!r}."
        )


def _evaluations(name, model):
    """Every iteration evaluates the objective at least once."""
    if model.n_fun_evals_ < model.n_iter_:
        fail(
            f"{name}={model.n_fun_evals_} is fewer than n_iter={model.n_iter_}; "
            "every iteration evaluates the loss."
        )


# --------------------------------------------------------------- features
def _unique_feature_names(name, model):
    """No fit records two columns of one name (scikit-learn refuses them)."""
    names = getattr(model, "feature_names_in_", None)
    if names is not None and len(set(names.tolist())) != len(names):
        fail(f"{name} repeats a feature name.")


#: The checks of every estimator: (the file's field, its check).
MODEL_CHECKS = (
    ("params", _finite_parameters),
    ("params", _fitted_architecture),
    ("weights", _finite_weights),
    ("loss_curve", _loss_curve),
    ("loss", _loss),
    ("best_loss", _best_loss),
    ("best_validation_score", _best_validation_score),
    ("n_fun_evals", _evaluations),
    ("feature_names_in", _unique_feature_names),
)


# ---------------------------------------------------------------- classes
def _sorted_unique_classes(name, model):
    """As ``np.unique`` gives them; NaN compares false, so is refused too."""
    classes = model.classes_
    if not np.all(classes[1:] > classes[:-1]):
        fail(f"{name} are not sorted and unique.")


def _integer_float_classes(name, model):
    """Float labels hold integers: scikit-learn calls other float targets
    continuous, which no classifier fits."""
    classes = model.classes_
    if classes.dtype.kind == "f" and not np.all(
        np.isfinite(classes) & (classes == np.round(classes))
    ):
        fail(f"{name} {short.repr(classes.tolist())} are not all integers.")


def _multilabel_classes(name, model):
    """A multilabel indicator's classes are the integers 0, 1, ..., n - 1."""
    classes = model.classes_
    if model._target_type == "multilabel-indicator" and not (
        classes.dtype.kind in "iu" and np.array_equal(classes, np.arange(len(classes)))
    ):
        fail(
            f"multilabel {name} must be the integers 0, 1, ..., n_outputs - 1, "
            f"got {short.repr(classes.tolist())} of dtype {classes.dtype}."
        )


#: The checks of classifiers only.
CLASSIFIER_CHECKS = (
    ("classes", _sorted_unique_classes),
    ("classes", _integer_float_classes),
    ("classes", _multilabel_classes),
)


# ------------------------------------------------------------- regression
def _loss_gives_output(name, model):
    """``loss`` is the fitted one: the output it gives is ``out_activation``."""
    output = REGRESSION_LOSSES.get(model.loss)
    if output != model.out_activation_:
        fail(
            f"{name}: loss={model.loss!r} gives an {output!r} output, but "
            f"out_activation is {model.out_activation_!r}; the file describes "
            "the fitted model, whose loss gives its output."
        )


#: The checks of regressors only.
REGRESSOR_CHECKS = (("params", _loss_gives_output),)


def check_model(model, part_checks=()):
    """Fail, naming the field, unless ``model`` passes :data:`MODEL_CHECKS`
    and ``part_checks`` (its estimator part's)."""
    for name, check in (*MODEL_CHECKS, *part_checks):
        check(name, model)
