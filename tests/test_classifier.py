"""Behaviour of CGMLPClassifier (_classifier.py): one test per promise of the
estimator. What it shares with CGMLPRegressor (sample weights, data types,
sparse input, chunks, warm start, progress, interrupts, callbacks, failed fits,
persistence) is tested on both in test_estimators.py."""

import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from sklearn_cgmlp import CGMLPClassifier
from sklearn_cgmlp._layout import ParameterLayout, glorot_init


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


# For tests of something else that fit with the defaults (relu units,
# max_iter=200): such fits may stop at max_iter or on a kink of the loss with a
# ConvergenceWarning, which these tests do not care about.
not_about_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


def fitted_attributes(est):
    return {k: v for k, v in vars(est).items() if k.endswith("_")}


# --------------------------------------------------------------- targets
@not_about_convergence
@pytest.mark.parametrize(
    "labels",
    [
        np.array(["setosa", "versicolor", "virginica"], dtype=object),
        np.array([-7, 3, 100]),
        np.array([1.0, 2.0, 5.0]),
    ],
)
def test_labels_of_any_type(iris, labels):
    X, y = iris
    y_labels = labels[y]
    clf = CGMLPClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X, y_labels)
    np.testing.assert_array_equal(clf.classes_, labels)
    pred = clf.predict(X)
    assert set(pred) <= set(labels)
    assert np.mean(pred == y_labels) > 0.95
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    np.testing.assert_array_equal(labels[proba.argmax(axis=1)], pred)


def test_binary_target(iris):
    X, y = iris
    y = np.where(y == 0, "no", "yes")
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), random_state=0).fit(X, y)
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 1
    assert clf.coefs_[-1].shape == (5, 1)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    assert clf.score(X, y) == 1.0


def test_multiclass_target(iris):
    X, y = iris
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), random_state=0).fit(X, y)
    assert clf.out_activation_ == "softmax"
    assert clf.n_outputs_ == 3
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0)


def test_multilabel_target():
    X, Y = make_multilabel_classification(n_samples=80, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    clf = CGMLPClassifier(hidden_layer_sizes=(20,), random_state=0).fit(X, Y)
    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 4
    np.testing.assert_array_equal(clf.classes_, np.arange(4))
    pred = clf.predict(X)
    assert pred.shape == Y.shape
    np.testing.assert_array_equal(pred, (clf.predict_proba(X) > 0.5).astype(int))
    assert np.mean(pred == Y) > 0.9


def test_saturated_logistic_outputs_stay_strictly_inside_0_1():
    X, Y = make_multilabel_classification(n_samples=50, n_classes=3, random_state=1)
    X = StandardScaler().fit_transform(X)
    clf = CGMLPClassifier(hidden_layer_sizes=(10,), random_state=0).fit(X, Y)
    # Scale the output layer until logits far exceed the float64 range of expit.
    clf.coefs_ = [*clf.coefs_[:-1], clf.coefs_[-1] * 1e4]
    clf.intercepts_ = [*clf.intercepts_[:-1], clf.intercepts_[-1] * 1e4]
    proba = clf.predict_proba(X)
    assert np.abs(clf._forward(X, "predict")[0]).max() > 1000
    assert np.all(proba > 0) and np.all(proba < 1)
    log_proba = clf.predict_log_proba(X)
    assert np.all(np.isfinite(log_proba))
    np.testing.assert_allclose(log_proba, np.log(proba), rtol=1e-12)


def test_predict_log_proba_matches_log_of_proba(iris):
    X, y = iris
    for target in (y, (y == 0).astype(int)):
        clf = CGMLPClassifier(hidden_layer_sizes=(5,), random_state=0).fit(X, target)
        np.testing.assert_allclose(
            clf.predict_log_proba(X),
            np.log(clf.predict_proba(X)),
            rtol=1e-7,
            atol=1e-14,
        )


def test_one_class_is_a_clear_error(iris):
    X, _ = iris
    clf = CGMLPClassifier()
    with pytest.raises(ValueError, match="at least 2 classes"):
        clf.fit(X, np.ones(len(X)))
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


def test_continuous_target_is_rejected(iris):
    X, _ = iris
    with pytest.raises(ValueError, match="Unknown label type"):
        CGMLPClassifier().fit(X, np.linspace(0, 1, len(X)))


# ------------------------------------------------------ fitted attributes
@not_about_convergence
def test_fitted_attributes_mirror_mlpclassifier(iris):
    X, y = iris
    ours = CGMLPClassifier(hidden_layer_sizes=(7, 4), random_state=0).fit(X, y)
    theirs = MLPClassifier(
        hidden_layer_sizes=(7, 4), solver="lbfgs", random_state=0, max_iter=500
    ).fit(X, y)
    for name in [
        "classes_",
        "n_features_in_",
        "n_layers_",
        "n_outputs_",
        "out_activation_",
    ]:
        np.testing.assert_array_equal(getattr(ours, name), getattr(theirs, name))
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    assert isinstance(ours.loss_, float)
    assert isinstance(ours.n_iter_, int) and 0 < ours.n_iter_ <= ours.max_iter
    assert len(ours.loss_curve_) == ours.n_iter_
    assert ours.n_fun_evals_ >= ours.n_iter_
    assert ours.loss_curve_[-1] == pytest.approx(ours.loss_)
    # CG with a Wolfe line search never increases the loss.
    assert all(np.diff(ours.loss_curve_) <= 1e-12)


def test_fitted_state_is_plain_arrays_and_numbers(iris):
    X, y = iris
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), random_state=0).fit(X, y)
    allowed = (np.ndarray, int, float, str, bool, type(None))
    for name, value in vars(clf).items():
        if name in clf.get_params():
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            assert isinstance(v, allowed), (name, type(v))


