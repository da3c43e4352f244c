"""SciPy's nonlinear conjugate gradient, with its vectors in any array namespace.

:func:`minimize_cg` runs the Polak-Ribière+ iteration of
``scipy.optimize.minimize(method="CG")`` step for step: the same initial step
guess, the same strong-Wolfe line search (MINPACK's ``dcsrch`` through SciPy's
``scalar_search_wolfe1``, falling back to ``scalar_search_wolfe2``), the same
sufficient-descent condition and the same stopping tests. The line searches are
SciPy's own scalar routines, called with closures; only the vector arithmetic
is ours, done in the namespace of the search vector. On a GPU the search
vector, the direction and every vector operation stay on the device, and only
scalars (losses, dot products) cross to the host: the host round trips that
handing SciPy a device objective would cost twice per evaluation are gone.

Each line search runs on a *line*: by default trials are full evaluations of
the objective (:class:`EvaluationLine`); where the objective offers cached
first-layer products (:mod:`sklearn_cgmlp._line`), a trial costs a fraction
of an evaluation and only the accepted step's gradient is a full one.

On NumPy float64 the iterates equal SciPy's, bit for bit with full
evaluations and to rounding with cached lines (the tests check both).
"""

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dtrtri

try:  # private in SciPy, but stable since 1.8 (the Python dcsrch since 1.11)
    from scipy.optimize._linesearch import (
        LineSearchWarning,
        scalar_search_wolfe1,
        scalar_search_wolfe2,
    )
except ImportError:  # pragma: no cover - very old SciPy
    scalar_search_wolfe1 = scalar_search_wolfe2 = None
    LineSearchWarning = Warning


@dataclass
class CGResult:
    """What ``scipy.optimize.minimize`` returns, for the fields we use."""

    x: object
    fun: float
    jac: object
    status: int
    message: str
    nit: int


@dataclass
class CGIterate:
    """The per-iteration callback's argument (SciPy's ``intermediate_result``)."""

    x: object
    fun: float
    jac: object


_MESSAGES = {
    0: "Optimization terminated successfully.",
    1: "Maximum number of iterations has been exceeded.",
    2: "Desired error not necessarily achieved due to precision loss.",
    3: "NaN result encountered.",
}


#: The sufficient-descent margin of SciPy's CG (its ``sigma_3``).
SUFFICIENT_DESCENT = 0.01
#: Powell's restart test (Powell 1977; Nocedal & Wright, eq. 5.52), in the
#: metric of the preconditioner: the conjugacy term is dropped where
#: ``|g_new . H g| >= POWELL_RESTART * g_new . H_new g_new``.
POWELL_RESTART = 0.2


class _LineSearchFailed(Exception):
    pass


class EvaluationLine:
    """``phi(a) = f(x + a p)`` and ``phi'(a)`` by full evaluations of ``fun``.

    The last trial is kept, as SciPy's line searches ask for the value and the
    slope of one step separately and for the gradient at the accepted step
    (the state of this line, as of any line; across lines,
    :class:`~sklearn_cgmlp._adapters.SciPyObjective` keeps the one cache of
    evaluated points).
    """

    def __init__(self, fun, ops, x, p):
        self.fun, self.ops, self.x, self.p = fun, ops, x, p
        self._alpha = self._value = None

    def _at(self, alpha):
        # SciPy's scalar searches hand NumPy scalars; other namespaces take
        # Python floats only (the value is the same).
        alpha = float(alpha)
        if alpha != self._alpha:
            self._value = self.fun(self.x + alpha * self.p)
            self._alpha = alpha
        return self._value

    def phi(self, alpha):
        return self._at(alpha)[0]

    def derphi(self, alpha):
        return self.ops.dot(self._at(alpha)[1], self.p)

    def gradient(self, alpha):
        return self._at(alpha)[1]


