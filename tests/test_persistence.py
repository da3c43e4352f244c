"""The pickle-free ``.npz`` format: round trips, and hostile or damaged files.

The loader's contract: a file either loads into a working estimator or raises
ValueError("Invalid sklearn-cgmlp model file: ..."), never another exception,
and it never allocates much more than the file's own size.
"""

import copy
import io
import json
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sklearn_cgmlp import CGMLPClassifier
from sklearn_cgmlp._npz import read as npz_read

PREFIX = "Invalid sklearn-cgmlp model file: "


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return func(*args, **kwargs)


@pytest.fixture(scope="module")
def fitted(iris):
    X, y = iris
    return CGMLPClassifier(
        hidden_layer_sizes=(6,), activation="tanh", random_state=0
    ).fit(X, np.array(["setosa", "versicolor", "virginica"])[y])


@pytest.fixture(scope="module")
def exports(iris, write_npz_version_2):
    """Small exports of every target type and of every optional field, and
    one in format version 2 (which is still read, by its own rules)."""
    pd = pytest.importorskip("pandas")
    X, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])
    df = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    models = {
        "multiclass": quiet(
            CGMLPClassifier(
                hidden_layer_sizes=(3,),
                max_iter=5,
                random_state=0,
                class_weight={"setosa": 2.0, "virginica": 0.5},
            ).fit,
            df,
            labels[y],
        ),
        "binary": quiet(
            CGMLPClassifier(
                hidden_layer_sizes=(2, 2),
                max_iter=5,
                random_state=0,
                early_stopping=True,
                validation_fraction=0.2,
            ).fit,
            X.astype(np.float32),
            np.where(y == 0, 3, 7),
        ),
        "multilabel": quiet(
            CGMLPClassifier(hidden_layer_sizes=(2,), max_iter=3, random_state=0).fit,
            X,
            np.column_stack([y == 0, y == 1]).astype(int),
        ),
    }
    blobs = {name: _blob(model) for name, model in models.items()}
    version_2 = io.BytesIO()
    write_npz_version_2(models["binary"], version_2)
    return {**blobs, "binary-v2": version_2.getvalue()}


def _blob(model):
    buffer = io.BytesIO()
    model.to_npz(buffer)
    return buffer.getvalue()


