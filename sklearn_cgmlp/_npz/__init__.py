"""The pickle-free ``.npz`` format of the estimators (``to_npz``/``from_npz``).

The export is a zip archive of ``.npy`` arrays and a JSON metadata string:

- :mod:`~sklearn_cgmlp._npz.schema`: the format's versions and the checks of
  its metadata, in two layers: generic ones that any estimator stored in this
  format shares (parameters, layers, weights, fitted numbers) and an estimator
  part for what only classifiers have (classes, target type);
- :mod:`~sklearn_cgmlp._npz.consistency`: what a valid model is, as one
  table of value checks (a loss that is the loss of the weights held, finite
  weights and class weights, unique feature names, ...), each naming the
  field it refuses; the loader runs it on every model it builds;
- :mod:`~sklearn_cgmlp._npz.read`: the loader. It treats the file as hostile
  input: it never unpickles, it checks the zip directory and every array
  header against the metadata before it reads any array data, so a small file
  cannot make it allocate much, and every defect it finds is a ValueError;
- :mod:`~sklearn_cgmlp._npz.write`: the writer. An export is a promise that
  the file loads back as the same model: the writer builds the whole file in
  memory, loads it back with the loader (the same checks, on the same bytes)
  and compares the result with the model, parameter by parameter and fitted
  attribute by fitted attribute; only then does it write, and to a path
  atomically (a temporary file in the same folder, then ``os.replace``). A
  model that the format cannot represent is refused before anything is
  written, with the reason.
"""

from .read import import_npz
from .write import export_bytes, export_npz

__all__ = ["export_bytes", "export_npz", "import_npz"]
