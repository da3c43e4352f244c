"""Peak memory of ``fit`` relative to the size of ``X``.

Memory is traced with :mod:`tracemalloc` (NumPy reports its allocations to
it); ``X`` is allocated before tracing starts, so the figures are the *extra*
memory a fit needs: weights, gradients, SciPy's solver vectors, activations
and, without chunks, the ``n_samples x hidden`` buffers and, where CG's line
searches run on cached first-layer products, their two ``n_samples x h1``
caches (given apart, from ``n_line_trials_``). With ``chunk_size`` the buffers
are bounded and lines are not cached; with a ``np.memmap`` X the data itself
stays on disk. The gelu rows show what an activation whose derivatives need
the pre-activation costs: one more ``n_samples x h`` buffer (``chunk_size x
h`` with chunks).

Fits run ``MAX_ITER`` iterations: past CG's 10 curvature pairs (and
L-BFGS-B's 10), so that the solvers' memory is full.

Run ``python benchmarks/bench_memory.py`` (under a minute on 2 cores).
"""

import argparse
import tempfile
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from _common import machine_summary, print_table
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from sklearn_cgmlp import CGMLPClassifier, _line

#: Iterations of each fit: more than the solvers keep curvature pairs.
MAX_ITER = 12


def traced_peak(func):
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            func()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=20_000)
    parser.add_argument("--n-features", type=int, default=500)
    parser.add_argument("--hidden", type=int, default=200)
    args = parser.parse_args()
    n, d, h = args.n_samples, args.n_features, args.hidden
    print(machine_summary())
    print(
        f"X: {n} x {d}, one hidden layer of {h} units, 10 classes, "
        f"{MAX_ITER} iterations"
    )
    rng = np.random.default_rng(0)
    y = rng.integers(10, size=n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for dtype in (np.float64, np.float32):
            X = rng.standard_normal((n, d), dtype=dtype)
            path = Path(tmp) / f"X_{np.dtype(dtype).name}.dat"
            mm = np.memmap(path, dtype=dtype, mode="w+", shape=X.shape)
            mm[:] = X
            mm.flush()
            X_mm = np.memmap(path, dtype=dtype, mode="r", shape=X.shape)
            cases = [
                ("CGMLPClassifier", X, None, "relu"),
                ("CGMLPClassifier, full evaluations", X, "full", "relu"),
                ("CGMLPClassifier, chunk_size=1000", X, 1000, "relu"),
                ("CGMLPClassifier, chunk_size=100", X, 100, "relu"),
                ("CGMLPClassifier, memmap X, chunk_size=1000", X_mm, 1000, "relu"),
                # gelu keeps the pre-activations of its layer: n x h more.
                ("CGMLPClassifier, gelu", X, None, "gelu"),
                ("CGMLPClassifier, gelu, full evaluations", X, "full", "gelu"),
                ("CGMLPClassifier, gelu, chunk_size=1000", X, 1000, "gelu"),
            ]
            for name, data, chunk, activation in cases:
                full = chunk == "full"
                est = CGMLPClassifier(
                    hidden_layer_sizes=(h,),
                    activation=activation,
                    max_iter=MAX_ITER,
                    chunk_size=None if full else chunk,
                    random_state=0,
                )
                pays = _line.line_pays
                if full:
                    _line.line_pays = lambda *args, **kwargs: False
                try:
                    peak = traced_peak(lambda est=est, data=data: est.fit(data, y))
                finally:
                    _line.line_pays = pays
                caches = 2 * n * h * X.itemsize if est.n_line_trials_ else 0
                rows.append(_row(name, dtype, X, peak, caches))
            mlp = MLPClassifier(
                hidden_layer_sizes=(h,),
                solver="lbfgs",
                max_iter=MAX_ITER,
                random_state=0,
            )
            peak = traced_peak(lambda mlp=mlp, X=X: mlp.fit(X, y))
            rows.append(_row("MLPClassifier(solver='lbfgs')", dtype, X, peak, 0))
    print_table(
        "Peak extra memory of fit",
        [
            "estimator", "dtype", "X (MB)", "peak extra (MB)", "peak / size of X",
            "line caches (MB)", "(peak - caches) / size of X",
        ],
        rows,
    )  # fmt: skip


def _row(name, dtype, X, peak, caches):
    return [
        name,
        np.dtype(dtype).name,
        f"{X.nbytes / 1e6:.0f}",
        f"{peak / 1e6:.1f}",
        f"{peak / X.nbytes:.3f}",
        f"{caches / 1e6:.0f}",
        f"{(peak - caches) / X.nbytes:.3f}",
    ]


if __name__ == "__main__":
    main()
