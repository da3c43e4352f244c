"""Thin glue between the pure objective and :func:`scipy.optimize.minimize`.

SciPy's solvers work on float64 vectors (its CG line search overflows on float32
parameter vectors), while the objective is evaluated in the dtype of the data.
:class:`SciPyObjective` casts per evaluation and keeps count; :class:`SciPyHessp`
does the same for curvature-vector products; :func:`minimize` runs a solver,
records one loss per iteration, calls a per-iteration hook and maps SciPy's exit
status onto a small, explicit :class:`SolverResult`.
"""

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize


class SciPyObjective:
    """Adapt ``fun(theta, grad_out) -> loss`` to SciPy's ``jac=True`` protocol.

    Parameters
    ----------
    fun : callable
        ``fun(theta, grad)`` evaluates the objective at ``theta`` (an array of
        ``dtype``), writes the gradient into ``grad`` and returns the loss.
    n_params : int
        Length of the parameter vector.
    dtype : dtype
        dtype in which ``fun`` computes.

    Notes
    -----
    SciPy keeps references to the gradients it is handed (CG compares the new
    gradient with the previous one), so every call returns a new float64
    gradient array. In float32 the parameter and gradient vectors of the
    evaluation itself are preallocated and reused.
    """

    def __init__(self, fun, n_params, dtype):
        self.fun = fun
        self.n_params = n_params
        self.dtype = np.dtype(dtype)
        self.n_evals = 0
        # The most recent evaluations: (x, loss, gradient inf-norm).
        self.recent = deque(maxlen=3)
        if self.dtype != np.float64:
            self._theta = np.empty(n_params, dtype=self.dtype)
            self._grad = np.empty(n_params, dtype=self.dtype)

    def __call__(self, x):
        # Trial points of a line search may overflow; a non-finite result is
        # handled below, so floating-point warnings would only be noise.
        with np.errstate(over="ignore", invalid="ignore"):
            return self._evaluate(x)

    def _evaluate(self, x):
        self.n_evals += 1
        if self.dtype == np.float64:
            theta = np.ascontiguousarray(x)
            grad = np.empty(self.n_params, dtype=np.float64)
            loss = self.fun(theta, grad)
            grad64 = grad
        else:
            self._theta[...] = x
            loss = self.fun(self._theta, self._grad)
            grad64 = self._grad.astype(np.float64)
        gnorm = _inf_norm(grad64)
        finite = np.isfinite(loss) and np.isfinite(gnorm)
        self.recent.append((x, float(loss) if finite else np.inf, gnorm))
        if not finite:
            # Tell the line search this point is unacceptable without
            # poisoning its arithmetic with NaN.
            return np.inf, np.zeros(self.n_params)
        return float(loss), grad64

    def lookup(self, x):
        """Loss and gradient norm of a recently evaluated point, or None."""
        for x_seen, loss, gnorm in reversed(self.recent):
            if x_seen is x or (x_seen.shape == x.shape and np.array_equal(x_seen, x)):
                return loss, gnorm
        return None


class SciPyHessp:
    """Adapt a curvature-product factory to SciPy's ``hessp(x, p)`` protocol.

    Parameters
    ----------
    make_product : callable
        ``make_product(theta)`` returns an object whose ``dot(v)`` is the
        curvature at ``theta`` (an array of ``dtype``) times ``v``.
    dtype : dtype
        dtype in which the products are computed.

    Notes
    -----
    Truncated-Newton solvers make many products at one point; the forward
    pass behind them is computed once per point.
    """

    def __init__(self, make_product, dtype):
        self.make_product = make_product
        self.dtype = np.dtype(dtype)
        self._x = None
        self._product = None

    def __call__(self, x, p):
        if self._x is None or not np.array_equal(x, self._x):
            # Copies: SciPy's Newton-CG updates its iterate in place, and the
            # product keeps views of the parameters it was built at.
            self._x = np.array(x, copy=True)
            self._product = self.make_product(np.array(x, dtype=self.dtype))
        with np.errstate(over="ignore", invalid="ignore"):
            Hp = self._product.dot(p.astype(self.dtype, copy=False))
        return Hp.astype(np.float64, copy=False)


