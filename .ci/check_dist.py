"""Check the built sdist and wheel in DIST_DIR before anyone uploads them.

Usage: python .ci/check_dist.py DIST_DIR

The wheel must hold the package ``sklearn_cgmlp/`` (every module of the source
tree) and its ``.dist-info`` folder, and nothing else: no tests, docs, examples
or benchmarks, no byte code. The sdist is the full source release: it must hold
exactly the project's files (tracked by git, or new and not ignored) less the CI
scripts, plus the metadata setuptools writes, so a stale build output or a
forgotten file shows up here.
"""

import email.parser
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "sklearn_cgmlp"
# Project files that have no place in the sdist.
NOT_IN_SDIST = (".gitignore", ".ci/", ".readthedocs.yaml")
# Files that setuptools generates into the sdist.
SDIST_GENERATED = ("PKG-INFO", "setup.cfg", f"{PACKAGE}.egg-info/")

errors = []


def fail(message):
    errors.append(message)
    print(f"error: {message}", file=sys.stderr)


def only(paths, what):
    if len(paths) != 1:
        sys.exit(f"error: expected one {what}, found {[p.name for p in paths]}")
    return paths[0]


def package_modules():
    return {p.relative_to(ROOT).as_posix() for p in (ROOT / PACKAGE).glob("*.py")}


def project_files():
    """Tracked and new, not ignored files; None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        return None
    return {
        path
        for path in out.split("\0")
        if path and (ROOT / path).is_file() and not path.startswith(NOT_IN_SDIST)
    }


def check_wheel(path):
    with zipfile.ZipFile(path) as wheel:
        names = [n for n in wheel.namelist() if not n.endswith("/")]
        dist_info = next(
            (n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")), None
        )
        if dist_info is None:
            fail(f"{path.name}: no .dist-info/METADATA")
            return
        metadata = email.parser.HeaderParser().parsestr(
            wheel.read(f"{dist_info}/METADATA").decode()
        )
    stray = [n for n in names if n.split("/")[0] not in (PACKAGE, dist_info)]
    if stray:
        fail(f"{path.name}: files outside {PACKAGE}/ and {dist_info}/: {stray}")
    byte_code = [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    if byte_code:
        fail(f"{path.name}: byte code: {byte_code}")
    missing = package_modules() - set(names)
    if missing:
        fail(f"{path.name}: modules missing: {sorted(missing)}")
    for required in ("RECORD", "WHEEL", "licenses/LICENSE"):
        if f"{dist_info}/{required}" not in names:
            fail(f"{path.name}: no {dist_info}/{required}")
    # License, not License-Expression: older pips show only the former, and the
    # two may not appear together (see setup.py).
    if metadata["License"] != "BSD-3-Clause" or "License-Expression" in metadata:
        fail(
            f"{path.name}: License is {metadata['License']!r}, License-Expression "
            f"is {metadata['License-Expression']!r}"
        )
    urls = {u.split(",")[0].strip() for u in metadata.get_all("Project-URL", [])}
    if urls != {"Homepage", "Documentation", "Source", "Issues"}:
        fail(f"{path.name}: project URLs are {sorted(urls)}")
    print(f"{path.name}: {len(names)} files in {PACKAGE}/ and {dist_info}/")


def check_sdist(path):
    with tarfile.open(path) as sdist:
        members = sdist.getmembers()
    top = path.name.removesuffix(".tar.gz")
    names = set()
    for member in members:
        if member.name != top and not member.name.startswith(f"{top}/"):
            fail(f"{path.name}: {member.name} is outside {top}/")
        elif member.isfile():
            names.add(member.name.removeprefix(f"{top}/"))
        elif not member.isdir():
            fail(f"{path.name}: {member.name} is not a plain file or folder")
    contents = {n for n in names if not n.startswith(SDIST_GENERATED)}
    required = {"pyproject.toml", "LICENSE", "README.md", "tests/conftest.py"}
    missing = (required | package_modules()) - contents
    if missing:
        fail(f"{path.name}: missing {sorted(missing)}")
    if "PKG-INFO" not in names:
        fail(f"{path.name}: no PKG-INFO")
    expected = project_files()
    if expected is not None:
        extra, absent = contents - expected, expected - contents
        if extra:
            fail(f"{path.name}: files that are not project files: {sorted(extra)}")
        if absent:
            fail(f"{path.name}: project files left out: {sorted(absent)}")
    print(f"{path.name}: {len(names)} files")


def main(dist_dir):
    dist_dir = Path(dist_dir)
    check_wheel(only(sorted(dist_dir.glob("*.whl")), "wheel"))
    check_sdist(only(sorted(dist_dir.glob("*.tar.gz")), "sdist"))
    if errors:
        sys.exit(f"{len(errors)} problem(s) with the distributions in {dist_dir}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
