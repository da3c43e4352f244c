"""Evaluations and time for each solver to reach MLPClassifier's final loss.

``MLPClassifier(solver="lbfgs")`` and ``CGMLPClassifier`` minimise the same
objective (cross-entropy plus the same L2 term) from the same initial weights
(same ``random_state``); for the regression task ``MLPRegressor`` and
``CGMLPRegressor`` (squared error), "MLPClassifier" below standing for it. For
each task, data type and number of BLAS threads:

* MLPClassifier(solver="lbfgs") is fitted with its defaults (max_iter=200,
  tol=1e-4); its final training loss is the *target*. The losses 25% and 50% of
  the way from the initial loss to the target are intermediate levels.
* Each of our solvers is fitted with tol=0 and stopped at the first accepted
  iterate whose loss is at most the target (a hook on the solver's iteration
  book-keeping, equivalent to refitting with ``max_iter`` set to that
  iteration: same seed, same trajectory). That fit is the timed one, and its
  model gives the test accuracy "at the target". A fit that has not reached
  the target after ``3 * MLPClassifier's iterations + 20`` iterations, or
  once its cost-weighted evaluations (below; set-ups and products weighed at
  most 1 evaluation each) exceed ``--work-cap`` (6) times MLPClassifier's
  evaluations, is stopped and reported as "not reached", with the lowest loss
  it got to. Counting work rather than time keeps the bound steady on a
  shared machine; and one of our evaluations costs at least a third of one of
  MLPClassifier's (float32, see bench_evaluation.py), so a fit stopped there
  would miss the time targets anyway.
* Evaluations (loss+gradient calls) are counted at each accepted iterate:
  ours by the objective's own counter, MLPClassifier's by wrapping its
  ``_loss_grad_lbfgs`` (and a SciPy callback for its iterates). Newton solvers
  also make curvature products (``CurvatureProduct.dot``), each at a point whose
  forward pass is computed once (``CurvatureProduct`` set-up); both are counted
  and converted to evaluations with their cost relative to one evaluation,
  measured at the initial weights in the same run, each the fastest of up to
  21 interleaved calls ("cost-weighted").
* Times are medians over interleaved repeats (MLPClassifier, cg, cg-full,
  newton-cg, trust-ncg, lbfgs, MLPClassifier, ...); MLPClassifier's is its full
  default fit, i.e. its time to its own final loss.
* "cg" is the default fit, whose line searches run on cached first-layer
  products where the rule of ``sklearn_cgmlp._line.line_pays`` says they pay;
  "cg-full" is the same fit with every trial a full evaluation (the rule
  forced off), and "cg-cached" with the cache forced on; "cg c2=..." varies the
  line search's curvature condition (``--c2``). For CG the tables also give
  the cached trials per iteration and the cost of an iteration in evaluations
  (time per iteration over the time of one evaluation at the initial
  weights).

Both sides run at equal BLAS threads: ``threadpool_limits(n)`` limits every
BLAS library loaded, NumPy's and SciPy's bundled OpenBLAS alike (printed).
Inside its fit CGMLPClassifier additionally runs SciPy's own OpenBLAS on one
thread (``sklearn_cgmlp._threads.BlasThreads.scipy_single_thread``); that is part of
what is measured. Above 1 thread MLPClassifier is therefore timed twice per
repeat: as it is, and with SciPy's OpenBLAS on one thread as ours runs it.

Run ``python benchmarks/bench_fit.py`` (about an hour on a quiet 2-core
machine: 2 thread counts x 2 dtypes x 8 tasks x 3 repeats; ``--repeats 2``,
``--tasks`` or ``--solvers`` shorten it); ``--quick`` is a smoke test (smaller
tasks, 1 thread, one repeat, a few minutes).
"""

import argparse
import os
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
from _common import blas_threads, machine_summary, print_table
from scipy import sparse
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer, StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_cgmlp import (
    CGMLPClassifier,
    CGMLPRegressor,
    _adapters,
    _hessian,
    _line,
    _solvers,
)
from sklearn_cgmlp._data import TrainingData
from sklearn_cgmlp._layout import ParameterLayout
from sklearn_cgmlp._layout import glorot_init as _glorot_init
from sklearn_cgmlp._loss import MLPLoss
from sklearn_cgmlp._ops import NUMPY
from sklearn_cgmlp._threads import BlasThreads

