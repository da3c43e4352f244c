"""A validation set given to fit (``X_val``, ``y_val``, ``sample_weight_val``).

As in HistGradientBoosting (scikit-learn 1.7+), a validation set given to fit
replaces the early-stopping split of the training data. It is checked as the
training data are (:func:`check_arguments` the arguments,
:func:`local_validation` data in memory or on a device,
:meth:`sklearn_cgmlp._dask.data.DaskData.given_validation` data on a cluster,
:func:`validation_targets` their labels or targets and weights, on the
host), and :func:`check_given_validation` refuses one on which the
early-stopping score cannot act.
"""

from typing import Any, NamedTuple

import numpy as np
from sklearn.utils.validation import _check_y, validate_data

from ._dask.detect import is_dask_collection
from ._ops import detached, float_dtypes, numpy_dtype, ops_of, to_host
from ._weights import check_weights


class Validation(NamedTuple):
    """The validation set of early stopping: ``X`` and ``sample_weight``
    (None: all ones) where the data lives, the labels or targets ``y`` as
    scikit-learn metrics take them, and ``Y`` encoded as the loss takes them
    (where the data lives, or lazily on a cluster)."""

    X: Any
    y: Any
    Y: Any
    sample_weight: Any


def computed(a):
    """A lazy (Dask) array computed; anything else unchanged."""
    return a.compute() if is_dask_collection(a) else a


def check_arguments(early_stopping, X_val, y_val, sample_weight_val):
    """Whether a validation set is given to fit; refuse incomplete ones,
    and one given without early stopping (HistGradientBoosting's errors)."""
    if X_val is None and y_val is None:
        if sample_weight_val is not None:
            raise ValueError(
                "sample_weight_val is provided, but X_val and y_val were not provided."
            )
        return False
    if y_val is None:
        raise ValueError("X_val is provided, but y_val was not provided.")
    if X_val is None:
        raise ValueError("y_val is provided, but X_val was not provided.")
    if not early_stopping:
        raise ValueError(
            "X_val and y_val are passed to fit while at the same time "
            "early_stopping is False. When passing X_val and y_val to fit, "
            "early_stopping should be set to True."
        )
    return True


def local_validation(data, proxy, X_val, y_val, sample_weight_val, *, targets):
    """The validation set given to fit for the in-memory (or on-device)
    training ``data``, validated as they were (the features ``proxy`` saw,
    the labels or outputs of ``y``), in ``X``'s dtype and namespace: a
    :class:`Validation`."""
    ops = data.ops
    X_val, y_val = detached(X_val), detached(y_val)
    sample_weight_val = detached(sample_weight_val)
    if is_dask_collection(X_val) or ops_of(X_val) != ops:
        raise ValueError(
            "X_val must be data of the kind X is (NumPy or SciPy data, or "
            "arrays of X's namespace and device under array API dispatch), "
            f"got {type(X_val).__name__}."
        )
    with np.errstate(over="ignore", invalid="ignore"):
        X_val = validate_data(
            proxy,
            X_val,
            accept_sparse=["csr", "csc"] if ops.is_numpy else False,
            dtype=float_dtypes(ops),
            reset=False,
        )
    if X_val.dtype != data.X.dtype:  # float64 X_val for a float32 fit
        X_val = ops.astype(X_val, data.X.dtype)
    y_val, Y_val, sw_val = validation_targets(
        proxy, y_val, sample_weight_val, X_val.shape[0],
        targets=targets, fitted=data.fitted, dtype=numpy_dtype(data.X.dtype),
    )  # fmt: skip
    if not ops.is_numpy:
        Y_val = ops.from_numpy(Y_val, data.X.dtype)
        if sw_val is not None:
            sw_val = ops.from_numpy(sw_val, data.X.dtype)
    return Validation(X_val, y_val, Y_val, sw_val)


def validation_targets(proxy, y_val, sample_weight_val, n_rows, *, targets,
                       fitted, dtype):  # fmt: skip
    """Host ``(y_val, Y_val, sample_weight_val)`` of a validation set of
    ``n_rows`` given to fit: ``y_val`` checked as scikit-learn checks ``y``
    and encoded as the training targets (``fitted``) were, in ``dtype``; the
    weights checked as ``sample_weight`` (None if not given). Shared by the
    data in memory and on a cluster."""
    y_val = _check_y(
        to_host(computed(y_val)),
        multi_output=True,
        y_numeric=targets.y_numeric,
        estimator=proxy,
    )
    if y_val.shape[0] != n_rows:
        raise ValueError(  # scikit-learn's check_consistent_length
            "Found input variables with inconsistent numbers of samples: "
            f"{[n_rows, y_val.shape[0]]}"
        )
    Y_val = targets.encode_validation(y_val, fitted, dtype)
    sample_weight_val = computed(sample_weight_val)  # a Dask array: its values
    sample_weight_val = check_weights(
        sample_weight_val, n_rows, None, dtype, name="sample_weight_val"
    )
    if y_val.ndim == 2 and y_val.shape[1] == 1:
        y_val = y_val[:, 0]
    return y_val, Y_val, sample_weight_val


def check_given_validation(validation, needs):
    """Refuse a validation set given to fit on which the early-stopping score
    is undefined or cannot tell iterations apart (``needs``)."""
    weights = to_host(computed(validation.sample_weight))
    n_rows = validation.X.shape[0]
    positive = np.ones(n_rows, dtype=bool) if weights is None else weights > 0
    n_positive = int(np.count_nonzero(positive))
    if n_positive < needs.samples:
        raise ValueError(
            f"{needs.name} needs at least {needs.samples} validation samples of "
            f"positive weight, and X_val, y_val and sample_weight_val give "
            f"{n_positive}. Give more validation samples."
        )
    if needs.varying_targets:
        values = np.asarray(to_host(computed(validation.y)))[positive]
        values = values.reshape(values.shape[0], -1)
        if not np.any(values != values[:1]):
            raise ValueError(
                f"{needs.name} is constant on equal targets, and the validation "
                "samples of positive weight given to fit (y_val) all have the "
                f"target {values[0].tolist()}: early stopping could not act. "
                "Give validation samples whose targets differ."
            )
