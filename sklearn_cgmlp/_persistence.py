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

An export is a promise that the file loads back as the same model. The writer
builds the whole file in memory, loads it back with the loader above (the same
checks, on the same bytes) and compares the result with the model, parameter
by parameter and fitted attribute by fitted attribute; only then does it
write, and to a path atomically (a temporary file in the same folder, then
``os.replace``). A model that the format cannot represent is refused before
anything is written, with the reason.
"""

import contextlib
import io
import itertools
import json
import math
import os
import re
import secrets
import stat

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.exceptions import InconsistentVersionWarning as _SklearnVersionWarning

from ._outputs import REGRESSION_LOSSES
from ._safe_read import (
    InvalidModelFile,
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
from ._warn import warn

FORMAT = "sklearn-cgmlp-npz"
# 2: t_ and best_loss_ stored; regressors.
# 3: the fitted hidden layer widths stored apart from the parameters, which are
#    kept as they were set (also when changed after fit); the loss curve and
#    validation scores as float64 arrays (NaN scores allowed); non-finite
#    numbers encoded, so that the metadata is standard JSON.
#    Also the count of cached line-search trials (n_line_trials_).
FORMAT_VERSION = 3
# Version 2 files (sklearn-cgmlp 0.1.0) are still read, by their own rules.
_READABLE_VERSIONS = (2, 3)
_TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")

# A longer metadata string is refused before it is read. Since version 3 the
# metadata does not grow with the training history; only parameters (a
# class_weight dict of many labels) can make it long.
_MAX_METADATA_CHARS = 1 << 24
_MEMBER_NAME = re.compile(
    r"(metadata|classes|feature_names_in|loss_curve|validation_scores"
    r"|(?:coef|intercept)_(?:0|[1-9][0-9]*))\.npy"
)
# How version 3 writes a best validation score that JSON has no number for.
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


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
        warn(
            InconsistentVersionWarning(
                estimator_name=estimator_name,
                current_version=__version__,
                original_version=version,
            )
        )
    return state


# ------------------------------------------------------------ metadata schema
def _real(name, value):
    """A finite number, or ``{"__float__": "nan" | "inf" | "-inf"}``."""
    if _decode_float(value) is value:
        finite(name, value)


def _decode_float(value):
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
_GENERIC_SCHEMA = {
    2: {
        **_COMMON_SCHEMA,
        "loss_curve": list_of(finite),
        "validation_scores": optional(list_of(finite)),
        "best_validation_score": optional(finite),
    },
    3: {
        **_COMMON_SCHEMA,
        # The fitted widths; the architecture comes from them, never from
        # params["hidden_layer_sizes"], which may have been changed since.
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

    @staticmethod
    def export(estimator):
        classes = np.asarray(estimator.classes_)
        classes_kind = "numeric"
        if classes.dtype.kind in "OUS":
            if not all(isinstance(c, str) for c in classes.tolist()):
                raise _NotRepresentable(
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
    """What the format holds for regressors only: nothing beyond the output.

    The fitted output decides the predictions; it need not be the one of the
    current ``loss`` parameter, which may have been changed after fit.
    """

    schema = {}
    arrays = ()
    _out_activations = tuple(REGRESSION_LOSSES.values())

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
        return {}


def _estimator_part(cls):
    return _ClassifierPart if issubclass(cls, ClassifierMixin) else _RegressorPart


# -------------------------------------------------------------------- export
class _NotRepresentable(Exception):
    """What the format cannot hold; the message says what and what to do."""


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_float(value):
    """A score as version 3 writes it: a JSON number, or a tagged string."""
    value = float(value)
    if math.isfinite(value):
        return value
    return {"__float__": "nan" if math.isnan(value) else repr(value)}


def _json_params(params):
    """The constructor parameters, each as it was set; or _NotRepresentable."""
    return {name: _json_param(name, value) for name, value in params.items()}


def _json_param(name, value):
    value = _plain(value)
    if name == "hidden_layer_sizes":
        # An int stays an int, a tuple is a JSON list (as in version 2), and a
        # list is tagged, so that get_params() reads back what was set.
        if isinstance(value, tuple | list):
            sizes = [_plain(s) for s in value]
            if all(is_int(s) for s in sizes):
                return sizes if isinstance(value, tuple) else {"__list__": sizes}
        elif is_int(value):
            return value
        raise _NotRepresentable(
            f"hidden_layer_sizes={short.repr(value)} is not an int, a tuple or a "
            "list of ints, which is what the file can hold; set it to a tuple "
            "with set_params before exporting."
        )
    if name == "class_weight" and isinstance(value, dict):
        return {
            "__labels__": [_plain(k) for k in value],
            "__weights__": [_json_number(name, v) for v in value.values()],
        }
    if name == "random_state" and not (value is None or is_int(value)):
        raise _NotRepresentable(
            f"random_state is a {type(value).__name__}, whose state the file does "
            "not hold; set random_state to an int or None with set_params before "
            "exporting, or save the model with pickle or joblib."
        )
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _json_number(name, value)
    raise _NotRepresentable(
        f"the parameter {name}={short.repr(value)} is a {type(value).__name__}, "
        "which the file's JSON metadata cannot hold; set it to a plain value "
        "with set_params before exporting, or save the model with pickle or "
        "joblib."
    )


def _json_number(name, value):
    value = _plain(value)
    if is_real(value) and not math.isfinite(value):
        raise _NotRepresentable(
            f"the parameter {name} holds {value!r}, which JSON cannot hold (and "
            "no fit accepts); set it to a finite number with set_params before "
            "exporting."
        )
    return float(value) if isinstance(value, float) else value


def _finite_loss(name, value):
    value = _plain(value)
    if value is not None and not (is_real(value) and math.isfinite(value)):
        raise _NotRepresentable(
            f"its fitted {name} is {short.repr(value)}, and the file holds finite "
            "losses only (a fit never records another); save the model with "
            "pickle or joblib instead."
        )
    return value


def _archive(estimator):
    """The members of the export of ``estimator``, a host (NumPy) model."""
    part_meta, part_arrays = _estimator_part(type(estimator)).export(estimator)
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    scores, best = estimator.validation_scores_, estimator.best_validation_score_
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "estimator": type(estimator).__name__,
        "params": _json_params(estimator.get_params()),
        **part_meta,
        "out_activation": estimator.out_activation_,
        "n_layers": int(estimator.n_layers_),
        "hidden_units": [int(np.shape(b)[0]) for b in intercepts[:-1]],
        "n_outputs": int(estimator.n_outputs_),
        "n_features_in": int(estimator.n_features_in_),
        "n_iter": int(estimator.n_iter_),
        "n_fun_evals": int(estimator.n_fun_evals_),
        "n_line_trials": int(estimator.n_line_trials_),
        "t": int(estimator.t_),
        "loss": _finite_loss("loss_", estimator.loss_),
        "best_loss": _finite_loss("best_loss_", estimator.best_loss_),
        "best_validation_score": None if best is None else _json_float(best),
    }
    try:
        text = json.dumps(meta, allow_nan=False)
    except (TypeError, ValueError) as exc:  # a class_weight label of another type
        raise _NotRepresentable(
            f"its metadata cannot be written as JSON ({exc}); save the model "
            "with pickle or joblib instead."
        ) from None
    arrays = {"metadata": np.array(text), **part_arrays}
    for i, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        arrays[f"coef_{i}"] = np.asarray(coef)
        arrays[f"intercept_{i}"] = np.asarray(intercept)
    arrays["loss_curve"] = np.asarray(estimator.loss_curve_, dtype=np.float64)
    if scores is not None:
        arrays["validation_scores"] = np.asarray(scores, dtype=np.float64)
    if hasattr(estimator, "feature_names_in_"):
        arrays["feature_names_in"] = np.asarray(estimator.feature_names_in_).astype(str)
    return arrays


def _same(a, b):
    """Whether ``a`` and ``b`` are the same value, in type and in every bit
    that matters (NaN equals NaN; arrays must have the same dtype)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        if _floats(a) and _floats(b):  # a long loss curve: compare at C speed
            return type(a) is type(b) and _same(np.array(a), np.array(b))
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_same(x, y) for x, y in zip(a, b))
        )
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        return a == b or (math.isnan(a) and math.isnan(b))
    try:
        return bool(a == b)
    except Exception:  # an object whose == is not a truth value
        return False


