"""sphinx-gallery's computation-times pages, without their CDN scripts.

sphinx-gallery (0.15 and later) writes ``sg_execution_times.rst`` pages whose
table is made sortable by jQuery and DataTables, loaded from CDNs by a
``.. raw:: html`` block (and Bootstrap's style sheets, inside a ``<style>``).
Read offline, a page that loads scripts from the network is what these docs
promise not to have. This extension removes that block from the page's source
when Sphinx reads it; the table stays, as a plain table. (sphinx-gallery's
``write_computation_times`` option, which drops the pages altogether, is not in
every version the ``docs`` extra allows.) ``tests/test_offline_docs.py`` checks
the built site.
"""

import re

# A ".. raw:: html" directive and its body: the lines indented deeper than the
# directive, and blank lines. The list-table after it, at the directive's own
# indentation, ends the block.
_RAW_HTML = re.compile(
    r"^(?P<indent>[ \t]*)\.\. raw:: html[ \t]*\n(?:(?P=indent)[ \t]+\S.*\n|[ \t]*\n)*",
    re.MULTILINE,
)


def strip_raw_html(text):
    """``text`` (reStructuredText) without its ``.. raw:: html`` blocks."""
    return _RAW_HTML.sub("", text)


def _on_source_read(app, docname, source):
    if docname.rsplit("/", 1)[-1] == "sg_execution_times":
        source[0] = strip_raw_html(source[0])


def setup(app):
    app.connect("source-read", _on_source_read)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