def _members(blob):
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _zip(members, compression=zipfile.ZIP_STORED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    out.seek(0)
    return out


def _npy(array):
    buffer = io.BytesIO()
    npy_format.write_array(buffer, np.asarray(array), allow_pickle=True)
    return buffer.getvalue()


def _metadata(blob):
    data = _members(blob)["metadata.npy"]
    return json.loads(np.load(io.BytesIO(data)).item())


def _with_metadata(blob, meta):
    members = _members(blob)
    members["metadata.npy"] = _npy(np.array(json.dumps(meta)))
    return _zip(members)


def _with_members(blob, **changes):
    """The archive with members replaced (an array) or dropped (None)."""
    members = _members(blob)
    for name, value in changes.items():
        members.pop(f"{name}.npy", None)
        if value is not None:
            members[f"{name}.npy"] = value if isinstance(value, bytes) else _npy(value)
    return _zip(members)


def load_or_reject(file, case=""):
    """Load ``file``; assert that it is refused our way or works as a model."""
    try:
        model = CGMLPClassifier.from_npz(file)
    except ValueError as exc:
        assert str(exc).startswith(PREFIX), f"{case}: {exc}"
        return None
    except Exception as exc:  # any other exception is the failure under test
        raise AssertionError(f"{case}: {type(exc).__name__}: {exc}") from exc
    X = np.random.RandomState(0).randn(5, model.n_features_in_)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # X is a plain array, and the model may carry feature names.
        warnings.filterwarnings(
            "ignore", "X does not have valid feature names", UserWarning
        )
        proba = model.predict_proba(X)
        predicted = model.predict(X)
    multilabel = model._target_type == "multilabel-indicator"
    n_columns = model.n_outputs_ if multilabel else len(model.classes_)
    assert proba.shape == (5, n_columns), case
    assert multilabel or set(predicted) <= set(model.classes_), case
    assert model.n_iter_ == len(model.loss_curve_), case
    model._validate_params()
    return model


# ------------------------------------------------------------- round trips
@pytest.mark.parametrize(
    "labels",
    [
        np.array(["setosa", "versicolor", "virginica"]),
        np.array(["setosa", "versicolor", "virginica"], dtype=object),
        np.array([3, 7, 11]),
        np.array([0.0, 1.0, 2.0]),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_npz_export_round_trip(iris, labels, dtype, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame(X.astype(dtype), columns=["sl", "sw", "pl", "pw"])
    clf = CGMLPClassifier(
        hidden_layer_sizes=(6, 3), class_weight="balanced", random_state=0
    )
    quiet(clf.fit, df, labels[y])
    path = tmp_path / "model.npz"
    clf.to_npz(path)
    loaded = CGMLPClassifier.from_npz(path)
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(df), clf.predict_proba(df))
    np.testing.assert_array_equal(loaded.predict(df), clf.predict(df))
    assert loaded.predict(df).dtype == clf.predict(df).dtype
    np.testing.assert_array_equal(loaded.feature_names_in_, clf.feature_names_in_)
    assert loaded.coefs_[0].dtype == dtype
    assert loaded.loss_curve_ == clf.loss_curve_
    # Warm start continues from the loaded weights.
    loaded.set_params(warm_start=True, max_iter=5)
    quiet(loaded.fit, df, labels[y])


def test_npz_export_of_binary_and_multilabel_models(iris):
    X, y = iris
    for target in [(y == 0).astype(int), np.column_stack([y == 0, y == 1]).astype(int)]:
        clf = quiet(
            CGMLPClassifier(hidden_layer_sizes=(4,), random_state=0).fit, X, target
        )
        buffer = io.BytesIO()
        clf.to_npz(buffer)
        buffer.seek(0)
        loaded = CGMLPClassifier.from_npz(buffer)
        np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_every_fitted_number_and_optional_field_round_trips(exports, iris):
    binary = load_or_reject(io.BytesIO(exports["binary"]))
    assert binary.early_stopping
    assert len(binary.validation_scores_) == binary.n_iter_ > 0
    assert binary.best_validation_score_ == max(binary.validation_scores_)
    assert binary.coefs_[0].dtype == np.float32
    multiclass = load_or_reject(io.BytesIO(exports["multiclass"]))
    assert multiclass.class_weight == {"setosa": 2.0, "virginica": 0.5}
    assert multiclass.validation_scores_ is None
    assert list(multiclass.feature_names_in_) == ["sl", "sw", "pl", "pw"]


def test_weights_of_the_other_byte_order_load(fitted, iris):
    blob = _blob(fitted)
    swapped = {
        name: fitted.coefs_[i].astype(">f8")
        for i, name in enumerate(["coef_0", "coef_1"])
    }
    loaded = load_or_reject(_with_members(blob, **swapped))
    assert loaded.coefs_[0].dtype == np.float64
    np.testing.assert_array_equal(
        loaded.predict_proba(iris[0]), fitted.predict_proba(iris[0])
    )


def test_npz_needs_a_fitted_model():
    with pytest.raises(NotFittedError):
        CGMLPClassifier().to_npz(io.BytesIO())


# ------------------------------------------------------- inconsistent files
def _tampered(fitted, **changes):
    return _with_members(_blob(fitted), **changes)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"coef_0": np.zeros((3, 6))}, r"'coef_0' has shape \(3, 6\); the metadata"),
        ({"intercept_1": np.zeros(2)}, r"'intercept_1' has shape \(2,\)"),
        ({"coef_1": None}, "missing array 'coef_1'"),
        ({"coef_0": np.full((4, 6), np.nan)}, "not all finite"),
        ({"coef_0": np.zeros((4, 6), dtype=np.int64)}, "float32 or all float64"),
        ({"coef_0": np.zeros((4, 6), dtype=np.float32)}, "float32 or all float64"),
        ({"classes": np.array(["a", "b"])}, "2 classes for a multiclass output of 3"),
        ({"classes": np.array(["a", "c", "b"])}, "not sorted and unique"),
        ({"classes": np.array(["a", "a", "b"])}, "not sorted and unique"),
        ({"classes": np.array([0.0, np.nan, 2.0])}, "classes of dtype float64"),
        ({"classes": np.array([["a", "b", "c"]])}, "classes must be a 1-D array"),
        ({"feature_names_in": np.array(["a", "b"])}, "feature names do not match"),
        ({"metadata": np.array("{not json")}, "metadata is not JSON"),
        ({"metadata": np.array(b"{}")}, "no metadata"),
        ({"metadata": None}, "no metadata"),
        ({"coef_9": np.zeros((2, 2))}, r"unexpected arrays \['coef_9'\]"),
        ({"extra": np.zeros(2)}, r"unexpected arrays \['extra.npy'\]"),
        ({"coef_0": b"not an npy file at all"}, "'coef_0' is not a valid .npy"),
        ({"coef_0": _npy(np.zeros((4, 6)))[:-8]}, "declares shape"),
        ({"coef_0": _npy(np.zeros((4, 6))) + b"x"}, "declares shape"),
    ],
)
def test_npz_loader_rejects_inconsistent_files(fitted, changes, match):
    with pytest.raises(ValueError, match=PREFIX + ".*" + match):
        CGMLPClassifier.from_npz(_tampered(fitted, **changes))


