"""Version stamps in pickles.

A pickle records the package version that wrote it; loading it under another
version warns with :class:`InconsistentVersionWarning` (a subclass of
scikit-learn's, so the usual warning filters apply). skops files carry the
same stamp. The pickle-free ``.npz`` format is :mod:`sklearn_cgmlp._npz`.
"""

from sklearn.exceptions import InconsistentVersionWarning as _SklearnVersionWarning

from ._version import __version__
from ._warn import warn


class InconsistentVersionWarning(_SklearnVersionWarning):
    """A model pickled by another version of sklearn-cgmlp is being loaded.

    Parameters
    ----------
    estimator_name : str
        Estimator name.
    current_version : str
        The installed sklearn-cgmlp version.
    original_version : str
        The version that pickled the estimator.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        super().__init__(
            estimator_name=estimator_name,
            current_sklearn_version=current_version,
            original_sklearn_version=original_version,
        )
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from sklearn-cgmlp "
            f"version {self.original_version} when using version "
            f"{self.current_version}. This might lead to breaking code or invalid "
            "results. Use at your own risk, or re-export the model with "
            "to_npz() under the original version and load it with from_npz()."
        )


def stamp_state(state):
    """Add the package version to a pickled state."""
    return {**state, "_sklearn_cgmlp_version": __version__}


def check_state_version(estimator_name, state):
    """Pop the version stamp from a state; warn if it is not ours."""
    version = state.pop("_sklearn_cgmlp_version", "unknown")
    if version != __version__:
        warn(
            InconsistentVersionWarning(
                estimator_name=estimator_name,
                current_version=__version__,
                original_version=version,
            )
        )
    return state
