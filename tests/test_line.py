"""Line searches on cached first-layer products (sklearn_cgmlp._line).

A line's trials and gradients must be the objective's, wherever the data
live, and CG on cached lines must be SciPy's CG up to rounding.
"""

import warnings

import numpy as np
import pytest
import scipy.optimize
import sklearn
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

import sklearn_cgmlp._line as line_module
from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor
from sklearn_cgmlp._activations import ACTIVATIONS
from sklearn_cgmlp._adapters import SciPyObjective
from sklearn_cgmlp._layout import ParameterLayout, glorot_init
from sklearn_cgmlp._line import line_pays, trial_cost_ratio
from sklearn_cgmlp._loss import MLPLoss
from sklearn_cgmlp._nlcg import minimize_cg
from sklearn_cgmlp._objective import InMemoryObjective
from sklearn_cgmlp._ops import NUMPY
from sklearn_cgmlp._outputs import Gamma, Huber

OUTPUTS = {"softmax": 3, "logistic": 2, "identity": 2, "exp": 2}
OUTPUTS.update(huber=2, gamma=2)
# The outputs that are not an activation's canonical loss, as entries.
ENTRIES = {"huber": Huber(epsilon=0.5), "gamma": Gamma()}


def output(out):
    """What MLPLoss takes for ``out``."""
    return ENTRIES.get(out, out)


def problem(out="softmax", hidden=(7,), n=1200, d=9, dtype=np.float64, seed=0,
            fmt="dense"):  # fmt: skip
    rng = np.random.default_rng(seed)
    k = OUTPUTS[out]
    X = rng.standard_normal((n, d))
    X[rng.random(X.shape) < 0.3] = 0.0
    if out == "softmax":
        Y = np.eye(k)[rng.integers(k, size=n)]
    elif out == "exp":
        Y = rng.poisson(2.0, (n, k)).astype(float)
    elif out in ("identity", "huber"):
        Y = rng.standard_normal((n, k))
    elif out == "gamma":
        Y = rng.gamma(2.0, 1.0, (n, k))
    else:
        Y = (rng.random((n, k)) < 0.5).astype(float)
    sw = rng.uniform(0.5, 2.0, n)
    layout = ParameterLayout([d, *hidden, k])
    theta = glorot_init(layout, "tanh", seed)
    p = 0.3 * rng.standard_normal(layout.n_params)
    X, Y, sw, theta, p = (a.astype(dtype) for a in (X, Y, sw, theta, p))
    if fmt != "dense":
        X = getattr(sparse, f"{fmt}_matrix")(X)
    return X, Y, sw, layout, theta, p


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-300)


