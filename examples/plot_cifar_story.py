"""
=====================================================
From a stuck hand-written CG network to a working one
=====================================================

A classic story: a 3072-200-10 network with logistic hidden units for
CIFAR-10-shaped images, written by hand with a Python loop over samples, handed
to :func:`scipy.optimize.fmin_cg`. It takes minutes per gradient, its cost stays
near chance, and SciPy fails with ``shapes (616610,1) and (616610,1) not
aligned`` because the gradient is an ``(n, 1)`` column. This example replays
each failure and how it disappears, with nothing but the estimator's public
interface. The images are generated locally in the CIFAR-10 format (32x32 RGB,
integer pixels 0-255, 10 classes): no download.
"""

# %%
# CIFAR-shaped data
# -----------------
# Each class is a faint blocky colour pattern around mid-grey (within +-20 of
# 128); every image is its class pattern plus strong noise (standard deviation
# 70), stored as 0-255 integers like CIFAR-10's pixels.
import textwrap
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier

rng = np.random.default_rng(0)
n_classes, n_images = 10, 1500
coarse = 128 + rng.uniform(-20, 20, size=(n_classes, 4, 4, 3))
patterns = coarse.repeat(8, axis=1).repeat(8, axis=2)  # (10, 32, 32, 3)
y = rng.integers(n_classes, size=n_images)
images = patterns[y] + rng.normal(0, 70, size=(n_images, 32, 32, 3))
X = np.clip(images, 0, 255).astype(np.uint8).reshape(n_images, -1)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=500, stratify=y, random_state=0
)
print("X:", X.shape, X.dtype, "pixel range", X.min(), "-", X.max())

fig, axes = plt.subplots(1, 10, figsize=(12, 1.6))
for k, ax in enumerate(axes):
    ax.imshow(X_train[y_train == k][0].reshape(32, 32, 3))
    ax.set_title(f"class {k}", fontsize=8)
    ax.axis("off")


# %%
# A first fit on 200 images
# -------------------------
# The network, fitted on 200 standardised images. It converges in a few
# iterations (200 samples are easy to fit with 616,610 weights), and gives us
# its weights and the cost of one evaluation.
params = dict(hidden_layer_sizes=(200,), activation="logistic", random_state=0)
m = 200
X_small = StandardScaler().fit_transform(X_train[:m].astype(np.float64))
y_small = y_train[:m]
start = time.perf_counter()
small = CGMLPClassifier(**params).fit(X_small, y_small)
t_fit = time.perf_counter() - start
print(f"{small.n_iter_} iterations, {small.n_fun_evals_} evaluations, "
      f"training accuracy {small.score(X_small, y_small):.2f}")  # fmt: skip

# %%
# The shape error is gone by construction
# ---------------------------------------
# The solver sees all weights as one flat vector of 616,610 entries, and every
# evaluation hands it the gradient as a 1-D array of that same length, which
# the test suite checks. The fitted model shows the per-layer pieces of that
# vector:
shapes = [c.shape for c in small.coefs_] + [b.shape for b in small.intercepts_]
n_params = sum(a.size for a in small.coefs_ + small.intercepts_)
print("coefs_ and intercepts_:", shapes)
expected = 3072 * 200 + 200 * 10 + 200 + 10
print(f"parameters: {n_params}, expected 3072 * 200 + 200 * 10 + 200 + 10 = {expected}")

# %%
# A per-sample loop against the vectorized kernel
# -----------------------------------------------
# The classic loop handles one sample at a time. The estimator evaluates the
# whole batch in a few matrix products: the fit above made ``n_fun_evals_``
# evaluations of the loss and its gradient on the same 200 samples, so its time
# divided by ``n_fun_evals_`` bounds the time of one evaluation from above (it
# also includes the fit's checks and setup). The loop runs at the fitted
# weights.
(W1, W2), (b1, b2) = small.coefs_, small.intercepts_
Y_small = np.eye(n_classes)[y_small]


