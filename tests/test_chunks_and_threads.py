"""Bounded-memory (chunked) evaluation, memory maps, and BLAS thread limits."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

import sklearn_cgmlp._adapters as adapters_module
import sklearn_cgmlp._objective as objective_module
from sklearn_cgmlp import CGMLPClassifier
from sklearn_cgmlp._loss import MLPLoss
from sklearn_cgmlp._outputs import Gamma, Huber


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return np.ascontiguousarray(X[:600] / 16.0), y[:600]


def fit_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


# That a chunked fit follows the full fit, on both estimators and dense and
# sparse data, is tested in test_estimators.py.
def test_chunk_size_bounds_the_workspace(digits, monkeypatch):
    X, y = digits
    sizes = []
    original = objective_module.Workspace

    def spy(layer_units, n_rows, dtype, **kwargs):
        sizes.append(n_rows)
        return original(layer_units, n_rows, dtype, **kwargs)

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
    original = MLPLoss.data_loss_gradient

    def spy(self, theta, X, *args, **kwargs):
        seen.append(X)
        return original(self, theta, X, *args, **kwargs)

    monkeypatch.setattr(MLPLoss, "data_loss_gradient", spy)
    params = dict(hidden_layer_sizes=(10,), max_iter=10, random_state=0)
    on_disk = fit_quietly(CGMLPClassifier(chunk_size=100, **params), X_mm, y)
    assert seen and all(np.shares_memory(x, X_mm) for x in seen)
    in_memory = fit_quietly(CGMLPClassifier(**params), X, y)
    np.testing.assert_allclose(on_disk.loss_curve_, in_memory.loss_curve_, rtol=1e-8)
    np.testing.assert_array_equal(on_disk.predict(X_mm), on_disk.predict(X))


def test_threadpoolctl_limits_are_respected_during_fit(digits, monkeypatch):
    X, y = digits
    threads_seen = []
    original = MLPLoss.data_loss_gradient

    def spy(*args, **kwargs):
        threads_seen.extend(
            info["num_threads"]
            for info in threadpool_info()
            if info["user_api"] == "blas"
        )
        return original(*args, **kwargs)

    monkeypatch.setattr(MLPLoss, "data_loss_gradient", spy)
    with threadpool_limits(limits=1, user_api="blas"):
        fit_quietly(CGMLPClassifier(hidden_layer_sizes=(8,), max_iter=3), X, y)
    assert threads_seen and set(threads_seen) == {1}


# ------------------------------------------------------ row blocks in threads
# The regression outputs whose loss is not the canonical one of their output.
OUTPUT_ENTRIES = {"huber": Huber(epsilon=0.5), "gamma": Gamma()}


def threaded_problem(n_samples=3000, dtype=np.float64, seed=0, output="softmax"):
    """Four outputs: one-hot classes for softmax, real targets for the Huber
    loss, positive ones for the Gamma loss."""
    from sklearn_cgmlp._layout import ParameterLayout
    from sklearn_cgmlp._layout import glorot_init as _glorot_init

    rng = np.random.RandomState(seed)
    X = rng.randn(n_samples, 12).astype(dtype)
    Y = np.eye(4, dtype=dtype)[rng.randint(4, size=n_samples)]
    if output != "softmax":
        Y = (rng.randn if output == "huber" else rng.rand)(n_samples, 4) + 0.01
        Y = Y.astype(dtype)
    sw = rng.uniform(0.5, 2.0, n_samples).astype(dtype)
    layout = ParameterLayout([12, 16, 8, 4])
    theta = _glorot_init(layout, "tanh", seed).astype(dtype)
    return X, Y, sw, layout, theta


def evaluate(n_threads, X, Y, sw, layout, theta, output="softmax", **kwargs):
    objective = objective_module.InMemoryObjective(
        X,
        Y,
        loss=MLPLoss(layout, "tanh", OUTPUT_ENTRIES.get(output, output), 0.3),
        sample_weight=sw,
        n_threads=n_threads,
        **kwargs,
    )
    try:
        grad = np.empty_like(theta)
        loss, _ = objective.loss_grad(theta, out=grad)
        v = np.random.RandomState(1).randn(theta.size).astype(theta.dtype)
        Hv = objective.curvature(theta).dot(v)
        return objective.n_threads, loss, grad, Hv
    finally:
        objective.close()


@pytest.mark.parametrize("output", ["softmax", "huber", "gamma"])
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
def test_results_do_not_depend_on_the_thread_count_beyond_rounding(fmt, output):
    X, Y, sw, layout, theta = threaded_problem(output=output)
    if fmt != "dense":
        X = getattr(sparse, f"{fmt}_matrix")(X)
    n1, loss1, grad1, Hv1 = evaluate(1, X, Y, sw, layout, theta, output)
    assert n1 == 1
    for n_threads in (2, 3, 5):
        n, loss, grad, Hv = evaluate(n_threads, X, Y, sw, layout, theta, output)
        assert n == n_threads
        assert loss == pytest.approx(loss1, rel=1e-13)
        np.testing.assert_allclose(grad, grad1, rtol=1e-11, atol=1e-15)
        np.testing.assert_allclose(Hv, Hv1, rtol=1e-11, atol=1e-15)
        # Deterministic for a given thread count: blocks are reduced in order.
        _, loss_again, grad_again, Hv_again = evaluate(
            n_threads, X, Y, sw, layout, theta, output
        )
        assert loss_again == loss
        np.testing.assert_array_equal(grad_again, grad)
        np.testing.assert_array_equal(Hv_again, Hv)


def test_small_data_stays_in_one_thread():
    X, Y, sw, layout, theta = threaded_problem(n_samples=2 * 512 - 1)
    assert evaluate(8, X, Y, sw, layout, theta)[0] == 1
    X, Y, sw, layout, theta = threaded_problem(n_samples=3 * 512)
    assert evaluate(8, X, Y, sw, layout, theta)[0] == 3


def test_chunks_bound_each_threads_scratch_space():
    X, Y, sw, layout, theta = threaded_problem(n_samples=3000)
    objective = objective_module.InMemoryObjective(
        X, Y, loss=MLPLoss(layout, "tanh", "softmax", 0.3), sample_weight=sw,
        n_threads=3, chunk_size=100,
    )  # fmt: skip
    assert [ws.n_rows for ws in objective.workspaces] == [100, 100, 100]
    grad = np.empty_like(theta)
    loss, _ = objective.loss_grad(theta, out=grad)
    objective.close()
    _, loss1, grad1, _ = evaluate(1, X, Y, sw, layout, theta)
    assert loss == pytest.approx(loss1, rel=1e-12)
    np.testing.assert_allclose(grad, grad1, rtol=1e-10, atol=1e-15)


def test_fit_uses_as_many_threads_as_blas_is_given(monkeypatch):
    X, Y, _, _, _ = threaded_problem(n_samples=2048)
    y = Y.argmax(axis=1)
    threads, blas_inside = [], []
    original_init = objective_module.InMemoryObjective.__init__
    original_kernel = MLPLoss.data_loss_gradient

    def spy_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        threads.append(self.n_threads)

    def spy_kernel(*args, **kwargs):
        blas_inside.append(
            max(
                i["num_threads"]
                for i in threadpool_info()
                if i["user_api"] == "blas" and "numpy" in i["filepath"]
            )
        )
        return original_kernel(*args, **kwargs)

    monkeypatch.setattr(objective_module.InMemoryObjective, "__init__", spy_init)
    monkeypatch.setattr(MLPLoss, "data_loss_gradient", spy_kernel)
    est = CGMLPClassifier(hidden_layer_sizes=(8,), max_iter=3)
    for limit in (1, 2, 3):
        blas_inside.clear()
        with threadpool_limits(limits=limit, user_api="blas"):
            fit_quietly(est, X, y)
        assert threads[-1] == limit
        # Each thread's matrix products are single-threaded meanwhile (NumPy's
        # BLAS; SciPy's is limited around the solver, see test_solvers).
        assert set(blas_inside) == {1}


@pytest.mark.parametrize("solver", ["cg", "newton-cg", "lbfgs"])
def test_numpys_blas_is_single_threaded_for_a_threaded_solve(solver, monkeypatch):
    """Between evaluations too: a solver's dot products with several BLAS
    threads leave them spinning into the next evaluation, where they take
    the cores from the row-block threads. The user's setting is back after
    the fit."""
    X, Y, _, _, _ = threaded_problem(n_samples=2048)
    y = Y.argmax(axis=1)

    def numpy_blas_threads():
        return max(
            i["num_threads"]
            for i in threadpool_info()
            if i["user_api"] == "blas" and "numpy" in i["filepath"]
        )

    seen = []
    evaluate = adapters_module.SciPyObjective._evaluate

    def spy(self, x, *args):
        seen.append(numpy_blas_threads())  # outside the objective's own limit
        return evaluate(self, x, *args)

    monkeypatch.setattr(adapters_module.SciPyObjective, "_evaluate", spy)
    with threadpool_limits(limits=2, user_api="blas"):
        if numpy_blas_threads() < 2:
            pytest.skip("NumPy's BLAS runs one thread here")
        fit_quietly(
            CGMLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=3), X, y
        )
        # The first evaluation (at the initial weights) runs before the solver.
        assert seen[0] == 2 and len(seen) > 2
        assert set(seen[1:]) == {1}
        assert numpy_blas_threads() == 2


def test_fits_with_one_or_several_threads_agree(monkeypatch):
    X, Y, _, _, _ = threaded_problem(n_samples=2048)
    y = Y.argmax(axis=1)
    blocks = []  # (BLAS limit, block, rows) of every block evaluation
    original = objective_module.InMemoryObjective._block_data_loss

    def spy(self, theta, grad, block):
        blocks.append((limit, block, len(self._rows(block, self.X))))
        return original(self, theta, grad, block)

    monkeypatch.setattr(objective_module.InMemoryObjective, "_block_data_loss", spy)
    fits = {}
    for limit in (1, 2):
        with threadpool_limits(limits=limit, user_api="blas"):
            # A list, not a generator: the fits must run inside the limit.
            fits[limit] = [
                fit_quietly(
                    CGMLPClassifier(
                        hidden_layer_sizes=(8,),
                        solver=solver,
                        max_iter=8,
                        random_state=0,
                    ),  # fmt: skip
                    X,
                    y,
                )
                for solver in ("cg", "newton-cg")
            ]
    # One block of all rows under one thread, two halves under two.
    assert {(b, rows) for lim, b, rows in blocks if lim == 1} == {(0, 2048)}
    assert {(b, rows) for lim, b, rows in blocks if lim == 2} == {(0, 1024), (1, 1024)}
    # Only the summation order differs: measured 1e-15 (loss, relative) and
    # 3e-13 (weights) after 8 iterations.
    for one, several in zip(fits[1], fits[2]):
        assert one.n_iter_ == several.n_iter_ == 8
        np.testing.assert_allclose(one.loss_curve_, several.loss_curve_, rtol=1e-12)
        for a, b in zip(one.coefs_, several.coefs_):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-11)


def test_pool_threads_run_under_the_callers_error_settings():
    # np.errstate is per thread: the solver glue silences overflow at trial
    # points, and the block evaluated in a pool thread must be silenced too.
    X, Y, sw, layout, theta = threaded_problem(n_samples=2048)
    X[-10:] = 1e308  # rows of the last block, which a pool thread evaluates
    objective = objective_module.InMemoryObjective(
        X, Y, loss=MLPLoss(layout, "tanh", "softmax", 0.3), n_threads=2
    )
    grad = np.empty_like(theta)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with np.errstate(over="ignore", invalid="ignore"):
                objective.loss_grad(theta, out=grad)  # silent in every thread
            with pytest.raises(RuntimeWarning, match="overflow"):
                objective.loss_grad(theta, out=grad)  # the overflow is real
    finally:
        objective.close()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_solver_side_passes_run_in_the_objectives_threads(dtype, monkeypatch):
    from sklearn_cgmlp._adapters import SciPyObjective

    X, Y, sw, layout, theta = threaded_problem(n_samples=2048, dtype=dtype)
    objective = objective_module.InMemoryObjective(
        X, Y, loss=MLPLoss(layout, "tanh", "softmax", 0.3), sample_weight=sw,
        n_threads=2,
    )  # fmt: skip
    parts = []
    original = objective_module.InMemoryObjective.map_slices

    def spy(self, func):
        results = original(self, func)
        parts.append(len(results))
        return results

    monkeypatch.setattr(objective_module.InMemoryObjective, "map_slices", spy)
    try:
        adapter = SciPyObjective(objective)
        adapter.scale = 1e4
        x = theta.astype(np.float64)
        loss, grad = adapter(x)
        # What the glue computes in those passes, done plainly.
        plain_loss, plain_grad = objective.loss_grad(theta.copy())
    finally:
        objective.close()
    assert parts and set(parts) == {2}  # two slices, one per thread
    assert grad.dtype == np.float64 and grad is not plain_grad
    assert loss == pytest.approx(1e4 * plain_loss, rel=1e-12)
    np.testing.assert_array_equal(grad, 1e4 * plain_grad.astype(np.float64))
    recorded = adapter.lookup(x)
    assert recorded == (pytest.approx(plain_loss, rel=1e-12),
                        pytest.approx(np.abs(plain_grad).max(), rel=1e-6))  # fmt: skip