def check_line_against_evaluations(objective, theta, p, rtol, n_lines=3, seed=1):
    """Trials and gradients along several consecutive lines (each continuing
    from the previous one's gradient) equal full evaluations at 5 random
    steps; returns the largest relative difference seen."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for k in range(n_lines):
        line = objective.line(theta, p, continues=k > 0)
        assert line is not None
        for a in rng.uniform(-1.0, 2.0, 5):
            loss, slope = line.trial(a)
            loss0, grad0 = objective.loss_grad(theta + a * p)
            slope0 = float(grad0.astype(np.float64) @ p.astype(np.float64))
            worst = max(worst, relative(loss, loss0))
            assert loss == pytest.approx(loss0, rel=rtol)
            assert slope == pytest.approx(slope0, rel=rtol, abs=rtol * abs(loss0))
        a = 0.7
        loss, grad = line.gradient(a)
        loss0, grad0 = objective.loss_grad(theta + a * p)
        assert loss == pytest.approx(loss0, rel=rtol)
        np.testing.assert_allclose(grad, grad0, rtol=rtol, atol=rtol * abs(grad0).max())
        theta = theta + a * p
        p = (0.3 * rng.standard_normal(p.size)).astype(p.dtype)
    objective.close()
    return worst


# --------------------------------------------------- values along a line
@pytest.mark.parametrize("activation", ["tanh", "gelu"])  # gelu keeps Z
@pytest.mark.parametrize("out", list(OUTPUTS))
@pytest.mark.parametrize("hidden", [(), (7,), (7, 5)])
@pytest.mark.parametrize(
    "fmt, n_threads, chunk_size",
    [("dense", 1, None), ("dense", 1, 130), ("csr", 3, None), ("csc", 2, 100)],
)
def test_in_memory_line_equals_full_evaluations(activation, out, hidden, fmt,
                                                n_threads, chunk_size):  # fmt: skip
    X, Y, sw, layout, theta, p = problem(out, hidden, fmt=fmt)
    objective = InMemoryObjective(
        X, Y, loss=MLPLoss(layout, activation, output(out), 0.3), sample_weight=sw,
        n_threads=n_threads, chunk_size=chunk_size, cached_line=True,
    )  # fmt: skip
    check_line_against_evaluations(objective, theta, p, rtol=1e-10)


@pytest.mark.parametrize("activation", [*ACTIVATIONS, ("silu", "softplus")])
@pytest.mark.parametrize("alpha", [0.0, 2.0])
def test_every_activation_and_penalty(activation, alpha):
    X, Y, sw, layout, theta, p = problem("softmax", (6, 4))
    objective = InMemoryObjective(
        X, Y, loss=MLPLoss(layout, activation, "softmax", alpha), cached_line=True
    )
    check_line_against_evaluations(objective, theta, p, rtol=1e-10)


def test_float32_line_equals_float32_evaluations():
    X, Y, sw, layout, theta, p = problem("logistic", (8,), dtype=np.float32)
    objective = InMemoryObjective(
        X, Y, loss=MLPLoss(layout, "relu", "logistic", 0.1), sample_weight=sw,
        cached_line=True,
    )  # fmt: skip
    check_line_against_evaluations(objective, theta, p, rtol=1e-4)


@pytest.mark.parametrize("out", ["exp", "huber", "gamma"])
def test_slope_is_the_derivative_of_the_loss_along_the_line(out):
    X, Y, sw, layout, theta, p = problem(out, (5,))
    objective = InMemoryObjective(
        X, Y, loss=MLPLoss(layout, "tanh", output(out), 0.5), sample_weight=sw,
        cached_line=True,
    )  # fmt: skip
    line = objective.line(theta, p)
    eps = 1e-6
    for a in (-0.3, 0.0, 0.4, 1.1):
        fd = (line.trial(a + eps)[0] - line.trial(a - eps)[0]) / (2 * eps)
        assert line.trial(a)[1] == pytest.approx(fd, rel=1e-6)


def test_array_api_line_equals_full_evaluations(array_api_dispatch):
    xp = pytest.importorskip("array_api_strict")
    from sklearn_cgmlp._objective import ArrayAPIObjective
    from sklearn_cgmlp._ops import ArrayAPIOps

    X, Y, sw, layout, theta, p = problem("softmax", (6,))
    device = xp.Device("device1")
    ops = ArrayAPIOps(xp, device)
    X_, Y_, sw_, theta_, p_ = (
        xp.asarray(a, device=device) for a in (X, Y, sw, theta, p)
    )
    objective = ArrayAPIObjective(
        X_, Y_, loss=MLPLoss(layout, "tanh", "softmax", 0.3), sample_weight=sw_,
        chunk_size=500, ops=ops, cached_line=True,
    )  # fmt: skip
    reference = InMemoryObjective(
        X, Y, loss=MLPLoss(layout, "tanh", "softmax", 0.3), sample_weight=sw
    )
    line = objective.line(theta_, p_)
    for a in np.random.default_rng(3).uniform(-1.0, 2.0, 5):
        loss, slope = line.trial(float(a))
        loss0, grad0 = reference.loss_grad(theta + a * p)
        assert loss == pytest.approx(loss0, rel=1e-10)
        assert slope == pytest.approx(grad0 @ p, rel=1e-10)
    loss, grad = line.gradient(0.7)
    assert grad.device == device
    loss0, grad0 = reference.loss_grad(theta + 0.7 * p)
    assert loss == pytest.approx(loss0, rel=1e-10)
    np.testing.assert_allclose(ops.to_numpy(grad), grad0, rtol=1e-10, atol=1e-14)


def test_dask_line_equals_full_evaluations(dask_client):
    da = pytest.importorskip("dask.array")
    from sklearn_cgmlp._dask.objective import DaskObjective

    X, Y, sw, layout, theta, p = problem("softmax", (6,), n=480)
    loss = MLPLoss(layout, "tanh", "softmax", 0.3)
    objective = DaskObjective(
        da.from_array(X, chunks=(120, X.shape[1])), da.from_array(Y, chunks=(120, 3)),
        loss=loss, sample_weight=da.from_array(sw, chunks=120), client=dask_client,
        chunk_size=50, cached_line=True,
    )  # fmt: skip
    reference = InMemoryObjective(X, Y, loss=loss, sample_weight=sw)
    rng = np.random.default_rng(1)
    for k in range(3):
        line = objective.line(theta, p, continues=k > 0)
        for a in rng.uniform(-1.0, 2.0, 5):
            value, slope = line.trial(a)
            loss0, grad0 = reference.loss_grad(theta + a * p)
            assert value == pytest.approx(loss0, rel=1e-10)
            assert slope == pytest.approx(grad0 @ p, rel=1e-10)
        value, grad = line.gradient(0.7)
        loss0, grad0 = reference.loss_grad(theta + 0.7 * p)
        assert value == pytest.approx(loss0, rel=1e-10)
        np.testing.assert_allclose(grad, grad0, rtol=1e-10, atol=1e-14)
        theta, p = theta + 0.7 * p, 0.3 * rng.standard_normal(p.size)
    objective.close()


# -------------------------------------------------- the rule and fallbacks
def test_the_rule_takes_wide_first_layers_and_leaves_small_or_deep_narrow_ones():
    # Measured trial/evaluation ratios (benchmarks/README.md): 0.02 for the
    # CIFAR shape, 0.04 sparse wide, 0.5 digits, 0.87 deep and narrow.
    assert line_pays((3072, 200, 10), 3000, 3072)
    assert line_pays((30000, 100, 2), 10000, 60, sparse_input=True)
    assert line_pays((784, 100, 10), 10000, 784)
    assert not line_pays((64, 64, 10), 1797, 64)
    assert not line_pays((40, 100, 100, 10), 5000, 40)
    assert not line_pays((4, 10, 3), 150, 4)
    # Chunks ask for bounded memory: no caches of all rows.
    assert not line_pays((3072, 200, 10), 3000, 3072, chunked=True)
    # Sparse products cost more per multiply-add than dense ones.
    dense = trial_cost_ratio((3000, 50, 2), 10000, 20)
    assert trial_cost_ratio((3000, 50, 2), 10000, 20, sparse_input=True) < dense


def test_objectives_follow_the_rule_unless_told(monkeypatch):
    X, Y, sw, layout, theta, p = problem("softmax", (7,))
    loss = MLPLoss(layout, "tanh", "softmax", 0.1)
    assert InMemoryObjective(X, Y, loss=loss).line(theta, p) is None  # small
    monkeypatch.setattr(line_module, "line_pays", lambda *a, **k: True)
    assert InMemoryObjective(X, Y, loss=loss).line(theta, p) is not None
    assert InMemoryObjective(X, Y, loss=loss, cached_line=False).line(theta, p) is None
    monkeypatch.undo()
    X, Y = np.tile(X, (3, 40)), np.tile(Y, (3, 1))  # wide: the rule takes it
    layout = ParameterLayout([X.shape[1], 7, 3])
    loss = MLPLoss(layout, "tanh", "softmax", 0.1)
    assert InMemoryObjective(X, Y, loss=loss).cached_line
    assert not InMemoryObjective(X, Y, loss=loss, chunk_size=1000).cached_line


@pytest.fixture
def cached(monkeypatch):
    """Fits use cached lines whatever the rule says."""
    monkeypatch.setattr(line_module, "line_pays", lambda *a, **k: True)


def digits(n=600):
    X, y = load_digits(return_X_y=True)
    return np.ascontiguousarray(X[:n] / 16.0), y[:n]


def fit_quietly(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


@pytest.mark.parametrize("solver", ["newton-cg", "trust-ncg", "lbfgs"])
def test_other_solvers_make_no_trials(cached, solver):
    X, y = digits(300)
    clf = fit_quietly(CGMLPClassifier((8,), solver=solver, max_iter=5), X, y)
    assert clf.n_line_trials_ == 0


def test_without_the_cache_a_fit_makes_no_trials():
    X, y = digits(300)
    clf = fit_quietly(CGMLPClassifier((8,), max_iter=5, random_state=0), X, y)
    assert clf.n_line_trials_ == 0  # digits: the rule says no


# --------------------------------------------------------- fits on lines
def test_a_cached_iteration_costs_one_evaluation(cached):
    X, y = digits()
    clf = fit_quietly(
        CGMLPClassifier((16,), activation="tanh", max_iter=40, tol=0.0,
                        random_state=0), X, y,
    )  # fmt: skip
    assert clf.n_iter_ == 40
    # The initial evaluation, one gradient per iteration (and per restart or
    # descent-test retry, rare): trials do the rest.
    assert clf.n_iter_ + 1 <= clf.n_fun_evals_ <= clf.n_iter_ + 4
    assert clf.n_line_trials_ >= clf.n_iter_
    assert clf.t_ == clf.n_fun_evals_ * len(X)


def test_cached_and_full_fits_follow_the_same_path(cached, monkeypatch):
    # With the same curvature condition and pairs (by default cached lines ask
    # for a stricter one and keep none,
    # test_cached_lines_search_with_their_own_curvature_condition).
    from sklearn_cgmlp import _solvers

    monkeypatch.setattr(_solvers, "CG_CACHED_LINE_C2", _solvers.CG_LINE_SEARCH_C2)
    monkeypatch.setattr(_solvers, "CG_CACHED_LINE_MEMORY", _solvers.CG_MEMORY)
    X, y = digits()
    params = dict(hidden_layer_sizes=(16,), activation="tanh", max_iter=15,
                  tol=0.0, random_state=0)  # fmt: skip
    on_lines = fit_quietly(CGMLPClassifier(**params), X, y)
    monkeypatch.setattr(line_module, "line_pays", lambda *a, **k: False)
    full = fit_quietly(CGMLPClassifier(**params), X, y)
    assert full.n_line_trials_ == 0 and on_lines.n_line_trials_ > 0
    np.testing.assert_allclose(on_lines.loss_curve_, full.loss_curve_, rtol=1e-9)


def test_cached_lines_search_with_their_own_curvature_condition(monkeypatch):
    """Trials on cached lines cost a fraction of an evaluation: their line
    searches ask for c2=0.4 without curvature pairs, full-evaluation ones for
    0.9 with 10 pairs."""
    from sklearn_cgmlp import _solvers

    seen = []
    original = _solvers.minimize_cg

    def spy(*args, **kwargs):
        seen.append((kwargs["c2"], kwargs["memory"]))
        return original(*args, **kwargs)

    monkeypatch.setattr(_solvers, "minimize_cg", spy)
    X, y = digits()
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    for pays, settings in ((True, (0.4, 0)), (False, (0.9, 10))):
        monkeypatch.setattr(line_module, "line_pays", lambda *a, _p=pays, **k: _p)
        seen.clear()
        fit = fit_quietly(CGMLPClassifier(**params), X, y)
        assert seen[0] == settings and (fit.n_line_trials_ > 0) == pays


@pytest.mark.parametrize("Estimator", [CGMLPClassifier, CGMLPRegressor])
def test_cached_fits_are_bit_for_bit_deterministic(cached, Estimator):
    X, y = digits()
    if Estimator is CGMLPRegressor:
        y = y / 10.0
    params = dict(hidden_layer_sizes=(12,), max_iter=25, random_state=0)
    first = fit_quietly(Estimator(**params), X, y)
    again = fit_quietly(Estimator(**params), X, y)
    assert first.loss_curve_ == again.loss_curve_
    for a, b in zip(first.coefs_ + first.intercepts_, again.coefs_ + again.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_threads_and_chunks_change_a_cached_fit_only_by_rounding(cached):
    from threadpoolctl import threadpool_limits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    params = dict(hidden_layer_sizes=(12,), activation="tanh", max_iter=10,
                  tol=0.0, random_state=0)  # fmt: skip
    with threadpool_limits(limits=1, user_api="blas"):
        plain = fit_quietly(CGMLPClassifier(**params), X, y)
    with threadpool_limits(limits=2, user_api="blas"):
        threaded = fit_quietly(CGMLPClassifier(chunk_size=300, **params), X, y)
    assert plain.n_line_trials_ > 0 and threaded.n_line_trials_ > 0
    np.testing.assert_allclose(threaded.loss_curve_, plain.loss_curve_, rtol=1e-9)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_inputs_follow_the_dense_path(cached, fmt):
    X, y = digits()
    params = dict(hidden_layer_sizes=(10,), max_iter=10, tol=0.0, random_state=0)
    dense = fit_quietly(CGMLPClassifier(**params), X, y)
    sp = fit_quietly(CGMLPClassifier(**params), getattr(sparse, f"{fmt}_matrix")(X), y)
    np.testing.assert_allclose(sp.loss_curve_, dense.loss_curve_, rtol=1e-9)


def test_regressor_outputs_and_weights_on_lines(cached):
    X, y = digits()
    y = y / 10.0
    sw = np.random.default_rng(0).uniform(0.2, 2.0, len(y))
    for loss in ("squared_error", "huber", "poisson", "gamma"):
        reg = fit_quietly(
            CGMLPRegressor((10,), loss=loss, alpha=0.1, max_iter=30, random_state=0,
                           epsilon=0.3),
            X, y + 0.1 if loss == "gamma" else y, sample_weight=sw,
        )  # fmt: skip
        assert reg.n_line_trials_ > 0
        assert reg.loss_curve_[-1] == reg.loss_


def test_after_300_iterations_the_cached_loss_is_a_fresh_evaluation(cached):
    """Z1(0) is carried from line to line; rounding must not drift it far."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 30))
    # Random labels: a float32 fit of a learnable rule reaches the precision
    # of its loss in fewer than 300 lines.
    y = rng.integers(3, size=400)
    for dtype, rtol in ((np.float64, 1e-10), (np.float32, 1e-4)):
        clf = fit_quietly(
            CGMLPClassifier((20,), activation="tanh", alpha=1e-3, max_iter=300,
                            tol=0.0, random_state=0), X.astype(dtype), y,
        )  # fmt: skip
        assert clf.n_iter_ == 300 and clf.n_line_trials_ > 300
        layout = ParameterLayout([30, 20, 3])
        theta = layout.pack(clf.coefs_, clf.intercepts_)
        Y = np.eye(3, dtype=dtype)[y]
        loss = MLPLoss(layout, "tanh", "softmax", 1e-3)
        fresh, _ = loss.loss_gradient(theta, X.astype(dtype), Y)
        assert clf.loss_ == pytest.approx(fresh, rel=rtol)


