"""An export is a promise: ``from_npz(to_npz(m))`` is ``m``.

``to_npz`` writes only files that load back as the same model (the same
parameters, fitted attributes and bit-identical predictions), refuses what the
format cannot represent before it writes anything, and replaces an existing
file atomically. The loader's defence against hostile files is in
test_persistence.py.
"""

import errno
import io
import itertools
import json
import os
import stat
import zipfile

import numpy as np
import pytest

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor
from sklearn_cgmlp._npz import read as npz_read
from sklearn_cgmlp._npz import write as npz_write

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

OUTPUTS = [
    "binary",
    "multiclass",
    "multilabel",
    "identity",
    "identity-2",
    "poisson",
    "poisson-2",
    "huber",
    "gamma-2",
]
LOSS_OF_OUTPUT = {"identity": "squared_error", "poisson": "poisson", "huber": "huber"}
LOSS_OF_OUTPUT["gamma"] = "gamma"
SOLVERS = ["cg", "newton-cg", "trust-ncg", "lbfgs"]
VARIANTS = [
    "plain",
    "warm_start",
    "weights",
    "feature_names",
    "set_params",
    "everything",
]


def problem(output, dtype, n_samples=40):
    rng = np.random.RandomState(0)
    X = rng.randn(n_samples, 3).astype(dtype)
    signal = X @ np.array([1.0, -1.0, 0.5])
    if output == "binary":
        return CGMLPClassifier, X, np.where(signal > 0, "yes", "no")
    if output == "multiclass":
        return CGMLPClassifier, X, np.digitize(signal, [-0.5, 0.5]) + 3
    if output == "multilabel":
        return CGMLPClassifier, X, np.column_stack([signal > 0, X[:, 0] > 0]) * 1
    y = np.column_stack([signal, X[:, 1]])
    if output.startswith("poisson"):
        y = rng.poisson(np.exp(0.3 * y)).astype(float)
    elif output.startswith("gamma"):
        y = rng.gamma(2.0, np.exp(0.3 * y) / 2)
    elif output == "huber":
        y[::9] += 30.0  # outliers
    return CGMLPRegressor, X, y if output.endswith("-2") else y[:, 0]


def fitted_model(output, solver, dtype, early_stopping, variant):
    """A small fit of ``output`` with the options of ``variant``, and the
    parameters its export must load with (its fitted ones)."""
    pd = pytest.importorskip("pandas")
    cls, X, y = problem(output, dtype)
    params = dict(
        hidden_layer_sizes=(4, 3) if solver == "cg" else (3,),
        solver=solver,
        max_iter=3,
        random_state=0,
        early_stopping=early_stopping,
        validation_fraction=0.25,
        n_iter_no_change=1,
    )
    if cls is CGMLPRegressor:
        params["loss"] = LOSS_OF_OUTPUT[output.removesuffix("-2")]
        if params["loss"] == "huber":
            params["epsilon"] = 0.4
    everything = variant == "everything"
    fit_params = {}
    if variant in ("weights", "everything"):
        fit_params["sample_weight"] = np.linspace(0.5, 2.0, len(X)).astype(dtype)
        if cls is CGMLPClassifier and output != "multilabel":
            labels = np.unique(y)
            params["class_weight"] = {labels[0]: 2.0, labels[-1]: 0.5}
        elif cls is CGMLPClassifier:
            params["class_weight"] = "balanced"
    if variant in ("feature_names", "everything"):
        X = pd.DataFrame(X, columns=["a", "b", "c"])
    model = cls(**params).fit(X, y, **fit_params)
    if variant in ("warm_start", "everything"):
        model.set_params(warm_start=True, max_iter=2).fit(X, y, **fit_params)
    # What defines the fitted model: the file stores it as it was at fit.
    fitted = {
        name: params[name]
        for name in ("hidden_layer_sizes", "loss")
        if name in model.get_params()
    }
    if variant in ("set_params", "everything"):
        # Parameters changed after fit do not change the fitted model: the
        # file keeps the others as they are now, and those at fit.
        model.set_params(
            hidden_layer_sizes=[5, 5] if everything else 6,
            alpha=np.float32(0.5),
            early_stopping=not early_stopping,
            tol=0.0 if everything else 1e-3,
            max_iter=50,
            random_state=None,
            verbose=1,
        )
        if cls is CGMLPRegressor:
            other = {"poisson": "squared_error", "squared_error": "poisson"}
            other.update(huber="gamma", gamma="huber")
            model.set_params(loss=other[model.loss], epsilon=2.5)
        elif output != "multilabel":
            model.set_params(class_weight="balanced")
    return model, X, y, {**model.get_params(), **fitted}


