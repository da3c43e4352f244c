"""Persistence: version stamps in pickles and a pickle-free ``.npz`` format.

A pickle records the package version that wrote it; loading it under another
version warns with :class:`InconsistentVersionWarning` (a subclass of
scikit-learn's, so the usual warning filters apply).

The ``.npz`` export is a zip archive of ``.npy`` arrays and a JSON metadata
string. The loader treats it as hostile input: it never unpickles, it checks
the zip directory and every array header against the metadata before it reads
any array data, so a small file cannot make it allocate much, and every defect
it finds is a ValueError. The checks are in two layers: generic ones that any
estimator stored in this format shares (parameters, layers, weights, fitted
numbers) and an estimator part for what only classifiers have (classes, target
type).
"""

import itertools
import json
import re
import warnings

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.exceptions import InconsistentVersionWarning as _SklearnVersionWarning

from ._safe_read import (
    fail,
    finite,
    integer,
    is_int,
    is_real,
    list_of,
    of_type,
    one_of,
    open_archive,
    optional,
    parse_json,
    short,
)
from ._version import __version__

FORMAT = "sklearn-cgmlp-npz"
# 2: t_ and best_loss_ stored; regressors.
FORMAT_VERSION = 2
_TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")

# 16 Mi characters of metadata hold the loss curve and validation scores of
# some 300 000 iterations; a longer string is refused before it is read.
_MAX_METADATA_CHARS = 1 << 24
_MEMBER_NAME = re.compile(
    r"(metadata|classes|feature_names_in|(?:coef|intercept)_(?:0|[1-9][0-9]*))\.npy"
)


