"""Dask inputs with empty and one-row blocks, and a column-vector y.

Boolean filtering followed by ``compute_chunk_sizes()`` leaves row blocks of
no rows (or one). Dask's 2-D ``min``/``max`` fail on such a block, so every
reduction of the fit must get by without them: the fit, its
early-stopping split and its exit warning must be those of the in-memory fit
on the same rows. A column-vector ``y`` warns as scikit-learn does in memory.
"""

import re
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor

da = pytest.importorskip("dask.array")
pytest.importorskip("distributed")

# Rows kept per block of 20: 20, none, 19, one, 20.
KEEP = np.concatenate(
    [
        np.ones(20),
        np.zeros(20),
        np.r_[np.zeros(1), np.ones(19)],
        np.r_[np.ones(1), np.zeros(19)],
        np.ones(20),
    ]  # fmt: skip
).astype(bool)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 4))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 0.8)
    return X, y


def filtered(A):
    """``A`` on Dask, blocks of 20 rows filtered by KEEP (known chunks)."""
    A = da.from_array(A, chunks=(20, *A.shape[1:]))
    keep = da.from_array(KEEP, chunks=20)
    out = A[keep]
    out.compute_chunk_sizes()
    return out


def test_filtered_blocks_are_empty_and_one_row(data):
    X, _ = data
    assert filtered(X).chunks[0] == (20, 0, 19, 1, 20)


def record(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit()
    return model, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize(
    "make, target",
    [
        (lambda: CGMLPClassifier((5,), max_iter=3, random_state=0), "classes"),
        (lambda: CGMLPClassifier((5,), max_iter=3, random_state=0), "binary"),
        (lambda: CGMLPRegressor((5,), max_iter=3, random_state=0), "values"),
        (
            lambda: CGMLPRegressor((5,), loss="poisson", max_iter=3, random_state=0),
            "counts",
        ),
    ],
    ids=["classifier", "binary", "squared_error", "poisson"],
)
def test_fit_on_empty_blocks_ends_and_warns_as_in_memory(dask_client, data, make,
                                                         target):  # fmt: skip
    X, y = data
    y = {
        "classes": y,
        "binary": np.array(["no", "yes"])[(y > 0).astype(int)],
        "values": X[:, 0] - X[:, 3],
        "counts": y.astype(float),
    }[target]
    in_memory, expected = record(lambda: make().fit(X[KEEP], y[KEEP]))
    on_dask, got = record(lambda: make().fit(filtered(X), filtered(y)))
    assert [c for c, _ in expected] == [ConvergenceWarning]  # max_iter reached
    assert got == expected
    assert on_dask.n_iter_ == in_memory.n_iter_ == 3
    assert on_dask.loss_ == pytest.approx(in_memory.loss_, rel=1e-9)
    predicted = on_dask.predict(filtered(X)).compute()
    if target in ("classes", "binary"):
        np.testing.assert_array_equal(predicted, in_memory.predict(X[KEEP]))
    else:
        np.testing.assert_allclose(predicted, in_memory.predict(X[KEEP]), rtol=1e-9)


def test_scale_hint_on_empty_blocks_is_the_in_memory_hint(dask_client, data):
    """The hint's magnitudes are reductions over X and the targets."""
    X, y = data
    X = X * 1e7
    X[40 + 5, 2] = 3e8  # the largest entry is in a kept row of block 2

    def make():
        return CGMLPClassifier((5,), max_iter=2, random_state=0)

    _, expected = record(lambda: make().fit(X[KEEP], y[KEEP]))
    _, got = record(lambda: make().fit(filtered(X), filtered(y)))
    assert "The features reach 3e+08" in expected[0][1]
    assert got == expected


def test_weighted_early_stopping_on_empty_blocks(dask_client, data):
    """The early-stopping split and its checks (per-column extremes of the
    validation targets) get by with empty and one-row blocks."""
    X, y = data
    target = X[:, 0] - X[:, 3]
    weight = np.linspace(0.5, 2.0, len(y))
    params = dict(hidden_layer_sizes=(5,), early_stopping=True, max_iter=30,
                  n_iter_no_change=3, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = CGMLPRegressor(**params).fit(
            filtered(X), filtered(target), sample_weight=filtered(weight)
        )
    assert reg.n_iter_ > 0
    assert np.all(np.isfinite(reg.validation_scores_))
    # A constant validation part is refused as in memory, also here.
    with pytest.raises(ValueError, match="constant"):
        CGMLPRegressor(**params).fit(filtered(X), filtered(np.ones(len(y))))


def test_regression_targets_out_of_float32_on_empty_blocks(dask_client, data):
    X, _ = data
    y = np.full(len(X), 1e39)
    y[::2] = -3e39
    message = re.escape("The targets reach 3e+39, beyond what float32 represents")
    with pytest.raises(ValueError, match=message):
        CGMLPRegressor((3,)).fit(X[KEEP].astype(np.float32), y[KEEP])
    with pytest.raises(ValueError, match=message):
        CGMLPRegressor((3,)).fit(filtered(X.astype(np.float32)), filtered(y))


# ------------------------------------------------------ column-vector y
def test_column_vector_y_warns_on_dask_as_in_memory(dask_client, data):
    X, y = data
    column = y[:, None]

    def make():
        return CGMLPClassifier((5,), max_iter=3, random_state=0)

    for X_, y_ in ((X, column), (filtered(X), filtered(column))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            line = sys._getframe().f_lineno + 1
            clf = make().fit(X_, y_)
        found = [w for w in caught if w.category is DataConversionWarning]
        assert [str(w.message) for w in found] == [
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel()."
        ]
        # The user's line, on both paths.
        assert (found[0].filename, found[0].lineno) == (__file__, line)
        assert clf.classes_.tolist() == [0, 1, 2]
    # Regressors take a column as one output, silently, on both paths.
    for X_, y_ in ((X, column), (filtered(X), filtered(column))):
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataConversionWarning)
            reg = CGMLPRegressor((3,), max_iter=3, random_state=0)
            warnings.simplefilter("ignore", ConvergenceWarning)
            reg.fit(X_, y_.astype(float))
        assert reg.n_outputs_ == 1


def test_weights_overflow_hint_on_dask_is_the_in_memory_one(dask_client, data):
    """The hint's largest sample weight is a reduction over the weights too:
    weights whose products with the squared error overflow are named."""
    X, _ = data
    y = 300 * (X[:, 0] - X[:, 3])  # a weight times a squared error overflows
    weight = np.full(len(y), 1e305)  # their sum does not
    reg = CGMLPRegressor((5,), max_iter=30, random_state=0)
    with pytest.raises(ValueError) as in_memory:
        reg.fit(X[KEEP], y[KEEP], sample_weight=weight[KEEP])
    with pytest.raises(ValueError) as on_dask:
        reg.fit(filtered(X), filtered(y), sample_weight=filtered(weight))
    assert "The sample weights reach 1e+305" in str(in_memory.value)
    assert str(on_dask.value) == str(in_memory.value)