def per_sample_gradient(X, Y):
    gW1, gW2 = np.zeros_like(W1), np.zeros_like(W2)
    for x, t in zip(X, Y):
        a1 = expit(x @ W1 + b1)
        z2 = a1 @ W2 + b2
        p = np.exp(z2 - z2.max())
        p /= p.sum()
        d2 = p - t
        d1 = (W2 @ d2) * a1 * (1 - a1)
        gW2 += np.outer(a1, d2)
        gW1 += np.outer(x, d1)
    return gW1, gW2


start = time.perf_counter()
per_sample_gradient(X_small, Y_small)
t_loop = time.perf_counter() - start
t_eval = t_fit / small.n_fun_evals_
print(
    f"per-sample loop: {t_loop * 1e3:.0f} ms per gradient of {m} samples "
    f"({t_loop * 50_000 / m / 60:.1f} min for 50,000)"
)
print(
    f"estimator: {small.n_fun_evals_} evaluations in {t_fit * 1e3:.0f} ms, "
    f"at most {t_eval * 1e3:.1f} ms each ({t_loop / t_eval:.0f}x faster)"
)

# %%
# The stuck cost: raw 0-255 inputs saturate the logistic units
# -------------------------------------------------------------
# With raw pixels the first-layer pre-activations are in the tens or hundreds,
# so nearly every hidden unit outputs 0 or 1 and its derivative a(1 - a)
# vanishes. Fit the same network on raw and on standardised pixels, with at
# most 40 CG iterations each, and compare the training cost with chance level,
# log(10) = 2.30. The standardised fit converges within them. The raw fit is
# stuck: after 40 iterations its gradient is still far above ``tol``, and the
# :class:`~sklearn.exceptions.ConvergenceWarning` it raises says so, and says
# what to do: scale the features. We record the warning and print it here.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", ConvergenceWarning)
    raw = CGMLPClassifier(max_iter=40, **params).fit(X_train, y_train)
    scaled = make_pipeline(StandardScaler(), CGMLPClassifier(max_iter=40, **params))
    scaled.fit(X_train, y_train)
for w in caught:
    print(textwrap.fill(f"{w.category.__name__}: {w.message}", 80))

curves = {
    "raw 0-255 pixels": raw.loss_curve_,
    "StandardScaler pipeline": scaled[-1].loss_curve_,
}
for name, inputs, model in [
    ("raw 0-255", X_train.astype(float), raw),
    ("standardised", scaled[0].transform(X_train), scaled[-1]),
]:
    a1 = expit(inputs @ model.coefs_[0] + model.intercepts_[0])
    saturated = np.mean(a1 * (1 - a1) < 1e-3)
    print(f"{name:>12}: {saturated:.0%} of hidden activations saturated, "
          f"training cost {model.loss_:.2f}")  # fmt: skip
print(f"raw pixels:   test accuracy {raw.score(X_test, y_test):.2f}")
print(f"standardised: test accuracy {scaled.score(X_test, y_test):.2f}")

fig, ax = plt.subplots(figsize=(6, 4))
for name, curve in curves.items():
    ax.plot(range(1, len(curve) + 1), curve, label=name)
ax.axhline(np.log(10), color="gray", linestyle=":", label="chance, log(10)")
ax.set(xlabel="CG iteration", ylabel="training cost", yscale="log")
ax.legend()
fig.tight_layout()

# %%
# The full fit
# ------------
# The scaled pipeline fitted to convergence, with float32 data (half the
# memory; one evaluation of the 3072-200-10 network ran 2.1x faster than in
# float64 in ``benchmarks/bench_evaluation.py``, run on 2026-12-05 on a shared
# 2-core x86_64 machine, see ``benchmarks/README.md``).
# It converges well within the default ``max_iter=200``, so no warning
# appears. ``t_`` counts the samples the solver has seen: ``n_fun_evals_``
# times the training samples.
model = make_pipeline(StandardScaler(), CGMLPClassifier(**params))
start = time.perf_counter()
model.fit(X_train.astype(np.float32), y_train)
cg = model[-1]
print(
    f"{cg.n_iter_} iterations, {cg.n_fun_evals_} evaluations ({cg.t_} samples "
    f"seen) in {time.perf_counter() - start:.1f} s\nweights {cg.coefs_[0].dtype}, "
    f"test accuracy {model.score(X_test.astype(np.float32), y_test):.2f}"
)
plt.show()
