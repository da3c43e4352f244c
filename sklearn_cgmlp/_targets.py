"""What a face's targets are: how labels or values become the loss's targets.

Each estimator face hands the fit a targets object (:class:`ClassificationTargets`
or :class:`RegressionTargets`). It encodes targets in memory
(:meth:`~ClassificationTargets.encode`), describes them as fitted attributes
(``fitted``, which also checks that a warm start keeps them), and says which
extra sample weights (class weights) they bring. The Dask backend encodes the
same objects lazily on a cluster
(:func:`sklearn_cgmlp._dask.targets.encode_targets`), with the same checks and
messages; nothing outside this module and that one asks whether an estimator
is a classifier or a regressor.
"""

import warnings
from collections import namedtuple
from numbers import Real

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import LabelBinarizer, label_binarize
from sklearn.utils import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import column_or_1d

from ._ops import to_host
from ._outputs import OUTPUTS, REGRESSION_LOSSES, regression_output
from ._warn import warn

#: Encoded targets in memory: the loss's targets ``Y``, the labels to stratify
#: an early-stopping split by (or None), and the fitted attributes that
#: describe the targets (``out_activation_`` included).
Encoded = namedtuple("Encoded", ["Y", "stratify", "fitted"])


def warn_column_vector():
    """scikit-learn's DataConversionWarning for a column-vector ``y`` given
    to a classifier, in the installed version's words (its own
    ``column_or_1d`` warns on a stand-in), attributed to the user's line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataConversionWarning)
        column_or_1d(np.zeros((1, 1)), warn=True)
    for found in caught:
        if issubclass(found.category, DataConversionWarning):
            warn(found.message)


def plain(value):
    """A NumPy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


class ClassificationTargets:
    """Class labels: binary, multiclass or a multilabel indicator matrix.

    Parameters
    ----------
    class_weight : dict, "balanced" or None
        The classifier's ``class_weight``.
    previous : estimator, default=None
        The fitted classifier a warm start continues (its ``classes_`` and
        target type must be kept); None for a cold start.
    """

    #: Whether validate_data converts y to numbers.
    y_numeric = False

    def __init__(self, class_weight, previous=None):
        self.class_weight = class_weight
        self.previous = previous

    def encode(self, y, dtype):
        """:class:`Encoded` targets of host labels ``y`` in ``dtype``."""
        if y.ndim == 2 and y.shape[1] == 1:
            warn_column_vector()
            y = column_or_1d(y)
        try:
            check_classification_targets(y)
            binarizer = LabelBinarizer().fit(y)
        except TypeError as exc:  # labels that cannot be compared
            kinds = sorted({type(label).__name__ for label in np.ravel(y)})
            raise ValueError(
                "Class labels must be all numbers or all strings, got labels of "
                f"types {kinds}."
            ) from exc
        classes, target_type = binarizer.classes_, binarizer.y_type_
        self.check_classes(classes, target_type)
        Y = binarizer.transform(y).astype(dtype, copy=False)
        stratify = None if target_type == "multilabel-indicator" else y
        return Encoded(Y, stratify, self.fitted(classes, target_type, Y.shape[1]))

    @staticmethod
    def encode_validation(y, fitted, dtype):
        """Host labels ``y`` of a validation set given to fit, encoded in
        ``dtype`` as the training labels described by ``fitted`` were;
        labels unseen in training and other kinds of targets are refused."""
        # Numeric classes_ of a device fit live on the device.
        classes, target_type = to_host(fitted["classes_"]), fitted["_target_type"]
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        y_type = type_of_target(y, input_name="y_val")
        if target_type == "multilabel-indicator":
            if y_type != target_type or y.shape[1] != len(classes):
                raise ValueError(
                    f"y_val must be a multilabel indicator matrix with "
                    f"{len(classes)} columns, as y was; got {y_type} targets of "
                    f"shape {y.shape}."
                )
            return np.asarray(y, dtype=dtype)
        if y_type not in ("binary", "multiclass"):
            raise ValueError(
                f"y_val holds {y_type} targets, but the classifier was fitted on "
                f"{target_type} labels."
            )
        try:
            unseen = np.setdiff1d(np.unique(y), classes)
        except TypeError as exc:  # labels that cannot be compared
            raise ValueError(
                f"y_val holds labels that cannot be compared with classes_ "
                f"{classes.tolist()}."
            ) from exc
        if unseen.size:
            raise ValueError(
                f"y_val contains previously unseen labels: {unseen.tolist()}; "
                f"the classes seen in training are {classes.tolist()}."
            )
        return label_binarize(y, classes=classes).astype(dtype, copy=False)

    @staticmethod
    def check_classes(classes, target_type):
        """Refuse a single class (not for multilabel targets)."""
        if len(classes) < 2 and target_type != "multilabel-indicator":
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but "
                f"the data contains only one class: {plain(classes[0])!r}."
            )

    def fitted(self, classes, target_type, n_outputs):
        """The fitted attributes that describe the targets (a warm start must
        keep them)."""
        previous = self.previous
        if previous is not None and (
            target_type != previous._target_type
            or not np.array_equal(classes, to_host(previous.classes_))
        ):
            raise ValueError(
                "warm_start can only be used where `y` has the same classes as in "
                f"the previous call to fit. Previously got {previous.classes_}, "
                f"`y` has {classes}."
            )
        return dict(
            classes_=classes,
            _target_type=target_type,
            n_outputs_=n_outputs,
            out_activation_="softmax" if target_type == "multiclass" else "logistic",
        )

    @staticmethod
    def loss_output(fitted):
        """The output entry (:mod:`sklearn_cgmlp._outputs`) of the fit whose
        target attributes are ``fitted``."""
        return OUTPUTS[fitted["out_activation_"]]

    def weighted(self):
        """Whether there are class weights; refuse invalid ones."""
        if self.class_weight is None:
            return False
        if isinstance(self.class_weight, dict):
            bad = {
                plain(label): weight
                for label, weight in self.class_weight.items()
                if not (
                    isinstance(weight, Real)
                    and not isinstance(weight, bool)
                    and np.isfinite(weight)
                    and weight >= 0
                )
            }
            if bad:
                raise ValueError(
                    "class_weight values must be non-negative finite numbers, got "
                    f"{bad}."
                )
        return True

    def sample_weight(self, y):
        """Per-sample class weights of host labels ``y`` (float64), or None."""
        if not self.weighted():
            return None
        return compute_sample_weight(self.class_weight, y).astype(np.float64)