SOLVERS = ["cg", "cg-full", "newton-cg", "trust-ncg", "lbfgs"]
CG_VARIANTS = ("cg", "cg-full", "cg-cached")  # and "cg c2=..." (--c2)
NEWTON = ("newton-cg", "trust-ncg")
REFERENCE = "MLPClassifier lbfgs"
# Above 1 thread, MLPClassifier is also timed with SciPy's own OpenBLAS on one
# thread, as CGMLPClassifier.fit runs it: with both libraries at n threads,
# SciPy's idle L-BFGS-B threads compete with NumPy's for the cores.
REFERENCE_SCIPY1 = "MLPClassifier lbfgs, SciPy's BLAS 1 thread"
LEVELS = (0.25, 0.5, 1.0)
TARGETS = {"float32": 1.0, "float64": 1.3}


# ---------------------------------------------------------------- tasks
@dataclass
class Task:
    name: str
    hidden: tuple
    activation: str
    alpha: float
    load: object  # load(quick) -> X, y, description
    note: str = ""
    kind: str = "classifier"  # or "regressor"


def _digits(quick):
    X, y = load_digits(return_X_y=True)
    return X, y, f"digits {X.shape[0]} x {X.shape[1]}"


def _mnist1d_like(quick):
    n = 1000 if quick else 4000
    X, y = make_classification(
        n_samples=n,
        n_features=40,
        n_informative=30,
        n_classes=10,
        n_clusters_per_class=1,
        random_state=0,
    )
    return X, y, f"make_classification {n} x 40, 10 classes"


def _synthetic(quick):
    n = 4000 if quick else 20000
    X, y = make_classification(n, 50, n_informative=30, n_classes=5, random_state=0)
    return X, y, f"make_classification {n} x 50, 5 classes"


def _cifar_shaped(quick):
    n = 1000 if quick else 5000
    X, y = make_classification(
        n,
        3072,
        n_informative=200,
        n_classes=10,
        n_clusters_per_class=1,
        random_state=0,
    )
    return X, y, f"make_classification {n} x 3072, 10 classes"


def _sparse_wide(quick):
    """Bag-of-words-like CSR counts, about 60 words per row out of 30,000
    (density 0.002): each of 5 classes draws a third of its words from a
    vocabulary of its own, the rest from all words."""
    n, d, k, words = (2000 if quick else 10000), 30000, 5, 60
    rng = np.random.default_rng(0)
    y = rng.integers(k, size=n)
    own = rng.random((n, words)) < 1 / 3
    vocab = rng.permutation(d)[: k * 2000].reshape(k, 2000)
    cols = np.where(
        own, vocab[y[:, None], rng.integers(2000, size=(n, words))],
        rng.integers(d, size=(n, words)),
    )  # fmt: skip
    rows = np.repeat(np.arange(n), words)
    X = sparse.csr_matrix((np.ones(n * words), (rows, cols.ravel())), shape=(n, d))
    X.sum_duplicates()
    return X, y, f"sparse CSR {n} x {d}, density {X.nnz / n / d:.4f}, {k} classes"


def _regression_wide(quick):
    n = 1000 if quick else 4000
    X, y = make_regression(n, 2000, n_informative=200, noise=20.0, random_state=0)
    return X, y, f"make_regression {n} x 2000, 200 informative"


TASKS = [
    Task("digits-relu", (64,), "relu", 1e-4, _digits),
    Task("digits-tanh", (64,), "tanh", 1e-4, _digits),
    Task(
        "mnist1d-like",
        (100, 100),
        "relu",
        1.0,
        _mnist1d_like,
        note="MNIST-1D-style substitute: make_classification(4000, 40, "
        "n_informative=30, 10 classes), not the mnist1d package",
    ),
    Task("synthetic-20k", (100,), "tanh", 1e-4, _synthetic),
    Task("cifar-shaped", (200,), "logistic", 1e-4, _cifar_shaped),
    Task("sparse-wide", (100,), "relu", 1e-4, _sparse_wide),
    Task("regression-wide", (100,), "tanh", 1e-2, _regression_wide, kind="regressor"),
]


