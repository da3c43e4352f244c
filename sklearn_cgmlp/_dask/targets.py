"""Targets and sample weights of a fit on a Dask cluster, built on the workers.

The lazy counterparts of :mod:`sklearn_cgmlp._targets` (encoded targets and
their fitted attributes) and :func:`sklearn_cgmlp._weights.check_weights`
(sample weights times class weights, checked in one small reduction).
"""

from functools import singledispatch
from numbers import Real

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight

from .._targets import ClassificationTargets, RegressionTargets
from .._weights import refuse_bad_weights
from .objective import get_client
from .validation import _compute, _persist, extreme


def _one_hot(y, classes, dtype):
    if len(classes) == 2:
        return (y == classes[1])[:, None].astype(dtype)
    return (y[:, None] == classes[None, :]).astype(dtype)


def encode_classification_targets(y, dtype):
    """Classes and the encoded targets of a classifier, built on the workers.

    Parameters
    ----------
    y : dask.array.Array of shape (n_samples,) or (n_samples, n_labels)
        Class labels, or a 0/1 indicator matrix for multilabel targets
        (validated by :func:`~sklearn_cgmlp._dask.validation.check_X_y`).
    dtype : dtype
        dtype of the encoded targets (``X``'s).

    Returns
    -------
    Y : dask.array.Array of shape (n_samples, n_outputs)
        The encoding of :class:`sklearn.preprocessing.LabelBinarizer`: one
        0/1 column for binary targets, one-hot rows for multiclass targets,
        the indicator matrix itself for multilabel targets; lazy, in
        ``dtype``.
    classes : ndarray
        Sorted class labels; the column indices for multilabel targets.
    target_type : {"binary", "multiclass", "multilabel-indicator"}
    """
    import dask.array as da

    (values,) = _compute(da.unique(y))  # small: one entry per class
    if y.ndim == 2:
        if not set(np.asarray(values).tolist()) <= {0, 1}:
            raise ValueError(
                "Multioutput target data is not supported with label binarization"
            )
        classes = np.arange(y.shape[1])
        return y.astype(dtype), classes, "multilabel-indicator"
    try:
        check_classification_targets(values)  # "continuous" labels, NaN
    except TypeError as exc:
        raise ValueError(
            "Class labels must be all numbers or all strings, got labels of "
            f"types {sorted({type(v).__name__ for v in values})}."
        ) from exc
    classes = np.asarray(values)
    ClassificationTargets.check_classes(classes, "multiclass")
    n_outputs = 1 if len(classes) == 2 else len(classes)
    Y = y.map_blocks(
        _one_hot,
        classes,
        dtype,
        chunks=(y.chunks[0], (n_outputs,)),
        new_axis=1,
        dtype=dtype,
        meta=np.empty((0, n_outputs), dtype=dtype),
    )
    return Y, classes, "binary" if len(classes) == 2 else "multiclass"


def _cast_quietly(block, dtype):
    with np.errstate(over="ignore", invalid="ignore"):
        return block.astype(dtype)


def encode_regression_targets(y, dtype, output):
    """The targets of a regressor as a lazy ``(n_samples, n_outputs)`` array.

    Checks, in one small reduction, that they are finite in ``dtype`` and in
    the range of the ``output``'s loss (the regressor's messages).
    """
    import dask.array as da

    RegressionTargets.check_dtype(y.dtype)
    y2d = y[:, None] if y.ndim == 1 else y
    # The cast runs on the workers: silence its overflow there, the check
    # below reports it. Y is persisted before its reductions read it, so that
    # its tasks enter the scheduler once: a graph computed twice is optimised
    # twice, and task fusion may then give one key two different tasks
    # (distributed warns "Detected different run_spec").
    (Y,) = _persist(get_client(), y2d.map_blocks(_cast_quietly, dtype, dtype=dtype))
    finite, smallest = _compute(da.isfinite(Y).all(), extreme(Y, "min"))
    if not finite:
        (largest,) = _compute(extreme(abs(y), "max"))
        RegressionTargets.refuse_overflow(largest, dtype)
    output.check_targets(smallest)
    return Y


@singledispatch
def warns_on_column(targets):
    """Whether a column-vector ``y`` of the face's ``targets`` is flattened
    with scikit-learn's DataConversionWarning (classifiers, as in memory)."""
    return False


@warns_on_column.register
def _(targets: ClassificationTargets):
    return True


@singledispatch
def encode_targets(targets, y, dtype):
    """``(Y, fitted, extra)``: the face's ``targets`` (:mod:`sklearn_cgmlp._targets`)
    encoded lazily from the Dask ``y`` in ``dtype``, the fitted attributes
    that describe them, and extra sample weights (class weights) or None."""
    raise TypeError(f"No Dask encoding for {type(targets).__name__}.")


@encode_targets.register
def _(targets: ClassificationTargets, y, dtype):
    Y, classes, target_type = encode_classification_targets(y, dtype)
    fitted = targets.fitted(classes, target_type, Y.shape[1])
    extra = None
    if targets.weighted():
        extra = class_sample_weight(targets.class_weight, y, classes, target_type)
    return Y, fitted, extra


@encode_targets.register
def _(targets: RegressionTargets, y, dtype):
    Y = encode_regression_targets(y, dtype, targets.output)
    return Y, targets.fitted(Y.shape[1]), None


