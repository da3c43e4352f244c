"""Solvers, early stopping, class weights, progress callbacks, interruption."""

import itertools
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import compute_sample_weight
from sklearn.utils.validation import check_is_fitted

import sklearn_cgmlp._data as data_module
from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor
from sklearn_cgmlp._adapters import SciPyObjective
from sklearn_cgmlp._hessian import CurvatureProduct

SOLVERS = ["cg", "newton-cg", "trust-ncg", "lbfgs"]
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


def digits_case(n_class):
    """The digits data sets of scikit-learn's own MLP tests."""
    X, y = load_digits(n_class=n_class, return_X_y=True)
    return MinMaxScaler().fit_transform(X[:200]), y[:200]


DIGITS = {"multiclass": digits_case(3), "binary": digits_case(2)}


def fit_quietly(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


# ------------------------------------------------------------------ solvers
@pytest.mark.parametrize(
    "solver, activation, case", list(itertools.product(SOLVERS, ACTIVATIONS, DIGITS))
)
def test_each_solver_fits_sklearn_digits_cases(solver, activation, case):
    X, y = DIGITS[case]
    clf = CGMLPClassifier(
        solver=solver,
        hidden_layer_sizes=50,
        max_iter=150,
        random_state=1,
        activation=activation,
    )
    fit_quietly(clf, X[:150], y[:150])
    assert clf.score(X[:150], y[:150]) > 0.95
    pred = clf.predict(X[150:])
    assert pred.shape == (50,) and pred.dtype.kind == y.dtype.kind
    assert len(clf.loss_curve_) == clf.n_iter_
    assert all(np.diff(clf.loss_curve_) <= 1e-12)  # all are descent methods


@pytest.mark.parametrize("solver", ["newton-cg", "trust-ncg"])
def test_newton_solvers_use_curvature_products(solver, monkeypatch):
    X, y = DIGITS["multiclass"]
    calls = []
    original = CurvatureProduct.dot

    def spy(self, v):
        calls.append(self.gauss_newton)
        return original(self, v)

    monkeypatch.setattr(CurvatureProduct, "dot", spy)
    clf = CGMLPClassifier(solver=solver, hidden_layer_sizes=(10,), random_state=0)
    fit_quietly(clf, X, y)
    assert calls and all(calls)  # Gauss-Newton products only
    # Far fewer iterations than CG needs on the same problem.
    cg = fit_quietly(CGMLPClassifier(hidden_layer_sizes=(10,), random_state=0), X, y)
    assert clf.n_iter_ < cg.n_iter_


def test_cg_solver_needs_no_curvature(monkeypatch):
    X, y = DIGITS["binary"]
    monkeypatch.setattr(
        CurvatureProduct, "dot", lambda *a, **k: pytest.fail("product computed")
    )
    fit_quietly(CGMLPClassifier(hidden_layer_sizes=(5,)), X, y)


@pytest.mark.parametrize("solver", SOLVERS)
def test_solvers_reach_the_same_minimum_of_a_convex_problem(solver):
    """Without hidden layers the objective is strictly convex (alpha > 0)."""
    X, y = DIGITS["multiclass"]
    params = dict(hidden_layer_sizes=(), alpha=1.0, random_state=0)
    reference = fit_quietly(CGMLPClassifier(tol=1e-7, max_iter=2000, **params), X, y)
    clf = fit_quietly(
        CGMLPClassifier(solver=solver, tol=1e-7, max_iter=2000, **params), X, y
    )
    assert clf.loss_ == pytest.approx(reference.loss_, rel=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_honours_max_iter_and_float32(solver):
    X, y = DIGITS["multiclass"]
    clf = CGMLPClassifier(solver=solver, hidden_layer_sizes=(8,), max_iter=3)
    with pytest.warns(ConvergenceWarning, match=f"Solver '{solver}'"):
        clf.fit(X.astype(np.float32), y)
    assert clf.n_iter_ == 3
    assert clf.coefs_[0].dtype == np.float32


# ---------------------------------------------------------- early stopping
@pytest.fixture(scope="module")
def noisy():
    X, y = make_classification(
        n_samples=400, n_features=20, n_informative=5, flip_y=0.2, random_state=0
    )
    return StandardScaler().fit_transform(X), y


def test_early_stopping_returns_the_best_validation_weights(noisy):
    X, y = noisy
    params = dict(
        hidden_layer_sizes=(50,), early_stopping=True, max_iter=500, random_state=0
    )
    clf = fit_quietly(CGMLPClassifier(**params), X, y)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ < 500  # stopped early
    assert clf.best_validation_score_ == max(scores)
    best_iter = int(np.argmax(scores)) + 1
    assert best_iter < clf.n_iter_
    # MLPClassifier's rule: more than n_iter_no_change iterations without an
    # improvement of at least tol.
    assert clf.n_iter_ - best_iter > clf.n_iter_no_change
    assert clf.loss_ == clf.loss_curve_[best_iter - 1]
    # The same seed gives the same split and trajectory: a fit stopped at the
    # best iteration ends with exactly the weights early stopping returned.
    short = fit_quietly(CGMLPClassifier(**{**params, "max_iter": best_iter}), X, y)
    for a, b in zip(short.coefs_ + short.intercepts_, clf.coefs_ + clf.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_no_early_stopping_attributes_are_none(noisy):
    X, y = noisy
    clf = fit_quietly(CGMLPClassifier(hidden_layer_sizes=(5,), max_iter=5), X, y)
    assert clf.validation_scores_ is None
    assert clf.best_validation_score_ is None


def test_early_stopping_split_is_stratified(noisy, monkeypatch):
    X, y = noisy
    calls = []
    original = data_module.train_test_split

    def spy(*args, **kwargs):
        calls.append(kwargs.get("stratify"))
        return original(*args, **kwargs)

    monkeypatch.setattr(data_module, "train_test_split", spy)
    fit_quietly(
        CGMLPClassifier(hidden_layer_sizes=(5,), early_stopping=True, max_iter=5),
        X,
        y,
    )
    np.testing.assert_array_equal(calls[0], y)


def test_early_stopping_validation_set_too_small_is_a_clear_error():
    X, y = DIGITS["multiclass"]
    clf = CGMLPClassifier(early_stopping=True, validation_fraction=0.01)
    with pytest.raises(ValueError, match=r"sets aside 2 of 200 samples.*3 classes"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


# Degenerate splits: a validation part on which the score is undefined or
# constant is refused at fit, with advice in the direction that helps (the
# suggested validation_fraction is tried), never fitted with NaN scores.
def _regression(n, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    return X, X[:, 0] + 0.1 * rng.randn(n)


def _early(Estimator, fraction, **params):
    return Estimator(
        hidden_layer_sizes=(3,), early_stopping=True, validation_fraction=fraction,
        max_iter=15, random_state=0, **params,
    )  # fmt: skip


def _suggested(message):
    import re

    return float(re.search(r"to at (?:least|most) ([0-9.e-]+)\)", message).group(1))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_one_validation_sample_for_r2_is_refused_and_the_advice_works():
    # R² of one sample is NaN: every validation score was NaN, and early
    # stopping never acted.
    X, y = _regression(10)
    reg = _early(CGMLPRegressor, 0.1)
    with pytest.raises(ValueError) as error:
        reg.fit(X, y)
    message = str(error.value)
    assert message.startswith(
        "validation_fraction=0.1 sets aside 1 of 10 samples for early stopping, "
        "fewer than the 2 that R² needs. Increase validation_fraction (to at "
        "least 0.2)"
    )
    assert not hasattr(reg, "coefs_")
    reg.set_params(validation_fraction=_suggested(message)).fit(X, y)
    assert len(reg.validation_scores_) == reg.n_iter_
    assert np.all(np.isfinite(reg.validation_scores_))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_training_part_too_small_advises_decreasing_the_fraction():
    # One training sample for three classes was told to "increase
    # validation_fraction", the wrong direction.
    rng = np.random.RandomState(0)
    X, y = rng.randn(12, 3), np.repeat([0, 1, 2], 4)
    clf = _early(CGMLPClassifier, 0.9)
    with pytest.raises(ValueError) as error:
        clf.fit(X, y)
    message = str(error.value)
    assert message.startswith(
        "validation_fraction=0.9 leaves 1 of 12 samples for training, fewer than "
        "the 3 that a stratified split needs (one of each of the 3 classes). "
        "Decrease validation_fraction (to at most 0.75)"
    )
    assert "Increase" not in message
    clf.set_params(validation_fraction=_suggested(message)).fit(X, y)
    assert np.all(np.isfinite(clf.validation_scores_))
    # The regressor's training part, too.
    X, y = _regression(10)
    expected = r"leaves 0 of 10 samples for training.*to at most 0\.9\)"
    with pytest.raises(ValueError, match=expected):
        _early(CGMLPRegressor, 0.95).fit(X, y)


def test_too_few_samples_for_any_fraction_say_so():
    X, y = _regression(2)
    with pytest.raises(ValueError) as error:
        _early(CGMLPRegressor, 0.5).fit(X, y)
    assert str(error.value) == (
        "Early stopping needs at least 2 samples for validation (that R² needs) "
        "and 1 sample for training, but there are only 2 samples: no "
        "validation_fraction gives both. Set early_stopping=False, or fit more "
        "samples."
    )


def test_a_class_of_one_sample_cannot_be_stratified():
    # It was scikit-learn's "The least populated classes in y have only 1
    # member", which says nothing of early stopping.
    rng = np.random.RandomState(0)
    X, y = rng.randn(12, 3), np.array([0] * 5 + [1] * 6 + [2])
    with pytest.raises(ValueError, match=r"^The class 2 has only 1 sample: a "
                       "stratified early-stopping split needs at least 2"):  # fmt: skip
        _early(CGMLPClassifier, 0.25).fit(X, y)


def _validation_rows(est, X, y, monkeypatch):
    """The rows of the early-stopping validation part of ``est``'s fit."""
    rows = []
    original = data_module.train_test_split

    def spy(*args, **kwargs):
        train, val = original(*args, **kwargs)
        rows.append(val)
        return train, val

    monkeypatch.setattr(data_module, "train_test_split", spy)
    fit_quietly(est, X, y)
    monkeypatch.undo()
    return rows[0]


def test_r2_of_one_positive_weight_validation_sample_is_refused(monkeypatch):
    X, y = _regression(20)
    val = _validation_rows(_early(CGMLPRegressor, 0.25), X, y, monkeypatch)
    assert len(val) == 5
    sample_weight = np.ones(20)
    sample_weight[val[1:]] = 0.0  # one validation sample keeps its weight
    reg = _early(CGMLPRegressor, 0.25)
    with pytest.raises(ValueError, match=r"^R² needs at least 2 validation samples "
                       r"of positive weight whose targets differ .* the early-"
                       r"stopping validation part has only 1 sample of positive "
                       r"weight\."):  # fmt: skip
        reg.fit(X, y, sample_weight=sample_weight)
    assert not hasattr(reg, "coefs_")
    sample_weight[val[2]] = 1.0  # two: R² is defined
    fit_quietly(reg, X, y, sample_weight=sample_weight)
    assert np.all(np.isfinite(reg.validation_scores_))


def test_r2_of_equal_validation_targets_is_refused(monkeypatch):
    # R² of equal targets is 0 whatever the model: early stopping would stop
    # after n_iter_no_change iterations with the first iterate.
    X, y = _regression(20)
    val = _validation_rows(_early(CGMLPRegressor, 0.25), X, y, monkeypatch)
    y = y.copy()
    y[val] = 1.5
    reg = _early(CGMLPRegressor, 0.25)
    with pytest.raises(ValueError, match=r"validation part has 5 samples of "
                       r"positive weight, all with the target 1\.5\. Increase "
                       "validation_fraction"):  # fmt: skip
        reg.fit(X, y)
    # Equal targets of zero-weight samples do not count.
    y[val[0]] = 2.5
    fit_quietly(reg, X, y)
    sample_weight = np.ones(20)
    sample_weight[val[0]] = 0.0
    with pytest.raises(ValueError, match="all with the target 1.5"):
        reg.fit(X, y, sample_weight=sample_weight)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_class_missing_from_the_validation_part_still_scores():
    """Defined behaviour: accuracy on the classes the validation part holds.

    A stratified split of 3 validation samples over classes of 100, 2 and 2
    samples sets aside three of the large class. The score is the accuracy
    on them: finite, and early stopping acts on it.
    """
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], [100, 2, 2])
    X = rng.randn(len(y), 3) + y[:, None]
    clf = _early(CGMLPClassifier, 3 / 104, n_iter_no_change=2).set_params(max_iter=200)
    clf.fit(X, y)
    assert np.all(np.isfinite(clf.validation_scores_))
    assert clf.n_iter_ < 200  # early stopping acted


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("Estimator", [CGMLPClassifier, CGMLPRegressor])
def test_a_nan_validation_score_counts_as_no_improvement(Estimator, monkeypatch):
    # A NaN score used to reset the count of iterations without improvement
    # (NaN < best + tol is False), so early stopping never acted.
    X, y = _regression(60)
    if Estimator is CGMLPClassifier:
        y = (y > 0).astype(int)
    monkeypatch.setattr(Estimator, "_score_model", lambda *args: np.nan)
    est = _early(Estimator, 0.2, n_iter_no_change=3).set_params(max_iter=50)
    est.fit(X, y)
    assert est.n_iter_ == 4  # n_iter_no_change + 1 iterations, not max_iter
    assert len(est.validation_scores_) == 4


def test_early_stopping_with_multilabel_targets():
    rng = np.random.RandomState(0)
    X = rng.randn(200, 5)
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0]).astype(int)
    clf = fit_quietly(
        CGMLPClassifier(hidden_layer_sizes=(10,), early_stopping=True, random_state=0),
        X,
        Y,
    )
    assert clf.best_validation_score_ > 0.8
    assert clf.predict(X).shape == Y.shape


def test_early_stopping_keeps_feature_names(noisy):
    pd = pytest.importorskip("pandas")
    X, y = noisy
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = fit_quietly(
        CGMLPClassifier(hidden_layer_sizes=(5,), early_stopping=True, max_iter=20),
        df,
        y,
    )
    np.testing.assert_array_equal(clf.feature_names_in_, df.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf.predict(df)


def test_early_stopping_needs_an_improvement_of_at_least_tol(noisy, monkeypatch):
    X, y = noisy
    scores = []

    def creeping(self, attributes, validation):
        # Better at every iteration, but by less than tol.
        scores.append(0.5 + 1e-5 * len(scores))
        return scores[-1]

    monkeypatch.setattr(CGMLPClassifier, "_score_model", creeping)
    clf = fit_quietly(
        CGMLPClassifier(
            hidden_layer_sizes=(50,),
            early_stopping=True,
            tol=1e-4,
            n_iter_no_change=10,
            max_iter=100,
            random_state=0,
        ),
        X,
        y,
    )
    # The first score sets the best; the next n_iter_no_change + 1 improve it
    # by less than tol, which MLPClassifier's rule counts as no improvement.
    assert clf.n_iter_ == 12
    assert clf.validation_scores_ == scores
    # The weights kept are still those of the best (here the last) score.
    assert clf.best_validation_score_ == scores[-1]
    assert clf.loss_ == clf.loss_curve_[-1]


@pytest.mark.parametrize("solver", ["cg", "newton-cg", "trust-ncg", "lbfgs"])
def test_early_stopping_verbose_tells_which_iteration_it_kept(
    noisy, capsys, verbose_story, solver
):
    X, y = noisy
    params = dict(hidden_layer_sizes=(50,), early_stopping=True, verbose=True,
                  solver=solver, random_state=0)  # fmt: skip
    # Stopped by early stopping: the best iteration lies n_iter_no_change + 1
    # iterations back, and its weights replace the last ones.
    clf = fit_quietly(CGMLPClassifier(n_iter_no_change=2, max_iter=500, **params), X, y)
    closing = verbose_story(clf, capsys.readouterr().out)
    assert clf.n_iter_ < 500
    assert (
        "the validation score did not improve by more than tol=0.0001 for 3 "
        "consecutive iterations (more than n_iter_no_change=2)"
    ) in closing
    assert closing.endswith(
        f"at iteration {clf.n_iter_ - 3}: its weights were restored."
    )
    # Stopped by max_iter: the last line of the scores is printed too.
    clf = fit_quietly(CGMLPClassifier(max_iter=8, **params), X, y)
    closing = verbose_story(clf, capsys.readouterr().out)
    assert "Stopped after 8 iterations: reached max_iter=8." in closing


def test_verbose_regressor_with_early_stopping(capsys, verbose_story):
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    reg = fit_quietly(
        CGMLPRegressor(hidden_layer_sizes=(10,), early_stopping=True, verbose=True,
                       max_iter=30, random_state=0),
        X, y / y.std(),
    )  # fmt: skip
    verbose_story(reg, capsys.readouterr().out)


# ------------------------------------------------------------ class weights
def test_class_weight_equals_the_corresponding_sample_weight():
    X, y = DIGITS["multiclass"]
    params = dict(hidden_layer_sizes=(5,), random_state=0, max_iter=30)
    for class_weight in ["balanced", {0: 1.0, 1: 3.0, 2: 0.5}]:
        a = fit_quietly(CGMLPClassifier(class_weight=class_weight, **params), X, y)
        sw = compute_sample_weight(class_weight, y)
        b = fit_quietly(CGMLPClassifier(**params), X, y, sample_weight=sw)
        np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])


