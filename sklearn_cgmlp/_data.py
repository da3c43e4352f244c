"""The training data of a fit, wherever it lives: host copies, weights, splits.

The data may be NumPy arrays (or sparse matrices, memory maps) or, with
scikit-learn's array API dispatch, arrays of another namespace on a device.
Labels and weights are checked on the host, where they are small; the rows of
``X`` and the encoded targets stay where they are.
"""

from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import validate_data

from ._diagnostics import feature_magnitude
from ._objective import ArrayAPIObjective, InMemoryObjective
from ._ops import array_ops, float_dtypes, numpy_dtype, to_host
from ._threads import BlasThreads
from ._validation import Validation, local_validation
from ._weights import check_weight_total, check_weights


class TrainingData:
    """The validated training data of a fit, where it lives.

    ``X``, ``Y`` (encoded targets) and ``sample_weight`` are NumPy data or
    arrays of the namespace of ``ops``; ``y`` (labels or targets, for scores
    and callbacks) is on the host. :class:`sklearn_cgmlp._dask.data.DaskData`
    is the same for data on a Dask cluster.
    """

    def __init__(self, X, y, Y, sample_weight, *, stratify, fitted, ops):
        self.X, self.y, self.Y = X, y, Y
        self.sample_weight = sample_weight
        self.stratify = stratify
        self.fitted = fitted
        self.ops = ops

    @property
    def dtype(self):
        return self.X.dtype

    @classmethod
    def prepare(cls, proxy, X, y, sample_weight, *, targets, warm, ops):
        """Validated training data in memory, or on a device under array API
        dispatch (everything follows X, of namespace ``ops``).

        ``proxy`` is the estimator view that records the features seen,
        ``targets`` the face's targets (:mod:`sklearn_cgmlp._targets`).
        """
        # scikit-learn's finiteness check sums X first; on huge finite values
        # that sum overflows and warns although the check then passes.
        with np.errstate(over="ignore", invalid="ignore"):
            X, y = validate_data(
                proxy,
                X,
                y,
                accept_sparse=["csr", "csc"] if ops.is_numpy else False,
                dtype=float_dtypes(ops),
                multi_output=True,
                y_numeric=targets.y_numeric,
                reset=not warm,
            )
        # Labels and weights are encoded and checked on the host.
        y = to_host(y)
        dtype = numpy_dtype(X.dtype)
        Y, stratify, fitted = targets.encode(y, dtype)
        sample_weight = check_weights(
            sample_weight, X.shape[0], targets.sample_weight(y), dtype
        )
        if not ops.is_numpy:
            Y = ops.from_numpy(Y, X.dtype)
            if sample_weight is not None:
                sample_weight = ops.from_numpy(sample_weight, X.dtype)
            fitted = _targets_on(fitted, ops)
        return cls(X, y, Y, sample_weight, stratify=stratify, fitted=fitted, ops=ops)

    def split(self, fraction, rng, needs):
        """The training part, and ``(X, y, sample_weight)`` for validation;
        ``needs`` (a :class:`ScoreNeeds`) is what the early-stopping score
        needs of the validation part."""
        train, validation = split_validation(
            self.X, self.y, self.Y, self.sample_weight,
            stratify=self.stratify, fraction=fraction, rng=rng, needs=needs,
        )  # fmt: skip
        return (
            TrainingData(*train, stratify=None, fitted=self.fitted, ops=self.ops),
            validation,
        )

    def given_validation(self, proxy, X_val, y_val, sample_weight_val, *, targets):
        """The validation set given to fit, validated as the training data
        was (:func:`sklearn_cgmlp._validation.local_validation`)."""
        return local_validation(
            self, proxy, X_val, y_val, sample_weight_val, targets=targets
        )

    def magnitudes(self):
        """``(features, targets, weights)``: the largest absolute values of
        ``X`` and of the encoded targets, and the largest sample weight (None
        without weights), for messages (a pass over the data)."""
        ops = self.ops
        weights = None
        if self.sample_weight is not None:
            weights = float(np.max(to_host(self.sample_weight)))
        return (
            feature_magnitude(self.X, ops),
            feature_magnitude(self.Y, ops),
            weights,
        )

    def objective(self, loss, *, chunk_size):
        """The objective of ``loss`` (an :class:`~sklearn_cgmlp._loss.MLPLoss`)
        over this data: in memory with NumPy's BLAS threads, or on the
        device."""
        if not self.ops.is_numpy:
            return ArrayAPIObjective(
                self.X, self.Y, loss=loss, sample_weight=self.sample_weight,
                chunk_size=chunk_size, ops=self.ops,
            )  # fmt: skip
        blas = BlasThreads()
        return InMemoryObjective(
            self.X, self.Y, loss=loss, sample_weight=self.sample_weight,
            chunk_size=chunk_size, n_threads=blas.numpy_threads, blas=blas,
        )  # fmt: skip


