"""Files that lie: well formed, but their values contradict each other.

Each case writes a valid file with ``to_npz``, rewrites one field and expects
``from_npz`` to refuse it with a ValueError that names the field. The checks
are one table (``sklearn_cgmlp._npz.consistency``) that the loader runs and
the writer runs through the loader, so a fitted model whose attributes were
tampered with into the same lie is refused by ``to_npz`` too, before anything
is written. Fits that end in unusual states (no iteration, an interrupt, NaN
validation scores) must still export and load.
"""

import io
import itertools
import json
import re
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor
from sklearn_cgmlp._npz import consistency, schema
from sklearn_cgmlp._outputs import REGRESSION_LOSSES

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PREFIX = "Invalid sklearn-cgmlp model file: "


# ----------------------------------------------------------------- helpers
def blob(model):
    buffer = io.BytesIO()
    model.to_npz(buffer)
    return buffer.getvalue()


def members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def npy(array):
    buffer = io.BytesIO()
    npy_format.write_array(buffer, np.asarray(array))
    return buffer.getvalue()


def array(data, name):
    return np.load(io.BytesIO(members(data)[f"{name}.npy"]))


def metadata(data):
    return json.loads(array(data, "metadata").item())


def rewritten(data, meta=None, text=None, **arrays):
    """The archive ``data`` with its metadata replaced (a dict, or raw JSON
    ``text``) and arrays replaced."""
    files = members(data)
    if meta is not None:
        text = json.dumps(meta)
    if text is not None:
        files["metadata.npy"] = npy(np.array(text))
    for name, value in arrays.items():
        files[f"{name}.npy"] = npy(value)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    out.seek(0)
    return out


def with_meta(data, **changes):
    meta = metadata(data)
    meta.update(changes)
    return rewritten(data, meta)


def refused(cls, file, field):
    """Assert that ``file`` is refused with a message naming ``field``."""
    with pytest.raises(ValueError, match=re.escape(PREFIX)) as info:
        cls.from_npz(file)
    assert re.search(rf"\b{re.escape(field)}\b", info.value.reason), info.value
    return info.value.reason


def export_refused(model, field, tmp_path):
    """``to_npz`` refuses ``model`` naming ``field``, and writes nothing."""
    path = tmp_path / "model.npz"
    with pytest.raises(ValueError, match="Cannot export") as info:
        model.to_npz(path)
    assert re.search(rf"\b{re.escape(field)}\b", str(info.value)), info.value
    assert not path.exists()
    return str(info.value)


# ------------------------------------------------------------------ models
def problem(n_samples=60):
    rng = np.random.RandomState(0)
    X = rng.randn(n_samples, 3)
    return X, X @ np.array([1.0, -1.0, 0.5])


def fit_classifier(**params):
    X, signal = problem()
    params = {"hidden_layer_sizes": (3,), "max_iter": 8, "random_state": 0, **params}
    return CGMLPClassifier(**params).fit(X, (signal > 0).astype(int))


@pytest.fixture(scope="module")
def classifier():
    """A tanh classifier with class weights and feature names."""
    pd = pytest.importorskip("pandas")
    X, signal = problem()
    return CGMLPClassifier(
        hidden_layer_sizes=(3,),
        activation="tanh",
        alpha=0.01,
        class_weight={0: 2.0, 1: 0.5},
        max_iter=8,
        random_state=0,
    ).fit(pd.DataFrame(X, columns=["a", "b", "c"]), (signal > 0).astype(int))


@pytest.fixture(scope="module")
def early_stopping():
    """Early stopping that keeps an iterate before the last."""
    model = fit_classifier(early_stopping=True, validation_fraction=0.3)
    best = int(np.argmax(model.validation_scores_))
    assert best < model.n_iter_ - 1
    assert model.loss_ == model.loss_curve_[best] != model.loss_curve_[-1]
    return model