def test_class_weight_multiplies_sample_weight():
    X, y = DIGITS["multiclass"]
    rng = np.random.RandomState(0)
    sw = rng.uniform(0.5, 2, len(y))
    params = dict(hidden_layer_sizes=(5,), random_state=0, max_iter=30)
    a = fit_quietly(
        CGMLPClassifier(class_weight="balanced", **params), X, y, sample_weight=sw
    )
    b = fit_quietly(
        CGMLPClassifier(**params),
        X,
        y,
        sample_weight=sw * compute_sample_weight("balanced", y),
    )
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-12)


def test_balanced_class_weight_raises_minority_recall():
    X, y = make_classification(
        n_samples=600, weights=[0.95], flip_y=0.02, class_sep=0.5, random_state=3
    )
    params = dict(hidden_layer_sizes=(5,), alpha=1.0, random_state=0)
    plain = fit_quietly(CGMLPClassifier(**params), X, y)
    balanced = fit_quietly(CGMLPClassifier(class_weight="balanced", **params), X, y)
    minority = y == 1
    recall = lambda clf: np.mean(clf.predict(X[minority]) == 1)  # noqa: E731
    assert recall(balanced) > recall(plain)


# ----------------------------------------------------- progress, callbacks
# A scoring monitor, a callback that stops the fit and a progress bar, on
# both estimators: test_estimators.py.
# Only these tests need scikit-learn >= 1.9; a module-level importorskip would
# skip the whole file (early stopping, class weights) at the dependency floors.
try:
    import sklearn.callback as sklearn_callback
