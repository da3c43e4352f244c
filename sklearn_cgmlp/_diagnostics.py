"""What a solver's exit means for the user: the warning that says so."""

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

#: Features larger than this in absolute value are called unscaled in messages.
LARGE_FEATURES = 1e6


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


def exit_warning(
    result, *, solver, tol, max_iter, max_fun, activation, dtype, hint, features
):
    """``(category, message)`` for a solver exit the user should hear about.

    None for convergence and for a stop asked for by early stopping or a
    callback. ``hint`` says what to change when the loss overflowed;
    ``features`` is the largest absolute feature value.
    """
    name = f"Solver {solver!r}"
    gradient = f"the largest gradient entry is {result.grad_norm:.3g} > tol={tol:g}"
    if result.status == "interrupted":
        return UserWarning, (
            f"Training interrupted by the user after {result.n_iter} iterations; "
            "the model carries the last accepted weights. Pass "
            "on_interrupt='raise' to stop the program instead."
        )
    if result.status == "max_iter":
        return ConvergenceWarning, (
            f"{name} did not converge in max_iter={max_iter} iterations: "
            f"{gradient}. Increase max_iter, scale the features (e.g. "
            "StandardScaler) or increase tol."
        )
    if result.status == "max_fun":
        return ConvergenceWarning, (
            f"{name} reached max_fun={max_fun} loss evaluations before "
            f"converging: {gradient}. Increase max_fun, scale the features or "
            "increase tol."
        )
    if result.status == "nonfinite":
        return ConvergenceWarning, (
            f"{name} met a non-finite value ({result.message}) and kept the last "
            f"iterate with a finite loss, where {gradient}. {hint}"
        )
    if result.status != "stalled":
        return None
    unscaled = scale_hint(features)
    if unscaled is not None:
        # The curvature grows with the square of the features: nothing can be
        # said about what the precision of the loss allows.
        return ConvergenceWarning, (
            f"{name} stopped before converging: {_what_stopped(result.message)}, "
            f"while {gradient}. {unscaled} The fitted weights are the best point "
            "found."
        )
    if result.at_precision_limit:
        float64_hint = ", or fit float64 data" if np.dtype(dtype) == np.float32 else ""
        return ConvergenceWarning, (
            f"{name} stopped before converging ({result.message}), while "
            f"{gradient}: a gradient this small is all the precision of the "
            f"{np.dtype(dtype).name} loss can resolve (precision loss), so tol "
            f"is below what this precision allows. Increase tol{float64_hint}. "
            "The fitted weights are the best point found."
        )
    kink = (
        " With relu units this usually means the weights sit on a kink of the "
        "loss, where its gradient jumps; a smooth activation such as 'tanh' "
        "converges further."
        if activation == "relu"
        else ""
    )
    return ConvergenceWarning, (
        f"{name} stopped before converging: {_what_stopped(result.message)}, "
        f"while {gradient}, far above what the precision of the loss limits.{kink} "
        "Try another solver, or increase tol. The fitted weights are the best "
        "point found."
    )


def non_finite_hint(alpha, magnitude):
    """What to change when the loss overflows."""
    unscaled = scale_hint(magnitude)
    if unscaled is not None:
        return unscaled
    if alpha > 1e100:
        return f"alpha={alpha:g} makes the penalty overflow: lower it."
    return (
        "The weights grew without bound: scale the features (e.g. "
        "StandardScaler) or increase alpha."
    )
