"""The training data of a fit on a Dask cluster: validation, targets, weights.

:meth:`DaskData.prepare` is what
:meth:`sklearn_cgmlp._data.TrainingData.prepare` is for memory: validation,
target encoding and weights, but with every row-sized array persisted on the
workers once and only small reductions coming to the client. Its objective is
a :class:`~sklearn_cgmlp._dask.objective.DaskObjective`: one round of
communication per evaluation, the solver on the client.

The functions below mirror the in-memory checks and messages of
:mod:`sklearn_cgmlp._data` and :mod:`sklearn_cgmlp._targets`. Everything
row-sized stays a lazy Dask array computed on the workers; only small
reductions (classes, class counts, weight statistics, finiteness) come to the
client.

Persist ``X``, ``y`` and ``sample_weight`` (``client.persist``) right after
:func:`check_X_y`: the reductions here and the objective then read the
workers' memory instead of running the input graphs again.
"""

import math
from functools import singledispatch
from numbers import Real

import numpy as np
from sklearn.utils import assert_all_finite, check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
)

from .._data import (
    ACCURACY,
    check_split_sizes,
    refuse_bad_weights,
    refuse_unusable_parts,
    refuse_weight_total,
)
from .._targets import ClassificationTargets, RegressionTargets
from . import is_dask_collection
from .objective import DaskObjective, get_client


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


def check_X_y(X, y, sample_weight=None, *, multi_output=True, estimator_name=None):
    """:func:`check_X`, then ``y`` and ``sample_weight`` aligned with it.

    A 2-D ``y`` is kept for multilabel and multi-output targets when
    ``multi_output``; a column vector becomes 1-D. ``sample_weight`` may be a
    scalar, None or a 1-D Dask array (not yet checked for its values: see
    :func:`check_sample_weight`).

    Returns
    -------
    X, y, sample_weight : dask.array.Array (sample_weight may be None)
    """
    X = check_X(X, estimator_name=estimator_name)
    y = check_rows(y, X, name="y", ndim=(1, 2) if multi_output else (1,))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if sample_weight is not None and not isinstance(sample_weight, Real):
        sample_weight = check_rows(sample_weight, X, name="sample_weight", ndim=(1,))
    return X, y, sample_weight


def _compute(*values):
    import dask

    return dask.compute(*values)


# ---------------------------------------------------------------- targets


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
        (validated by :func:`check_X_y`).
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
    finite, smallest = _compute(da.isfinite(Y).all(), Y.min())
    if not finite:
        (largest,) = _compute(abs(y).max())
        RegressionTargets.refuse_overflow(largest, dtype)
    output.check_targets(smallest)
    return Y


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

    Mirrors :func:`sklearn_cgmlp._data.check_weights`: the
    product is formed in float64 and must be finite, non-negative, not all
    zero, with a finite sum, and representable in ``dtype``; one small
    reduction computes what the checks need.

    Parameters
    ----------
    sample_weight : dask.array.Array of shape (n_samples,), float or None
        Aligned with ``X`` (:func:`check_X_y`); a number weighs every sample
        alike.
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


# ---------------------------------------------------------- early stopping


def _validation_counts(rows, n_val):
    """Validation rows per block: proportional, remainders to the largest
    fractional parts (ties to the first blocks)."""
    n = sum(rows)
    quotas = [n_val * r / n for r in rows]
    counts = [int(q) for q in quotas]
    order = sorted(range(len(rows)), key=lambda b: (counts[b] - quotas[b], b))
    for b in order[: n_val - sum(counts)]:
        counts[b] += 1
    return counts


def _part(block, seed, counts, validation, block_id=None):
    b = block_id[0]
    rng = np.random.default_rng([seed, b])
    mask = np.zeros(block.shape[0], dtype=bool)
    mask[rng.choice(block.shape[0], counts[b], replace=False)] = True
    return block[mask if validation else ~mask]


def split_validation(
    arrays, validation_fraction, random_state, *, client=None, needs=ACCURACY
):
    """Training and validation parts of aligned Dask arrays, persisted.

    Each block sets aside a random selection of its rows, as many as its
    share of ``ceil(validation_fraction * n_samples)``; rows keep their
    order. The split is random within blocks, proportional across them, and
    not stratified by class. It depends on ``random_state`` and the row
    chunks only, so it is the same on every cluster.

    Parameters
    ----------
    arrays : list of dask.array.Array or None
        Arrays with the same row chunks (X, y, Y, sample_weight...); None
        entries stay None.
    validation_fraction : float
        Fraction of the samples set aside, in (0, 1).
    random_state : int, RandomState instance or None
        Seeds the selection (one draw from it).
    client : distributed.Client, default=None
        Where to persist the parts.
    needs : ScoreNeeds, default=ACCURACY
        What the early-stopping score needs of the validation part
        (:class:`sklearn_cgmlp._data.ScoreNeeds`): a split with too few
        validation samples for it is refused, as in memory.

    Returns
    -------
    train, validation : list of dask.array.Array or None
        Both persisted, in the order of ``arrays``.
    """
    client = get_client(client)
    first = next(a for a in arrays if a is not None)
    rows = [int(r) for r in first.chunks[0]]
    n_samples = sum(rows)
    check_split_sizes(
        n_samples, validation_fraction, val_min=needs.samples,
        why_val=f"that {needs.name} needs",
    )  # fmt: skip
    n_val = math.ceil(validation_fraction * n_samples)
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    val_counts = tuple(_validation_counts(rows, n_val))
    train_counts = tuple(r - v for r, v in zip(rows, val_counts))
    parts = ([], [])
    for array in arrays:
        for validation, counts in ((False, train_counts), (True, val_counts)):
            parts[validation].append(
                None
                if array is None
                else array.map_blocks(
                    _part,
                    seed,
                    val_counts,
                    validation,
                    chunks=(counts, *array.chunks[1:]),
                    dtype=array.dtype,
                )
            )
    flat = [*parts[0], *parts[1]]
    persisted = iter(client.persist([a for a in flat if a is not None]))
    flat = [None if a is None else next(persisted) for a in flat]
    return flat[: len(arrays)], flat[len(arrays) :]