def _targets_on(fitted, ops):
    """Numeric ``classes_`` follow the data to its device."""
    classes = fitted.get("classes_")
    if classes is not None and classes.dtype.kind in "iuf":
        fitted = {**fitted, "classes_": ops.from_numpy(classes, None)}
    return fitted


def take_rows(A, rows):
    """Rows ``rows`` (host indices) of ``A``, in ``A``'s namespace."""
    if A is None or isinstance(A, np.ndarray) or sparse.issparse(A):
        return None if A is None else A[rows]
    ops = array_ops(A)
    return ops.xp.take(A, ops.from_numpy(rows, ops.xp.int64), axis=0)


class ScoreNeeds(NamedTuple):
    """What an early-stopping score needs of the validation part.

    ``name`` names the score in messages, ``samples`` is the number of
    validation samples of positive weight it needs, and ``varying_targets``
    whether their targets must not all be equal (R² of constant targets is 0
    or 1 whatever the model, so it cannot tell iterations apart).
    """

    name: str
    samples: int
    varying_targets: bool


#: The classifier's early-stopping score: defined on one sample of positive
#: weight, whichever classes the validation part holds.
ACCURACY = ScoreNeeds("accuracy", 1, False)
#: The regressor's: undefined (NaN) on one sample, constant on equal targets.
R2 = ScoreNeeds("R²", 2, True)


def _samples(n):
    return f"{n} sample" + ("" if n == 1 else "s")


def _fraction_hint(n_samples, val_min, train_min, bound):
    """A short ``validation_fraction`` that gives parts of at least
    ``val_min`` and ``train_min`` samples, printed as the ``bound`` ("at
    least"/"at most") the advice needs; None if no short one does."""
    target = val_min / n_samples if bound == "at least" else 1 - train_min / n_samples
    for digits in range(2, 18):
        text = f"{target:.{digits}g}"
        fraction = float(text)
        n_val = int(np.ceil(fraction * n_samples))
        if 0 < fraction < 1 and val_min <= n_val <= n_samples - train_min:
            return f"{bound} {text}"
    return None  # pragma: no cover - a fraction in range always prints


def check_split_sizes(
    n_samples, fraction, *, val_min=1, train_min=1, why_val, why_train=None
):
    """Refuse an early-stopping split whose parts are too small, with advice
    in the direction that helps.

    The validation part has ``ceil(fraction * n_samples)`` samples (as in
    :func:`~sklearn.model_selection.train_test_split`) and must have at least
    ``val_min`` (``why_val`` says what for), the training part the rest and
    at least ``train_min`` (``why_train``, if training needs more than
    one). Shared by the splits in memory and on a cluster.
    """
    for_training = "" if why_train is None else f" ({why_train})"
    why_train = why_train or "that training needs"
    n_val = int(np.ceil(fraction * n_samples))
    n_train = n_samples - n_val
    if n_val >= val_min and n_train >= train_min:
        return
    if val_min + train_min > n_samples:
        raise ValueError(
            f"Early stopping needs at least {_samples(val_min)} for validation "
            f"({why_val}) and {_samples(train_min)} for training{for_training}, "
            f"but there are only {_samples(n_samples)}: no validation_fraction "
            "gives both. Set early_stopping=False, or fit more samples."
        )
    if n_val < val_min:
        hint = _fraction_hint(n_samples, val_min, train_min, "at least")
        raise ValueError(
            f"validation_fraction={fraction} sets aside {n_val} of {n_samples} "
            f"samples for early stopping, fewer than the {val_min} {why_val}. "
            f"Increase validation_fraction (to {hint}), or set "
            "early_stopping=False."
        )
    hint = _fraction_hint(n_samples, val_min, train_min, "at most")
    left = f"leaves {n_train} of {n_samples} samples for training"
    raise ValueError(
        f"validation_fraction={fraction} {left}, fewer than the {train_min} "
        f"{why_train}. Decrease validation_fraction (to {hint}), or set "
        "early_stopping=False."
    )


