"""
=========================================
Hidden features of digits, and their uses
=========================================

``transform`` returns the activations of the network's last hidden layer:
features it learned while it was trained to classify. This example trains a
:class:`~sklearn_cgmlp.CGMLPClassifier` on handwritten digits, stopping early
on a validation set of its own (``fit(X, y, X_val=..., y_val=...)``, scored
by the validation loss with ``scoring="loss"``), then

- plots the digits of a test set in the plane of the first two principal
  components, of the raw pixels and of the hidden features;
- feeds the hidden features, as a DataFrame named by
  ``get_feature_names_out``, to a second model in a pipeline.
"""

# %%
# Train with a validation set of our own
# --------------------------------------
# The validation set replaces the ``validation_fraction`` split: all of the
# training set is trained on. With ``scoring="loss"`` the validation scores
# are minus the validation loss (higher is better, as in
# HistGradientBoosting), and the model keeps the weights of the best one.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0
)
X_train, X_val, y_train, y_val = train_test_split(
    X_train, y_train, test_size=0.25, stratify=y_train, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_val, X_test = (scaler.transform(A) for A in (X_train, X_val, X_test))

mlp = CGMLPClassifier(
    hidden_layer_sizes=(64, 16),
    activation="tanh",
    early_stopping=True,
    scoring="loss",
    random_state=0,
)
mlp.fit(X_train, y_train, X_val=X_val, y_val=y_val)
best = int(np.argmax(mlp.validation_scores_)) + 1
print(f"{mlp.n_iter_} iterations; best validation score at iteration {best}")
print(f"test accuracy of the network: {mlp.score(X_test, y_test):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(range(1, mlp.n_iter_ + 1), mlp.validation_scores_)
ax.plot(best, mlp.best_validation_score_, "o")
ax.set(
    xlabel="iteration",
    ylabel="minus the validation loss",
    title='scoring="loss": validation_scores_',
)
fig.tight_layout()

# %%
# The hidden features in a plane
# ------------------------------
# 16 hidden units per digit, against 64 pixels: the network has gathered the
# digits of one class together, which the first two principal components of
# the features show.
hidden = mlp.transform(X_test)
print("hidden features:", hidden.shape)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
for ax, data, title in (
    (axes[0], X_test, "raw pixels"),
    (axes[1], hidden, "last hidden layer (transform)"),
):
    plane = PCA(n_components=2).fit_transform(data)
    points = ax.scatter(*plane.T, c=y_test, cmap="tab10", s=12)
    ax.set(title=f"PCA of the {title}", xticks=[], yticks=[])
fig.colorbar(points, ax=axes, label="digit")

# %%
# The hidden features feed a second model
# ---------------------------------------
# The fitted network is a transformer too: in a pipeline, its features (here
# as a DataFrame, with ``set_output(transform="pandas")``) are the input of a
# logistic regression. The pipeline refits the network on the training set
# (without early stopping, which needs a validation set of its own here).
pipe = make_pipeline(
    CGMLPClassifier(hidden_layer_sizes=(64, 16), activation="tanh",
                    random_state=0),
    LogisticRegression(max_iter=1000),
).set_output(transform="pandas")  # fmt: skip
pipe.fit(X_train, y_train)
features = pipe[:-1].transform(X_test)
print(features.iloc[:3, :4])
print(f"test accuracy of the logistic regression on them: "
      f"{pipe.score(X_test, y_test):.3f}")  # fmt: skip
plt.show()
