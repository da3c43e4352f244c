"""Sphinx configuration of the sklearn-cgmlp documentation."""

import os
import sys
import warnings
from pathlib import Path

# The gallery's GPU-arrays example uses scikit-learn's array API dispatch,
# which needs SciPy's array API mode, read when SciPy is first imported: here,
# before the import of sklearn_cgmlp below, so that `make -C docs html` needs
# no exported variable.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))
sys.path.insert(0, str(DOCS / "sphinxext"))

from local_inventories import build_intersphinx_mapping  # noqa: E402
from offline_mathjax import MATHJAX_PATH, fetch_mathjax  # noqa: E402

import sklearn_cgmlp  # noqa: E402

project = "sklearn-cgmlp"
author = "sklearn-cgmlp developers"
copyright = "2026, sklearn-cgmlp developers"
version = release = sklearn_cgmlp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "offline_gallery",
]

# The pages must read offline and build without a network (docs/sphinxext/):
# MathJax is served from _static, fetched once with npm; the intersphinx
# inventories of the projects we link to are made from the installed packages;
# sphinx-gallery's computation-times pages lose their CDN scripts
# (offline_gallery). tests/test_offline_docs.py checks the built pages.
_offline = DOCS / "_build" / "offline"
mathjax_path = MATHJAX_PATH
intersphinx_mapping = build_intersphinx_mapping(_offline / "inventories")

templates_path = ["_templates"]
html_static_path = ["_static", os.path.relpath(fetch_mathjax(_offline), DOCS)]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "alabaster"
html_theme_options = {
    "description": (
        "Full-batch MLP classifiers and regressors trained by conjugate gradient"
    ),
    "fixed_sidebar": True,
    # Room for 88-column code in a 1280-px window; narrower windows get
    # alabaster's one-column layout. _static/custom.css has the rest.
    "page_width": "1160px",
    "sidebar_width": "220px",
    "body_max_width": "none",
}

# Every cross-reference must resolve (with -W, an unresolved one fails the build).
nitpicky = True

autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Every public parameter, return value and attribute must be documented.
numpydoc_validation_checks = {"PR01", "PR02", "PR03", "PR10", "RT01", "GL08"}
numpydoc_validation_exclude = {r"\.__init__$", r"\.set_.*_request$", r"\.__.*__$"}

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Executed: the plot_* examples and the README's main job, which prints.
    "filename_pattern": r"/(plot_\w+|train_digits)\.py$",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "plot_gallery": "True",
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "min_reported_time": 1,
}

# Examples use matplotlib without a screen.
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore",
    category=UserWarning,
    message="Matplotlib is currently using agg, which is a non-GUI backend",
)