@dataclass
class SolverResult:
    """What a fit needs from a solver run (plain numbers and arrays)."""

    x: np.ndarray
    loss: float
    n_iter: int
    n_evals: int
    #: "converged", "max_iter", "max_fun", "stalled", "nonfinite", "stopped"
    #: (by the per-iteration hook) or "interrupted" (KeyboardInterrupt).
    status: str
    message: str
    grad_norm: float
    loss_curve: list = field(default_factory=list)


# After a failed CG line search, restart from a steepest-descent step at most
# this many times, and only while a restart cycle lowers the loss by more than
# _MIN_RESTART_GAIN relative to the loss.
_MAX_RESTARTS = 10
_MIN_RESTART_GAIN = 1e-6

# Solver names of the estimator -> scipy.optimize.minimize methods.
METHODS = {
    "cg": "CG",
    "newton-cg": "Newton-CG",
    "trust-ncg": "trust-ncg",
    "lbfgs": "L-BFGS-B",
}


# Curvature condition of CG's Wolfe line search. SciPy's default is 0.4;
# 0.1, the value Nocedal & Wright recommend for nonlinear CG, cut the
# evaluations needed to reach L-BFGS's final loss by 0-38% on the tasks of
# benchmarks/bench_fit.py (see benchmarks/README.md).
CG_LINE_SEARCH_C2 = 0.1


def _options(method, max_iter, max_fun, tol):
    if method == "CG":
        return {
            "maxiter": max_iter,
            "gtol": tol,
            "norm": np.inf,
            "c2": CG_LINE_SEARCH_C2,
        }
    if method == "Newton-CG":
        # Newton-CG's own test is on the step length; ours (the gradient's
        # infinity norm) is checked after each iteration instead.
        return {"maxiter": max_iter, "xtol": 0.0}
    if method == "trust-ncg":
        return {"maxiter": max_iter, "gtol": tol}
    return {"maxiter": max_iter, "maxfun": max_fun, "gtol": tol}