def test_exact_products_are_recomputed_every_so_many_lines(cached, monkeypatch):
    X, Y, sw, layout, theta, p = problem("softmax", (6,))
    objective = InMemoryObjective(
        X, Y, loss=MLPLoss(layout, "tanh", "softmax", 0.1), cached_line=True
    )
    products = []
    original = line_module.BlockLine._first_layer_product

    def spy(self, W, b, out):
        products.append(1)
        return original(self, W, b, out)

    monkeypatch.setattr(line_module.BlockLine, "_first_layer_product", spy)
    monkeypatch.setattr(line_module, "EXACT_EVERY", 3)
    for k in range(8):
        line = objective.line(theta, p, continues=k > 0)
        line.gradient(0.1)
        theta = theta + 0.1 * p
    # Lines 0 and 4 recompute X W1 (2 products), the others continue (1).
    assert len(products) == 8 + 2


# ---------------------------------------------- still SciPy's iteration
def test_cg_on_cached_lines_follows_scipys_iterates_to_rounding(cached):
    X, y = digits(400)
    Y = np.eye(10)[y]
    layout = ParameterLayout([64, 12, 10])
    loss = MLPLoss(layout, "tanh", "softmax", 1e-4)
    objective = SciPyObjective(InMemoryObjective(X, Y, loss=loss, cached_line=True))
    objective.scale = 1e4  # as our glue poses the problem
    x0 = glorot_init(layout, "tanh", 0)

    def fun(x):
        value, grad = loss.loss_gradient(np.ascontiguousarray(x), X, Y)
        return 1e4 * value, 1e4 * grad

    scipy_iterates, ours = [], []

    def record(intermediate_result):
        scipy_iterates.append(np.copy(intermediate_result.x))

    scipy.optimize.minimize(
        fun, x0, jac=True, method="CG", callback=record,
        options=dict(maxiter=10, gtol=0.0, norm=np.inf, c2=0.1),
    )  # fmt: skip
    minimize_cg(
        objective, x0, ops=NUMPY, gtol=0.0, maxiter=10, c2=0.1,
        callback=lambda it: ours.append(np.copy(it.x)), line=objective.line,
    )  # fmt: skip
    assert objective.n_trials > 0
    assert len(ours) == len(scipy_iterates) == 10
    for a, b in zip(ours, scipy_iterates):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_the_rule_counts_sparse_products_at_their_cost():
    X = sparse.random(3000, 30000, density=0.002, format="csr", random_state=0)
    Y = np.eye(5)[np.arange(3000) % 5]
    layout = ParameterLayout([30000, 100, 5])
    loss = MLPLoss(layout, "relu", "softmax", 1e-4)
    assert InMemoryObjective(X, Y, loss=loss).cached_line  # sparse, wide
    assert not InMemoryObjective(
        X[:, :64].tocsr(),
        Y,
        loss=MLPLoss(ParameterLayout([64, 100, 5]), "relu", "softmax", 1e-4),
    ).cached_line


