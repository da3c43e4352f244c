"""One loss+gradient evaluation on the motivating shape, against its floors.

The motivating network is a 3072-200-10 classifier with logistic hidden units
(CIFAR-10 shaped data) evaluated on n=10000 samples. Every implementation must
do the two big matrix products ``X @ W1`` and ``X.T @ D1`` plus the three small
ones of the output layer; their time is the *BLAS floor*. All figures of a row
are measured in the same run, so the ratios hold even when absolute times
drift on a shared machine.

Run ``python benchmarks/bench_evaluation.py`` (about 1-2 minutes on 2 cores);
``--n-samples`` shrinks the problem for a quick look.
"""

import argparse

import numpy as np
from _common import machine_summary, median_time, print_table
from sklearn.neural_network import MLPClassifier

from sklearn_cgmlp._adapters import SciPyObjective
from sklearn_cgmlp._layout import ParameterLayout
from sklearn_cgmlp._layout import glorot_init as _glorot_init
from sklearn_cgmlp._loss import MLPLoss
from sklearn_cgmlp._objective import InMemoryObjective
from sklearn_cgmlp._workspace import Workspace

N_FEATURES, N_HIDDEN, N_CLASSES = 3072, 200, 10


def make_data(n_samples, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, N_FEATURES), dtype=dtype)
    y = rng.integers(N_CLASSES, size=n_samples)
    Y = np.eye(N_CLASSES, dtype=dtype)[y]
    return X, y, Y


def floor_products(X, coefs, n_samples, dtype):
    """The five matrix products any implementation must do, preallocated."""
    W1, W2 = coefs
    rng = np.random.default_rng(1)
    A1 = np.empty((n_samples, N_HIDDEN), dtype=dtype)
    D1 = rng.standard_normal((n_samples, N_HIDDEN), dtype=dtype)
    Z2 = np.empty((n_samples, N_CLASSES), dtype=dtype)
    D2 = rng.standard_normal((n_samples, N_CLASSES), dtype=dtype)
    G1 = np.empty_like(W1)
    G2 = np.empty_like(W2)
    D1b = np.empty_like(D1)

    def run():
        np.matmul(X, W1, out=A1)
        np.matmul(A1, W2, out=Z2)
        np.matmul(A1.T, D2, out=G2)
        np.matmul(D2, W2.T, out=D1b)
        np.matmul(X.T, D1, out=G1)

    return run


def mlpclassifier_evaluation(X, y, theta64, layout):
    """The loss/gradient function MLPClassifier's L-BFGS path calls.

    It is called with the parameters in ``X``'s dtype: MLPClassifier's
    initial weights take ``X``'s dtype, and SciPy's L-BFGS-B hands the
    function vectors of its ``x0``'s floating dtype, so a float32 fit
    computes in float32.
    """
    mlp = MLPClassifier(
        hidden_layer_sizes=(N_HIDDEN,), activation="logistic", solver="lbfgs"
    )
    Y = np.eye(N_CLASSES, dtype=bool)[y]
    mlp.n_layers_ = layout.n_layers
    mlp.out_activation_ = "softmax"
    coefs, intercepts = layout.unpack(theta64.astype(X.dtype))
    mlp.coefs_, mlp.intercepts_ = list(coefs), list(intercepts)
    # The same bookkeeping as MLPClassifier._fit and _fit_lbfgs.
    mlp._coef_indptr, mlp._intercept_indptr = [], []
    for sl, shape in zip(layout.coef_slices, layout.coef_shapes):
        mlp._coef_indptr.append((sl.start, sl.stop, shape))
    for sl in layout.intercept_slices:
        mlp._intercept_indptr.append((sl.start, sl.stop))
    activations = [X] + [None] * (layout.n_layers - 1)
    deltas = [None] * (layout.n_layers - 1)
    coef_grads = [np.empty(s, dtype=X.dtype) for s in layout.coef_shapes]
    intercept_grads = [np.empty(s[1], dtype=X.dtype) for s in layout.coef_shapes]

    theta = theta64.astype(X.dtype)

    def run():
        return mlp._loss_grad_lbfgs(
            theta, X, Y, None, activations, deltas, coef_grads, intercept_grads
        )

    return run


