"""Fitting the estimators on Dask arrays: the same model as in memory."""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor

da = pytest.importorskip("dask.array")
pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X)[:900], y[:900]


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def chunked(A, rows=250):
    return da.from_array(A, chunks=(rows,) + A.shape[1:])


@pytest.mark.parametrize("solver", ["cg", "lbfgs"])
def test_classifier_on_dask_is_the_in_memory_model(dask_client, digits, solver):
    X, y = digits
    params = dict(hidden_layer_sizes=(12,), solver=solver, max_iter=20,
                  random_state=0)  # fmt: skip
    in_memory = fit_quietly(CGMLPClassifier(**params), X, y)
    on_dask = fit_quietly(CGMLPClassifier(**params), chunked(X), chunked(y))
    assert on_dask.n_iter_ == in_memory.n_iter_ == 20
    assert on_dask.loss_ == pytest.approx(in_memory.loss_, rel=1e-6)
    proba = on_dask.predict_proba(chunked(X))
    assert isinstance(proba, da.Array)  # lazy, block by block
    np.testing.assert_allclose(proba.compute(), in_memory.predict_proba(X), rtol=1e-6)
    pred = on_dask.predict(chunked(X))
    assert isinstance(pred, da.Array)
    np.testing.assert_array_equal(pred.compute(), in_memory.predict(X))
    log_proba = on_dask.predict_log_proba(chunked(X))
    np.testing.assert_allclose(np.exp(log_proba.compute()), proba.compute(), rtol=1e-9)
    assert on_dask.score(chunked(X), chunked(y)) == pytest.approx(in_memory.score(X, y))
    assert isinstance(on_dask.coefs_[0], np.ndarray)  # the model is on the client


def test_runs_on_dask_are_deterministic(dask_client, digits):
    X, y = digits
    fits = [
        fit_quietly(
            CGMLPClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0),
            chunked(X, 200),
            chunked(y, 200),
        )
        for _ in range(2)
    ]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    np.testing.assert_array_equal(fits[0].coefs_[0], fits[1].coefs_[0])


@pytest.mark.parametrize("loss", ["squared_error", "huber", "poisson", "gamma"])
def test_regressor_on_dask_is_the_in_memory_model(dask_client, diabetes, loss):
    X, y = diabetes
    if loss in ("poisson", "gamma"):
        y = np.exp(y / 2)
    params = dict(hidden_layer_sizes=(6,), loss=loss, epsilon=0.5, max_iter=20,
                  random_state=0)  # fmt: skip
    in_memory = fit_quietly(CGMLPRegressor(**params), X, y)
    on_dask = fit_quietly(CGMLPRegressor(**params), chunked(X, 150), chunked(y, 150))
    assert on_dask.loss_ == pytest.approx(in_memory.loss_, rel=1e-6)
    assert on_dask._fitted_loss == in_memory._fitted_loss == loss  # for to_npz
    pred = on_dask.predict(chunked(X, 150))
    assert isinstance(pred, da.Array) and pred.shape == (X.shape[0],)
    np.testing.assert_allclose(pred.compute(), in_memory.predict(X), rtol=1e-6)
    assert on_dask.score(chunked(X, 150), chunked(y, 150)) == pytest.approx(
        in_memory.score(X, y), rel=1e-6
    )


def test_weights_warm_start_and_verbose_on_dask(dask_client, digits, capsys):
    X, y = digits
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    params = dict(hidden_layer_sizes=(8,), max_iter=8, random_state=0,
                  class_weight="balanced")  # fmt: skip
    in_memory = fit_quietly(CGMLPClassifier(**params), X, y, sample_weight=sw)
    on_dask = fit_quietly(
        CGMLPClassifier(**params), chunked(X), chunked(y), sample_weight=chunked(sw)
    )
    assert on_dask.loss_ == pytest.approx(in_memory.loss_, rel=1e-6)
    warm = CGMLPClassifier(hidden_layer_sizes=(8,), max_iter=4, warm_start=True,
                           verbose=True, random_state=0)  # fmt: skip
    fit_quietly(warm, chunked(X), chunked(y))
    first = warm.loss_
    fit_quietly(warm, chunked(X), chunked(y))
    assert warm.loss_ < first
    assert "Iteration 4, loss" in capsys.readouterr().out


