"""Tests of the pure numerical kernel: loss values and exact gradients."""

import itertools

import numpy as np
import pytest
from scipy import sparse
from scipy.special import erf

from sklearn_cgmlp._activations import ACTIVATIONS
from sklearn_cgmlp._layout import ParameterLayout
from sklearn_cgmlp._loss import MLPLoss, forward
from sklearn_cgmlp._outputs import OUTPUTS as OUTPUT_LAYERS
from sklearn_cgmlp._outputs import Gamma, Huber, logistic_logit_bound
from sklearn_cgmlp._workspace import Workspace

# Every activation of the table, and one per hidden layer (two hidden layers).
HIDDEN_ACTIVATIONS = [*ACTIVATIONS, ("gelu", "elu")]
# scikit-learn's four run through every combination of the options below; the
# others through every output and option but alpha = 0.5 only (the penalty
# does not meet the activation), to keep the finite differences affordable.
SKLEARN_ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


def per_layer_id(value):
    """Test ids: ``gelu+elu`` for a per-layer tuple (pytest's own otherwise)."""
    return "+".join(value) if isinstance(value, tuple) else None


def activation_cases(*options):
    """``itertools.product(HIDDEN_ACTIVATIONS, OUTPUTS, alphas, *options)``,
    with alpha 0.5 only for the activations scikit-learn does not have."""
    old = itertools.product(SKLEARN_ACTIVATIONS, OUTPUTS, [0.0, 0.5], *options)
    new = [a for a in HIDDEN_ACTIVATIONS if a not in SKLEARN_ACTIVATIONS]
    return [*old, *itertools.product(new, OUTPUTS, [0.5], *options)]


# Independent references of the activations (PyTorch's default constants).
REFERENCE_ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "softplus": lambda z: np.log1p(np.exp(z)),
    "elu": lambda z: np.where(z > 0, z, np.exp(np.minimum(z, 0)) - 1),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "gelu": lambda z: z * 0.5 * (1 + erf(z / np.sqrt(2))),
    "silu": lambda z: z / (1 + np.exp(-z)),
}


def loss_grad(theta, X, Y, *, layout, activation, out_activation, alpha, **kwargs):
    """The objective and its gradient, by the kernel's loss object."""
    loss = MLPLoss(layout, activation, out_activation, alpha)
    return loss.loss_gradient(theta, X, Y, **kwargs)


def output_proba(out_activation, Z):
    return OUTPUT_LAYERS[out_activation].inverse_link(Z)


def output_log_proba(out_activation, Z):
    return OUTPUT_LAYERS[out_activation].log_proba(Z)


N_SAMPLES, N_FEATURES = 23, 6
OUTPUTS = {"multiclass": ("softmax", 3), "binary": ("logistic", 1)}
OUTPUTS["multilabel"] = ("logistic", 3)
# Regression outputs: real-valued targets for the squared error (averaged over
# outputs), non-negative counts with zeros for the Poisson deviance.
OUTPUTS["regression"] = ("identity", 2)
OUTPUTS["poisson"] = ("exp", 2)
# The Huber loss with residuals on both sides of epsilon (targets of
# regression, logits of order one), and the Gamma deviance on positive targets.
OUTPUTS["huber"] = (Huber(epsilon=0.8), 2)
OUTPUTS["gamma"] = (Gamma(), 2)


def output_name(out_activation):
    """The output's name: the activation of a canonical output, else the loss."""
    return out_activation if isinstance(out_activation, str) else out_activation.loss


