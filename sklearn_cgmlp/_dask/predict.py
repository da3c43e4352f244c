"""Predictions and scores on Dask arrays, lazily, block by block.

The fitted weights are NumPy arrays on the client; they enter a prediction's
graph once, as one key every block depends on. Scores come to the client as
block-wise sums, never as row-sized arrays.
"""

import numpy as np
from sklearn.utils import assert_all_finite

from .._loss import forward
from . import is_dask_collection
from .data import _as_dask_array, _compute, check_X

# ---------------------------------------------------------------- predict


def _logits(X, params, activation, estimator_name):
    if estimator_name is not None:
        # In memory, validate_data refuses NaN and infinity in X; here each
        # block does, in the same words, when it is computed.
        assert_all_finite(X, input_name="X", estimator_name=estimator_name)
    return forward(params[0], params[1], X, activation)


def predict_logits_lazy(X, coefs, intercepts, activation, estimator_name=None):
    """Output logits for a Dask ``X``, lazily, block by block.

    Parameters
    ----------
    X : dask array or DataFrame of shape (n_samples, n_features)
        Input data (unknown row chunks are fine).
    coefs, intercepts : list of ndarray
        Fitted weights.
    activation : str
        Hidden activation.
    estimator_name : str, default=None
        The estimator whose prediction this is. If given, every block checks
        that its rows are finite when it is computed, and raises
        scikit-learn's ``ValueError`` ("Input X contains NaN.") naming it, as
        prediction in memory does at once; None checks nothing (data that
        were checked already, as validation parts of a fit).

    Returns
    -------
    Z : dask.array.Array of shape (n_samples, n_outputs)
        Logits, as :func:`sklearn_cgmlp._loss.forward` returns them. The
        weights enter the graph once, as one key all blocks depend on.
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
    n_outputs = coefs[-1].shape[1]
    return X.map_blocks(
        _logits,
        params,
        activation,
        estimator_name,
        chunks=(X.chunks[0], (n_outputs,)),
        dtype=dtype,
        meta=np.empty((0, n_outputs), dtype=dtype),
    )


# ------------------------------------------------------------------ scores


def _aligned_targets(y, pred, sample_weight):
    import dask.array as da

    y = _as_dask_array(y, "y") if is_dask_collection(y) else da.asarray(y)
    y = y.rechunk({0: pred.chunks[0]})
    if sample_weight is not None:
        sample_weight = (
            _as_dask_array(sample_weight, "sample_weight")
            if is_dask_collection(sample_weight)
            else da.asarray(sample_weight)
        ).rechunk(pred.chunks[0])
    return y, sample_weight


def accuracy(pred, y, sample_weight=None):
    """Accuracy of lazy predictions, from block-wise sums (a float).

    Subset accuracy for multilabel predictions, as
    :func:`sklearn.metrics.accuracy_score`.
    """
    import dask.array as da

    y, sample_weight = _aligned_targets(y, pred, sample_weight)
    match = pred == y
    if match.ndim == 2:
        match = match.all(axis=1)
    (score,) = _compute(da.average(match, weights=sample_weight))
    return float(score)


def r2(pred, y, sample_weight=None):
    """R² of lazy predictions, averaged over outputs, from block-wise sums."""
    import dask.array as da

    y, sample_weight = _aligned_targets(y, pred, sample_weight)
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
    residual, spread = _compute(residual, spread)
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
