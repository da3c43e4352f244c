"""The one piece of metadata pyproject.toml cannot give: a ``License`` field.

``license = "BSD-3-Clause"`` in pyproject.toml (PEP 639) makes setuptools write
only ``License-Expression``, which ``pip show`` displays from pip 25.0 on;
pip 24.0 (Ubuntu 24.04's) and 23.x read ``License`` only and show it empty.
The metadata may not hold both fields (PyPI refuses such uploads), setuptools
rejects a ``License ::`` classifier next to an expression, and the table form
``license = {text = ...}`` is an error from setuptools 84 on. ``License`` set
here shows on every pip (checked with 23.2.1, 24.0, 25.0, 25.1 and 26.3).
"""

from setuptools import setup

setup(license="BSD-3-Clause")
