"""Thin glue between the pure objective and :func:`scipy.optimize.minimize`.

SciPy's solvers work on float64 vectors (its CG line search overflows on float32
parameter vectors), while the objective is evaluated in the dtype of the data.
:class:`~sklearn_cgmlp._adapters.SciPyObjective` casts per evaluation, keeps
count and serves curvature-vector products; :func:`minimize` runs a solver
described by its :class:`SolverSpec`, records one loss per accepted iterate,
calls a per-iteration hook and maps the outcome onto a small, explicit
:class:`SolverResult`.

How the problem is posed to SciPy's CG
--------------------------------------
SciPy's CG starts every line search at ``min(1, 1.01 * 2 * df / |g.p|)``: the
step that interpolates the previous decrease (Nocedal & Wright, eq. 3.60), but
never more than 1. Our loss is a mean over samples, so late in a fit the
gradient is tiny and the steps the line search accepts are thousands of times
that cap; each line search then spends most of its evaluations growing the step.
Everything else in SciPy's CG (the Wolfe conditions, the Polak-Ribiere+ update,
its descent test) is invariant to multiplying the objective by a constant ``c``,
which divides every step by ``c``. We hand SciPy ``c * loss`` with
``c = 1 / max(tol, sqrt(eps))`` and ``gtol = c * tol``: while the largest
gradient entry is above ``tol`` a capped first trial moves the weights by at
least about one unit, so the cap no longer binds, and the stopping test is the
user's ``tol`` exactly. Losses, gradient norms and the loss curve are reported
unscaled.
"""

from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

from ._adapters import NonFiniteError, NonFiniteInitialLoss
from ._monitor import Progress
from ._nlcg import minimize_cg
from ._ops import numpy_dtype
from ._threads import BlasThreads


@dataclass
class SolverResult:
    """What a fit needs from a solver run (plain numbers and arrays).

    ``x``, ``loss`` and ``grad_norm`` are those of the last accepted iterate
    (the starting point if none was accepted), so that ``loss ==
    loss_curve[-1]`` whenever ``loss_curve`` is not empty.
    """

    x: np.ndarray
    loss: float
    n_iter: int
    n_evals: int
    #: Trial steps on cached lines (besides ``n_evals``).
    n_trials: int
    #: "converged" (the largest gradient entry is at most tol), "stopped" (by
    #: the per-iteration hook), "interrupted" (KeyboardInterrupt), "nonfinite",
    #: "max_iter", "max_fun" or "stalled" (the solver gave up; see message).
    status: str
    message: str
    grad_norm: float
    loss_curve: list = field(default_factory=list)
    #: Whether the gradient is as small as the precision of the loss's dtype
    #: can resolve (see _at_precision_limit), for "stalled" exits.
    at_precision_limit: bool = False


# After a failed CG line search, restart CG at most this many times (max_iter
# bounds them too), only while a cycle lowers the loss by more than
# _MIN_RESTART_GAIN relative to the loss, and with a curvature condition of
# the Wolfe line search no stricter than SciPy's default, which kinks of relu
# units satisfy more easily than a stricter one.
_MAX_RESTARTS = 100
_MIN_RESTART_GAIN = 1e-6
_RESTART_C2 = 0.4

# Where each line-search trial is a full evaluation, CG is preconditioned by
# the limited-memory BFGS approximation of its last CG_MEMORY curvature pairs
# (sklearn_cgmlp._nlcg.CurvaturePairs), and its Wolfe line searches ask for
# the curvature condition CG_LINE_SEARCH_C2: a preconditioned direction is
# scaled, so the first trial step (SciPy's guess, at most 1) is usually
# accepted under the loose condition quasi-Newton methods use, and a second
# trial would cost a second evaluation. Where trials run on cached
# first-layer products and cost a fraction of an evaluation, lines are
# searched accurately (SciPy's default CG_CACHED_LINE_C2) and CG keeps
# CG_CACHED_LINE_MEMORY pairs: none. With accurate lines the pairs took as
# many or more iterations on all five cached-line tasks of
# benchmarks/bench_cg.py, and cost time (benchmarks/README.md).
CG_MEMORY = 10
CG_LINE_SEARCH_C2 = 0.9
CG_CACHED_LINE_C2 = 0.4
CG_CACHED_LINE_MEMORY = 0