class RegressionTargets:
    """Real targets, one or several outputs, of the loss ``loss``.

    Parameters
    ----------
    loss : str
        The regressor's ``loss``, a key of
        :data:`~sklearn_cgmlp._outputs.LOSSES`.
    previous : estimator, default=None
        The fitted regressor a warm start continues (its number of outputs
        must be kept); None for a cold start.
    params : dict, default=None
        The regressor's parameters, of which the loss takes those it names
        (``epsilon`` for the Huber loss); None keeps the loss's defaults.

    Attributes
    ----------
    output : Output
        The loss's entry of the output table, which checks the targets.
    """

    y_numeric = True

    def __init__(self, loss, previous=None, *, params=None):
        self.loss = loss
        self.out_activation = REGRESSION_LOSSES[loss]
        self.output = regression_output(loss, params or {})
        self.previous = previous

    def loss_output(self, fitted):
        """The output entry of the fit: the loss's."""
        return self.output

    @staticmethod
    def check_dtype(dtype):
        """Refuse targets that are not numbers (booleans count as 0 and 1, as
        in MLPRegressor and LinearRegression)."""
        if np.dtype(dtype).kind not in "biuf":
            raise ValueError(
                f"Regression targets must be numbers, got an array of dtype {dtype}."
            )

    @staticmethod
    def refuse_overflow(largest, dtype):
        """The error for targets beyond what ``dtype`` represents."""
        raise ValueError(
            f"The targets reach {largest:g}, beyond what "
            f"{np.dtype(dtype).name} represents: scale them."
        )

    def encode(self, y, dtype):
        """:class:`Encoded` targets of host values ``y`` in ``dtype``."""
        Y = self._values(y, dtype)
        return Encoded(Y, None, self.fitted(Y.shape[1]))

    def encode_validation(self, y, fitted, dtype):
        """Host values ``y`` of a validation set given to fit, encoded in
        ``dtype``; they must have the outputs of the training targets
        (``fitted``) and the loss's range."""
        Y = self._values(y, dtype)
        if Y.shape[1] != fitted["n_outputs_"]:
            raise ValueError(
                f"y_val has {Y.shape[1]} outputs, but the regressor was fitted on "
                f"{fitted['n_outputs_']}."
            )
        return Y

    def _values(self, y, dtype):
        """Checked targets as a 2-D array of ``dtype``."""
        y = np.asarray(y)
        self.check_dtype(y.dtype)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        # validate_data has refused non-finite targets; a cast to float32 may
        # still overflow, which the check below reports (not NumPy's warning).
        with np.errstate(over="ignore", invalid="ignore"):
            Y = np.asarray(Y, dtype=dtype)
        if not np.all(np.isfinite(Y)):
            self.refuse_overflow(np.max(np.abs(y)), dtype)
        self.output.check_targets(np.min(Y))
        return Y

    def fitted(self, n_outputs):
        """The fitted attributes that describe the targets (a warm start must
        keep them), and the loss they were fitted with (``set_params`` may
        change ``loss`` after fit; ``to_npz`` stores the fitted one)."""
        previous = self.previous
        if previous is not None and n_outputs != previous.n_outputs_:
            raise ValueError(
                "warm_start can only be used where `y` has as many outputs as in "
                f"the previous call to fit: {previous.n_outputs_}, not {n_outputs}."
            )
        return dict(
            n_outputs_=n_outputs,
            out_activation_=self.out_activation,
            _fitted_loss=self.loss,
        )

    def sample_weight(self, y):
        """No extra weights for regression targets."""
        return None
