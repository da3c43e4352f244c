"""
===========================================
Decision boundaries of the four activations
===========================================

The same small network with each hidden activation, fitted on two
interleaving half moons. The identity activation makes the whole network
linear; the others bend the boundary.
"""

# %%
# The identity, logistic and tanh fits converge. relu makes the loss piecewise
# smooth: its fit ends on a kink of the loss, where the gradient jumps and
# cannot fall below ``tol``, and it says so with a
# :class:`~sklearn.exceptions.ConvergenceWarning`, which we record and print
# with the results. The fitted weights are the best point found, and its
# boundary is about as accurate as the smooth ones. Where the warning matters,
# pick a smooth activation such as tanh, as the message advises (see
# "Convergence diagnostics and warnings" in the user guide).
import textwrap
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay

from sklearn_cgmlp import CGMLPClassifier

X, y = make_moons(n_samples=300, noise=0.2, random_state=0)

fig, axes = plt.subplots(1, 4, figsize=(16, 4), sharey=True)
for ax, activation in zip(axes, ["identity", "logistic", "tanh", "relu"]):
    clf = CGMLPClassifier(
        hidden_layer_sizes=(16,),
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
