"""Curvature-vector products against finite differences."""

import itertools

import numpy as np
import pytest
from scipy import sparse

from sklearn_cgmlp._activations import ACTIVATIONS
from sklearn_cgmlp._hessian import CurvatureProduct
from sklearn_cgmlp._layout import ParameterLayout
from sklearn_cgmlp._loss import MLPLoss, forward
from sklearn_cgmlp._outputs import Gamma, Huber

# Every activation of the table, and one per hidden layer.
HIDDEN_ACTIVATIONS = [*ACTIVATIONS, ("silu", "softplus")]


def per_layer_id(value):
    """Test ids: ``silu+softplus`` for a per-layer tuple."""
    return "+".join(value) if isinstance(value, tuple) else None


def hidden_for(activation, hidden):
    """``hidden``, or two hidden layers for a per-layer ``activation``."""
    return hidden if isinstance(activation, str) else (hidden[0], 2)


def curvature(theta, X, Y, *, layout, activation, out_activation, alpha, **kwargs):
    """The kernel's curvature product at ``theta``, by its loss object."""
    loss = MLPLoss(layout, activation, out_activation, alpha)
    product = loss.curvature_product(theta, X, Y, **kwargs)
    assert isinstance(product, CurvatureProduct)
    return product


def loss_grad(theta, X, Y, *, layout, activation, out_activation, alpha, **kwargs):
    loss = MLPLoss(layout, activation, out_activation, alpha)
    return loss.loss_gradient(theta, X, Y, **kwargs)


N_SAMPLES, N_FEATURES = 17, 5
OUTPUTS = {
    "multiclass": ("softmax", 3),
    "binary": ("logistic", 1),
    "multilabel": ("logistic", 3),
    "regression": ("identity", 2),
    "poisson": ("exp", 2),
    # Residuals on both sides of epsilon (test_huber_problem_straddles_epsilon).
    "huber": (Huber(epsilon=1.0), 2),
    "gamma": (Gamma(), 2),
}


def output_name(out_activation):
    return out_activation if isinstance(out_activation, str) else out_activation.loss


def make_problem(target, hidden=(4, 3), seed=0):
    rng = np.random.RandomState(seed)
    out_activation, k = OUTPUTS[target]
    X = rng.randn(N_SAMPLES, N_FEATURES)
    X[rng.rand(*X.shape) < 0.3] = 0
    if target == "multiclass":
        Y = np.eye(k)[rng.randint(k, size=N_SAMPLES)]
    elif target in ("regression", "huber"):
        Y = 1.5 * rng.randn(N_SAMPLES, k)
    elif target == "gamma":
        Y = rng.gamma(2.0, 0.7, size=(N_SAMPLES, k))
    elif target == "poisson":
        Y = rng.poisson(1.5, size=(N_SAMPLES, k)).astype(float)
        Y[0] = 0.0
    else:
        Y = (rng.rand(N_SAMPLES, k) < 0.5).astype(float)
    layout = ParameterLayout([N_FEATURES, *hidden, k])
    theta = 0.8 * rng.randn(layout.n_params)
    v = rng.randn(layout.n_params)
    sw = rng.uniform(0.2, 2, N_SAMPLES)
    return X, Y, layout, theta, v, sw, out_activation


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))


@pytest.mark.parametrize(
    "activation, target, alpha, weighted, fmt",
    list(
        itertools.product(
            HIDDEN_ACTIVATIONS, OUTPUTS, [0.0, 0.7], [False, True], ["dense", "csr"]
        )
    ),
    ids=per_layer_id,
)
def test_exact_hessian_vector_product_matches_gradient_differences(
    activation, target, alpha, weighted, fmt
):
    X, Y, layout, theta, v, sw, out_activation = make_problem(target)
    if fmt == "csr":
        X = sparse.csr_matrix(X)
    kwargs = dict(
        layout=layout,
        activation=activation,
        out_activation=out_activation,
        alpha=alpha,
        sample_weight=sw if weighted else None,
    )
    Hv = curvature(theta, X, Y, gauss_newton=False, **kwargs).dot(v)
    eps = 1e-5
    fd = (
        loss_grad(theta + eps * v, X, Y, **kwargs)[1]
        - loss_grad(theta - eps * v, X, Y, **kwargs)[1]
    ) / (2 * eps)
    assert Hv.shape == theta.shape
    assert relative_error(Hv, fd) < 1e-5


