"""Checks of sample weights, in memory and on a cluster.

The loss is divided by the sum ``S`` of the weights in the data's dtype:
:func:`check_weights` checks host weights (times class weights) and returns
them in that dtype; :func:`refuse_bad_weights` refuses weights from their
statistics (which a cluster computes by reductions), and
:func:`refuse_weight_total` a sum the loss cannot be divided by.
"""

import numpy as np
from sklearn.utils.validation import _check_sample_weight

from ._ops import to_host


def check_weights(sample_weight, n_samples, extra, dtype, *, name="sample_weight"):
    """Host sample weights times ``extra`` (class weights), or None if all one.

    The product is formed in float64. It must be finite and representable
    in ``dtype``, and its sum ``S`` must be positive with ``1 / S`` a
    normal number of ``dtype`` (the loss is scaled by it).
    """
    if sample_weight is not None:
        sample_weight = _check_sample_weight(
            to_host(sample_weight),
            np.empty((n_samples, 0)),
            dtype=np.float64,
            ensure_non_negative=True,
        )
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
    what = name + (" times class_weight" if extra is not None else "")
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        in_dtype = weights.astype(dtype)
        refuse_bad_weights(
            what,
            dtype,
            finite=bool(np.all(np.isfinite(weights)) and np.all(np.isfinite(in_dtype))),
            largest=float(np.max(weights)),
            any_positive=bool(np.any(given > 0)),
            total=float(np.sum(in_dtype, dtype=np.float64)),
            largest_in_dtype=float(np.max(in_dtype)),
        )
    return in_dtype


_RESCALE_WEIGHTS = (
    "Multiply them by a common factor, and alpha by the same factor to keep "
    "the same objective."
)


def refuse_bad_weights(
    what, dtype, *, finite, largest, any_positive, total, largest_in_dtype
):
    """Refuse weights the objective cannot use, from their statistics.

    Shared by the checks in memory and on a cluster (which computes the
    statistics by reductions): ``finite`` whether the weights are finite in
    float64 and in ``dtype``, ``largest`` their largest value, ``any_positive``
    whether a weight was positive before class weights multiplied it,
    ``total`` and ``largest_in_dtype`` their sum (accumulated in float64) and
    largest value in ``dtype``.
    """
    if not finite:
        raise ValueError(
            f"The weights ({what}) reach {largest:.3g}, beyond what "
            f"{np.dtype(dtype).name} represents. {_RESCALE_WEIGHTS}"
        )
    if not any_positive:
        raise ValueError(
            f"Sample weights must contain at least one non-zero number "
            f"({what} sums to zero)."
        )
    refuse_weight_total(what, dtype, total, largest_in_dtype)


def check_weight_total(weights, what, dtype):
    """:func:`refuse_weight_total` for an array of weights."""
    with np.errstate(over="ignore"):
        total = float(np.sum(weights, dtype=np.float64))
    refuse_weight_total(what, dtype, total, float(np.max(weights)))


def refuse_weight_total(what, dtype, total, largest):
    """Refuse weights whose sum ``S`` the loss cannot be divided by in ``dtype``.

    The loss and its gradient are scaled by ``1 / S`` in ``dtype``; outside
    ``[1 / max, 1 / tiny]`` that scale overflows or loses its precision
    (subnormal). Zero is refused too, also where positive weights underflowed.
    """
    finfo = np.finfo(dtype)
    if not total <= 1 / float(finfo.tiny):
        raise ValueError(
            f"The weights ({what}) are too large: they sum to {total:.3g}, and "
            f"the loss is divided by that sum in {finfo.dtype.name}. "
            f"{_RESCALE_WEIGHTS}"
        )
    if not total >= 1 / float(finfo.max) or largest < finfo.tiny:
        raise ValueError(
            f"The weights ({what}) are too small for {finfo.dtype.name}: they "
            f"sum to {total:.3g}, underflowing to zero or too little to divide "
            f"the loss by. {_RESCALE_WEIGHTS}"
        )