@pytest.fixture(scope="module")
def multilabel():
    X, signal = problem()
    y = np.column_stack([signal > 0, X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    return CGMLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0).fit(
        X, y
    )


@pytest.fixture(scope="module")
def float_labels():
    """Float labels that hold integers, which a classifier fits."""
    X, signal = problem()
    model = CGMLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    return model.fit(X, np.where(signal > 0, 1.0, 2.0))


@pytest.fixture(scope="module")
def regressor():
    X, signal = problem()
    return CGMLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(
        X, signal
    )


# ------------------------------------------------------- parameters missing
@pytest.mark.parametrize("version", [2, 3])
@pytest.mark.parametrize(
    "cls, param",
    [(CGMLPClassifier, p) for p in schema.PARAMS_WRITTEN[3] + ("class_weight",)]
    + [(CGMLPRegressor, "loss")],
)
def test_a_parameter_every_file_holds_is_required(
    classifier, regressor, write_npz_version_2, cls, param, version
):
    # Both versions wrote get_params() whole: a missing parameter is a lie
    # (a tanh model loaded as relu, an alpha of 0.01 as 0.0001), never an
    # older file.
    model = classifier if cls is CGMLPClassifier else regressor
    if version == 2:
        buffer = io.BytesIO()
        write_npz_version_2(model, buffer)
        data = buffer.getvalue()
    else:
        data = blob(model)
    meta = metadata(data)
    assert meta["format_version"] == version
    del meta["params"][param]
    reason = refused(cls, rewritten(data, meta), param)
    assert "params lack" in reason


def test_the_required_parameters_are_the_estimators_own(classifier, regressor):
    # A parameter added later is not required of older files; one removed
    # would make every file unreadable.
    for model, part in [(classifier, "class_weight"), (regressor, "loss")]:
        for version in schema.READABLE_VERSIONS:
            assert set(schema.PARAMS_WRITTEN[version]) | {part} <= set(
                model.get_params()
            )


# -------------------------------------------------------------- class weights
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_class_weights_are_finite(classifier, token):
    data = blob(classifier)
    text = json.dumps(metadata(data))
    assert text.count('"__weights__": [2.0,') == 1
    text = text.replace('"__weights__": [2.0,', f'"__weights__": [{token},')
    refused(CGMLPClassifier, rewritten(data, text=text), "class_weight")


@pytest.mark.parametrize("param", ["alpha", "tol", "validation_fraction"])
def test_number_parameters_are_finite(classifier, param):
    # JSON's Infinity parses, and tol=inf passes scikit-learn's constraints.
    data = blob(classifier)
    text = json.dumps(metadata(data))
    text = re.sub(rf'"{param}": [^,]+,', f'"{param}": Infinity,', text)
    refused(CGMLPClassifier, rewritten(data, text=text), param)


# ---------------------------------------------------------- training history
def test_loss_is_the_last_value_of_the_curve(classifier):
    data = blob(classifier)
    curve = classifier.loss_curve_
    # best_loss follows, so that only loss lies.
    for wrong in [curve[-1] * 1.5, curve[0], curve[-2]]:
        file = with_meta(data, loss=wrong, best_loss=wrong)
        refused(CGMLPClassifier, file, "loss")


def test_with_early_stopping_loss_is_that_of_the_best_iterate(early_stopping):
    data = blob(early_stopping)
    for wrong in [early_stopping.loss_curve_[-1], early_stopping.loss_curve_[0]]:
        reason = refused(CGMLPClassifier, with_meta(data, loss=wrong), "loss")
        assert "best validation score" in reason


def test_best_loss_is_loss_without_early_stopping(classifier):
    data = blob(classifier)
    for wrong in [classifier.loss_ * 2, None, 0.0]:
        refused(CGMLPClassifier, with_meta(data, best_loss=wrong), "best_loss")


def test_best_loss_is_none_with_early_stopping(early_stopping):
    file = with_meta(blob(early_stopping), best_loss=early_stopping.loss_)
    refused(CGMLPClassifier, file, "best_loss")


def test_best_validation_score_is_the_best_score(early_stopping):
    data = blob(early_stopping)
    best = early_stopping.best_validation_score_
    # Below the best score a fit records, and above every score it recorded.
    for wrong in [best - 0.25, -1.0, best + 0.25, {"__float__": "nan"}]:
        file = with_meta(data, best_validation_score=wrong)
        refused(CGMLPClassifier, file, "best_validation_score")


def test_losses_are_never_negative(classifier):
    data = blob(classifier)
    curve = np.array(classifier.loss_curve_)
    curve[1] = -curve[1]  # not the last: loss still agrees with the curve
    refused(CGMLPClassifier, rewritten(data, loss_curve=curve), "loss_curve")
    # A fit that made no iteration has no curve to compare its loss with.
    X, signal = problem()
    model = CGMLPRegressor(hidden_layer_sizes=(3,), tol=1e10, random_state=0)
    model.fit(X, signal)
    assert model.n_iter_ == 0 and model.loss_curve_ == []
    file = with_meta(blob(model), loss=-0.5, best_loss=-0.5)
    reason = refused(CGMLPRegressor, file, "loss")
    assert "negative" in reason


def test_a_loss_rounded_below_zero_is_not_negative(regressor):
    # The Poisson deviance of a near perfect fit rounds below zero (-6e-13
    # for counts of 1000 with alpha=0): such a fit exports and loads.
    data = blob(regressor)
    curve = array(data, "loss_curve").copy()
    curve[-1] = -6e-13
    file = rewritten(
        data,
        metadata(data) | {"loss": curve[-1], "best_loss": curve[-1]},
        loss_curve=curve,
    )
    assert CGMLPRegressor.from_npz(file).loss_ == -6e-13
    # And a real one: constant counts, which exp(intercept) fits exactly.
    X, _ = problem(50)
    model = CGMLPRegressor(
        hidden_layer_sizes=(2,), loss="poisson", alpha=0.0, tol=0.0, max_iter=300,
        solver="newton-cg", random_state=0,
    ).fit(X, np.full(len(X), 1000.0))  # fmt: skip
    assert abs(model.loss_) < 1e-9
    round_trip(model)


def test_every_iteration_evaluates_the_loss(classifier):
    data = blob(classifier)
    for wrong in [0, classifier.n_iter_ - 1]:
        refused(CGMLPClassifier, with_meta(data, n_fun_evals=wrong), "n_fun_evals")


# ---------------------------------------------------------------- features
def test_feature_names_are_unique(classifier):
    file = rewritten(blob(classifier), feature_names_in=np.array(["a", "b", "a"]))
    refused(CGMLPClassifier, file, "feature_names_in")


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["intercept_1", "intercept_0", "coef_0"])
def test_weights_are_finite(classifier, name, value):
    weights = array(blob(classifier), name).copy()
    weights.flat[-1] = value
    refused(CGMLPClassifier, rewritten(blob(classifier), **{name: weights}), name)