def test_initialisation_matches_mlpclassifier():
    """Same random_state, same Glorot draws as MLPClassifier."""
    layout = ParameterLayout([4, 6, 3])
    for activation in ("relu", "logistic"):
        theta = glorot_init(layout, activation, 42)
        mlp = MLPClassifier(activation=activation)
        mlp._random_state = np.random.RandomState(42)
        coefs, intercepts = [], []
        for fan_in, fan_out in layout.coef_shapes:
            c, b = mlp._init_coef(fan_in, fan_out, np.float64)
            coefs.append(c)
            intercepts.append(b)
        np.testing.assert_array_equal(theta, layout.pack(coefs, intercepts))


def test_same_random_state_gives_bit_identical_model(digits):
    X, y = digits
    a = CGMLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=3)
    b = clone(a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a.fit(X, y)
        b.fit(X, y)
        c = CGMLPClassifier(hidden_layer_sizes=(16,), max_iter=30, random_state=4)
        c.fit(X, y)
    for wa, wb in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(wa, wb)
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])


@not_about_convergence
def test_alpha_penalty_uses_mlpclassifier_scaling(iris):
    X, y = iris
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), alpha=3.0, random_state=0)
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    data_loss = -np.mean(np.log(proba[np.arange(len(y)), y]))
    penalty = 0.5 * 3.0 * sum(np.sum(c**2) for c in clf.coefs_) / len(X)
    assert clf.loss_ == pytest.approx(data_loss + penalty, rel=1e-8)
    # A larger alpha shrinks the weights.
    weak = clone(clf).set_params(alpha=1e-5).fit(X, y)
    assert np.linalg.norm(clf.coefs_[0]) < np.linalg.norm(weak.coefs_[0])


# ------------------------------------------------------------- warm start
def test_warm_start_with_other_classes_raises(iris):
    X, y = iris
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), warm_start=True, random_state=0)
    clf.fit(X, y)
    before = fitted_attributes(clf)
    mask = y != 2
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has"):
        clf.fit(X[mask], y[mask])
    assert fitted_attributes(clf).keys() == before.keys()
    np.testing.assert_array_equal(clf.classes_, before["classes_"])
    assert clf.coefs_ is before["coefs_"]


