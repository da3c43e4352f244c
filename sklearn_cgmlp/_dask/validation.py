"""Dask inputs validated as scikit-learn validates them in memory.

The checks and messages mirror :func:`sklearn.utils.validation.validate_data`
and :mod:`sklearn_cgmlp._data`; where scikit-learn's words depend on its
version, its own checks run on a small stand-in that has the defect of the
lazy input. Nothing row-sized comes to the client: shapes and dtypes are
checked on the graph, values by small reductions on the workers.
"""

import math
from numbers import Real

import numpy as np
from sklearn.utils import assert_all_finite

from .._targets import warn_column_vector
from .detect import is_dask_collection


def feature_names_of(X):
    """What scikit-learn reads the feature names of ``X`` from.

    scikit-learn reads none from a Dask DataFrame: for one, an empty pandas
    DataFrame with its columns (so that names are recorded and checked by
    scikit-learn's own rules, as for pandas); ``X`` itself otherwise.
    """
    if is_dask_collection(X) and getattr(X, "ndim", None) == 2:
        columns = getattr(X, "columns", None)
        if columns is not None:
            import pandas as pd

            return pd.DataFrame(columns=columns)
    return X


def _as_dask_array(obj, name):
    """A Dask array from a Dask array, DataFrame or Series."""
    import dask.array as da

    if isinstance(obj, da.Array):
        return obj
    if hasattr(obj, "to_dask_array") and is_dask_collection(obj):
        # The partitions' lengths make the row chunks known: one pass over an
        # unpersisted frame, a cheap one over a persisted frame.
        return obj.to_dask_array(lengths=True)
    raise TypeError(
        f"{name} must be a Dask array or DataFrame when fitting on a cluster, got "
        f"{type(obj).__name__}. Dask bags and delayed objects are not supported; "
        "NumPy arrays are fitted in memory."
    )


def _check_known_rows(array, name):
    if any(math.isnan(c) for c in array.chunks[0]):
        raise ValueError(
            f"{name} has unknown row-chunk sizes (as after boolean indexing or "
            f"from a DataFrame). Compute them first: {name} = "
            f"{name}.compute_chunk_sizes()."
        )


def _sklearn_error(array, estimator_name):
    """scikit-learn's own ``check_array`` error for a small stand-in
    ``array`` that has the defect of the (lazy) input, so that messages are
    the installed scikit-learn's word for word."""
    from sklearn.utils import check_array

    check_array(
        array, dtype=(np.float64, np.float32), allow_nd=False,
        estimator=estimator_name,
    )  # fmt: skip


def check_X(X, *, name="X", known_rows=True, estimator_name=None):
    """A 2-D floating Dask array with one chunk along the columns.

    Parameters
    ----------
    X : dask array or dask DataFrame of shape (n_samples, n_features)
        Input data. A DataFrame is converted with
        ``to_dask_array(lengths=True)``.
    name : str, default="X"
        Name in messages.
    known_rows : bool, default=True
        Whether the row-chunk sizes must be known (fitting needs them,
        prediction does not).
    estimator_name : str, default=None
        The estimator named in scikit-learn's messages.

    Returns
    -------
    X : dask.array.Array
        float32 stays float32, every other dtype becomes float64 (lazily:
        strings and objects are converted on the workers, and fail there as
        NumPy's conversion fails in memory); chunks along the columns are
        merged into full rows.

    Raises
    ------
    ValueError
        For unknown row-chunk sizes (with the ``compute_chunk_sizes`` hint),
        a wrong number of dimensions, no rows or features, or complex data,
        in scikit-learn's words.
    """
    X = _as_dask_array(X, name)
    if X.ndim == 1:
        # scikit-learn's message, less the data it prints.
        raise ValueError(
            "Expected 2D array, got 1D array instead. Reshape your data either "
            "using array.reshape(-1, 1) if your data has a single feature or "
            "array.reshape(1, -1) if it contains a single sample."
        )
    if X.ndim != 2:
        _sklearn_error(np.empty((1,) * X.ndim), estimator_name)
    if known_rows:
        _check_known_rows(X, name)
        if X.shape[0] < 1:
            _sklearn_error(np.empty((0, X.shape[1])), estimator_name)
    if X.shape[1] < 1:
        rows = X.shape[0] if not math.isnan(X.shape[0]) else 1
        _sklearn_error(np.empty((rows, 0)), estimator_name)
    if X.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}.")
    if X.dtype.kind not in "biufOSU":
        raise ValueError(f"{name} must hold numbers, got dtype {X.dtype}.")
    if X.numblocks[1] > 1:
        # Each task needs whole rows: X_block @ W.
        X = X.rechunk({1: -1})
    return X.astype(np.float32 if X.dtype == np.float32 else np.float64)


