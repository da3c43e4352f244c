"""
=============================================
Train a CG-fitted MLP on the digits data set
=============================================

The main job of the package in a few lines: scale the 8x8 digit images, fit a
one-hidden-layer network full-batch with conjugate gradient, and compare it
with scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` trained by
L-BFGS on the same architecture.

Fit times are taken twice: with every BLAS library limited to one thread
(the like-for-like comparison), and with the default threads. NumPy's and
SciPy's wheels each bundle an OpenBLAS with its own thread pool; at the
default threads MLPClassifier's L-BFGS calls both on small matrices, and their
threads contend for the cores (how much depends on the machine and its load),
while CGMLPClassifier keeps SciPy's pool on one thread during its fit. Each
time is the median of three fits.

Run it with ``python examples/train_digits.py`` after ``pip install .``; it
needs no plotting library.
"""

# %%
# Data and models
# ---------------
# One stratified split of the digits, and the same 64-unit network for both
# estimators.
import os
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_cgmlp import CGMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

models = {
    "CGMLPClassifier (CG)": CGMLPClassifier(
        hidden_layer_sizes=(64,), max_iter=500, random_state=0
    ),
    "MLPClassifier (L-BFGS)": MLPClassifier(
        hidden_layer_sizes=(64,), solver="lbfgs", max_iter=500, random_state=0
    ),
}

# %%
# Fit and score
# -------------
# Each model is fitted after scaling the pixels, in a pipeline: three times
# with every BLAS library (NumPy's and SciPy's alike) limited to one thread,
# three times with the default threads.


def median_fit_time(pipe, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        pipe.fit(X_train, y_train)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# The last two columns are fit times, in seconds: with every BLAS library on
# one thread, and at the default BLAS threads (each library's own default,
# usually one thread per core).
print("Fit times (s), medians of 3 fits, by BLAS threads:")
print(
    f"{'model':<24}{'accuracy':>9}{'iterations':>11}"
    f"{'1 BLAS thread':>15}{'default BLAS threads':>22}"
)
for name, model in models.items():
    pipe = make_pipeline(StandardScaler(), model)
    with threadpool_limits(limits=1, user_api="blas"):
        one_thread = median_fit_time(pipe)
    default = median_fit_time(pipe)
    accuracy = pipe.score(X_test, y_test)
    print(
        f"{name:<24}{accuracy:>9.3f}{model.n_iter_:>11d}"
        f"{one_thread:>14.3f}s{default:>21.3f}s"
    )

# %%
# Why the default-BLAS-threads column differs
# -------------------------------------------
# Say which BLAS thread pools were running at the default BLAS threads.
pools = [
    f"{os.path.basename(os.path.dirname(i['filepath']))}: {i['num_threads']} threads"
    for i in threadpool_info()
    if i["user_api"] == "blas"
]
print(f"\nBLAS pools at the default BLAS threads: {'; '.join(pools)}.")
if len(pools) > 1:
    print(
        "MLPClassifier's L-BFGS calls both pools on small matrices, and their threads\n"
        "contend for the cores (more so on a busy machine); CGMLPClassifier keeps\n"
        "SciPy's pool on one thread while it fits. The 1-BLAS-thread column compares\n"
        "the two solvers without that contention."
    )

cg = models["CGMLPClassifier (CG)"]
print(
    f"\nCG: {cg.n_fun_evals_} loss/gradient evaluations, final loss {cg.loss_:.5f}, "
    f"{sum(c.size + b.size for c, b in zip(cg.coefs_, cg.intercepts_))} parameters"
)

# sphinx_gallery_thumbnail_path = "_static/train_digits_thumb.png"
