"""Whether an object is a Dask collection, without importing Dask.

A leaf of the package: the modules in and out of :mod:`sklearn_cgmlp._dask`
that tell Dask inputs apart import it, and it imports nothing of theirs.
"""

import sys


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask collection (imports Dask only if in use)."""
    if sys.modules.get("dask") is None:
        return False
    from dask.base import is_dask_collection as _is_dask_collection

    return _is_dask_collection(obj)