def make_problem(target, seed=0, dtype=np.float64, n_samples=N_SAMPLES):
    rng = np.random.RandomState(seed)
    out_activation, n_outputs = OUTPUTS[target]
    X = rng.randn(n_samples, N_FEATURES)
    X[rng.rand(*X.shape) < 0.3] = 0.0  # some sparsity for the sparse variants
    if target == "multiclass":
        Y = np.eye(n_outputs)[rng.randint(n_outputs, size=n_samples)]
    elif target in ("regression", "huber"):
        Y = 1.5 * rng.randn(n_samples, n_outputs)
    elif target == "gamma":
        Y = rng.gamma(2.0, 0.7, size=(n_samples, n_outputs))
    elif target == "poisson":
        Y = rng.poisson(1.5, size=(n_samples, n_outputs)).astype(float)
        Y[0] = 0.0  # zeros, whose xlogy(y, y) term is 0
    else:
        Y = (rng.rand(n_samples, n_outputs) < 0.5).astype(float)
    layout = ParameterLayout([N_FEATURES, 5, 4, n_outputs])
    theta = 0.7 * rng.randn(layout.n_params)
    sw = rng.uniform(0.2, 2.0, size=n_samples)
    return (
        X.astype(dtype),
        Y.astype(dtype),
        layout,
        theta.astype(dtype),
        sw.astype(dtype),
        out_activation,
    )


def reference_loss(theta, X, Y, layout, activation, out_activation, alpha, sw):
    """Per-sample loop in the classic style: an independent reference."""
    coefs, intercepts = layout.unpack(np.asarray(theta, dtype=np.float64))
    X = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    sw = np.ones(X.shape[0]) if sw is None else np.asarray(sw, dtype=np.float64)
    if isinstance(activation, str):
        activation = [activation] * (len(coefs) - 1)
    fs = [REFERENCE_ACTIVATIONS[a] for a in activation]
    total = 0.0
    for x, y, s in zip(X, Y, sw):
        a = x
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            z = a @ W + b
            a = fs[i](z) if i < len(coefs) - 1 else z
        if out_activation == "softmax":
            p = np.exp(a - a.max())
            p /= p.sum()
            sample_loss = -np.sum(y * np.log(p))
        elif output_name(out_activation) == "identity":
            # MLPRegressor's squared error: half the mean over outputs.
            sample_loss = 0.5 * np.mean((y - a) ** 2)
        elif output_name(out_activation) == "huber":
            r, eps = np.abs(a - y), out_activation.epsilon
            sample_loss = np.mean(
                np.where(r <= eps, 0.5 * r**2, eps * r - 0.5 * eps**2)
            )
        elif output_name(out_activation) == "gamma":
            # Half the Gamma deviance: log(mu / y) + y / mu - 1, summed.
            mu = np.exp(a)
            sample_loss = np.sum(np.log(mu / y) + y / mu - 1)
        elif out_activation == "exp":
            # MLPRegressor's Poisson loss: the half deviance, summed over
            # outputs, with 0 log 0 = 0.
            mu = np.exp(a)
            y_log = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0) / mu), 0.0)
            sample_loss = np.sum(y_log - y + mu)
        else:
            p = 1 / (1 + np.exp(-a))
            sample_loss = -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
        total += s * sample_loss
    penalty = sum(np.sum(W**2) for W in coefs)
    return (total + 0.5 * alpha * penalty) / sw.sum()


def finite_difference_grad(f, theta, eps=1e-6):
    grad = np.empty_like(theta)
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = eps
        grad[j] = (f(theta + e) - f(theta - e)) / (2 * eps)
    return grad


def relative_error(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))


def as_format(X, fmt):
    return {"dense": np.asarray, "csr": sparse.csr_matrix, "csc": sparse.csc_matrix}[
        fmt
    ](X)


