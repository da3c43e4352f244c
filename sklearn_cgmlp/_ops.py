"""The array operations the kernel needs, for NumPy and any array API namespace.

The kernel (:mod:`~sklearn_cgmlp._loss`, :mod:`~sklearn_cgmlp._outputs`,
:mod:`~sklearn_cgmlp._hessian`) is written once, against these few functions
and the standard's in-place operators (``Z += b``). With NumPy they work in
place or into preallocated buffers (``out=``), so that an evaluation allocates
no ``n_samples x units`` arrays. The array API standard has no ``out=``, so for
other namespaces (PyTorch, CuPy, array-api-strict) the same calls return new
arrays on the device of their inputs; the buffers passed are then ``None``.

Every function returns its result; callers always use the returned array (with
NumPy it is the buffer, or the input itself for the in-place ones ending in
``_``).
"""

import math

import numpy as np
from numpy.polynomial import chebyshev
from scipy import sparse
from scipy.special import erfcx, expit, ndtr


class NumPyOps:
    """NumPy (and SciPy sparse inputs to matrix products), in place."""

    xp = np
    device = None
    is_numpy = True
    float_dtype = np.float64

    def zeros(self, n, dtype):
        return np.zeros(n, dtype=dtype)

    def from_numpy(self, a, dtype):
        return np.asarray(a, dtype=dtype)

    def to_numpy(self, a):
        return np.asarray(a)

    def matmul(self, A, B, out=None):
        if sparse.issparse(A):
            if out is None:
                return np.asarray(A @ B)
            out[...] = A @ B
            return out
        return np.matmul(A, B, out=out)

    def exp_(self, Z):
        return np.exp(Z, out=Z)

    def tanh_(self, Z):
        return np.tanh(Z, out=Z)

    def expit_(self, Z):
        return expit(Z, out=Z)

    def relu_(self, Z):
        return np.maximum(Z, 0, out=Z)

    def positive_(self, Z):
        """``1[Z > 0]`` in place (``np.sign`` in place is far slower)."""
        return np.greater(Z, 0, out=Z)

    def square_(self, Z):
        return np.square(Z, out=Z)

    def ndtr(self, Z, out=None):
        """The standard normal distribution function ``Phi(Z)``."""
        return ndtr(Z, out=out)

    def one_minus_(self, Z):
        return np.subtract(1, Z, out=Z)

    def square(self, Z, out=None):
        return np.square(Z, out=out)

    def log(self, v, out=None):
        return np.log(v, out=out)

    def log1pexp(self, Z, out=None):
        """``log(1 + exp(Z))`` without overflow."""
        return np.logaddexp(0, Z, out=out)

    def subtract(self, A, B, out=None):
        return np.subtract(A, B, out=out)

    def xlogx(self, Y):
        """``Y log Y`` with ``0 log 0 = 0``."""
        from scipy.special import xlogy

        return xlogy(Y, Y)

    def sum(self, Z, axis, out=None):
        return np.sum(Z, axis=axis, out=out)

    def rowdot(self, Y, Z):
        """Row-wise dot products, without a temporary of ``Z``'s size."""
        return np.einsum("ij,ij->i", Y, Z)

    def total(self, v):
        """Sum of ``v`` as a Python float, accumulated in float64."""
        return float(np.sum(v, dtype=np.float64))

    def weighted_total(self, w, v):
        return float(np.dot(w.astype(np.float64), v))

    def squared_norm(self, v):
        v = v.ravel()
        return float(np.dot(v, v))

    def clip(self, Z, bound):
        return np.clip(Z, -bound, bound)

    def copy(self, Z):
        return Z.copy()

    def astype(self, Z, dtype):
        return Z.astype(dtype)

    def dot(self, a, b):
        """Dot product of two vectors, a Python float."""
        return float(np.dot(a, b))

    def vdot(self, A, B):
        """Sum of the entry-wise products of two arrays of one shape, a
        Python float."""
        return float(np.vdot(A, B))

    def norm2(self, v):
        return float(np.linalg.norm(v))

    def inf_norm(self, v):
        """Largest absolute entry, without a temporary of ``v``'s size."""
        return float(max(v.max(), -v.min())) if v.size else 0.0

    def equal(self, a, b):
        return a.shape == b.shape and bool(np.array_equal(a, b))

    def concat(self, arrays):
        return np.concatenate([np.ravel(a) for a in arrays])


