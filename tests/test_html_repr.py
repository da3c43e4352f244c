"""The "?" icon of scikit-learn's HTML display links to our API pages."""

from pathlib import Path

import pytest
from sklearn.base import BaseEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor
from sklearn_cgmlp._repr import DocLinkMixin

ESTIMATORS = [CGMLPClassifier, CGMLPRegressor]


def api_page(estimator):
    return (
        "https://sklearn-cgmlp.readthedocs.io/en/latest/generated/"
        f"sklearn_cgmlp.{estimator.__name__}.html"
    )


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_mixin_comes_before_base_estimator(estimator):
    mro = estimator.__mro__
    assert mro.index(DocLinkMixin) < mro.index(BaseEstimator)


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_doc_link_is_the_api_page(estimator):
    assert estimator()._get_doc_link() == api_page(estimator)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("fitted", [False, True])
def test_html_repr_links_to_the_api_page(estimator, fitted):
    est = estimator(hidden_layer_sizes=(3,), max_iter=5)
    if fitted:
        est.fit([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1])
    # What a notebook shows, and the function behind it.
    assert f'href="{api_page(estimator)}"' in est._repr_html_()
    assert f'href="{api_page(estimator)}"' in estimator_html_repr(est)


def test_html_repr_in_a_pipeline_links_each_step():
    html = estimator_html_repr(make_pipeline(StandardScaler(), CGMLPClassifier()))
    assert f'href="{api_page(CGMLPClassifier)}"' in html
    assert "sklearn.preprocessing.StandardScaler.html" in html


def test_subclass_elsewhere_gets_no_link():
    # A user's subclass has no page in our documentation: scikit-learn shows
    # no icon rather than a link to a page that does not exist.
    Mine = type("Mine", (CGMLPClassifier,), {"__module__": "mypackage.models"})
    assert Mine()._get_doc_link() == ""


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_api_page_is_where_the_docs_put_it(estimator):
    # docs/api.rst generates one page per class into generated/ (the sdist and
    # the repository have docs/; an installed wheel does not).
    api = Path(__file__).parents[1] / "docs" / "api.rst"
    if not api.is_file():
        pytest.skip("no docs/ next to the tests")
    text = api.read_text()
    assert ":toctree: generated/" in text
    assert f"\n   {estimator.__name__}\n" in text
