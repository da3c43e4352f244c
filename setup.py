"""Two things pyproject.toml cannot say: a ``License`` field, and where to build.

``license = "BSD-3-Clause"`` in pyproject.toml (PEP 639) makes setuptools write
only ``License-Expression``, which ``pip show`` displays from pip 25.0 on;
pip 24.0 (Ubuntu 24.04's) and 23.x read ``License`` only and show it empty.
The metadata may not hold both fields (PyPI refuses such uploads), setuptools
rejects a ``License ::`` classifier next to an expression, and the table form
``license = {text = ...}`` is an error from setuptools 84 on. ``License`` set
here shows on every pip (checked with 23.2.1, 24.0, 25.0, 25.1 and 26.3).

pip builds a local directory in place, and setuptools then writes ``build/``
(``bdist_wheel``) and ``sklearn_cgmlp.egg-info/`` (``egg_info``, which pip's
build-requirements hook runs too) into the source tree, and leaves them there.
Here both go to a temporary folder, removed when the build ends, so that
``pip install .`` and ``pip install -e .`` leave the tree as it was. ``sdist``
keeps the in-tree ``egg-info``: it packs that folder into the sdist.
"""

import os
import shutil
import sys
import tempfile

from setuptools import setup

options = {}
if "sdist" not in sys.argv[1:]:
    scratch = tempfile.mkdtemp(prefix="sklearn-cgmlp-build-")
    options = {
        "build": {"build_base": os.path.join(scratch, "build")},
        "egg_info": {"egg_base": scratch},
    }

try:
    setup(license="BSD-3-Clause", options=options)
finally:
    if options:
        shutil.rmtree(scratch, ignore_errors=True)
