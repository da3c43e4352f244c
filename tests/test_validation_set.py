"""A validation set given to fit (X_val, y_val, sample_weight_val) and the
``scoring`` of early stopping, as HistGradientBoosting has them."""

import io
import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    make_scorer,
    mean_poisson_deviance,
    mean_squared_error,
    r2_score,
)
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from test_array_api import namespaces, on, to_namespace

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor

SOLVERS = ["cg", "newton-cg", "trust-ncg", "lbfgs"]


def fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X[:300], y[:300], X[300:500], y[300:500]


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    return X[:300], y[:300], X[300:], y[300:]


def classifier(**params):
    return CGMLPClassifier(
        **{"hidden_layer_sizes": (10,), "early_stopping": True,
           "random_state": 0, "max_iter": 60, **params}
    )  # fmt: skip


def regressor(**params):
    return CGMLPRegressor(
        **{"hidden_layer_sizes": (8,), "early_stopping": True, "activation": "tanh",
           "random_state": 0, "max_iter": 60, **params}
    )  # fmt: skip


# ------------------------------------------------ the given validation set
def test_a_given_validation_set_replaces_the_split(digits):
    X, y, X_val, y_val = digits
    clf = fit_quietly(classifier(), X, y, X_val=X_val, y_val=y_val)
    # All of X is trained on: every evaluation passes over its 300 rows.
    assert clf.t_ == clf.n_fun_evals_ * X.shape[0]
    # The scores are those of X_val, and the model carries the best weights.
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.score(X_val, y_val) == clf.best_validation_score_
    split = fit_quietly(classifier(), X, y)
    assert split.t_ < split.n_fun_evals_ * X.shape[0]  # a part was set aside
    assert split.validation_scores_ != clf.validation_scores_


def test_the_best_validation_weights_are_restored(digits, monkeypatch):
    X, y, X_val, y_val = digits
    clf = fit_quietly(
        classifier(n_iter_no_change=3, tol=0.0, max_iter=200, scoring="loss"),
        X, y, X_val=X_val, y_val=y_val,
    )  # fmt: skip
    best = int(np.argmax(clf.validation_scores_))
    assert best < clf.n_iter_ - 1  # it stopped after a worse stretch
    assert clf.loss_ == clf.loss_curve_[best]
    assert -log_loss(y_val, clf.predict_proba(X_val)) == pytest.approx(
        clf.best_validation_score_, rel=1e-10
    )


def test_given_validation_scores_are_weighted(digits):
    X, y, X_val, y_val = digits
    weights = np.where(y_val % 2 == 0, 3.0, 0.5)
    clf = fit_quietly(
        classifier(), X, y, X_val=X_val, y_val=y_val, sample_weight_val=weights
    )
    assert clf.best_validation_score_ == pytest.approx(
        accuracy_score(y_val, clf.predict(X_val), sample_weight=weights)
    )
    unweighted = fit_quietly(classifier(), X, y, X_val=X_val, y_val=y_val)
    assert clf.validation_scores_ != unweighted.validation_scores_


def test_string_labels_and_a_subset_of_the_classes(digits):
    X, y, X_val, y_val = digits
    names = np.array([f"digit {d}" for d in range(10)])
    keep = y_val < 4  # classes 0-3 only in the validation set
    clf = fit_quietly(
        classifier(), X, names[y], X_val=X_val[keep], y_val=names[y_val[keep]]
    )
    assert clf.best_validation_score_ == clf.score(X_val[keep], names[y_val[keep]])


@pytest.mark.parametrize("Estimator", ["classifier", "regressor"])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_solver_and_dtype(digits, diabetes, Estimator, solver, dtype):
    X, y, X_val, y_val = digits if Estimator == "classifier" else diabetes
    make = classifier if Estimator == "classifier" else regressor
    est = fit_quietly(
        make(solver=solver, scoring="loss", max_iter=15),
        X.astype(dtype), y, X_val=X_val, y_val=y_val,
    )  # fmt: skip
    assert est.coefs_[0].dtype == dtype
    assert len(est.validation_scores_) == est.n_iter_
    assert all(np.isfinite(est.validation_scores_))
    assert max(est.validation_scores_) == est.best_validation_score_ < 0