@pytest.mark.parametrize(
    "activation, target, alpha, weighted, fmt, chunk_size",
    activation_cases([False, True], ["dense", "csr", "csc"], [None, 7]),
    ids=per_layer_id,
)
def test_gradient_matches_finite_differences_float64(
    activation, target, alpha, weighted, fmt, chunk_size
):
    X, Y, layout, theta, sw, out_activation = make_problem(target)
    X = as_format(X, fmt)
    sw = sw if weighted else None
    kwargs = dict(
        layout=layout,
        activation=activation,
        out_activation=out_activation,
        alpha=alpha,
        sample_weight=sw,
        chunk_size=chunk_size,
    )
    loss, grad = loss_grad(theta, X, Y, **kwargs)
    assert isinstance(loss, float)
    assert grad.shape == theta.shape == (layout.n_params,)
    assert grad.dtype == np.float64

    expected = reference_loss(
        theta, X, Y, layout, activation, out_activation, alpha, sw
    )
    assert loss == pytest.approx(expected, rel=1e-12)

    fd = finite_difference_grad(lambda t: loss_grad(t, X, Y, **kwargs)[0], theta)
    assert relative_error(grad, fd) < 1e-6


@pytest.mark.parametrize(
    "activation, target, alpha, weighted, fmt",
    activation_cases([False, True], ["dense", "csr"]),
    ids=per_layer_id,
)
def test_gradient_float32_matches_finite_differences_of_float64(
    activation, target, alpha, weighted, fmt
):
    """float32 gradients agree with finite differences taken in float64.

    Finite differences in float32 itself are dominated by rounding, so the
    reference is the float64 objective at the same (float32-representable)
    parameters and data.
    """
    X32, Y32, layout, theta32, sw32, out_activation = make_problem(
        target, dtype=np.float32
    )
    kwargs = dict(
        layout=layout,
        activation=activation,
        out_activation=out_activation,
        alpha=alpha,
    )
    sw32 = sw32 if weighted else None
    loss32, grad32 = loss_grad(
        theta32, as_format(X32, fmt), Y32, sample_weight=sw32, **kwargs
    )
    assert grad32.dtype == np.float32

    X64, Y64, theta64 = (a.astype(np.float64) for a in (X32, Y32, theta32))
    sw64 = None if sw32 is None else sw32.astype(np.float64)
    fd = finite_difference_grad(
        lambda t: loss_grad(t, X64, Y64, sample_weight=sw64, **kwargs)[0], theta64
    )
    loss64, _ = loss_grad(theta64, X64, Y64, sample_weight=sw64, **kwargs)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    assert relative_error(grad32.astype(np.float64), fd) < 1e-5


