"""Full-batch multilayer-perceptron classifiers trained by conjugate gradient."""

from ._mlp import CGMLPClassifier
from ._version import __version__

__all__ = ["CGMLPClassifier", "__version__"]
