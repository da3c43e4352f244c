"""Data on a Dask cluster: the objective, the workers' tasks, the data, predictions.

- :mod:`~sklearn_cgmlp._dask.objective`: the objective of one fit, evaluated
  by the workers that hold the data
  (:class:`~sklearn_cgmlp._dask.objective.DaskObjective`), and the client;
- :mod:`~sklearn_cgmlp._dask.tasks`: what runs on the workers;
- :mod:`~sklearn_cgmlp._dask.validation`: Dask inputs checked as scikit-learn
  checks them in memory;
- :mod:`~sklearn_cgmlp._dask.targets`: encoded targets and sample weights,
  built on the workers;
- :mod:`~sklearn_cgmlp._dask.data`: the training data of a fit and its
  early-stopping split (:class:`~sklearn_cgmlp._dask.data.DaskData`);
- :mod:`~sklearn_cgmlp._dask.predict`: lazy predictions and scores.

:class:`~sklearn_cgmlp._dask.backend.DaskBackend` is what
:func:`sklearn_cgmlp._backends.backend_of` returns for Dask collections, and
:func:`~sklearn_cgmlp._dask.detect.is_dask_collection` tells them apart.
Importing this package does not import Dask: an object of a Dask type can
only exist once Dask has been imported, so the modules that need Dask are
imported when a Dask collection is met.
"""

from .detect import is_dask_collection

__all__ = ["is_dask_collection"]
