"""How often default settings end a fit with a ConvergenceWarning.

Each estimator runs with its defaults (only ``random_state=0`` is set) in
``make_pipeline(StandardScaler(), estimator)``, under 5-fold cross-validation
(``StratifiedKFold(5)``, no shuffling: the folds ``cross_validate(cv=5)`` uses
for a classifier) on four small scikit-learn data sets. The folds are looped
over here rather than inside ``cross_validate`` so that the warnings of each
fold's fit can be recorded (``warnings.catch_warnings(record=True)``); the
fitted pipelines and scores are the same. Reported per data set and
estimator: the folds whose fit raised a ConvergenceWarning, the warning
messages (first 80 characters, grouped), the mean test accuracy and the
iterations.

BLAS runs on one thread (``threadpool_limits(1)``), for speed on small data
and for determinism. Run ``python benchmarks/bench_warnings.py`` (under a
minute on 2 cores).
"""

import argparse
import re
import time
import warnings
from collections import Counter

import numpy as np
from _common import machine_summary, print_table
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_cgmlp import CGMLPClassifier

DATASETS = {
    "iris": load_iris,
    "wine": load_wine,
    "breast_cancer": load_breast_cancer,
    "digits": load_digits,
}

ESTIMATORS = {
    "CGMLPClassifier() (cg)": CGMLPClassifier(random_state=0),
    "CGMLPClassifier(solver='newton-cg')": CGMLPClassifier(
        solver="newton-cg", random_state=0
    ),
    "CGMLPClassifier(solver='trust-ncg')": CGMLPClassifier(
        solver="trust-ncg", random_state=0
    ),
    "CGMLPClassifier(solver='lbfgs')": CGMLPClassifier(solver="lbfgs", random_state=0),
    "MLPClassifier(solver='lbfgs')": MLPClassifier(solver="lbfgs", random_state=0),
}

N_SPLITS = 5
MESSAGE_CHARS = 80
# Our messages state where the fit stopped; MLPClassifier's do not.
GRADIENT = re.compile(r"largest gradient entry is ([0-9.eE+-]+)")


def run_folds(estimator, X, y):
    """Per fold: ConvergenceWarning messages, other warnings, accuracy, n_iter_."""
    folds = []
    for train, test in StratifiedKFold(n_splits=N_SPLITS).split(X, y):
        pipeline = make_pipeline(StandardScaler(), clone(estimator))
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pipeline.fit(X[train], y[train])
        elapsed = time.perf_counter() - start
        convergence = [
            str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)
        ]
        others = [
            w.category.__name__
            for w in caught
            if not issubclass(w.category, ConvergenceWarning)
        ]
        folds.append(
            {
                "convergence": convergence,
                "others": others,
                "accuracy": pipeline.score(X[test], y[test]),
                "n_iter": pipeline[-1].n_iter_,
                "time": elapsed,
            }
        )
    return folds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS)
    )
    args = parser.parse_args()
    print(machine_summary())
    print(
        "\nDefaults except random_state=0; make_pipeline(StandardScaler(), est); "
        f"StratifiedKFold({N_SPLITS}), no shuffling; 1 BLAS thread."
    )

    results = {}
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        for data_name in args.datasets:
            X, y = DATASETS[data_name](return_X_y=True)
            for est_name, estimator in ESTIMATORS.items():
                results[data_name, est_name] = run_folds(estimator, X, y)

    matrix = []
    for data_name in args.datasets:
        row = [data_name]
        for est_name in ESTIMATORS:
            folds = results[data_name, est_name]
            warned = sum(bool(f["convergence"]) for f in folds)
            accuracy = np.mean([f["accuracy"] for f in folds])
            row.append(f"{warned}/{N_SPLITS}, {accuracy:.3f}")
        matrix.append(row)
    print_table(
        "Folds with a ConvergenceWarning / 5, mean test accuracy",
        ["data set", *ESTIMATORS],
        matrix,
    )

    details, messages = [], []
    for (data_name, est_name), folds in results.items():
        n_iter = [f["n_iter"] for f in folds]
        others = Counter(c for f in folds for c in f["others"])
        details.append(
            [
                data_name,
                est_name,
                f"{sum(bool(f['convergence']) for f in folds)}/{N_SPLITS}",
                f"{np.mean([f['accuracy'] for f in folds]):.4f}",
                f"{np.std([f['accuracy'] for f in folds]):.4f}",
                f"{np.mean(n_iter):.0f} ({min(n_iter)}-{max(n_iter)})",
                f"{np.mean([f['time'] for f in folds]):.3f}",
                ", ".join(f"{k} x{v}" for k, v in others.items()) or "-",
            ]
        )
        grouped = {}
        for message in (m for f in folds for m in f["convergence"]):
            match = GRADIENT.search(message)
            gradients = grouped.setdefault(message[:MESSAGE_CHARS], [])
            gradients.append(float(match.group(1)) if match else np.nan)
        for message, gradients in grouped.items():
            known = [g for g in gradients if np.isfinite(g)]
            messages.append(
                [
                    data_name,
                    est_name,
                    str(len(gradients)),
                    f"`{message}`",
                    f"{min(known):.3g}-{max(known):.3g}" if known else "-",
                ]
            )
    print_table(
        "Per data set and estimator",
        [
            "data set",
            "estimator",
            "warned folds",
            "mean accuracy",
            "std accuracy",
            "n_iter_ mean (min-max)",
            "fit time (s, mean)",
            "other warnings",
        ],
        details,
    )
    print_table(
        f"ConvergenceWarning messages (first {MESSAGE_CHARS} characters)",
        [
            "data set",
            "estimator",
            "warnings",
            "message",
            "largest gradient entry at the stop (min-max, from the messages)",
        ],
        messages or [["-", "-", "0", "none", "-"]],
    )
    print(f"\nTotal wall time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
