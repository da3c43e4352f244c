"""
=============================================
Train a CG-fitted MLP on the digits data set
=============================================

The main job of the package in a few lines: scale the 8x8 digit images, fit a
one-hidden-layer network full-batch with conjugate gradient, and compare it
with scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` trained by
L-BFGS on the same architecture.

Run it with ``python examples/train_digits.py`` after ``pip install .``; it
needs no plotting library.
"""

# %%
# Data and models
# ---------------
# One stratified split of the digits, and the same 64-unit network for both
# estimators.
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

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
# Each model is fitted after scaling the pixels, in a pipeline.
print(f"{'model':<24} {'test accuracy':>13} {'iterations':>10} {'fit time':>9}")
for name, model in models.items():
    pipe = make_pipeline(StandardScaler(), model)
    start = time.perf_counter()
    pipe.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    accuracy = pipe.score(X_test, y_test)
    print(f"{name:<24} {accuracy:>13.3f} {model.n_iter_:>10d} {elapsed:>8.2f}s")

cg = models["CGMLPClassifier (CG)"]
print(
    f"\nCG: {cg.n_fun_evals_} loss/gradient evaluations, final loss {cg.loss_:.5f}, "
    f"{sum(c.size + b.size for c, b in zip(cg.coefs_, cg.intercepts_))} parameters"
)

# sphinx_gallery_thumbnail_path = "_static/train_digits_thumb.png"