def test_warm_start_with_a_given_validation_set(digits):
    X, y, X_val, y_val = digits
    clf = classifier(warm_start=True, max_iter=5)
    fit_quietly(clf, X, y, X_val=X_val, y_val=y_val)
    first = clf.coefs_[0].copy()
    fit_quietly(clf, X, y, X_val=X_val, y_val=y_val)
    assert not np.array_equal(clf.coefs_[0], first)  # it went on from there
    assert clf.score(X_val, y_val) == clf.best_validation_score_


def test_a_float64_validation_set_of_a_float32_fit(digits):
    X, y, X_val, y_val = digits
    clf = fit_quietly(
        classifier(max_iter=10), X.astype(np.float32), y, X_val=X_val, y_val=y_val
    )
    assert clf.coefs_[0].dtype == np.float32
    assert clf.best_validation_score_ == clf.score(X_val.astype(np.float32), y_val)
    # X_val is scored in the dtype of the fit: the same scores, to the bit,
    # as those of a float32 X_val (NumPy would compute float64 X_val in
    # float64).
    fits = [
        fit_quietly(
            classifier(max_iter=10, scoring="loss"),
            X.astype(np.float32),
            y,
            X_val=X_val.astype(dtype),
            y_val=y_val,
        )  # fmt: skip
        for dtype in (np.float64, np.float32)
    ]
    assert fits[0].validation_scores_ == fits[1].validation_scores_


def test_sparse_and_dataframe_validation_sets(digits, monkeypatch):
    pd = pytest.importorskip("pandas")
    from scipy import sparse

    from sklearn_cgmlp import _line

    # The same lines for both formats: the cache rule weighs sparse products
    # apart, and cached lines search with their own curvature condition.
    monkeypatch.setattr(_line, "line_pays", lambda *args, **kwargs: False)
    X, y, X_val, y_val = digits
    dense = fit_quietly(classifier(max_iter=10), X, y, X_val=X_val, y_val=y_val)
    csr = fit_quietly(
        classifier(max_iter=10),
        sparse.csr_matrix(X), y, X_val=sparse.csr_matrix(X_val), y_val=y_val,
    )  # fmt: skip
    np.testing.assert_allclose(csr.validation_scores_, dense.validation_scores_)
    columns = [f"pixel{i}" for i in range(64)]
    frame = fit_quietly(
        classifier(max_iter=10),
        pd.DataFrame(X, columns=columns), y,
        X_val=pd.DataFrame(X_val, columns=columns), y_val=pd.Series(y_val),
    )  # fmt: skip
    assert frame.validation_scores_ == dense.validation_scores_
    with pytest.raises(ValueError, match="feature names"):
        fit_quietly(
            classifier(max_iter=10),
            pd.DataFrame(X, columns=columns), y,
            X_val=pd.DataFrame(X_val, columns=columns[::-1]), y_val=y_val,
        )  # fmt: skip


# -------------------------------------------------------------- refusals
def _refusals(X, y, X_val, y_val):
    return {
        "X_val alone": (dict(X_val=X_val), "y_val was not provided"),
        "y_val alone": (dict(y_val=y_val), "X_val was not provided"),
        "weights alone": (
            dict(sample_weight_val=np.ones(len(y_val))),
            "sample_weight_val is provided, but X_val and y_val",
        ),
        "unseen class": (
            dict(X_val=X_val, y_val=np.where(y_val == 9, 11, y_val)),
            r"y_val contains previously unseen labels: \[11\]",
        ),
        "features": (dict(X_val=X_val[:, :10], y_val=y_val), "features"),
        "lengths": (dict(X_val=X_val, y_val=y_val[:-1]), "inconsistent numbers"),
        "NaN": (
            dict(X_val=np.where(X_val == X_val[0, 0], np.nan, X_val), y_val=y_val),
            "Input X contains NaN",
        ),
        "continuous labels": (
            dict(X_val=X_val, y_val=y_val + 0.5),
            "y_val holds continuous targets",
        ),
        "negative weights": (
            dict(X_val=X_val, y_val=y_val, sample_weight_val=-np.ones(len(y_val))),
            "Negative values in data",
        ),
        "zero weights": (
            dict(X_val=X_val, y_val=y_val, sample_weight_val=np.zeros(len(y_val))),
            "Sample weights must contain at least one non-zero number",
        ),
    }


