"""The sufficient-descent test of the NLCG iteration (sklearn_cgmlp._nlcg).

Polak-Ribière+ needs it after the strong-Wolfe line search (Gilbert &
Nocedal, 1992); SciPy's CG makes it, and so must ours, which follows SciPy's
iterates bit for bit on NumPy float64. On these Rosenbrock problems the test
rejects steps that the line search accepted: without it, or with it the
wrong way round, the iterates leave SciPy's within a few iterations.
"""

import numpy as np
import pytest
import scipy.optimize

from sklearn_cgmlp._nlcg import minimize_cg
from sklearn_cgmlp._ops import NUMPY


def rosenbrock(x):
    return scipy.optimize.rosen(x), scipy.optimize.rosen_der(x)


@pytest.mark.parametrize(
    "n, seed, c2",
    # Each case has a step that only the descent test rejects (checked by
    # replacing the test with "return True": the iterates then differ).
    [(2, 1, 0.1), (2, 1, 0.4), (2, 3, 0.4), (3, 3, 0.4), (5, 3, 0.4), (3, 1, 0.9)],
)
def test_iterates_are_scipys_where_the_descent_test_rejects_steps(n, seed, c2):
    x0 = np.random.default_rng(seed).uniform(-2.0, 2.0, n)
    theirs, ours = [], []

    def record(intermediate_result):
        theirs.append(np.copy(intermediate_result.x))

    expected = scipy.optimize.minimize(
        rosenbrock, x0, jac=True, method="CG", callback=record,
        options=dict(maxiter=60, gtol=0.0, norm=np.inf, c2=c2),
    )  # fmt: skip
    result = minimize_cg(
        rosenbrock, x0, ops=NUMPY, gtol=0.0, maxiter=60, c2=c2,
        callback=lambda it: ours.append(np.copy(it.x)),
    )  # fmt: skip
    assert len(ours) == len(theirs) == result.nit == expected.nit
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    assert result.fun == expected.fun