_TRIPPED = []


def _trip():
    _TRIPPED.append("unpickled")


class _Tripwire:
    """Unpickling it runs code, which the loader must never do."""

    def __reduce__(self):
        return _trip, ()


@pytest.mark.parametrize("member", ["metadata", "classes", "coef_0"])
def test_npz_loader_never_unpickles(fitted, member):
    payload = np.array([_Tripwire()], dtype=object)
    with pytest.raises(ValueError, match="holds Python objects"):
        CGMLPClassifier.from_npz(_tampered(fitted, **{member: payload}))
    assert not _TRIPPED
    np.load(io.BytesIO(_npy(payload)), allow_pickle=True)  # the payload works
    assert _TRIPPED == ["unpickled"]
    _TRIPPED.clear()


def test_numeric_classes_with_nan_are_refused(iris):
    X, y = iris
    clf = quiet(
        CGMLPClassifier(hidden_layer_sizes=(2,), max_iter=3, random_state=0).fit,
        X,
        y.astype(float),
    )
    file = _with_members(_blob(clf), classes=np.array([0.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="not sorted and unique"):
        CGMLPClassifier.from_npz(file)


def _meta_case(path, value):
    def change(meta):
        *parents, last = path
        for key in parents:
            meta = meta[key]
        if value is _DROP:
            del meta[last]
        else:
            meta[last] = value

    return change


_DROP = object()

# Each case was loaded, or failed with another exception, before the loader
# checked the metadata against a schema.
METADATA_CASES = {
    "binary with two outputs": (
        lambda meta: meta.update(target_type="binary", out_activation="logistic"),
        "a binary target with 3 outputs",
    ),
    "multiclass with softmax missing": (
        _meta_case(["out_activation"], "logistic"),
        "target type 'multiclass' with output 'logistic'",
    ),
    "multilabel with string classes": (
        lambda meta: meta.update(
            target_type="multilabel-indicator", out_activation="logistic"
        ),
        "multilabel classes must be numeric",
    ),
    "hidden size 2.5": (
        _meta_case(["params", "hidden_layer_sizes"], [2.5]),
        "hidden_layer_sizes must be a list of positive integers",
    ),
    "hidden size True": (
        _meta_case(["params", "hidden_layer_sizes"], [True]),
        "hidden_layer_sizes must be a list",
    ),
    "hidden size '3'": (
        _meta_case(["params", "hidden_layer_sizes"], ["3"]),
        "hidden_layer_sizes must be a list",
    ),
    "n_iter a string": (_meta_case(["n_iter"], "5"), "n_iter='5' is not an integer"),
    "n_iter a bool": (_meta_case(["n_iter"], True), "n_iter=True is not an integer"),
    "n_iter negative": (_meta_case(["n_iter"], -1), "n_iter=-1 is not an integer"),
    "n_layers a float": (_meta_case(["n_layers"], 3.0), "n_layers=3.0"),
    "loss a list": (_meta_case(["loss"], [1.0]), r"loss=\[1.0\] is not a finite"),
    "loss NaN": (_meta_case(["loss"], float("nan")), "loss=nan is not a finite"),
    "loss infinite": (_meta_case(["loss"], float("inf")), "loss=inf is not a finite"),
    "params null": (_meta_case(["params"], None), "params=None is not a JSON"),
    "params a list": (_meta_case(["params"], []), r"params=\[\] is not a JSON"),
    "unknown parameter": (_meta_case(["params", "beta"], 1), r"unknown parameters"),
    "invalid parameter": (_meta_case(["params", "max_iter"], 0), "'max_iter' param"),
    "early_stopping an int": (
        _meta_case(["params", "early_stopping"], 1),
        "'early_stopping' parameter",
    ),
    "class_weight keys missing": (
        _meta_case(["params", "class_weight"], {"setosa": 2.0}),
        "malformed class_weight",
    ),
    "class_weight list labels": (
        _meta_case(
            ["params", "class_weight"], {"__labels__": [[1]], "__weights__": [1]}
        ),
        "malformed class_weight",
    ),
    "class_weight string weights": (
        _meta_case(
            ["params", "class_weight"], {"__labels__": ["a"], "__weights__": ["1"]}
        ),
        "malformed class_weight",
    ),
    "class_weight repeated labels": (
        _meta_case(
            ["params", "class_weight"],
            {"__labels__": [1, 1.0], "__weights__": [1.0, 2.0]},
        ),
        "repeat",
    ),
    "missing key": (_meta_case(["n_fun_evals"], _DROP), r"misses keys \['n_fun"),
    "unknown key": (_meta_case(["comment"], "hi"), r"unknown keys \['comment'\]"),
    "format version a bool": (_meta_case(["format_version"], True), "format version"),
    "format version 1": (_meta_case(["format_version"], 1), "format version 1"),
    "format version 4": (
        _meta_case(["format_version"], 4),
        "format version 4; this version of sklearn-cgmlp reads versions 2 and 3",
    ),
    "another estimator": (_meta_case(["estimator"], "SVC"), "holds a 'SVC'"),
    "not a dict": (lambda meta: meta.clear(), "not an sklearn-cgmlp export"),
    "target type unknown": (_meta_case(["target_type"], "continuous"), "one of"),
}
# Version 2 kept the loss curve and the validation scores in the metadata, and
# took the architecture from hidden_layer_sizes.
V2_METADATA_CASES = {
    "hidden sizes an int": (
        _meta_case(["params", "hidden_layer_sizes"], 6),
        "hidden_layer_sizes must be a list",
    ),
    "hidden sizes against n_layers": (
        _meta_case(["params", "hidden_layer_sizes"], [6, 6]),
        "n_layers=3, but hidden_layer_sizes=",
    ),
    "hidden size against the weights": (
        _meta_case(["params", "hidden_layer_sizes"], [5]),
        r"'coef_0' has shape \(4, 6\); the metadata implies \(4, 5\)",
    ),
    "loss_curve a number": (_meta_case(["loss_curve"], 1.0), "is not a list"),
    "loss_curve of strings": (
        _meta_case(["loss_curve", 0], "a"),
        r"loss_curve\[0\]='a' is not a finite number",
    ),
    "loss_curve shorter than n_iter": (
        lambda meta: meta["loss_curve"].pop(),
        "loss_curve values for n_iter=",
    ),
    "validation_scores without best": (
        _meta_case(["validation_scores"], []),
        "disagree on early stopping",
    ),
    "validation_scores a dict": (
        lambda meta: meta.update(validation_scores={}, best_validation_score=0.5),
        "validation_scores={} is not a list",
    ),
    "validation_scores too short": (
        lambda meta: meta.update(validation_scores=[0.5], best_validation_score=0.5),
        "1 validation_scores for n_iter=",
    ),
    "version 3 keys missing": (
        _meta_case(["format_version"], 3),
        r"misses keys \['hidden_units', 'n_line_trials'\] and has unknown keys "
        r"\['loss_curve'",
    ),
}
# Version 3 keeps the fitted hidden widths apart from hidden_layer_sizes, which
# must give them and is stored as it was set where it does (an int, a tuple as
# a list, a tagged list), else as the widths.
V3_METADATA_CASES = {
    "hidden units an int": (_meta_case(["hidden_units"], 6), "hidden_units=6 is not"),
    "hidden unit 0": (
        _meta_case(["hidden_units", 0], 0),
        r"hidden_units\[0\]=0 is not an integer >= 1",
    ),
    "hidden unit a float": (
        _meta_case(["hidden_units", 0], 6.0),
        r"hidden_units\[0\]=6.0 is not an integer",
    ),
    "hidden units against n_layers": (
        _meta_case(["hidden_units"], [6, 6]),
        r"n_layers=3, but hidden_units=\[6, 6\] gives 4 layers",
    ),
    "hidden unit against the weights": (
        _meta_case(["hidden_units"], [5]),
        r"'coef_0' has shape \(4, 6\); the metadata implies \(4, 5\)",
    ),
    "hidden units missing": (_meta_case(["hidden_units"], _DROP), "misses keys"),
    "hidden size 0": (
        _meta_case(["params", "hidden_layer_sizes"], 0),
        "hidden_layer_sizes must be a list",
    ),
    "hidden sizes a float": (
        _meta_case(["params", "hidden_layer_sizes"], 6.0),
        "hidden_layer_sizes must be a list",
    ),
    "hidden sizes a bad tag": (
        _meta_case(["params", "hidden_layer_sizes"], {"__tuple__": [6]}),
        "hidden_layer_sizes must be a list",
    ),
    "hidden sizes a tagged list of floats": (
        _meta_case(["params", "hidden_layer_sizes"], {"__list__": [2.5]}),
        "hidden_layer_sizes must be a list",
    ),
    "hidden sizes a tagged list with more": (
        _meta_case(["params", "hidden_layer_sizes"], {"__list__": [6], "x": 1}),
        "hidden_layer_sizes must be a list",
    ),
    "best score without scores": (
        _meta_case(["best_validation_score"], 0.5),
        "disagree on early stopping",
    ),
    "best score a bare string": (
        _meta_case(["best_validation_score"], "nan"),
        "best_validation_score='nan' is not a finite number",
    ),
    "best score a bad tag": (
        _meta_case(["best_validation_score"], {"__float__": "NaN"}),
        "is not a finite number",
    ),
    "best score a tag with more": (
        _meta_case(["best_validation_score"], {"__float__": "nan", "x": 1}),
        "is not a finite number",
    ),
    "loss_curve in the metadata": (
        _meta_case(["loss_curve"], [1.0]),
        r"unknown keys \['loss_curve'\]",
    ),
}


@pytest.fixture(scope="module")
def fitted_blobs(fitted, write_npz_version_2):
    """The export of ``fitted`` in each format version."""
    version_2 = io.BytesIO()
    write_npz_version_2(fitted, version_2)
    return {2: version_2.getvalue(), 3: _blob(fitted)}


@pytest.mark.parametrize(
    "version, case",
    [(v, case) for v in (2, 3) for case in METADATA_CASES]
    + [(2, case) for case in V2_METADATA_CASES]
    + [(3, case) for case in V3_METADATA_CASES],
)
def test_self_contradicting_metadata_is_refused(fitted_blobs, version, case):
    cases = {**METADATA_CASES, **(V2_METADATA_CASES, V3_METADATA_CASES)[version - 2]}
    change, match = cases[case]
    blob = fitted_blobs[version]
    meta = _metadata(blob)
    assert meta["format_version"] == version
    change(meta)
    with pytest.raises(ValueError, match=PREFIX + ".*" + match):
        CGMLPClassifier.from_npz(_with_metadata(blob, meta))


def test_curves_are_checked_against_the_metadata(fitted, exports):
    n_iter = fitted.n_iter_
    blob = _blob(fitted)
    for changes, match in [
        ({"loss_curve": None}, "missing array 'loss_curve'"),
        ({"loss_curve": np.zeros(n_iter + 1)}, rf"of shape \({n_iter + 1},\); the"),
        ({"loss_curve": np.zeros((n_iter, 1))}, rf"of shape \({n_iter}, 1\); the"),
        ({"loss_curve": np.zeros(n_iter, np.float32)}, "loss_curve is float32"),
        ({"loss_curve": np.array(["a"] * n_iter)}, "loss_curve is <U1"),
        ({"loss_curve": np.full(n_iter, np.inf)}, "loss_curve values are not all"),
        ({"validation_scores": np.zeros(n_iter)}, "disagree on early stopping"),
    ]:
        with pytest.raises(ValueError, match=PREFIX + ".*" + match):
            CGMLPClassifier.from_npz(_with_members(blob, **changes))
    early_stopping = exports["binary"]
    n_iter = _metadata(early_stopping)["n_iter"]
    for changes, match in [
        ({"validation_scores": None}, "disagree on early stopping"),
        ({"validation_scores": np.zeros(n_iter + 1)}, "validation_scores is float64"),
    ]:
        with pytest.raises(ValueError, match=PREFIX + ".*" + match):
            CGMLPClassifier.from_npz(_with_members(early_stopping, **changes))
    # NaN scores are what an undefined score records, and load. No NaN score
    # beats another, so such a fit keeps its last iterate and loss.
    scores = np.full(n_iter, np.nan)
    meta = _metadata(early_stopping)
    meta["loss"] = np.load(
        io.BytesIO(_members(early_stopping)["loss_curve.npy"])
    ).tolist()[-1]
    loaded = CGMLPClassifier.from_npz(
        _with_members(
            early_stopping,
            metadata=np.array(json.dumps(meta)),
            validation_scores=scores.astype(">f8"),
        )
    )
    assert np.isnan(loaded.validation_scores_).all()
    assert type(loaded.validation_scores_[0]) is float


@pytest.mark.parametrize(
    "text, match",
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a": ' * 900 + "1" + "}" * 900, "nested too deeply"),
        ("1" * 5000, "metadata is not JSON .an integer of 5000 digits"),
        ('{"format": 1, "format": 2}', "a key appears twice"),
        ("null", "not an sklearn-cgmlp export"),
        ("", "metadata is not JSON"),
    ],
    ids=["deep-list", "deep-dict", "huge-int", "duplicate-key", "null", "empty"],
)
def test_hostile_json_is_refused(fitted, text, match):
    file = _with_members(_blob(fitted), metadata=np.array(text))
    with pytest.raises(ValueError, match=PREFIX + ".*" + match):
        CGMLPClassifier.from_npz(file)


