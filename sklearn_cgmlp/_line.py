"""Line searches on cached first-layer products (pure kernel).

Along a search line ``theta + a p`` the first layer's pre-activations are
affine in the step::

    Z1(a) = X (W1 + a P1) + (b1 + a q1) = Z1(0) + a U,   U = X P1 + q1.

With ``Z1(0)`` and ``U`` kept, a trial step needs no product with ``X``: its
loss comes from the layers above the first, and its slope
``phi'(a) = grad(a) . p`` from the same pass without ``X^T delta1``:

- the first layer's share is ``sum(delta1 * U)``;
- the layers above give theirs from their own small gradients;
- the L2 term is a quadratic in ``a``, whose three coefficients are computed
  once per line.

Per iteration of a line search method this costs one product ``X P1`` (the
next line's ``U``), one product ``X^T delta1`` (the gradient at the accepted
step, whose forward pass is ``Z1(0) + a U``), and a few passes over
``n_samples x h1`` values per trial: about one evaluation, against one
evaluation *per trial* without the cache.

``Z1(0)`` of the next line is the previous line's ``Z1(0) + a U``; rounding
drifts it from ``X W1 + b1`` over many lines, so :class:`BlockLine` computes it
exactly again every :data:`EXACT_EVERY` lines (and whenever the next line does
not start where the previous one ended).

:class:`BlockLine` holds the caches of one block of rows; the objectives
(:mod:`sklearn_cgmlp._objective`, :mod:`sklearn_cgmlp._dask.objective`) hold
one per block, sum the blocks' values and add the L2 term
(:class:`PenaltyLine`). :func:`line_pays` is the rule for when the cache pays.
"""

from scipy import sparse

from ._workspace import accumulate

#: Lines that continue from the previous one before ``Z1(0)`` is computed
#: exactly again (see the module docstring and benchmarks/README.md).
EXACT_EVERY = 50


