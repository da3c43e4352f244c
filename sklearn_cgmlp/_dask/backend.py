"""The backend of Dask collections (see :mod:`sklearn_cgmlp._backends`).

Importing it does not import Dask: the modules that need Dask are imported by
its methods, when a Dask collection is met.
"""

from .._ops import NUMPY


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
