"""The estimators' side of fitting on a Dask cluster.

:meth:`DaskData.prepare` is what :meth:`BaseCGMLP._prepare` is for memory:
validation, target encoding and weights, but with every row-sized array
persisted on the workers once and only small reductions coming to the client
(:mod:`sklearn_cgmlp._dask_data`). Its objective is a
:class:`~sklearn_cgmlp._dask.DaskObjective`: one round of communication per
evaluation, the solver on the client.
"""

from sklearn.base import is_classifier
from sklearn.utils.validation import _check_feature_names, _check_n_features

from . import _dask_data
from ._dask import DaskObjective, get_client
from ._ops import NUMPY


def _persist(client, *arrays):
    """Persist the arrays that are not None, once, on the workers."""
    present = [a for a in arrays if a is not None]
    persisted = iter(client.persist(present))
    return [None if a is None else next(persisted) for a in arrays]


class DaskData:
    """Training data persisted on a Dask cluster (see the module docstring).

    ``X``, ``y``, ``Y`` and ``sample_weight`` are Dask arrays with the same
    row chunks; ``fitted`` holds the fitted attributes that describe the
    targets.
    """

    ops = NUMPY  # the blocks are NumPy arrays on the workers

    def __init__(self, X, y, Y, sample_weight, *, fitted, client):
        self.X, self.y, self.Y = X, y, Y
        self.sample_weight = sample_weight
        self.fitted = fitted
        self.client = client

    @property
    def dtype(self):
        return self.X.dtype

    @classmethod
    def prepare(cls, estimator, proxy, X, y, sample_weight, warm):
        """Validated, persisted and encoded training data of ``estimator``."""
        client = get_client()
        # Feature names and their number, as validate_data records them
        # (a Dask DataFrame has columns; conversion drops them).
        _check_feature_names(proxy, X, reset=not warm)
        X, y, sample_weight = _dask_data.check_X_y(X, y, sample_weight)
        _check_n_features(proxy, X, reset=not warm)
        X, y, sample_weight = _persist(client, X, y, sample_weight)
        _dask_data.check_finite(X)
        dtype = X.dtype
        extra = None
        if is_classifier(estimator):
            Y, classes, target_type = _dask_data.encode_classification_targets(y, dtype)
            fitted = estimator._fitted_targets(classes, target_type, Y.shape[1], warm)
            if estimator._check_class_weight():
                extra = _dask_data.class_sample_weight(
                    estimator.class_weight, y, classes, target_type
                )
        else:
            Y = _dask_data.encode_regression_targets(
                y, dtype, poisson=estimator.loss == "poisson"
            )
            fitted = estimator._fitted_targets(Y.shape[1], warm)
        sample_weight = _dask_data.check_sample_weight(
            sample_weight, X, dtype, extra=extra
        )
        Y, sample_weight = _persist(client, Y, sample_weight)
        return cls(X, y, Y, sample_weight, fitted=fitted, client=client)

    def split(self, fraction, rng):
        """The training part, and ``(X, y, sample_weight)`` for validation,
        both persisted on the cluster (random within blocks, not stratified)."""
        train, val = _dask_data.split_validation(
            [self.X, self.y, self.Y, self.sample_weight], fraction, rng,
            client=self.client,
        )  # fmt: skip
        X, y, Y, sample_weight = train
        part = DaskData(X, y, Y, sample_weight, fitted=self.fitted, client=self.client)
        return part, (val[0], val[1], val[3])

    def objective(self, **problem):
        """A :class:`~sklearn_cgmlp._dask.DaskObjective` over this data."""
        return DaskObjective(
            self.X, self.Y, sample_weight=self.sample_weight, client=self.client,
            **problem,
        )  # fmt: skip
