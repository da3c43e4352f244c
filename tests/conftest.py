import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@pytest.fixture(scope="module")
def iris():
    """Iris, standardized: a small, well-conditioned multiclass problem."""
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="session")
def array_api_dispatch():
    """Skip unless scikit-learn's array API dispatch can be switched on here.

    It needs array-api-compat and SciPy's array API mode; without it fit never
    runs on other namespaces (and array-api-strict may not even work, e.g. on
    NumPy 1.x).
    """
    import sklearn

    try:
        with sklearn.config_context(array_api_dispatch=True):
            pass
    except (ImportError, RuntimeError) as exc:
        pytest.skip(f"no dispatch: {exc}")


@pytest.fixture
def interrupt_gradient(monkeypatch):
    """``interrupt_gradient(n)``: the n-th data-loss gradient computed from then
    on raises KeyboardInterrupt, as Ctrl-C in the middle of a fit does."""
    from sklearn_cgmlp._loss import MLPLoss

    original = MLPLoss.data_loss_gradient

    def arm(n):
        calls = []

        def interrupting(*args, **kwargs):
            calls.append(1)
            if len(calls) == n:
                raise KeyboardInterrupt
            return original(*args, **kwargs)

        monkeypatch.setattr(MLPLoss, "data_loss_gradient", interrupting)

    return arm


@pytest.fixture(scope="session")
def dask_client():
    """One two-worker LocalCluster (worker processes) for the whole run."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        silence_logs=40,
        # No dashboard, and the scheduler's HTTP endpoint on a free port: its
        # default, 8787, may be taken by another cluster on this machine, and
        # distributed then warns "Port 8787 is already in use".
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


def _write_npz_version_2(model, file):
    """What ``to_npz`` wrote in format version 2 (sklearn-cgmlp 0.1.0).

    A copy of that writer (checked byte for byte against it when format
    version 3 replaced it), so that the tests of reading old files do not
    depend on a stored binary fixture.
    """
    import json

    def plain(value):
        return value.item() if isinstance(value, np.generic) else value

    params = {}
    for name, value in model.get_params().items():
        if name == "hidden_layer_sizes":
            value = np.atleast_1d(np.asarray(value)).tolist()
        elif name == "class_weight" and isinstance(value, dict):
            value = {
                "__labels__": [plain(k) for k in value],
                "__weights__": [float(v) for v in value.values()],
            }
        elif name == "random_state" and not (
            value is None or isinstance(value, int | np.integer)
        ):
            value = None
        params[name] = plain(value)
    arrays, part = {}, {}
    if hasattr(model, "classes_"):
        classes = np.asarray(model.classes_)
        kind = "numeric"
        if classes.dtype.kind in "OUS":
            kind = "object" if classes.dtype.kind == "O" else "str"
            classes = classes.astype(str)
        part = {"classes_kind": kind, "target_type": model._target_type}
        arrays["classes"] = classes
    meta = {
        "format": "sklearn-cgmlp-npz",
        "format_version": 2,
        "package_version": "0.1.0",
        "estimator": type(model).__name__,
        "params": params,
        **part,
        "out_activation": model.out_activation_,
        "n_layers": int(model.n_layers_),
        "n_outputs": int(model.n_outputs_),
        "n_features_in": int(model.n_features_in_),
        "n_iter": int(model.n_iter_),
        "n_fun_evals": int(model.n_fun_evals_),
        "t": int(model.t_),
        "loss": float(model.loss_),
        "best_loss": plain(model.best_loss_),
        "loss_curve": [float(v) for v in model.loss_curve_],
        "validation_scores": model.validation_scores_,
        "best_validation_score": model.best_validation_score_,
    }
    arrays = {"metadata": np.array(json.dumps(meta)), **arrays}
    for i, (coef, intercept) in enumerate(zip(model.coefs_, model.intercepts_)):
        arrays[f"coef_{i}"] = np.asarray(coef)
        arrays[f"intercept_{i}"] = np.asarray(intercept)
    if hasattr(model, "feature_names_in_"):
        arrays["feature_names_in"] = np.asarray(model.feature_names_in_).astype(str)
    np.savez(file, **arrays)


@pytest.fixture(scope="session")
def write_npz_version_2():
    """A function ``(model, file)`` that writes a format-version-2 export."""
    return _write_npz_version_2


def _check_verbose_story(est, out):
    """Check the lines ``verbose`` printed for the fit of ``est``: a header
    line, one line per iteration numbered from 1 (with its validation score
    under early stopping, the last one included), and a closing line that
    says why the fit stopped and, with early stopping, which iteration it
    kept. Returns the closing line."""
    import re

    lines = out.strip().splitlines()
    assert lines[0].startswith("Start: loss = "), lines[0]
    iterations, closing = lines[1:-1], lines[-1]
    numbers = [int(re.match(r"Iteration (\d+), loss = ", ln)[1]) for ln in iterations]
    assert numbers == list(range(1, est.n_iter_ + 1))
    n = est.n_iter_
    stopped = f"Stopped after {n} iteration{'' if n == 1 else 's'}: "
    assert closing.startswith(stopped), closing
    if not est.early_stopping:
        assert "validation" not in out
        return closing
    scores = [
        float(re.search(r", validation score = (\S+)$", ln)[1]) for ln in iterations
    ]
    np.testing.assert_allclose(scores, est.validation_scores_, rtol=0, atol=5e-7)
    best = int(np.argmax(est.validation_scores_)) + 1
    assert est.validation_scores_[best - 1] == est.best_validation_score_
    assert est.loss_ == est.loss_curve_[best - 1]
    assert f"Best validation score {est.best_validation_score_:.6f}" in closing
    if best < est.n_iter_:
        assert closing.endswith(f"at iteration {best}: its weights were restored.")
    else:
        assert closing.endswith(f"at iteration {best}, the last: its weights are kept.")
    return closing


@pytest.fixture(scope="session")
def verbose_story():
    """``verbose_story(est, out)``: check what a verbose fit of ``est``
    printed (see _check_verbose_story); returns its closing line."""
    return _check_verbose_story