def test_deep_nesting_inside_a_parameter_is_refused(fitted):
    blob = _blob(fitted)
    meta = _metadata(blob)
    meta["params"]["verbose"] = json.loads("[" * 900 + "]" * 900)
    with pytest.raises(ValueError, match="nested too deeply"):
        CGMLPClassifier.from_npz(_with_metadata(blob, meta))


# ----------------------------------------------------- files that are not ours
def test_what_is_not_an_npz_archive_is_refused(fitted, tmp_path):
    npy = io.BytesIO(_npy(fitted.coefs_[0]))
    with pytest.raises(ValueError, match=PREFIX + "not a readable .npz"):
        CGMLPClassifier.from_npz(npy)
    blob = _blob(fitted)
    for size in (0, 10, len(blob) // 2, len(blob) - 30):
        with pytest.raises(ValueError, match=PREFIX):
            CGMLPClassifier.from_npz(io.BytesIO(blob[:size]))
    with pytest.raises(ValueError, match="not a regular file"):
        CGMLPClassifier.from_npz(tmp_path)
    with pytest.raises(ValueError, match="binary mode"):
        CGMLPClassifier.from_npz(io.StringIO("PK"))
    for not_a_file in (42, None, [blob]):
        with pytest.raises(ValueError, match="expected a path or a binary file"):
            CGMLPClassifier.from_npz(not_a_file)
    with pytest.raises(FileNotFoundError):  # not a model file: OSError as usual
        CGMLPClassifier.from_npz(tmp_path / "missing.npz")


def test_zip_structure_is_checked(fitted):
    members = _members(_blob(fitted))
    twice = _zip({**members})
    with (
        zipfile.ZipFile(twice, "a") as zf,
        pytest.warns(UserWarning, match="Duplicate name"),
    ):
        zf.writestr("coef_0.npy", members["coef_0.npy"])
    with pytest.raises(ValueError, match="two members of the same name"):
        CGMLPClassifier.from_npz(twice)
    with pytest.raises(ValueError, match="unsupported compression"):
        CGMLPClassifier.from_npz(_zip(members, zipfile.ZIP_BZIP2))
    # Deflated archives (np.savez_compressed) are read.
    load_or_reject(_zip(members, zipfile.ZIP_DEFLATED))
    assert load_or_reject(_zip(members, zipfile.ZIP_DEFLATED)) is not None
    version3 = bytearray(members["coef_0.npy"])
    version3[6] = 3
    with pytest.raises(ValueError, match="format version"):
        CGMLPClassifier.from_npz(_zip({**members, "coef_0.npy": bytes(version3)}))


# ------------------------------------------------------------- memory bounds
def _huge_header(shape, dtype="<f8"):
    buffer = io.BytesIO()
    header = {"descr": dtype, "fortran_order": False, "shape": shape}
    npy_format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def _peak_bytes_of_load(file):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=PREFIX) as info:
            CGMLPClassifier.from_npz(file)
        return tracemalloc.get_traced_memory()[1], str(info.value)
    finally:
        tracemalloc.stop()


