"""The package's modules import each other without a circle.

Every import of one module of ``sklearn_cgmlp`` by another counts, those
inside functions too (a function-level import is how a circle hides): the
graph read from the source must have no cycle. A package's own
``__init__`` is counted only where it is imported by name, as Python's
implicit import of a parent package is not a dependency of the modules.
"""

import ast
from pathlib import Path

import pytest

import sklearn_cgmlp

PACKAGE = Path(sklearn_cgmlp.__file__).parent


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path):
    """The package a module's relative imports start from."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return parts[:-1]


def imports(path, modules):
    """The modules of ``modules`` that the source at ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_of(path)[: len(package_of(path)) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # ``from . import _line`` imports a module, ``from ._x import f``
            # a name of one.
            for alias in node.names:
                name = f"{target}.{alias.name}"
                found.add(name if name in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules}


def import_graph():
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: imports(path, paths) - {name} for name, path in paths.items()}


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read_from_every_module():
    graph = import_graph()
    assert {"sklearn_cgmlp._loss", "sklearn_cgmlp._hessian",
            "sklearn_cgmlp._dask.data"} <= set(graph)  # fmt: skip
    # Top-level, function-level and package-relative imports are all seen.
    assert "sklearn_cgmlp._workspace" in graph["sklearn_cgmlp._hessian"]
    assert "sklearn_cgmlp._hessian" in graph["sklearn_cgmlp._loss"]
    assert "sklearn_cgmlp._line" in graph["sklearn_cgmlp._objective"]


def test_the_modules_import_each_other_without_a_circle():
    found = cycles(import_graph())
    assert found == [], f"import circles: {found}"


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ],
)
def test_cycles_are_found(graph, expected):
    assert cycles(graph) == expected