class ArrayAPIOps:
    """Any array API namespace: new arrays on the device of the inputs."""

    is_numpy = False

    def __init__(self, xp, device):
        self.xp = xp
        self.device = device
        try:
            from sklearn.utils._array_api import _max_precision_float_dtype

            self.float_dtype = _max_precision_float_dtype(xp, device)
        except (ImportError, TypeError):  # pragma: no cover - old scikit-learn
            self.float_dtype = xp.float64
        self._accumulate = self.float_dtype

    def zeros(self, n, dtype):
        return self.xp.zeros(n, dtype=dtype, device=self.device)

    def from_numpy(self, a, dtype):
        """A NumPy array moved to this namespace and device."""
        return self.xp.asarray(a, dtype=dtype, device=self.device)

    def to_numpy(self, a):
        """An array of this namespace as a NumPy array (may share memory)."""
        try:  # scikit-learn >= 1.8
            from sklearn.utils._array_api import move_to

            return move_to(a, xp=np, device="cpu")
        except ImportError:  # pragma: no cover - older scikit-learn
            from sklearn.utils._array_api import _convert_to_numpy

            return _convert_to_numpy(a, self.xp)

    def __eq__(self, other):
        return (
            isinstance(other, ArrayAPIOps)
            and other.xp is self.xp
            and other.device == self.device
        )

    def __hash__(self):
        return hash((id(self.xp), str(self.device)))

    def matmul(self, A, B, out=None):
        return A @ B

    def exp_(self, Z):
        return self.xp.exp(Z)

    def tanh_(self, Z):
        return self.xp.tanh(Z)

    def expit_(self, Z):
        # exp(-z) overflows to inf for very negative z, and 1 / inf = 0 is
        # the right limit; NumPy-backed namespaces would warn about it.
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + self.xp.exp(-Z))

    def relu_(self, Z):
        return self.xp.clip(Z, min=0.0)

    def positive_(self, Z):
        return self.xp.astype(Z > 0, Z.dtype)

    def square_(self, Z):
        return Z * Z

    def ndtr(self, Z, out=None):
        return _ndtr(self.xp, Z)

    def one_minus_(self, Z):
        return 1.0 - Z

    def square(self, Z, out=None):
        return Z * Z

    def log(self, v, out=None):
        return self.xp.log(v)

    def log1pexp(self, Z, out=None):
        # PyTorch's logaddexp takes no Python scalars.
        return self.xp.logaddexp(self.xp.zeros_like(Z), Z)

    def subtract(self, A, B, out=None):
        return A - B

    def xlogx(self, Y):
        xp = self.xp
        positive = Y > 0
        return xp.where(positive, Y * xp.log(xp.where(positive, Y, 1.0)), 0.0)

    def sum(self, Z, axis, out=None):
        return self.xp.sum(Z, axis=axis)

    def rowdot(self, Y, Z):
        return self.xp.sum(Y * Z, axis=1)

    def total(self, v):
        return float(self.xp.sum(self.xp.astype(v, self._accumulate)))

    def weighted_total(self, w, v):
        xp, dtype = self.xp, self._accumulate
        return float(xp.sum(xp.astype(w, dtype) * xp.astype(v, dtype)))

    def squared_norm(self, v):
        return float(self.xp.sum(v * v))

    def clip(self, Z, bound):
        return self.xp.clip(Z, min=-bound, max=bound)

    def copy(self, Z):
        return self.xp.asarray(Z, copy=True)

    def astype(self, Z, dtype):
        return self.xp.astype(Z, dtype)

    def dot(self, a, b):
        return float(self.xp.vecdot(a, b))

    def vdot(self, A, B):
        return float(self.xp.sum(A * B))

    def norm2(self, v):
        return float(self.xp.linalg.vector_norm(v))

    def inf_norm(self, v):
        xp = self.xp
        return float(xp.max(xp.abs(v))) if v.shape[0] else 0.0

    def equal(self, a, b):
        return a.shape == b.shape and bool(self.xp.all(a == b))

    def concat(self, arrays):
        return self.xp.concat([self.xp.reshape(a, (-1,)) for a in arrays])


NUMPY = NumPyOps()

