import numpy as np
import pytest
from sklearn.neural_network._multilayer_perceptron import _pack

from sklearn_cgmlp._layout import ParameterLayout


def test_motivating_network_has_616610_parameters():
    layout = ParameterLayout([3072, 200, 10])
    assert layout.n_params == 3072 * 200 + 200 * 10 + 200 + 10 == 616_610


def test_unpack_gives_views_and_round_trips(rng):
    layout = ParameterLayout([5, 4, 3, 2])
    theta = rng.randn(layout.n_params)
    coefs, intercepts = layout.unpack(theta)
    assert [c.shape for c in coefs] == [(5, 4), (4, 3), (3, 2)]
    assert [b.shape for b in intercepts] == [(4,), (3,), (2,)]
    for a in coefs + intercepts:
        assert np.shares_memory(a, theta)
    # Writing through a view changes the vector: no copies.
    coefs[1][2, 1] = 123.0
    assert 123.0 in theta
    packed = layout.pack(coefs, intercepts)
    assert not np.shares_memory(packed, theta)
    np.testing.assert_array_equal(packed, theta)


def test_layout_matches_mlpclassifier_packing(rng):
    layout = ParameterLayout([6, 5, 3])
    coefs = [rng.randn(6, 5), rng.randn(5, 3)]
    intercepts = [rng.randn(5), rng.randn(3)]
    np.testing.assert_array_equal(
        layout.pack(coefs, intercepts), _pack(coefs, intercepts)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pack_dtype_and_out(rng, dtype):
    layout = ParameterLayout([3, 2, 1])
    coefs, intercepts = layout.unpack(rng.randn(layout.n_params))
    out = np.empty(layout.n_params, dtype=dtype)
    result = layout.pack(coefs, intercepts, out=out)
    assert result is out
    assert layout.pack(coefs, intercepts, dtype=dtype).dtype == dtype


def test_layout_errors(rng):
    layout = ParameterLayout([3, 2, 1])
    with pytest.raises(ValueError, match="1-D parameter vector of length 11"):
        layout.unpack(rng.randn(layout.n_params, 1))
    with pytest.raises(ValueError, match="C-contiguous"):
        layout.unpack(rng.randn(2 * layout.n_params)[::2])
    with pytest.raises(ValueError, match="expected coefficients of shape"):
        layout.pack([rng.randn(2, 3), rng.randn(2, 1)], [rng.randn(2), rng.randn(1)])
    with pytest.raises(ValueError, match="at least one unit"):
        ParameterLayout([3, 0, 1])