def _line_search_wolfe12(line, ops, xk, pk, gfk, old_fval, old_old_fval, *, c1, c2,
                         extra_condition):  # fmt: skip
    """SciPy's ``_line_search_wolfe12``: dcsrch, then the zoom search, on
    ``line`` (an :class:`EvaluationLine` or a line of cached products)."""
    derphi0 = ops.dot(gfk, pk)
    stp, fval, _ = scalar_search_wolfe1(
        line.phi, line.derphi, old_fval, old_old_fval, derphi0,
        c1=c1, c2=c2, amax=1e100, amin=1e-100, xtol=1e-14,
    )  # fmt: skip
    if stp is not None:
        stp = float(stp)
        gval = line.gradient(stp)
        if not extra_condition(stp, xk + stp * pk, fval, gval):
            stp = None
    if stp is None:
        # SciPy's fallback search, on the same line.
        last = {"alpha": None}

        def derphi(alpha):
            last["alpha"] = alpha
            return line.derphi(alpha)

        def extra_condition2(alpha, phi):
            alpha = float(alpha)
            if last["alpha"] != alpha:
                derphi(alpha)
            return extra_condition(alpha, xk + alpha * pk, phi, line.gradient(alpha))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LineSearchWarning)
            stp, fval, _, derphi_star = scalar_search_wolfe2(
                line.phi, derphi, old_fval, old_old_fval, derphi0, c1, c2,
                1e100, extra_condition2, maxiter=10,
            )  # fmt: skip
        gval = None if derphi_star is None else line.gradient(float(last["alpha"]))
    if stp is None:
        raise _LineSearchFailed
    return float(stp), fval, old_fval, gval


