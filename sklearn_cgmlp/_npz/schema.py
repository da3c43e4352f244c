"""The ``.npz`` format's versions and the schema of its metadata.

Used by both sides: :mod:`~sklearn_cgmlp._npz.write` exports what an
estimator part holds, :mod:`~sklearn_cgmlp._npz.read` checks it.
"""

import math

import numpy as np
from sklearn.base import ClassifierMixin

from .._outputs import REGRESSION_LOSSES
from .._safe_read import (
    fail,
    finite,
    integer,
    list_of,
    of_type,
    one_of,
    optional,
    short,
)
from .consistency import CLASSIFIER_CHECKS, REGRESSOR_CHECKS

FORMAT = "sklearn-cgmlp-npz"
# 2: t_ and best_loss_ stored; regressors.
# 3: the fitted hidden layer widths stored apart from the parameters (which
#    hold them too: the parameters that define the fitted model are stored at
#    their values at fit, see consistency.py); the loss curve and
#    validation scores as float64 arrays (NaN scores allowed); non-finite
#    numbers encoded, so that the metadata is standard JSON.
#    Also the count of cached line-search trials (n_line_trials_).
FORMAT_VERSION = 3
# Version 2 files (sklearn-cgmlp 0.1.0) are still read, by their own rules.
READABLE_VERSIONS = (2, 3)
_TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")

# How version 3 writes a best validation score that JSON has no number for.
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


# The parameters every file of a version holds: its writers wrote
# estimator.get_params() whole, and these are the parameters the estimators
# had when they wrote it (an estimator part adds its own). A missing one is a
# file that lies, not an old file: a tanh model would load as relu. A
# parameter added later is absent from older files and gets its default.
_PARAMS_WRITTEN = (
    "hidden_layer_sizes",
    "activation",
    "solver",
    "alpha",
    "max_iter",
    "tol",
    "max_fun",
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
    "random_state",
    "warm_start",
    "verbose",
    "chunk_size",
    "on_interrupt",
)
PARAMS_WRITTEN = {2: _PARAMS_WRITTEN, 3: _PARAMS_WRITTEN}
# Parameters that may be a tuple or a list of plain items (besides a plain
# value), and the type of the items: a tuple is stored as a JSON list, a list
# as {"__list__": [...]}, so that get_params() reads back what was set, as
# hidden_layer_sizes is stored. The values are then checked by the
# estimator's own parameter validation.
SEQUENCE_PARAMS = {"activation": str}


class NotRepresentable(Exception):
    """What the format cannot hold; the message says what and what to do."""


def _real(name, value):
    """A finite number, or ``{"__float__": "nan" | "inf" | "-inf"}``."""
    if decode_float(value) is value:
        finite(name, value)


def decode_float(value):
    """The float of a ``{"__float__": ...}``; anything else as is."""
    if (
        isinstance(value, dict)
        and set(value) == {"__float__"}
        and value["__float__"] in _NON_FINITE
    ):
        return _NON_FINITE[value["__float__"]]
    return value


# Keys every estimator stored in this format has; an estimator part adds its own.
_COMMON_SCHEMA = {
    "format": of_type(str, "a string"),
    "format_version": integer(0),
    "package_version": of_type(str, "a string"),
    "estimator": of_type(str, "a string"),
    "params": of_type(dict, "a JSON object"),
    "out_activation": of_type(str, "a string"),
    "n_layers": integer(2),
    "n_outputs": integer(1),
    "n_features_in": integer(1),
    "n_iter": integer(0),
    "n_fun_evals": integer(0),
    "t": integer(0),
    "loss": finite,
    "best_loss": optional(finite),
}
GENERIC_SCHEMA = {
    2: {
        **_COMMON_SCHEMA,
        "loss_curve": list_of(finite),
        "validation_scores": optional(list_of(finite)),
        "best_validation_score": optional(finite),
    },
    3: {
        **_COMMON_SCHEMA,
        # The fitted widths; the architecture comes from them, and
        # params["hidden_layer_sizes"] must agree (consistency.py).
        "hidden_units": list_of(integer(1)),
        # The loss curve and the validation scores are arrays.
        "best_validation_score": optional(_real),
        "n_line_trials": integer(0),
    },
}


