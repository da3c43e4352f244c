"""The "?" icon of scikit-learn's HTML display links to our API page."""

from pathlib import Path

import pytest
from sklearn.base import BaseEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr

from sklearn_cgmlp import CGMLPClassifier
from sklearn_cgmlp._repr import DocLinkMixin

API_PAGE = (
    "https://sklearn-cgmlp.readthedocs.io/en/latest/generated/"
    "sklearn_cgmlp.CGMLPClassifier.html"
)


def linked_class():
    """CGMLPClassifier with DocLinkMixin first among its bases.

    That is how sklearn_cgmlp/_mlp.py declares it once wired:
    ``class CGMLPClassifier(DocLinkMixin, CallbackSupportMixin, ClassifierMixin,
    BaseEstimator)``. Until then, build that class here: same name, module and
    docstring, the mixin in front.
    """
    if issubclass(CGMLPClassifier, DocLinkMixin):
        return CGMLPClassifier
    namespace = {
        "__module__": CGMLPClassifier.__module__,
        "__qualname__": CGMLPClassifier.__qualname__,
        "__doc__": CGMLPClassifier.__doc__,
    }
    return type("CGMLPClassifier", (DocLinkMixin, CGMLPClassifier), namespace)


def test_mixin_comes_before_base_estimator():
    mro = linked_class().__mro__
    assert mro.index(DocLinkMixin) < mro.index(BaseEstimator)


def test_doc_link_is_the_api_page():
    assert linked_class()()._get_doc_link() == API_PAGE


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("fitted", [False, True])
def test_html_repr_links_to_the_api_page(fitted):
    clf = linked_class()(hidden_layer_sizes=(3,), max_iter=5)
    if fitted:
        clf.fit([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1])
    # What a notebook shows, and the function behind it.
    assert f'href="{API_PAGE}"' in clf._repr_html_()
    assert f'href="{API_PAGE}"' in estimator_html_repr(clf)


def test_html_repr_in_a_pipeline_links_each_step():
    html = estimator_html_repr(make_pipeline(StandardScaler(), linked_class()()))
    assert f'href="{API_PAGE}"' in html
    assert "sklearn.preprocessing.StandardScaler.html" in html


def test_subclass_elsewhere_gets_no_link():
    # A user's subclass has no page in our documentation: scikit-learn shows
    # no icon rather than a link to a page that does not exist.
    Mine = type("Mine", (linked_class(),), {"__module__": "mypackage.models"})
    assert Mine()._get_doc_link() == ""


def test_api_page_is_where_the_docs_put_it():
    # docs/api.rst generates one page per class into generated/ (the sdist and
    # the repository have docs/; an installed wheel does not).
    api = Path(__file__).parents[1] / "docs" / "api.rst"
    if not api.is_file():
        pytest.skip("no docs/ next to the tests")
    text = api.read_text()
    assert ":toctree: generated/" in text
    assert "\n   CGMLPClassifier\n" in text
    assert API_PAGE.endswith("generated/sklearn_cgmlp.CGMLPClassifier.html")