@contextmanager
def _solver_blas(objective):
    """BLAS settings for a solve: SciPy's own BLAS on one thread, and NumPy's
    too where the objective runs its row blocks in threads of its own.

    OpenBLAS threads spin for a while after each call (about 0.1 s): the
    solver's dot products on the parameter vector, run with two or more
    threads, left them spinning into the next evaluation, where they took
    the cores from the row-block threads (measured: 215 ms instead of 146 ms
    per evaluation of the 10,000 x 3072-200-10 float32 problem on 2 cores).
    """
    blas = getattr(objective.objective, "blas", None) or BlasThreads()
    threaded = objective.objective.n_threads > 1
    with blas.scipy_single_thread():
        with blas.numpy_single_thread() if threaded else nullcontext():
            yield


def cg_scale(tol, loss, grad_norm):
    """The factor by which SciPy's CG sees the objective (module docstring).

    Bounded so that the scaled loss and gradient at the start stay far from
    overflow.
    """
    scale = 1.0 / max(tol, np.sqrt(np.finfo(np.float64).eps))
    magnitude = max(abs(loss), grad_norm, 1.0)
    return float(max(1.0, min(scale, 1e250 / magnitude)))


def _cg_options(max_iter, max_fun, tol, scale):
    # c2 and the curvature pairs depend on the objective's lines: _run_cg
    # sets them (cg_line_settings).
    return {"maxiter": max_iter, "gtol": scale * tol, "norm": np.inf}


def _newton_cg_options(max_iter, max_fun, tol, scale):
    # Newton-CG's own test is on the step length; ours (the gradient's
    # infinity norm) is checked after each iteration instead.
    return {"maxiter": max_iter, "xtol": 0.0}


def _trust_ncg_options(max_iter, max_fun, tol, scale):
    return {"maxiter": max_iter, "gtol": tol}


def _lbfgs_options(max_iter, max_fun, tol, scale):
    return {"maxiter": max_iter, "maxfun": max_fun, "gtol": tol}


@dataclass(frozen=True)
class SolverSpec:
    """What the glue needs to know of one solver.

    A new solver is one spec in :data:`SOLVERS` (and its tests).
    """

    #: The estimators' name for it (their ``solver`` parameter).
    name: str
    #: Its ``scipy.optimize.minimize`` method.
    method: str
    #: ``options(max_iter, max_fun, tol, scale)``: SciPy's options.
    options: Callable
    #: Whether it needs curvature-vector products (``hessp``).
    needs_curvature: bool = False
    #: Whether it can keep its vectors on the data's device (our
    #: :func:`~sklearn_cgmlp._nlcg.minimize_cg`); others run on the host.
    on_device: bool = False
    #: Whether it is handed the loss times :func:`cg_scale` (module docstring).
    rescaled: bool = False
    #: Whether it is restarted after its line search fails (:func:`_run_cg`).
    restarts: bool = False


SOLVERS = {
    spec.name: spec
    for spec in (
        SolverSpec(
            "cg", "CG", _cg_options, on_device=True, rescaled=True, restarts=True
        ),
        SolverSpec("newton-cg", "Newton-CG", _newton_cg_options, needs_curvature=True),
        SolverSpec("trust-ncg", "trust-ncg", _trust_ncg_options, needs_curvature=True),
        SolverSpec("lbfgs", "L-BFGS-B", _lbfgs_options),
    )
}