def split(X, y, dtype, kind="classifier"):
    """75/25 split (stratified for classes); StandardScaler fitted on the
    training part (scaling only, for sparse data), standardised targets for
    regression."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y if kind == "classifier" else None,
        random_state=0,
    )  # fmt: skip
    scaler = StandardScaler(with_mean=not sparse.issparse(X)).fit(X_train)
    X_train = scaler.transform(X_train).astype(dtype)
    X_test = scaler.transform(X_test).astype(dtype)
    if kind == "regressor":
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    return X_train, X_test, y_train, y_test


# -------------------------------------------------------- instrumentation
@dataclass
class Trace:
    """What one fit did, one entry per accepted iterate."""

    initial_loss: float = np.nan
    # (iteration, evaluations, curvature set-ups, curvature products, loss,
    #  cached line trials)
    iterates: list = field(default_factory=list)

    def first_at_or_below(self, level):
        for entry in self.iterates:
            if entry[4] <= level:
                return entry
        return None


class _Counters:
    """Counts our curvature set-ups and products; traces our iterates."""

    def __init__(self):
        self.setups = 0
        self.products = 0
        self.trace = None  # the Trace of the fit being run
        self.stop_at = None  # stop our solver at the first loss <= this
        # or once its cost-weighted evaluations pass this
        self.max_work = None
        self.weights = (1.0, 1.0)  # of a curvature set-up and a product
        self.hit_work_cap = False


COUNTERS = _Counters()


@contextmanager
def instrumented():
    """Wrap the private methods the counts come from, for the whole run.

    The wrappers cost one Python call per evaluation, product or iterate, the
    same in every timed fit.
    """
    product_cls = _hessian.CurvatureProduct
    original_init, original_dot = product_cls.__init__, product_cls.dot
    original_accept = _solvers._Run.accept

    def init(self, *args, **kwargs):
        COUNTERS.setups += 1
        original_init(self, *args, **kwargs)

    def dot(self, *args, **kwargs):
        COUNTERS.products += 1
        return original_dot(self, *args, **kwargs)

    def accept(self, x, loss, gnorm):
        n_before = len(self.loss_curve)
        stop = original_accept(self, x, loss, gnorm)
        trace = COUNTERS.trace
        if trace is not None and len(self.loss_curve) > n_before:
            trace.iterates.append(
                (
                    len(self.loss_curve),
                    self.objective.n_evals,
                    COUNTERS.setups,
                    COUNTERS.products,
                    float(loss),
                    self.objective.n_trials,
                )
            )
        if stop or COUNTERS.stop_at is None:
            return stop
        if loss <= COUNTERS.stop_at:
            self.reason = "stopped"  # what a user's stopping hook would give
            return True
        if (
            COUNTERS.max_work is not None
            and self.objective.n_evals
            + COUNTERS.weights[0] * COUNTERS.setups
            + COUNTERS.weights[1] * COUNTERS.products
            > COUNTERS.max_work
        ):
            COUNTERS.hit_work_cap = True
            self.reason = "stopped"
            return True
        return False

    product_cls.__init__, product_cls.dot = init, dot
    _solvers._Run.accept = accept
    try:
        yield
    finally:
        product_cls.__init__, product_cls.dot = original_init, original_dot
        _solvers._Run.accept = original_accept


@contextmanager
def mlp_traced(mlp, trace):
    """Count MLPClassifier's evaluations and record its L-BFGS iterates."""
    evals = [0]
    original_loss_grad = mlp._loss_grad_lbfgs
    original_minimize = scipy.optimize.minimize

    def loss_grad(*args, **kwargs):
        loss, grad = original_loss_grad(*args, **kwargs)
        if evals[0] == 0:
            trace.initial_loss = float(loss)
        evals[0] += 1
        return loss, grad

    def callback(intermediate_result):
        it = len(trace.iterates) + 1
        trace.iterates.append((it, evals[0], 0, 0, float(intermediate_result.fun), 0))

    def minimize(*args, **kwargs):
        kwargs["callback"] = callback
        return original_minimize(*args, **kwargs)

    mlp._loss_grad_lbfgs = loss_grad  # the bound method SciPy is handed
    scipy.optimize.minimize = minimize  # MLPClassifier calls it via the module
    try:
        yield evals
    finally:
        scipy.optimize.minimize = original_minimize
        del mlp._loss_grad_lbfgs


