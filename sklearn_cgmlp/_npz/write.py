"""Export to ``.npz``: checked to load back as the same model, then written
atomically (see :mod:`sklearn_cgmlp._npz`)."""

import contextlib
import io
import json
import math
import os
import secrets
import stat

import numpy as np

from .._safe_read import InvalidModelFile, is_int, is_real, short
from .._version import __version__
from .consistency import fitted_widths, hidden_widths
from .read import import_npz
from .schema import (
    FORMAT,
    FORMAT_VERSION,
    SEQUENCE_PARAMS,
    NotRepresentable,
    estimator_part,
)


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
    """The constructor parameters, each as it was set; or NotRepresentable."""
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
        raise NotRepresentable(
            f"hidden_layer_sizes={short.repr(value)} is not an int, a tuple or a "
            "list of ints, which is what the file can hold; set it to a tuple "
            "with set_params before exporting."
        )
    if name in SEQUENCE_PARAMS and isinstance(value, tuple | list):
        items = [_plain(v) for v in value]
        if all(isinstance(v, SEQUENCE_PARAMS[name]) for v in items):
            return items if isinstance(value, tuple) else {"__list__": items}
    if name == "class_weight" and isinstance(value, dict):
        return {
            "__labels__": [_plain(k) for k in value],
            "__weights__": [_json_number(name, v) for v in value.values()],
        }
    if name == "random_state" and not (value is None or is_int(value)):
        raise NotRepresentable(
            f"random_state is a {type(value).__name__}, whose state the file does "
            "not hold; set random_state to an int or None with set_params before "
            "exporting, or save the model with pickle or joblib."
        )
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _json_number(name, value)
    raise NotRepresentable(
        f"the parameter {name}={short.repr(value)} is a {type(value).__name__}, "
        "which the file's JSON metadata cannot hold; set it to a plain value "
        "with set_params before exporting, or save the model with pickle or "
        "joblib."
    )


def _json_number(name, value):
    value = _plain(value)
    if is_real(value) and not math.isfinite(value):
        raise NotRepresentable(
            f"the parameter {name} holds {value!r}, which JSON cannot hold (and "
            "no fit accepts); set it to a finite number with set_params before "
            "exporting."
        )
    return float(value) if isinstance(value, float) else value


def _finite_loss(name, value):
    value = _plain(value)
    if value is not None and not (is_real(value) and math.isfinite(value)):
        raise NotRepresentable(
            f"its fitted {name} is {short.repr(value)}, and the file holds finite "
            "losses only (a fit never records another); save the model with "
            "pickle or joblib instead."
        )
    return value


def _as_fitted(estimator):
    """A view of ``estimator`` whose parameters that define the fitted model
    have their values at fit: the file describes the fitted model.

    ``set_params`` after fit may change ``hidden_layer_sizes`` (and the
    regressor's ``loss``) without changing the weights or the output; the
    view takes the widths of the weights (a value that gives them, an int or
    a list, is kept as it is) and its part's fitted values. Other parameters
    are kept as they are now: they do not define the fitted model, or, as
    ``activation``, ``predict`` uses them as they are.
    """
    model = estimator._view()
    widths = fitted_widths(model)
    if hidden_widths(model.hidden_layer_sizes) != widths:
        model.set_params(hidden_layer_sizes=widths)
    estimator_part(type(model)).as_fitted(model)
    return model


def _archive(estimator):
    """The members of the export of ``estimator``, a host (NumPy) model."""
    part_meta, part_arrays = estimator_part(type(estimator)).export(estimator)
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
        raise NotRepresentable(
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
    represent or that the loader would refuse. The file describes the fitted
    model (:func:`_as_fitted`), and loads back as it.
    """
    try:
        estimator = _as_fitted(estimator)
        arrays = _archive(estimator)
    except NotRepresentable as exc:
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