class _Run:
    """Book-keeping of one solver run: accepted iterates and why it stopped."""

    def __init__(self, objective, *, tol, max_iter, max_fun, on_iteration, progress):
        self.objective = objective
        self.tol, self.max_iter, self.max_fun = tol, max_iter, max_fun
        self.on_iteration = on_iteration
        self.progress = progress  # a Progress that prints, or None
        self.loss_curve = []
        self.reason = None
        self.nonfinite = None  # what was not finite, for status "nonfinite"
        self.last = None  # (x, loss, gnorm) of the last accepted iterate

    def start(self, x, loss, gnorm):
        self.last = (x, loss, gnorm)
        if self.progress is not None:
            self.progress.start(loss, gnorm)

    def accept(self, x, loss, gnorm):
        """Record an iterate the solver accepted; True asks it to stop.

        A non-finite iterate is never recorded. The per-iteration hook runs
        before anything is recorded, so an interrupt inside it leaves the
        loss curve and the hook's own records equally long.
        """
        if not np.isfinite(loss):
            self.stop_nonfinite("loss")
            return True
        stop = self.on_iteration is not None and self.on_iteration(x, loss)
        self.loss_curve.append(loss)
        self.last = (x, loss, gnorm)
        if self.progress is not None:
            self.progress.iteration(len(self.loss_curve), loss, gnorm)
        if stop:
            self.reason = "stopped"
        elif gnorm <= self.tol:
            self.reason = "converged"
        elif len(self.loss_curve) >= self.max_iter:
            self.reason = "max_iter"
        elif self.objective.n_evals >= self.max_fun:
            self.reason = "max_fun"
        return self.reason is not None

    def stop_nonfinite(self, what):
        """Stop because ``what`` ("loss", "curvature", "step") is not finite."""
        self.reason = "nonfinite"
        self.nonfinite = what

    def callback(self, intermediate_result):
        """The solver's per-iteration callback."""
        # Some methods update their iterate in place: keep a copy.
        ops = self.objective.ops
        x = ops.copy(intermediate_result.x)
        seen = self.objective.lookup(x)
        if seen is None:  # not among the last evaluations: evaluate again
            loss, grad = self.objective.evaluate(x)
            seen = loss, ops.inf_norm(grad)
        if self.accept(x, *seen):
            raise StopIteration

    def result(self, message, dtype):
        x, loss, gnorm = self.last
        if self.reason in ("stopped", "interrupted"):
            status = self.reason
        elif gnorm <= self.tol:
            status = "converged"
        elif self.reason == "nonfinite":
            status = "nonfinite"
            message = _NONFINITE_MESSAGES[self.nonfinite]
        elif len(self.loss_curve) >= self.max_iter:
            status = "max_iter"
        elif self.objective.n_evals >= self.max_fun:
            status = "max_fun"
        else:
            status = "stalled"
        return SolverResult(
            x=x,
            loss=loss,
            n_iter=len(self.loss_curve),
            n_evals=self.objective.n_evals,
            n_trials=self.objective.n_trials,
            status=status,
            message="Interrupted by the user." if status == "interrupted" else message,
            grad_norm=gnorm,
            loss_curve=self.loss_curve,
            at_precision_limit=_at_precision_limit(loss, gnorm, dtype),
        )


_NONFINITE_MESSAGES = {
    "loss": "The loss was not finite at the point the solver accepted.",
    "curvature": "A curvature product was not finite.",
    "step": "The solver's own arithmetic overflowed: its step was not finite.",
}


def _at_precision_limit(loss, grad_norm, dtype):
    """Whether a gradient this small is all the loss's precision can resolve.

    Near a minimum with curvature ``L`` the loss lies ``|g|^2 / (2 L)`` above
    its minimum; a line search cannot see that once it is below the rounding
    of the loss, ``eps * |loss|``. For curvatures up to about 50 that is a
    gradient below ``10 * sqrt(eps * |loss|)``.
    """
    eps = np.finfo(numpy_dtype(dtype)).eps
    return bool(grad_norm <= 10 * np.sqrt(eps * max(abs(loss), eps)))