class BlockLine:
    """The first-layer caches of one block of rows, and the passes over it.

    Parameters
    ----------
    loss : MLPLoss
        The network and its loss.
    X, Y, sample_weight
        The block's rows (see
        :meth:`~sklearn_cgmlp._loss.MLPLoss.data_loss_gradient`).
    scale : float
        Factor of the data term (``1 / S`` of the whole objective).
    chunk_size : int or None
        Rows per chunk of the passes (the caches hold every row).
    workspace : Workspace or None
        NumPy scratch buffers for ``chunk_size`` rows, shared with the
        block's full evaluations (None for other namespaces).
    ops : NumPyOps or ArrayAPIOps
        Operations of the block's namespace.
    """

    def __init__(self, loss, X, Y, sample_weight, *, scale, chunk_size,
                 workspace, ops):  # fmt: skip
        self.loss = loss
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.scale, self.chunk_size = scale, chunk_size
        self.workspace, self.ops = workspace, ops
        self.Z1 = None  # X W1 + b1 at the start of the current line
        self.U = None  # X P1 + q1 of the current direction
        self.end = None  # the step of the last gradient on the current line
        self.lines_since_exact = 0

    def release(self):
        """Drop the caches (they are rebuilt by the next :meth:`start`)."""
        self.Z1 = self.U = self.end = None

    def _first_layer_product(self, W, b, out):
        """``X W + b`` of the whole block (into ``out`` with NumPy)."""
        ops = self.ops
        if sparse.issparse(self.X) or out is None:
            Z = ops.matmul(self.X, W)
            if out is not None:
                out[...] = Z
                Z = out
        else:
            Z = ops.matmul(self.X, W, out=out)
        Z += b
        return Z

    def start(self, theta, p, continues):
        """Set up the line ``theta + a p``.

        ``continues``: whether ``theta`` is the point of this block's last
        :meth:`gradient` (the previous line's accepted step), so that
        ``Z1(0)`` follows from the previous line's caches.
        """
        ops = self.ops
        coefs, intercepts = self.loss.layout.unpack(theta, ops.xp)
        P, q = self.loss.layout.unpack(p, ops.xp)
        continues = (
            continues and self.end is not None and self.lines_since_exact < EXACT_EVERY
        )
        if continues:
            # Z1 += end * U, with U (about to be replaced) as scratch.
            if ops.is_numpy:
                self.U *= self.end
                self.Z1 += self.U
            else:
                self.Z1 = self.Z1 + self.end * self.U
            self.lines_since_exact += 1
        else:
            self.Z1 = self._first_layer_product(coefs[0], intercepts[0], self.Z1)
            self.lines_since_exact = 0
        self.U = self._first_layer_product(P[0], q[0], self.U)
        self.end = None

    def _first_layer(self, a):
        """``first_layer`` of :meth:`~sklearn_cgmlp._loss.MLPLoss.pass_rows`:
        ``Z1(0) + a U``."""
        ops, Z1, U = self.ops, self.Z1, self.U

        def first_layer(Xc, start, stop, out):
            if ops.is_numpy:
                Z = ops.xp.multiply(U[start:stop], a, out=out)
                Z += Z1[start:stop]
                return Z
            return Z1[start:stop, ...] + a * U[start:stop, ...]

        return first_layer

    def _pass(self, a, upper, grads, first_delta):
        coefs, intercepts = upper
        return self.loss.pass_rows(
            self.X, self.Y, self.sample_weight, self.scale, self.chunk_size,
            self.workspace, self.ops, coefs=coefs, intercepts=intercepts,
            grads=grads, first_layer=self._first_layer(a), first_delta=first_delta,
        )  # fmt: skip

    def trial(self, a, upper, direction):
        """The block's data loss at step ``a`` and its slope along the line.

        ``upper`` are the per-layer ``(coefs, intercepts)`` at the step (the
        first layer's are not used), ``direction`` the per-layer ``(P, q)``.
        """
        ops = self.ops
        n_layers = len(upper[0])
        coef_grads, intercept_grads = [None] * n_layers, [None] * n_layers
        slope = [0.0]
        U = self.U

        def first_delta(Xc, start, stop, delta, first):
            slope[0] += ops.vdot(delta, U[start:stop, ...])

        value = self._pass(a, upper, (coef_grads, intercept_grads), first_delta)
        P, q = direction
        for i in range(1, n_layers):
            slope[0] += ops.vdot(coef_grads[i], P[i]) + ops.vdot(
                intercept_grads[i], q[i]
            )
        return value, slope[0]

    def gradient(self, a, upper, grad):
        """The block's data loss at step ``a``; its gradient goes into
        ``grad`` (NumPy) or is returned (``(loss, grad)``, other
        namespaces). The step becomes this block's ``end``."""
        ops = self.ops
        layout = self.loss.layout
        n_layers = len(upper[0])
        if grad is not None:
            coef_grads, intercept_grads = layout.unpack(grad)
        else:
            coef_grads, intercept_grads = [None] * n_layers, [None] * n_layers
        workspace = self.workspace
        coef_tmp = workspace.coef_tmp if workspace is not None else [None] * n_layers

        def first_delta(Xc, start, stop, delta, first):
            accumulate(0, Xc, delta, first, coef_grads, intercept_grads, coef_tmp, ops)

        value = self._pass(a, upper, (coef_grads, intercept_grads), first_delta)
        self.end = a
        if grad is None:
            grad = layout.flatten(coef_grads, intercept_grads, ops)
        return value, grad


class PenaltyLine:
    """The L2 term along ``theta + a p``: ``s / 2 * (c0 + 2 a c1 + a**2 c2)``
    over the coefficient entries, with ``s = alpha / S``."""

    def __init__(self, loss, theta, p, strength, ops):
        coefs = slice(0, loss.n_coefs)
        W, P = theta[coefs], p[coefs]
        self.strength = strength
        if strength:
            self.c0, self.c1, self.c2 = (ops.vdot(W, W), ops.vdot(W, P), ops.vdot(P, P))
        else:
            self.c0 = self.c1 = self.c2 = 0.0

    def value(self, a):
        return 0.5 * self.strength * (self.c0 + a * (2.0 * self.c1 + a * self.c2))

    def slope(self, a):
        return self.strength * (self.c1 + a * self.c2)


