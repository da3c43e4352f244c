"""The activation table itself: each row against PyTorch's functions (values
and both derivatives, through the output or the pre-activation as the row
says), the Phi of array namespaces, per-layer activations in the estimators,
and what the forward pass keeps."""

import numpy as np
import pytest
from scipy.special import ndtr

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor
from sklearn_cgmlp._activations import ACTIVATIONS, init_factors, resolve
from sklearn_cgmlp._layout import ParameterLayout, glorot_init
from sklearn_cgmlp._loss import MLPLoss
from sklearn_cgmlp._ops import NUMPY, _ndtr, array_ops

torch = pytest.importorskip("torch")
F = torch.nn.functional

# PyTorch's functions with their default constants.
TORCH = {
    "identity": lambda z: z,
    "logistic": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "softplus": F.softplus,
    "elu": F.elu,
    "leaky_relu": F.leaky_relu,
    "gelu": F.gelu,
    "silu": F.silu,
}


def torch_derivatives(name, z):
    """``f(z), f'(z), f''(z)`` by PyTorch's autograd, in float64."""
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    value = TORCH[name](t)
    (d1,) = torch.autograd.grad(value.sum(), t, create_graph=True)
    d2 = (
        torch.autograd.grad(d1.sum(), t)[0] if d1.requires_grad else torch.zeros_like(t)
    )
    return value.detach().numpy(), d1.detach().numpy(), d2.numpy()


def test_the_table_is_the_documented_one():
    assert sorted(TORCH) == sorted(ACTIVATIONS)
    assert {n for n, a in ACTIVATIONS.items() if a.needs_input} == {"gelu", "silu"}
    assert ACTIVATIONS["logistic"].init_factor == 2.0
    assert {a.init_factor for n, a in ACTIVATIONS.items() if n != "logistic"} == {6.0}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("ops_kind", ["numpy", "torch"])
def test_values_and_derivatives_are_pytorchs(name, ops_kind):
    z = np.concatenate([np.linspace(-8, 8, 161), [-40.0, -1e-3, 1e-3, 40.0]])
    z = z[z != 0]  # the kinks' derivatives are conventions
    value, d1, d2 = torch_derivatives(name, z)
    activation = ACTIVATIONS[name]
    if ops_kind == "numpy":
        ops, to = NUMPY, np.array
    else:
        ops = array_ops(torch.zeros(1, dtype=torch.float64))

        def to(a):
            return torch.tensor(np.array(a), dtype=torch.float64)

    def host(a):
        return np.asarray(a) if isinstance(a, np.ndarray) else a.numpy()

    A = host(activation.apply_(to(z), ops))
    # PyTorch's gelu tail is 0.5 (1 + erf) and cancels; ours is not: atol.
    np.testing.assert_allclose(A, value, rtol=1e-13, atol=1e-15)
    Z = to(z) if activation.needs_input else None
    got1, got2 = activation.derivatives(to(A), Z, ops)
    got1 = np.ones_like(z) if got1 is None else host(got1)
    got2 = np.zeros_like(z) if got2 is None else host(got2)
    np.testing.assert_allclose(got1, d1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got2, d2, rtol=1e-10, atol=1e-13)
    # The backward pass's product, with its scratch arrays.
    delta = np.linspace(-1, 1, z.size)
    Zs = to(z) if activation.needs_input else None
    product = host(activation.multiply_by_derivative(to(A), Zs, to(delta), ops))
    np.testing.assert_allclose(product, delta * d1, rtol=1e-12, atol=1e-15)
    # apply leaves Z alone and gives apply_'s values.
    Zc = to(z)
    np.testing.assert_allclose(A, host(activation.apply(Zc, ops)), rtol=1e-15)
    np.testing.assert_array_equal(host(Zc), z)


def test_float32_keeps_float32():
    z = np.linspace(-5, 5, 11, dtype=np.float32)
    for activation in ACTIVATIONS.values():
        Z = z.copy() if activation.needs_input else None
        A = activation.apply(z, NUMPY)
        assert A.dtype == np.float32, activation.name
        d1, d2 = activation.derivatives(A, Z, NUMPY)
        assert d1 is None or d1.dtype == np.float32, activation.name
        assert d2 is None or d2.dtype == np.float32, activation.name


def test_array_namespaces_phi_is_scipys():
    x = np.concatenate([np.linspace(-37, 37, 20001), [0.0, 1e-12, -1e-12]])
    np.testing.assert_allclose(_ndtr(np, x), ndtr(x), rtol=1e-12, atol=0)
    t = _ndtr(torch, torch.tensor(x, dtype=torch.float32))
    assert t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), ndtr(x), rtol=2e-6, atol=1e-7)


