"""Intersphinx inventories made from the installed packages, without a network.

Intersphinx normally downloads each project's ``objects.inv`` when the
documentation is built. This module writes such inventories itself instead: it
introspects the installed scikit-learn, SciPy, NumPy, joblib, matplotlib and
the Python standard library for their public names and maps each name to the
page where that project's documentation puts it (for instance
``sklearn.neural_network.MLPClassifier`` to
``modules/generated/sklearn.neural_network.MLPClassifier.html``), following
the URL patterns of each project's published ("stable") documentation.

Limits: the links are only as right as those patterns. A name that the installed
version has but the published documentation does not (newer, private-ish or
undocumented) still gets an entry, pointing to a page that does not exist; the
patterns cover public classes, functions, methods and modules, the kinds of
names these docs refer to. Check a new kind of reference in the built HTML.

``build_intersphinx_mapping(folder)`` writes the files into ``folder`` and
returns the value for ``intersphinx_mapping``.
"""

import builtins
import importlib
import inspect
import pkgutil
import warnings
import zlib
from pathlib import Path

SKLEARN_URL = "https://scikit-learn.org/stable/"
SCIPY_URL = "https://docs.scipy.org/doc/scipy/"
NUMPY_URL = "https://numpy.org/doc/stable/"
JOBLIB_URL = "https://joblib.readthedocs.io/en/stable/"
MATPLOTLIB_URL = "https://matplotlib.org/stable/"
PYTHON_URL = "https://docs.python.org/3/"


class Inventory:
    """The entries of one project's ``objects.inv``."""

    def __init__(self, project, version):
        self.project = project
        self.version = version
        self.entries = {}

    def add(self, name, role, uri):
        # The first page found for a name wins (e.g. its public module's page).
        self.entries.setdefault((name, role), uri)

    def write(self, path):
        lines = []
        for (name, role), uri in sorted(self.entries.items()):
            if uri.endswith("#" + name):
                uri = uri[: -len(name)] + "$"
            lines.append(f"{name} {role} 1 {uri} -\n")
        header = (
            "# Sphinx inventory version 2\n"
            f"# Project: {self.project}\n"
            f"# Version: {self.version}\n"
            "# The remainder of this file is compressed using zlib.\n"
        )
        path.write_bytes(header.encode() + zlib.compress("".join(lines).encode()))


