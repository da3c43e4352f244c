"""Sphinx configuration of the sklearn-cgmlp documentation."""

import os
import sys
import warnings

sys.path.insert(0, os.path.abspath(".."))

import sklearn_cgmlp  # noqa: E402

project = "sklearn-cgmlp"
author = "sklearn-cgmlp developers"
copyright = "2026, sklearn-cgmlp developers"
version = release = sklearn_cgmlp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "alabaster"
html_theme_options = {
    "description": "Full-batch MLP classifiers trained by conjugate gradient",
    "fixed_sidebar": True,
}

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
    "filename_pattern": r"/plot_",
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
