"""Where the data live: the one dispatch that fit, predict and score ask.

:func:`backend_of` looks at the data and returns its backend: a
:class:`LocalBackend` for data in this process (NumPy arrays, sparse matrices,
memory maps, data frames; or, under scikit-learn's array API dispatch, arrays of
another namespace on a device), or the Dask backend
(:class:`sklearn_cgmlp._dask.backend.DaskBackend`) for Dask collections. A backend
gives the estimators everything that depends on where the data are:

- ``training_data(proxy, X, y, sample_weight, targets=, warm=)``: validated,
  encoded training data, whose ``objective(loss, chunk_size=)`` is the
  objective over them and ``split(fraction, rng)`` the early-stopping split;
- ``logits(model, X, method, output=True)``: validated output logits of a
  fitted model (lazy for Dask; the last hidden layer's activations with
  ``output=False``), and ``model_logits(attributes, activation, X)`` computed
  logits of a model given by its fitted attributes (for validation scores);
- ``map_rows(Z, func, dtype=, n_columns=)``: ``func`` over the rows of
  logits, block by block where they are lazy;
- ``accuracy`` and ``r2``: the estimators' scores of predictions;
- ``ops``: the operations of the predictions' namespace.

The estimators name no backend.
"""

import numpy as np
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.validation import validate_data

from ._dask.detect import is_dask_collection
from ._data import TrainingData
from ._loss import forward
from ._ops import array_ops, detached, float_dtypes, ops_of


def backend_of(X):
    """The backend of the data ``X`` (see the module docstring)."""
    if is_dask_collection(X):
        from ._dask.backend import DaskBackend

        return DaskBackend()
    return LocalBackend(ops_of(X))


class LocalBackend:
    """Data in this process: NumPy data, or arrays of the namespace of
    ``ops`` on one device.

    Parameters
    ----------
    ops : NumPyOps or ArrayAPIOps
        Operations of the data's namespace (:mod:`sklearn_cgmlp._ops`).
    """

    def __init__(self, ops):
        self.ops = ops

    def training_data(self, proxy, X, y, sample_weight, *, targets, warm):
        """:meth:`TrainingData.prepare` in the data's namespace (inputs that
        require grad are detached first)."""
        X, y, sample_weight = detached(X), detached(y), detached(sample_weight)
        return TrainingData.prepare(
            proxy, X, y, sample_weight, targets=targets, warm=warm, ops=self.ops
        )

    def logits(self, model, X, method, output=True):
        """Output logits of the fitted ``model`` (an estimator snapshot) for
        ``X``, validated as scikit-learn validates prediction inputs (with
        ``output=False``, the last hidden layer's activations).

        ``X`` must live where the model does (NumPy, or under array API
        dispatch the namespace and device the model was fitted on). It is
        cast as NumPy input is: to float64 unless it is float32 (as
        ``validate_data`` does), then computed in the promoted dtype of ``X``
        and the weights (as NumPy's products promote): a float32 model
        predicts float64 for float64, float16 or integer ``X``, where the
        device has float64.
        """
        ops = self.ops
        X = detached(X)
        model_ops = array_ops(model.coefs_[0])
        if model_ops != ops:
            where = (
                "NumPy"
                if model_ops.is_numpy
                else (f"{model_ops.xp.__name__} arrays on device {model_ops.device!r}")
            )
            raise ValueError(
                f"Inputs passed to {type(model).__name__}.{method}() must use the "
                f"same namespace and device as the data the model was fitted on "
                f"({where}). Move X there (with array_api_dispatch enabled for "
                "device arrays), or move the model (see the user guide)."
            )
        with np.errstate(over="ignore", invalid="ignore"):
            X = validate_data(
                model,
                X,
                accept_sparse=["csr", "csc"] if ops.is_numpy else False,
                dtype=float_dtypes(ops),
                reset=False,
            )
        coefs, intercepts = model.coefs_, model.intercepts_
        if not ops.is_numpy:
            X, coefs, intercepts = _promoted(ops, X, coefs, intercepts)
        return forward(coefs, intercepts, X, model.activation, ops=ops, output=output)

    def model_logits(self, attributes, activation, X):
        """Output logits for validated ``X`` of the model with fitted
        ``attributes``, and the operations of their namespace."""
        ops = array_ops(attributes["coefs_"][0])
        Z = forward(
            attributes["coefs_"], attributes["intercepts_"], X, activation, ops=ops
        )
        return Z, ops

    @staticmethod
    def map_rows(Z, func, *, dtype, n_columns=None):
        """``func(Z)`` (``dtype`` and ``n_columns`` describe the result of
        lazy backends)."""
        return func(Z)

    @staticmethod
    def accuracy(pred, y, sample_weight=None):
        """Accuracy of predictions, as ``ClassifierMixin.score``."""
        return accuracy_score(detached(y), pred, sample_weight=detached(sample_weight))

    @staticmethod
    def r2(pred, y, sample_weight=None):
        """R² of predictions, as ``RegressorMixin.score``."""
        return r2_score(detached(y), pred, sample_weight=detached(sample_weight))


def _promoted(ops, X, coefs, intercepts):
    """``X`` and the weights in their promoted dtype, as NumPy's products
    promote them (array API namespaces such as PyTorch's do not mix float32
    and float64 in a product), capped at the device's widest float dtype."""
    xp = ops.xp
    dtype = xp.result_type(X.dtype, coefs[0].dtype)
    if dtype == xp.float64 and ops.float_dtype != xp.float64:
        dtype = ops.float_dtype
    if X.dtype != dtype:
        X = xp.astype(X, dtype)
    if coefs[0].dtype != dtype:
        coefs = [xp.astype(c, dtype) for c in coefs]
        intercepts = [xp.astype(b, dtype) for b in intercepts]
    return X, coefs, intercepts