def test_only_layers_whose_activation_needs_z_keep_it():
    layout = ParameterLayout([4, 6, 5, 3, 2])
    loss = MLPLoss(layout, ("relu", "gelu", "silu"), "softmax", 0.0)
    assert loss.keeps_input == (False, True, True)
    ws = loss.workspace(10, np.float64)
    assert [z is None or z.shape for z in ws.inputs] == [True, (10, 5), (10, 3)]
    for name in ("relu", "tanh", "softplus", "elu", "leaky_relu"):
        ws = MLPLoss(layout, name, "softmax", 0.0).workspace(10, np.float64)
        assert ws.inputs == [None, None, None], name
    # A workspace without the buffers does not serve a gelu network.
    assert not ws.fits(layout.layer_units, 10, np.float64, loss.keeps_input)


def test_per_layer_glorot_factors():
    assert init_factors("logistic", 2) == [2.0, 2.0, 2.0]
    assert init_factors(("logistic", "gelu"), 2) == [2.0, 6.0, 6.0]
    assert init_factors(("gelu", "logistic"), 2) == [6.0, 2.0, 2.0]
    assert init_factors((), 0) == [6.0]
    assert init_factors("logistic", 0) == [2.0]
    layout = ParameterLayout([3, 4, 5, 2])
    one = glorot_init(layout, "tanh", 0)
    np.testing.assert_array_equal(glorot_init(layout, ("tanh", "gelu"), 0), one)
    mixed = glorot_init(layout, ("logistic", "tanh"), 0)
    coefs, _ = layout.unpack(mixed)
    coefs_one, _ = layout.unpack(one)
    np.testing.assert_allclose(coefs[0], coefs_one[0] / np.sqrt(3))  # 2 / 6
    np.testing.assert_array_equal(coefs[1], coefs_one[1])


def test_resolve():
    assert resolve("gelu", 2) == (ACTIVATIONS["gelu"],) * 2
    assert resolve(["gelu", "tanh"], 2) == (ACTIVATIONS["gelu"], ACTIVATIONS["tanh"])
    with pytest.raises(ValueError, match="activation has 1 entries, but the network"):
        resolve(("gelu",), 2)
    with pytest.raises(ValueError, match="Unknown activation 'swish'"):
        resolve("swish", 1)


# ------------------------------------------------------------- estimators
@pytest.mark.parametrize("Estimator", [CGMLPClassifier, CGMLPRegressor])
@pytest.mark.parametrize(
    "activation, hidden, message",
    [
        (("gelu",), (4, 3), r"names 1 activation, but hidden_layer_sizes=\(4, 3\) "
         "gives 2 hidden layers"),
        (["gelu", "tanh", "relu"], 5, "names 3 activations, but hidden_layer_sizes=5 "
         "gives 1 hidden layer:"),
        ((), (4,), "names 0 activations"),
    ],
)  # fmt: skip
def test_a_per_layer_activation_of_the_wrong_length_is_refused(
    Estimator, activation, hidden, message, iris
):
    X, y = iris
    est = Estimator(hidden, activation=activation)
    with pytest.raises(ValueError, match=message):
        est.fit(X, y)
    assert not hasattr(est, "coefs_")


@pytest.mark.parametrize("activation", ["swish", ("gelu", "swish"), ("gelu", 1), 3])
def test_unknown_activations_are_refused_as_scikit_learn_refuses(activation, iris):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = iris
    with pytest.raises(
        InvalidParameterError,
        match=r"The 'activation' parameter of CGMLPClassifier must be a str among "
        r".* or a tuple or list of those, one per hidden layer\. Got",
    ):
        CGMLPClassifier((3, 3), activation=activation).fit(X, y)


def test_per_layer_activation_is_kept_as_given_and_used(iris):
    X, y = iris
    activation = ["gelu", "logistic"]
    est = CGMLPClassifier((5, 4), activation=activation, max_iter=20, random_state=0)
    with pytest.warns(Warning):
        est.fit(X, y)
    assert est.get_params()["activation"] is activation
    assert est.activation == ["gelu", "logistic"]
    # Predictions go through gelu then logistic units.
    A = X @ est.coefs_[0] + est.intercepts_[0]
    A = A * ndtr(A)
    A = 1 / (1 + np.exp(-(A @ est.coefs_[1] + est.intercepts_[1])))
    Z = A @ est.coefs_[2] + est.intercepts_[2]
    np.testing.assert_array_equal(est.predict(X), est.classes_[Z.argmax(axis=1)])