def refuse_unusable_parts(
    needs, *, train_positive, val_positive, val_varying, constant=None
):
    """Refuse early-stopping parts whose weights or targets leave nothing to
    train on or to score, from their statistics.

    Shared by the checks in memory and on a cluster: ``train_positive`` and
    ``val_positive`` count the samples of positive weight in each part,
    ``val_varying`` says whether the targets of the positive-weight
    validation samples differ (``constant`` is their value if not), for a
    score that ``needs`` it (a :class:`ScoreNeeds`).
    """
    advice = (
        "Give more samples a positive weight, change validation_fraction or "
        "random_state, or set early_stopping=False."
    )
    for part, positive in (("training", train_positive), ("validation", val_positive)):
        if not positive:
            raise ValueError(
                f"The early-stopping {part} part has only samples of weight "
                f"zero. {advice}"
            )
    if needs.varying_targets and (val_positive < needs.samples or not val_varying):
        what = (
            f"only {_samples(val_positive)} of positive weight"
            if val_positive < needs.samples
            else f"{val_positive} samples of positive weight, all with the target "
            f"{constant}"
        )
        raise ValueError(
            f"{needs.name} needs at least {needs.samples} validation samples of "
            f"positive weight whose targets differ (it is undefined on one "
            "sample and constant on equal targets, so early stopping could not "
            f"act), and the early-stopping validation part has {what}. "
            "Increase validation_fraction, give more samples a positive weight, "
            "change random_state, or set early_stopping=False."
        )


def _stratified_sizes(stratify, n_samples, fraction):
    """Refuse a stratified split that cannot hold every class in both parts."""
    labels, counts = np.unique(stratify, return_counts=True)
    rare = labels[counts < 2]
    if rare.size:
        label = rare[0].item() if isinstance(rare[0], np.generic) else rare[0]
        raise ValueError(
            f"The class {label!r} has only 1 sample: a stratified early-stopping "
            "split needs at least 2 samples of every class, one for training "
            "and one for validation. Fit more samples of it, or set "
            "early_stopping=False."
        )
    why = f"that a stratified split needs (one of each of the {len(labels)} classes)"
    check_split_sizes(
        n_samples, fraction, val_min=len(labels), train_min=len(labels),
        why_val=why, why_train=why,
    )  # fmt: skip


def _varying(y, positive):
    """Whether the targets of the rows ``positive`` differ (in some output),
    and their value if they do not."""
    values = np.asarray(y)[positive]
    if values.shape[0] == 0:
        return False, None
    values = values.reshape(values.shape[0], -1)
    varying = bool(np.any(values != values[:1]))
    first = values[0]
    constant = None if varying else (first[0] if first.size == 1 else first).tolist()
    return varying, constant


def split_validation(X, y, Y, sample_weight, *, stratify, fraction, rng, needs):
    """Training and validation parts for early stopping.

    ``y`` is on the host; ``X``, ``Y`` and ``sample_weight`` where the data
    lives (rows are taken in their namespace). ``needs`` (a
    :class:`ScoreNeeds`) is what the early-stopping score needs of the
    validation part: a split that cannot give it is refused (with advice
    that helps), so that no validation score is undefined.
    """
    n_samples = X.shape[0]
    if stratify is not None:
        _stratified_sizes(stratify, n_samples, fraction)
    check_split_sizes(
        n_samples, fraction, val_min=needs.samples,
        why_val=f"that {needs.name} needs",
    )  # fmt: skip
    train, val = train_test_split(
        np.arange(n_samples),
        test_size=fraction,
        random_state=rng,
        stratify=stratify,
    )
    sw_train = sw_val = None
    if sample_weight is not None:
        sw_train = take_rows(sample_weight, train)
        sw_val = take_rows(sample_weight, val)
        host_train, host_val = to_host(sw_train), to_host(sw_val)
        positive = host_val > 0
    else:
        positive = np.ones(len(val), dtype=bool)
    varying, constant = (
        _varying(y[val], positive) if needs.varying_targets else (True, None)
    )
    refuse_unusable_parts(
        needs,
        train_positive=int(np.count_nonzero(host_train))
        if sample_weight is not None
        else len(train),
        val_positive=int(np.count_nonzero(positive)),
        val_varying=varying,
        constant=constant,
    )
    if sample_weight is not None:
        check_weight_total(
            host_train, "of the early-stopping training part", host_train.dtype
        )
    return (
        (take_rows(X, train), y[train], take_rows(Y, train), sw_train),
        Validation(take_rows(X, val), y[val], take_rows(Y, val), sw_val),
    )
