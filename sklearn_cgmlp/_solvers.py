"""Thin glue between the pure objective and :func:`scipy.optimize.minimize`.

SciPy's solvers work on float64 vectors (its CG line search overflows on float32
parameter vectors), while the objective is evaluated in the dtype of the data.
:class:`SciPyObjective` casts per evaluation and keeps count; :func:`minimize`
runs the solver, records one loss per iteration and maps SciPy's exit status
onto a small, explicit :class:`SolverResult`.
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
        gnorm = float(np.max(np.abs(grad64))) if grad64.size else 0.0
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


@dataclass
class SolverResult:
    """What a fit needs from a solver run (plain numbers and arrays)."""

    x: np.ndarray
    loss: float
    n_iter: int
    n_evals: int
    status: str  # "converged", "max_iter", "max_fun", "line_search", "nonfinite"
    message: str
    grad_norm: float
    loss_curve: list = field(default_factory=list)


# After a failed line search, restart from a steepest-descent step at most this
# many times, and only while a restart cycle lowers the loss by more than
# _MIN_RESTART_GAIN relative to the loss.
_MAX_RESTARTS = 10
_MIN_RESTART_GAIN = 1e-6

# scipy.optimize.minimize(method="CG") exit statuses.
_STATUS = {0: "converged", 1: "max_iter", 2: "line_search", 3: "nonfinite"}


def minimize(
    objective,
    x0,
    *,
    method="CG",
    max_iter,
    max_fun,
    tol,
    verbose=False,
    options=None,
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
    method : str, default="CG"
        Method name for :func:`scipy.optimize.minimize`.
    max_iter : int
        Maximum number of iterations (restart steps included).
    max_fun : int
        Maximum number of loss evaluations; checked after each iteration.
    tol : float
        Stop when the largest absolute gradient entry is at most ``tol``.
    verbose : bool or int, default=False
        Print one line per iteration.
    options : dict, default=None
        Further solver options.

    Returns
    -------
    result : SolverResult
    """
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
    if verbose:
        print(f"Iteration 0, loss = {loss:.8f}, gradient norm = {best['gnorm']:.3e}")

    def record(x, loss, gnorm):
        if np.isfinite(loss):
            best.update(x=x, loss=loss, gnorm=gnorm)
        loss_curve.append(loss)
        if verbose:
            print(
                f"Iteration {len(loss_curve)}, loss = {loss:.8f}, "
                f"gradient norm = {gnorm:.3e}"
            )
        return objective.n_evals >= max_fun

    def callback(intermediate_result):
        seen = objective.lookup(intermediate_result.x)
        gnorm = seen[1] if seen is not None else np.nan
        if record(intermediate_result.x, float(intermediate_result.fun), gnorm):
            raise StopIteration

    opts = {"gtol": tol, "norm": np.inf, **(options or {})}
    restarts = 0
    while True:
        # Hand SciPy the evaluation already made at the starting point.
        fun = _FirstValueCache(objective, x, (loss, grad))
        # Overflow in the line search's own arithmetic (huge gradients) is
        # caught by the finiteness checks below.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = scipy.optimize.minimize(
                fun,
                x,
                method=method,
                jac=True,
                callback=callback,
                options={**opts, "maxiter": max_iter - len(loss_curve)},
            )
        status = "max_fun" if objective.n_evals >= max_fun else _STATUS[res.status]
        if status == "max_iter" and len(loss_curve) < max_iter:
            status = "converged"  # pragma: no cover - defensive
        cycle_start_loss = loss
        x, loss, grad = np.asarray(res.x), float(res.fun), np.asarray(res.jac)
        if not (np.isfinite(loss) and np.all(np.isfinite(x))):
            status = "nonfinite"
            break
        if (
            status != "line_search"
            or restarts >= _MAX_RESTARTS
            or len(loss_curve) >= max_iter
        ):
            break
        with np.errstate(over="ignore", invalid="ignore"):
            step = _backtracking_step(objective, x, loss, grad)
        if step is None:
            break
        x, loss, grad = step
        restarts += 1
        if record(x, loss, _inf_norm(grad)):
            status = "max_fun"
            break
        if cycle_start_loss - loss <= _MIN_RESTART_GAIN * abs(cycle_start_loss):
            status = "line_search"
            break
    if len(loss_curve) >= max_iter and status == "line_search":
        status = "max_iter"

    if status == "nonfinite":
        x, loss, gnorm = best["x"], best["loss"], best["gnorm"]
        message = "The solver met a non-finite loss; the last finite iterate is kept."
    else:
        gnorm = _inf_norm(grad)
        message = str(res.message)
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
    return float(np.max(np.abs(v))) if v.size else 0.0


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
