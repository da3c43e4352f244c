"""Bounded-memory (chunked) evaluation, memory maps, and BLAS thread limits."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

import sklearn_cgmlp._objective as objective_module
from sklearn_cgmlp import CGMLPClassifier


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return np.ascontiguousarray(X[:600] / 16.0), y[:600]


def fit_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
def test_chunked_fit_follows_the_full_fit(digits, fmt):
    X, y = digits
    if fmt != "dense":
        X = getattr(sparse, f"{fmt}_matrix")(X)
    params = dict(hidden_layer_sizes=(20,), max_iter=15, random_state=0)
    full = fit_quietly(CGMLPClassifier(**params), X, y)
    chunked = fit_quietly(CGMLPClassifier(chunk_size=64, **params), X, y)
    np.testing.assert_allclose(chunked.loss_curve_, full.loss_curve_, rtol=1e-8)
    for a, b in zip(chunked.coefs_, full.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_chunk_size_bounds_the_workspace(digits, monkeypatch):
    X, y = digits
    sizes = []
    original = objective_module.Workspace

    def spy(layer_units, n_rows, dtype):
        sizes.append(n_rows)
        return original(layer_units, n_rows, dtype)

    monkeypatch.setattr(objective_module, "Workspace", spy)
    fit_quietly(
        CGMLPClassifier(hidden_layer_sizes=(8,), max_iter=2, chunk_size=50), X, y
    )
    fit_quietly(CGMLPClassifier(hidden_layer_sizes=(8,), max_iter=2), X, y)
    assert sizes == [50, len(X)]


def test_fit_on_memmap_without_copying(digits, tmp_path, monkeypatch):
    X, y = digits
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    X_mm = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)

    seen = []
    original = objective_module.data_loss_grad

    def spy(theta, X, *args, **kwargs):
        seen.append(X)
        return original(theta, X, *args, **kwargs)

    monkeypatch.setattr(objective_module, "data_loss_grad", spy)
    params = dict(hidden_layer_sizes=(10,), max_iter=10, random_state=0)
    on_disk = fit_quietly(CGMLPClassifier(chunk_size=100, **params), X_mm, y)
    assert seen and all(np.shares_memory(x, X_mm) for x in seen)
    in_memory = fit_quietly(CGMLPClassifier(**params), X, y)
    np.testing.assert_allclose(on_disk.loss_curve_, in_memory.loss_curve_, rtol=1e-8)
    np.testing.assert_array_equal(on_disk.predict(X_mm), on_disk.predict(X))


def test_threadpoolctl_limits_are_respected_during_fit(digits, monkeypatch):
    X, y = digits
    threads_seen = []
    original = objective_module.data_loss_grad

    def spy(*args, **kwargs):
        threads_seen.extend(
            info["num_threads"]
            for info in threadpool_info()
            if info["user_api"] == "blas"
        )
        return original(*args, **kwargs)

    monkeypatch.setattr(objective_module, "data_loss_grad", spy)
    with threadpool_limits(limits=1, user_api="blas"):
        fit_quietly(CGMLPClassifier(hidden_layer_sizes=(8,), max_iter=3), X, y)
    assert threads_seen and set(threads_seen) == {1}