def _floats(values):
    return isinstance(values, list) and all(type(v) is float for v in values)


def _differences(estimator, loaded):
    """The names of the parameters and fitted attributes that differ."""
    params, loaded_params = estimator.get_params(), loaded.get_params()
    differ = [
        f"the parameter {name}={short.repr(value)} would load as "
        f"{short.repr(loaded_params.get(name))}"
        for name, value in params.items()
        if not _same(value, loaded_params.get(name))
    ]
    fitted = {k for k in vars(estimator) if estimator._is_fitted(k)}
    loaded_fitted = {k for k in vars(loaded) if loaded._is_fitted(k)}
    for name in sorted(fitted | loaded_fitted):
        value = getattr(estimator, name, None)
        if _same(value, getattr(loaded, name, None)):
            continue
        if name not in fitted or name not in loaded_fitted:
            differ.append(f"the fitted attribute {name} is not stored")
        elif isinstance(value, np.ndarray) and value.dtype.kind in "OU":
            differ.append(
                f"the strings of {name} would not load as they are (.npy strings "
                "lose trailing NUL characters)"
            )
        else:
            differ.append(f"the fitted attribute {name} would not load as it is")
    return differ


def _cannot_export(estimator, reason):
    return ValueError(
        f"Cannot export this {type(estimator).__name__} to .npz: {reason} "
        "Nothing was written."
    )