def per_sample_loop(X, Y, theta, layout):
    """The classic hand-written gradient: ``np.matrix``, one sample at a time.

    This is the style of the motivating story (and of many course notes): a
    Python loop over samples, matrix algebra per sample, gradients accumulated
    with ``G = G + ...``.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        (W1, W2), (b1, b2) = (
            [np.matrix(a) for a in group] for group in layout.unpack(theta)
        )
        gW1, gW2 = np.matrix(np.zeros(W1.shape)), np.matrix(np.zeros(W2.shape))
        gb1, gb2 = np.matrix(np.zeros(b1.shape)), np.matrix(np.zeros(b2.shape))
        cost = 0.0
        for i in range(X.shape[0]):
            x, t = np.matrix(X[i]), np.matrix(Y[i])
            a1 = 1.0 / (1.0 + np.exp(-(x * W1 + b1)))
            z2 = a1 * W2 + b2
            p = np.exp(z2) / np.sum(np.exp(z2))
            cost = cost - (np.log(p) * t.T)[0, 0]
            d2 = p - t
            d1 = np.multiply(d2 * W2.T, np.multiply(a1, 1 - a1))
            gW2 = gW2 + a1.T * d2
            gb2 = gb2 + d2
            gW1 = gW1 + x.T * d1
            gb1 = gb1 + d1
    return cost, gW1, gW2, gb1, gb2


def measure(dtype, layout, theta64, args):
    """Median times (s) of each implementation for one dtype."""
    n = args.n_samples
    X, y, Y = make_data(n, dtype)
    theta = theta64.astype(dtype)
    coefs, _ = layout.unpack(theta)
    loss = MLPLoss(layout, "logistic", "softmax", 1e-4)
    workspace = Workspace(layout.layer_units, n, dtype)
    grad = np.empty_like(theta)

    def kernel():
        return loss.loss_gradient(theta, X, Y, grad=grad, workspace=workspace)

    # The objective a fit builds, on one thread as the kernel above.
    objective = SciPyObjective(InMemoryObjective(X, Y, loss=loss, n_threads=1))
    m = args.loop_samples
    return {
        "floor": median_time(floor_products(X, coefs, n, dtype), args.repeat),
        "kernel": median_time(kernel, args.repeat),
        "scipy": median_time(lambda: objective.evaluate(theta64), args.repeat),
        "chunked": median_time(
            lambda: loss.loss_gradient(theta, X, Y, chunk_size=1000), args.repeat
        ),
        "mlp": median_time(
            mlpclassifier_evaluation(X, y, theta64, layout), args.repeat
        ),
        "loop": median_time(
            lambda: per_sample_loop(X[:m], Y[:m], theta, layout), 1, warmup=0
        )
        * (n / m),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--loop-samples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.n_samples
    print(machine_summary())
    print(
        f"shape: n={n}, {N_FEATURES}-{N_HIDDEN}-{N_CLASSES}, logistic hidden units, "
        f"softmax output; median of {args.repeat} runs"
    )
    layout = ParameterLayout([N_FEATURES, N_HIDDEN, N_CLASSES])
    theta64 = _glorot_init(layout, "logistic", 0)
    rows, times = [], {}
    for dtype in (np.float64, np.float32):
        t = times[dtype] = measure(dtype, layout, theta64, args)
        rows.append(
            [
                np.dtype(dtype).name,
                f"{t['floor'] * 1e3:.0f}",
                f"{t['kernel'] * 1e3:.0f}",
                f"{t['kernel'] / t['floor']:.3f}",
                f"{t['scipy'] / t['floor']:.3f}",
                f"{t['chunked'] / t['floor']:.3f}",
                f"{t['mlp'] / t['kernel']:.2f}",
                f"{t['loop'] / t['kernel']:.0f}",
            ]
        )
    print_table(
        "One loss+gradient evaluation",
        [
            "dtype",
            "floor (ms)",
            "ours (ms)",
            "ours / floor",
            "via SciPy adapter / floor",
            "chunks of 1000 / floor",
            "MLPClassifier / ours",
            "per-sample loop / ours",
        ],
        rows,
    )
    t64, t32 = times[np.float64], times[np.float32]
    print(
        f"\nfloat32 speed-up over float64: ours {t64['kernel'] / t32['kernel']:.2f}x, "
        f"floor {t64['floor'] / t32['floor']:.2f}x, "
        f"MLPClassifier {t64['mlp'] / t32['mlp']:.2f}x"
    )
    print(
        f"per-sample loop: {t64['loop']:.1f} s per float64 gradient (extrapolated "
        f"from {args.loop_samples} samples)"
    )


if __name__ == "__main__":
    main()
