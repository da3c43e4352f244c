"""
=============================
Exporting a pipeline to ONNX
=============================

``import sklearn_cgmlp.onnx`` registers converters for
:class:`~sklearn_cgmlp.CGMLPClassifier` and
:class:`~sklearn_cgmlp.CGMLPRegressor` with skl2onnx. A whole pipeline, here a
``ColumnTransformer`` that scales two groups of columns differently followed by
the classifier, then converts to one ONNX graph, which onnxruntime runs without
Python or this package (from C, C++, C#, Java or JavaScript as well). This
example converts the pipeline for float32 and for float64 inputs, runs both
graphs and compares their labels and probabilities with ``predict`` and
``predict_proba``. It needs the ``onnx`` extra (skl2onnx, onnx, onnxruntime).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

import sklearn_cgmlp.onnx  # noqa: F401  (registers the converters)
from sklearn_cgmlp import CGMLPClassifier

X, y = load_wine(return_X_y=True)
labels = np.array(["barolo", "grignolino", "barbera"])[y]
X_train, X_test, y_train, y_test = train_test_split(
    X, labels, stratify=labels, random_state=0
)
columns = ColumnTransformer(
    [
        ("chemistry", StandardScaler(), list(range(12))),
        ("proline", MinMaxScaler(), [12]),
    ]
)
clf = make_pipeline(
    columns,
    CGMLPClassifier(hidden_layer_sizes=(16,), activation="tanh", random_state=0),
)
clf.fit(X_train, y_train)
print(f"test accuracy: {clf.score(X_test, y_test):.3f}")

# %%
# Conversion and inference
# ------------------------
# The sample given to ``to_onnx`` sets the input type. ``zipmap=False`` gives
# the probabilities as a matrix (the default, a list of dictionaries, exists
# for float32 only). The test rows are followed by rows far outside the
# training data, where the logits are extreme.
rng = np.random.default_rng(0)
far = X_test[:10] * rng.uniform(-50, 50, size=(10, X.shape[1]))
rows = np.vstack([X_test, far])


def run_onnx(dtype):
    graph = to_onnx(clf, X_train[:1].astype(dtype), options={"zipmap": False})
    session = ort.InferenceSession(
        graph.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    inputs = {session.get_inputs()[0].name: rows.astype(dtype)}
    label, proba = session.run(None, inputs)
    return graph, label, proba


differences = {}
for dtype in (np.float32, np.float64):
    graph, label, proba = run_onnx(dtype)
    ours = clf.predict_proba(rows.astype(dtype))
    differences[np.dtype(dtype).name] = np.abs(proba - ours).max(axis=1)
    print(
        f"{np.dtype(dtype).name} graph: {len(graph.graph.node)} nodes, "
        f"{len(graph.SerializeToString()) / 1024:.1f} KiB; labels equal: "
        f"{np.array_equal(label, clf.predict(rows.astype(dtype)))}; "
        f"largest probability difference: {np.abs(proba - ours).max():.1e}; "
        f"all finite: {np.isfinite(proba).all()}"
    )
print("operators:", sorted({node.op_type for node in graph.graph.node}))

# %%
# Where the graphs differ from ``predict_proba``
# ----------------------------------------------
# The float64 graph computes what ``predict_proba`` computes up to the rounding
# of float64; with float32 inputs the pipeline (fitted on float64 data)
# still computes the network in float64, as ``predict`` does, and only the
# scaled inputs and the probabilities are rounded to float32.
fig, ax = plt.subplots(figsize=(6.4, 3.2))
for name, diff in differences.items():
    ax.semilogy(np.maximum(diff, 1e-18), ".", label=f"{name} graph")
ax.axvline(len(X_test) - 0.5, color="grey", lw=0.8)
ax.text(len(X_test) + 0.5, 1e-3, "far rows", color="grey")
ax.set_xlabel("row")
ax.set_ylabel("max |ONNX - ours| (floor 1e-18)")
ax.legend(loc="center left")
fig.tight_layout()