def test_a_dask_fit_on_cached_lines_is_the_in_memory_fit(cached, dask_client):
    da = pytest.importorskip("dask.array")
    X, y = digits()
    params = dict(hidden_layer_sizes=(10,), activation="tanh", max_iter=12,
                  tol=0.0, random_state=0)  # fmt: skip
    in_memory = fit_quietly(CGMLPClassifier(**params), X, y)
    on_dask = fit_quietly(
        CGMLPClassifier(**params),
        da.from_array(X, chunks=(150, X.shape[1])), da.from_array(y, chunks=150),
    )  # fmt: skip
    assert on_dask.n_line_trials_ > 0
    assert on_dask.n_fun_evals_ == in_memory.n_fun_evals_
    np.testing.assert_allclose(on_dask.loss_curve_, in_memory.loss_curve_, rtol=1e-9)


# ------------------------------ which lines continue from the previous one
def _adapter_on_lines(hidden=(6,)):
    X, Y, sw, layout, theta, p = problem("softmax", hidden)
    loss = MLPLoss(layout, "tanh", "softmax", 0.3)
    adapter = SciPyObjective(
        InMemoryObjective(X, Y, loss=loss, sample_weight=sw, cached_line=True)
    )
    reference = InMemoryObjective(X, Y, loss=loss, sample_weight=sw)
    return adapter, reference, theta, p


