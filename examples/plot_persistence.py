"""
===========================
Saving and loading a model
===========================

Two ways to store a fitted :class:`~sklearn_cgmlp.CGMLPClassifier`:

* :func:`joblib.dump` (or :mod:`pickle`): the whole Python object, bit-identical after
  loading. The file records the sklearn-cgmlp version and loading it under
  another version warns. Never load a pickle from an untrusted source: it can
  execute code.
* ``to_npz`` / ``from_npz``: weights, classes, feature names and parameters as
  plain arrays and JSON, read back with :func:`numpy.load` (``allow_pickle=False``). The
  loader validates every shape and value; nothing in the file is executed.
"""

# %%
import tempfile
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_wine
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier

X, y = load_wine(return_X_y=True)
X = StandardScaler().fit_transform(X)
labels = np.array(["barolo", "grignolino", "barbera"])[y]
clf = CGMLPClassifier(hidden_layer_sizes=(16,), activation="tanh", random_state=0)
clf.fit(X, labels)
folder = Path(tempfile.mkdtemp())

# %%
# joblib round trip
# -----------------
joblib.dump(clf, folder / "model.joblib")
loaded = joblib.load(folder / "model.joblib")
print(
    "joblib: identical probabilities:",
    np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)),
)

# %%
# Pickle-free export
# ------------------
clf.to_npz(folder / "model.npz")
restored = CGMLPClassifier.from_npz(folder / "model.npz")
print(
    "npz: identical probabilities:",
    np.array_equal(restored.predict_proba(X), clf.predict_proba(X)),
)
print("classes:", restored.classes_)
with np.load(folder / "model.npz", allow_pickle=False) as data:
    print("arrays in the file:", sorted(data.files))

# %%
# A damaged file is refused with a clear error instead of giving wrong
# predictions.
with np.load(folder / "model.npz", allow_pickle=False) as data:
    arrays = {name: data[name] for name in data.files}
arrays["intercept_0"] = arrays["intercept_0"][:-1]
np.savez(folder / "damaged.npz", **arrays)
try:
    CGMLPClassifier.from_npz(folder / "damaged.npz")
except ValueError as exc:
    print("ValueError:", exc)