class InconsistentVersionWarning(_SklearnVersionWarning):
    """A model pickled by another version of sklearn-cgmlp is being loaded.

    Parameters
    ----------
    estimator_name : str
        Estimator name.
    current_version : str
        The installed sklearn-cgmlp version.
    original_version : str
        The version that pickled the estimator.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        super().__init__(
            estimator_name=estimator_name,
            current_sklearn_version=current_version,
            original_sklearn_version=original_version,
        )
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from sklearn-cgmlp "
            f"version {self.original_version} when using version "
            f"{self.current_version}. This might lead to breaking code or invalid "
            "results. Use at your own risk, or re-export the model with "
            "to_npz() under the original version and load it with from_npz()."
        )


def stamp_state(state):
    """Add the package version to a pickled state."""
    return {**state, "_sklearn_cgmlp_version": __version__}


def check_state_version(estimator_name, state):
    """Pop the version stamp from a state; warn if it is not ours."""
    version = state.pop("_sklearn_cgmlp_version", "unknown")
    if version != __version__:
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name=estimator_name,
                current_version=__version__,
                original_version=version,
            ),
            stacklevel=3,
        )
    return state


# ------------------------------------------------------------ metadata schema
# Keys every estimator stored in this format has; an estimator part adds its own.
_GENERIC_SCHEMA = {
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
    "loss_curve": list_of(finite),
    "validation_scores": optional(list_of(finite)),
    "best_validation_score": optional(finite),
}


class _ClassifierPart:
    """What the format holds for classifiers only: classes and target type."""

    schema = {
        "classes_kind": one_of("numeric", "str", "object"),
        "target_type": one_of(*_TARGET_TYPES),
    }
    arrays = ("classes",)

    @staticmethod
    def export(estimator):
        classes = np.asarray(estimator.classes_)
        classes_kind = "numeric"
        if classes.dtype.kind in "OUS":
            if not all(isinstance(c, str) for c in classes.tolist()):
                raise ValueError(
                    "to_npz supports numeric class labels and string class labels; "
                    "got labels of mixed or other types."
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
        # NaN compares false, so this also refuses NaN labels.
        if not np.all(classes[1:] > classes[:-1]):
            fail("classes are not sorted and unique.")
        if meta["target_type"] == "multilabel-indicator" and not np.array_equal(
            classes, np.arange(len(classes))
        ):
            fail("multilabel classes must be 0, 1, ..., n_outputs - 1.")
        if meta["classes_kind"] == "object":
            classes = classes.astype(object)
        return {"classes_": classes, "_target_type": meta["target_type"]}


class _RegressorPart:
    """What the format holds for regressors only: nothing beyond the output,
    which must be the one of the ``loss`` parameter."""

    schema = {}
    arrays = ()
    _out_activations = {"squared_error": "identity", "poisson": "exp"}

    @staticmethod
    def export(estimator):
        return {}, {}

    @classmethod
    def check_metadata(cls, meta):
        loss = meta["params"].get("loss")
        expected = cls._out_activations.get(loss) if isinstance(loss, str) else None
        if expected is None or meta["out_activation"] != expected:
            fail(f"output {meta['out_activation']!r} for the loss {loss!r}.")

    @staticmethod
    def check_headers(meta, headers):
        pass

    @staticmethod
    def fitted(meta, arrays):
        return {}


def _estimator_part(cls):
    return _ClassifierPart if issubclass(cls, ClassifierMixin) else _RegressorPart


# -------------------------------------------------------------------- export
def _json_params(params):
    """Constructor parameters that survive JSON exactly; others become None."""
    out = {}
    for name, value in params.items():
        if name == "hidden_layer_sizes":
            value = np.atleast_1d(np.asarray(value)).tolist()
        elif name == "class_weight" and isinstance(value, dict):
            value = {"__labels__": [_plain(k) for k in value], "__weights__": [
                float(v) for v in value.values()
            ]}  # fmt: skip
        elif name == "random_state" and not (
            value is None or isinstance(value, int | np.integer)
        ):
            value = None  # a RandomState instance is not exported
        out[name] = _plain(value)
    return out


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def export_npz(estimator, file):
    """Write the fitted ``estimator`` to ``file`` (a path or file object)."""
    part_meta, arrays = _estimator_part(type(estimator)).export(estimator)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "estimator": type(estimator).__name__,
        "params": _json_params(estimator.get_params()),
        **part_meta,
        "out_activation": estimator.out_activation_,
        "n_layers": int(estimator.n_layers_),
        "n_outputs": int(estimator.n_outputs_),
        "n_features_in": int(estimator.n_features_in_),
        "n_iter": int(estimator.n_iter_),
        "n_fun_evals": int(estimator.n_fun_evals_),
        "t": int(estimator.t_),
        "loss": float(estimator.loss_),
        "best_loss": _plain(estimator.best_loss_),
        "loss_curve": [float(v) for v in estimator.loss_curve_],
        "validation_scores": estimator.validation_scores_,
        "best_validation_score": estimator.best_validation_score_,
    }
    arrays = {"metadata": np.array(json.dumps(meta)), **arrays}
    for i, (coef, intercept) in enumerate(zip(estimator.coefs_, estimator.intercepts_)):
        arrays[f"coef_{i}"] = np.asarray(coef)
        arrays[f"intercept_{i}"] = np.asarray(intercept)
    if hasattr(estimator, "feature_names_in_"):
        arrays["feature_names_in"] = np.asarray(estimator.feature_names_in_).astype(str)
    np.savez(file, **arrays)


# -------------------------------------------------------------------- import
def _read_metadata(archive, cls, part):
    """The metadata, checked key by key against the generic and part schemas."""
    if not archive.has("metadata"):
        fail("no metadata.")
    header = archive.header("metadata")
    if header.shape != () or header.dtype.kind != "U":
        fail("no metadata.")
    if header.dtype.itemsize // 4 > _MAX_METADATA_CHARS:
        fail(f"metadata longer than {_MAX_METADATA_CHARS} characters.")
    meta = parse_json(archive.read("metadata", header).item())
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        fail("not an sklearn-cgmlp export.")
    version = meta.get("format_version")
    if not is_int(version) or version != FORMAT_VERSION:
        fail(
            f"format version {short.repr(version)}; this version of "
            f"sklearn-cgmlp reads version {FORMAT_VERSION}."
        )
    if meta.get("estimator") != cls.__name__:
        fail(f"it holds a {short.repr(meta.get('estimator'))}, not a {cls.__name__}.")
    schema = {**_GENERIC_SCHEMA, **part.schema}
    missing, unknown = sorted(set(schema) - set(meta)), sorted(set(meta) - set(schema))
    if missing or unknown:
        fail(f"metadata misses keys {missing} and has unknown keys {unknown}.")
    for key, check in schema.items():
        check(key, meta[key])
    n_iter, scores = meta["n_iter"], meta["validation_scores"]
    if len(meta["loss_curve"]) != n_iter:
        fail(f"{len(meta['loss_curve'])} loss_curve values for n_iter={n_iter}.")
    if (scores is None) != (meta["best_validation_score"] is None):
        fail("validation_scores and best_validation_score disagree on early stopping.")
    if scores is not None and len(scores) != n_iter:
        fail(f"{len(scores)} validation_scores for n_iter={n_iter}.")
    part.check_metadata(meta)
    return meta


def _hidden_sizes(value):
    if not isinstance(value, list | tuple) or not all(
        is_int(s) and s >= 1 for s in value
    ):
        fail(
            "hidden_layer_sizes must be a list of positive integers, got "
            f"{short.repr(value)}."
        )
    return tuple(value)


def _class_weight(value):
    """Decode the ``{"__labels__": [...], "__weights__": [...]}`` of a dict."""
    if not isinstance(value, dict):
        return value  # "balanced", None, or wrong: the constraints say which
    labels, weights = value.get("__labels__"), value.get("__weights__")
    if (
        set(value) != {"__labels__", "__weights__"}
        or not isinstance(labels, list)
        or not isinstance(weights, list)
        or len(labels) != len(weights)
        or not all(isinstance(v, str | int | float) for v in labels)
        or not all(is_real(w) for w in weights)
    ):
        fail(f"malformed class_weight {short.repr(value)}.")
    decoded = dict(zip(labels, weights))
    if len(decoded) != len(labels):
        fail(f"class_weight labels {short.repr(labels)} repeat.")
    return decoded


def _estimator_from_params(cls, params):
    """An unfitted ``cls`` with the stored parameters, validated by sklearn."""
    estimator = cls()
    unknown = set(params) - set(estimator.get_params())
    if unknown:
        fail(f"unknown parameters {short.repr(sorted(unknown))}.")
    params = dict(params)
    if "hidden_layer_sizes" in params:
        params["hidden_layer_sizes"] = _hidden_sizes(params["hidden_layer_sizes"])
    if "class_weight" in params:
        params["class_weight"] = _class_weight(params["class_weight"])
    estimator.set_params(**params)
    try:
        estimator._validate_params()
    except (ValueError, TypeError) as exc:  # InvalidParameterError is both
        fail(f"invalid parameters ({exc}).")
    return estimator


def _headers(archive, meta, part, units):
    """Check membership and every array header against the metadata."""
    n_weights = len(units) - 1
    names = ["metadata"]
    weights = (f"{p}_{i}" for i in range(n_weights) for p in ("coef", "intercept"))
    # Lazily: the first gap fails before a huge n_weights builds a huge list.
    for name in itertools.chain(part.arrays, weights):
        if not archive.has(name):
            fail(f"missing array {name!r}.")
        names.append(name)
    if archive.has("feature_names_in"):
        names.append("feature_names_in")
    extra = set(archive.members) - {f"{name}.npy" for name in names}
    if extra:
        fail(f"unexpected arrays {sorted(n.removesuffix('.npy') for n in extra)}.")
    headers = {name: archive.header(name) for name in names[1:]}
    for i in range(n_weights):
        for name, shape in (
            (f"coef_{i}", (units[i], units[i + 1])),
            (f"intercept_{i}", (units[i + 1],)),
        ):
            if headers[name].shape != shape:
                fail(
                    f"layer {i} array {name!r} has shape {headers[name].shape}; "
                    f"the metadata implies {shape}."
                )
    dtypes = {
        headers[f"{p}_{i}"].dtype.newbyteorder("=")
        for i in range(n_weights)
        for p in ("coef", "intercept")
    }
    if len(dtypes) != 1 or dtypes.pop() not in (np.float32, np.float64):
        fail("weights must all be float32 or all float64.")
    names_header = headers.get("feature_names_in")
    if names_header is not None and (
        names_header.shape != (units[0],) or names_header.dtype.kind != "U"
    ):
        fail("feature names do not match the number of features.")
    part.check_headers(meta, headers)
    return headers


def import_npz(cls, file):
    """Build a fitted ``cls`` from an ``.npz`` file written by :func:`export_npz`."""
    part = _estimator_part(cls)
    with open_archive(file, _MEMBER_NAME) as archive:
        meta = _read_metadata(archive, cls, part)
        estimator = _estimator_from_params(cls, meta["params"])
        hidden = _hidden_sizes(estimator.hidden_layer_sizes)
        units = (meta["n_features_in"], *hidden, meta["n_outputs"])
        if meta["n_layers"] != len(units):
            fail(
                f"n_layers={meta['n_layers']}, but hidden_layer_sizes={hidden} "
                f"gives {len(units)} layers."
            )
        headers = _headers(archive, meta, part, units)
        # Only now, with every size known to match the metadata, read data.
        arrays = {name: archive.read(name, h) for name, h in headers.items()}
    coefs = [arrays[f"coef_{i}"] for i in range(len(units) - 1)]
    intercepts = [arrays[f"intercept_{i}"] for i in range(len(units) - 1)]
    if not all(np.all(np.isfinite(a)) for a in coefs + intercepts):
        fail("weights are not all finite.")
    scores, best = meta["validation_scores"], meta["best_validation_score"]
    fitted = {
        **part.fitted(meta, arrays),
        "coefs_": coefs,
        "intercepts_": intercepts,
        "n_features_in_": units[0],
        "n_layers_": len(units),
        "n_outputs_": units[-1],
        "out_activation_": meta["out_activation"],
        "n_iter_": meta["n_iter"],
        "n_fun_evals_": meta["n_fun_evals"],
        "t_": meta["t"],
        "loss_": float(meta["loss"]),
        "best_loss_": None if meta["best_loss"] is None else float(meta["best_loss"]),
        "loss_curve_": [float(v) for v in meta["loss_curve"]],
        "validation_scores_": None if scores is None else [float(v) for v in scores],
        "best_validation_score_": None if best is None else float(best),
    }
    if "feature_names_in" in arrays:
        fitted["feature_names_in_"] = arrays["feature_names_in"].astype(object)
    for name, value in fitted.items():
        setattr(estimator, name, value)
    return estimator
