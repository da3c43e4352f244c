"""Check that every performance figure in the documentation traces to a
benchmark table.

The rule (CONTRIBUTING.md, "Figures in the documentation"): a performance
figure in README.md, docs/*.rst or examples/*.py, that is a ratio (``1.33x``,
``1.33×``, ``1.33 times``), a time (``132 ms``, ``5.8 s``, ``9.4 µs``,
``0.4 min``, ``8.0 h``) or a percentage (``70 %``), alone or as a range
(``0.83-1.33x``, ``1.5–2.1 times``), must appear in a Markdown table of
benchmarks/README.md whose provenance is known: the table must come after a
paragraph of its ``##`` section that begins "Run on YYYY-MM-DD" and names the
machine (contains the word "machine"); the last such paragraph before the
table dates it. A figure "appears" in a table when a number of the table (its
header included) rounds to it at the figure's precision (``2.1x`` traces to a
cell ``2.06``, ``1.04-1.11x`` to cells ``1.042`` and ``1.111`` of one table);
units are not converted, so a time must appear in the table's unit.

A figure that is not a measurement may be exempted by a marker comment on its
own line at the start of a paragraph, which covers the rest of that paragraph
or, if it stands alone, the next one (paragraphs end at a blank line; in
Python, at a blank line or a bare ``#``):

- ``figures: model``: figures computed by a model or formula; the covered
  paragraph, or the one just before the marker, must say "model" to the
  reader;
- ``figures: not measured``: settings, defaults and targets (a Dask memory
  threshold, a target of 30 ms), not measurements.

Written as ``<!-- figures: model -->`` in Markdown, ``.. figures: model``
followed by a blank line in reStructuredText, ``# figures: model`` in Python.

Usage, from the repository root::

    python tools/check_figures.py          # exit status 1 and one line per
                                           # untraced figure: file, line, figure

tests/test_figures.py runs it, so CI does.
"""

import re
import sys
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = "benchmarks/README.md"
DOCUMENTS = ("README.md", "docs/*.rst", "examples/*.py")
#: Written by the docs build (sphinx-gallery's computation times), not by us.
GENERATED = {"docs/sg_execution_times.rst"}

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
#: A figure: a number or a range, then a ratio, time or percentage unit. The
#: number does not follow a letter, a dot, a colon or a brace (format
#: specifications such as ``{x:.0%}`` or ``{name:24s}`` are not figures).
FIGURE = re.compile(
    rf"(?<![\w.:{{}}\-^])(?P<low>{_NUM})(?:\s?(?:-|–|to)\s?(?P<high>{_NUM}))?"
    r"(?:(?P<ratio>[x×])(?![\w])|\s(?P<times>times)\b"
    r"|\s?(?P<time>ms|µs|us|s|min|h)\b|\s?(?P<percent>%))"
)
TABLE_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?:e[-+]?\d+)?")
DATE = re.compile(r"\bRun on (\d{4}-\d{2}-\d{2})\b")
MARKER = re.compile(r"figures:\s*(model|not measured)\b")


@dataclass
class Untraced:
    path: str
    line: int
    figure: str
    why: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.figure!r} {self.why}"


# ------------------------------------------------------- benchmark tables
def dated_tables(text):
    """The numbers (Decimals) of each dated table of benchmarks/README.md's
    text, one set per table; tables before their section's "Run on" paragraph
    are left out."""
    tables, dated, in_fence, paragraph = [], False, False, []
    for line in text.splitlines() + [""]:
        if line.startswith("```"):
            in_fence = not in_fence
        if in_fence:
            continue
        if line.startswith("## "):
            dated, paragraph = False, []
            continue
        if line.startswith("|"):
            if paragraph != ["|"]:  # the first row of a table
                paragraph = ["|"]
                table = set()
                if dated:
                    tables.append(table)
            table.update(_decimal(n) for n in TABLE_NUMBER.findall(line))
            continue
        if line.strip():
            if paragraph == ["|"]:  # text right after a table
                paragraph = []
            paragraph.append(line)
            continue
        prose = " ".join(p for p in paragraph if p != "|")
        if DATE.search(prose) and "machine" in prose:
            dated = True
        paragraph = []
    return tables