except ImportError:
    sklearn_callback = None
needs_callbacks = pytest.mark.skipif(
    sklearn_callback is None, reason="scikit-learn<1.9: no sklearn.callback"
)


@needs_callbacks
def test_failed_fit_still_tears_callbacks_down():
    X, y = DIGITS["multiclass"]
    monitor = sklearn_callback.ScoringMonitor(scoring="accuracy")
    clf = CGMLPClassifier(early_stopping=True, validation_fraction=0.01)
    with pytest.raises(ValueError):
        clf.set_callbacks(monitor).fit(X, y)
    assert not hasattr(clf, "_callback_fit_ctx")
    assert not hasattr(clf, "_skl_callbacks_to_teardown")


class RecordData:
    """A FitCallback that records the data its hooks are handed."""

    def __init__(self):
        self.data = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self.data.append((context.task_name, X, y))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None):
        self.data.append((context.task_name, X, y))
        return False


@needs_callbacks
def test_callbacks_are_handed_the_training_part_of_an_early_stopping_split(
    noisy, monkeypatch
):
    X, y = noisy
    validation = []
    score = CGMLPClassifier._score_model

    def spy(self, attributes, validation_set):
        validation.append(validation_set.X)
        return score(self, attributes, validation_set)

    monkeypatch.setattr(CGMLPClassifier, "_score_model", spy)
    recorder = RecordData()
    clf = CGMLPClassifier(
        hidden_layer_sizes=(5,),
        early_stopping=True,
        validation_fraction=0.2,
        max_iter=5,
        random_state=0,
    )
    fit_quietly(clf.set_callbacks(recorder), X, y)
    handed = [(task, X_fit, y_fit) for task, X_fit, y_fit in recorder.data
              if X_fit is not None]  # fmt: skip
    # The fit begun and ended, every iteration begun and ended, and the
    # subtask begun after the last iteration (which ends without data).
    assert {task for task, _, _ in handed} == {"fit", "iteration"}
    assert len(handed) == 2 + 2 * clf.n_iter_ + 1
    rows = {row.tobytes() for row in X}
    validation_rows = {row.tobytes() for row in validation[0]}
    assert len(validation_rows) == 80 and validation_rows <= rows
    for _, X_fit, y_fit in handed:
        assert X_fit.shape == (320, X.shape[1]) and y_fit.shape[0] == 320
        training_rows = {row.tobytes() for row in X_fit}
        assert training_rows == rows - validation_rows


