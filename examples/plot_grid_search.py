"""
==================================================
Tuning alpha and the layer size with GridSearchCV
==================================================

:class:`~sklearn_cgmlp.CGMLPClassifier` is an ordinary scikit-learn estimator:
it goes into a :class:`~sklearn.pipeline.Pipeline` and its parameters are
searched by :class:`~sklearn.model_selection.GridSearchCV`, here on all
cores with ``n_jobs=-1``. With a fixed ``random_state`` every fit is
deterministic, so the search is reproducible.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_cgmlp import CGMLPClassifier

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
pipe = make_pipeline(
    StandardScaler(), CGMLPClassifier(activation="tanh", max_iter=300, random_state=0)
)
alphas = [1e-4, 1e-2, 1.0, 10.0]
sizes = [(8,), (32,), (128,)]
search = GridSearchCV(
    pipe,
    {"cgmlpclassifier__alpha": alphas, "cgmlpclassifier__hidden_layer_sizes": sizes},
    cv=3,
    n_jobs=-1,
).fit(X_train, y_train)
print("best parameters:", search.best_params_)
print(f"test accuracy of the refitted best model: {search.score(X_test, y_test):.3f}")

# %%
# Mean cross-validated accuracy over the grid.
scores = search.cv_results_["mean_test_score"].reshape(len(alphas), len(sizes))
fig, ax = plt.subplots(figsize=(5, 4))
im = ax.imshow(scores, cmap="viridis")
ax.set_xticks(range(len(sizes)), [str(s) for s in sizes])
ax.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
ax.set(xlabel="hidden_layer_sizes", ylabel="alpha", title="mean CV accuracy")
for (i, j), value in np.ndenumerate(scores):
    ax.text(j, i, f"{value:.3f}", ha="center", va="center", color="w")
fig.colorbar(im)
fig.tight_layout()
plt.show()