def _huge_model(fitted, n_features):
    """The metadata of ``fitted`` claiming ``n_features`` inputs."""
    meta = _metadata(_blob(fitted))
    meta["n_features_in"] = n_features
    return _npy(np.array(json.dumps(meta)))


def test_a_declared_array_larger_than_its_entry_is_not_allocated(fitted):
    n_features = 10**8  # coef_0 of 10**8 x 6 float64: 4.8 GB
    members = _members(_blob(fitted))
    members["metadata.npy"] = _huge_model(fitted, n_features)
    members["coef_0.npy"] = _huge_header((n_features, 6)) + b"\0" * 64
    peak, message = _peak_bytes_of_load(_zip(members))
    assert "'coef_0' declares shape (100000000, 6)" in message
    assert peak < 5_000_000


def test_a_zip_directory_that_lies_about_sizes_is_not_trusted(fitted):
    blob = bytearray(_blob(fitted))
    # Claim 4 GB for the first stored member in the central directory, both
    # compressed and uncompressed (offsets 20 and 24 of its record).
    directory = blob.index(b"PK\x01\x02")
    blob[directory + 20 : directory + 28] = b"\xff\xff\xff\xef" * 2
    peak, message = _peak_bytes_of_load(io.BytesIO(bytes(blob)))
    assert "claims more data than the file holds" in message
    assert peak < 5_000_000