def assert_line_is_the_objective(line, reference, x, p):
    """The line's values, slopes and gradient along ``x + a p`` are full
    evaluations of ``reference``."""
    for a in (-0.4, 0.3, 1.2):
        loss0, grad0 = reference.loss_grad(x + a * p)
        assert line.phi(a) == pytest.approx(loss0, rel=1e-10)
        assert line.derphi(a) == pytest.approx(grad0 @ p, rel=1e-9, abs=1e-12)
    loss0, grad0 = reference.loss_grad(x + 0.6 * p)
    np.testing.assert_allclose(line.gradient(0.6), grad0, rtol=1e-9, atol=1e-13)


def test_a_line_after_a_failed_search_starts_afresh():
    """A failed search takes gradients at steps it then rejects; CG restarts
    at the failed line's start, which is not where that line ended."""
    adapter, reference, x, p = _adapter_on_lines()
    rng = np.random.default_rng(5)
    adapter.line(x, p).gradient(0.5)  # an accepted step
    x = x + 0.5 * p
    failed = adapter.line(x, 0.3 * rng.standard_normal(p.size))
    failed.phi(0.8)
    failed.gradient(0.8)  # rejected (by the descent test, say)
    p = 0.3 * rng.standard_normal(p.size)
    assert_line_is_the_objective(adapter.line(x, p), reference, x, p)


