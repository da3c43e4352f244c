"""Docstring fragments shared by the classifier and the regressor.

The estimators' docstrings hold ``%(name)s`` placeholders that
:func:`fill_docstring` replaces with these entries, so that a parameter both
estimators share is documented once.
"""

import re
import textwrap

_SHARED = {}

_SHARED["hidden_layer_sizes"] = """
hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
    The ith element is the number of units in the ith hidden layer.
"""

_SHARED["activation"] = """
activation : str or tuple of str, default="relu"
    Activation function of the hidden layers: one of the names below for all
    of them, or a tuple (or list) with one name per hidden layer, as long as
    ``hidden_layer_sizes`` (e.g. ``("gelu", "tanh")`` for two hidden layers).
    It is kept as given.

    - "identity": ``f(x) = x``
    - "logistic": ``f(x) = 1 / (1 + exp(-x))``
    - "tanh": ``f(x) = tanh(x)``
    - "relu": ``f(x) = max(0, x)``
    - "softplus": ``f(x) = log(1 + exp(x))``
    - "elu": ``f(x) = x`` for ``x > 0``, else ``exp(x) - 1``
    - "leaky_relu": ``f(x) = x`` for ``x > 0``, else ``0.01 x``
    - "gelu": ``f(x) = x Phi(x)``, with ``Phi`` the standard normal
      distribution function (the exact form, not the tanh approximation)
    - "silu": ``f(x) = x / (1 + exp(-x))``

    The constants are PyTorch's defaults (``Softplus(beta=1)``,
    ``ELU(alpha=1.0)``, ``LeakyReLU(negative_slope=0.01)``,
    ``GELU(approximate="none")``, ``SiLU()``). The last five are not in
    scikit-learn's MLPs. "gelu" and "silu" keep each hidden layer's
    pre-activations during a fit, one more ``n_samples x units`` array per
    such layer (``chunk_size`` rows with ``chunk_size``).
"""

_SHARED["solver"] = """
solver : {"cg", "newton-cg", "trust-ncg", "lbfgs"}, default="cg"
    The SciPy solver; all minimise the same objective.

    - "cg": nonlinear conjugate gradient (SciPy's Polak-Ribière+ iteration
      and Wolfe line search), preconditioned by the limited-memory BFGS
      approximation of its last 10 curvature pairs, and restarted with a
      backtracking step when the line search fails on a kink of relu units.
      Needs only gradients and about 20 parameter-sized vectors.
    - "newton-cg": truncated Newton with a line search; each inner CG step
      costs one Gauss-Newton-vector product (about two evaluations).
    - "trust-ncg": truncated Newton in a trust region (Steihaug CG), with
      the same products.
    - "lbfgs": L-BFGS-B, as in MLPClassifier and MLPRegressor.

    The user guide compares them on benchmark tasks.
"""

_SHARED["alpha"] = """
alpha : float, default=0.0001
    Strength of the L2 penalty on the coefficient matrices (not the
    intercepts). As in scikit-learn's MLPs, the penalty ``alpha / 2 * ||W||^2``
    is divided by the number of samples (by the sum of the sample weights
    when ``sample_weight`` is given).
"""

_SHARED["max_iter"] = """
max_iter : int, default=200
    Maximum number of solver iterations. Each iteration of "cg" makes one
    line search, which costs one or more loss and gradient evaluations.
"""

_SHARED["tol"] = """
tol : float, default=1e-4
    Tolerance of the solver: it stops when the largest absolute entry of
    the gradient of the objective is at most ``tol`` (the infinity norm, as
    the L-BFGS solver of scikit-learn's MLPs uses), and reports convergence
    only then. With ``early_stopping``, also the least improvement of the
    validation score that counts.
"""

_SHARED["max_fun"] = """
max_fun : int, default=15000
    Maximum number of loss (and gradient) evaluations. The solver stops at
    the end of the iteration in which it is reached.
"""

_SHARED["scoring"] = """
scoring : str, callable or None, default=None
    The validation score of early stopping, where higher is better. Only
    used if ``early_stopping`` is True.

    - None: the estimator's ``score`` (accuracy for the classifier, R² for
      the regressor).
    - "loss": minus the weighted mean loss of the validation samples (the
      loss the fit minimises, without the L2 penalty), as
      HistGradientBoosting's ``scoring="loss"``: ``validation_scores_``
      then holds negative losses, and ``tol`` is in units of the loss.
    - another str: a scorer name of :func:`sklearn.metrics.get_scorer`
      (``"neg_log_loss"``, ``"balanced_accuracy"``, ...).
    - a callable ``scorer(estimator, X, y)`` (or with ``sample_weight=``)
      such as :func:`sklearn.metrics.make_scorer` returns; it is called on
      a snapshot of the model after each iteration.

    With validation sample weights, the score is weighted. ``to_npz``
    stores a string or None; a callable is refused there (pickle or skops
    store it).
"""