def test_warm_start_from_read_only_memmapped_model(iris, tmp_path):
    X, y = iris
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), warm_start=True, random_state=0)
    clf.fit(X, y)
    path = tmp_path / "model.joblib"
    joblib.dump(clf, path)
    loaded = joblib.load(path, mmap_mode="r")
    assert any(isinstance(c, np.memmap) for c in loaded.coefs_)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    loaded.set_params(max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        loaded.fit(X, y)  # must not write into the read-only arrays
    assert np.isfinite(loaded.loss_)


# ------------------------------------------------------ solver feedback
def test_iteration_limit_warns_with_advice(digits):
    X, y = digits
    clf = CGMLPClassifier(hidden_layer_sizes=(10,), max_iter=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"max_iter=3 .*Increase max_iter"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3


def test_max_fun_warns_and_stops(digits):
    X, y = digits
    clf = CGMLPClassifier(hidden_layer_sizes=(10,), max_fun=10, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_fun=10"):
        clf.fit(X, y)
    assert clf.n_fun_evals_ >= 10
    assert clf.n_iter_ < 10


def test_precision_loss_is_reported(digits):
    X, y = digits
    clf = CGMLPClassifier(
        hidden_layer_sizes=(10,), activation="tanh", tol=0.0, max_iter=5000,
        random_state=0,
    )  # fmt: skip
    with pytest.warns(ConvergenceWarning, match="precision loss.*fit float64"):
        clf.fit(X.astype(np.float32), y)
    assert all(np.all(np.isfinite(c)) for c in clf.coefs_)


def test_a_stall_far_above_precision_is_not_blamed_on_it(iris):
    # relu units: the line search stops on a kink of the loss while the
    # float64 gradient is orders of magnitude above its rounding level.
    X, y = iris
    clf = CGMLPClassifier(
        hidden_layer_sizes=(10,), tol=0.0, max_iter=2000, random_state=0
    )
    with pytest.warns(ConvergenceWarning) as record:
        clf.fit(X, y)
    (message,) = [str(w.message) for w in record]
    assert "far above what the precision of the loss limits" in message
    assert "kink" in message and "precision loss)" not in message


def test_huge_inputs_end_finite_or_fail_clearly(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = CGMLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0)
        clf.fit(X * 1e300 / 16, y)
    assert all(np.all(np.isfinite(a)) for a in clf.coefs_ + clf.intercepts_)
    assert np.isfinite(clf.loss_)
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_non_finite_initial_loss_is_a_clear_error():
    # Finite inputs whose first-layer products overflow.
    X = np.full((12, 20), 1.7e308)
    X[::2] *= -1
    y = np.array([0, 1, 1] * 4)
    clf = CGMLPClassifier(hidden_layer_sizes=(50,), random_state=0)
    with pytest.raises(ValueError, match="loss is not finite at the initial weights"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)


# ------------------------------------------------------------- ecosystem
@not_about_convergence
def test_pipeline_and_grid_search(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), CGMLPClassifier(random_state=0)),
        {
            "cgmlpclassifier__alpha": [1e-4, 1.0],
            "cgmlpclassifier__hidden_layer_sizes": [(10,), (20,)],
        },
        cv=3,
    )
    search.fit(X_train, y_train)
    assert search.score(X_test, y_test) > 0.93


def test_digits_accuracy_within_a_point_of_mlpclassifier_lbfgs(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    params = dict(hidden_layer_sizes=(50,), random_state=0, max_iter=500)
    ours = CGMLPClassifier(**params).fit(X_train, y_train)
    theirs = MLPClassifier(solver="lbfgs", **params).fit(X_train, y_train)
    acc_ours = ours.score(X_test, y_test)
    acc_theirs = theirs.score(X_test, y_test)
    assert acc_ours >= acc_theirs - 0.01, (acc_ours, acc_theirs)


def test_motivating_cifar_shaped_network_fits():
    """3072-200-10 logistic network: 616,610 parameters, a falling loss."""
    rng = np.random.RandomState(0)
    n = 300
    y = rng.randint(10, size=n)
    centers = rng.rand(10, 3072)
    X = (centers[y] + 0.5 * rng.rand(n, 3072)).astype(np.float32)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    clf = CGMLPClassifier(
        hidden_layer_sizes=(200,), activation="logistic", max_iter=15, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    n_params = sum(c.size + b.size for c, b in zip(clf.coefs_, clf.intercepts_))
    assert n_params == 616_610
    assert clf.coefs_[0].dtype == np.float32
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.score(X, y) > 0.9


def test_restart_after_failed_line_search_lowers_relu_loss(monkeypatch):
    """relu losses have kinks where SciPy's line search fails early; the
    backtracking restart continues from there."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(hidden_layer_sizes=(10,), random_state=0, max_iter=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        restarted = CGMLPClassifier(**params).fit(X, y)
        monkeypatch.setattr("sklearn_cgmlp._solvers._MAX_RESTARTS", 0)
        plain = CGMLPClassifier(**params).fit(X, y)
    assert restarted.loss_ < plain.loss_
    assert restarted.n_iter_ > plain.n_iter_
    assert len(restarted.loss_curve_) == restarted.n_iter_
    assert all(np.diff(restarted.loss_curve_) <= 1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_no_probability_underflows_to_zero(iris, dtype):
    """Logits thousands apart: predict_proba keeps every probability above 0
    (as scikit-learn's check_classifiers_train needs log(predict_proba) and
    predict_log_proba to agree on where they are finite)."""
    X, y = iris
    X = X.astype(dtype)
    clf = CGMLPClassifier(hidden_layer_sizes=(5,), max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    clf.coefs_[-1] *= 1e4
    proba, log_proba = clf.predict_proba(X), clf.predict_log_proba(X)
    logits = clf._forward(X, "predict")[0]
    spread = logits.max(axis=1) - logits.min(axis=1)
    assert spread.max() > -2 * np.log(np.finfo(dtype).tiny)  # would underflow
    assert proba.min() > 0 and np.isfinite(np.log(proba)).all()
    # The same floor: log(predict_proba) and predict_log_proba agree.
    np.testing.assert_allclose(np.log(proba), log_proba, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(proba.argmax(axis=1), log_proba.argmax(axis=1))


# ------------------------------------------- targets, weights, initial draw
def test_a_warm_start_refuses_targets_of_another_type_with_the_same_classes(iris):
    """Multiclass labels 0, 1, 2 and a 3-column multilabel matrix have the
    same classes_ ([0, 1, 2]) but not the same outputs (softmax against
    logistic): a warm start must refuse the change, in either direction."""
    X, y = iris
    Y = np.eye(3, dtype=int)[y]
    Y[::7, 0] = 1  # some rows with two labels: multilabel
    for first, second in ((y, Y), (Y, y)):
        clf = CGMLPClassifier((5,), max_iter=5, warm_start=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, first)
        np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
        before = [c.copy() for c in clf.coefs_]
        with pytest.raises(ValueError, match="warm_start can only be used where"):
            clf.fit(X, second)
        for a, b in zip(clf.coefs_, before):  # the model is left as it was
            np.testing.assert_array_equal(a, b)


@not_about_convergence
def test_a_zero_class_weight_is_valid_and_drops_the_class_from_the_loss(iris):
    X, y = iris
    params = dict(hidden_layer_sizes=(5,), max_iter=30, random_state=0)
    weighted = CGMLPClassifier(class_weight={0: 0.0, 1: 1.0, 2: 2.0}, **params)
    weighted.fit(X, y)
    reference = CGMLPClassifier(**params).fit(
        X, y, sample_weight=np.array([0.0, 1.0, 2.0])[y]
    )
    np.testing.assert_array_equal(weighted.classes_, [0, 1, 2])
    for a, b in zip(weighted.coefs_, reference.coefs_):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="non-negative finite numbers"):
        CGMLPClassifier(class_weight={0: -1.0}, **params).fit(X, y)


@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_early_stopping_keeps_mlpclassifiers_initial_weights(iris, activation,
                                                             monkeypatch):  # fmt: skip
    """The random state draws the initial weights first, then the split,
    as in MLPClassifier: early stopping does not change the initial draw.
    MLPClassifier's own is read off a fit with a learning rate too small to
    move any weight."""
    import sklearn_cgmlp._base as base

    X, y = iris
    drawn = []

    def spy(*args, **kwargs):
        drawn.append(glorot_init(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(base, "glorot_init", spy)
    for early_stopping in (False, True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            CGMLPClassifier(
                (6,), activation=activation, early_stopping=early_stopping,
                max_iter=2, random_state=7,
            ).fit(X, y)  # fmt: skip
            mlp = MLPClassifier(
                (6,), activation=activation, solver="sgd", early_stopping=True,
                learning_rate_init=1e-300, momentum=0.0, max_iter=1,
                random_state=7,
            ).fit(X, y)  # fmt: skip
        layout = ParameterLayout([4, 6, 3])
        np.testing.assert_array_equal(
            drawn[-1], layout.pack(mlp.coefs_, mlp.intercepts_)
        )


@pytest.mark.parametrize("weight", [True, False, np.bool_(True)])
def test_a_boolean_class_weight_is_refused(iris, weight):
    X, y = iris
    clf = CGMLPClassifier((3,), class_weight={0: weight, 1: 1.0})
    with pytest.raises(ValueError, match="non-negative finite numbers"):
        clf.fit(X, y)
