"""
=====================================
Training curves of the four solvers
=====================================

All solvers minimise the same objective from the same initial weights. Left:
the training loss per iteration (``loss_curve_``). Right: the validation
accuracy per iteration with ``early_stopping=True`` (``validation_scores_``);
the fitted model keeps the weights of the best iteration, marked with a dot.
"""

# %%
import time

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
solvers = ["cg", "newton-cg", "trust-ncg", "lbfgs"]
params = dict(hidden_layer_sizes=(64,), activation="tanh", random_state=0)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
for solver in solvers:
    start = time.perf_counter()
    clf = CGMLPClassifier(solver=solver, **params).fit(X, y)
    elapsed = time.perf_counter() - start
    ax1.semilogy(
        range(1, clf.n_iter_ + 1),
        clf.loss_curve_,
        label=f"{solver}: {clf.n_iter_} it., {clf.n_fun_evals_} evals, {elapsed:.2f}s",
    )

    stopped = CGMLPClassifier(solver=solver, early_stopping=True, **params).fit(X, y)
    scores = stopped.validation_scores_
    (line,) = ax2.plot(range(1, len(scores) + 1), scores, label=solver)
    best = scores.index(stopped.best_validation_score_) + 1
    ax2.plot(best, stopped.best_validation_score_, "o", color=line.get_color())

ax1.set(xlabel="iteration", ylabel="training loss", title="loss_curve_")
ax1.legend()
ax2.set(
    xlabel="iteration",
    ylabel="validation accuracy",
    title="early_stopping=True: validation_scores_",
    ylim=(0.8, 1.0),
)
ax2.legend()
fig.tight_layout()
plt.show()
