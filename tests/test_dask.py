"""Hyper-parameter search on a local Dask cluster through joblib."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


@pytest.fixture
def client(dask_client):
    return dask_client


def test_grid_search_on_dask_equals_the_sequential_search(client, monkeypatch):
    # joblib batches calls that finish in under 0.2 s, as these do on workers
    # that earlier tests warmed up: a task would then run several fits, and
    # the count of tasks below would depend on the order of the tests.
    from joblib._dask import DaskDistributedBackend

    monkeypatch.setattr(DaskDistributedBackend, "compute_batch_size", lambda self: 1)
    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    pipe = make_pipeline(StandardScaler(), CGMLPClassifier(random_state=0, max_iter=50))
    grid = {
        "cgmlpclassifier__alpha": [1e-4, 1.0],
        "cgmlpclassifier__hidden_layer_sizes": [(8,), (16,)],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sequential = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(X, y)
        with (
            distributed.get_task_stream(client) as tasks,
            joblib.parallel_config(backend="dask"),
        ):
            on_dask = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)
    # The 4 x 3 fits really ran on the cluster's two worker processes.
    assert len(tasks.data) >= 12
    assert len({task["worker"] for task in tasks.data}) == 2
    for key in ("params", "mean_test_score", "std_test_score", "rank_test_score"):
        assert list(on_dask.cv_results_[key]) == list(sequential.cv_results_[key])
    assert on_dask.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(
        on_dask.best_estimator_[-1].coefs_[0], sequential.best_estimator_[-1].coefs_[0]
    )
