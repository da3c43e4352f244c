"""What a solver's exit means for the user: the warning that says so."""

from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

#: Features larger than this in absolute value are called unscaled in messages.
LARGE_FEATURES = 1e6
#: Regression targets too (``tol`` is absolute, and the gradient grows with
#: the targets).
LARGE_TARGETS = 1e6
#: The penalty strength ``alpha / S`` (``S`` the sum of the sample weights)
#: above which the penalty is said to dominate the loss.
LARGE_PENALTY = 1e6


class Scales(NamedTuple):
    """The magnitudes of what enters the loss, for the messages that say
    which of them is out of scale.

    ``features`` and ``targets`` are the largest absolute values of ``X`` and
    of the encoded targets (0/1 for classifiers), ``weights`` the largest
    sample weight (class weights included; None without weights), ``alpha``
    the penalty, ``penalty`` its strength ``alpha / S``, ``dtype`` the
    dtype of the loss and ``n_samples`` the number of training samples.
    """

    features: float
    targets: float
    weights: float | None
    alpha: float
    penalty: float
    dtype: np.dtype
    #: The number of training samples, where known.
    n_samples: int | None = None


def known_rows(X):
    """The number of rows of ``X``, or None where it is unknown (Dask arrays
    of unknown chunk sizes)."""
    try:
        return int(X.shape[0])
    except (TypeError, ValueError):  # None, or NaN
        return None


def feature_magnitude(X, ops):
    """Largest absolute value of the input data (0 for empty data)."""
    values = X.data if sparse.issparse(X) else X
    if values.shape[0] == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore"):
        return ops.inf_norm(values)


def scale_hint(magnitude):
    """The advice to scale features this large, or None if they look scaled."""
    if magnitude > LARGE_FEATURES:
        return (
            f"The features reach {magnitude:.3g} in absolute value: scale them, "
            "e.g. with sklearn.preprocessing.StandardScaler."
        )
    return None


def scale_hints(scales, *, overflow=False):
    """What is out of scale among ``scales`` (a :class:`Scales`), and what
    to scale, as one text; None if nothing is. ``overflow`` says that the
    loss overflowed (not only that the solver stalled or ran out)."""
    dtype = np.dtype(scales.dtype)
    hints = [scale_hint(scales.features)]
    if scales.targets > LARGE_TARGETS:
        square = " (the squared error overflows)" if overflow else ""
        hints.append(
            f"The targets reach {scales.targets:.3g} in absolute value{square}: "
            "scale them, e.g. with sklearn.compose.TransformedTargetRegressor "
            "and a StandardScaler."
        )
    # The loss is a weighted mean, so large weights matter only where the
    # product of a weight and a sample's loss overflows.
    large = np.sqrt(np.finfo(dtype).max)
    if overflow and scales.weights is not None and scales.weights > large:
        hints.append(
            f"The sample weights reach {scales.weights:.3g}, and each sample's "
            f"loss is multiplied by its weight in {dtype.name}: divide them by a "
            "common factor, and alpha by the same factor to keep the same "
            "objective."
        )
    if scales.penalty > LARGE_PENALTY:
        effect = "overflow" if overflow else "dominate the loss and its gradient"
        hints.append(
            f"alpha={scales.alpha:g} makes the penalty {effect} (alpha divided "
            f"by the sum of the sample weights is {scales.penalty:.3g}): lower it."
        )
    hints = [h for h in hints if h is not None]
    return " ".join(hints) if hints else None


#: The iterations over which a fit stopped at its limit is said to be still
#: making progress, and the relative decrease of the loss that says so.
PROGRESS_WINDOW = 10
PROGRESS_DECREASE = 1e-3


def _limit_advice(limit, loss_curve, scales):
    """What to do about a fit that hit ``limit`` with nothing far out of
    scale: say whether the loss was still falling, and what is larger than
    standardized data can be."""
    hints = []
    decrease = _recent_decrease(loss_curve)
    if decrease is not None and decrease > PROGRESS_DECREASE:
        hints.append(
            f"The loss was still falling ({decrease:.2%} over the last "
            f"{PROGRESS_WINDOW} iterations): increase {limit}, or stop at the "
            "best validation score with early_stopping=True."
        )
    unstandardized = _unstandardized(scales)
    if unstandardized is not None:
        hints.append(unstandardized)
    if not hints:
        return f"Increase {limit} or tol."
    if unstandardized is not None:
        hints.append(f"Or increase {limit} or tol.")
    return " ".join(hints)


def _recent_decrease(loss_curve):
    """The relative decrease of the loss over its last PROGRESS_WINDOW
    iterations, or None for shorter or non-positive curves."""
    if len(loss_curve) <= PROGRESS_WINDOW:
        return None
    before, last = loss_curve[-1 - PROGRESS_WINDOW], loss_curve[-1]
    if not (np.isfinite(before) and before > 0):
        return None
    return (before - last) / before


