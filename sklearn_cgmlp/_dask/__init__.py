"""Data on a Dask cluster: the objective, the workers' tasks, the data, predictions.

- :mod:`~sklearn_cgmlp._dask.objective`: the objective of one fit, evaluated
  by the workers that hold the data
  (:class:`~sklearn_cgmlp._dask.objective.DaskObjective`), and the client;
- :mod:`~sklearn_cgmlp._dask.tasks`: what runs on the workers;
- :mod:`~sklearn_cgmlp._dask.validation`: Dask inputs checked as scikit-learn
  checks them in memory;
- :mod:`~sklearn_cgmlp._dask.targets`: encoded targets and sample weights,
  built on the workers;
- :mod:`~sklearn_cgmlp._dask.data`: the training data of a fit and its
  early-stopping split (:class:`~sklearn_cgmlp._dask.data.DaskData`);
- :mod:`~sklearn_cgmlp._dask.predict`: lazy predictions and scores.

:class:`DaskBackend` is what :func:`sklearn_cgmlp._backends.backend_of` returns
for Dask collections. Importing this package does not import Dask: an object of
a Dask type can only exist once Dask has been imported, so the modules that
need Dask are imported when a Dask collection is met.
"""

import sys

from .._ops import NUMPY


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask collection (imports Dask only if in use)."""
    if sys.modules.get("dask") is None:
        return False
    from dask.base import is_dask_collection as _is_dask_collection

    return _is_dask_collection(obj)


class DaskBackend:
    """The backend of Dask collections (see :mod:`sklearn_cgmlp._backends`).

    The training data are persisted on the workers, the solver runs on the
    client, and predictions are lazy Dask arrays computed block by block.
    """

    ops = NUMPY  # the blocks are NumPy arrays on the workers

    def training_data(self, proxy, X, y, sample_weight, *, targets, warm):
        """:meth:`sklearn_cgmlp._dask.data.DaskData.prepare`."""
        from .data import DaskData

        return DaskData.prepare(proxy, X, y, sample_weight, targets=targets, warm=warm)

    def logits(self, model, X, method, output=True):
        """Lazy output logits of the fitted ``model`` for the Dask ``X``
        (the last hidden layer's activations with ``output=False``),
        validated as scikit-learn validates prediction inputs: feature names
        and their number at once, finiteness block by block when computed."""
        from sklearn.utils.validation import _check_feature_names, _check_n_features

        from .._ops import to_host
        from .predict import predict_logits_lazy
        from .validation import check_X, feature_names_of

        name = type(model).__name__
        _check_feature_names(model, feature_names_of(X), reset=False)
        X = check_X(X, known_rows=False, estimator_name=name)
        _check_n_features(model, X, reset=False)
        coefs = [to_host(c) for c in model.coefs_]
        intercepts = [to_host(b) for b in model.intercepts_]
        return predict_logits_lazy(
            X, coefs, intercepts, model.activation, estimator_name=name, output=output
        )

    def model_logits(self, attributes, activation, X):
        """Computed output logits for the Dask ``X`` (a validation set) of the
        model with fitted ``attributes``, and NumPy's operations."""
        from .predict import predict_logits_lazy

        coefs, intercepts = attributes["coefs_"], attributes["intercepts_"]
        return predict_logits_lazy(X, coefs, intercepts, activation).compute(), NUMPY

    @staticmethod
    def map_rows(Z, func, *, dtype, n_columns=None):
        """``func`` over the row blocks of the lazy ``Z``."""
        from .predict import map_rows

        return map_rows(Z, func, dtype=dtype, n_columns=n_columns)

    @staticmethod
    def accuracy(pred, y, sample_weight=None):
        """Accuracy of lazy predictions, from block-wise sums."""
        from .predict import accuracy

        return accuracy(pred, y, sample_weight)

    @staticmethod
    def r2(pred, y, sample_weight=None):
        """R² of lazy predictions, from block-wise sums."""
        from .predict import r2

        return r2(pred, y, sample_weight)