def test_a_line_after_a_line_without_gradient_starts_afresh():
    """A search that fails before any gradient leaves the line's caches at
    its start, with its direction: the next line at that point must not
    continue from the last gradient's step (of the line before)."""
    adapter, reference, x, p = _adapter_on_lines()
    rng = np.random.default_rng(6)
    adapter.line(x, p).gradient(0.5)
    x = x + 0.5 * p
    failed = adapter.line(x, 0.3 * rng.standard_normal(p.size))
    failed.phi(0.8), failed.derphi(0.8)  # trials only
    p = 0.3 * rng.standard_normal(p.size)
    assert_line_is_the_objective(adapter.line(x, p), reference, x, p)
    # And the line after that, at this one's gradient, continues correctly.
    x = x + 0.6 * p
    p = 0.3 * rng.standard_normal(p.size)
    assert_line_is_the_objective(adapter.line(x, p), reference, x, p)


def _strict_namespace():
    xp = pytest.importorskip("array_api_strict")
    from sklearn_cgmlp._ops import ArrayAPIOps

    device = xp.Device("device1")
    return xp, ArrayAPIOps(xp, device), lambda a: xp.asarray(a, device=device)


def _torch_namespace():
    torch = pytest.importorskip("torch")
    from sklearn_cgmlp._ops import array_ops

    return torch, array_ops(torch.zeros(1)), lambda a: torch.asarray(a)


