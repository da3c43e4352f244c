"""Import from ``.npz``: every header checked against the metadata before any
array data is read (see :mod:`sklearn_cgmlp._npz`)."""

import itertools
import re

import numpy as np

from .._activations import is_per_layer
from .._safe_read import fail, is_int, is_real, open_archive, parse_json, short
from .consistency import check_model
from .schema import (
    FORMAT,
    GENERIC_SCHEMA,
    PARAMS_WRITTEN,
    READABLE_VERSIONS,
    SEQUENCE_PARAMS,
    decode_float,
    estimator_part,
)

# A longer metadata string is refused before it is read. Since version 3 the
# metadata does not grow with the training history; only parameters (a
# class_weight dict of many labels) can make it long.
_MAX_METADATA_CHARS = 1 << 24
_MEMBER_NAME = re.compile(
    r"(metadata|classes|feature_names_in|loss_curve|validation_scores"
    r"|(?:coef|intercept)_(?:0|[1-9][0-9]*))\.npy"
)


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
    if not is_int(version) or version not in READABLE_VERSIONS:
        fail(
            f"format version {short.repr(version)}; this version of "
            "sklearn-cgmlp reads versions "
            f"{' and '.join(map(str, READABLE_VERSIONS))}."
        )
    if meta.get("estimator") != cls.__name__:
        fail(f"it holds a {short.repr(meta.get('estimator'))}, not a {cls.__name__}.")
    schema = {**GENERIC_SCHEMA[version], **part.schema}
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


def _sequence(name, value):
    """A parameter of ``SEQUENCE_PARAMS``: a JSON list is a tuple,
    ``{"__list__": [...]}`` a list, anything else as it is (the parameter
    validation judges the items)."""
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        if set(value) != {"__list__"} or not isinstance(value["__list__"], list):
            fail(f"malformed {name} {short.repr(value)}.")
        return list(value["__list__"])
    return value


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


def _estimator_from_params(cls, part, params, version):
    """An unfitted ``cls`` with the stored parameters, validated by sklearn."""
    estimator = cls()
    unknown = set(params) - set(estimator.get_params())
    if unknown:
        fail(f"unknown parameters {short.repr(sorted(unknown))}.")
    missing = set(PARAMS_WRITTEN[version] + part.params) - set(params)
    if missing:
        fail(
            f"params lack {sorted(missing)}, which every version {version} file holds."
        )
    decoded = {}
    for name, value in params.items():
        if name == "hidden_layer_sizes":
            value = _hidden_sizes(value, version)
        elif name == "class_weight":
            value = _class_weight(value)
        elif name in SEQUENCE_PARAMS:
            value = _sequence(name, value)
        decoded[name] = value
    estimator.set_params(**decoded)
    try:
        estimator._validate_params()
    except (ValueError, TypeError) as exc:  # InvalidParameterError is both
        fail(f"invalid parameters ({exc}).")
    return estimator


def _headers(archive, meta, part, units):
    """Check membership and every array header against the metadata (whose
    hidden widths are ``hidden_units``, or in version 2 the parameter
    ``hidden_layer_sizes``)."""
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
    widths = "hidden_units" if meta["format_version"] >= 3 else "hidden_layer_sizes"
    for i in range(n_weights):
        for name, shape in (
            (f"coef_{i}", (units[i], units[i + 1])),
            (f"intercept_{i}", (units[i + 1],)),
        ):
            if headers[name].shape != shape:
                fail(
                    f"layer {i} array {name!r} has shape {headers[name].shape}; "
                    f"the metadata implies {shape} (n_features_in, {widths} "
                    "and n_outputs)."
                )
    dtypes = {
        headers[f"{p}_{i}"].dtype.newbyteorder("=")
        for i in range(n_weights)
        for p in ("coef", "intercept")
    }
    if len(dtypes) != 1 or next(iter(dtypes)) not in (np.float32, np.float64):
        fail(
            "weights (coef_i and intercept_i) must all be float32 or all float64, "
            f"got {sorted(map(str, dtypes))}."
        )
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
    """Build a fitted ``cls`` from an ``.npz`` file written by
    :func:`~sklearn_cgmlp._npz.write.export_npz`."""
    part = estimator_part(cls)
    with open_archive(file, _MEMBER_NAME) as archive:
        meta = _read_metadata(archive, cls, part)
        version = meta["format_version"]
        estimator = _estimator_from_params(cls, part, meta["params"], version)
        if version >= 3:
            hidden = tuple(meta["hidden_units"])
        else:  # version 2 fitted the architecture of the parameter
            hidden = estimator.hidden_layer_sizes
            if meta["n_layers"] != len(hidden) + 2:
                fail(
                    f"n_layers={meta['n_layers']}, but hidden_layer_sizes={hidden} "
                    f"gives {len(hidden) + 2} layers."
                )
        activation = estimator.activation
        if is_per_layer(activation) and len(activation) != len(hidden):
            fail(
                f"activation={short.repr(activation)} names {len(activation)} "
                f"activations for {len(hidden)} hidden layers."
            )
        units = (meta["n_features_in"], *hidden, meta["n_outputs"])
        headers = _headers(archive, meta, part, units)
        # Only now, with every size known to match the metadata, read data.
        arrays = {name: archive.read(name, h) for name, h in headers.items()}
    coefs = [arrays[f"coef_{i}"] for i in range(len(units) - 1)]
    intercepts = [arrays[f"intercept_{i}"] for i in range(len(units) - 1)]
    best = meta["best_validation_score"]
    if version >= 3:
        loss_curve = arrays["loss_curve"].tolist()
        scores = arrays.get("validation_scores")
        scores = None if scores is None else scores.tolist()
        best = None if best is None else float(decode_float(best))
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
    # Well formed; now whether its values agree as a fit leaves them.
    check_model(estimator, part.checks)
    return estimator