def export_bytes(estimator):
    """The bytes of the export of ``estimator``, checked to load back as it.

    Raises ValueError, with the reason, for a model that the format cannot
    represent or that the loader would refuse.
    """
    try:
        arrays = _archive(estimator)
    except _NotRepresentable as exc:
        raise _cannot_export(estimator, str(exc)) from None
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    try:
        loaded = import_npz(type(estimator), io.BytesIO(data))
    except InvalidModelFile as exc:
        raise _cannot_export(
            estimator,
            f"from_npz would refuse the file ({exc.reason.rstrip('.')}). Fix what "
            "it names (set_params for a parameter), or save the model with "
            "pickle or joblib.",
        ) from None
    differ = _differences(estimator, loaded)
    if differ:
        raise _cannot_export(
            estimator,
            f"the file would not load back as the same model: {'; '.join(differ)}. "
            "Save the model with pickle or joblib instead.",
        )
    return data


def export_npz(estimator, file):
    """Write the fitted ``estimator`` to ``file`` (a path or file object).

    A path gets ``.npz`` appended unless it ends with it (as with
    :func:`numpy.savez`), and is written atomically: the file is complete or,
    if anything fails, whatever was there before is left untouched. A file
    object is written to at its position.
    """
    data = export_bytes(estimator)
    if isinstance(file, str | bytes | os.PathLike):
        path = os.fsdecode(os.fspath(file))
        if not path.endswith(".npz"):
            path += ".npz"
        _write_atomically(path, data)
    elif callable(getattr(file, "write", None)):
        file.write(data)
    else:
        raise TypeError(
            f"to_npz expects a path or a binary file object, got {type(file).__name__}."
        )