@pytest.mark.parametrize("namespace", [_strict_namespace, _torch_namespace],
                         ids=["strict", "torch"])  # fmt: skip
def test_array_api_lines_in_a_row_equal_full_evaluations(array_api_dispatch,
                                                         namespace):  # fmt: skip
    """Each line continues from the previous line's gradient (Z1 carried
    from line to line on the device) and stays the objective."""
    from sklearn_cgmlp._objective import ArrayAPIObjective

    xp, ops, to = namespace()
    X, Y, sw, layout, theta, p = problem("softmax", (6,))
    loss = MLPLoss(layout, "tanh", "softmax", 0.3)
    objective = ArrayAPIObjective(
        to(X), to(Y), loss=loss, sample_weight=to(sw), ops=ops, cached_line=True
    )
    reference = InMemoryObjective(X, Y, loss=loss, sample_weight=sw)
    rng = np.random.default_rng(2)
    for k in range(4):
        line = objective.line(to(theta), to(p), continues=k > 0)
        for a in rng.uniform(-1.0, 2.0, 3):
            value, slope = line.trial(float(a))
            loss0, grad0 = reference.loss_grad(theta + a * p)
            assert value == pytest.approx(loss0, rel=1e-10)
            assert slope == pytest.approx(grad0 @ p, rel=1e-9, abs=1e-12)
        a = float(rng.uniform(0.3, 1.0))
        value, grad = line.gradient(a)
        loss0, grad0 = reference.loss_grad(theta + a * p)
        assert value == pytest.approx(loss0, rel=1e-10)
        np.testing.assert_allclose(ops.to_numpy(grad), grad0, rtol=1e-9, atol=1e-13)
        theta, p = theta + a * p, 0.3 * rng.standard_normal(p.size)


@pytest.mark.parametrize("namespace", [_strict_namespace, _torch_namespace],
                         ids=["strict", "torch"])  # fmt: skip