def minimize_cg(fun, x0, *, ops, gtol, maxiter, c1=1e-4, c2=0.4, callback=None,
                line=None, memory=0):  # fmt: skip
    """Minimise ``fun`` from ``x0`` by SciPy's Polak-Ribière+ CG.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (loss, grad)``: a Python float and an array of ``x``'s
        namespace, device and dtype. A non-finite point must return
        ``(inf, zeros)``.
    x0 : array of shape (n,)
        Starting point, in the namespace of ``ops``.
    ops : NumPyOps or ArrayAPIOps
        Operations of the vectors' namespace (:mod:`sklearn_cgmlp._ops`).
    gtol : float
        Stop when the largest absolute gradient entry is at most ``gtol``.
    maxiter : int
        Maximum number of iterations.
    c1, c2 : float
        Wolfe conditions of the line search.
    callback : callable, default=None
        ``callback(CGIterate)`` after each iteration; raising StopIteration
        stops the solver.
    line : callable, default=None
        ``line(x, p)`` returns the line ``x + a p`` to search (an object
        with ``phi(a)``, ``derphi(a)`` and ``gradient(a)``, such as the lines
        of cached products of :meth:`~sklearn_cgmlp._adapters.SciPyObjective.line`),
        or None; then, and without ``line``, each trial is an evaluation of
        ``fun`` (:class:`EvaluationLine`). Either way the iterates are
        SciPy's, up to the rounding of the line's values.
    memory : int, default=0
        Number of curvature pairs that precondition the iteration
        (:class:`CurvaturePairs`); 0 runs SciPy's CG unchanged.

    Returns
    -------
    result : CGResult
        ``status`` 0 (converged), 1 (maxiter), 2 (line search failed) or 3
        (NaN), as SciPy's.
    """
    if scalar_search_wolfe1 is None:  # pragma: no cover
        raise ImportError("The device-resident CG needs SciPy's line searches.")
    xk = x0
    old_fval, gfk = fun(xk)
    k = 0
    # Sets the initial step guess to dx ~ 1, as SciPy does.
    old_old_fval = old_fval + ops.norm2(gfk) / 2
    pairs = CurvaturePairs(ops, memory) if memory > 0 else None
    # The preconditioned gradient (the gradient itself without pairs).
    zk = gfk
    pk = -zk
    gnorm = ops.inf_norm(gfk)
    sigma_3 = SUFFICIENT_DESCENT
    warnflag = 0

    while gnorm > gtol and k < maxiter:
        deltak = ops.dot(gfk, zk)
        cached_step = [None]

        search = line(xk, pk) if line is not None else None
        if search is None:
            search = EvaluationLine(fun, ops, xk, pk)

        def polak_ribiere_powell_step(alpha, gfkp1, xk=xk, pk=pk, gfk=gfk,
                                      deltak=deltak, search=search,
                                      pairs=pairs, zk=zk):  # fmt: skip
            xkp1 = xk + alpha * pk
            if gfkp1 is None:
                gfkp1 = search.gradient(alpha)
            yk = gfkp1 - gfk
            if pairs is None:
                zkp1, new_pairs = gfkp1, None
                # NumPy's division, as SciPy's: a zero deltak gives inf or
                # NaN (then beta_k is 0), not an error.
                beta_k = float(max(0, np.float64(ops.dot(yk, gfkp1)) / deltak))
                pkp1 = -zkp1 + beta_k * pk
            else:
                new_pairs = pairs.with_pair(alpha * pk, yk)
                zkp1 = new_pairs.apply(gfkp1)
                pkp1 = preconditioned_direction(
                    ops, gfkp1, zkp1, zk, alpha * pk, pk, deltak
                )
            return alpha, xkp1, pkp1, gfkp1, ops.inf_norm(gfkp1), zkp1, new_pairs

        def descent_condition(alpha, xkp1, fp1, gfkp1, cached_step=cached_step,
                              step=polak_ribiere_powell_step):  # fmt: skip
            # Polak-Ribiere+ needs an explicit sufficient descent test, which
            # strong Wolfe does not guarantee (Gilbert & Nocedal, 1992).
            cached_step[:] = step(alpha, gfkp1)
            _, _, pk_new, gfk_new, gnorm_new, zk_new, _ = cached_step
            if gnorm_new <= gtol:
                return True
            return ops.dot(pk_new, gfk_new) <= -sigma_3 * ops.dot(gfk_new, zk_new)

        try:
            alpha_k, fval, old_old_fval, gfkp1 = _line_search_wolfe12(
                search, ops, xk, pk, gfk, old_fval, old_old_fval, c1=c1, c2=c2,
                extra_condition=descent_condition,
            )  # fmt: skip
        except _LineSearchFailed:
            warnflag = 2
            break
        old_fval = fval
        if alpha_k == cached_step[0]:
            step = cached_step
        else:
            step = polak_ribiere_powell_step(alpha_k, gfkp1)
        alpha_k, xk, pk, gfk, gnorm, zk, new_pairs = step
        if pairs is not None:
            pairs = new_pairs
        k += 1
        if callback is not None:
            try:
                callback(CGIterate(x=xk, fun=old_fval, jac=gfk))
            except StopIteration:
                break

    if warnflag != 2:
        if k >= maxiter:
            warnflag = 1
        elif not (np.isfinite(gnorm) and np.isfinite(old_fval)):
            warnflag = 3
    return CGResult(
        x=xk, fun=old_fval, jac=gfk, status=warnflag, message=_MESSAGES[warnflag],
        nit=k,
    )  # fmt: skip