@pytest.mark.parametrize("dtype", [np.int64, np.float16, np.int32, np.complex128])
def test_weights_are_all_float32_or_all_float64(classifier, dtype):
    data = blob(classifier)
    names = [f"{p}_{i}" for i in range(2) for p in ("coef", "intercept")]
    arrays = {name: array(data, name).astype(dtype) for name in names}
    reason = refused(CGMLPClassifier, rewritten(data, **arrays), "weights")
    assert np.dtype(dtype).name in reason


# ------------------------------------------------------------------ classes
@pytest.mark.parametrize(
    "classes",
    [np.array([1.0, 2.5]), np.array([0.5, 2.0]), np.array([1.0, np.inf])],
)
def test_float_classes_hold_integers(float_labels, classes):
    assert float_labels.classes_.tolist() == [1.0, 2.0]
    refused(CGMLPClassifier, rewritten(blob(float_labels), classes=classes), "classes")


@pytest.mark.parametrize(
    "classes",
    [
        np.array([0.0, 1.0, 2.0]),  # float labels
        np.array([False, True, True]),
        np.array([1, 2, 3]),
        np.array([0, 1, 3]),
    ],
)
def test_multilabel_classes_are_the_integers_0_to_n(multilabel, classes):
    assert multilabel.classes_.tolist() == [0, 1, 2]
    refused(CGMLPClassifier, rewritten(blob(multilabel), classes=classes), "classes")