def assert_same_value(a, b, what):
    """Equal in type and in every bit (NaN equals NaN)."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), what
        assert (a.dtype, a.shape) == (b.dtype, b.shape), what
        if a.dtype.kind == "O":
            assert a.tolist() == b.tolist(), what
            assert [type(v) for v in a.tolist()] == [type(v) for v in b.tolist()]
        else:
            assert a.tobytes() == b.tobytes(), what
    elif isinstance(a, list | tuple):
        assert type(a) is type(b) and len(a) == len(b), what
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_value(x, y, f"{what}[{i}]")
    elif isinstance(a, float):
        assert type(b) is float, what
        assert np.float64(a).tobytes() == np.float64(b).tobytes(), what
    else:
        assert type(a) is type(b) and a == b, what


def fitted_attributes(model):
    return {k: v for k, v in vars(model).items() if model._is_fitted(k)}


def assert_same_model(loaded, model, X, params=None):
    """``loaded`` is ``model``: parameters (``params`` where given: those at
    fit), fitted attributes, predictions."""
    assert type(loaded) is type(model)
    assert loaded.get_params() == (model.get_params() if params is None else params)
    attributes, loaded_attributes = fitted_attributes(model), fitted_attributes(loaded)
    assert loaded_attributes.keys() == attributes.keys()
    for name, value in attributes.items():
        assert_same_value(loaded_attributes[name], value, name)
    methods = ["predict"]
    if isinstance(model, CGMLPClassifier):
        methods += ["predict_proba", "predict_log_proba"]
    for method in methods:
        with np.errstate(divide="ignore"):  # log of a probability of 0
            expected = getattr(model, method)(X)
            got = getattr(loaded, method)(X)
        assert_same_value(got, expected, method)


def round_trip(model):
    buffer = io.BytesIO()
    assert model.to_npz(buffer) is model
    buffer.seek(0)
    return type(model).from_npz(buffer)


def metadata(data):
    """The metadata of an export, which must be standard JSON (no NaN)."""

    def refuse(token):
        raise AssertionError(f"the metadata holds {token}, which is not JSON")

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        text = np.load(io.BytesIO(zf.read("metadata.npy"))).item()
    return json.loads(text, parse_constant=refuse)


CASES = list(
    itertools.product(OUTPUTS, SOLVERS, [np.float32, np.float64], [False, True])
)


@pytest.mark.parametrize(
    "output, solver, dtype, early_stopping, variant",
    [(*case, VARIANTS[i % len(VARIANTS)]) for i, case in enumerate(CASES)],
    ids=[
        f"{o}-{s}-{np.dtype(d).name}-{'es' if e else 'full'}-{VARIANTS[i % 6]}"
        for i, (o, s, d, e) in enumerate(CASES)
    ],
)
def test_every_export_loads_back_as_the_same_model(
    output, solver, dtype, early_stopping, variant
):
    model, X, _, params = fitted_model(output, solver, dtype, early_stopping, variant)
    before = model.get_params()
    assert_same_model(round_trip(model), model, X, params)
    # The export describes the fitted model and leaves the estimator as it is.
    assert model.get_params() == before


@pytest.mark.parametrize(
    "activation",
    [
        "softplus",
        "elu",
        "leaky_relu",
        "gelu",
        "silu",
        ("gelu", "tanh"),
        ["silu", "elu"],
    ],
)
@pytest.mark.parametrize("output", ["multiclass", "poisson-2"])
def test_every_activation_and_per_layer_tuple_load_back(activation, output):
    """A tuple of activations comes back a tuple, a list a list (as
    hidden_layer_sizes); pickle keeps them too."""
    import pickle

    cls, X, y = problem(output, np.float64)
    model = cls((4, 3), activation=activation, max_iter=3, random_state=0).fit(X, y)
    for loaded in (round_trip(model), pickle.loads(pickle.dumps(model))):
        assert_same_model(loaded, model, X)
        assert type(loaded.activation) is type(activation)


@pytest.mark.parametrize(
    "stored, message",
    [
        ({"__list__": "gelu"}, "malformed activation"),
        ({"__tuple__": ["gelu"]}, "malformed activation"),
        (["gelu", 3], "invalid parameters"),
        (["gelu", "swish"], "invalid parameters"),
        (["gelu"], r"names 1 activations for 2 hidden layers"),
        ([], r"names 0 activations for 2 hidden layers"),
    ],
)
def test_malformed_stored_activations_are_refused(stored, message):
    cls, X, y = problem("multiclass", np.float64)
    model = cls((4, 3), activation=("gelu", "tanh"), max_iter=2, random_state=0)
    buffer = io.BytesIO()
    model.fit(X, y).to_npz(buffer)
    meta = metadata(buffer.getvalue())
    assert meta["params"]["activation"] == ["gelu", "tanh"]  # a tuple: a list
    meta["params"]["activation"] = stored
    arrays = dict(np.load(io.BytesIO(buffer.getvalue()), allow_pickle=False))
    arrays["metadata"] = np.array(json.dumps(meta))
    forged = io.BytesIO()
    np.savez(forged, **arrays)
    forged.seek(0)
    with pytest.raises(ValueError, match=message):
        cls.from_npz(forged)


@pytest.mark.parametrize(
    "hidden_layer_sizes", [(7, 7), 7, [7], (1,), np.array(3), "3", [3.0]]
)
def test_architecture_comes_from_the_fitted_weights(hidden_layer_sizes):
    # The file describes the fitted model: hidden_layer_sizes changed after
    # fit is stored, and loads, as the widths of the weights.
    cls, X, y = problem("multiclass", np.float64)
    model = cls(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(X, y)
    model.set_params(hidden_layer_sizes=hidden_layer_sizes)
    loaded = round_trip(model)
    assert model.hidden_layer_sizes is hidden_layer_sizes  # left as it is
    assert loaded.hidden_layer_sizes == (3,)
    assert [c.shape for c in loaded.coefs_] == [(3, 3), (3, 3)]
    params = {**model.get_params(), "hidden_layer_sizes": (3,)}
    assert_same_model(loaded, model, X, params)
    # Its parameters are those of its weights: a warm start continues them.
    refit = loaded.set_params(warm_start=True, max_iter=1).fit(X, y)
    assert [c.shape for c in refit.coefs_] == [(3, 3), (3, 3)]


@pytest.mark.parametrize("hidden_layer_sizes", [3, [3], (3,)])
def test_sizes_that_give_the_fitted_widths_are_kept_as_set(hidden_layer_sizes):
    # An int, a list and a tuple of the fitted widths load as they were set.
    cls, X, y = problem("binary", np.float64)
    model = cls(hidden_layer_sizes=hidden_layer_sizes, max_iter=3, random_state=0)
    loaded = round_trip(model.fit(X, y))
    assert loaded.hidden_layer_sizes == hidden_layer_sizes
    assert type(loaded.hidden_layer_sizes) is type(hidden_layer_sizes)
    assert_same_model(loaded, model, X)


def test_regressor_loss_changed_after_fit_keeps_the_fitted_output():
    # The file stores the loss the model was fitted with, which gives its
    # output; predictions (exp: positive) are the fitted model's.
    _, X, y = problem("poisson", np.float64)
    model = CGMLPRegressor(
        hidden_layer_sizes=(3,), loss="poisson", max_iter=3, random_state=0
    ).fit(X, y)
    model.set_params(loss="squared_error")
    loaded = round_trip(model)
    assert model.loss == "squared_error"  # left as it is
    assert loaded.loss == "poisson" and loaded.out_activation_ == "exp"
    assert np.all(loaded.predict(X) > 0)
    assert_same_model(loaded, model, X, {**model.get_params(), "loss": "poisson"})
    # And a refit with the loss set after fit records that one.
    refit = model.fit(X, np.abs(y) - 3.0)
    assert refit.out_activation_ == "identity"
    assert round_trip(refit).loss == "squared_error"


def test_non_finite_validation_scores_are_represented():
    cls, X, y = problem("identity", np.float64)
    model = cls(
        hidden_layer_sizes=(3,), max_iter=4, early_stopping=True, random_state=0
    ).fit(X, y)
    # What an R² of a one-sample validation split records, and its extremes;
    # the fit keeps the iterate of the first best score (the last if none
    # beats -inf), and its loss.
    for scores, best, kept in [
        ([float("nan")] * model.n_iter_, float("nan"), -1),
        ([float("-inf"), float("inf")] + [0.5] * (model.n_iter_ - 2), np.inf, 1),
    ]:
        model.validation_scores_, model.best_validation_score_ = scores, best
        model.loss_ = model.loss_curve_[kept]
        data = io.BytesIO()
        model.to_npz(data)
        assert metadata(data.getvalue())["best_validation_score"] == {
            "__float__": repr(best)
        }
        data.seek(0)
        assert_same_model(cls.from_npz(data), model, X)


def test_metadata_does_not_grow_with_the_training_history():
    cls, X, y = problem("binary", np.float64)
    model = cls(
        hidden_layer_sizes=(3,), max_iter=3, early_stopping=True, random_state=0
    ).fit(X, y)
    short_history = io.BytesIO()
    model.to_npz(short_history)
    # A history of a million iterations; version 2 kept it in the JSON
    # string, whose 40 million characters the reader refused.
    n_iter = 1_000_000
    rng = np.random.RandomState(0)
    model.n_iter_ = n_iter
    model.n_fun_evals_ = n_iter + 1
    model.loss_curve_ = rng.uniform(0.1, 1.0, n_iter).tolist()
    model.validation_scores_ = rng.uniform(0, 1, n_iter).tolist()
    model.validation_scores_[17] = float("nan")
    # What the fit keeps: the first best score's iterate and its loss.
    best = int(np.nanargmax(model.validation_scores_))
    model.best_validation_score_ = model.validation_scores_[best]
    model.loss_ = model.loss_curve_[best]
    long_history = io.BytesIO()
    model.to_npz(long_history)
    short_meta = metadata(short_history.getvalue())
    long_meta = metadata(long_history.getvalue())
    assert len(json.dumps(long_meta)) < 2 * len(json.dumps(short_meta)) < 4000
    long_history.seek(0)
    assert_same_model(cls.from_npz(long_history), model, X)


def unrepresentable_models():
    """Models the format cannot hold, the reason the error must give, and
    what it must advise."""
    cls, X, y = problem("multiclass", np.float64)

    def fit(**params):
        params = {"hidden_layer_sizes": (3,), "max_iter": 2, **params}
        return cls(**params).fit(X, y)

    mixed = fit()
    mixed.classes_ = np.array([3, "4", 5], dtype=object)
    random_state = fit(random_state=np.random.RandomState(0))
    array_sizes = fit().set_params(hidden_layer_sizes=np.array([3]))
    invalid = fit().set_params(max_iter=0)
    object_param = fit().set_params(verbose=[1])
    non_finite = fit()
    non_finite.loss_ = float("nan")
    curve = fit()
    curve.loss_curve_ = curve.loss_curve_[:-1]
    unknown = fit()
    unknown.temperature_ = 1.5  # a fitted attribute the format does not know
    nul = fit()
    nul.feature_names_in_ = np.array(["a", "b", "c\0"], dtype=object)
    return {
        "mixed labels": (mixed, "numeric class labels and string", "pickle"),
        "RandomState": (random_state, "random_state is a RandomState", "an int"),
        "array sizes": (array_sizes, "hidden_layer_sizes=array", "a tuple"),
        "invalid parameter": (invalid, "'max_iter' parameter", "set_params"),
        "list parameter": (object_param, "verbose=[1] is a list", "set_params"),
        "non-finite loss": (non_finite, "fitted loss_ is nan", "pickle"),
        "short loss curve": (curve, "loss_curve is float64 of shape", "pickle"),
        "unknown attribute": (unknown, "temperature_ is not stored", "pickle"),
        "NUL in a name": (nul, "strings of feature_names_in_", "pickle"),
    }


UNREPRESENTABLE = [
    "mixed labels",
    "RandomState",
    "array sizes",
    "invalid parameter",
    "list parameter",
    "non-finite loss",
    "short loss curve",
    "unknown attribute",
    "NUL in a name",
]


@pytest.mark.parametrize("case", UNREPRESENTABLE)
def test_what_cannot_be_represented_is_refused_before_writing(case, tmp_path):
    model, reason, advice = unrepresentable_models()[case]
    path = tmp_path / "model.npz"
    path.write_bytes(b"the previous export")
    buffer = io.BytesIO(b"kept")
    for file in (path, buffer):
        with pytest.raises(ValueError, match="Cannot export this CGMLPClassifier"
                           ) as info:  # fmt: skip
            model.to_npz(file)
        assert reason in str(info.value) and advice in str(info.value)
    assert path.read_bytes() == b"the previous export"
    assert buffer.getvalue() == b"kept"
    assert os.listdir(tmp_path) == ["model.npz"]


def test_metadata_over_the_cap_is_refused_by_the_writer(tmp_path, monkeypatch):
    cls, X, y = problem("binary", np.float64)
    model = cls(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y)
    monkeypatch.setattr(npz_read, "_MAX_METADATA_CHARS", 100)
    with pytest.raises(ValueError, match="from_npz would refuse the file .metadata "
                       "longer than 100 characters"):  # fmt: skip
        model.to_npz(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------ atomic writes
@pytest.fixture
def two_models():
    cls, X, y = problem("binary", np.float64)
    first = cls(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y)
    second = cls(hidden_layer_sizes=(4,), max_iter=2, random_state=1).fit(X, y)
    return first, second, X


def test_a_failed_write_leaves_the_previous_export(two_models, tmp_path, monkeypatch):
    first, second, X = two_models
    path = tmp_path / "model.npz"
    first.to_npz(path)
    before = path.read_bytes()

    def disk_full(fp, data):
        fp.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(npz_write, "_write_all", disk_full)
    with pytest.raises(OSError, match="No space left"):
        second.to_npz(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.undo()
    monkeypatch.setattr(npz_write.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        second.to_npz(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]
    assert_same_model(CGMLPClassifier.from_npz(path), first, X)


def test_a_successful_write_replaces_the_file(two_models, tmp_path):
    first, second, X = two_models
    path = tmp_path / "model.npz"
    first.to_npz(path)
    os.chmod(path, 0o640)
    second.to_npz(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640  # the file's mode kept
    assert os.listdir(tmp_path) == ["model.npz"]
    assert_same_model(CGMLPClassifier.from_npz(path), second, X)


def test_paths_get_npz_appended_and_links_are_followed(two_models, tmp_path):
    first, second, X = two_models
    first.to_npz(str(tmp_path / "model"))
    second.to_npz(tmp_path / "other.data")
    assert sorted(os.listdir(tmp_path)) == ["model.npz", "other.data.npz"]
    assert_same_model(CGMLPClassifier.from_npz(tmp_path / "model.npz"), first, X)
    # A link to an export is written through, as open() and np.savez do.
    os.symlink(tmp_path / "model.npz", tmp_path / "link.npz")
    second.to_npz(tmp_path / "link.npz")
    assert os.path.islink(tmp_path / "link.npz")
    assert_same_model(CGMLPClassifier.from_npz(tmp_path / "model.npz"), second, X)


def test_file_objects_are_written_at_their_position(two_models, tmp_path):
    first, _, X = two_models
    with open(tmp_path / "model.bin", "wb") as fp:
        fp.write(b"header")
        first.to_npz(fp)
    data = (tmp_path / "model.bin").read_bytes()
    assert data.startswith(b"header")
    assert_same_model(CGMLPClassifier.from_npz(io.BytesIO(data[6:])), first, X)
    with pytest.raises(TypeError, match="a path or a binary file object"):
        first.to_npz(42)


# ---------------------------------------------------------- format version 2
def version_2_models():
    pd = pytest.importorskip("pandas")
    cls, X, y = problem("multiclass", np.float64)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    _, _, counts = problem("poisson-2", np.float32)
    _, _, labels = problem("multilabel", np.float64)
    return {
        "multiclass": (
            CGMLPClassifier(
                hidden_layer_sizes=(3,),
                max_iter=4,
                early_stopping=True,
                # Labels that do not parse as integers: scikit-learn >= 1.9
                # looks "3" up as 3 in class_weight, older versions as "3".
                class_weight={"c3": 2.0},
                random_state=0,
            ).fit(frame, np.char.add("c", y.astype(str))),
            frame,
        ),
        "multilabel": (
            CGMLPClassifier(hidden_layer_sizes=[3, 2], max_iter=3, random_state=0).fit(
                X, labels
            ),
            X,
        ),
        "poisson": (
            CGMLPRegressor(
                hidden_layer_sizes=3, loss="poisson", max_iter=3, random_state=0
            ).fit(X.astype(np.float32), counts),
            X.astype(np.float32),
        ),
    }


@pytest.mark.parametrize("name", ["multiclass", "multilabel", "poisson"])
def test_version_2_files_still_load(name, write_npz_version_2):
    model, X = version_2_models()[name]
    file = io.BytesIO()
    write_npz_version_2(model, file)
    file.seek(0)
    loaded = type(model).from_npz(file)
    # Version 2 stored hidden_layer_sizes as a list, read back as a tuple.
    model.hidden_layer_sizes = tuple(np.atleast_1d(model.hidden_layer_sizes))
    assert_same_model(loaded, model, X)
    # And they re-export to the current version.
    assert metadata(npz_write.export_bytes(loaded))["format_version"] == 3


def test_version_2_rules_for_changed_parameters(write_npz_version_2):
    _, X, y = problem("poisson", np.float64)
    model = CGMLPRegressor(
        hidden_layer_sizes=(3,), loss="poisson", max_iter=3, random_state=0
    ).fit(X, y)
    # Version 2 wrote the parameters as they were: a loss changed after fit
    # that does not give the stored output is refused, as version 2 refused it.
    file = io.BytesIO()
    write_npz_version_2(model.set_params(loss="squared_error"), file)
    file.seek(0)
    with pytest.raises(ValueError, match="loss='squared_error' gives an 'identity'"):
        CGMLPRegressor.from_npz(file)
    # Its architecture was that of hidden_layer_sizes: a changed one is
    # refused, as it was.
    file = io.BytesIO()
    write_npz_version_2(model.set_params(hidden_layer_sizes=(3, 3)), file)
    file.seek(0)
    with pytest.raises(ValueError, match="n_layers=3, but hidden_layer_sizes"):
        CGMLPRegressor.from_npz(file)
