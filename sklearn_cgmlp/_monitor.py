"""Per-iteration work of a fit: validation scores, scikit-learn callbacks and
the lines ``verbose`` prints."""

import numpy as np


class Progress:
    """The lines ``verbose`` prints while a solver runs.

    A header line with the starting point, then one line per accepted
    iterate, numbered from 1 as ``n_iter_`` and ``loss_curve_`` count them;
    :meth:`note` adds to each iteration's line (the estimator's monitor adds
    the validation score there).
    """

    def start(self, loss, gnorm):
        print(f"Start: loss = {loss:.8f}, max |gradient| = {gnorm:.3e}")

    def iteration(self, n, loss, gnorm):
        print(
            f"Iteration {n}, loss = {loss:.8f}, max |gradient| = {gnorm:.3e}"
            f"{self.note()}"
        )

    def note(self):
        return ""


# Why a fit stopped, by solver status (and, for "stopped", by who stopped
# it), for the closing line of ``verbose``.
_STOP_REASONS = {
    "converged": "converged: max |gradient| = {gnorm:.3e} <= tol={tol:g}",
    "max_iter": "reached max_iter={max_iter}",
    "max_fun": "reached max_fun={max_fun} loss evaluations",
    "interrupted": "interrupted by the user",
    "early_stopping": (
        "the validation score did not improve by more than tol={tol:g} for "
        "{no_improvement} consecutive iterations "
        "(more than n_iter_no_change={n_iter_no_change})"
    ),
    "callback": "a callback asked to stop",
    "nonfinite": "{message}",
    "stalled": "the solver stopped before converging: {message}",
}


class IterationMonitor(Progress):
    """What happens after each accepted iterate of a fit.

    ``on_iteration(x, loss)`` is handed to the solver glue; it returns True to
    stop the solver (early stopping, or a callback that asks for it). Its
    records are appended last, so an interrupt inside it leaves them as they
    were before the iteration.

    Parameters
    ----------
    estimator : BaseCGMLP
        The estimator being fitted (its parameters are read, never written).
    attributes : callable
        ``attributes(x)`` returns the fitted attributes of the model with
        parameter vector ``x``.
    score : callable
        ``score(attributes, validation)`` scores a model on the validation
        set (:mod:`sklearn_cgmlp._scoring`); higher is better.
    validation : Validation or None
        The validation set of early stopping (a
        :class:`sklearn_cgmlp._validation.Validation`).
    X_fit, y_fit : array-like
        The training part, for callbacks.
    """

    def __init__(self, estimator, attributes, score, validation, X_fit, y_fit):
        self.estimator = estimator
        self.attributes = attributes
        self.score = score
        self.validation = validation
        self.X_fit, self.y_fit = X_fit, y_fit
        self.validation_scores = [] if validation is not None else None
        self.best_validation_score = -np.inf if validation is not None else None
        self.best_iteration = None
        self._best_x = None
        self._no_improvement = 0
        self._stopped_by = None  # "early_stopping" or "callback"
        self._ctx = None
        self._iter_ctx = None

    # sklearn.callback bridge ------------------------------------------------
    def _start_iteration(self, x):
        ctx = self._ctx.subcontext(task_name="iteration")
        ctx.call_on_fit_task_begin(
            estimator=self.estimator,
            X=self.X_fit,
            y=self.y_fit,
            reconstruction_attributes=lambda: self.attributes(x),
        )
        return ctx

    def begin(self, x0):
        est = self.estimator
        if not hasattr(est, "_init_callback_context"):
            return
        # One subtask per iteration, plus the one begun after the last iteration.
        self._ctx = est._init_callback_context(max_subtasks=est.max_iter + 1)
        self._ctx.call_on_fit_task_begin(estimator=est, X=self.X_fit, y=self.y_fit)
        self._iter_ctx = self._start_iteration(x0)

    def on_iteration(self, x, loss):
        stop = False
        if self._iter_ctx is not None:
            stop = bool(
                self._iter_ctx.call_on_fit_task_end(
                    estimator=self.estimator,
                    X=self.X_fit,
                    y=self.y_fit,
                    reconstruction_attributes=lambda: self.attributes(x),
                )
            )
            self._iter_ctx = self._start_iteration(x)
            if stop:
                self._stopped_by = "callback"
        if self.validation is not None and self._update_early_stopping(x):
            self._stopped_by = self._stopped_by or "early_stopping"
            stop = True
        return stop

    def close(self):
        """End the subtask begun after the last iteration, which never ran."""
        if self._iter_ctx is not None:
            self._iter_ctx.call_on_fit_task_end(estimator=self.estimator)
            self._iter_ctx = None

    def end(self):
        if self._ctx is not None:
            self._ctx.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X_fit,
                y=self.y_fit,
                reconstruction_attributes={},
            )

    # early stopping --------------------------------------------------------
    def _score(self, x):
        return float(self.score(self.attributes(x), self.validation))

    def _update_early_stopping(self, x):
        """MLPClassifier's rule, applied after each iteration."""
        est = self.estimator
        score = self._score(x)
        # A NaN score (which the checks of the split rule out) counts as no
        # improvement: it never resets the count, so early stopping still acts.
        no_improvement = (
            0
            if score >= self.best_validation_score + est.tol
            else self._no_improvement + 1
        )
        # Everything above may be interrupted; the records change together.
        self.validation_scores.append(score)
        self._no_improvement = no_improvement
        if score > self.best_validation_score:
            self.best_validation_score = score
            self.best_iteration = len(self.validation_scores)
            self._best_x = x
        return self._no_improvement > est.n_iter_no_change

    # verbose ---------------------------------------------------------------
    def note(self):
        """The validation score of the iteration being printed (scored just
        before its line is)."""
        if not self.validation_scores:
            return ""
        return f", validation score = {self.validation_scores[-1]:.6f}"

    def closing_line(self, result):
        """Why the fit stopped and which iterate it kept (after :meth:`best`)."""
        est = self.estimator
        status = result.status
        if status == "stopped":
            status = self._stopped_by or "callback"
        reason = _STOP_REASONS[status].format(
            gnorm=result.grad_norm,
            tol=est.tol,
            max_iter=est.max_iter,
            max_fun=est.max_fun,
            no_improvement=self._no_improvement,
            n_iter_no_change=est.n_iter_no_change,
            message=result.message.rstrip("."),
        )
        n = result.n_iter
        line = f"Stopped after {n} iteration{'' if n == 1 else 's'}: {reason}."
        if self.validation is None:
            return line
        score = f"{self.best_validation_score:.6f}"
        if self.best_iteration is None:
            kept = f"No iteration ran: the starting weights (validation score {score})"
            return f"{line} {kept} are kept."
        kept = f"Best validation score {score} at iteration {self.best_iteration}"
        if self.best_iteration == result.n_iter:
            return f"{line} {kept}, the last: its weights are kept."
        return f"{line} {kept}: its weights were restored."

    def best(self, x, loss, loss_curve):
        """The best-validation iterate and its training loss."""
        if self._best_x is None:  # no iteration ran: score the final weights
            self.best_validation_score = self._score(x)
            return x, loss
        return self._best_x, loss_curve[self.best_iteration - 1]
