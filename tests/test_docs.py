"""Every public parameter and fitted attribute is documented."""

import importlib
import re
import warnings
from pathlib import Path

import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor

ESTIMATORS = {
    CGMLPClassifier: lambda: load_iris(return_X_y=True),
    CGMLPRegressor: lambda: load_diabetes(return_X_y=True),
}


def documented_names(estimator, section):
    doc = estimator.__doc__
    heading = r"\n    [A-Z][A-Za-z ]+\n    -+\n"
    match = re.search(rf"\n    {section}\n    -+\n(.*?)({heading}|$)", doc, re.S)
    assert match, f"no {section} section"
    return set(re.findall(r"^    (\w+) :", match.group(1), re.M))


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_parameter_is_documented(estimator):
    assert documented_names(estimator, "Parameters") == set(estimator().get_params())


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_every_fitted_attribute_is_documented(estimator, early_stopping):
    X, y = ESTIMATORS[estimator]()
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = estimator(
            hidden_layer_sizes=(3,), max_iter=5, early_stopping=early_stopping
        ).fit(X, y)
    fitted = {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}
    assert fitted == documented_names(estimator, "Attributes")


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_shared_docstring_entries_are_filled_and_indented(estimator):
    doc = estimator.__doc__
    assert "%(" not in doc
    # Continuation lines of a filled entry keep the numpydoc indentation.
    assert "\n    hidden_layer_sizes : array-like" in doc
    assert "\n        The ith element is the number of units" in doc


# ------------------------------------------------------------ migration guide
MIGRATION = Path(__file__).resolve().parents[1] / "docs" / "migration.rst"


def migration_columns(title):
    """Names in ``literals`` in the first two columns of the tables of a section."""
    text = MIGRATION.read_text()
    start = text.index(f"\n{title}\n")
    end = text.find("\nMigrating from ", start + len(title) + 2)
    columns = (set(), set())
    width = None
    borders = 0
    for line in text[start : end if end > 0 else None].splitlines():
        if re.fullmatch(r"=+( +=+)+", line):
            runs = [m.span() for m in re.finditer("=+", line)]
            width = (runs[0][1], runs[1][1])
            borders += 1
        elif width and borders % 3 in (1, 2) and line.strip():
            columns[0].update(re.findall(r"``(\w+)``", line[: width[0]]))
            columns[1].update(re.findall(r"``(\w+)``", line[width[0] : width[1]]))
    return columns


def public_names(cls):
    return {n for n in dir(cls) if not n.startswith("_")}


@pytest.mark.parametrize(
    "theirs, ours, title",
    [
        (MLPClassifier, CGMLPClassifier, "Migrating from MLPClassifier"),
        (MLPRegressor, CGMLPRegressor, "Migrating from MLPRegressor"),
    ],
)
def test_migration_tables_cover_both_estimators(theirs, ours, title):
    """Every parameter, fitted attribute and public method of scikit-learn's
    estimator has a row, and so has every one of ours."""
    first, second = migration_columns(title)
    for cls, column in ((theirs, first), (ours, second)):
        names = set(cls().get_params()) | documented_names(cls, "Attributes")
        missing = (names | public_names(cls)) - column
        assert not missing, f"{title}: no row for {cls.__name__}'s {sorted(missing)}"


# ------------------------------------------------ docstring cross-references
ROLE = re.compile(r":(?:mod|class|func|meth|data|attr|exc|obj):`~?([\w.]+)`")


def package_docstrings():
    """``(where, docstring, scope)`` of every module, class, function and
    method of the package; ``scope`` is the namespace relative names resolve
    in (the module, and the class for a method)."""
    import inspect
    import pkgutil

    import sklearn_cgmlp

    modules = [sklearn_cgmlp] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(sklearn_cgmlp.__path__, "sklearn_cgmlp.")
    ]
    for module in modules:
        yield module.__name__, module.__doc__, (module, None)
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isclass(obj):
                yield f"{module.__name__}.{name}", obj.__doc__, (module, obj)
                for attr, member in vars(obj).items():
                    member = getattr(member, "__func__", member)
                    if isinstance(member, property):
                        member = member.fget
                    if inspect.isfunction(member) and member.__doc__:
                        where = f"{module.__name__}.{name}.{attr}"
                        yield where, member.__doc__, (module, obj)
            elif inspect.isfunction(obj):
                yield f"{module.__name__}.{name}", obj.__doc__, (module, None)


def resolve(target, module, cls):
    """The object ``target`` names, absolute or relative to the docstring's
    class and module; raises LookupError if nothing has that name."""

    parts = target.split(".")
    if cls is not None and hasattr(cls, parts[0]):
        obj = cls
    elif hasattr(module, parts[0]):
        obj = module
    else:  # an absolute name: the longest importable module prefix
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            parts = parts[i:]
            break
        else:
            raise LookupError(target)
        if not parts:
            return obj
    for part in parts:
        if not hasattr(obj, part):
            raise LookupError(target)
        obj = getattr(obj, part)
    return obj


# Modules a reference may name that an environment can lack: optional
# dependencies, and scikit-learn modules newer than its floor in pyproject.toml.
OPTIONAL = (
    "dask", "distributed", "array_api_strict", "torch", "cupy", "sklearn.callback"
)  # fmt: skip


def optional_module(target):
    """The optional module ``target`` lies in, or None."""
    for name in OPTIONAL:
        if target == name or target.startswith(name + "."):
            return name
    return None


def test_every_docstring_cross_reference_resolves():
    broken = []
    for where, doc, (module, cls) in package_docstrings():
        for target in ROLE.findall(doc or ""):
            if optional_module(target) is not None:
                try:
                    importlib.import_module(optional_module(target))
                except ImportError:
                    continue
            try:
                resolve(target, module, cls)
            except LookupError:
                broken.append(f"{where}: {target}")
    assert not broken, "unresolved cross-references:\n" + "\n".join(broken)