# ``Phi`` from array operations only: the standard has no ``erf``, and SciPy
# would take arrays of namespaces it does not know through NumPy. For
# ``z = |x| / sqrt(2)`` and ``t = 2 / (2 + z)`` in ``(0, 1]``,
# ``erfc(z) = t exp(-z**2 + g(t))`` with ``g(t) = log(erfcx(z) / t)`` smooth
# on ``[0, 1]``: a Chebyshev series of degree 28 in ``u = 2 t - 1``, fitted
# here to SciPy's ``erfcx``, holds it to rounding (its last coefficients are
# ~1e-15). ``Phi(x) = erfc(-x / sqrt(2)) / 2`` keeps the relative precision of
# the tail ``x < 0``; tests/test_activations.py checks it against SciPy.
_NDTR_DEGREE = 28


def _ndtr_g(u):
    t = (u + 1.0) / 2.0
    return np.log(erfcx(2.0 / t - 2.0) / t)


_NDTR_COEFFICIENTS = tuple(
    float(c) for c in chebyshev.chebinterpolate(_ndtr_g, _NDTR_DEGREE)
)


def _ndtr(xp, X):
    """``Phi(X)`` in the namespace ``xp`` (new array; Clenshaw's recurrence)."""
    z = xp.abs(X) * (1.0 / math.sqrt(2.0))
    t = 2.0 / (2.0 + z)
    u2 = 2.0 * (2.0 * t - 1.0)
    b1 = b2 = xp.zeros_like(X)
    for c in _NDTR_COEFFICIENTS[:0:-1]:
        b1, b2 = u2 * b1 - b2 + c, b1
    g = (u2 / 2.0) * b1 - b2 + _NDTR_COEFFICIENTS[0]
    half_erfc = 0.5 * t * xp.exp(g - z * z)
    return xp.where(X < 0, half_erfc, 1.0 - half_erfc)


def float_dtypes(ops):
    """The float dtypes ``validate_data`` may keep, in the data's namespace."""
    if ops.is_numpy:
        return (np.float64, np.float32)
    return [ops.xp.float64, ops.xp.float32]


def numpy_dtype(dtype):
    """The NumPy dtype of a float dtype of any namespace."""
    try:
        return np.dtype(dtype)
    except TypeError:  # a dtype object of another namespace
        return np.dtype("float32" if "32" in str(dtype) else "float64")


def _is_array_api_obj(x):
    try:  # scikit-learn >= 1.7 vendors array-api-compat
        from sklearn.externals.array_api_compat import is_array_api_obj
    except ImportError:  # pragma: no cover - scikit-learn 1.6 uses the package
        try:
            from array_api_compat import is_array_api_obj
        except ImportError:
            return False
    return is_array_api_obj(x)


def array_ops(a):
    """The operations for an array of any namespace, whatever the dispatch
    setting (NumPy's for NumPy arrays); None if ``a`` is not an array."""
    if isinstance(a, np.ndarray):
        return NUMPY
    if not _is_array_api_obj(a):
        return None
    try:
        from sklearn.externals.array_api_compat import array_namespace, device
    except ImportError:  # pragma: no cover - scikit-learn 1.6
        from array_api_compat import array_namespace, device
    from sklearn.utils._array_api import _is_numpy_namespace

    xp = array_namespace(a)
    return NUMPY if _is_numpy_namespace(xp) else ArrayAPIOps(xp, device(a))


def ops_of(X):
    """The operations for the data ``X``: NumPy's, unless scikit-learn's
    array API dispatch is on and ``X`` is an array of another namespace
    (lists, data frames and sparse matrices are NumPy data)."""
    from sklearn import get_config

    if not get_config().get("array_api_dispatch", False) or isinstance(X, np.ndarray):
        return NUMPY
    if not _is_array_api_obj(X):
        return NUMPY
    from sklearn.utils._array_api import _is_numpy_namespace, get_namespace_and_device

    xp, _, device = get_namespace_and_device(X)
    return NUMPY if _is_numpy_namespace(xp) else ArrayAPIOps(xp, device)


def detached(a):
    """``a`` without autograd history: PyTorch tensors that require grad are
    detached (sharing their memory), anything else is returned as it is.

    The estimators detach their inputs on entry, so that no evaluation of a
    fit records an autograd graph (which would grow with every iteration and
    end in the fitted attributes) and no result carries one.
    """
    if getattr(a, "requires_grad", False) and hasattr(a, "detach"):
        return a.detach()
    return a


def to_host(a):
    """``a`` as a NumPy array (sparse matrices, lists and None unchanged)."""
    if a is None or isinstance(a, np.ndarray) or sparse.issparse(a):
        return a
    ops = array_ops(a)
    return a if ops is None else np.asarray(ops.to_numpy(a))