def check_rows(array, X, *, name, ndim=(1, 2)):
    """``array`` (y or sample_weight) chunked along the rows as ``X``.

    Parameters
    ----------
    array : dask array, DataFrame or Series, or array-like
        One entry (or row of entries) per sample. An in-memory array (small
        next to ``X``) is split into ``X``'s row chunks and sent to the
        cluster with the graph.
    X : dask.array.Array
        The validated data (:func:`check_X`).
    name : str
        Name in messages.
    ndim : tuple of int, default=(1, 2)
        Numbers of dimensions allowed.

    Returns
    -------
    array : dask.array.Array
        Rechunked to ``X``'s row chunks (one chunk along other axes).
    """
    if not is_dask_collection(array):
        import dask.array as da

        array = np.asarray(array)
        if array.ndim >= 1 and array.shape[0] == X.shape[0]:
            array = da.from_array(array, chunks=(X.chunks[0], *array.shape[1:]))
        else:
            array = da.from_array(array)
    array = _as_dask_array(array, name)
    if array.ndim not in ndim:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, ndim))} dimension(s), got "
            f"{array.ndim}."
        )
    _check_known_rows(array, name)
    if array.shape[0] != X.shape[0]:  # scikit-learn's messages
        if name == "sample_weight":
            raise ValueError(
                f"sample_weight.shape == {array.shape}, expected {(X.shape[0],)}!"
            )
        raise ValueError(
            "Found input variables with inconsistent numbers of samples: "
            f"{[X.shape[0], array.shape[0]]}"
        )
    chunks = (X.chunks[0],) + tuple((n,) for n in array.shape[1:])
    return array if array.chunks == chunks else array.rechunk(chunks)


def check_X_y(X, y, sample_weight=None, *, multi_output=True, estimator_name=None,
              warn_column=False):  # fmt: skip
    """:func:`check_X`, then ``y`` and ``sample_weight`` aligned with it.

    A 2-D ``y`` is kept for multilabel and multi-output targets when
    ``multi_output``; a column vector becomes 1-D, with scikit-learn's
    DataConversionWarning where ``warn_column`` (a classifier's targets, as
    in memory: :func:`sklearn_cgmlp._targets.warn_column_vector`).
    ``sample_weight`` may be a scalar, None or a 1-D Dask array (not yet
    checked for its values: see
    :func:`sklearn_cgmlp._dask.targets.check_sample_weight`).

    Returns
    -------
    X, y, sample_weight : dask.array.Array (sample_weight may be None)
    """
    X = check_X(X, estimator_name=estimator_name)
    y = check_rows(y, X, name="y", ndim=(1, 2) if multi_output else (1,))
    if y.ndim == 2 and y.shape[1] == 1:
        if warn_column:
            warn_column_vector()
        y = y[:, 0]
    if sample_weight is not None and not isinstance(sample_weight, Real):
        sample_weight = check_rows(sample_weight, X, name="sample_weight", ndim=(1,))
    return X, y, sample_weight


def _compute(*values):
    import dask

    return dask.compute(*values)


# Dask's min and max of a 2-D array fail on a block of no rows (boolean
# filtering and compute_chunk_sizes() leave such blocks): their partial
# results are concatenated with the empty block's, of another shape. Each
# block is reduced first, to one row (``fill`` where it has none).


def _block_extreme(block, func, fill, axis):
    dtype = np.result_type(block.dtype, np.float32)  # floats, to hold ``fill``
    if axis is None:
        value = func(block) if block.size else fill
        return np.full((1,) * block.ndim, value, dtype=dtype)
    if block.shape[0]:
        return func(block, axis=0, keepdims=True).astype(dtype, copy=False)
    return np.full((1, *block.shape[1:]), fill, dtype=dtype)


def extreme(array, kind, axis=None):
    """The lazy ``array.max()`` (``kind`` "max") or ``array.min()`` ("min"),
    over all entries or, with ``axis=0``, per column, also where a block has
    no rows (the result of an array without entries is -inf for "max" and
    inf for "min")."""
    func, fill = {"max": (np.max, -np.inf), "min": (np.min, np.inf)}[kind]
    if axis not in (None, 0):
        raise ValueError(f"axis must be None or 0, got {axis}.")
    chunks = tuple(
        (1,) * len(c) if axis is None or i == 0 else c
        for i, c in enumerate(array.chunks)
    )
    dtype = np.result_type(array.dtype, np.float32)
    per_block = array.map_blocks(
        _block_extreme, func, fill, axis, chunks=chunks, dtype=dtype
    )
    return getattr(per_block, kind)(axis=axis)


def refuse_non_finite(nan, inf, dtype, *, input_name, estimator_name=None):
    """Raise the installed scikit-learn's error for an input that holds NaN
    (``nan``) or infinity (``inf``), word for word: its own check, run on a
    one-entry array of ``dtype`` that holds what the input holds."""
    if nan or inf:
        assert_all_finite(
            np.array([np.nan if nan else np.inf], dtype=dtype),
            input_name=input_name,
            estimator_name=estimator_name,
        )


def check_finite(X, y=None, *, estimator_name=None):
    """Raise scikit-learn's ValueError if ``X`` (or a numeric ``y``) holds
    NaN or infinity, as validate_data does in memory (one reduction)."""
    import dask.array as da

    arrays = {"X": X}
    if y is not None and y.dtype.kind in "fc":
        arrays["y"] = y
    checks = []
    for array in arrays.values():
        checks += [da.isnan(array).any(), da.isinf(array).any()]
    found = iter(_compute(*checks))
    for name, array in arrays.items():
        refuse_non_finite(
            next(found), next(found), array.dtype, input_name=name,
            estimator_name=estimator_name,
        )  # fmt: skip


def _persist(client, *arrays):
    """Persist the arrays that are not None, once, on the workers."""
    present = [a for a in arrays if a is not None]
    persisted = iter(client.persist(present) if present else ())
    return [None if a is None else next(persisted) for a in arrays]