@pytest.mark.parametrize(
    "case",
    ["X_val alone", "y_val alone", "weights alone", "unseen class", "features",
     "lengths", "NaN", "continuous labels", "negative weights", "zero weights"],
)  # fmt: skip
def test_bad_validation_sets_are_refused_and_keep_the_model(digits, case):
    X, y, X_val, y_val = digits
    kwargs, message = _refusals(X, y, X_val, y_val)[case]
    clf = fit_quietly(classifier(max_iter=3), X, y)
    before = pickle.dumps(clf)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y, **kwargs)
    assert pickle.dumps(clf) == before  # a failed fit leaves the model


def test_a_validation_set_without_early_stopping_is_refused_as_by_hgb(digits):
    X, y, X_val, y_val = digits
    with pytest.raises(ValueError, match="early_stopping is False"):
        classifier(early_stopping=False).fit(X, y, X_val=X_val, y_val=y_val)


def test_regression_validation_targets_are_checked(diabetes):
    X, y, X_val, y_val = diabetes
    with pytest.raises(ValueError, match="y_val has 2 outputs, but the regressor"):
        regressor().fit(X, y, X_val=X_val, y_val=np.c_[y_val, y_val])
    with pytest.raises(ValueError, match="R² needs at least 2"):
        regressor().fit(X, y, X_val=X_val[:1], y_val=y_val[:1])
    with pytest.raises(ValueError, match="all have the target"):
        regressor().fit(X, y, X_val=X_val[:5], y_val=np.ones(5))
    with pytest.raises(ValueError, match="y are negative"):
        regressor(loss="poisson").fit(X, np.exp(y), X_val=X_val, y_val=y_val)
    # The loss is defined on one sample and on equal targets.
    fit_quietly(regressor(scoring="loss"), X, y, X_val=X_val[:1], y_val=y_val[:1])


def test_multilabel_validation_targets(digits):
    X, y, X_val, y_val = digits
    Y = np.c_[y % 2, y > 4, y == 0]
    Y_val = np.c_[y_val % 2, y_val > 4, y_val == 0]
    clf = fit_quietly(classifier(max_iter=10), X, Y, X_val=X_val, y_val=Y_val)
    assert clf.best_validation_score_ == clf.score(X_val, Y_val)
    with pytest.raises(ValueError, match="multilabel indicator matrix with 3"):
        classifier().fit(X, Y, X_val=X_val, y_val=Y_val[:, :2])
    with pytest.raises(ValueError, match="multilabel indicator matrix with 3"):
        classifier().fit(X, Y, X_val=X_val, y_val=y_val)


# ----------------------------------------------------------------- scoring
def test_loss_scores_are_minus_the_validation_loss(digits, diabetes):
    X, y, X_val, y_val = digits
    weights = np.linspace(0.5, 2, len(y_val))
    clf = fit_quietly(
        classifier(scoring="loss"), X, y, X_val=X_val, y_val=y_val,
        sample_weight_val=weights,
    )  # fmt: skip
    assert clf.best_validation_score_ == pytest.approx(
        -log_loss(y_val, clf.predict_proba(X_val), sample_weight=weights), rel=1e-10
    )
    binary = fit_quietly(classifier(scoring="loss"), X, y > 4, X_val=X_val,
                         y_val=y_val > 4)  # fmt: skip
    assert binary.best_validation_score_ == pytest.approx(
        -log_loss(y_val > 4, binary.predict_proba(X_val)), rel=1e-10
    )
    X, y, X_val, y_val = diabetes
    reg = fit_quietly(regressor(scoring="loss"), X, y, X_val=X_val, y_val=y_val)
    assert reg.best_validation_score_ == pytest.approx(
        -mean_squared_error(y_val, reg.predict(X_val)) / 2, rel=1e-10
    )
    poisson = fit_quietly(
        regressor(scoring="loss", loss="poisson"), X, np.exp(y / 2),
        X_val=X_val, y_val=np.exp(y_val / 2),
    )  # fmt: skip
    assert poisson.best_validation_score_ == pytest.approx(
        -mean_poisson_deviance(np.exp(y_val / 2), poisson.predict(X_val)) / 2,
        rel=1e-10,
    )