def _write_atomically(path, data):
    """Write ``data`` to ``path`` by way of a temporary file and os.replace."""
    # Write through a symbolic link, as open() would; the temporary file must
    # be on the target's file system for os.replace.
    target = os.path.realpath(path)
    folder, name = os.path.split(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None  # a new file: 0o666 less the umask, as open() gives
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temp = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(temp, flags, 0o666)
            break
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
    try:
        with open(fd, "wb") as fp:
            _write_all(fp, data)
            fp.flush()
            os.fsync(fp.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _sync_folder(folder)


def _write_all(fp, data):
    fp.write(data)


def _sync_folder(folder):
    """Make the rename durable where the platform allows (POSIX)."""
    if not hasattr(os, "O_DIRECTORY"):  # pragma: no cover - Windows
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
    if not is_int(version) or version not in _READABLE_VERSIONS:
        fail(
            f"format version {short.repr(version)}; this version of "
            "sklearn-cgmlp reads versions "
            f"{' and '.join(map(str, _READABLE_VERSIONS))}."
        )
    if meta.get("estimator") != cls.__name__:
        fail(f"it holds a {short.repr(meta.get('estimator'))}, not a {cls.__name__}.")
    schema = {**_GENERIC_SCHEMA[version], **part.schema}
    missing, unknown = sorted(set(schema) - set(meta)), sorted(set(meta) - set(schema))
    if missing or unknown:
        fail(f"metadata misses keys {missing} and has unknown keys {unknown}.")
    for key, check in schema.items():
        check(key, meta[key])
    if version == 2:
        n_iter, scores = meta["n_iter"], meta["validation_scores"]
        if len(meta["loss_curve"]) != n_iter:
            fail(f"{len(meta['loss_curve'])} loss_curve values for n_iter={n_iter}.")
        if (scores is None) != (meta["best_validation_score"] is None):
            fail(
                "validation_scores and best_validation_score disagree on early "
                "stopping."
            )
        if scores is not None and len(scores) != n_iter:
            fail(f"{len(scores)} validation_scores for n_iter={n_iter}.")
    elif meta["n_layers"] != len(meta["hidden_units"]) + 2:
        fail(
            f"n_layers={meta['n_layers']}, but hidden_units="
            f"{short.repr(meta['hidden_units'])} gives "
            f"{len(meta['hidden_units']) + 2} layers."
        )
    part.check_metadata(meta)
    return meta


def _hidden_sizes(value, version):
    """The ``hidden_layer_sizes`` parameter: a list is a tuple; since version
    3 also an int, and ``{"__list__": [...]}`` a list."""
    kind = tuple
    if version >= 3:
        if is_int(value) and value >= 1:
            return value
        if isinstance(value, dict) and set(value) == {"__list__"}:
            kind, value = list, value["__list__"]
    if not isinstance(value, list) or not all(is_int(s) and s >= 1 for s in value):
        fail(
            "hidden_layer_sizes must be a list of positive integers (or, since "
            f"version 3, one), got {short.repr(value)}."
        )
    return kind(value)


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


def _estimator_from_params(cls, params, version):
    """An unfitted ``cls`` with the stored parameters, validated by sklearn."""
    estimator = cls()
    unknown = set(params) - set(estimator.get_params())
    if unknown:
        fail(f"unknown parameters {short.repr(sorted(unknown))}.")
    decoded = {}
    for name, value in params.items():
        if name == "hidden_layer_sizes":
            value = _hidden_sizes(value, version)
        elif name == "class_weight":
            value = _class_weight(value)
        decoded[name] = value
    estimator.set_params(**decoded)
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
    curves = ()
    if meta["format_version"] >= 3:
        early_stopping = meta["best_validation_score"] is not None
        if archive.has("validation_scores") != early_stopping:
            fail(
                "validation_scores and best_validation_score disagree on early "
                "stopping."
            )
        curves = ("loss_curve",) + (("validation_scores",) if early_stopping else ())
    # Lazily: the first gap fails before a huge n_weights builds a huge list.
    for name in itertools.chain(part.arrays, curves, weights):
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
    for name in curves:
        header = headers[name]
        if header.shape != (meta["n_iter"],) or header.dtype.newbyteorder("=") != (
            np.float64
        ):
            fail(
                f"{name} is {header.dtype} of shape {header.shape}; the metadata "
                f"implies float64 of shape ({meta['n_iter']},)."
            )
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
        version = meta["format_version"]
        estimator = _estimator_from_params(cls, meta["params"], version)
        if version >= 3:
            hidden = tuple(meta["hidden_units"])
        else:  # version 2 fitted the architecture of the parameter
            hidden = estimator.hidden_layer_sizes
            if meta["n_layers"] != len(hidden) + 2:
                fail(
                    f"n_layers={meta['n_layers']}, but hidden_layer_sizes={hidden} "
                    f"gives {len(hidden) + 2} layers."
                )
        units = (meta["n_features_in"], *hidden, meta["n_outputs"])
        headers = _headers(archive, meta, part, units)
        # Only now, with every size known to match the metadata, read data.
        arrays = {name: archive.read(name, h) for name, h in headers.items()}
    coefs = [arrays[f"coef_{i}"] for i in range(len(units) - 1)]
    intercepts = [arrays[f"intercept_{i}"] for i in range(len(units) - 1)]
    if not all(np.all(np.isfinite(a)) for a in coefs + intercepts):
        fail("weights are not all finite.")
    best = meta["best_validation_score"]
    if version >= 3:
        loss_curve = arrays["loss_curve"].tolist()
        if not all(map(math.isfinite, loss_curve)):
            fail("loss_curve values are not all finite.")
        scores = arrays.get("validation_scores")
        scores = None if scores is None else scores.tolist()
        best = None if best is None else float(_decode_float(best))
    else:
        loss_curve = [float(v) for v in meta["loss_curve"]]
        scores = meta["validation_scores"]
        scores = None if scores is None else [float(v) for v in scores]
        best = None if best is None else float(best)
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
        # Version 2 predates cached line searches: no trials.
        "n_line_trials_": meta.get("n_line_trials", 0),
        "t_": meta["t"],
        "loss_": float(meta["loss"]),
        "best_loss_": None if meta["best_loss"] is None else float(meta["best_loss"]),
        "loss_curve_": loss_curve,
        "validation_scores_": scores,
        "best_validation_score_": best,
    }
    if "feature_names_in" in arrays:
        fitted["feature_names_in_"] = arrays["feature_names_in"].astype(object)
    for name, value in fitted.items():
        setattr(estimator, name, value)
    return estimator