def _decimal(text):
    return Decimal(text.replace(",", ""))


def _rounds_to(figure_number, numbers):
    """Whether a number of ``numbers`` rounds to ``figure_number`` (a string)
    at its precision."""
    target = _decimal(figure_number)
    step = Decimal(1).scaleb(target.as_tuple().exponent)
    return any(n.quantize(step, rounding=ROUND_HALF_UP) == target for n in numbers)


def _traces(figure_numbers, tables):
    """Whether one table holds every number of a figure (both ends of a
    range)."""
    return any(all(_rounds_to(f, table) for f in figure_numbers) for table in tables)


# -------------------------------------------------------------- documents
def _is_blank(line, python):
    stripped = line.strip()
    return not stripped or (python and stripped == "#")


def _paragraphs(lines, python):
    """(first line index, last line index) of each paragraph."""
    spans, start = [], None
    for i, line in enumerate(lines):
        if _is_blank(line, python):
            if start is not None:
                spans.append((start, i - 1))
                start = None
        elif start is None:
            start = i
    if start is not None:
        spans.append((start, len(lines) - 1))
    return spans


def check_text(path, text, tables):
    """The untraced figures of one document."""
    python = path.endswith(".py")
    lines = text.splitlines()
    spans = _paragraphs(lines, python)
    exempt, problems = set(), []
    for k, (first, last) in enumerate(spans):
        marker = MARKER.search(lines[first])
        if marker is None:
            continue
        if first < last:  # the rest of the marker's own paragraph
            covered = range(first + 1, last + 1)
        elif k + 1 < len(spans):  # a marker alone: the next paragraph
            covered = range(spans[k + 1][0], spans[k + 1][1] + 1)
        else:
            problems.append(Untraced(path, first + 1, marker[0], "covers nothing"))
            continue
        before = range(spans[k - 1][0], spans[k - 1][1] + 1) if k else range(0)
        label = " ".join(lines[i] for i in [*before, *covered])
        if marker[1] == "model" and "model" not in label.replace(marker[0], ""):
            problems.append(
                Untraced(path, first + 1, marker[0],
                         "marks a paragraph that does not say 'model' to the reader")
            )  # fmt: skip
        exempt.update(covered)
    for i, line in enumerate(lines):
        if i in exempt or MARKER.search(line):
            continue
        for match in FIGURE.finditer(line):
            figure = [n for n in (match["low"], match["high"]) if n is not None]
            if not _traces(figure, tables):
                problems.append(
                    Untraced(path, i + 1, match[0],
                             f"is in no dated table of {BENCHMARKS} (no table "
                             f"has numbers that round to {' and '.join(figure)})")
                )  # fmt: skip
    return problems


def documents(root=ROOT):
    for pattern in DOCUMENTS:
        for path in sorted(root.glob(pattern)):
            if path.relative_to(root).as_posix() not in GENERATED:
                yield path


def check(root=ROOT):
    """Every untraced figure of the repository's documents."""
    root = Path(root)
    tables = dated_tables((root / BENCHMARKS).read_text(encoding="utf-8"))
    problems = []
    for path in documents(root):
        text = path.read_text(encoding="utf-8")
        problems += check_text(str(path.relative_to(root)), text, tables)
    return problems


def main():
    problems = check()
    for problem in problems:
        print(problem)
    if problems:
        print(
            f"{len(problems)} figure(s) do not trace to a dated table of "
            f"{BENCHMARKS}: add the run's table there (a section whose 'Run on "
            "YYYY-MM-DD' paragraph names the machine), correct the figure, or "
            "mark a model or a setting (see CONTRIBUTING.md)."
        )
        return 1
    print("Every figure traces to a dated table of " + BENCHMARKS + ".")
    return 0


if __name__ == "__main__":
    sys.exit(main())
