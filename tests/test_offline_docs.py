"""The built documentation loads nothing from the network.

Every page must read offline: no script, image, frame or style sheet from
another host. The scan runs on ``docs/_build/html`` when a build is there
(``make -C docs html``); CI builds the docs first and then runs this file with
``CGMLP_REQUIRE_DOCS_BUILD=1``, which turns a missing build into a failure.
Links (``<a href>``) may point anywhere: following one is the reader's choice.
"""

import os
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
BUILD = DOCS / "_build" / "html"

# A network address: http://, https:// or protocol-relative //host.
_REMOTE = r"""\s*["']?\s*(?:https?:)?//"""
# Attributes whose URL the browser fetches by itself.
_FETCHED_ATTRIBUTE = re.compile(
    rf"""\b(?:src|srcset|poster|data|background)\s*={_REMOTE}""", re.IGNORECASE
)
_LINK_TAG = re.compile(r"<link\b[^>]*>", re.IGNORECASE)
_LINK_FETCHED = re.compile(
    r"""\brel\s*=\s*["']?[^"'>]*\b(?:stylesheet|icon|preload|modulepreload|prefetch"""
    r"""|manifest)\b""",
    re.IGNORECASE,
)
_LINK_HREF = re.compile(rf"""\bhref\s*={_REMOTE}""", re.IGNORECASE)
# CSS, in style sheets, <style> elements and style attributes.
_CSS_REMOTE = re.compile(
    rf"""(?:\burl\(|@import\s+(?:url\()?){_REMOTE}""", re.IGNORECASE
)


def network_loads(text):
    """The snippets of ``text`` (HTML or CSS) that load from the network.

    Parameters
    ----------
    text : str
        An HTML page or a style sheet.

    Returns
    -------
    found : list of str
        One snippet per remote ``src``-like attribute, remote style sheet
        (or icon, preload) ``<link>`` and remote CSS ``url()`` / ``@import``.
        A ``<link>`` written inside a ``<style>`` element counts too.
    """
    found = [m.group(0) for m in _FETCHED_ATTRIBUTE.finditer(text)]
    found += [
        tag
        for tag in _LINK_TAG.findall(text)
        if _LINK_FETCHED.search(tag) and _LINK_HREF.search(tag)
    ]
    found += [m.group(0) for m in _CSS_REMOTE.finditer(text)]
    return found


# What sphinx-gallery 0.15 to 0.22 write into sg_execution_times pages.
_GALLERY_TIMES = """
<style scoped>
<link href="https://cdnjs.cloudflare.com/ajax/libs/twitter-bootstrap/5.3.0/css/bootstrap.min.css" rel="stylesheet" />
</style>
<script src="https://code.jquery.com/jquery-3.7.0.js"></script>
<script src='//cdn.datatables.net/1.13.6/js/jquery.dataTables.min.js'></script>
"""  # noqa: E501


@pytest.mark.parametrize(
    "text, n",
    [
        (_GALLERY_TIMES, 3),
        ('<img srcset="https://example.org/a.png 2x">', 1),
        ("<link rel='icon' href='http://example.org/favicon.ico'>", 1),
        ("<style>@import url('https://fonts.example.org/x.css');</style>", 1),
        ('<div style="background: url(https://example.org/b.png)">', 1),
        # Local resources, and plain links, load nothing from the network.
        ('<script src="_static/jquery.js"></script>', 0),
        ('<link rel="stylesheet" href="_static/alabaster.css" type="text/css" />', 0),
        ('<img src="../_images/sphx_glr_plot_regression_001.png">', 0),
        ('<a href="https://scikit-learn.org/stable/">scikit-learn</a>', 0),
        ('<link rel="canonical" href="https://sklearn-cgmlp.readthedocs.io/">', 0),
        ("background: url(data:image/png;base64,AAAA)", 0),
    ],
)
def test_network_loads_are_found(text, n):
    assert len(network_loads(text)) == n, network_loads(text)


def test_the_built_docs_load_nothing_from_the_network():
    if not (BUILD / "index.html").is_file():
        if os.environ.get("CGMLP_REQUIRE_DOCS_BUILD") == "1":
            pytest.fail(f"no documentation build in {BUILD}")
        pytest.skip("the documentation is not built (make -C docs html)")
    pages = sorted(BUILD.rglob("*.html")) + sorted(BUILD.rglob("*.css"))
    offenders = {
        str(page.relative_to(BUILD)): loads
        for page in pages
        if (loads := network_loads(page.read_text(encoding="utf-8", errors="replace")))
    }
    assert not offenders, offenders
    # The computation-times page exists and was scanned (docs/sphinxext/
    # offline_gallery.py keeps its table and drops its CDN scripts).
    assert (BUILD / "sg_execution_times.html").is_file()
