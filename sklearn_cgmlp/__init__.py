"""Full-batch multilayer-perceptron estimators trained by conjugate gradient."""

from ._classifier import CGMLPClassifier
from ._persistence import InconsistentVersionWarning
from ._regressor import CGMLPRegressor
from ._version import __version__

__all__ = [
    "CGMLPClassifier",
    "CGMLPRegressor",
    "InconsistentVersionWarning",
    "__version__",
]