class _ClassifierPart:
    """What the format holds for classifiers only: classes and target type."""

    schema = {
        "classes_kind": one_of("numeric", "str", "object"),
        "target_type": one_of(*_TARGET_TYPES),
    }
    arrays = ("classes",)
    params = ("class_weight",)
    checks = CLASSIFIER_CHECKS

    @staticmethod
    def as_fitted(estimator):
        """No parameter of the classifier part defines the fitted model."""

    @staticmethod
    def export(estimator):
        classes = np.asarray(estimator.classes_)
        classes_kind = "numeric"
        if classes.dtype.kind in "OUS":
            if not all(isinstance(c, str) for c in classes.tolist()):
                raise NotRepresentable(
                    "the file holds numeric class labels and string class "
                    "labels; this model's are of mixed or other types. Save it "
                    "with pickle or joblib instead."
                )
            classes_kind = "object" if classes.dtype.kind == "O" else "str"
            classes = classes.astype(str)
        meta = {"classes_kind": classes_kind, "target_type": estimator._target_type}
        return meta, {"classes": classes}

    @staticmethod
    def check_metadata(meta):
        """Fail unless the target type, outputs and label kind agree."""
        target_type, n_outputs = meta["target_type"], meta["n_outputs"]
        out_activation = meta["out_activation"]
        if out_activation != ("softmax" if target_type == "multiclass" else "logistic"):
            fail(f"target type {target_type!r} with output {out_activation!r}.")
        # LabelBinarizer's encodings: one column for two classes, one per class
        # for three or more, one per label for two or more labels.
        least = {"binary": 1, "multiclass": 3, "multilabel-indicator": 2}[target_type]
        if n_outputs < least or (target_type == "binary" and n_outputs != 1):
            fail(f"a {target_type} target with {n_outputs} outputs.")
        if target_type == "multilabel-indicator" and meta["classes_kind"] != "numeric":
            fail("multilabel classes must be numeric.")

    @staticmethod
    def check_headers(meta, headers):
        target_type, n_outputs = meta["target_type"], meta["n_outputs"]
        shape, dtype = headers["classes"].shape, headers["classes"].dtype
        if len(shape) != 1:
            fail("classes must be a 1-D array.")
        n_classes = 2 if target_type == "binary" else n_outputs
        if shape[0] != n_classes:
            fail(f"{shape[0]} classes for a {target_type} output of {n_outputs}.")
        if dtype.kind not in ("iufb" if meta["classes_kind"] == "numeric" else "U"):
            fail(f"classes of dtype {dtype} for {meta['classes_kind']} labels.")

    @staticmethod
    def fitted(meta, arrays):
        classes = arrays["classes"]
        if meta["classes_kind"] == "object":
            classes = classes.astype(object)
        return {"classes_": classes, "_target_type": meta["target_type"]}


class _RegressorPart:
    """What the format holds for regressors only: the output, and the loss
    that gives it (the loss the model was fitted with, also if ``loss`` was
    changed with ``set_params`` since).
    """

    schema = {}
    arrays = ()
    params = ("loss",)
    checks = REGRESSOR_CHECKS
    # Each loss's output, once (several losses share one).
    _out_activations = tuple(dict.fromkeys(REGRESSION_LOSSES.values()))

    @staticmethod
    def as_fitted(estimator):
        """Set ``loss`` of ``estimator`` (a view) to the loss it was fitted with.

        A fit records it (``_fitted_loss``). A model unpickled from a version
        that did not has only its output: the ``loss`` parameter if it gives
        that output, else the one loss that does; if several or none do, the
        model is not represented (the file would name a loss it may not have
        been fitted with).
        """
        loss = getattr(estimator, "_fitted_loss", None)
        if loss is None:
            output, loss = estimator.out_activation_, estimator.loss
            if not (isinstance(loss, str) and REGRESSION_LOSSES.get(loss) == output):
                losses = [k for k, v in REGRESSION_LOSSES.items() if v == output]
                if len(losses) != 1:
                    raise NotRepresentable(
                        "the loss it was fitted with is not recorded (it was "
                        "unpickled from an older version), and neither its loss "
                        f"parameter, {short.repr(loss)}, nor exactly one loss "
                        f"gives its {short.repr(output)} output (losses "
                        f"{losses} do); set loss to the loss it was fitted "
                        "with (set_params) before exporting."
                    )
                (loss,) = losses
        estimator.set_params(loss=loss)
        estimator._fitted_loss = loss

    @staticmethod
    def export(estimator):
        return {}, {}

    @classmethod
    def check_metadata(cls, meta):
        if meta["out_activation"] not in cls._out_activations:
            fail(
                f"output {short.repr(meta['out_activation'])} is not one of "
                f"{cls._out_activations}."
            )

    @staticmethod
    def check_headers(meta, headers):
        pass

    @staticmethod
    def fitted(meta, arrays):
        # Checked to give the stored output (consistency.REGRESSOR_CHECKS).
        return {"_fitted_loss": meta["params"]["loss"]}


def estimator_part(cls):
    return _ClassifierPart if issubclass(cls, ClassifierMixin) else _RegressorPart
