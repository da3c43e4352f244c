"""Every public parameter and fitted attribute is documented."""

import re
import warnings

import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning

from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor

ESTIMATORS = {
    CGMLPClassifier: lambda: load_iris(return_X_y=True),
    CGMLPRegressor: lambda: load_diabetes(return_X_y=True),
}


def documented_names(estimator, section):
    doc = estimator.__doc__
    heading = r"\n    [A-Z][A-Za-z ]+\n    -+\n"
    match = re.search(rf"\n    {section}\n    -+\n(.*?)({heading}|$)", doc, re.S)
    assert match, f"no {section} section"
    return set(re.findall(r"^    (\w+) :", match.group(1), re.M))


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_parameter_is_documented(estimator):
    assert documented_names(estimator, "Parameters") == set(estimator().get_params())


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_every_fitted_attribute_is_documented(estimator, early_stopping):
    X, y = ESTIMATORS[estimator]()
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = estimator(
            hidden_layer_sizes=(3,), max_iter=5, early_stopping=early_stopping
        ).fit(X, y)
    fitted = {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}
    assert fitted == documented_names(estimator, "Attributes")


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_shared_docstring_entries_are_filled_and_indented(estimator):
    doc = estimator.__doc__
    assert "%(" not in doc
    # Continuation lines of a filled entry keep the numpydoc indentation.
    assert "\n    hidden_layer_sizes : array-like" in doc
    assert "\n        The ith element is the number of units" in doc
