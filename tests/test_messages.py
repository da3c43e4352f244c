"""Messages of failing and stalling fits name the input that is out of scale.

Each case puts one input at a magnitude that breaks the fit (features,
regression targets, sample weights, alpha) and leaves the others moderate;
the message, a ConvergenceWarning or a ValueError, must name that input and
none of the others, nor blame what it is not (relu kinks, the precision of
the loss, steps that grew the network's weights).
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor
from sklearn_cgmlp._diagnostics import Scales, non_finite_hint, scale_hints

SOLVERS = ["cg", "newton-cg", "trust-ncg", "lbfgs"]
ESTIMATORS = {"classifier": CGMLPClassifier, "regressor": CGMLPRegressor}
CAUSES = {
    "features": "The features reach",
    "targets": "The targets reach",
    "weights": "The sample weights reach",
    "alpha": "makes the penalty",
}
WRONG_BLAME = ["kink", "far above what the precision", "precision loss",
               "grew without bound"]  # fmt: skip


def problem(kind, n=60):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:: 150 // n][:n]
    y = y[:: 150 // n][:n]
    if kind == "regressor":
        y = X @ np.array([1.0, -0.5, 0.25, 2.0])
    return X, y


def outcome(est, X, y, sample_weight=None):
    """The message a fit ends with: its ValueError's, or the text of its one
    ConvergenceWarning; None for a fit that ends quietly."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y, sample_weight=sample_weight)
        except ValueError as exc:
            assert not hasattr(est, "coefs_")
            return "error", str(exc)
    messages = [
        str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)
    ]
    assert len(messages) <= 1, messages
    return ("warning", messages[0]) if messages else (None, None)


def assert_names_only(message, cause):
    assert CAUSES[cause] in message, message
    for other, text in CAUSES.items():
        if other != cause:
            assert text not in message, message
    for wrong in WRONG_BLAME:
        assert wrong not in message, message


# -------------------------------------------------------------- features
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_huge_features_are_named_not_the_targets(kind, solver):
    X, y = problem(kind)
    est = ESTIMATORS[kind](hidden_layer_sizes=(5,), solver=solver, max_iter=30,
                           random_state=0)  # fmt: skip
    how, message = outcome(est, X * 1e150, y)
    if how is None:  # a fit can also end well; then nothing is to be said
        assert all(np.all(np.isfinite(c)) for c in est.coefs_)
        return
    assert_names_only(message, "features")
    assert "StandardScaler" in message


# --------------------------------------------------------------- targets
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("scale", [1e150, 1e155, 1e160])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_huge_regression_targets_are_named_not_features_or_kinks(
    scale, solver, activation
):
    # Targets around 1e150 were reported as relu kinks or a stall far above
    # the precision of the loss; from about 1e155, where the squared error
    # overflows, as "weights that grew without bound: scale the features".
    X, y = problem("regressor")
    reg = CGMLPRegressor(hidden_layer_sizes=(5,), activation=activation,
                         solver=solver, max_iter=30, random_state=0)  # fmt: skip
    how, message = outcome(reg, X, y * scale)
    assert how is not None
    assert_names_only(message, "targets")
    assert "TransformedTargetRegressor" in message
    if scale >= 1e155:  # its square overflows at the initial weights
        assert how == "error"
        assert message.startswith("The loss is not finite at the initial weights")
        assert "(the squared error overflows)" in message


# --------------------------------------------------------- sample weights
@pytest.mark.parametrize("solver", SOLVERS)
def test_sample_weights_whose_products_overflow_are_named(solver):
    # Their sum is representable (it is refused otherwise), but a weight
    # times a sample's squared error is not.
    X, y = problem("regressor", n=30)
    reg = CGMLPRegressor(hidden_layer_sizes=(5,), solver=solver, max_iter=30,
                         random_state=0)  # fmt: skip
    how, message = outcome(reg, X, y * 3, sample_weight=np.full(30, 1e306))
    assert how == "error"
    assert_names_only(message, "weights")
    assert "divide them by a common factor" in message


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", SOLVERS)
def test_huge_weights_that_do_not_overflow_are_not_blamed(solver):
    # The loss is a weighted mean: the classifier's per-sample losses are
    # small, so weights of 1e306 change nothing (without a penalty, which is
    # divided by their sum).
    X, y = problem("classifier", n=30)
    params = dict(hidden_layer_sizes=(5,), solver=solver, max_iter=10, alpha=0.0,
                  random_state=0)  # fmt: skip
    heavy = CGMLPClassifier(**params)
    how, message = outcome(heavy, X, y, sample_weight=np.full(30, 1e306))
    assert how != "error"
    assert message is None or CAUSES["weights"] not in message
    plain = CGMLPClassifier(**params).fit(X, y)
    # The same objective: the same first steps (later ones part by rounding).
    np.testing.assert_allclose(heavy.loss_curve_[:2], plain.loss_curve_[:2], rtol=1e-6)


# ----------------------------------------------------------------- alpha
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_huge_alpha_is_named(kind, solver):
    # A stall on alpha=1e300 was blamed on relu kinks.
    X, y = problem(kind)
    est = ESTIMATORS[kind](hidden_layer_sizes=(5,), solver=solver, alpha=1e300,
                           max_iter=30, random_state=0)  # fmt: skip
    how, message = outcome(est, X, y)
    if how is None:
        return
    assert_names_only(message, "alpha")
    assert "alpha=1e+300" in message and "lower it" in message