def test_an_array_api_fit_on_cached_lines_is_the_numpy_fit(
    cached, array_api_dispatch, namespace, monkeypatch
):
    """The fit's result, not only its lines: the loss curve of a device fit
    on cached lines is that of the NumPy fit on full evaluations (with the
    same curvature condition and pairs), and its final loss a fresh evaluation at its
    weights."""
    from sklearn_cgmlp import _solvers

    monkeypatch.setattr(_solvers, "CG_CACHED_LINE_C2", _solvers.CG_LINE_SEARCH_C2)
    monkeypatch.setattr(_solvers, "CG_CACHED_LINE_MEMORY", _solvers.CG_MEMORY)
    xp, ops, to = namespace()
    X, y = digits(400)
    params = dict(hidden_layer_sizes=(10,), activation="relu", max_iter=40,
                  tol=0.0, random_state=0)  # fmt: skip
    with sklearn.config_context(array_api_dispatch=True):
        on_device = fit_quietly(CGMLPClassifier(**params), to(X), to(y))
    assert on_device.n_line_trials_ > on_device.n_iter_
    line_module.line_pays, saved = (lambda *a, **k: False), line_module.line_pays
    try:
        full = fit_quietly(CGMLPClassifier(**params), X, y)
    finally:
        line_module.line_pays = saved
    assert full.n_line_trials_ == 0
    np.testing.assert_allclose(on_device.loss_curve_, full.loss_curve_, rtol=1e-8)
    layout = ParameterLayout([64, 10, 10])
    coefs = [ops.to_numpy(c) for c in on_device.coefs_]
    intercepts = [ops.to_numpy(b) for b in on_device.intercepts_]
    fresh, _ = MLPLoss(layout, "relu", "softmax", on_device.alpha).loss_gradient(
        layout.pack(coefs, intercepts), X, np.eye(10)[y]
    )
    assert on_device.loss_ == pytest.approx(fresh, rel=1e-10)


def test_exact_products_fall_on_every_exact_every_th_line(cached, monkeypatch):
    """With EXACT_EVERY=3, lines 0, 4, 8, ... compute X W1 exactly; the three
    lines after each continue from the previous line's Z1."""
    X, Y, sw, layout, theta, p = problem("softmax", (6,))
    objective = InMemoryObjective(
        X, Y, loss=MLPLoss(layout, "tanh", "softmax", 0.1), cached_line=True
    )
    monkeypatch.setattr(line_module, "EXACT_EVERY", 3)
    exact = []
    for k in range(13):
        line = objective.line(theta, p, continues=k > 0)
        exact.append(objective._lines[0].lines_since_exact == 0)
        line.gradient(0.1)
        theta = theta + 0.1 * p
    assert [k for k, e in enumerate(exact) if e] == [0, 4, 8, 12]


def test_a_cached_fit_continues_each_line_from_the_last(cached, monkeypatch):
    """Between exact recomputations, each line of a fit costs one product
    with X (its direction's), not two: the glue tells the objective that
    the line starts at the previous line's accepted step."""
    products = []
    original = line_module.BlockLine._first_layer_product

    def spy(self, W, b, out):
        products.append(1)
        return original(self, W, b, out)

    monkeypatch.setattr(line_module.BlockLine, "_first_layer_product", spy)
    X, y = digits()
    clf = fit_quietly(
        CGMLPClassifier((16,), activation="tanh", max_iter=30, tol=0.0,
                        random_state=0), X, y,
    )  # fmt: skip
    assert clf.n_iter_ == 30
    # One line per iteration (and per descent-test retry, rare), one exact
    # product of X W1 at the first line.
    assert clf.n_iter_ + 1 <= len(products) <= clf.n_iter_ + 3


def test_a_non_finite_trial_is_an_unacceptable_step():
    """A trial whose loss overflows is an infinite loss with a zero slope
    for the line search, as a full evaluation is (never NaN)."""
    X, Y, sw, layout, theta, p = problem("exp", (5,))
    loss = MLPLoss(layout, "tanh", "exp", 0.1)
    adapter = SciPyObjective(InMemoryObjective(X, Y, loss=loss, cached_line=True))
    line = adapter.line(theta, 50.0 * p)
    assert np.isfinite(line.phi(0.01))
    assert line.phi(1e3) == np.inf
    assert line.derphi(1e3) == 0.0