def preconditioned_direction(ops, g, z, z_old, s_old, p_old, delta_old):
    """The next direction of the preconditioned iteration.

    Polak-Ribiere+ in the metric of the preconditioner ``H``: ``p = -z +
    beta p_old`` with ``z = H g``. The preconditioner was just updated with
    the pair ``(s_old, y_old)``, whose secant equation ``H y_old = s_old``
    turns the numerator ``z . y_old`` into ``g . s_old`` (Notay's flexible
    form); ``delta_old = g_old . z_old``. The conjugacy term is dropped
    (``beta = 0``) by Powell's restart test, and the direction is ``-z``
    where ``p`` would not be a descent direction by the margin SciPy's CG
    asks (``p . g <= -0.01 z . g``); ``-z`` is one, ``H`` being positive
    definite.
    """
    beta = float(max(0, np.float64(ops.dot(g, s_old)) / delta_old))
    if abs(ops.dot(g, z_old)) >= POWELL_RESTART * ops.dot(g, z):
        beta = 0.0
    p = -z + beta * p_old
    if not ops.dot(p, g) <= -SUFFICIENT_DESCENT * ops.dot(g, z):
        p = -z
    return p


class CurvaturePairs:
    """The limited-memory BFGS inverse-Hessian approximation of the last
    ``memory`` pairs ``s = x_new - x``, ``y = g_new - g``, as a preconditioner
    of the CG iteration.

    :meth:`apply` uses the compact representation of Byrd, Nocedal and
    Schnabel (1994; Nocedal & Wright, eq. 7.24), from ``H0 = gamma I`` with
    ``gamma = s.y / y.y`` of the newest pair: ``H g = gamma g + S c_s + Y c_y``,
    where the coefficients are a small matrix times ``(S^T g, Y^T g)``; the
    matrix is set once per pair from ``S^T Y`` (the inverse of its upper
    triangle) and ``Y^T Y``, which grow by one row and column per pair. The
    pairs lie interleaved in the rows of
    one array, so that ``S^T g`` and ``Y^T g`` are one matrix-vector product
    and ``S c_s + Y c_y`` another: two passes over the pairs per application,
    against the eight of the two-loop recursion (Nocedal & Wright, algorithm
    7.4), which gives the same ``H g`` in exact arithmetic. On a device only
    the small products cross to the host.

    Immutable as far as the iteration can tell: :meth:`with_pair` returns the
    pairs with one more and leaves these as they were, so that a line search
    may try steps without changing the memory of the iteration. The rows
    hold one pair more than ``memory``: an extension writes its new pair to
    the slot its pairs do not use, over the pair of an earlier extension of
    the same pairs, which then raises if used. A pair whose curvature ``s.y``
    is not positive (which strong Wolfe steps exclude, but rounding on a flat
    line may not) is not kept.
    """

    def __init__(self, ops, memory):
        self.ops, self.memory = ops, memory
        self._rows = None  # _PairRows, allocated with the first pair
        self._slots = ()  # the row slot of each kept pair, oldest first
        self._writes = ()  # each slot's write count when it was taken
        # s_i . y_j (upper triangle, i <= j) and y_i . y_j of the kept
        # pairs, oldest first, on the host.
        self._sy = self._yy = np.zeros((0, 0))
        # The rows of (S^T v, Y^T v) among the products with all rows, and
        # the matrix that turns them into the coefficients (c_s, c_y).
        self._rows_index = self._middle = None
        self._gamma = 1.0

    def __len__(self):
        return len(self._slots)

    def _check(self):
        if self._slots and self._rows.writes_of(self._slots) != self._writes:
            raise RuntimeError(
                "These curvature pairs were overwritten: a later extension of "
                "the pairs they came from took their newest pair's slot."
            )

    def with_pair(self, s, y):
        self._check()
        ops = self.ops
        sy = float(ops.dot(s, y))
        yy = float(ops.dot(y, y))
        if not (sy > 0 and np.isfinite(sy) and np.isfinite(yy) and yy > 0):
            return self
        if self._rows is None:
            self._rows = _PairRows(ops, self.memory + 1, s)
        rows = self._rows
        free = next(i for i in range(rows.n_slots) if i not in self._slots)
        rows.write(free, s, y)
        keep = max(0, len(self._slots) + 1 - self.memory)
        kept = self._slots[keep:]
        k = len(kept)
        SY = np.zeros((k + 1, k + 1))
        YY = np.empty((k + 1, k + 1))
        if k:
            products = rows.products(y)
            index = np.asarray(kept)
            SY[:k, :k] = self._sy[keep:, keep:]
            YY[:k, :k] = self._yy[keep:, keep:]
            SY[:k, k] = products[2 * index]
            YY[:k, k] = YY[k, :k] = products[2 * index + 1]
        SY[k, k], YY[k, k] = sy, yy
        new = CurvaturePairs(ops, self.memory)
        new._rows, new._slots = rows, kept + (free,)
        new._writes = rows.writes_of(new._slots)
        new._sy, new._yy = SY, YY
        new._prepare()
        return new

    def _prepare(self):
        """The coefficients of ``H g``, ``c_s = R^-T ((D + gamma Y^T Y) R^-1
        S^T g - gamma Y^T g)`` and ``c_y = -gamma R^-1 S^T g`` (``R`` the
        upper triangle of ``S^T Y``, ``D`` its diagonal), as one matrix
        applied to ``(S^T g, Y^T g)``: set once per pair, applied per
        gradient."""
        SY, YY = self._sy, self._yy
        k = SY.shape[0]
        gamma = float(SY[-1, -1] / YY[-1, -1])
        # LAPACK's triangular inverse: a k x k matrix (k <= memory) whose
        # diagonal, the pairs' curvatures, is positive.
        R_inv, _ = dtrtri(SY, lower=0)
        inner = gamma * YY
        inner[np.diag_indices(k)] += np.diag(SY)
        middle = np.zeros((2 * k, 2 * k))
        middle[:k, :k] = R_inv.T @ inner @ R_inv
        middle[:k, k:] = -gamma * R_inv.T
        middle[k:, :k] = -gamma * R_inv
        index = np.asarray(self._slots)
        self._rows_index = np.concatenate([2 * index, 2 * index + 1])
        self._middle, self._gamma = middle, gamma

    def apply(self, g):
        """``H g`` (``g`` itself without pairs), a new vector."""
        self._check()
        if not self._slots:
            return g
        index = self._rows_index
        coefficients = self._middle @ self._rows.products(g)[index]
        return self._rows.combination(coefficients, index, self._gamma, g)


