"""Warnings that name the user's line.

A warning raised deep inside ``fit`` is only useful if it names the line that
called ``fit``: the user's ``clf.fit(...)``, or the ``pipe.fit(...)`` or
``search.fit(...)`` that fitted the estimator on the user's behalf. A fixed
``stacklevel`` cannot do that, since the number of frames between the user and
the warning depends on the caller (scikit-learn's ``_fit_context`` wrapper,
a ``Pipeline``, ``GridSearchCV`` and joblib's sequential backend all add
frames). :func:`warn` counts them instead: it attributes the warning to the
first frame outside this package and outside the libraries that call our
methods on the user's behalf: scikit-learn (``_fit_context``, meta-estimators,
``_fit_and_score``), joblib (its sequential backend, ``joblib.load``), the
standard library's pure-Python ``pickle`` (which ``joblib.load`` runs) and
skops (``skops.io.load``). Python 3.12's ``warnings.warn(skip_file_prefixes=...)``
does the same, but the package supports Python 3.10 and 3.11.
"""

import sys
import warnings

#: Top-level packages whose frames are never the user's line.
_INTERNAL_PACKAGES = ("sklearn_cgmlp", "sklearn", "joblib", "pickle", "skops")


def _is_internal(frame):
    name = frame.f_globals.get("__name__", "")
    return name.split(".", 1)[0] in _INTERNAL_PACKAGES


def user_stacklevel(frame):
    """The ``stacklevel`` that attributes a warning to the user's line.

    Parameters
    ----------
    frame : frame
        The frame of the function that calls :func:`warnings.warn`.

    Returns
    -------
    stacklevel : int
        1 plus the number of frames, from ``frame`` outwards, that belong to
        this package or to the libraries above. If every frame does, the level
        runs past the top of the stack and Python reports ``sys:1``.
    """
    level = 1
    while frame is not None and _is_internal(frame):
        frame = frame.f_back
        level += 1
    return level


def warn(message, category=None):
    """:func:`warnings.warn`, attributed to the user's line.

    Parameters
    ----------
    message : str or Warning
        The warning message, or a warning instance.
    category : type of Warning, default=None
        The warning class; ``None`` for a warning instance or a
        ``UserWarning``.
    """
    # stacklevel 1 is this function; user_stacklevel counts from its caller.
    warnings.warn(message, category, stacklevel=1 + user_stacklevel(sys._getframe(1)))