def _import(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return importlib.import_module(name)
        except Exception:  # an optional dependency is missing, etc.
            return None


def _getattr(obj, name):
    try:
        return getattr(obj, name)
    except Exception:  # removed, experimental or deprecated names can raise
        return None


def _public_modules(package, skip=()):
    """The package and its public submodules, recursively."""
    yield package
    for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
        if info.name.startswith("_") or info.name in skip:
            continue
        module = _import(f"{package.__name__}.{info.name}")
        if module is not None:
            yield from _public_modules(module, skip)


def _public_names(module):
    """(name, object) of the classes and functions a module makes public."""
    if hasattr(module, "__all__"):
        names = [n for n in module.__all__ if isinstance(n, str)]
        own = None
    else:
        names = [n for n in dir(module) if not n.startswith("_")]
        own = module.__name__
    for name in names:
        obj = _getattr(module, name)
        if obj is None or inspect.ismodule(obj):
            continue
        if not (inspect.isclass(obj) or callable(obj)):
            continue
        if own is not None:
            # Without __all__, only what the module (or a private submodule of
            # it) defines, not what it imports.
            defined_in = getattr(obj, "__module__", None) or ""
            if defined_in != own and not defined_in.startswith(own + "._"):
                continue
        yield name, obj


def _role(obj):
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    return "py:function"


def _members(cls, inherited):
    """Public methods, properties and attributes of a class.

    With ``inherited``, also those of its base classes, except the ones that
    come from builtin types (``dict.keys`` is not documented on a subclass).
    """
    owners = [k for k in cls.__mro__ if k.__module__ != "builtins"]
    if not inherited:
        owners = owners[:1] if owners and owners[0] is cls else []
    seen = set()
    for owner in owners:
        for name, member in vars(owner).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            if isinstance(member, property) or inspect.isdatadescriptor(member):
                yield name, "py:attribute"
            elif callable(member) or isinstance(member, (classmethod, staticmethod)):
                yield name, "py:method"


def sklearn_inventory():
    import sklearn

    inv = Inventory("scikit-learn", sklearn.__version__)
    skip = {"tests", "externals", "experimental", "conftest"}
    for module in _public_modules(sklearn, skip):
        top = ".".join(module.__name__.split(".")[:2])
        inv.add(module.__name__, "py:module", f"api/{top}.html")
        for name, obj in _public_names(module):
            full = f"{module.__name__}.{name}"
            page = f"modules/generated/{full}.html"
            inv.add(full, _role(obj), f"{page}#{full}")
            if inspect.isclass(obj):
                # A class page documents inherited methods too.
                for member, role in _members(obj, inherited=True):
                    inv.add(f"{full}.{member}", role, f"{page}#{full}.{member}")
    return inv


# SciPy's documented modules below its subpackages (the subpackages come from
# scipy.__all__); each has a page reference/<path>.html.
_SCIPY_SUBMODULES = [
    "cluster.hierarchy", "cluster.vq", "io.wavfile", "linalg.blas",
    "linalg.lapack", "signal.windows", "sparse.csgraph", "sparse.linalg",
    "spatial.distance", "spatial.transform", "stats.mstats", "stats.qmc",
]  # fmt: skip


def scipy_inventory():
    import scipy

    inv = Inventory("SciPy", scipy.__version__)
    modules = [n for n in scipy.__all__ if n.islower() and not n.startswith("_")]
    for path in modules + _SCIPY_SUBMODULES:
        module = _import(f"scipy.{path}")
        if module is None or not hasattr(module, "__all__"):
            continue
        inv.add(module.__name__, "py:module", f"reference/{path}.html")
        for name, obj in _public_names(module):
            full = f"{module.__name__}.{name}"
            inv.add(full, _role(obj), f"reference/generated/{full}.html#{full}")
            if inspect.isclass(obj):
                # Methods and attributes have pages of their own.
                for member, role in _members(obj, inherited=True):
                    member_full = f"{full}.{member}"
                    uri = f"reference/generated/{member_full}.html#{member_full}"
                    inv.add(member_full, role, uri)
    return inv


def numpy_inventory():
    import numpy as np

    inv = Inventory("NumPy", np.__version__)
    inv.add("numpy", "py:module", "reference/index.html#module-numpy")
    generated = "reference/generated/"
    for name in dir(np):
        obj = _getattr(np, name)
        if name.startswith("_") or inspect.ismodule(obj):
            continue
        full = f"numpy.{name}"
        if inspect.isclass(obj) and issubclass(obj, np.generic):
            inv.add(full, "py:class", f"reference/arrays.scalars.html#{full}")
        elif inspect.isclass(obj):
            inv.add(full, _role(obj), f"{generated}{full}.html#{full}")
            # ndarray's methods have their own pages; subclasses such as memmap
            # document only what they add.
            for member, role in _members(obj, inherited=False):
                member_full = f"{full}.{member}"
                uri = f"{generated}{member_full}.html#{member_full}"
                inv.add(member_full, role, uri)
        elif callable(obj):
            inv.add(full, "py:function", f"{generated}{full}.html#{full}")
    for sub, page in [
        ("linalg", "reference/routines.linalg.html"),
        ("fft", "reference/routines.fft.html"),
        ("testing", "reference/routines.testing.html"),
    ]:
        module = _import(f"numpy.{sub}")
        inv.add(module.__name__, "py:module", f"{page}#module-{module.__name__}")
        for name, obj in _public_names(module):
            full = f"{module.__name__}.{name}"
            inv.add(full, _role(obj), f"{generated}{full}.html#{full}")
    random = "reference/random/"
    inv.add("numpy.random", "py:module", f"{random}index.html#module-numpy.random")
    for cls, page in [("RandomState", "legacy"), ("Generator", "generator")]:
        full = f"numpy.random.{cls}"
        inv.add(full, "py:class", f"{random}{page}.html#{full}")
        for member, role in _members(getattr(np.random, cls), inherited=False):
            member_full = f"{full}.{member}"
            uri = f"{random}generated/{member_full}.html#{member_full}"
            inv.add(member_full, role, uri)
    inv.add(
        "numpy.random.default_rng",
        "py:function",
        f"{random}generator.html#numpy.random.default_rng",
    )
    for name, obj in _public_names(np.random):
        full = f"numpy.random.{name}"
        if not inspect.isclass(obj):
            inv.add(full, "py:function", f"{random}generated/{full}.html#{full}")
    for name in ("ArrayLike", "NDArray", "DTypeLike"):
        full = f"numpy.typing.{name}"
        inv.add(full, "py:data", f"reference/typing.html#{full}")
    return inv


def joblib_inventory():
    import joblib

    inv = Inventory("joblib", joblib.__version__)
    inv.add("joblib", "py:module", "index.html")
    for name, obj in _public_names(joblib):
        full = f"joblib.{name}"
        page = f"generated/{full}.html"
        inv.add(full, _role(obj), f"{page}#{full}")
        if inspect.isclass(obj):
            for member, role in _members(obj, inherited=False):
                inv.add(f"{full}.{member}", role, f"{page}#{full}.{member}")
    return inv


def matplotlib_inventory():
    matplotlib = _import("matplotlib")
    pyplot = _import("matplotlib.pyplot")
    axes = _import("matplotlib.axes")
    if pyplot is None or axes is None:
        return None
    inv = Inventory("Matplotlib", matplotlib.__version__)
    gen = "api/_as_gen/"
    inv.add("matplotlib.pyplot", "py:module", "api/pyplot_summary.html")
    for name in dir(pyplot):
        obj = _getattr(pyplot, name)
        if name.startswith("_") or not inspect.isfunction(obj):
            continue
        if obj.__module__ != "matplotlib.pyplot":
            continue
        full = f"matplotlib.pyplot.{name}"
        inv.add(full, "py:function", f"{gen}{full}.html#{full}")
    axes_full = "matplotlib.axes.Axes"
    inv.add(axes_full, "py:class", f"api/axes_api.html#{axes_full}")
    for member, role in _members(axes.Axes, inherited=True):
        if role == "py:method":
            full = f"matplotlib.axes.Axes.{member}"
            inv.add(full, role, f"{gen}{full}.html#{full}")
    return inv


# Builtin classes that the Python documentation describes with the other types.
_STDTYPES = {
    "dict", "list", "tuple", "str", "set", "frozenset", "bytes", "bytearray",
    "range", "memoryview",
}  # fmt: skip
# Names that the site module adds to builtins.
_SITE_CONSTANTS = {"copyright", "credits", "exit", "license", "quit"}
# Standard-library modules whose page is library/<module>.html.
_STDLIB = [
    "abc", "collections", "contextlib", "copy", "dataclasses", "datetime", "enum",
    "functools", "gzip", "hashlib", "inspect", "io", "itertools", "json",
    "logging", "math", "numbers", "operator", "os", "os.path", "pathlib",
    "pickle", "random", "re", "shutil", "signal", "string", "subprocess", "sys",
    "tempfile", "textwrap", "threading", "time", "typing", "warnings", "weakref",
    "zipfile",
]  # fmt: skip


def python_inventory():
    import sys

    version = ".".join(map(str, sys.version_info[:2]))
    inv = Inventory("Python", version)
    for name in dir(builtins):
        obj = _getattr(builtins, name)
        if name.startswith("_"):
            continue
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            inv.add(name, "py:exception", f"library/exceptions.html#{name}")
        elif inspect.isclass(obj) and name in _STDTYPES:
            inv.add(name, "py:class", f"library/stdtypes.html#{name}")
        elif inspect.isclass(obj):
            inv.add(name, "py:class", f"library/functions.html#{name}")
        elif name in _SITE_CONSTANTS:
            inv.add(name, "py:data", f"library/constants.html#{name}")
        elif callable(obj):
            inv.add(name, "py:function", f"library/functions.html#{name}")
    for name in ("None", "True", "False", "NotImplemented", "Ellipsis"):
        inv.add(name, "py:data", f"library/constants.html#{name}")
    for module_name in _STDLIB:
        module = _import(module_name)
        if module is None:
            continue
        page = f"library/{module_name}.html"
        inv.add(module_name, "py:module", f"{page}#module-{module_name}")
        if hasattr(module, "__all__"):
            names = [(n, _getattr(module, n)) for n in module.__all__]
        else:
            names = [(n, _getattr(module, n)) for n in dir(module)]
        for name, obj in names:
            if name.startswith("_") or obj is None or inspect.ismodule(obj):
                continue
            if not (inspect.isclass(obj) or callable(obj)):
                continue
            full = f"{module_name}.{name}"
            inv.add(full, _role(obj), f"{page}#{full}")
            if inspect.isclass(obj):
                for member, role in _members(obj, inherited=False):
                    inv.add(f"{full}.{member}", role, f"{page}#{full}.{member}")
    return inv


PROJECTS = {
    "python": (PYTHON_URL, python_inventory),
    "numpy": (NUMPY_URL, numpy_inventory),
    "scipy": (SCIPY_URL, scipy_inventory),
    "sklearn": (SKLEARN_URL, sklearn_inventory),
    "joblib": (JOBLIB_URL, joblib_inventory),
    "matplotlib": (MATPLOTLIB_URL, matplotlib_inventory),
}


def build_intersphinx_mapping(folder):
    """Write one inventory per project into ``folder``; the intersphinx mapping."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mapping = {}
    for key, (url, make) in PROJECTS.items():
        with warnings.catch_warnings():
            # Deprecated names warn when looked up; the docs build must not.
            warnings.simplefilter("ignore")
            inventory = make()
        if inventory is None:
            continue
        path = folder / f"{key}.inv"
        inventory.write(path)
        mapping[key] = (url, str(path))
    return mapping