class _PairRows:
    """The rows of :class:`CurvaturePairs`: ``s`` of slot ``i`` in row
    ``2 i``, its ``y`` in row ``2 i + 1``, slots taken from 0 up."""

    def __init__(self, ops, n_slots, like):
        self.ops, self.n_slots = ops, n_slots
        self.W = ops.zeros((2 * n_slots, like.shape[0]), like.dtype)
        self.writes = [0] * n_slots
        self.used = 0  # rows [0, 2 used) hold pairs

    def write(self, slot, s, y):
        self.W[2 * slot, ...] = s
        self.W[2 * slot + 1, ...] = y
        self.writes[slot] += 1
        self.used = max(self.used, slot + 1)

    def writes_of(self, slots):
        return tuple(self.writes[i] for i in slots)

    def products(self, v):
        """``W v`` over the rows written so far (``s_i . v`` in row ``2 i``,
        ``y_i . v`` in row ``2 i + 1``): a float64 NumPy vector, from one
        matrix-vector product."""
        ops = self.ops
        r = ops.to_numpy(ops.matmul(self.W[: 2 * self.used, :], v))
        return np.asarray(r, dtype=np.float64)

    def combination(self, coefficients, index, gamma, g):
        """``gamma g + sum_i (c_s,i s_i + c_y,i y_i)``, the coefficients of
        the rows ``index`` in ``coefficients`` (the others 0): one
        matrix-vector product, into a new vector."""
        ops = self.ops
        c = np.zeros(2 * self.used)
        c[index] = coefficients
        r = ops.matmul(ops.from_numpy(c, self.W.dtype), self.W[: 2 * self.used, :])
        if ops.is_numpy:
            r += gamma * g
            return r
        return r + gamma * g