# ---------------------------------------------------------------- weights


def _lookup(y, classes, weights):
    return weights[np.searchsorted(classes, y)]


def class_sample_weight(class_weight, y, classes, target_type):
    """Per-sample class weights on the workers (``compute_sample_weight``).

    Parameters
    ----------
    class_weight : dict, "balanced" or None
        As the classifier's ``class_weight``.
    y : dask.array.Array
        The labels (1-D) or the multilabel indicator matrix.
    classes : ndarray
        From :func:`encode_classification_targets`.
    target_type : str
        From :func:`encode_classification_targets`.

    Returns
    -------
    weights : dask.array.Array of shape (n_samples,) in float64, or None
    """
    import dask.array as da
    from sklearn.utils.class_weight import compute_class_weight

    if class_weight is None:
        return None
    n = y.shape[0]
    if target_type != "multilabel-indicator":
        if class_weight == "balanced":
            (counts,) = _compute(da.unique(y, return_counts=True)[1])
            weights = n / (len(classes) * counts.astype(np.float64))
        else:  # every label of y is among classes, so y=classes is enough
            weights = compute_class_weight(class_weight, classes=classes, y=classes)
        return y.map_blocks(_lookup, classes, weights, dtype=np.float64)
    if class_weight != "balanced":
        raise ValueError(
            "For multi-output, class_weight should be a list of dicts, or the "
            "string 'balanced'."
        )
    (ones,) = _compute(y.sum(axis=0, dtype=np.float64))
    # Per label, balanced weights of its 0 and 1 (a value that never occurs
    # is never looked up); their product over labels, as scikit-learn does.
    n_values = np.where((ones > 0) & (ones < n), 2.0, 1.0)
    w_one = n / (n_values * np.maximum(ones, 1))
    w_zero = n / (n_values * np.maximum(n - ones, 1))
    return y.map_blocks(
        _multilabel_weight, w_zero, w_one, drop_axis=1, dtype=np.float64
    )


def _multilabel_weight(y, w_zero, w_one):
    return np.prod(np.where(y == 1, w_one, w_zero), axis=1, dtype=np.float64)


def check_sample_weight(sample_weight, X, dtype, *, extra=None):
    """Sample weights times class weights, checked on the workers.

    Mirrors :func:`sklearn_cgmlp._weights.check_weights`: the
    product is formed in float64 and must be finite, non-negative, not all
    zero, with a finite sum, and representable in ``dtype``; one small
    reduction computes what the checks need.

    Parameters
    ----------
    sample_weight : dask.array.Array of shape (n_samples,), float or None
        Aligned with ``X``
        (:func:`~sklearn_cgmlp._dask.validation.check_X_y`); a number weighs
        every sample alike.
    X : dask.array.Array
        The data, for the row chunks.
    dtype : dtype
        dtype of the objective.
    extra : dask.array.Array of shape (n_samples,), default=None
        Class weights (:func:`class_sample_weight`).

    Returns
    -------
    sample_weight : dask.array.Array of shape (n_samples,) in ``dtype``, or None
        None when there are no weights.
    """
    import dask.array as da

    client = get_client()
    if isinstance(sample_weight, Real):
        sample_weight = da.full(X.shape[0], float(sample_weight), chunks=X.chunks[0])
    if sample_weight is not None:
        if sample_weight.dtype.kind not in "biuf":
            raise ValueError(
                f"sample_weight must hold numbers, got dtype {sample_weight.dtype}."
            )
        sample_weight = sample_weight.astype(np.float64)
    # Everything the reductions below read is persisted first, and once:
    # see encode_regression_targets.
    sample_weight, extra = _persist(client, sample_weight, extra)
    weights = sample_weight
    if extra is not None:
        weights = extra if weights is None else weights * extra
    if weights is None:
        return None
    weights, in_dtype = _persist(client, weights, weights.astype(dtype))
    user = sample_weight if sample_weight is not None else da.ones(1, chunks=1)
    given = (
        weights
        if extra is None or sample_weight is None
        else (da.minimum(sample_weight, extra))
    )
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        stats = _compute(
            da.isnan(user).any(),
            da.isinf(user).any(),
            user.min(),
            user.max(),
            da.isfinite(weights).all() & da.isfinite(in_dtype).all(),
            weights.max(),
            (given > 0).any(),
            in_dtype.sum(dtype=np.float64),
            in_dtype.max(),
        )
    nan, inf, user_min, user_max = stats[:4]
    finite, largest, any_positive, total, largest_in_dtype = stats[4:]
    if sample_weight is not None:
        # First the checks of the installed scikit-learn's _check_sample_weight,
        # in its order and words: it checks a stand-in with what the weights
        # have (NaN, infinity, their smallest and largest values).
        stand_in = [v for v, has in ((np.nan, nan), (np.inf, inf)) if has]
        stand_in = np.array([*stand_in, user_min, user_max], dtype=np.float64)
        _check_sample_weight(
            stand_in,
            np.empty((len(stand_in), 0)),
            dtype=np.float64,
            ensure_non_negative=True,
        )
    what = "sample_weight" + (" times class_weight" if extra is not None else "")
    refuse_bad_weights(
        what,
        dtype,
        finite=bool(finite),
        largest=float(largest),
        any_positive=bool(any_positive),
        total=float(total),
        largest_in_dtype=float(largest_in_dtype),
    )
    return in_dtype
