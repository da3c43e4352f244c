"""Test set-up shared by the test suite and the doctests.

SciPy reads SCIPY_ARRAY_API once, when it is first imported; scikit-learn's
array API dispatch (tests/test_array_api.py and its common checks) needs it.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")
