"""Full-batch multilayer-perceptron classifiers trained by conjugate gradient."""

from ._mlp import CGMLPClassifier
from ._persistence import InconsistentVersionWarning
from ._version import __version__

__all__ = ["CGMLPClassifier", "InconsistentVersionWarning", "__version__"]
