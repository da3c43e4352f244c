"""Link scikit-learn's HTML display of our estimators to their documentation.

In a notebook, scikit-learn draws an estimator as a box with a "?" icon that
links to the estimator's documentation page. By default it links only
estimators whose module starts with ``sklearn``; the class attributes below are
scikit-learn's hooks for third-party estimators (``_doc_link_module``,
``_doc_link_template`` and ``_doc_link_url_param_generator`` of
``sklearn.utils._repr_html.base._HTMLDocumentationLinkMixin``, the same in
scikit-learn 1.6.1's ``sklearn.utils._estimator_html_repr``).
"""

# The API pages of the documentation: docs/api.rst generates one page per public
# class at generated/<module>.<class>.html, and scikit-learn fills in
# ``estimator_module`` with the public part of the class's module path
# ("sklearn_cgmlp" for sklearn_cgmlp._classifier).
DOC_URL = "https://sklearn-cgmlp.readthedocs.io/en/latest/"
DOC_LINK_TEMPLATE = DOC_URL + "generated/{estimator_module}.{estimator_name}.html"


class DocLinkMixin:
    """Point the "?" icon of scikit-learn's HTML repr to our API pages.

    List it before ``BaseEstimator`` among the bases, so that its plain
    attributes take precedence over ``BaseEstimator``'s defaults.
    """

    _doc_link_module = "sklearn_cgmlp"
    _doc_link_template = DOC_LINK_TEMPLATE
