"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_inplace_ensure_writeable,
    check_param_validation,
    parametrize_with_checks,
)

from sklearn_cgmlp import CGMLPClassifier


@parametrize_with_checks([CGMLPClassifier()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_check_param_validation():
    check_param_validation("CGMLPClassifier", CGMLPClassifier())


def test_check_dataframe_column_names_consistency():
    check_dataframe_column_names_consistency("CGMLPClassifier", CGMLPClassifier())


def test_check_inplace_ensure_writeable():
    check_inplace_ensure_writeable("CGMLPClassifier", CGMLPClassifier())