def minimize(
    objective,
    x0,
    *,
    solver="cg",
    max_iter,
    max_fun,
    tol,
    on_iteration=None,
    verbose=False,
    progress=None,
    keep_on_interrupt=True,
):
    """Minimize ``objective`` from ``x0`` with a SciPy method.

    SciPy's CG gives up when its Wolfe line search fails. That happens far
    from a minimum on piecewise-smooth losses (relu units): the loss has kinks
    where the gradient jumps. In that case a backtracking steepest-descent
    step is taken and CG restarted from there, as long as restarts pay off.

    Parameters
    ----------
    objective : SciPyObjective
        The objective, adapted to the solver's vectors.
    x0 : ndarray of shape (n_params,)
        Starting point (float64).
    solver : str or SolverSpec, default="cg"
        Which solver to run: a name of :data:`SOLVERS`, or its spec.
    max_iter : int
        Maximum number of iterations (restart steps included).
    max_fun : int
        Maximum number of loss evaluations; checked after each iteration.
    tol : float
        Stop when the largest absolute gradient entry is at most ``tol``. The
        status is "converged" if and only if this holds at the returned point.
    on_iteration : callable, default=None
        ``on_iteration(x, loss)`` after each accepted iterate (``x`` is a
        private copy); returning True stops the solver with status "stopped".
    verbose : bool or int, default=False
        Print a header line with the starting point and one line per
        accepted iterate, numbered from 1.
    progress : Progress, default=None
        What prints those lines when ``verbose`` (the estimator's
        :class:`~sklearn_cgmlp._monitor.IterationMonitor` adds validation
        scores); None: a plain :class:`~sklearn_cgmlp._monitor.Progress`.
    keep_on_interrupt : bool, default=True
        On ``KeyboardInterrupt``, stop with status "interrupted" and the last
        accepted iterate (if any was accepted) instead of re-raising.

    Returns
    -------
    result : SolverResult

    Raises
    ------
    NonFiniteInitialLoss
        If the loss or its gradient is not finite at ``x0``.
    KeyboardInterrupt
        If interrupted before any iterate was accepted, or at all when
        ``keep_on_interrupt`` is False.
    """
    spec = SOLVERS[solver] if isinstance(solver, str) else solver
    if not objective.ops.is_numpy and not spec.on_device:
        raise ValueError(
            f"Solver {spec.name!r} runs in SciPy on the host; only 'cg' has a "
            "device-resident implementation."
        )
    x = objective.transfer.from_host(x0)
    loss, grad = objective.evaluate(x)
    if not np.isfinite(loss):
        raise NonFiniteInitialLoss(
            "The loss is not finite at the initial weights, or its gradient is not."
        )
    gnorm = objective.ops.inf_norm(grad)
    run = _Run(
        objective,
        tol=tol,
        max_iter=max_iter,
        max_fun=max_fun,
        on_iteration=on_iteration,
        progress=(progress or Progress()) if verbose else None,
    )
    run.start(x, loss, gnorm)
    scale = cg_scale(tol, loss, gnorm) if spec.rescaled else 1.0
    message = ""
    try:
        objective.scale = scale
        if gnorm > tol:
            with _solver_blas(objective):
                if spec.restarts:
                    message = _run_cg(objective, run, spec, x, grad)
                else:
                    message = _run_scipy(objective, run, spec, x)
    except KeyboardInterrupt:
        if not (keep_on_interrupt and run.loss_curve):
            raise
        run.reason = "interrupted"
    except NonFiniteError:
        run.stop_nonfinite("curvature")
    except ValueError as exc:
        # trust-ncg checks its step with scipy.linalg.norm, which refuses infs
        # and NaNs; they come from overflow in its subproblem's arithmetic
        # (a gradient whose squared norm overflows).
        if "must not contain infs or NaNs" not in str(exc):
            raise
        run.stop_nonfinite("step")
    finally:
        objective.scale = 1.0
    return run.result(message, objective.dtype)


def _scipy_run(objective, run, spec, x, options):
    """One ``scipy.optimize.minimize`` run from ``x`` (whose evaluation the
    objective has cached); returns SciPy's result."""
    # Overflow in the solvers' own arithmetic (huge gradients) is caught by
    # the finiteness checks of the objective and of _Run.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return scipy.optimize.minimize(
            objective,
            x,
            method=spec.method,
            jac=True,
            hessp=objective.hessp if spec.needs_curvature else None,
            callback=run.callback,
            options=options,
        )


