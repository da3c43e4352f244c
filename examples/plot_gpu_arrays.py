"""
Fitting on GPU arrays (and any array API library)
=================================================

With scikit-learn's array API dispatch, :class:`~sklearn_cgmlp.CGMLPClassifier`
fits and predicts on PyTorch tensors (or CuPy, or array-api-strict arrays)
where they are: on a GPU when there is one. The loss, the gradient and the
conjugate-gradient iteration itself run on that device; only scalars travel
to the host.

This example uses PyTorch on CUDA when available, PyTorch on the CPU
otherwise, and array-api-strict when PyTorch is not installed, so it runs
everywhere. It fits the same network on NumPy arrays and on the device and
shows that both take the same steps.
"""

# %%
# Array API dispatch needs ``SCIPY_ARRAY_API=1`` before SciPy is imported
# (in a script: at its very top, or exported in the shell).
import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn import config_context
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier

try:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"

    def to_device(a):
        return torch.asarray(a, device=device)

    where = f"PyTorch on {device}"
except ImportError:
    import array_api_strict as xp

    def to_device(a):
        return xp.asarray(a)

    where = "array-api-strict"
print(f"Device arrays: {where}")

# %%
# The digits data in float64 (the device fit then takes exactly the steps of
# the NumPy fit; float32 would also stay float32 on the device).
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
params = dict(hidden_layer_sizes=(64,), activation="tanh", random_state=0)

start = time.perf_counter()
on_host = CGMLPClassifier(**params).fit(X_train, y_train)
host_time = time.perf_counter() - start

X_train_d, y_train_d = to_device(X_train), to_device(y_train)
X_test_d, y_test_d = to_device(X_test), to_device(y_test)
with config_context(array_api_dispatch=True):
    start = time.perf_counter()
    on_device = CGMLPClassifier(**params).fit(X_train_d, y_train_d)
    device_time = time.perf_counter() - start
    proba = on_device.predict_proba(X_test_d)
    accuracy = on_device.score(X_test_d, y_test_d)

print(f"fitted weights live on: {type(on_device.coefs_[0]).__module__}")
print(f"probabilities live on:  {type(proba).__module__}")
print(f"NumPy fit:  {on_host.n_iter_} iterations, {host_time:.2f} s, "
      f"test accuracy {on_host.score(X_test, y_test):.3f}")  # fmt: skip
print(f"device fit: {on_device.n_iter_} iterations, {device_time:.2f} s, "
      f"test accuracy {accuracy:.3f}")  # fmt: skip
gap = np.max(np.abs(np.subtract(on_host.loss_curve_, on_device.loss_curve_)))
print(f"largest difference of the loss curves: {gap:.2g}")

# %%
# The two loss curves lie on top of each other: the device-resident CG takes
# the host CG's steps (one iteration, in two namespaces). The times printed
# above are this run's; whether, and from what problem size, a GPU fit is
# faster than the CPU has not been measured (no GPU has been available to
# the project; see :ref:`the GPU guide <gpu>`). An expectation, not a
# measurement: a problem this small leaves a GPU mostly idle, and more rows
# and wider layers are where one could help. On the CPU, PyTorch tensors
# were slower than NumPy arrays in the guide's measurements.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(on_host.loss_curve_, lw=3, alpha=0.5, label="NumPy (host CG)")
ax.semilogy(on_device.loss_curve_, "--", label=f"{where} (device CG)")
ax.set_xlabel("iteration")
ax.set_ylabel("training loss")
ax.legend()
fig.tight_layout()
plt.show()