def timed_fit(est, X, y):
    """Wall time of ``est.fit``; ConvergenceWarning is expected here (tol=0,
    or MLPClassifier reaching max_iter) and silenced for this fit only."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    return time.perf_counter() - start


# ---------------------------------------------------- curvature cost ratio
def _interleaved_fastest(funcs, min_rounds=5, max_rounds=21, max_seconds=3.0):
    """Fastest time of each function, calling them in turn (a round each) so
    that a slow spell of a shared machine hits all of them alike; the fastest
    call is the one least disturbed by other work."""
    for func in funcs:
        func()  # warm-up
    times = [[] for _ in funcs]
    start = time.perf_counter()
    while len(times[0]) < max_rounds and (
        len(times[0]) < min_rounds or time.perf_counter() - start < max_seconds
    ):
        for func, record in zip(funcs, times):
            t0 = time.perf_counter()
            func()
            record.append(time.perf_counter() - t0)
    return [float(np.min(t)) for t in times], len(times[0])


def curvature_cost(task, X, y):
    """Time of one evaluation, and of a curvature set-up and product relative
    to it, at the initial weights, each as counted inside fit."""
    dtype = X.dtype
    if task.kind == "regressor":
        Y, output = y.reshape(-1, 1).astype(dtype), "identity"
    else:
        Y = LabelBinarizer().fit_transform(y).astype(dtype)
        output = "softmax" if Y.shape[1] > 1 else "logistic"
    layout = ParameterLayout([X.shape[1], *task.hidden, Y.shape[1]])
    # The objective a fit builds for this data (TrainingData.objective).
    data_objective = TrainingData(
        X, y, Y, None, stratify=None, fitted={}, ops=NUMPY
    ).objective(MLPLoss(layout, task.activation, output, task.alpha), chunk_size=None)
    objective = _adapters.SciPyObjective(data_objective)
    hessp = objective.hessp
    x0 = _glorot_init(layout, task.activation, 0)
    theta = x0.astype(dtype)
    v = np.random.default_rng(0).standard_normal(layout.n_params)
    hessp(x0, v)  # sets up the product at x0
    (t_eval, t_setup, t_dot), rounds = _interleaved_fastest(
        [
            lambda: objective.evaluate(x0),
            lambda: data_objective.curvature(theta),  # forward pass, once per point
            lambda: hessp(x0, v),  # per product: cast, dot, finiteness check
        ]
    )
    data_objective.close()
    return {
        "eval_ms": 1e3 * t_eval,
        "setup": t_setup / t_eval,
        "product": t_dot / t_eval,
        "rounds": rounds,
    }


# ------------------------------------------------------------- one task
@dataclass
class Result:
    """Figures of one estimator on one task, dtype and thread count."""

    label: str
    levels: dict = field(default_factory=dict)  # fraction -> trace entry
    times: list = field(default_factory=list)
    iterations_seen: set = field(default_factory=set)
    accuracy: float = np.nan
    budget: int = 0
    best_loss: float = np.inf  # lowest loss of a fit that missed the target
    stopped_by: str = ""  # why such a fit stopped
    final_ratio: float = 1.0  # a reference's final loss / the target

    @property
    def reached(self):
        return self.levels.get(1.0) is not None

    def weighted(self, level, cost):
        entry = self.levels.get(level)
        if entry is None:
            return np.nan
        _, evals, setups, products, _, _ = entry
        return evals + cost["setup"] * setups + cost["product"] * products


def level_losses(initial, target):
    # The target itself exactly: initial - (initial - target) may round above it.
    return {f: target if f == 1.0 else initial - f * (initial - target) for f in LEVELS}


@contextmanager
def cg_variant(label):
    """The line mode or curvature condition of a CG variant, for one fit."""
    pays, c2 = _line.line_pays, _solvers.CG_LINE_SEARCH_C2
    if label == "cg-full":
        _line.line_pays = lambda *args, **kwargs: False
    elif label == "cg-cached":
        _line.line_pays = lambda *args, **kwargs: True
    elif label.startswith("cg c2="):
        _solvers.CG_LINE_SEARCH_C2 = float(label.removeprefix("cg c2="))
    try:
        yield
    finally:
        _line.line_pays, _solvers.CG_LINE_SEARCH_C2 = pays, c2


def run_task(task, data, repeats, work_cap, log, scipy1_reference=False,
             solvers=SOLVERS):  # fmt: skip
    X_train, X_test, y_train, y_test = data
    params = dict(
        hidden_layer_sizes=task.hidden,
        activation=task.activation,
        alpha=task.alpha,
        random_state=0,
    )
    cost = curvature_cost(task, X_train, y_train)
    results = {REFERENCE: Result(REFERENCE)}
    if scipy1_reference:
        results[REFERENCE_SCIPY1] = Result(REFERENCE_SCIPY1)
    results.update({s: Result(s) for s in solvers})
    info = {"cost": cost}
    Reference = MLPRegressor if task.kind == "regressor" else MLPClassifier
    Ours = CGMLPRegressor if task.kind == "regressor" else CGMLPClassifier

    for repeat in range(repeats):
        # MLPClassifier's full default fit: its time to its own final loss.
        mlp = Reference(solver="lbfgs", **params)
        trace = Trace()
        with mlp_traced(mlp, trace) as evals:
            elapsed = timed_fit(mlp, X_train, y_train)
        ref = results[REFERENCE]
        ref.times.append(elapsed)
        ref.iterations_seen.add(mlp.n_iter_)
        if repeat == 0:
            target = float(mlp.loss_)
            levels = level_losses(trace.initial_loss, target)
            ref.levels = {f: trace.first_at_or_below(lv) for f, lv in levels.items()}
            ref.accuracy = mlp.score(X_test, y_test)
            ref.budget = mlp.max_iter
            info.update(
                target=target,
                initial=trace.initial_loss,
                mlp_iter=mlp.n_iter_,
                mlp_evals=evals[0],
                mlp_converged=mlp.n_iter_ < mlp.max_iter,
            )
            budget = 3 * mlp.n_iter_ + 20
        log(f"{task.name} repeat {repeat + 1}: MLPClassifier {elapsed:.2f} s")

        if scipy1_reference:
            mlp = Reference(solver="lbfgs", **params)
            trace = Trace()
            with mlp_traced(mlp, trace), BlasThreads().scipy_single_thread():
                elapsed = timed_fit(mlp, X_train, y_train)
            res = results[REFERENCE_SCIPY1]
            res.times.append(elapsed)
            res.iterations_seen.add(mlp.n_iter_)
            if repeat == 0:
                # Its time is that of its full fit, to its own final loss: the
                # thread count can change the rounding, and after many
                # iterations the end point.
                own = float(mlp.loss_)
                res.levels = {
                    f: trace.first_at_or_below(own if f == 1.0 else lv)
                    for f, lv in levels.items()
                }
                res.final_ratio = own / target
                res.accuracy = mlp.score(X_test, y_test)
                res.budget = mlp.max_iter
            log(
                f"{task.name} repeat {repeat + 1}: MLPClassifier, SciPy's BLAS 1 "
                f"thread {elapsed:.2f} s"
            )

        for label in solvers:
            res = results[label]
            if repeat > 0 and not res.reached:
                continue  # a fit that ran out of budget is not repeated
            solver = "cg" if label.startswith("cg") else label
            est = Ours(solver=solver, max_iter=budget, tol=0.0, **params)
            trace = Trace()
            COUNTERS.trace, COUNTERS.stop_at = trace, target
            COUNTERS.setups = COUNTERS.products = 0
            COUNTERS.hit_work_cap = False
            if repeat == 0:  # repeats only rerun fits that reached the target
                COUNTERS.max_work = work_cap * info["mlp_evals"]
                COUNTERS.weights = (min(cost["setup"], 1.0), min(cost["product"], 1.0))
            try:
                with cg_variant(label):
                    elapsed = timed_fit(est, X_train, y_train)
            finally:
                COUNTERS.trace = COUNTERS.stop_at = COUNTERS.max_work = None
            res.times.append(elapsed)
            res.iterations_seen.add(est.n_iter_)
            if repeat == 0:
                res.levels = {
                    f: trace.first_at_or_below(lv) for f, lv in levels.items()
                }
                res.accuracy = est.score(X_test, y_test)
                res.budget = budget
                if trace.iterates:
                    res.best_loss = min(e[4] for e in trace.iterates)
                res.stopped_by = (
                    f"{work_cap:g}x MLPClassifier's evaluations (cost-weighted)"
                    if COUNTERS.hit_work_cap
                    else f"the budget of {budget} iterations"
                    if est.n_iter_ >= budget
                    else f"the solver's own stop after {est.n_iter_} iterations"
                )
            log(
                f"{task.name} repeat {repeat + 1}: {label} {elapsed:.2f} s, "
                f"{est.n_iter_} iterations"
            )
    return results, info


# ---------------------------------------------------------------- output
def _fmt(value, spec=".0f"):
    return "-" if value is None or not np.isfinite(value) else format(value, spec)


def detail_rows(task, results, info):
    cost = info["cost"]
    t_ref = float(np.median(results[REFERENCE].times))
    scipy1 = REFERENCE_SCIPY1 in results
    if scipy1:
        t_ref1 = float(np.median(results[REFERENCE_SCIPY1].times))
    rows = []
    for label, res in results.items():
        newton = label in NEWTON
        evals = [
            _fmt(res.levels[f][1]) if res.levels.get(f) else "not reached"
            for f in LEVELS
        ]
        if not res.reached:
            rows.append(
                [task.name, label, *evals, "-", "-", "-", "-", "-", "-"]
                + [
                    f"not reached: stopped at {res.stopped_by} ({res.times[0]:.2f} "
                    f"s), best loss {res.best_loss:.5g} "
                    f"({res.best_loss / info['target']:.4g}x the target)",
                    f"> {res.times[0] / t_ref:.2f}",
                ]
                + ([f"> {res.times[0] / t_ref1:.2f}"] if scipy1 else [])
                + ["-"]
            )
            continue
        n_iter, n_evals, setups, products, _, trials = res.levels[1.0]
        t = float(np.median(res.times))
        iters = str(n_iter)
        if label.startswith(REFERENCE):
            iters = f"{n_iter} (of {max(res.iterations_seen)})"
            if res.final_ratio != 1.0:
                iters += f", to its own final loss, {res.final_ratio:.6g}x the target"
        if len(res.iterations_seen) > 1:
            iters += f", varied over repeats: {sorted(res.iterations_seen)}"
        rows.append(
            [
                task.name,
                label,
                *evals,
                f"{setups} + {products}" if newton else "-",
                _fmt(res.weighted(1.0, cost)) if newton else str(n_evals),
                iters,
                f"{n_evals / n_iter:.2f}",
                f"{trials / n_iter:.2f}" if label.startswith("cg") else "-",
                iteration_cost(t, n_iter, cost),
                f"{t:.2f}",
                f"{t / t_ref:.2f}",
            ]
            + ([f"{t / t_ref1:.2f}"] if scipy1 else [])
            + [f"{res.accuracy:.4f}"]
        )
    return rows


def iteration_cost(t, n_iter, cost):
    """Time per iteration in evaluations (at the initial weights)."""
    return f"{1e3 * t / n_iter / cost['eval_ms']:.2f}"


def summary_cells(results, info, label):
    """Evals / MLPClassifier's, evals and trials per iteration, iteration cost
    in evaluations, time / MLPClassifier (and time / MLPClassifier with SciPy's
    BLAS at 1 thread, above 1 thread)."""
    res, ref = results[label], results[REFERENCE]
    refs = [REFERENCE] + ([REFERENCE_SCIPY1] if REFERENCE_SCIPY1 in results else [])
    t_refs = [float(np.median(results[r].times)) for r in refs]
    if not res.reached:
        best = res.best_loss / info["target"]
        return [f"not reached (best loss {best:.4g}x the target)", "-", "-", "-"] + [
            f"> {res.times[0] / t:.2f}" for t in t_refs
        ]
    cost = info["cost"]
    n_iter, n_evals = res.levels[1.0][:2]
    trials = res.levels[1.0][5]
    weighted = res.weighted(1.0, cost) if label in NEWTON else n_evals
    t = float(np.median(res.times))
    return [
        f"{weighted / ref.levels[1.0][1]:.2f}",
        f"{n_evals / n_iter:.2f}",
        f"{trials / n_iter:.2f}" if label.startswith("cg") else "-",
        iteration_cost(t, n_iter, cost),
    ] + [f"{t / t_ref:.2f}" for t_ref in t_refs]


def marginal_iteration_cost(task, data, labels, short, long, repeats, log):
    """The cost of one CG iteration in evaluations, without a fit's fixed
    costs: fits of ``short`` and ``long`` iterations (tol=0), timed in
    turns, the difference of their median times over the difference of
    their iterations, against the time of one evaluation at the initial
    weights (the fastest of interleaved calls)."""
    X_train, _, y_train, _ = data
    cost = curvature_cost(task, X_train, y_train)
    Ours = CGMLPRegressor if task.kind == "regressor" else CGMLPClassifier
    params = dict(hidden_layer_sizes=task.hidden, activation=task.activation,
                  alpha=task.alpha, random_state=0, tol=0.0)  # fmt: skip
    times = {(label, n): [] for label in labels for n in (short, long)}
    fits = {}
    for _ in range(repeats):
        for label in labels:
            for n in (short, long):
                est = Ours(max_iter=n, **params)
                with cg_variant(label):
                    times[label, n].append(timed_fit(est, X_train, y_train))
                fits[label, n] = est
    rows = []
    for label in labels:
        a, b = fits[label, short], fits[label, long]
        iters = b.n_iter_ - a.n_iter_
        t = float(np.median(times[label, long]) - np.median(times[label, short]))
        rows.append([
            task.name, label, f"{a.n_iter_} -> {b.n_iter_}",
            f"{(b.n_fun_evals_ - a.n_fun_evals_) / iters:.2f}",
            f"{(b.n_line_trials_ - a.n_line_trials_) / iters:.2f}",
            f"{cost['eval_ms']:.1f}", f"{1e3 * t / iters:.1f}",
            f"{1e3 * t / iters / cost['eval_ms']:.2f}",
        ])  # fmt: skip
        log(f"{task.name}: {label} {1e3 * t / iters:.1f} ms per iteration")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smaller tasks, one repeat, 1 thread only (smoke test)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        help="BLAS thread counts (default: 1 and os.cpu_count(); 1 with --quick)",
    )
    parser.add_argument(
        "--tasks", nargs="+", choices=[t.name for t in TASKS], help="subset of tasks"
    )
    parser.add_argument(
        "--dtypes", nargs="+", choices=["float64", "float32"], default=None
    )
    parser.add_argument(
        "--repeats", type=int, help="timed repeats (default 3; 1 with --quick)"
    )
    parser.add_argument(
        "--solvers",
        nargs="+",
        choices=[*SOLVERS, "cg-cached"],
        default=None,
        help=f"solvers and CG variants (default {' '.join(SOLVERS)})",
    )
    parser.add_argument(
        "--iteration-cost",
        action="store_true",
        help="instead of the fits to the target: the marginal cost of a CG "
        "iteration in evaluations, cached lines against full evaluations",
    )
    parser.add_argument(
        "--c2",
        type=float,
        nargs="+",
        default=[],
        help="also run CG with these curvature conditions of its line search",
    )
    parser.add_argument(
        "--work-cap",
        type=float,
        default=6.0,
        help="stop a fit of ours that has not reached the target once its "
        "cost-weighted evaluations exceed this many times MLPClassifier's "
        "evaluations (default 6)",
    )
    args = parser.parse_args()
    threads = args.threads or ([1] if args.quick else sorted({1, os.cpu_count()}))
    dtypes = args.dtypes or ["float64", "float32"]
    repeats = args.repeats or (1 if args.quick else 3)
    tasks = [t for t in TASKS if args.tasks is None or t.name in args.tasks]
    solvers = (args.solvers or SOLVERS) + [f"cg c2={c2:g}" for c2 in args.c2]
    start = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - start:7.1f} s] {message}", file=sys.stderr)

    print(machine_summary())
    print(
        f"\nthreads {threads}, dtypes {dtypes}, solvers {solvers}, "
        f"{repeats} timed repeat(s), "
        f"work cap {args.work_cap:g}x MLPClassifier's evaluations"
        + (", --quick (smaller tasks)" if args.quick else "")
    )
    datasets = {}
    for task in tasks:
        X, y, description = task.load(args.quick)
        datasets[task.name] = (X, y)
        print(
            f"- {task.name}: {description}, hidden {task.hidden}, {task.activation}, "
            f"alpha={task.alpha:g}" + (f" ({task.note})" if task.note else "")
        )

    if args.iteration_cost:
        header = ["task", "CG", "iterations", "evaluations per iteration",
                  "cached trials per iteration", "ms per evaluation",
                  "ms per iteration", "iteration / evaluation"]  # fmt: skip
        for n_threads in threads:
            with threadpool_limits(limits=n_threads):
                for dtype in dtypes:
                    rows = []
                    for task in tasks:
                        X, y = datasets[task.name]
                        data = split(X, y, dtype, task.kind)
                        rows += marginal_iteration_cost(
                            task, data, ["cg", "cg-full"], 10, 40, repeats, log
                        )
                    print_table(
                        f"{dtype}, {n_threads} thread(s): the cost of one CG "
                        "iteration (iterations 10 to 40 of fits with tol=0)",
                        header, rows,
                    )  # fmt: skip
        print(f"\nTotal wall time: {time.perf_counter() - start:.0f} s")
        return

    all_results = {}
    with instrumented():
        for n_threads in threads:
            with threadpool_limits(limits=n_threads):
                print(f"\n## {n_threads} BLAS thread(s)\n")
                print("threadpool_info inside threadpool_limits:")
                for line in blas_threads():
                    print(f"- {line}")
                for dtype in dtypes:
                    for task in tasks:
                        data = split(*datasets[task.name], dtype, task.kind)
                        all_results[n_threads, dtype, task.name] = run_task(
                            task,
                            data,
                            repeats,
                            args.work_cap,
                            log,
                            scipy1_reference=n_threads > 1,
                            solvers=solvers,
                        )
                    print_section(n_threads, dtype, tasks, all_results)

    print_summary(threads, dtypes, tasks, all_results, solvers)
    print(f"\nTotal wall time: {time.perf_counter() - start:.0f} s")


def print_section(n_threads, dtype, tasks, all_results):
    rows, cost_rows = [], []
    for task in tasks:
        results, info = all_results[n_threads, dtype, task.name]
        rows += detail_rows(task, results, info)
        cost = info["cost"]
        cost_rows.append(
            [
                task.name,
                f"{info['initial']:.4g}",
                f"{info['target']:.4g}",
                f"{info['mlp_iter']}"
                + ("" if info["mlp_converged"] else " (max_iter reached)"),
                str(info["mlp_evals"]),
                f"{cost['eval_ms']:.2f}",
                f"{cost['setup']:.2f}",
                f"{cost['product']:.2f}",
            ]
        )
    print_table(
        f"{dtype}, {n_threads} thread(s): targets and measured costs",
        [
            "task",
            "initial loss",
            "target (MLPClassifier's final loss)",
            "MLPClassifier iterations",
            "MLPClassifier evaluations",
            "ms per evaluation (ours, at x0, fastest call)",
            "curvature set-up / evaluation",
            "curvature product / evaluation",
        ],
        cost_rows,
    )
    print_table(
        f"{dtype}, {n_threads} thread(s): to 25%, 50% and 100% of the way to "
        "the target",
        [
            "task",
            "solver",
            "evals to 25%",
            "evals to 50%",
            "evals to 100%",
            "curvature set-ups + products to 100%",
            "cost-weighted evals to 100%",
            "iterations to 100%",
            "evals per iteration",
            "cached trials per iteration",
            "iteration cost (evaluations)",
            "time to target (s, median)",
            "time / MLPClassifier",
        ]
        + (["time / MLPClassifier, SciPy's BLAS 1 thread"] if n_threads > 1 else [])
        + ["test accuracy"],
        rows,
    )


def print_summary(threads, dtypes, tasks, all_results, solvers):
    header = ["task", "solver", "dtype"]
    for n in threads:
        header += [
            f"evals / MLPClassifier's ({n} thr.)",
            f"evals per iteration ({n} thr.)",
            f"trials per iteration ({n} thr.)",
            f"iteration cost, evaluations ({n} thr.)",
            f"time / MLPClassifier ({n} thr.)",
        ]
        if n > 1:
            header.append(f"time / MLPClassifier, SciPy's BLAS 1 thread ({n} thr.)")
    rows = []
    for task in tasks:
        for label in solvers:
            for dtype in dtypes:
                row = [task.name, label, dtype]
                for n in threads:
                    results, info = all_results[n, dtype, task.name]
                    row += summary_cells(results, info, label)
                rows.append(row)
    print_table("Summary: ours against MLPClassifier(solver='lbfgs')", header, rows)
    print(
        "\n'evals / MLPClassifier's' counts loss+gradient evaluations to the "
        "target; for newton-cg and trust-ncg each curvature set-up and product "
        "is added at its measured cost relative to one evaluation (tables "
        "above). Targets: time / MLPClassifier "
        + ", ".join(f"<= {TARGETS[d]}x on {d} data" for d in dtypes)
        + "."
    )
    if max(threads) > 1:
        print(
            "\nAbove 1 thread, 'MLPClassifier, SciPy's BLAS 1 thread' is "
            "MLPClassifier timed with SciPy's bundled OpenBLAS limited to 1 thread "
            "(NumPy's at the thread count), as CGMLPClassifier.fit runs it. With "
            "both at n threads, the threads SciPy's L-BFGS-B starts compete with "
            "NumPy's for the cores; the gap between the two MLPClassifier times "
            "is that effect, not the optimizer."
        )


if __name__ == "__main__":
    main()