def _run_scipy(objective, run, spec, x):
    """A plain SciPy run until a stop; returns SciPy's message."""
    options = spec.options(run.max_iter, run.max_fun, run.tol, objective.scale)
    return str(_scipy_run(objective, run, spec, x, options).message)


def _run_cg(objective, run, spec, x, grad):
    """Run CG, and restart it after failed line searches, until a stop;
    returns SciPy's message (``grad`` is the unscaled gradient at ``x``).

    When CG's line search fails (on relu kinks, typically), CG restarts from
    the last accepted iterate along the steepest-descent direction, with the
    curvature condition SciPy uses by default (``_RESTART_C2``), which kinks
    satisfy more easily. A restart cycle that accepts no iterate is preceded
    by a backtracking step; restarts stop when a cycle lowers the loss by at
    most ``_MIN_RESTART_GAIN`` relative to it.
    """
    restarts, ops, scale = 0, objective.ops, objective.scale
    c2, memory = cg_line_settings(objective)
    loss = run.last[1]
    while True:
        cycle_start_loss, accepted_before = loss, len(run.loss_curve)
        options = spec.options(
            run.max_iter - len(run.loss_curve), run.max_fun, run.tol, scale
        )
        options["c2"], options["memory"] = c2, memory
        res = _cg_cycle(objective, run, spec, x, options)
        if run.reason is not None or res.status != 2 or restarts >= _MAX_RESTARTS:
            return str(res.message)
        restarts, c2 = restarts + 1, max(c2, _RESTART_C2)
        x, loss, _ = run.last
        if res.jac is not None and ops.equal(res.x, x):
            # Hand the next cycle the evaluation SciPy ended at.
            grad = res.jac / scale
            objective.remember(x, loss, grad)
        else:
            grad = objective.evaluate(x)[1]
        if len(run.loss_curve) == accepted_before:
            # Not even the first line search of the cycle succeeded.
            with np.errstate(over="ignore", invalid="ignore"):
                step = _backtracking_step(objective, x, loss, grad)
            if step is None:
                return str(res.message)
            x, loss, grad = step
            if run.accept(x, loss, ops.inf_norm(grad)):
                return str(res.message)
        if cycle_start_loss - loss <= _MIN_RESTART_GAIN * abs(cycle_start_loss):
            return "Restarts after line-search failures stalled."


def cg_line_settings(objective):
    """``(c2, memory)`` of CG by the kind of its lines: where each trial costs
    a full evaluation, a loose curvature condition and curvature pairs; where
    trials run on cached first-layer products, accurate lines without."""
    if getattr(objective.objective, "cached_line", False):
        return CG_CACHED_LINE_C2, CG_CACHED_LINE_MEMORY
    return CG_LINE_SEARCH_C2, CG_MEMORY


def _cg_cycle(objective, run, spec, x, options):
    """One run of SciPy's CG iteration from ``x``
    (:func:`~sklearn_cgmlp._nlcg.minimize_cg`, with its vectors where the
    objective wants them), searching lines of cached products where the
    objective has them."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return minimize_cg(
            objective,
            x,
            ops=objective.ops,
            gtol=options["gtol"],
            maxiter=options["maxiter"],
            c2=options["c2"],
            callback=run.callback,
            line=objective.line,
            memory=options["memory"],
        )


def _backtracking_step(objective, x, loss, grad, c1=1e-4, max_halvings=60):
    """Armijo backtracking along ``-grad`` on the unscaled objective.

    Returns ``(x, loss, grad)`` of the new point, or None if no decrease is
    found. The first trial step has unit length; the gradient norm is
    computed with scaling so that huge gradients do not overflow.
    """
    ops = objective.ops
    scale = ops.inf_norm(grad)
    if not (0 < scale < np.inf):
        return None
    gnorm = scale * ops.norm2(grad / scale)
    direction = grad / gnorm
    tau = 1.0
    for _ in range(max_halvings):
        x_new = x - tau * direction
        loss_new, grad_new = objective.evaluate(x_new)
        if loss_new <= loss - c1 * tau * gnorm:
            return x_new, loss_new, grad_new
        tau *= 0.5
    return None