@needs_callbacks
def test_scoring_monitor_with_early_stopping_scores_the_training_part():
    X, y = DIGITS["multiclass"]
    monitor = sklearn_callback.ScoringMonitor(scoring="accuracy")
    clf = CGMLPClassifier(
        hidden_layer_sizes=(10,), early_stopping=True, max_iter=15, random_state=0
    )
    fit_quietly(clf.set_callbacks(monitor), X, y)
    iterations = [r for r in monitor.get_logs().data if r["task_name"] == "iteration"]
    assert len(iterations) == clf.n_iter_
    assert all(0 <= r["accuracy"] <= 1 for r in iterations)


# ------------------------------------------- interrupts that must propagate
# (An interrupt after accepted iterations keeps them, or propagates with
# on_interrupt="raise": test_estimators.py, on both estimators.)
def _regression_case():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X[:200]), (y[:200] - 150) / 75


ESTIMATORS = {
    "classifier": (CGMLPClassifier, lambda: DIGITS["multiclass"]),
    "regressor": (CGMLPRegressor, _regression_case),
}


def interrupt_evaluation(monkeypatch, evaluation, fit=1):
    """Raise KeyboardInterrupt at the given loss evaluation (1 = the initial
    weights) of the given fit (counted from 1)."""
    original = SciPyObjective._evaluate
    fits = []

    def evaluate(self, x, *args):
        if self.n_evals == 0:
            fits.append(self)
        if len(fits) == fit and self.n_evals + 1 == evaluation:
            raise KeyboardInterrupt
        return original(self, x, *args)

    monkeypatch.setattr(SciPyObjective, "_evaluate", evaluate)


