"""Predictions and scores on Dask arrays, lazily, block by block.

The fitted weights are NumPy arrays on the client; they enter a prediction's
graph once, as one key every block depends on. Scores come to the client as
block-wise sums, never as row-sized arrays.
"""

import numpy as np
from sklearn.utils import assert_all_finite

from .._loss import forward
from .detect import is_dask_collection
from .validation import _as_dask_array, _compute, check_X

# ---------------------------------------------------------------- predict


def _logits(X, params, activation, estimator_name, output=True):
    if estimator_name is not None:
        # In memory, validate_data refuses NaN and infinity in X; here each
        # block does, in the same words, when it is computed.
        assert_all_finite(X, input_name="X", estimator_name=estimator_name)
    return forward(params[0], params[1], X, activation, output=output)


def predict_logits_lazy(
    X, coefs, intercepts, activation, estimator_name=None, output=True
):
    """Output logits for a Dask ``X``, lazily, block by block.

    Parameters
    ----------
    X : dask array or DataFrame of shape (n_samples, n_features)
        Input data (unknown row chunks are fine).
    coefs, intercepts : list of ndarray
        Fitted weights.
    activation : str or tuple of str
        Hidden activation, or one per hidden layer.
    estimator_name : str, default=None
        The estimator whose prediction this is. If given, every block checks
        that its rows are finite when it is computed, and raises
        scikit-learn's ``ValueError`` ("Input X contains NaN.") naming it, as
        prediction in memory does at once; None checks nothing (data that
        were checked already, as validation parts of a fit).
    output : bool, default=True
        False stops at the last hidden layer (its activations, for
        ``transform``).

    Returns
    -------
    Z : dask.array.Array of shape (n_samples, n_outputs)
        Logits (or hidden activations), as
        :func:`sklearn_cgmlp._loss.forward` returns them. The weights enter
        the graph once, as one key all blocks depend on.
    """
    import dask

    X = check_X(X, known_rows=False, estimator_name=estimator_name)
    if X.shape[1] != coefs[0].shape[0]:
        raise ValueError(
            f"X has {X.shape[1]} features, but the model is expecting "
            f"{coefs[0].shape[0]} features as input."
        )
    params = dask.delayed((list(coefs), list(intercepts)), pure=True)
    dtype = np.result_type(X.dtype, *coefs)
    n_outputs = coefs[-1].shape[1 if output else 0]
    return X.map_blocks(
        _logits,
        params,
        activation,
        estimator_name,
        output,
        chunks=(X.chunks[0], (n_outputs,)),
        dtype=dtype,
        meta=np.empty((0, n_outputs), dtype=dtype),
    )


# ------------------------------------------------------------------ scores


def _aligned_targets(y, pred, sample_weight):
    """``y`` and ``sample_weight`` as Dask arrays chunked as ``pred``, after
    scikit-learn's check that they describe as many samples."""
    import dask.array as da

    def as_dask(a, name):
        return _as_dask_array(a, name) if is_dask_collection(a) else da.asarray(a)

    y = as_dask(y, "y")
    if sample_weight is not None:
        sample_weight = as_dask(sample_weight, "sample_weight")
    lengths = [a.shape[0] for a in (y, pred, sample_weight) if a is not None]
    if not any(np.isnan(n) for n in lengths) and len(set(lengths)) > 1:
        raise ValueError(  # scikit-learn's check_consistent_length
            "Found input variables with inconsistent numbers of samples: "
            f"{[int(n) for n in lengths]}"
        )
    y = y.rechunk({0: pred.chunks[0]})
    if sample_weight is not None:
        sample_weight = sample_weight.rechunk(pred.chunks[0])
    return y, sample_weight


def _non_finite(y, sample_weight):
    """Lazy flags: NaN in ``y``, infinity in ``y``, the same for
    ``sample_weight`` (False where it is None or not of floats)."""
    import dask.array as da

    flags = []
    for a in (y, sample_weight):
        floats = a is not None and a.dtype.kind in "fc"
        flags += [da.isnan(a).any(), da.isinf(a).any()] if floats else [False, False]
    return flags


def _refuse_non_finite(metric, flags):
    """Raise what the scikit-learn ``metric`` raises in memory for targets or
    weights with what ``flags`` (:func:`_non_finite`, computed) found: the
    metric itself, on two samples standing for them."""
    y_nan, y_inf, sw_nan, sw_inf = (bool(f) for f in flags)
    if not (y_nan or y_inf or sw_nan or sw_inf):
        return
    first = np.nan if y_nan else (np.inf if y_inf else 0.0)
    weight = np.nan if sw_nan else (np.inf if sw_inf else 1.0)
    metric(np.array([first, 0.0]), np.zeros(2), sample_weight=np.array([weight, 1.0]))


def accuracy(pred, y, sample_weight=None):
    """Accuracy of lazy predictions, from block-wise sums (a float).

    Subset accuracy for multilabel predictions, as
    :func:`sklearn.metrics.accuracy_score`, whose errors it raises for
    non-finite labels or weights.
    """
    import dask.array as da
    from sklearn.metrics import accuracy_score

    y, sample_weight = _aligned_targets(y, pred, sample_weight)
    match = pred == y
    if match.ndim == 2:
        match = match.all(axis=1)
    score, *flags = _compute(
        da.average(match, weights=sample_weight), *_non_finite(y, sample_weight)
    )
    _refuse_non_finite(accuracy_score, flags)
    return float(score)


def r2(pred, y, sample_weight=None):
    """R² of lazy predictions, averaged over outputs, from block-wise sums
    (:func:`sklearn.metrics.r2_score`'s errors for non-finite targets or
    weights)."""
    import dask.array as da
    from sklearn.metrics import r2_score

    y, sample_weight = _aligned_targets(y, pred, sample_weight)
    flags = _non_finite(y, sample_weight)
    y = y.astype(np.float64)
    if y.ndim == 1:
        y, pred = y[:, None], pred[:, None]
    w = (
        da.ones(y.shape[0], chunks=y.chunks[0])
        if sample_weight is None
        else (sample_weight.astype(np.float64))
    )
    w = w[:, None]
    total = w.sum()
    mean = (w * y).sum(axis=0) / total
    residual = (w * (y - pred) ** 2).sum(axis=0)
    spread = (w * (y - mean) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", over="ignore"):
        residual, spread, *flags = _compute(residual, spread, *flags)
    _refuse_non_finite(r2_score, flags)
    # As r2_score: a constant target scores 1 if predicted exactly, else 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(
            spread > 0, 1 - residual / spread, np.where(residual == 0, 1.0, 0.0)
        )
    return float(np.mean(scores))


def map_rows(Z, func, *, dtype, n_columns=None):
    """``func`` over the row blocks of the lazy logits ``Z``, lazily
    (``n_columns`` None: ``func`` returns one value per row)."""
    if n_columns is None:
        return Z.map_blocks(
            func, dtype=dtype, drop_axis=1, chunks=(Z.chunks[0],),
            meta=np.empty((0,), dtype=dtype),
        )  # fmt: skip
    return Z.map_blocks(
        func, dtype=dtype, chunks=(Z.chunks[0], (n_columns,)),
        meta=np.empty((0, n_columns), dtype=dtype),
    )  # fmt: skip
