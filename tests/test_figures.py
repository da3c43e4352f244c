"""The figure check of tools/check_figures.py: every performance figure of the
documentation traces to a dated benchmark table (CONTRIBUTING.md)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "check_figures.py"
if not TOOL.exists():  # an installed package's tests, without the tools
    pytest.skip("tools/check_figures.py is not here", allow_module_level=True)

spec = importlib.util.spec_from_file_location("check_figures", TOOL)
check_figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_figures)

BENCHMARKS = """\
# Benchmarks

## Machine and date

The machines.

## Evaluation (`bench_evaluation.py`)

| before the date | ms |
|---|---|
| a | 7.77 |

Run on 2026-12-05 on the shared 2-core x86_64 machine of "Machine and date".

#### One evaluation

| dtype | ours (ms) | ours / floor |
|---|---|---|
| float64 | 311 | 1.042 |
| float32 | 152 | 1.105 |

| speed-up |
|---|
| 2.06x |

## Undated (`bench_other.py`)

Run on 2026-12-05, on a host not named.

| task | ratio |
|---|---|
| x | 3.33 |
"""


@pytest.fixture(scope="module")
def tables():
    return check_figures.dated_tables(BENCHMARKS)


def problems(text, tables, path="docs/page.rst"):
    return [str(p) for p in check_figures.check_text(path, text, tables)]


def test_the_repository_passes():
    # What CI checks: every figure of README.md, docs/*.rst and examples/*.py.
    result = subprocess.run(
        [sys.executable, str(TOOL)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_tables_after_a_dated_paragraph_that_names_the_machine_count(tables):
    # The table before the "Run on" paragraph and the undated section's are
    # out; numbers inside words (float64) are not numbers of the table.
    assert [sorted(float(n) for n in t) for t in tables] == [
        [1.042, 1.105, 152, 311],
        [2.06],
    ]
    assert problems("It took 7.77 ms.\n", tables)
    assert problems("A ratio of 3.33x.\n", tables)


@pytest.mark.parametrize(
    "figure",
    ["1.04x", "1.04×", "1.04-1.11x", "1.04–1.11 times", "311 ms",
     "2.1x", "2.06x", "152 ms"],
)  # fmt: skip
def test_figures_that_round_from_a_dated_table_pass(figure, tables):
    assert problems(f"One evaluation costs {figure} here.\n", tables) == []


@pytest.mark.parametrize(
    "figure, reported",
    [("2.0x", "2.0"), ("1.2-1.11x", "1.2 and 1.11"), ("132 ms", "132"),
     ("40 %", "40"), ("5.8 µs", "5.8"), ("0.15 s", "0.15"),
     ("1.04-2.06 times", "1.04 and 2.06")],
)  # fmt: skip
def test_untraced_figures_are_reported_with_file_line_and_figure(
    figure, reported, tables
):
    text = f"Intro line.\n\nIt ran {figure} faster.\n"
    assert problems(text, tables) == [
        f"docs/page.rst:3: {figure!r} is in no dated table of benchmarks/README.md "
        f"(no table has numbers that round to {reported})"
    ]


def test_format_specifications_and_sizes_are_not_figures(tables):
    text = 'print(f"{name:24s} {share:.0%}")\n# a 5000 x 3072 task, 3072x200\n'
    assert problems(text, tables, path="examples/plot_x.py") == []


def test_markers_exempt_the_next_paragraph_only(tables):
    rst = (
        ".. figures: model\n\nThe model predicts 9.9x on 64 machines\nand 8.8 s.\n\n"
        "Measured: 9.9x.\n"
    )
    assert problems(rst, tables) == [
        "docs/page.rst:6: '9.9x' is in no dated table of benchmarks/README.md "
        "(no table has numbers that round to 9.9)"
    ]
    markdown = "<!-- figures: not measured -->\nDask spills at 60 % by default.\n"
    assert problems(markdown, tables, path="README.md") == []
    python = "# figures: not measured\n# a timeout of 300 s\n#\n# took 300 s\n"
    assert problems(python, tables, path="examples/plot_x.py") == [
        "examples/plot_x.py:4: '300 s' is in no dated table of benchmarks/README.md "
        "(no table has numbers that round to 300)"
    ]


def test_a_model_marker_needs_the_word_model_for_the_reader(tables):
    text = ".. figures: model\n\nIt will take 9.9x less.\n"
    assert problems(text, tables) == [
        "docs/page.rst:1: 'figures: model' marks a paragraph that does not say "
        "'model' to the reader"
    ]
    assert problems(".. figures: model\n", tables) == [
        "docs/page.rst:1: 'figures: model' covers nothing"
    ]
