"""The preconditioned CG iteration of ``_nlcg``: its curvature pairs, its
direction, and what it buys on ill-conditioned problems."""

import numpy as np
import pytest
import scipy.optimize

from sklearn_cgmlp._nlcg import CurvaturePairs, minimize_cg, preconditioned_direction
from sklearn_cgmlp._ops import NUMPY


def random_pairs(n, k, seed=0):
    """``k`` pairs of a convex quadratic's steps and gradient changes."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    A = A @ A.T + n * np.eye(n)
    steps = rng.standard_normal((k, n))
    return A, [(s, A @ s) for s in steps]


def dense_inverse(pairs):
    """BFGS's inverse-Hessian update applied pair by pair to ``gamma I``
    (Nocedal & Wright, eq. 6.17 and 7.20), as a dense matrix."""
    n = pairs[0][0].size
    s, y = pairs[-1]
    H = (s @ y) / (y @ y) * np.eye(n)
    for s, y in pairs:
        rho = 1.0 / (s @ y)
        V = np.eye(n) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return H


@pytest.mark.parametrize("k", [1, 3, 5])
def test_the_two_loop_recursion_is_the_bfgs_inverse_of_the_kept_pairs(k):
    _, pairs = random_pairs(8, k)
    memory = CurvaturePairs(NUMPY, memory=5)
    for s, y in pairs:
        memory = memory.with_pair(s, y)
    g = np.random.default_rng(1).standard_normal(8)
    np.testing.assert_allclose(memory.apply(g), dense_inverse(pairs) @ g, rtol=1e-10)


def test_only_the_last_memory_pairs_are_kept():
    _, pairs = random_pairs(8, 6)
    memory = CurvaturePairs(NUMPY, memory=3)
    for s, y in pairs:
        memory = memory.with_pair(s, y)
    assert len(memory) == 3
    g = np.ones(8)
    np.testing.assert_allclose(memory.apply(g), dense_inverse(pairs[-3:]) @ g)


def test_the_newest_pair_satisfies_the_secant_equation():
    _, pairs = random_pairs(8, 4)
    memory = CurvaturePairs(NUMPY, memory=10)
    for s, y in pairs:
        memory = memory.with_pair(s, y)
    s, y = pairs[-1]
    np.testing.assert_allclose(memory.apply(y), s, rtol=1e-10)


def test_a_pair_without_positive_curvature_is_not_kept_and_pairs_are_immutable():
    _, pairs = random_pairs(4, 1)
    memory = CurvaturePairs(NUMPY, memory=5).with_pair(*pairs[0])
    s = np.ones(4)
    for y in (-s, np.zeros(4), np.full(4, np.nan)):
        assert memory.with_pair(s, y) is memory
    longer = memory.with_pair(s, 2 * s)
    assert len(memory) == 1 and len(longer) == 2


def test_extensions_of_full_pairs_leave_them_intact_and_the_newest_wins():
    # A line search extends the same pairs once per trial step; the pairs and
    # the newest extension stay right, an overwritten extension raises.
    _, pairs = random_pairs(8, 7)
    memory = CurvaturePairs(NUMPY, memory=3)
    for s, y in pairs[:4]:
        memory = memory.with_pair(s, y)
    g = np.random.default_rng(2).standard_normal(8)
    first = memory.with_pair(*pairs[4])
    second = memory.with_pair(*pairs[5])
    np.testing.assert_allclose(memory.apply(g), dense_inverse(pairs[1:4]) @ g)
    np.testing.assert_allclose(
        second.apply(g), dense_inverse(pairs[2:4] + pairs[5:6]) @ g
    )
    with pytest.raises(RuntimeError, match="overwritten"):
        first.apply(g)
    # The iteration goes on from the accepted extension.
    third = second.with_pair(*pairs[6])
    np.testing.assert_allclose(
        third.apply(g), dense_inverse([pairs[3], pairs[5], pairs[6]]) @ g
    )
    np.testing.assert_allclose(
        second.apply(g), dense_inverse(pairs[2:4] + pairs[5:6]) @ g
    )


def test_without_pairs_the_preconditioner_is_the_identity():
    g = np.arange(3.0)
    assert CurvaturePairs(NUMPY, memory=4).apply(g) is g


def rosenbrock(x):
    return float(scipy.optimize.rosen(x)), scipy.optimize.rosen_der(x)


def test_each_direction_is_the_preconditioned_polak_ribiere_one():
    """``p_k = -H_k g_k + beta_k p_{k-1}``, with ``H_k`` the dense BFGS
    inverse of the last 3 pairs, ``beta_k = max(0, g_k.s_{k-1} /
    g_{k-1}.H_{k-1} g_{k-1})`` (``H_0 = I``), 0 where Powell's test finds
    ``|g_k.H_{k-1} g_{k-1}| >= 0.2 g_k.H_k g_k``; each step is along
    ``p_k``."""
    x0 = np.array([0.462, -0.465, 1.989, 1.923, 0.742, 0.602])
    iterates = [x0]
    minimize_cg(
        rosenbrock, x0, ops=NUMPY, gtol=0.0, maxiter=12, c2=0.9, memory=3,
        callback=lambda r: iterates.append(np.array(r.x)),
    )  # fmt: skip
    grads = [rosenbrock(x)[1] for x in iterates]
    pairs, p, z, betas, restarts = [], -grads[0], grads[0], [], 0
    for k in range(1, len(iterates) - 1):
        s, y = iterates[k] - iterates[k - 1], grads[k] - grads[k - 1]
        pairs = (pairs + [(s, y)])[-3:]
        beta = max(0.0, (grads[k] @ s) / (grads[k - 1] @ z))
        z_new = dense_inverse(pairs) @ grads[k]
        if abs(grads[k] @ z) >= 0.2 * (grads[k] @ z_new):
            beta, restarts = 0.0, restarts + 1
        z = z_new
        p = -z + beta * p
        assert p @ grads[k] <= -0.01 * (grads[k] @ z)
        betas.append(beta)
        step = iterates[k + 1] - iterates[k]
        np.testing.assert_allclose(
            step / np.linalg.norm(step), p / np.linalg.norm(p), atol=1e-7
        )
    # Both branches are taken: the conjugacy term, large enough to matter,
    # and Powell's restarts.
    assert max(betas) > 0.5 and restarts > 0, betas


def test_powell_restart_and_descent_fallback_of_a_direction():
    """The direction rule on hand-made vectors (H = I: z = g)."""
    g, p_old = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    s_old = 2.0 * p_old
    # g.s_old = 0: beta = 0, the direction is -z.
    assert_direction = np.testing.assert_allclose
    assert_direction(preconditioned_direction(NUMPY, g, g, g, s_old, p_old, 1.0), -g)
    # beta = g.s / delta = 0.5 with s along p_old and g: kept where the old
    # preconditioned gradient is nearly conjugate to the new gradient...
    g = np.array([1.0, 0.5])
    z_old = np.array([0.1, 0.0])  # |g.z_old| = 0.1 < 0.2 g.z = 0.25
    p = preconditioned_direction(NUMPY, g, g, z_old, s_old, p_old, 2.0)
    assert_direction(p, -g + 0.5 * p_old)
    # ... and dropped by Powell's test where it is not.
    z_old = np.array([0.3, 0.0])  # 0.3 >= 0.25
    assert_direction(
        preconditioned_direction(NUMPY, g, g, z_old, s_old, p_old, 2.0), -g
    )
    # A conjugacy term that leaves no descent: -z instead (beta = 3.5 gives
    # p = (-1, 3), g.p = 0.5 > 0).
    p = preconditioned_direction(NUMPY, g, g, np.zeros(2), 14.0 * p_old, p_old, 2.0)
    assert_direction(p, -g)


@pytest.mark.parametrize("n", [6, 20])
def test_curvature_pairs_cut_iterations_on_rosenbrock(n):
    """SciPy's CG needs 148 and 388 iterations, preconditioned CG 59 and 135
    (measured when this test was written)."""
    x0 = np.tile([-1.2, 1.0], n // 2)
    iterations = {}
    for memory, c2 in ((0, 0.1), (10, 0.9)):
        result = minimize_cg(
            rosenbrock, x0, ops=NUMPY, gtol=1e-6, maxiter=5000, c2=c2, memory=memory
        )
        assert result.status == 0
        np.testing.assert_allclose(result.x, np.ones(n), atol=1e-5)
        iterations[memory] = result.nit
    assert iterations[10] < 0.5 * iterations[0], iterations


def test_most_preconditioned_steps_take_the_first_trial():
    """A scaled direction's natural step is 1: about one evaluation an
    iteration, where SciPy's CG needs about two."""
    counts = {"evaluations": 0}
    x0 = np.array([-1.2, 1.0, -1.2, 1.0, 0.5])

    def fun(x):
        counts["evaluations"] += 1
        return rosenbrock(x)

    result = minimize_cg(fun, x0, ops=NUMPY, gtol=1e-6, maxiter=500, c2=0.9, memory=10)
    assert result.status == 0
    np.testing.assert_allclose(result.x, np.ones(5), atol=1e-5)
    assert counts["evaluations"] < 1.35 * result.nit, (counts, result.nit)


def test_without_memory_the_iteration_is_scipys():
    x0 = np.tile([-1.2, 1.0], 5)
    ours = minimize_cg(rosenbrock, x0, ops=NUMPY, gtol=1e-6, maxiter=1000, c2=0.4)
    theirs = scipy.optimize.minimize(
        rosenbrock, x0, jac=True, method="CG", options={"gtol": 1e-6, "maxiter": 1000}
    )
    assert ours.nit == theirs.nit
    np.testing.assert_array_equal(ours.x, theirs.x)
