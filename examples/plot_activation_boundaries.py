"""
======================================
Decision boundaries of the activations
======================================

The same small network with each hidden activation, fitted on two
interleaving half moons: scikit-learn's four (top row), then the smooth and
leaky ones scikit-learn's MLPs lack and a network with one activation per
hidden layer (bottom row). The identity activation makes the whole network
linear; the others bend the boundary.
"""

# %%
# The identity, logistic and tanh fits converge. relu makes the loss piecewise
# smooth: its fit ends on a kink of the loss, where the gradient jumps and
# cannot fall below ``tol``, and it says so with a
# :class:`~sklearn.exceptions.ConvergenceWarning`, which we record and print
# with the results. The fitted weights are the best point found, and its
# boundary is about as accurate as the smooth ones. Where the warning matters,
# pick a smooth activation such as tanh, softplus, gelu or silu, as the message
# advises (see "Convergence diagnostics and warnings" in the user guide).
# leaky_relu has relu's kinks. Smooth is not fast: softplus, elu, gelu and silu
# are still lowering the loss slowly when they reach ``max_iter`` here, and
# say so with a ConvergenceWarning; their boundaries are as accurate. The last
# panel gives its two hidden layers their own activations,
# ``activation=("gelu", "tanh")``.
import textwrap
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay

from sklearn_cgmlp import CGMLPClassifier

X, y = make_moons(n_samples=300, noise=0.2, random_state=0)

ACTIVATIONS = ["identity", "logistic", "tanh", "relu", None]
ACTIVATIONS += ["softplus", "elu", "leaky_relu", "gelu", "silu", ("gelu", "tanh")]
fig, axes = plt.subplots(2, 6, figsize=(24, 8), sharex=True, sharey=True)
axes[0, -1].set_visible(False)
for ax, activation in zip(axes.ravel(), ACTIVATIONS):
    if activation is None:
        continue
    clf = CGMLPClassifier(
        hidden_layer_sizes=(16,) if isinstance(activation, str) else (16, 16),
        activation=activation,
        alpha=1e-2,
        max_iter=500,
        random_state=0,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(X, y)
    print(f"{activation}: accuracy {clf.score(X, y):.2f}, {clf.n_iter_} iterations")
    for w in caught:
        message = f"{w.category.__name__}: {w.message}"
        print(textwrap.indent(textwrap.fill(message, 78), "  "))
    DecisionBoundaryDisplay.from_estimator(
        clf, X, response_method="predict_proba", ax=ax, cmap="RdBu", alpha=0.8
    )
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", edgecolor="k", s=15)
    ax.set_title(f"{activation}: accuracy {clf.score(X, y):.2f}, {clf.n_iter_} it.")
fig.tight_layout()
plt.show()