def test_a_compression_bomb_is_not_inflated(fitted):
    n_features = 10**6  # coef_0 of 10**6 x 6 float64: 48 MB of zeros
    out = io.BytesIO()
    members = _members(_blob(fitted))
    members["metadata.npy"] = _huge_model(fitted, n_features)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if name != "coef_0.npy":
                zf.writestr(name, data)
        with zf.open("coef_0.npy", "w") as fp:
            fp.write(_huge_header((n_features, 6)))
            zeros = bytes(1 << 20)
            for _ in range(n_features * 6 * 8 >> 20):
                fp.write(zeros)
            fp.write(bytes(n_features * 6 * 8 % (1 << 20)))
    assert len(out.getvalue()) < 200_000
    out.seek(0)
    peak, message = _peak_bytes_of_load(out)
    assert "the archive inflates" in message
    assert peak < 5_000_000


def test_metadata_longer_than_the_cap_is_not_read(fitted, monkeypatch):
    blob = _blob(fitted)  # before the cap drops: the writer checks it too
    monkeypatch.setattr(npz_read, "_MAX_METADATA_CHARS", 100)
    with pytest.raises(ValueError, match=PREFIX + "metadata longer than 100 char"):
        CGMLPClassifier.from_npz(io.BytesIO(blob))


# -------------------------------------------------------------------- fuzzing
HOSTILE_VALUES = [
    None, True, False, 0, -1, 1, 2.5, 10**30, -(10**30), float("nan"),
    float("inf"), "", "3", "relu", [], [1, "a"], [[1]], {}, {"a": 1},
]  # fmt: skip


