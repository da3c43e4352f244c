"""
==========================
Quick start on the digits
==========================

Fit a one-hidden-layer network full batch with conjugate gradient on
scikit-learn's 8x8 digits, look at its convergence and at its errors.
"""

# %%
# Fit
# ---
# Scale the pixels, then fit. ``loss_curve_`` has one entry per CG iteration.
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
cgmlp = CGMLPClassifier(hidden_layer_sizes=(64,), activation="tanh", random_state=0)
model = make_pipeline(StandardScaler(), cgmlp).fit(X_train, y_train)
print(f"test accuracy: {model.score(X_test, y_test):.3f}")
print(
    f"{cgmlp.n_iter_} iterations, {cgmlp.n_fun_evals_} loss/gradient evaluations, "
    f"final loss {cgmlp.loss_:.2e}"
)

# %%
# Convergence and errors
# ----------------------
# The training loss falls at every iteration (a full-batch solver with a line
# search never goes uphill); the confusion matrix shows the few test errors.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
ax1.semilogy(range(1, cgmlp.n_iter_ + 1), cgmlp.loss_curve_)
ax1.set(xlabel="CG iteration", ylabel="training loss", title="loss_curve_")
ConfusionMatrixDisplay.from_estimator(model, X_test, y_test, ax=ax2, colorbar=False)
ax2.set_title("test set")
fig.tight_layout()
plt.show()
