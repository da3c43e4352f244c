"""Every warning the package raises names the user's line.

The line that called ``fit`` directly, the ``pipe.fit(...)`` or
``search.fit(...)`` that fitted the estimator on the user's behalf, or the
line that loaded a pickle: never a frame inside this package, scikit-learn or
joblib, and never ``sys:1``.
"""

import pickle
import sys
import warnings

import joblib
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_cgmlp._persistence
from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor, InconsistentVersionWarning
from sklearn_cgmlp._warn import user_stacklevel


@pytest.fixture(scope="module")
def data():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def short_fit():
    # Stops at max_iter: a ConvergenceWarning.
    return CGMLPClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0)


class Recorder:
    """Record the warnings of a block, and the line the test marks."""

    def __enter__(self):
        self._catcher = warnings.catch_warnings(record=True)
        self.caught = self._catcher.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        return self._catcher.__exit__(*exc)

    def next_line(self):
        """Mark the caller's next line as the one the warning must name."""
        self.line = sys._getframe(1).f_lineno + 1

    def assert_named(self, category, *, line=None):
        found = [w for w in self.caught if issubclass(w.category, category)]
        assert found, f"no {category.__name__}: {self.caught}"
        for w in found:
            assert (w.filename, w.lineno) == (__file__, line or self.line), (
                f"{category.__name__} names {w.filename}:{w.lineno}"
            )


def test_convergence_warning_names_a_direct_fit(data):
    X, y = data
    with Recorder() as rec:
        rec.next_line()
        short_fit().fit(X, y)
    rec.assert_named(ConvergenceWarning)


def fit_in_a_function(est, X, y):
    line = sys._getframe().f_lineno + 1
    est.fit(X, y)
    return line


def test_convergence_warning_names_the_fit_inside_a_function(data):
    # Not the function's caller: the line that called fit.
    X, y = data
    with Recorder() as rec:
        line = fit_in_a_function(short_fit(), X, y)
    rec.assert_named(ConvergenceWarning, line=line)


def test_convergence_warning_names_the_pipeline_fit(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), short_fit())
    with Recorder() as rec:
        rec.next_line()
        pipe.fit(X, y)
    rec.assert_named(ConvergenceWarning)


def test_convergence_warning_names_the_search_fit(data):
    X, y = data
    search = GridSearchCV(short_fit(), {"alpha": [1e-4, 1e-2]}, cv=2, n_jobs=1)
    with Recorder() as rec:
        rec.next_line()
        search.fit(X, y)
    rec.assert_named(ConvergenceWarning)
    assert len(rec.caught) >= 5  # 2 candidates x 2 folds, and the refit


def test_regressor_warning_names_the_fit(data):
    X, _ = data
    reg = CGMLPRegressor(hidden_layer_sizes=(5,), max_iter=2, random_state=0)
    with Recorder() as rec:
        rec.next_line()
        reg.fit(X[:, :3], X[:, 3])
    rec.assert_named(ConvergenceWarning)


def test_interrupt_warning_names_the_fit(data, interrupt_gradient):
    X, y = data
    interrupt_gradient(6)
    with Recorder() as rec:
        rec.next_line()
        CGMLPClassifier(hidden_layer_sizes=(5,), random_state=0).fit(X, y)
    rec.assert_named(UserWarning)
    assert "interrupted by the user" in str(rec.caught[0].message)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    est = CGMLPClassifier(hidden_layer_sizes=(5,), random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture
def as_other_version(monkeypatch):
    """Run ``dump(*args)`` as another sklearn-cgmlp version would."""

    def dump(function, *args):
        with monkeypatch.context() as patch:
            patch.setattr(sklearn_cgmlp._persistence, "__version__", "0.0.0-other")
            return function(*args)

    return dump


@pytest.fixture
def foreign_pickle(fitted, as_other_version):
    return as_other_version(pickle.dumps, fitted)


def test_version_warning_names_pickle_loads(foreign_pickle):
    with Recorder() as rec:
        rec.next_line()
        pickle.loads(foreign_pickle)
    rec.assert_named(InconsistentVersionWarning)


def test_version_warning_names_joblib_load(foreign_pickle, tmp_path):
    path = tmp_path / "model.joblib"
    path.write_bytes(foreign_pickle)  # joblib.load reads plain pickles too
    with Recorder() as rec:
        rec.next_line()
        joblib.load(path)
    rec.assert_named(InconsistentVersionWarning)


def test_version_warning_names_skops_load(fitted, as_other_version, tmp_path):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    as_other_version(sio.dump, fitted, path)
    trusted = sio.get_untrusted_types(file=path)
    with Recorder() as rec:
        rec.next_line()
        sio.load(path, trusted=trusted)
    rec.assert_named(InconsistentVersionWarning)


def test_stacklevel_counts_the_internal_frames():
    # A frame outside the package is the user's own: level 1. A frame of the
    # package (here a function made to look like one) adds a level.
    assert user_stacklevel(sys._getframe()) == 1
    namespace = {"__name__": "sklearn_cgmlp._made_up", "sys": sys}
    exec("def inner():\n    return sys._getframe()\n", namespace)
    assert user_stacklevel(namespace["inner"]()) == 2


@pytest.mark.parametrize(
    "module", ["sklearn_cgmlp_experiments", "sklearnish", "joblib_jobs", "skops2"]
)
def test_user_modules_named_like_a_package_are_the_users(data, module, tmp_path,
                                                         monkeypatch):  # fmt: skip
    """Only the internal packages' own modules are skipped: a user module
    whose name merely starts with one (``sklearn_cgmlp_experiments``) is
    where the warning belongs."""
    (tmp_path / f"{module}.py").write_text(
        "def run(est, X, y):\n    est.fit(X, y)  # line 2\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    user = __import__(module)
    X, y = data
    with Recorder() as rec:
        user.run(short_fit(), X, y)
    found = [w for w in rec.caught if issubclass(w.category, ConvergenceWarning)]
    assert [(w.filename, w.lineno) for w in found] == [(user.__file__, 2)]
    # Its frames count as the user's: level 1.
    namespace = {"__name__": module, "sys": sys}
    exec("def inner():\n    return sys._getframe()\n", namespace)
    assert user_stacklevel(namespace["inner"]()) == 1
