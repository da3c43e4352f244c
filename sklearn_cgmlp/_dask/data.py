"""The training data of a fit on a Dask cluster.

:meth:`DaskData.prepare` is what
:meth:`sklearn_cgmlp._data.TrainingData.prepare` is for memory: validation
(:mod:`~sklearn_cgmlp._dask.validation`), target encoding and weights
(:mod:`~sklearn_cgmlp._dask.targets`), with every row-sized array persisted on
the workers once and only small reductions coming to the client. Its objective
is a :class:`~sklearn_cgmlp._dask.objective.DaskObjective`: one round of
communication per evaluation, the solver on the client. :func:`split_validation`
sets aside the early-stopping validation rows, block by block.

``X``, ``y`` and ``sample_weight`` are persisted (``client.persist``) right
after :func:`~sklearn_cgmlp._dask.validation.check_X_y`: the reductions and the
objective then read the workers' memory instead of running the input graphs
again.
"""

import math

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_feature_names, _check_n_features

from .._data import ACCURACY, check_split_sizes, refuse_unusable_parts
from .._validation import Validation, validation_targets
from .._weights import refuse_weight_total
from .detect import is_dask_collection
from .objective import DaskObjective, get_client
from .targets import check_sample_weight, encode_targets, warns_on_column
from .validation import (
    _compute,
    _persist,
    check_finite,
    check_X,
    check_X_y,
    extreme,
    feature_names_of,
)

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
            low=extreme(da.where(mask, y2d, np.inf), "min", axis=0),
            high=extreme(da.where(mask, y2d, -np.inf), "max", axis=0),
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
        X, y, sample_weight = check_X_y(
            X, y, sample_weight, estimator_name=name,
            warn_column=warns_on_column(targets),
        )  # fmt: skip
        _check_n_features(proxy, X, reset=not warm)
        X, y, sample_weight = _persist(client, X, y, sample_weight)
        check_finite(X, y, estimator_name=name)
        Y, fitted, extra = encode_targets(targets, y, X.dtype)
        sample_weight = check_sample_weight(sample_weight, X, X.dtype, extra=extra)
        Y, sample_weight = _persist(client, Y, sample_weight)
        return cls(X, y, Y, sample_weight, fitted=fitted, client=client)

    def split(self, fraction, rng, needs):
        """The training part, and a :class:`~sklearn_cgmlp._validation.Validation`
        set, both persisted on the cluster (random within blocks, not
        stratified).

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
        return part, Validation(*val)

    def given_validation(self, proxy, X_val, y_val, sample_weight_val, *, targets):
        """The validation set given to fit: ``X_val`` a Dask collection
        checked as ``X`` was (feature names and number, finiteness) and
        persisted in ``X``'s dtype; ``y_val`` and ``sample_weight_val``
        (one value per validation row) computed to the client and checked
        there, as in memory. A :class:`~sklearn_cgmlp._validation.Validation`."""
        if not is_dask_collection(X_val):
            raise ValueError(
                "X_val must be a Dask array or DataFrame when X is one, got "
                f"{type(X_val).__name__}."
            )
        name = type(proxy).__name__
        _check_feature_names(proxy, feature_names_of(X_val), reset=False)
        X_val = check_X(X_val, name="X_val", estimator_name=name)
        _check_n_features(proxy, X_val, reset=False)
        (X_val,) = _persist(self.client, X_val.astype(self.X.dtype))
        check_finite(X_val, estimator_name=name)
        y_val, Y_val, sw_val = validation_targets(
            proxy, y_val, sample_weight_val, int(X_val.shape[0]),
            targets=targets, fitted=self.fitted, dtype=self.X.dtype,
        )  # fmt: skip
        return Validation(X_val, y_val, Y_val, sw_val)

    def magnitudes(self):
        """``(features, targets, weights)`` as
        :meth:`sklearn_cgmlp._data.TrainingData.magnitudes` (one reduction)."""
        stats = [extreme(abs(self.X), "max"), extreme(abs(self.Y), "max")]
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