def check_parts(train, val, needs):
    """:func:`sklearn_cgmlp._data.refuse_unusable_parts` for the persisted
    parts ``[X, y, Y, sample_weight]`` of :func:`split_validation`, from
    one small reduction."""
    import dask.array as da

    _, _, _, sw_train = train
    _, y_val, _, sw_val = val
    n_train, n_val = train[0].shape[0], val[0].shape[0]
    stats = {}
    if sw_train is not None:
        positive = sw_val > 0
        stats.update(
            train_positive=da.count_nonzero(sw_train),
            val_positive=da.count_nonzero(positive),
            train_total=sw_train.sum(dtype=np.float64),
            train_largest=sw_train.max(),
        )
    else:
        positive = da.ones(n_val, dtype=bool, chunks=(y_val.chunks[0],))
    if needs.varying_targets:
        y2d = (y_val[:, None] if y_val.ndim == 1 else y_val).astype(np.float64)
        mask = positive[:, None]
        stats.update(
            low=da.where(mask, y2d, np.inf).min(axis=0),
            high=da.where(mask, y2d, -np.inf).max(axis=0),
        )
    values = dict(zip(stats, _compute(*stats.values())))
    val_positive = int(values.get("val_positive", n_val))
    varying, constant = True, None
    if needs.varying_targets and val_positive:
        varying = bool(np.any(values["low"] != values["high"]))
        low = values["low"]
        constant = None if varying else (low[0] if low.size == 1 else low).tolist()
    refuse_unusable_parts(
        needs,
        train_positive=int(values.get("train_positive", n_train)),
        val_positive=val_positive,
        val_varying=varying,
        constant=constant,
    )
    if sw_train is not None:
        refuse_weight_total(
            "of the early-stopping training part",
            sw_train.dtype,
            float(values["train_total"]),
            float(values["train_largest"]),
        )


# ------------------------------------------------------------ training data


def _persist(client, *arrays):
    """Persist the arrays that are not None, once, on the workers."""
    present = [a for a in arrays if a is not None]
    persisted = iter(client.persist(present) if present else ())
    return [None if a is None else next(persisted) for a in arrays]


class DaskData:
    """Training data persisted on a Dask cluster (see the module docstring).

    ``X``, ``y``, ``Y`` and ``sample_weight`` are Dask arrays with the same
    row chunks; ``fitted`` holds the fitted attributes that describe the
    targets.
    """

    def __init__(self, X, y, Y, sample_weight, *, fitted, client):
        self.X, self.y, self.Y = X, y, Y
        self.sample_weight = sample_weight
        self.fitted = fitted
        self.client = client

    @property
    def dtype(self):
        return self.X.dtype

    @classmethod
    def prepare(cls, proxy, X, y, sample_weight, *, targets, warm):
        """Validated, persisted and encoded training data; ``proxy`` is the
        estimator view that records the features seen, ``targets`` the face's
        targets (:mod:`sklearn_cgmlp._targets`)."""
        client = get_client()
        name = type(proxy).__name__
        # Feature names and their number, as validate_data records them
        # (a Dask DataFrame has columns; conversion drops them).
        _check_feature_names(proxy, feature_names_of(X), reset=not warm)
        X, y, sample_weight = check_X_y(X, y, sample_weight, estimator_name=name)
        _check_n_features(proxy, X, reset=not warm)
        X, y, sample_weight = _persist(client, X, y, sample_weight)
        check_finite(X, y, estimator_name=name)
        Y, fitted, extra = encode_targets(targets, y, X.dtype)
        sample_weight = check_sample_weight(sample_weight, X, X.dtype, extra=extra)
        Y, sample_weight = _persist(client, Y, sample_weight)
        return cls(X, y, Y, sample_weight, fitted=fitted, client=client)

    def split(self, fraction, rng, needs):
        """The training part, and ``(X, y, sample_weight)`` for validation,
        both persisted on the cluster (random within blocks, not stratified).

        ``needs`` (a :class:`~sklearn_cgmlp._data.ScoreNeeds`) is what the
        early-stopping score needs of the validation part; parts that cannot
        give it are refused as in memory, from one small reduction.
        """
        train, val = split_validation(
            [self.X, self.y, self.Y, self.sample_weight], fraction, rng,
            client=self.client, needs=needs,
        )  # fmt: skip
        check_parts(train, val, needs)
        X, y, Y, sample_weight = train
        part = DaskData(X, y, Y, sample_weight, fitted=self.fitted, client=self.client)
        return part, (val[0], val[1], val[3])

    def magnitudes(self):
        """``(features, targets, weights)`` as
        :meth:`sklearn_cgmlp._data.TrainingData.magnitudes` (one reduction)."""
        stats = [abs(self.X).max(), abs(self.Y).max()]
        if self.sample_weight is not None:
            stats.append(self.sample_weight.max())
        with np.errstate(over="ignore", invalid="ignore"):
            values = [float(v) for v in _compute(*stats)]
        return values[0], values[1], values[2] if len(values) > 2 else None

    def objective(self, loss, *, chunk_size):
        """A :class:`~sklearn_cgmlp._dask.objective.DaskObjective` of ``loss``
        over this data."""
        return DaskObjective(
            self.X, self.Y, loss=loss, sample_weight=self.sample_weight,
            chunk_size=chunk_size, client=self.client,
        )  # fmt: skip
