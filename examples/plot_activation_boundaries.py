"""
===========================================
Decision boundaries of the four activations
===========================================

The same small network with each hidden activation, fitted on two
interleaving half moons. The identity activation makes the whole network
linear; the others bend the boundary.
"""

# %%
# relu makes the loss piecewise smooth: its fit can end on a kink of the loss,
# where the gradient cannot fall below ``tol``; the ConvergenceWarning that says
# so is silenced here (see "Convergence diagnostics" in the user guide).
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import DecisionBoundaryDisplay

from sklearn_cgmlp import CGMLPClassifier

X, y = make_moons(n_samples=300, noise=0.2, random_state=0)
warnings.filterwarnings("ignore", category=ConvergenceWarning)

fig, axes = plt.subplots(1, 4, figsize=(16, 4), sharey=True)
for ax, activation in zip(axes, ["identity", "logistic", "tanh", "relu"]):
    clf = CGMLPClassifier(
        hidden_layer_sizes=(16,),
        activation=activation,
        alpha=1e-2,
        max_iter=500,
        random_state=0,
    ).fit(X, y)
    DecisionBoundaryDisplay.from_estimator(
        clf, X, response_method="predict_proba", ax=ax, cmap="RdBu", alpha=0.8
    )
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu", edgecolor="k", s=15)
    ax.set_title(f"{activation}: accuracy {clf.score(X, y):.2f}, {clf.n_iter_} it.")
fig.tight_layout()
plt.show()