_SHARED["validation_fraction"] = """
validation_fraction : float, default=0.1
    Proportion of the training data set aside for early stopping. Only
    used if ``early_stopping`` is True and no ``X_val`` is given to fit.
"""

_SHARED["n_iter_no_change"] = """
n_iter_no_change : int, default=10
    Number of iterations without an improvement of at least ``tol`` of the
    validation score after which training stops. Only used if
    ``early_stopping`` is True.
"""

_SHARED["random_state"] = """
random_state : int, RandomState instance or None, default=None
    Seed of the initial weights (Glorot uniform initialisation, drawn
    exactly as scikit-learn's MLPs draw them) and of the validation split.
    Pass an int for reproducible results: the same seed gives a
    bit-identical model.
"""

_SHARED["warm_start"] = """
warm_start : bool, default=False
    When True, reuse the solution of the previous call to fit as the
    initial weights. The architecture (and the classes of a classifier)
    must not change.
"""

_SHARED["verbose"] = """
verbose : bool or int, default=False
    Print the loss and the largest absolute gradient entry at the start
    and at each iteration (numbered from 1; with ``early_stopping``, also
    the validation score), then why the fit stopped and, with
    ``early_stopping``, which iteration's weights were kept.
"""

_SHARED["chunk_size"] = """
chunk_size : int, default=None
    Evaluate the loss and gradient over at most ``chunk_size`` rows at a
    time. The extra memory of an evaluation is then bounded by
    ``O(chunk_size * max(hidden_layer_sizes))`` instead of growing with
    the number of samples, and ``X`` may be a :class:`numpy.memmap` larger
    than memory. The loss and gradient are the same up to rounding. None
    evaluates all rows at once, which is fastest when memory allows. CSC
    input is converted to CSR once when chunks are used. The curvature
    products of "newton-cg" and "trust-ncg" are not chunked. Chunks are
    used, and CG's line searches then evaluate every trial in full (their
    caches would hold every row), only where ``chunk_size`` is smaller than
    the rows of an evaluation's largest row block (all rows on a device,
    about ``n_samples / threads`` in memory, the largest Dask block).
"""

_SHARED["on_interrupt"] = """
on_interrupt : {"keep", "raise"}, default="keep"
    What Ctrl-C (``KeyboardInterrupt``) during the solver's iterations does.

    - "keep": stop training; the estimator is fitted with the last accepted
      weights, a UserWarning says so, and ``fit`` returns normally. An
      interrupt before the first accepted iteration is re-raised.
    - "raise": re-raise the ``KeyboardInterrupt``; the estimator is left as
      it was before ``fit``. Use this inside ``GridSearchCV`` or
      ``cross_validate``, so that Ctrl-C stops the whole search instead of
      one fit.
"""

_SHARED["fitted_network"] = """
coefs_ : list of ndarray of length n_layers - 1
    ``coefs_[i]`` is the weight matrix between layer ``i`` and layer
    ``i + 1``, of the dtype of the training data.

intercepts_ : list of ndarray of length n_layers - 1
    ``intercepts_[i]`` is the bias vector of layer ``i + 1``.

n_features_in_ : int
    Number of features seen during ``fit``.

feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during ``fit``. Defined only when `X`
    has feature names that are all strings.
"""

_SHARED["fitted_solver"] = """
n_iter_ : int
    Number of solver iterations of the last call to fit.

n_fun_evals_ : int
    Number of full loss and gradient evaluations of the last call to fit.

n_line_trials_ : int
    Number of trial steps of CG's line searches evaluated on cached
    first-layer products of the last call to fit (each costs a fraction of
    an evaluation; see the user guide). 0 where the fit evaluated every
    trial in full, and for the other solvers.

t_ : int
    Number of training samples seen by the solver: every evaluation sees
    all of them, so ``n_fun_evals_`` times the number of training samples.

loss_ : float
    Value of the objective (penalty included) at the fitted weights.

best_loss_ : float or None
    The smallest objective value reached; all solvers only accept descent
    steps, so it equals ``loss_``. None with ``early_stopping`` (see
    ``best_validation_score_``), as in scikit-learn's MLPs.

loss_curve_ : list of float
    Objective value after each solver iteration of the last call to fit;
    ``len(loss_curve_) == n_iter_``.
"""

_SHARED["fitted_shape"] = """
n_layers_ : int
    Number of layers, input and output included.

n_outputs_ : int
    Number of output units.
"""


def fill_docstring(cls):
    """Replace the ``%(name)s`` placeholders of ``cls.__doc__``.

    Each entry takes the indentation of the line its placeholder stands on
    (Python 3.13 strips the common indentation of docstrings, older versions
    keep it).
    """

    def entry(match):
        indent, name = match.group(1), match.group(2)
        return textwrap.indent(_SHARED[name].strip("\n"), indent)

    if cls.__doc__:
        cls.__doc__ = re.sub(r"^([ \t]*)%\((\w+)\)s$", entry, cls.__doc__, flags=re.M)
    return cls