def minimize(
    objective,
    x0,
    *,
    solver="cg",
    max_iter,
    max_fun,
    tol,
    hessp=None,
    on_iteration=None,
    verbose=False,
):
    """Minimize ``objective`` from ``x0`` with a SciPy method.

    SciPy's CG gives up when its Wolfe line search fails. That happens far
    from a minimum on piecewise-smooth losses (relu units): the loss has kinks
    where the gradient jumps. In that case a backtracking steepest-descent
    step is taken and CG restarted from there, as long as restarts pay off.

    Parameters
    ----------
    objective : SciPyObjective
        The objective.
    x0 : ndarray of shape (n_params,)
        Starting point (float64).
    solver : {"cg", "newton-cg", "trust-ncg", "lbfgs"}, default="cg"
        Which SciPy method to run.
    max_iter : int
        Maximum number of iterations (restart steps included).
    max_fun : int
        Maximum number of loss evaluations; checked after each iteration.
    tol : float
        Stop when the largest absolute gradient entry is at most ``tol``.
    hessp : callable, default=None
        ``hessp(x, p)``, required by "newton-cg" and "trust-ncg".
    on_iteration : callable, default=None
        ``on_iteration(x, loss)`` after each accepted iterate (``x`` is a
        private copy); returning True stops the solver with status "stopped".
    verbose : bool or int, default=False
        Print one line per iteration.

    Returns
    -------
    result : SolverResult
    """
    method = METHODS[solver]
    x = np.asarray(x0, dtype=np.float64)
    loss, grad = objective(x)
    if not np.isfinite(loss):
        raise ValueError(
            "The loss is not finite at the initial weights. The input data may "
            "contain very large values and need to be scaled, e.g. with "
            "sklearn.preprocessing.StandardScaler."
        )
    loss_curve = []
    # The last accepted iterate with a finite loss.
    best = {"x": x, "loss": loss, "gnorm": _inf_norm(grad)}
    stop = {}
    if verbose:
        print(f"Iteration 0, loss = {loss:.8f}, gradient norm = {best['gnorm']:.3e}")

    def record(x, loss, gnorm):
        """Book-keeping of an accepted iterate; True asks the solver to stop."""
        if np.isfinite(loss):
            best.update(x=x, loss=loss, gnorm=gnorm)
        loss_curve.append(loss)
        if verbose:
            print(
                f"Iteration {len(loss_curve)}, loss = {loss:.8f}, "
                f"gradient norm = {gnorm:.3e}"
            )
        if on_iteration is not None and on_iteration(x, loss):
            stop["reason"] = "stopped"
        elif gnorm <= tol:
            stop["reason"] = "converged"
        elif objective.n_evals >= max_fun:
            stop["reason"] = "max_fun"
        return "reason" in stop

    def callback(intermediate_result):
        # Some methods update their iterate in place: keep a copy.
        x = np.array(intermediate_result.x, copy=True)
        seen = objective.lookup(x)
        gnorm = seen[1] if seen is not None else np.nan
        if record(x, float(intermediate_result.fun), gnorm):
            raise StopIteration

    restarts = 0
    res = None
    try:
        while True:
            # Hand SciPy the evaluation already made at the starting point.
            fun = _FirstValueCache(objective, x, (loss, grad))
            # Overflow in the solvers' own arithmetic (huge gradients) is caught
            # by the finiteness checks below.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                res = scipy.optimize.minimize(
                    fun,
                    x,
                    method=method,
                    jac=True,
                    hessp=hessp if method in ("Newton-CG", "trust-ncg") else None,
                    callback=callback,
                    options=_options(method, max_iter - len(loss_curve), max_fun, tol),
                )
            cycle_start_loss = loss
            x, loss = np.array(res.x, copy=True), float(res.fun)
            grad = np.asarray(res.jac)
            if (
                method != "CG"
                or res.status != 2
                or stop
                or restarts >= _MAX_RESTARTS
                or len(loss_curve) >= max_iter
                or not (np.isfinite(loss) and np.all(np.isfinite(x)))
            ):
                break
            with np.errstate(over="ignore", invalid="ignore"):
                step = _backtracking_step(objective, x, loss, grad)
            if step is None:
                break
            x, loss, grad = step
            restarts += 1
            if record(x, loss, _inf_norm(grad)):
                break
            if cycle_start_loss - loss <= _MIN_RESTART_GAIN * abs(cycle_start_loss):
                res.status, res.message = (
                    2,
                    "Restarts after line-search failures stalled.",
                )
                break
    except KeyboardInterrupt:
        stop["reason"] = "interrupted"

    if stop.get("reason") == "interrupted" or not (
        np.isfinite(loss) and np.all(np.isfinite(x))
    ):
        status = stop.get("reason", "nonfinite")
        x, loss, gnorm = best["x"], best["loss"], best["gnorm"]
        message = (
            "Interrupted by the user."
            if status == "interrupted"
            else "The solver met a non-finite loss; the last finite iterate is kept."
        )
    else:
        gnorm = _inf_norm(grad)
        message = str(res.message)
        if "reason" in stop:
            status = stop["reason"]
        elif res.status == 0 or gnorm <= tol:
            status = "converged"
        elif len(loss_curve) >= max_iter:
            status = "max_iter"
        elif objective.n_evals >= max_fun:
            status = "max_fun"
        else:
            status = "stalled"
    return SolverResult(
        x=x,
        loss=loss,
        n_iter=len(loss_curve),
        n_evals=objective.n_evals,
        status=status,
        message=message,
        grad_norm=gnorm,
        loss_curve=loss_curve,
    )


def _inf_norm(v):
    """Largest absolute entry, without a temporary of ``v``'s size."""
    return float(max(v.max(), -v.min())) if v.size else 0.0


class _FirstValueCache:
    """Return a known ``(loss, grad)`` for the first call at ``x0``."""

    def __init__(self, objective, x0, value):
        self.objective = objective
        self.x0 = x0
        self.value = value

    def __call__(self, x):
        if self.value is not None and np.array_equal(x, self.x0):
            value, self.value = self.value, None
            return value
        return self.objective(x)


def _backtracking_step(objective, x, loss, grad, c1=1e-4, max_halvings=60):
    """Armijo backtracking along ``-grad``; None if no decrease is found.

    The first trial step has unit length; the gradient norm is computed with
    scaling so that huge gradients do not overflow.
    """
    scale = _inf_norm(grad)
    if not (0 < scale < np.inf):
        return None
    gnorm = scale * float(np.linalg.norm(grad / scale))
    direction = grad / gnorm
    tau = 1.0
    for _ in range(max_halvings):
        x_new = x - tau * direction
        loss_new, grad_new = objective(x_new)
        if loss_new <= loss - c1 * tau * gnorm:
            return x_new, loss_new, grad_new
        tau *= 0.5
    return None