@pytest.mark.parametrize(
    "activation, target, weighted",
    list(itertools.product(HIDDEN_ACTIVATIONS, OUTPUTS, [False, True])),
    ids=per_layer_id,
)
def test_gauss_newton_product_matches_its_definition(activation, target, weighted):
    """G v = J^T H_L J v + alpha/S v_W, with J from finite differences."""
    X, Y, layout, theta, v, sw, out_activation = make_problem(
        target, hidden=hidden_for(activation, (3,))
    )
    alpha = 0.4
    sw = sw if weighted else None
    G = curvature(
        theta, X, Y, layout=layout, activation=activation,
        out_activation=out_activation, alpha=alpha, sample_weight=sw,
    )  # fmt: skip

    def logits(t):
        coefs, intercepts = layout.unpack(t)
        return forward(coefs, intercepts, X, activation)

    eps = 1e-6
    J = np.stack(
        [
            (logits(theta + eps * e) - logits(theta - eps * e)) / (2 * eps)
            for e in np.eye(layout.n_params)
        ],
        axis=-1,
    )  # (n_samples, n_outputs, n_params)
    Z = logits(theta)
    s = np.ones(N_SAMPLES) if sw is None else sw
    expected = np.zeros(layout.n_params)
    for i in range(N_SAMPLES):
        if out_activation == "softmax":
            p = np.exp(Z[i] - Z[i].max())
            p /= p.sum()
            H = np.diag(p) - np.outer(p, p)
        elif out_activation == "identity":
            # Half the squared error averaged over the K outputs.
            H = np.eye(len(Z[i])) / len(Z[i])
        elif output_name(out_activation) == "huber":
            # Its second derivative: 1 inside epsilon, 0 outside, averaged.
            inside = np.abs(Z[i] - Y[i]) <= out_activation.epsilon
            H = np.diag(inside.astype(float)) / len(Z[i])
        elif output_name(out_activation) == "gamma":
            # d2/dz2 of y exp(-z) + z.
            H = np.diag(Y[i] * np.exp(-Z[i]))
        elif out_activation == "exp":
            H = np.diag(np.exp(Z[i]))
        else:
            p = 1 / (1 + np.exp(-Z[i]))
            H = np.diag(p * (1 - p))
        expected += s[i] * J[i].T @ H @ J[i] @ v
    expected /= s.sum()
    coef_mask = np.zeros(layout.n_params)
    for sl in layout.coef_slices:
        coef_mask[sl] = 1
    expected += alpha / s.sum() * coef_mask * v
    assert relative_error(G.dot(v), expected) < 1e-6


@pytest.mark.parametrize("target", OUTPUTS)
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS, ids=per_layer_id)
def test_gauss_newton_is_positive_semidefinite(activation, target):
    X, Y, layout, theta, _, _, out_activation = make_problem(target)
    G = curvature(
        theta, X, Y, layout=layout, activation=activation,
        out_activation=out_activation, alpha=0.0,
    )  # fmt: skip
    rng = np.random.RandomState(1)
    for _ in range(20):
        v = rng.randn(layout.n_params)
        assert v @ G.dot(v) >= -1e-12


def test_without_hidden_layers_gauss_newton_equals_hessian():
    X, Y, layout, theta, v, sw, out_activation = make_problem("multiclass", hidden=())
    kwargs = dict(
        layout=layout, activation="tanh", out_activation=out_activation, alpha=0.3,
        sample_weight=sw,
    )  # fmt: skip
    gn = curvature(theta, X, Y, gauss_newton=True, **kwargs).dot(v)
    exact = curvature(theta, X, Y, gauss_newton=False, **kwargs).dot(v)
    np.testing.assert_allclose(gn, exact, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("gauss_newton", [True, False])
def test_float32_products_stay_float32(gauss_newton):
    X, Y, layout, theta, v, sw, out_activation = make_problem("multiclass")
    kwargs = dict(
        layout=layout, activation="logistic", out_activation=out_activation,
        alpha=0.1, gauss_newton=gauss_newton,
    )  # fmt: skip
    H64 = curvature(theta, X, Y, **kwargs).dot(v)
    f32 = [a.astype(np.float32) for a in (X, Y, theta, v)]
    H32 = curvature(f32[2], f32[0], f32[1], **kwargs).dot(f32[3])
    assert H32.dtype == np.float32
    assert relative_error(H32.astype(np.float64), H64) < 1e-5


@pytest.mark.parametrize("hidden", [(4, 3), (3,)])
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS, ids=per_layer_id)
def test_huber_problem_straddles_epsilon(activation, hidden):
    """The Huber checks above see both pieces of its second derivative."""
    hidden = hidden_for(activation, hidden)
    X, Y, layout, theta, _, _, output = make_problem("huber", hidden=hidden)
    coefs, intercepts = layout.unpack(theta)
    inside = np.abs(forward(coefs, intercepts, X, activation) - Y) <= output.epsilon
    assert 0.2 < inside.mean() < 0.8


def test_huber_curvature_ignores_residuals_beyond_epsilon():
    """Samples whose residuals all lie beyond epsilon add nothing to the
    curvature (the loss is linear there), whatever their weight."""
    X, Y, layout, theta, v, sw, output = make_problem("huber", hidden=(3,))
    coefs, intercepts = layout.unpack(theta)
    R = forward(coefs, intercepts, X, "tanh") - Y
    outside = np.all(np.abs(R) > output.epsilon, axis=1)
    assert 0 < outside.sum() < N_SAMPLES
    kwargs = dict(layout=layout, activation="tanh", out_activation=output, alpha=0.0)
    heavy = sw.copy()
    heavy[outside] *= 1000.0
    # The data term's curvature is divided by the weight sum; compare sums.
    G = curvature(theta, X, Y, sample_weight=sw, **kwargs).dot(v) * sw.sum()
    G_heavy = curvature(theta, X, Y, sample_weight=heavy, **kwargs).dot(v)
    np.testing.assert_allclose(G_heavy * heavy.sum(), G, rtol=1e-10)
