"""Every public parameter and fitted attribute is documented."""

import re
import warnings

import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning

from sklearn_cgmlp import CGMLPClassifier


def documented_names(section):
    doc = CGMLPClassifier.__doc__
    heading = r"\n    [A-Z][a-z ]+\n    -+\n"
    match = re.search(rf"\n    {section}\n    -+\n(.*?)({heading}|$)", doc, re.S)
    assert match, f"no {section} section"
    return set(re.findall(r"^    (\w+) :", match.group(1), re.M))


def test_every_parameter_is_documented():
    assert documented_names("Parameters") == set(CGMLPClassifier().get_params())


@pytest.mark.parametrize("early_stopping", [False, True])
def test_every_fitted_attribute_is_documented(early_stopping):
    X, y = load_iris(return_X_y=True)
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = CGMLPClassifier(
            hidden_layer_sizes=(3,), max_iter=5, early_stopping=early_stopping
        ).fit(X, y)
    fitted = {k for k in vars(clf) if k.endswith("_") and not k.startswith("_")}
    assert fitted == documented_names("Attributes")
