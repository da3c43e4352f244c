"""A copy of MathJax for the built documentation, so formulas render offline.

Sphinx's mathjax extension loads MathJax from a CDN by default; read offline,
the pages then show raw LaTeX. ``fetch_mathjax(folder)`` gets MathJax's npm
package with ``npm pack`` (once: an unpacked copy in ``folder`` is reused, and
npm's cache serves a later fetch without a network), checks the tarball against
the pinned sha512, and unpacks MathJax's browser build with its license into
``folder/mathjax-VERSION/mathjax/``. conf.py adds ``folder/mathjax-VERSION`` to
``html_static_path``, so the build copies it to ``_static/mathjax/``, and
points ``mathjax_path`` at ``mathjax/tex-svg.js`` there. The SVG output needs no
web fonts, which browsers may refuse to load from ``file://`` pages.

MathJax's files are not part of the repository; only the version and its hash
are.
"""

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

MATHJAX_VERSION = "3.2.2"
# npm's "integrity" of mathjax-3.2.2.tgz (npm view mathjax@3.2.2 dist.integrity).
MATHJAX_INTEGRITY = (
    "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/"
    "FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
)
# The combined component that sphinx.ext.mathjax loads, relative to _static.
MATHJAX_PATH = "mathjax/tex-svg.js"


class MathJaxFetchError(RuntimeError):
    pass


def _integrity(path):
    digest = hashlib.sha512(Path(path).read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def _npm_pack(spec, folder):
    npm = shutil.which("npm")
    if npm is None:
        raise MathJaxFetchError(
            "The documentation serves its own copy of MathJax, fetched with npm, "
            "which is not installed: install Node.js (npm), or unpack the npm "
            f"package {spec} so that its es5/ folder is "
            f"<build>/mathjax-{MATHJAX_VERSION}/mathjax/."
        )
    result = subprocess.run(
        [npm, "pack", spec, "--prefer-offline", "--silent"],
        cwd=folder,
        capture_output=True,
        text=True,
    )
    tarballs = list(Path(folder).glob("*.tgz"))
    if result.returncode != 0 or len(tarballs) != 1:
        raise MathJaxFetchError(
            f"'npm pack {spec}' failed ({result.returncode}):\n"
            f"{result.stdout}{result.stderr}"
        )
    return tarballs[0]


def _extract(tarball, folder):
    with tarfile.open(tarball) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(folder, filter="data")
        else:  # Python < 3.10.12 / 3.11.4
            for member in archive.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise MathJaxFetchError(f"unsafe path in {tarball}: {member.name}")
            archive.extractall(folder)


def fetch_mathjax(folder):
    """Return the static folder holding ``mathjax/``; fetch MathJax if needed."""
    static = Path(folder) / f"mathjax-{MATHJAX_VERSION}"
    if (static / MATHJAX_PATH).is_file():
        return static
    Path(folder).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        tarball = _npm_pack(f"mathjax@{MATHJAX_VERSION}", tmp)
        found = _integrity(tarball)
        if found != MATHJAX_INTEGRITY:
            raise MathJaxFetchError(
                f"{tarball.name} has integrity {found}, expected {MATHJAX_INTEGRITY}"
            )
        _extract(tarball, tmp)
        package = Path(tmp) / "package"
        staged = Path(tmp) / "static"
        staged.mkdir()
        shutil.move(package / "es5", staged / "mathjax")
        shutil.copy(package / "LICENSE", staged / "mathjax" / "LICENSE")
        if static.exists():
            shutil.rmtree(static)  # an incomplete copy
        # Appears whole or not at all.
        staged.rename(static)
    return static
