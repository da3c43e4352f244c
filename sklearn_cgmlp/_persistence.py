"""Persistence: version stamps in pickles and a pickle-free ``.npz`` format.

A pickle records the package version that wrote it; loading it under another
version warns with :class:`InconsistentVersionWarning` (a subclass of
scikit-learn's, so the usual warning filters apply).

The ``.npz`` export holds only arrays and a JSON metadata string, and is read
with ``numpy.load(..., allow_pickle=False)``: loading it never executes code
from the file. The loader validates every shape and value before building an
estimator.
"""

import json
import warnings

import numpy as np
from sklearn.exceptions import InconsistentVersionWarning as _SklearnVersionWarning

from ._loss import HIDDEN_ACTIVATIONS
from ._version import __version__

FORMAT = "sklearn-cgmlp-npz"
FORMAT_VERSION = 1
_TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")


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
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "estimator": type(estimator).__name__,
        "params": _json_params(estimator.get_params()),
        "classes_kind": classes_kind,
        "target_type": estimator._target_type,
        "out_activation": estimator.out_activation_,
        "n_layers": int(estimator.n_layers_),
        "n_outputs": int(estimator.n_outputs_),
        "n_features_in": int(estimator.n_features_in_),
        "n_iter": int(estimator.n_iter_),
        "n_fun_evals": int(estimator.n_fun_evals_),
        "loss": float(estimator.loss_),
        "loss_curve": [float(v) for v in estimator.loss_curve_],
        "validation_scores": estimator.validation_scores_,
        "best_validation_score": estimator.best_validation_score_,
    }
    arrays = {"metadata": np.array(json.dumps(meta)), "classes": classes}
    for i, (coef, intercept) in enumerate(zip(estimator.coefs_, estimator.intercepts_)):
        arrays[f"coef_{i}"] = np.asarray(coef)
        arrays[f"intercept_{i}"] = np.asarray(intercept)
    if hasattr(estimator, "feature_names_in_"):
        arrays["feature_names_in"] = np.asarray(estimator.feature_names_in_).astype(str)
    np.savez(file, **arrays)


def _fail(message):
    raise ValueError(f"Invalid sklearn-cgmlp model file: {message}")


def import_npz(cls, file):
    """Build a fitted ``cls`` from an ``.npz`` file written by :func:`export_npz`."""
    with np.load(file, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    if "metadata" not in arrays or arrays["metadata"].dtype.kind != "U":
        _fail("no metadata.")
    try:
        meta = json.loads(str(arrays["metadata"]))
    except json.JSONDecodeError as exc:
        _fail(f"metadata is not JSON ({exc}).")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        _fail("not an sklearn-cgmlp export.")
    if meta.get("format_version") != FORMAT_VERSION:
        _fail(
            f"format version {meta.get('format_version')!r}; this version of "
            f"sklearn-cgmlp reads version {FORMAT_VERSION}."
        )
    if meta.get("estimator") != cls.__name__:
        _fail(f"it holds a {meta.get('estimator')!r}, not a {cls.__name__}.")

    params = dict(meta.get("params", {}))
    if isinstance(params.get("class_weight"), dict):
        cw = params["class_weight"]
        params["class_weight"] = dict(zip(cw["__labels__"], cw["__weights__"]))
    if isinstance(params.get("hidden_layer_sizes"), list):
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    estimator = cls()
    unknown = set(params) - set(estimator.get_params())
    if unknown:
        _fail(f"unknown parameters {sorted(unknown)}.")
    estimator.set_params(**params)
    try:
        estimator._validate_params()
    except Exception as exc:  # InvalidParameterError
        _fail(f"invalid parameters ({exc}).")

    n_layers = meta.get("n_layers")
    if not isinstance(n_layers, int) or n_layers < 2:
        _fail(f"n_layers={n_layers!r}.")
    coefs, intercepts = [], []
    for i in range(n_layers - 1):
        for name in (f"coef_{i}", f"intercept_{i}"):
            if name not in arrays:
                _fail(f"missing array {name!r}.")
        coef, intercept = arrays[f"coef_{i}"], arrays[f"intercept_{i}"]
        if coef.ndim != 2 or intercept.shape != (coef.shape[1],):
            _fail(f"layer {i} has shapes {coef.shape} and {intercept.shape}.")
        if i and coef.shape[0] != coefs[-1].shape[1]:
            _fail(f"layer {i} takes {coef.shape[0]} inputs, the previous gives "
                  f"{coefs[-1].shape[1]}.")  # fmt: skip
        coefs.append(coef)
        intercepts.append(intercept)
    extra = {n for n in arrays if n.startswith(("coef_", "intercept_"))} - {
        f"{p}_{i}" for p in ("coef", "intercept") for i in range(n_layers - 1)
    }
    if extra:
        _fail(f"unexpected arrays {sorted(extra)}.")
    dtypes = {a.dtype for a in coefs + intercepts}
    if len(dtypes) != 1 or dtypes.pop() not in (np.float32, np.float64):
        _fail("weights must all be float32 or all float64.")
    if not all(np.all(np.isfinite(a)) for a in coefs + intercepts):
        _fail("weights are not all finite.")
    hidden = [c.shape[1] for c in coefs[:-1]]
    if list(np.atleast_1d(estimator.hidden_layer_sizes)) != hidden:
        _fail(f"hidden_layer_sizes does not match the weights ({hidden}).")
    if estimator.activation not in HIDDEN_ACTIVATIONS:  # pragma: no cover
        _fail(f"activation {estimator.activation!r}.")

    n_features, n_outputs = coefs[0].shape[0], coefs[-1].shape[1]
    if meta.get("n_features_in") != n_features or meta.get("n_outputs") != n_outputs:
        _fail("n_features_in / n_outputs do not match the weights.")
    target_type, out_activation = meta.get("target_type"), meta.get("out_activation")
    expected_out = "softmax" if target_type == "multiclass" else "logistic"
    if target_type not in _TARGET_TYPES or out_activation != expected_out:
        _fail(f"target type {target_type!r} with output {out_activation!r}.")
    classes = arrays.get("classes")
    if classes is None or classes.ndim != 1:
        _fail("classes must be a 1-D array.")
    if meta.get("classes_kind") == "object":
        classes = classes.astype(object)
    elif classes.dtype.kind not in "iufbU":
        _fail(f"classes of dtype {classes.dtype}.")
    n_classes_expected = 2 if target_type == "binary" else n_outputs
    if len(classes) != n_classes_expected:
        _fail(f"{len(classes)} classes for a {target_type} output of {n_outputs}.")

    fitted = {
        "classes_": classes,
        "_target_type": target_type,
        "coefs_": coefs,
        "intercepts_": intercepts,
        "n_features_in_": n_features,
        "n_layers_": n_layers,
        "n_outputs_": n_outputs,
        "out_activation_": out_activation,
        "n_iter_": int(meta.get("n_iter", 0)),
        "n_fun_evals_": int(meta.get("n_fun_evals", 0)),
        "loss_": float(meta.get("loss", np.nan)),
        "loss_curve_": [float(v) for v in meta.get("loss_curve", [])],
        "validation_scores_": meta.get("validation_scores"),
        "best_validation_score_": meta.get("best_validation_score"),
    }
    if "feature_names_in" in arrays:
        names = arrays["feature_names_in"]
        if names.shape != (n_features,) or names.dtype.kind != "U":
            _fail("feature names do not match the number of features.")
        fitted["feature_names_in_"] = names.astype(object)
    for name, value in fitted.items():
        setattr(estimator, name, value)
    return estimator