@pytest.mark.parametrize("target", OUTPUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_evaluation_equals_full(target, dtype):
    X, Y, layout, theta, sw, out_activation = make_problem(
        target, dtype=dtype, n_samples=101
    )
    kwargs = dict(
        layout=layout, activation="tanh", out_activation=out_activation, alpha=0.1
    )
    loss, grad = loss_grad(theta, X, Y, sample_weight=sw, **kwargs)
    for chunk_size in [1, 10, 100, 101, 1000]:
        loss_c, grad_c = loss_grad(
            theta, X, Y, sample_weight=sw, chunk_size=chunk_size, **kwargs
        )
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        assert loss_c == pytest.approx(loss, rel=rtol)
        np.testing.assert_allclose(grad_c, grad, rtol=rtol, atol=rtol * 1e-2)


def test_chunked_evaluation_on_memmap(tmp_path):
    X, Y, layout, theta, sw, out_activation = make_problem("multiclass", n_samples=64)
    path = tmp_path / "X.dat"
    mm = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    X_mm = np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)
    kwargs = dict(
        layout=layout, activation="relu", out_activation=out_activation, alpha=0.1
    )
    loss, grad = loss_grad(theta, X, Y, **kwargs)
    loss_mm, grad_mm = loss_grad(theta, X_mm, Y, chunk_size=16, **kwargs)
    assert loss_mm == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(grad_mm, grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("target", OUTPUTS)
def test_zero_weight_equals_dropping_and_integer_weight_equals_repeating(target):
    X, Y, layout, theta, _, out_activation = make_problem(target)
    rng = np.random.RandomState(1)
    sw = rng.randint(0, 4, size=X.shape[0]).astype(float)
    kwargs = dict(
        layout=layout, activation="logistic", out_activation=out_activation, alpha=0.3
    )
    loss_w, grad_w = loss_grad(theta, X, Y, sample_weight=sw, **kwargs)
    idx = np.repeat(np.arange(X.shape[0]), sw.astype(int))
    loss_r, grad_r = loss_grad(theta, X[idx], Y[idx], **kwargs)
    assert loss_w == pytest.approx(loss_r, rel=1e-12)
    np.testing.assert_allclose(grad_w, grad_r, rtol=1e-10, atol=1e-14)


def test_loss_is_stable_for_saturated_outputs():
    """Huge logits give the exact linear asymptote, never log(0) or NaN."""
    layout = ParameterLayout([1, 1])
    X = np.array([[1.0], [1.0]])
    for out_activation, Y in [
        ("logistic", np.array([[0.0], [1.0]])),
        ("softmax", np.array([[1.0], [1.0]])),
    ]:
        theta = np.array([0.0, 1000.0])  # coefficient 0, intercept 1000
        loss, grad = loss_grad(
            theta, X, Y, layout=layout, activation="relu",
            out_activation=out_activation, alpha=0.0,
        )  # fmt: skip
        assert np.isfinite(loss) and np.all(np.isfinite(grad))
        if out_activation == "logistic":
            # sample 0: -log(1 - expit(1000)) = 1000; sample 1: ~0
            assert loss == pytest.approx(500.0)
            np.testing.assert_allclose(grad, [0.5, 0.5])
        else:
            assert loss == pytest.approx(0.0)


def test_loss_grad_writes_into_given_buffers_and_reuses_workspace():
    X, Y, layout, theta, sw, out_activation = make_problem("multiclass")
    grad = np.empty_like(theta)
    ws = Workspace(layout.layer_units, X.shape[0], X.dtype)
    buffers = [a.__array_interface__["data"][0] for a in ws.acts + ws.deltas]
    assert len(ws.deltas) == len(layout.layer_units) - 2  # hidden layers only
    X_before, theta_before = X.copy(), theta.copy()
    kwargs = dict(layout=layout, activation="relu", out_activation=out_activation)
    _, g = loss_grad(theta, X, Y, alpha=0.1, grad=grad, workspace=ws, **kwargs)
    assert g is grad
    assert buffers == [a.__array_interface__["data"][0] for a in ws.acts + ws.deltas]
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(theta, theta_before)


def test_forward_and_probabilities():
    X, Y, layout, theta, sw, _ = make_problem("multiclass")
    coefs, intercepts = layout.unpack(theta)
    Z = forward(coefs, intercepts, X, "tanh")
    P = output_proba("softmax", Z)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(output_log_proba("softmax", Z), np.log(P), rtol=1e-12)

    Z = np.array([[-1e4, -3.0, 0.0, 3.0, 1e4]])
    for dtype in (np.float32, np.float64):
        P = output_proba("logistic", Z.astype(dtype))
        eps = np.finfo(dtype).eps
        assert P.dtype == dtype
        assert np.all(P >= eps) and np.all(P <= 1 - eps)
        assert np.all((P > 0) & (P < 1))
        logP = output_log_proba("logistic", Z.astype(dtype))
        np.testing.assert_allclose(logP, np.log(P), rtol=1e-5)
        bound = logistic_logit_bound(dtype)
        assert 30 < bound < 40 if dtype == np.float64 else 14 < bound < 18


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["huber", "gamma"])
def test_regression_losses_match_scikit_learn_loss_objects(name, dtype):
    """Per-sample losses, derivatives and curvatures with respect to the
    logits agree with scikit-learn's loss objects on one output: HuberLoss at
    a fixed ``delta`` (its quantile only sets delta while boosting) and
    HalfGammaLoss plus its ``constant_to_optimal_zero``."""
    from sklearn._loss.loss import HalfGammaLoss, HuberLoss

    rng = np.random.RandomState(0)
    z = rng.uniform(-3, 3, size=200)
    if name == "huber":
        y = z + rng.uniform(-2, 2, size=200)  # residuals on both sides of 0.7
        output, ref = Huber(epsilon=0.7), HuberLoss(delta=0.7)
        expected = ref.loss(y_true=y, raw_prediction=z)
    else:
        y = rng.gamma(2.0, 0.7, size=200)
        output, ref = Gamma(), HalfGammaLoss()
        expected = ref.loss(y_true=y, raw_prediction=z)
        expected += ref.constant_to_optimal_zero(y)
    grad, hess = ref.gradient_hessian(y_true=y, raw_prediction=z)
    Z, Y = z[:, None].astype(dtype), y[:, None].astype(dtype)
    P = output.curvature_state(Z, Y)
    row_loss, delta = output.loss_and_delta(
        Z.copy(), Y, np.empty(200, dtype), np.empty_like(Z)
    )
    assert row_loss.dtype == delta.dtype == P.dtype == dtype
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(row_loss, expected, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(delta[:, 0], grad, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(P[:, 0], hess, rtol=rtol, atol=rtol)
    assert np.all(row_loss >= 0)


def test_gamma_loss_is_stable_far_from_the_targets():
    """The Gamma deviance from ``w = log(y) - z`` stays finite and accurate
    where ``exp(-z)`` alone overflows (float32 beyond ``z = -88``) and near a
    perfect fit, where ``y exp(-z) + z - log(y) - 1`` cancels."""
    output = Gamma()
    for dtype in (np.float32, np.float64):
        Y = np.array([[1e-6], [2.0], [3.0]], dtype=dtype)
        # exp(-z) overflows in row 0, not y exp(-z); w = 1e-4 in row 1 and
        # -50 in row 2.
        z0 = -100.0 if dtype == np.float32 else -715.0
        Z = np.array(
            [[z0], [np.log(2.0) - 1e-4], [np.log(3.0) + 50]],
            dtype=dtype,
        )
        with np.errstate(over="ignore"):
            assert not np.isfinite(np.exp(-Z[0, 0]))
        row_loss, delta = output.loss_and_delta(Z.copy(), Y, None, None)
        w = np.log(Y.astype(np.float64)) - Z.astype(np.float64)
        expected = np.expm1(w) - w
        assert np.all(np.isfinite(row_loss)) and np.all(np.isfinite(delta))
        np.testing.assert_allclose(row_loss, expected[:, 0], rtol=1e-3)
        # The perfect-fit row: 5e-9, not the rounding noise of its terms.
        assert row_loss[1] == pytest.approx(0.5e-8, rel=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huber_loss_is_squared_error_inside_and_linear_outside(dtype):
    output = Huber(epsilon=1.0)
    Y = np.zeros((4, 1), dtype=dtype)
    Z = np.array([[0.5], [-1.0], [3.0], [-1e6]], dtype=dtype)
    row_loss, delta = output.loss_and_delta(Z.copy(), Y, None, None)
    np.testing.assert_allclose(row_loss, [0.125, 0.5, 2.5, 1e6 - 0.5], rtol=1e-6)
    np.testing.assert_allclose(delta[:, 0], [0.5, -1.0, 1.0, -1.0])
    P = output.curvature_state(Z, Y)
    np.testing.assert_array_equal(P[:, 0], [1.0, 1.0, 0.0, 0.0])
    # A huge epsilon is the squared error.
    row_se, delta_se = OUTPUT_LAYERS["identity"].loss_and_delta(Z.copy(), Y, None, None)
    row_h, delta_h = Huber(epsilon=1e7).loss_and_delta(Z.copy(), Y, None, None)
    np.testing.assert_allclose(row_h, row_se)
    np.testing.assert_allclose(delta_h, delta_se)