def _unstandardized(scales):
    """What is larger than standardized data can be, or None.

    A column of ``n`` values with mean 0 and standard deviation 1 has no
    entry beyond ``sqrt(n - 1)`` (Samuelson's inequality): features or
    regression targets beyond that are not standardized. ``tol`` bounds the
    gradient in the targets' units, so large targets need a small relative
    fit error before it is met.
    """
    if scales.n_samples is None or scales.n_samples < 2:
        return None
    bound = np.sqrt(scales.n_samples - 1)
    hints = []
    if scales.features > bound:
        hints.append(
            f"The features reach {scales.features:.3g} in absolute value, more "
            f"than standardized features can ({bound:.3g}): scaling them (e.g. "
            "StandardScaler) usually speeds convergence."
        )
    if scales.targets > bound:
        hints.append(
            f"The targets reach {scales.targets:.3g} in absolute value, and tol "
            "bounds the gradient, which grows with them: standardizing them (e.g. "
            "TransformedTargetRegressor with a StandardScaler) sets tol on their "
            "scale."
        )
    return " ".join(hints) if hints else None


def _what_stopped(message):
    """What made SciPy give up, without its guesses about precision."""
    if "precision loss" in message or "ABNORMAL" in message:
        return "its line search found no step that lowers the loss enough"
    # SciPy 1.13 (L-BFGS-B in Fortran) spells it "REL_REDUCTION_OF_F_<=_...".
    if "RELATIVE REDUCTION OF F" in message or "REL_REDUCTION_OF_F" in message:
        return (
            "the loss fell by less than L-BFGS-B's relative threshold (ftol) in "
            "one iteration"
        )
    return message.rstrip(".")


def exit_warning(result, *, solver, tol, max_iter, max_fun, activation, scales):
    """``(category, message)`` for a solver exit the user should hear about.

    None for convergence and for a stop asked for by early stopping or a
    callback. ``scales`` (a :class:`Scales`, or a function that returns one,
    called only for the exits that are reported) says what is out of scale.
    """
    if callable(scales) and result.status in (
        "max_iter", "max_fun", "nonfinite", "stalled",
    ):  # fmt: skip
        scales = scales()
    name = f"Solver {solver!r}"
    gradient = f"the largest gradient entry is {result.grad_norm:.3g} > tol={tol:g}"
    if result.status == "interrupted":
        return UserWarning, (
            f"Training interrupted by the user after {result.n_iter} iterations; "
            "the model carries the last accepted weights. Pass "
            "on_interrupt='raise' to stop the program instead."
        )
    if result.status in ("max_iter", "max_fun"):
        limit = "max_iter" if result.status == "max_iter" else "max_fun"
        reached = (
            f"did not converge in max_iter={max_iter} iterations"
            if limit == "max_iter"
            else f"reached max_fun={max_fun} loss evaluations before converging"
        )
        unscaled = scale_hints(scales)
        if unscaled is not None:
            advice = f"{unscaled} Or increase {limit} or tol."
        else:
            advice = _limit_advice(limit, result.loss_curve, scales)
        return ConvergenceWarning, f"{name} {reached}: {gradient}. {advice}"
    if result.status == "nonfinite":
        return ConvergenceWarning, (
            f"{name} met a non-finite value ({result.message}) and kept the last "
            f"iterate with a finite loss, where {gradient}. "
            f"{non_finite_hint(scales)}"
        )
    if result.status != "stalled":
        return None
    unscaled = scale_hints(scales)
    if unscaled is not None:
        # The curvature grows with the square of the features (of the
        # targets, of alpha): nothing can be said about what the precision of
        # the loss allows.
        return ConvergenceWarning, (
            f"{name} stopped before converging: {_what_stopped(result.message)}, "
            f"while {gradient}. {unscaled} The fitted weights are the best point "
            "found."
        )
    dtype = np.dtype(scales.dtype)
    if result.at_precision_limit:
        float64_hint = ", or fit float64 data" if dtype == np.float32 else ""
        return ConvergenceWarning, (
            f"{name} stopped before converging ({result.message}), while "
            f"{gradient}: a gradient this small is all the precision of the "
            f"{dtype.name} loss can resolve (precision loss), so tol "
            f"is below what this precision allows. Increase tol{float64_hint}. "
            "The fitted weights are the best point found."
        )
    kink = (
        " With relu units this usually means the weights sit on a kink of the "
        "loss, where its gradient jumps; a smooth activation such as 'tanh' "
        "converges further."
        if "relu" in ((activation,) if isinstance(activation, str) else activation)
        else ""
    )
    return ConvergenceWarning, (
        f"{name} stopped before converging: {_what_stopped(result.message)}, "
        f"while {gradient}, far above what the precision of the loss limits.{kink} "
        "Try another solver, or increase tol. The fitted weights are the best "
        "point found."
    )


def non_finite_hint(scales, *, initial=False):
    """What to change when the loss overflows: what is out of scale among
    ``scales`` (a :class:`Scales`), or else that a step of the solver made
    the network's weights grow without bound (``initial``: the loss at the
    initial weights, where no step was taken)."""
    unscaled = scale_hints(scales, overflow=True)
    if unscaled is not None:
        return unscaled
    if initial:
        dtype = np.dtype(scales.dtype).name
        return (
            "The features, targets, sample weights and alpha are all moderate: "
            f"look for values of X or y near the limits of {dtype}."
        )
    return (
        "The features, targets, sample weights and alpha are all moderate: a "
        "step of the solver made the network's weights grow without bound. "
        "Increase alpha, or scale the features (e.g. StandardScaler)."
    )
