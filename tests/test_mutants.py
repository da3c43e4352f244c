"""tools/mutation_check.py stays in step with the code it plants bugs in.

Running the mutants takes tens of minutes and is left to developers; that each
one still finds its snippet, exactly once, and names tests that exist, is
cheap, and a mutant gone stale after a refactor would otherwise pass unseen.
"""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "mutation_check.py"
if not TOOL.exists():  # an installed package's tests, without the tools
    pytest.skip("tools/mutation_check.py is not here", allow_module_level=True)
SPEC = importlib.util.spec_from_file_location("mutation_check", TOOL)
mutation_check = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(mutation_check)
MUTANTS = mutation_check.MUTANTS


def test_mutant_names_are_unique():
    names = [m.name for m in MUTANTS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_each_mutant_finds_its_snippet_once_and_its_tests(mutant):
    source = (mutation_check.PACKAGE / mutant.path).read_text(encoding="utf-8")
    assert source.count(mutant.original) == 1, "stale: update the mutant"
    assert mutant.mutated != mutant.original
    test_files = [a for a in mutant.tests if a.startswith("tests/")]
    assert test_files and all((ROOT / f.split("::")[0]).exists() for f in test_files)