def test_early_stopping_on_dask(dask_client, digits, capsys, verbose_story):
    X, y = digits
    clf = fit_quietly(
        CGMLPClassifier(hidden_layer_sizes=(8,), early_stopping=True, verbose=True,
                        validation_fraction=0.2, max_iter=30, random_state=0),
        chunked(X),
        chunked(y),
    )  # fmt: skip
    assert len(clf.validation_scores_) == clf.n_iter_ > 0
    assert clf.best_validation_score_ == max(clf.validation_scores_) > 0.5
    # verbose says which iteration was kept, as in memory.
    verbose_story(clf, capsys.readouterr().out)


def test_unknown_row_chunks_get_a_hint(dask_client, digits):
    X, y = digits
    X_unknown = chunked(X)[chunked(y) >= 0]  # boolean masks lose chunk sizes
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        CGMLPClassifier(max_iter=2).fit(X_unknown, chunked(y))


def test_column_chunks_are_merged_into_rows(dask_client, digits):
    X, y = digits
    X_columns = da.from_array(X, chunks=(300, 16))
    params = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    clf = fit_quietly(CGMLPClassifier(**params), X_columns, chunked(y))
    reference = fit_quietly(
        CGMLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0), X, y
    )
    assert clf.loss_ == pytest.approx(reference.loss_, rel=1e-6)


def _regression(n):
    rng = np.random.RandomState(0)
    X = rng.randn(n, 3)
    return X, X[:, 0] + 0.1 * rng.randn(n)


@pytest.mark.parametrize(
    "n, fraction, y, sample_weight",
    [
        (20, 0.05, None, None),  # one validation sample: R² undefined
        (20, 0.99, None, None),  # no training sample
        (2, 0.5, None, None),  # too few samples for any fraction
        (20, 0.25, "constant", None),  # equal validation targets
        (20, 0.25, None, "one positive"),  # weight in the training part only
    ],
    ids=["one validation sample", "no training sample", "two samples",
         "constant targets", "zero validation weight"],
)  # fmt: skip
def test_degenerate_splits_are_refused_on_dask_as_in_memory(
    dask_client, n, fraction, y, sample_weight
):
    """The split on a cluster differs from the one in memory (random within
    blocks, not stratified), but what makes it unusable is refused in the
    same words."""
    X, y_fit = _regression(n)
    if y == "constant":
        y_fit = np.full(n, 1.5)
    sw = None
    if sample_weight == "one positive":
        sw = np.zeros(n)
        sw[3] = 1.0  # wherever it lands, one part has only zero weights
    params = dict(hidden_layer_sizes=(3,), early_stopping=True, max_iter=5,
                  validation_fraction=fraction, random_state=0)  # fmt: skip
    with pytest.raises(ValueError) as in_memory:
        CGMLPRegressor(**params).fit(X, y_fit, sample_weight=sw)
    on_dask = CGMLPRegressor(**params)
    with pytest.raises(ValueError) as error:
        on_dask.fit(
            chunked(X, 10), chunked(y_fit, 10),
            sample_weight=None if sw is None else chunked(sw, 10),
        )  # fmt: skip
    assert not hasattr(on_dask, "coefs_")
    if sample_weight == "one positive":  # which part depends on the split
        pattern = (
            r"^The early-stopping (training|validation) part has only samples "
            "of weight zero"
        )
        assert re.match(pattern, str(error.value))
        assert re.match(pattern, str(in_memory.value))
    else:
        assert str(error.value) == str(in_memory.value)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_dask_validation_part_missing_a_class_still_scores(dask_client):
    """Not stratified on a cluster: a class may be missing from either part;
    the accuracy on what the validation part holds is defined."""
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], [100, 2, 2])
    X = rng.randn(len(y), 3) + y[:, None]
    clf = CGMLPClassifier(hidden_layer_sizes=(3,), early_stopping=True,
                          validation_fraction=0.05, n_iter_no_change=2,
                          max_iter=200, random_state=0)  # fmt: skip
    clf.fit(chunked(X, 52), chunked(y, 52))
    assert np.all(np.isfinite(clf.validation_scores_))
    assert clf.n_iter_ < 200