def step_parameters(loss, theta, p, a, out, ops, *, first_layer=False):
    """The parameters ``theta + a p`` of the layers above the first (all
    layers with ``first_layer``), as per-layer ``(coefs, intercepts)``.

    With NumPy they are written into ``out`` (a parameter-sized buffer);
    the first layer's coefficients there are left as they were unless
    ``first_layer``. The arithmetic is the solver's ``x + a * p``.
    """
    start = 0 if first_layer else loss.layout.coef_slices[0].stop
    if ops.is_numpy:
        part = slice(start, None)
        step = ops.xp.multiply(p[part], a, out=out[part])
        step += theta[part]
        theta_a = out
    else:
        theta_a = theta + a * p
    return loss.layout.unpack(theta_a, ops.xp), theta_a


def line_pays(layer_units, n_rows, nnz_per_row, *, sparse_input=False,
              chunked=False):  # fmt: skip
    """Whether trials on cached first-layer products pay off (the rule).

    Never when the rows are evaluated in chunks (``chunked``): ``chunk_size``
    asks for scratch memory bounded by the chunk, and the two caches hold
    ``n_rows x h1`` values each.

    Without the cache an iteration of CG costs about two full evaluations
    (one per trial); with it, about one (the accepted step's gradient and
    the next line's product) plus a trial's cost per trial. The cache is
    used where :func:`trial_cost_ratio` models a trial at most
    :data:`MAX_TRIAL_COST` of an evaluation. Its constants were fitted to
    single-threaded timings of 15 shapes, dense and sparse, float64 and
    float32, on one machine (benchmarks/README.md): the modelled ratio came
    within 0.1 of the measured one, and every shape the rule takes had a
    measured ratio below 0.3.
    """
    if chunked:
        return False
    ratio = trial_cost_ratio(
        layer_units, n_rows, nnz_per_row, sparse_input=sparse_input
    )
    return ratio <= MAX_TRIAL_COST


#: Largest modelled cost of a trial, relative to a full evaluation, at which
#: the cached line is used.
MAX_TRIAL_COST = 0.3
#: Model constants, in multiply-adds of a dense matrix product: the cost of
#: one pass over one pre-activation entry, of one multiply-add of a sparse
#: product, and the fixed cost of one layer of a pass (NumPy calls).
ELEMENT_COST = 11.0
SPARSE_COST = 8.0
LAYER_OVERHEAD = 2.0e4


def trial_cost_ratio(layer_units, n_rows, nnz_per_row, *, sparse_input=False):
    """Modelled cost of a cached trial relative to a full evaluation.

    In multiply-adds: a full evaluation makes two products with ``X``
    (``2 n nnz h1``, each multiply-add of a sparse ``X`` costing
    :data:`SPARSE_COST`), three products per layer above (forward, gradient,
    backpropagation) and about four element-wise passes per unit; a trial
    makes the same except the two products with ``X``, plus two passes over
    the first layer's units (``Z1(0) + a U`` and the slope term). Every
    layer of a pass costs :data:`LAYER_OVERHEAD` besides.
    """
    n = float(n_rows)
    units = list(layer_units)
    h1 = units[1]
    upper = sum(a * b for a, b in zip(units[1:-1], units[2:]))
    elements = sum(units[1:])
    overhead = LAYER_OVERHEAD * (len(units) - 1)
    common = 3 * n * upper + 4 * ELEMENT_COST * n * elements + overhead
    product = SPARSE_COST if sparse_input else 1.0
    evaluation = 2 * n * nnz_per_row * h1 * product + common
    trial = common + 2 * ELEMENT_COST * n * h1
    return trial / evaluation