def state_of(est):
    weights = [a.tobytes() for a in getattr(est, "coefs_", [])]
    return dict(vars(est)), weights


def assert_as_before(est, state):
    attributes, weights = state
    assert vars(est).keys() == attributes.keys()
    assert all(vars(est)[k] is v for k, v in attributes.items())
    assert state_of(est)[1] == weights
    if not weights:
        with pytest.raises(NotFittedError):
            check_is_fitted(est)


def fresh_and_fitted(kind, **params):
    """A fresh estimator, and one fitted with other data (other weights)."""
    Estimator, data = ESTIMATORS[kind]
    X, y = data()
    fitted = fit_quietly(
        Estimator(hidden_layer_sizes=(3,), max_iter=5, random_state=1), X, y
    )
    fitted.set_params(hidden_layer_sizes=(10,), max_iter=200, random_state=0, **params)
    fresh = Estimator(hidden_layer_sizes=(10,), random_state=0, **params)
    return (fresh, fitted), X, y


@pytest.mark.parametrize("evaluation", [1, 2])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_an_interrupt_before_the_first_iteration_propagates(
    kind, solver, evaluation, monkeypatch
):
    # It was swallowed: the estimator was "fitted" with random initial weights.
    (fresh, fitted), X, y = fresh_and_fitted(kind, solver=solver)
    for est in (fresh, fitted):
        interrupt_evaluation(monkeypatch, evaluation)
        state = state_of(est)
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, y)
        assert_as_before(est, state)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_on_interrupt_raise_reraises_and_leaves_the_estimator_as_it_was(
    kind, solver, monkeypatch
):
    (fresh, fitted), X, y = fresh_and_fitted(kind, solver=solver, on_interrupt="raise")
    for est in (fresh, fitted):
        # Interrupt after iterations were accepted: "keep" would keep them.
        interrupt_evaluation(monkeypatch, 8)
        state = state_of(est)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # none "interrupted"
            with pytest.raises(KeyboardInterrupt):
                est.fit(X, y)
        assert_as_before(est, state)
    # The same interrupt with "keep" ends the fit with iterations kept.
    fresh.set_params(on_interrupt="keep")
    interrupt_evaluation(monkeypatch, 8)
    with pytest.warns(UserWarning, match="interrupted by the user"):
        fresh.fit(X, y)
    assert fresh.n_iter_ > 0