def test_loss_scores_on_a_split_are_minus_the_loss_of_the_validation_part(digits):
    X, y, _, _ = digits
    seen = []
    clf = classifier(scoring="loss", validation_fraction=0.2)
    original = type(clf)._score_model

    def spy(self, attributes, validation):
        seen.append(validation)
        return original(self, attributes, validation)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(type(clf), "_score_model", spy)
        fit_quietly(clf, X, y)
    part = seen[0]
    assert part.X.shape[0] == 60
    assert clf.best_validation_score_ == pytest.approx(
        -log_loss(part.y, clf.predict_proba(part.X), labels=clf.classes_), rel=1e-10
    )


def test_scorer_names_and_callables(digits, diabetes):
    X, y, X_val, y_val = digits
    by_name = fit_quietly(
        classifier(scoring="neg_log_loss"), X, y, X_val=X_val, y_val=y_val
    )
    by_loss = fit_quietly(classifier(scoring="loss"), X, y, X_val=X_val, y_val=y_val)
    np.testing.assert_allclose(by_name.validation_scores_, by_loss.validation_scores_,
                               rtol=1e-10)  # fmt: skip
    calls = []

    def fraction_of_nines(y_true, y_pred):
        calls.append(len(y_true))
        return np.mean((y_pred == 9) == (y_true == 9))

    custom = fit_quietly(
        classifier(scoring=make_scorer(fraction_of_nines)), X, y,
        X_val=X_val, y_val=y_val,
    )  # fmt: skip
    assert calls and set(calls) == {len(y_val)}
    assert custom.best_validation_score_ == np.mean(
        (custom.predict(X_val) == 9) == (y_val == 9)
    )
    X, y, X_val, y_val = diabetes
    reg = fit_quietly(
        regressor(scoring="neg_mean_absolute_error"), X, y, X_val=X_val, y_val=y_val
    )
    assert reg.best_validation_score_ == pytest.approx(
        -np.mean(np.abs(reg.predict(X_val) - y_val))
    )
    r2 = fit_quietly(regressor(scoring="r2"), X, y, X_val=X_val, y_val=y_val)
    default = fit_quietly(regressor(), X, y, X_val=X_val, y_val=y_val)
    assert r2.validation_scores_ == default.validation_scores_
    assert default.best_validation_score_ == r2_score(y_val, default.predict(X_val))


def test_scorers_get_the_validation_weights(diabetes):
    X, y, X_val, y_val = diabetes
    weights = np.linspace(0, 3, len(y_val))
    reg = fit_quietly(
        regressor(scoring="neg_mean_squared_error"), X, y, X_val=X_val,
        y_val=y_val, sample_weight_val=weights,
    )  # fmt: skip
    assert reg.best_validation_score_ == pytest.approx(
        -mean_squared_error(y_val, reg.predict(X_val), sample_weight=weights)
    )


def test_an_unknown_scorer_is_refused_before_the_data_are_read():
    with pytest.raises(ValueError, match="not a valid scoring value"):
        classifier(scoring="no_such_score").fit(None, None)
    # Without early stopping, scoring is not used (as in HistGradientBoosting).
    X = np.random.RandomState(0).normal(size=(20, 3))
    fit_quietly(CGMLPClassifier((3,), scoring="no_such_score", max_iter=2), X,
                np.arange(20) % 2)  # fmt: skip


def test_scoring_is_a_validated_parameter():
    with pytest.raises(sklearn.utils._param_validation.InvalidParameterError):
        classifier(scoring=3).fit(np.zeros((4, 2)), [0, 1, 0, 1])