# ------------------------------------------------------------ architecture
def test_widths_that_disagree_with_the_weights_are_named(
    classifier, write_npz_version_2
):
    # Version 3 states the fitted widths as hidden_units; version 2 took them
    # from hidden_layer_sizes. Either, against coef_0's shape, names itself.
    file = with_meta(blob(classifier), hidden_units=[4])
    refused(CGMLPClassifier, file, "hidden_units")
    buffer = io.BytesIO()
    write_npz_version_2(classifier, buffer)
    meta = metadata(buffer.getvalue())
    meta["params"]["hidden_layer_sizes"] = [4]
    refused(CGMLPClassifier, rewritten(buffer.getvalue(), meta), "hidden_layer_sizes")


# ------------------------------------------- the file describes the fit
def version_file(model, version, write_npz_version_2):
    """The bytes of a valid export of ``model`` in format ``version``."""
    if version == 3:
        return blob(model)
    buffer = io.BytesIO()
    write_npz_version_2(model, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("version", [2, 3])
def test_a_loss_that_does_not_give_the_output_is_refused(
    regressor, write_npz_version_2, version
):
    # Every loss against every output a regressor has, from the table: the
    # issue's squared_error with an exp output (predictions 186 instead of
    # 5.2) and poisson with an identity output among them.
    data = version_file(regressor, version, write_npz_version_2)
    cases = list(itertools.product(REGRESSION_LOSSES, set(REGRESSION_LOSSES.values())))
    assert ("squared_error", "exp") in cases and ("poisson", "identity") in cases
    for loss, output in cases:
        meta = metadata(data)
        meta["params"]["loss"], meta["out_activation"] = loss, output
        if REGRESSION_LOSSES[loss] == output:
            loaded = CGMLPRegressor.from_npz(rewritten(data, meta))
            assert (loaded.loss, loaded.out_activation_) == (loss, output)
            continue
        reason = refused(CGMLPRegressor, rewritten(data, meta), "loss")
        assert f"loss={loss!r} gives an {REGRESSION_LOSSES[loss]!r} output" in reason
        assert f"out_activation is {output!r}" in reason


@pytest.mark.parametrize(
    "sizes",
    [[4], [3, 3], 4, {"__list__": [4]}, {"__list__": [3, 1]}, [1]],
    ids=["other width", "more layers", "an int", "a list", "a longer list", "1"],
)
def test_hidden_layer_sizes_other_than_the_fitted_widths_are_refused(classifier, sizes):
    data = blob(classifier)
    meta = metadata(data)
    assert meta["params"]["hidden_layer_sizes"] == [3] == meta["hidden_units"]
    meta["params"]["hidden_layer_sizes"] = sizes
    reason = refused(CGMLPClassifier, rewritten(data, meta), "hidden_layer_sizes")
    assert "are not the widths of the fitted hidden layers, (3,)" in reason


@pytest.mark.parametrize("sizes", [3, {"__list__": [3]}, [3]])
def test_hidden_layer_sizes_that_give_the_fitted_widths_load(classifier, sizes):
    meta = metadata(blob(classifier))
    meta["params"]["hidden_layer_sizes"] = sizes
    loaded = CGMLPClassifier.from_npz(rewritten(blob(classifier), meta))
    assert consistency.hidden_widths(loaded.hidden_layer_sizes) == (3,)


def test_the_loss_recorded_is_that_of_the_last_successful_fit():
    X, signal = problem()
    model = CGMLPRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    model.fit(X, signal)
    # A fit that fails (Poisson with negative targets) records nothing.
    with pytest.raises(ValueError, match="negative"):
        model.set_params(loss="poisson").fit(X, signal)
    assert model._fitted_loss == "squared_error"
    assert CGMLPRegressor.from_npz(io.BytesIO(blob(model))).loss == "squared_error"
    model.fit(X, np.abs(signal))
    assert model._fitted_loss == "poisson"
    assert CGMLPRegressor.from_npz(io.BytesIO(blob(model))).loss == "poisson"


# ------------------------------------------------------- the writer agrees
def tampered(model, **attributes):
    copy = model._view()
    copy.__dict__ = {
        k: (list(v) if isinstance(v, list) else v) for k, v in vars(model).items()
    }
    for name, value in attributes.items():
        setattr(copy, name, value)
    return copy


def test_the_writer_refuses_a_tampered_history(classifier, early_stopping, tmp_path):
    curve = classifier.loss_curve_
    for model, field in [
        (tampered(classifier, loss_=curve[0], best_loss_=curve[0]), "loss"),
        (tampered(classifier, best_loss_=None), "best_loss"),
        (tampered(early_stopping, best_loss_=early_stopping.loss_), "best_loss"),
        (tampered(early_stopping, loss_=early_stopping.loss_curve_[-1]), "loss"),
        (
            tampered(early_stopping, best_validation_score_=0.0),
            "best_validation_score",
        ),
        (tampered(classifier, loss_curve_=[-v for v in curve]), "loss_curve"),
        (tampered(classifier, n_fun_evals_=1), "n_fun_evals"),
    ]:
        reason = export_refused(model, field, tmp_path)
        assert "from_npz would refuse the file" in reason


def test_the_writer_refuses_tampered_weights_and_labels(
    classifier, multilabel, float_labels, tmp_path
):
    nan_intercept = [b.copy() for b in classifier.intercepts_]
    nan_intercept[1][0] = np.nan
    float16 = [c.astype(np.float16) for c in classifier.coefs_]
    for model, field in [
        (tampered(classifier, intercepts_=nan_intercept), "intercept_1"),
        (
            tampered(
                classifier,
                coefs_=float16,
                intercepts_=[b.astype(np.float16) for b in classifier.intercepts_],
            ),
            "weights",
        ),
        (
            tampered(classifier, feature_names_in_=np.array(["a", "b", "a"], object)),
            "feature_names_in",
        ),
        (tampered(float_labels, classes_=np.array([0.5, 2.0])), "classes"),
        (tampered(multilabel, classes_=np.arange(3.0)), "classes"),
    ]:
        export_refused(model, field, tmp_path)


def test_the_writer_refuses_a_recorded_loss_that_does_not_give_the_output(
    regressor, tmp_path
):
    assert regressor.out_activation_ == "identity"
    model = tampered(regressor, _fitted_loss="poisson")
    reason = export_refused(model, "loss", tmp_path)
    assert "from_npz would refuse the file (params: loss='poisson'" in reason


def unrecorded(model, **params):
    """``model`` as unpickled from a version that did not record its loss."""
    copy = tampered(model)
    del copy._fitted_loss
    return copy.set_params(**params)


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_an_unrecorded_loss_is_that_of_the_output(regressor, loss, monkeypatch):
    # Where one loss gives the identity output (huber gives it too: left
    # out here), the file names it, whatever the loss parameter says.
    monkeypatch.delitem(REGRESSION_LOSSES, "huber")
    loaded = CGMLPRegressor.from_npz(io.BytesIO(blob(unrecorded(regressor, loss=loss))))
    assert loaded.loss == loaded._fitted_loss == "squared_error"


def test_an_unrecorded_loss_among_several_is_the_parameter_or_refused(
    regressor, tmp_path, monkeypatch
):
    # Another loss with the identity output (as huber will be): a loss
    # parameter that gives the output is taken, else none can be.
    monkeypatch.setitem(REGRESSION_LOSSES, "huber", "identity")
    loaded = CGMLPRegressor.from_npz(
        io.BytesIO(blob(unrecorded(regressor, loss="squared_error")))
    )
    assert loaded.loss == "squared_error"
    model = unrecorded(regressor, loss="poisson")
    reason = export_refused(model, "loss", tmp_path)
    assert "the loss it was fitted with is not recorded" in reason
    assert "['squared_error', 'huber']" in reason and "set_params" in reason


def test_the_writer_refuses_non_finite_parameters(classifier, tmp_path):
    # The writer meets these before the file exists (JSON cannot hold them),
    # with its own reason; the loader's table refuses the same.
    for params, field in [
        ({"class_weight": {0: np.inf, 1: 0.5}}, "class_weight"),
        ({"tol": np.inf}, "tol"),
    ]:
        model = tampered(classifier)
        model.set_params(**params)
        export_refused(model, field, tmp_path)


def test_the_table_is_what_both_sides_run(classifier, monkeypatch, tmp_path):
    # A check planted in the table makes the loader refuse a valid file and
    # the writer refuse to write it, for the same reason.
    data = blob(classifier)

    def veto(name, model):
        consistency.fail(f"{name} vetoed.")

    planted = (*consistency.MODEL_CHECKS, ("n_iter", veto))
    monkeypatch.setattr(consistency, "MODEL_CHECKS", planted)
    assert refused(CGMLPClassifier, io.BytesIO(data), "n_iter") == "n_iter vetoed."
    assert "(n_iter vetoed)" in export_refused(classifier, "n_iter", tmp_path)


# ------------------------------------------------ what fits leave must load
def round_trip(model):
    loaded = type(model).from_npz(io.BytesIO(blob(model)))
    assert loaded.loss_ == model.loss_ and loaded.n_iter_ == model.n_iter_
    return loaded


@pytest.mark.parametrize("early", [False, True])
def test_a_fit_without_iterations_loads(early):
    # No curve; with early stopping, no scores, and the score of the start.
    model = fit_classifier(tol=1e10, early_stopping=early)
    assert model.n_iter_ == 0
    round_trip(model)


@pytest.mark.parametrize("solver", ["cg", "lbfgs"])
def test_an_interrupted_fit_loads(interrupt_gradient, solver):
    interrupt_gradient(6)
    with pytest.warns(UserWarning, match="interrupted by the user"):
        model = fit_classifier(
            solver=solver, early_stopping=True, max_iter=50, n_iter_no_change=50
        )
    assert 0 < model.n_iter_ < 6
    round_trip(model)


def test_early_stopping_that_never_improves_loads():
    # Scores that never beat -inf (here NaN): the fit keeps its last iterate.
    model = fit_classifier(early_stopping=True, validation_fraction=0.3)
    model = tampered(
        model,
        validation_scores_=[float("nan")] * model.n_iter_,
        best_validation_score_=float("nan"),
        loss_=model.loss_curve_[-1],
    )
    round_trip(model)


def test_early_stopping_with_tied_best_scores_keeps_the_first_iterate(early_stopping):
    # The monitor keeps an iterate only when its score beats the best so far,
    # so of equal best scores the first one's weights are kept: a genuine
    # history whose best score recurs later loads, its loss that of the first.
    scores = list(early_stopping.validation_scores_)
    best = int(np.argmax(scores))
    later = [i for i in range(best + 1, len(scores)) if scores[i] < scores[best]]
    assert later, "the fixture has no later, worse score to raise to a tie"
    scores[later[0]] = scores[best]
    model = tampered(early_stopping, validation_scores_=scores)
    assert model.loss_ == model.loss_curve_[best] != model.loss_curve_[later[0]]
    round_trip(model)
