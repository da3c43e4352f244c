"""The solver glue: how the problem is posed to SciPy, and what it reports."""

import re
import warnings

import numpy as np
import pytest
import scipy
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from sklearn_cgmlp import CGMLPClassifier, _loss
from sklearn_cgmlp._layout import ParameterLayout
from sklearn_cgmlp._solvers import SciPyObjective, cg_scale


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def fit_quietly(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def max_abs_gradient(clf, X, y):
    """The largest gradient entry of the documented objective at clf's weights."""
    layout = ParameterLayout([X.shape[1], *clf.hidden_layer_sizes, clf.n_outputs_])
    theta = layout.pack(clf.coefs_, clf.intercepts_)
    Y = (np.asarray(y)[:, None] == clf.classes_).astype(float)
    _, grad = _loss.loss_grad(
        theta,
        X,
        Y,
        layout=layout,
        activation=clf.activation,
        out_activation=clf.out_activation_,
        alpha=clf.alpha,
    )
    return np.abs(grad).max()


# ------------------------------------------------- how CG sees the problem
def test_cg_scale_lifts_scipys_unit_step_cap_only_as_far_as_tol():
    eps = np.finfo(np.float64).eps
    assert cg_scale(1e-4, 2.3, 0.5) == pytest.approx(1e4)
    assert cg_scale(0.0, 2.3, 0.5) == pytest.approx(1 / np.sqrt(eps))
    # A loose tol needs no scaling; the scale never shrinks the objective.
    assert cg_scale(10.0, 2.3, 0.5) == 1.0
    # Huge starting values keep the scaled ones far from overflow.
    assert cg_scale(1e-4, 1e248, 1.0) == pytest.approx(100.0)
    assert cg_scale(1e-4, 1.0, 1e280) == 1.0


@pytest.mark.parametrize("activation", ["tanh", "relu", "logistic"])
def test_cg_spends_about_two_evaluations_per_iteration(digits, activation):
    # With SciPy's unit cap on the first trial step, each line search spent
    # about 8 evaluations growing the step late in a fit (issue #9).
    X, y = digits
    clf = CGMLPClassifier(
        hidden_layer_sizes=(32,),
        activation=activation,
        tol=0.0,
        max_iter=80,
        random_state=0,
    )
    fit_quietly(clf, X, y)
    assert clf.n_iter_ == 80
    assert (clf.n_fun_evals_ - 1) / clf.n_iter_ <= 2.3


def test_cg_stops_at_the_users_tol_on_the_unscaled_gradient(digits, capsys):
    X, y = digits
    tol = 1e-3
    clf = CGMLPClassifier(
        hidden_layer_sizes=(), alpha=1.0, tol=tol, max_iter=1000, verbose=True
    ).fit(X, y)
    # Converged (no warning) with the documented gradient at most tol ...
    assert max_abs_gradient(clf, X, y) <= tol
    # ... and not before: the previous iterate had a larger gradient.
    lines = capsys.readouterr().out.strip().splitlines()
    gradients = [float(re.search(r"max \|gradient\| = (\S+)", ln)[1]) for ln in lines]
    assert gradients[-1] <= tol < gradients[-2]
    assert len(gradients) == clf.n_iter_ + 1
    # The loss curve is the documented (unscaled) objective.
    assert clf.loss_curve_[-1] == clf.loss_
    assert 0 < clf.loss_ < np.log(10)


def test_loss_is_scaled_for_scipy_only():
    calls = []

    def fun(theta, grad):
        grad[...] = 2 * theta
        calls.append(1)
        return float(theta @ theta)

    objective = SciPyObjective(fun, 3, np.float64)
    x = np.array([1.0, -2.0, 0.5])
    objective.scale = 100.0
    loss, grad = objective(x)
    assert loss == pytest.approx(100 * 5.25)
    np.testing.assert_allclose(grad, 100 * 2 * x)
    assert objective.lookup(x) == (pytest.approx(5.25), pytest.approx(4.0))
    assert objective.n_evals == len(calls) == 1


# ------------------------------------------------------ SciPy's own BLAS
def _scipy_blas():
    root = scipy.__file__.rsplit("/", 1)[0]
    return [
        info
        for info in threadpool_info()
        if info["user_api"] == "blas" and info["filepath"].startswith(root)
    ]


@pytest.mark.parametrize("solver", ["lbfgs", "trust-ncg", "cg"])
def test_scipys_blas_runs_single_threaded_inside_fit(digits, solver, monkeypatch):
    before = _scipy_blas()
    if not before or before[0]["num_threads"] < 2:
        pytest.skip("SciPy has no BLAS of its own, or it runs one thread anyway")
    others = {
        i["filepath"]: i["num_threads"]
        for i in threadpool_info()
        if i["filepath"] != before[0]["filepath"]
    }
    seen = []
    evaluate = SciPyObjective._evaluate

    def spy(self, x):
        seen.append(
            (
                _scipy_blas()[0]["num_threads"],
                {i["filepath"]: i["num_threads"] for i in threadpool_info()},
            )
        )
        return evaluate(self, x)

    monkeypatch.setattr(SciPyObjective, "_evaluate", spy)
    X, y = digits
    fit_quietly(
        CGMLPClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=5), X, y
    )
    # The first evaluation (at the initial weights) runs before the solver.
    assert all(scipy_threads == 1 for scipy_threads, _ in seen[1:])
    for _, threads in seen:  # NumPy's BLAS keeps the user's setting
        assert all(threads[path] == n for path, n in others.items())
    assert _scipy_blas()[0]["num_threads"] == before[0]["num_threads"]