GRID = {"alpha": [1e-4, 1e-2]}


def grid_search(**params):
    X, y = DIGITS["multiclass"]
    return (
        GridSearchCV(
            CGMLPClassifier(
                hidden_layer_sizes=(5,), max_iter=20, random_state=0, **params
            ),
            GRID,
            cv=3,
            n_jobs=1,
        ),
        X,
        y,
    )


def test_grid_search_stops_on_an_interrupt_before_the_first_iteration(monkeypatch):
    # The interrupted fit, with random initial weights, used to be scored and
    # could change best_params_.
    search, X, y = grid_search()
    interrupt_evaluation(monkeypatch, 2, fit=3)
    with pytest.raises(KeyboardInterrupt):
        fit_quietly(search, X, y)
    assert not hasattr(search, "best_params_")


def test_grid_search_with_on_interrupt_raise_stops_on_any_interrupt(monkeypatch):
    search, X, y = grid_search(on_interrupt="raise")
    interrupt_evaluation(monkeypatch, 8, fit=3)
    with pytest.raises(KeyboardInterrupt):
        fit_quietly(search, X, y)
    assert not hasattr(search, "best_params_")
    # With "keep", an interrupt after some iterations ends that one fit only.
    search.set_params(estimator__on_interrupt="keep")
    interrupt_evaluation(monkeypatch, 8, fit=3)
    with pytest.warns(UserWarning, match="interrupted by the user"):
        fit_quietly(search, X, y)
    assert search.best_params_ in [{"alpha": a} for a in GRID["alpha"]]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_an_interrupt_in_early_stopping_scoring_keeps_the_records_aligned(
    kind, solver, monkeypatch
):
    Estimator, data = ESTIMATORS[kind]
    X, y = data()
    calls = []
    original = Estimator._score_model

    def score(self, *args):
        calls.append(1)
        if len(calls) == 4:  # while scoring the 4th iteration
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(Estimator, "_score_model", score)
    est = Estimator(
        hidden_layer_sizes=(10,), solver=solver, early_stopping=True, random_state=0
    )
    with pytest.warns(UserWarning, match="interrupted by the user after 3 iter"):
        est.fit(X, y)
    assert est.n_iter_ == len(est.loss_curve_) == len(est.validation_scores_) == 3
    best = int(np.argmax(est.validation_scores_))
    assert est.best_validation_score_ == est.validation_scores_[best]
    assert est.loss_ == est.loss_curve_[best]


def test_verbose_closing_line_of_a_one_iteration_fit(noisy, capsys, verbose_story):
    X, y = noisy
    clf = fit_quietly(
        CGMLPClassifier(hidden_layer_sizes=(5,), early_stopping=True, verbose=True,
                        max_iter=1, random_state=0),
        X, y,
    )  # fmt: skip
    closing = verbose_story(clf, capsys.readouterr().out)
    assert closing == (
        "Stopped after 1 iteration: reached max_iter=1. Best validation score "
        f"{clf.best_validation_score_:.6f} at iteration 1, the last: its weights "
        "are kept."
    )