def _paths(value, path=()):
    """Every key of the metadata, and the first and last item of every list."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list) and value:
        yield from _paths(value[0], (*path, 0))
        yield from _paths(value[-1], (*path, -1))


@pytest.mark.parametrize("model", ["multiclass", "binary", "multilabel", "binary-v2"])
def test_fuzz_metadata_values(exports, model):
    blob = exports[model]
    meta = _metadata(blob)
    loaded = 0
    for path in list(_paths(meta))[1:]:
        for value in HOSTILE_VALUES:
            changed = copy.deepcopy(meta)
            _meta_case(list(path), value)(changed)
            file = _with_metadata(blob, changed)
            loaded += load_or_reject(file, f"{path}={value!r}") is not None
    assert loaded > 0  # some values are valid (verbose=1, a loss of 2.5, ...)


def _mutations(rng, data, near=None):
    """Random damage to ``data``: flipped, dropped, inserted or cut bytes.

    ``near``, a list of offsets, draws where the damage starts close to one
    of them.
    """
    data = bytearray(data)
    kind = rng.randint(4)
    if near:
        position = min(near[rng.randint(len(near))] + rng.randint(64), len(data) - 1)
    else:
        position = rng.randint(len(data))
    if kind == 0:
        for at in position + rng.randint(8, size=rng.randint(1, 4)):
            data[min(at, len(data) - 1)] ^= 1 << rng.randint(8)
    elif kind == 1:
        del data[position : position + rng.randint(1, 16)]
    elif kind == 2:
        data[position:position] = rng.bytes(rng.randint(1, 16))
    else:
        del data[position:]
    return bytes(data)


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
@pytest.mark.parametrize("model", ["multiclass", "binary", "multilabel", "binary-v2"])
def test_fuzz_damaged_archives(exports, model, compression):
    rng = np.random.RandomState(0)
    blob = _zip(_members(exports[model]), compression).getvalue()
    # Half of the damage goes to the zip headers and directory, whose records
    # start with "PK"; damage to the data mostly trips the CRC check.
    records = [i for i in range(len(blob) - 1) if blob[i : i + 2] == b"PK"]
    for trial in range(150):
        damaged = _mutations(rng, blob, near=records if trial % 2 else None)
        load_or_reject(io.BytesIO(damaged), f"archive {trial}")


# numpy parses .npy headers with ast.literal_eval, which warns on some damage.
@pytest.mark.filterwarnings("ignore:invalid escape sequence:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:invalid escape sequence:SyntaxWarning")
@pytest.mark.parametrize("model", ["multiclass", "binary", "multilabel", "binary-v2"])
def test_fuzz_damaged_members(exports, model):
    """Damage inside a member, re-zipped so that its checksum is right."""
    rng = np.random.RandomState(1)
    members = _members(exports[model])
    names = sorted(members)
    for trial in range(200):
        name = names[rng.randint(len(names))]
        data = members[name]
        # Half of the damage goes to the .npy header, where the parsing is.
        damaged = _mutations(rng, data[:128]) + data[128:]
        if rng.randint(2):
            damaged = _mutations(rng, data)
        case = f"member {name} trial {trial}"
        load_or_reject(_zip({**members, name: damaged}), case)


@pytest.mark.parametrize("model", ["multiclass", "binary", "multilabel", "binary-v2"])
def test_fuzz_damaged_metadata_text(exports, model):
    rng = np.random.RandomState(2)
    members = _members(exports[model])
    text = np.load(io.BytesIO(members["metadata.npy"])).item().encode()
    for trial in range(150):
        damaged = _mutations(rng, text).decode("utf-8", "replace")
        file = _zip({**members, "metadata.npy": _npy(np.array(damaged))})
        load_or_reject(file, f"metadata trial {trial}: {damaged!r}")


@pytest.mark.parametrize("model", ["multiclass", "binary", "multilabel", "binary-v2"])
def test_fuzz_swapped_dropped_and_copied_members(exports, model):
    members = _members(exports[model])
    names = sorted(members)
    for a in names:
        load_or_reject(_zip({n: d for n, d in members.items() if n != a}), f"-{a}")
        for b in names:
            if a != b:
                swapped = {**members, a: members[b], b: members[a]}
                load_or_reject(_zip(swapped), f"{a}<->{b}")
                load_or_reject(_zip({**members, a: members[b]}), f"{a}:={b}")