# ----------------------------------------------------- the rules themselves
def scales(**kw):
    base = dict(features=3.0, targets=2.0, weights=None, alpha=1e-4,
                penalty=1e-6, dtype=np.dtype(np.float64))  # fmt: skip
    return Scales(**{**base, **kw})


def test_moderate_inputs_blame_the_steps_or_nothing():
    assert scale_hints(scales()) is None
    assert "a step of the solver made the network's weights grow without bound" in (
        non_finite_hint(scales())
    )
    initial = non_finite_hint(scales(), initial=True)
    assert "grew" not in initial and "grow" not in initial
    assert "near the limits of float64" in initial


def test_several_inputs_out_of_scale_are_all_named():
    text = non_finite_hint(
        scales(
            features=1e200, targets=1e170, weights=1e300, alpha=1e300, penalty=1e299
        )  # fmt: skip
    )
    for cause in CAUSES.values():
        assert cause in text
    # Weights are a cause of overflows only (the loss is a weighted mean).
    assert CAUSES["weights"] not in scale_hints(scales(weights=1e300, features=1e9))
    # float32's limits are lower.
    assert CAUSES["weights"] in non_finite_hint(
        scales(weights=1e20, dtype=np.dtype(np.float32))
    )


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_convergence_warnings_point_at_the_callers_fit(kind):
    # The warning is attributed to the line that called fit, as scikit-learn's
    # own ConvergenceWarnings are, not to a frame inside the package.
    X, y = problem(kind)
    est = ESTIMATORS[kind](hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=2") as record:
        est.fit(X, y)
    assert record[0].filename == __file__


# ------------------------------------------- a fit that runs out of iterations
def limit_message(scales, loss_curve):
    from sklearn_cgmlp._diagnostics import exit_warning
    from sklearn_cgmlp._solvers import SolverResult

    result = SolverResult(
        x=None, loss=loss_curve[-1], n_iter=len(loss_curve), n_evals=len(loss_curve),
        n_trials=0, status="max_iter", message="", grad_norm=0.5,
        loss_curve=list(loss_curve),
    )  # fmt: skip
    _, message = exit_warning(
        result, solver="cg", tol=1e-4, max_iter=len(loss_curve), max_fun=15000,
        activation="relu", scales=scales,
    )  # fmt: skip
    return message


def moderate(features=3.0, targets=1.0, n_samples=400):
    return Scales(features, targets, None, 1e-4, 1e-6, np.dtype("float64"),
                  n_samples=n_samples)  # fmt: skip


FALLING = np.geomspace(10.0, 1.0, 30)
FLAT = np.r_[np.geomspace(10.0, 1.0, 20), np.full(11, 1.0)]


def test_a_fit_stopped_while_its_loss_falls_says_so_and_blames_no_scale():
    message = limit_message(moderate(), FALLING)
    assert "The loss was still falling (54.80% over the last 10 iterations)" in message
    assert "early_stopping=True" in message
    for cause in CAUSES.values():
        assert cause not in message
    assert "scale" not in message


def test_a_fit_stopped_on_a_flat_loss_only_says_what_to_raise():
    message = limit_message(moderate(), FLAT)
    assert message.endswith(": the largest gradient entry is 0.5 > tol=0.0001. "
                            "Increase max_iter or tol.")  # fmt: skip


@pytest.mark.parametrize(
    "cause, scales",
    [
        # sqrt(399) ~ 20: no standardized column reaches it.
        ("features", moderate(features=21.0)),
        ("targets", moderate(targets=21.0)),
    ],
)
def test_only_values_beyond_what_standardized_data_reach_are_named(cause, scales):
    message = limit_message(scales, FLAT)
    assert CAUSES[cause] in message
    assert "more than standardized features can" in message or cause == "targets"
    other = {"features": "targets", "targets": "features"}[cause]
    assert CAUSES[other] not in message
    assert message.endswith("Or increase max_iter or tol.")
    # Within the bound, nothing is named.
    assert "reach" not in limit_message(moderate(features=19.0, targets=19.0), FLAT)


def test_unknown_row_counts_name_no_moderate_scale():
    message = limit_message(moderate(features=1e3, n_samples=None), FLAT)
    assert "reach" not in message


def test_diabetes_with_raw_targets_blames_the_targets_not_the_scaled_features():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    kind, message = outcome(CGMLPRegressor(max_iter=50, random_state=0), X, y)
    assert kind == "warning"
    assert "The targets reach 346 in absolute value" in message
    assert "TransformedTargetRegressor" in message
    assert "The loss was still falling" in message
    assert "The features reach" not in message and "scale the features" not in message


def test_features_up_to_the_threshold_look_scaled():
    from sklearn_cgmlp._diagnostics import LARGE_FEATURES, scale_hint

    assert scale_hint(LARGE_FEATURES) is None
    above = np.nextafter(LARGE_FEATURES, np.inf)
    assert scale_hint(above).startswith("The features reach 1e+06")


def test_sparse_X_without_stored_entries_warns_without_a_scale_hint():
    from scipy import sparse

    X, y = sparse.csr_matrix((40, 3)), np.arange(40) % 2
    clf = CGMLPClassifier(hidden_layer_sizes=(3,), max_iter=1, random_state=0)
    with pytest.warns(ConvergenceWarning, match="did not converge") as caught:
        clf.fit(X, y)
    message = str(caught[0].message)
    assert message.endswith("Increase max_iter or tol.") and "reach" not in message