def test_a_scorer_on_a_dataframe_fit_does_not_warn_about_feature_names(digits):
    pd = pytest.importorskip("pandas")
    X, y, X_val, y_val = digits
    columns = [f"f{i}" for i in range(64)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier(scoring="accuracy", max_iter=5).fit(
            pd.DataFrame(X, columns=columns), y
        )


# --------------------------------------------------------- metadata routing
def test_pipeline_transforms_and_routes_the_validation_set(digits):
    X, y, X_val, y_val = digits
    raw_X, raw_val = X * 7 + 3, X_val * 7 + 3
    with sklearn.config_context(enable_metadata_routing=True):
        clf = classifier(max_iter=20).set_fit_request(X_val=True, y_val=True)
        pipe = Pipeline(
            [("scale", StandardScaler()), ("mlp", clf)], transform_input=["X_val"]
        )
        fit_quietly(pipe, raw_X, y, X_val=raw_val, y_val=y_val)
    mlp = pipe.named_steps["mlp"]
    scaled_val = pipe.named_steps["scale"].transform(raw_val)
    assert mlp.best_validation_score_ == mlp.score(scaled_val, y_val)
    assert mlp.t_ == mlp.n_fun_evals_ * X.shape[0]


def test_grid_search_routes_the_validation_set_to_every_fit(digits):
    X, y, X_val, y_val = digits
    seen = []
    original = CGMLPClassifier._score_model

    def spy(self, attributes, validation):
        seen.append(validation.X.shape[0])
        return original(self, attributes, validation)

    with sklearn.config_context(enable_metadata_routing=True):
        clf = classifier(max_iter=5).set_fit_request(
            X_val=True, y_val=True, sample_weight_val=True
        )
        search = GridSearchCV(clf, {"alpha": [1e-4, 1e-1]}, cv=KFold(2))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(CGMLPClassifier, "_score_model", spy)
            fit_quietly(
                search, X, y, X_val=X_val, y_val=y_val,
                sample_weight_val=np.ones(len(y_val)),
            )  # fmt: skip
    assert set(seen) == {len(y_val)}  # never a split of X
    best = search.best_estimator_
    assert best.best_validation_score_ == best.score(X_val, y_val)


def test_without_a_request_routing_refuses_the_validation_set(digits):
    X, y, X_val, y_val = digits
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline([("mlp", classifier())])
        with pytest.raises(Exception, match="X_val"):
            pipe.fit(X, y, X_val=X_val, y_val=y_val)


# -------------------------------------------------------------- callbacks
def test_callbacks_are_handed_all_of_X_with_a_given_validation_set(digits):
    sklearn_callback = pytest.importorskip("sklearn.callback")
    from test_training_control import RecordData

    X, y, X_val, y_val = digits
    recorder = RecordData()
    clf = classifier(max_iter=3).set_callbacks(recorder)
    fit_quietly(clf, X, y, X_val=X_val, y_val=y_val)
    handed = [X_fit for _, X_fit, _ in recorder.data if X_fit is not None]
    assert handed and all(X_fit.shape[0] == X.shape[0] for X_fit in handed)
    monitor = sklearn_callback.ScoringMonitor(scoring="accuracy")
    fit_quietly(
        classifier(max_iter=3, scoring="loss").set_callbacks(monitor), X, y,
        X_val=X_val, y_val=y_val,
    )  # fmt: skip


# ------------------------------------------------------------- persistence
def test_scoring_and_scores_survive_pickle_npz_and_skops(digits, tmp_path):
    X, y, X_val, y_val = digits
    clf = fit_quietly(classifier(scoring="loss"), X, y, X_val=X_val, y_val=y_val)
    for loaded in (
        pickle.loads(pickle.dumps(clf)),
        type(clf).from_npz(io.BytesIO(_npz_bytes(clf))),
    ):
        assert loaded.scoring == "loss"
        assert loaded.validation_scores_ == clf.validation_scores_
        assert loaded.best_validation_score_ == clf.best_validation_score_
        np.testing.assert_array_equal(loaded.transform(X), clf.transform(X))
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    loaded = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert loaded.scoring == "loss"
    assert loaded.validation_scores_ == clf.validation_scores_


def _npz_bytes(est):
    buffer = io.BytesIO()
    est.to_npz(buffer)
    return buffer.getvalue()


def test_a_callable_scoring_is_refused_by_to_npz_with_advice(digits):
    X, y, X_val, y_val = digits
    clf = fit_quietly(
        classifier(scoring=make_scorer(accuracy_score), max_iter=3), X, y,
        X_val=X_val, y_val=y_val,
    )  # fmt: skip
    buffer = io.BytesIO()
    with pytest.raises(ValueError, match="parameter scoring=") as info:
        clf.to_npz(buffer)
    assert "pickle" in str(info.value)
    assert buffer.getvalue() == b""
    # A named scorer stores; so does the callable once set back to a name.
    clf.set_params(scoring="accuracy").to_npz(buffer)
    assert type(clf).from_npz(io.BytesIO(buffer.getvalue())).scoring == "accuracy"
    assert pickle.loads(pickle.dumps(clone(clf))).scoring == "accuracy"


# -------------------------------------------------------------------- Dask
def test_a_dask_validation_set_gives_the_in_memory_fit(dask_client, digits):
    da = pytest.importorskip("dask.array")
    X, y, X_val, y_val = digits
    params = dict(scoring="loss", max_iter=15)
    in_memory = fit_quietly(classifier(**params), X, y, X_val=X_val, y_val=y_val)
    on_dask = fit_quietly(
        classifier(**params),
        da.from_array(X, chunks=(100, 64)), da.from_array(y, chunks=100),
        X_val=da.from_array(X_val, chunks=(70, 64)),
        y_val=da.from_array(y_val, chunks=70),
        sample_weight_val=da.ones(len(y_val), chunks=70),
    )  # fmt: skip
    np.testing.assert_allclose(on_dask.validation_scores_, in_memory.validation_scores_,
                               rtol=1e-6)  # fmt: skip
    assert on_dask.n_iter_ == in_memory.n_iter_
    # A scorer on the Dask split: the scores of the default accuracy.
    split_fits = [
        fit_quietly(
            classifier(scoring=scoring, max_iter=5),
            da.from_array(X, chunks=(100, 64)),
            da.from_array(y, chunks=100),
        )  # fmt: skip
        for scoring in (None, "accuracy")
    ]
    assert split_fits[0].validation_scores_ == split_fits[1].validation_scores_
    with pytest.raises(ValueError, match="X_val must be a Dask array"):
        classifier().fit(da.from_array(X, chunks=(100, 64)), da.from_array(y),
                         X_val=X_val, y_val=y_val)  # fmt: skip
    with pytest.raises(ValueError, match="X_val must be data of the kind X is"):
        classifier().fit(X, y, X_val=da.from_array(X_val), y_val=y_val)
    with pytest.raises(ValueError, match="previously unseen labels"):
        classifier().fit(
            da.from_array(X, chunks=(100, 64)), da.from_array(y, chunks=100),
            X_val=da.from_array(X_val), y_val=da.from_array(y_val + 1),
        )  # fmt: skip


def test_loss_scoring_on_a_dask_split(dask_client, diabetes):
    da = pytest.importorskip("dask.array")
    X, y, _, _ = diabetes
    reg = fit_quietly(
        regressor(scoring="loss", max_iter=10),
        da.from_array(X, chunks=(100, 10)), da.from_array(y, chunks=100),
    )  # fmt: skip
    assert all(s < 0 for s in reg.validation_scores_)
    assert reg.best_validation_score_ == max(reg.validation_scores_)


# -------------------------------------------------------------- array API
@pytest.mark.parametrize("xp, device, dtype", namespaces())
@pytest.mark.parametrize("scoring", [None, "loss"])
def test_a_validation_set_on_a_device(
    digits, xp, device, dtype, scoring, array_api_dispatch
):
    X, y, X_val, y_val = digits
    weights = np.linspace(0.5, 1.5, len(y_val))
    params = dict(scoring=scoring, max_iter=10)
    reference = fit_quietly(
        classifier(**params), X.astype(dtype), y, X_val=X_val.astype(dtype),
        y_val=y_val, sample_weight_val=weights,
    )  # fmt: skip
    with sklearn.config_context(array_api_dispatch=True):
        clf = fit_quietly(
            classifier(**params),
            to_namespace(xp, device, X, dtype), to_namespace(xp, device, y),
            X_val=to_namespace(xp, device, X_val, dtype),
            y_val=to_namespace(xp, device, y_val),
            sample_weight_val=to_namespace(xp, device, weights, dtype),
        )  # fmt: skip
        with pytest.raises(ValueError, match="X_val must be data of the kind X is"):
            classifier().fit(to_namespace(xp, device, X, dtype),
                             to_namespace(xp, device, y), X_val=X_val,
                             y_val=y_val)  # fmt: skip
    assert on(clf.coefs_[0], xp, device)
    rtol = 1e-8 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(clf.validation_scores_, reference.validation_scores_,
                               rtol=rtol)  # fmt: skip
