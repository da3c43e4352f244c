"""Threads: the BLAS libraries' settings, and a small pool for row blocks.

The number of threads an evaluation uses is the user's BLAS setting, read when
a fit starts: ``threadpoolctl.threadpool_limits`` and joblib's limits for its
workers (``GridSearchCV(n_jobs=k)``) are respected without a parameter of
ours. NumPy and SciPy wheels each bundle an OpenBLAS; "NumPy's BLAS" is the
one NumPy's matrix products run in.
"""

import os
import sys
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext

import numpy as np
import scipy

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # pragma: no cover - a dependency of scikit-learn
    ThreadpoolController = None


def _package_roots(module):
    root = os.path.dirname(os.path.abspath(module.__file__))
    return (root + os.sep, root + ".libs" + os.sep)


def _blas_libraries(controller, module):
    """The BLAS libraries bundled inside ``module``'s installation."""
    own = _package_roots(module)
    return [
        lib
        for lib in controller.lib_controllers
        if lib.user_api == "blas" and os.path.abspath(lib.filepath).startswith(own)
    ]


_CONTROLLER = {}


def _controller():
    """A ThreadpoolController of this process's BLAS libraries, made once.

    Scanning the loaded libraries reads ``/proc/self/maps`` (milliseconds,
    a tenth of a small fit), and NumPy's and SciPy's BLAS are loaded when
    this package is imported, so the scan is kept. Its libraries' thread
    counts are read live, not from the scan.
    """
    if ThreadpoolController is None:
        return None
    key = os.getpid()  # a forked worker scans its own process
    if key not in _CONTROLLER:
        _CONTROLLER.clear()
        _CONTROLLER[key] = ThreadpoolController()
    return _CONTROLLER[key]


class BlasThreads:
    """What the BLAS libraries are set to now, and ways to change it for a while.

    Created once per fit and shared by the objective and the solver glue.
    """

    def __init__(self):
        self._controller = _controller()

    def _select(self, libraries):
        paths = [lib.filepath for lib in libraries]
        return self._controller.select(filepath=paths) if paths else None

    @property
    def numpy_threads(self):
        """Threads of NumPy's BLAS (1 when unknown)."""
        if self._controller is None:
            return 1
        libs = _blas_libraries(self._controller, np) or [
            lib for lib in self._controller.lib_controllers if lib.user_api == "blas"
        ]
        return max([lib.num_threads for lib in libs], default=1)

    def numpy_single_thread(self):
        """Context in which NumPy's BLAS uses one thread (our threads then do
        the parallel work, each with its own matrix products)."""
        if self._controller is None:
            return nullcontext()
        libs = _blas_libraries(self._controller, np) or [
            lib for lib in self._controller.lib_controllers if lib.user_api == "blas"
        ]
        return _limit_to_one(self._select([lib for lib in libs if lib.num_threads > 1]))

    def scipy_single_thread(self):
        """Context in which SciPy's own BLAS (not NumPy's) uses one thread.

        L-BFGS-B's compiled code (and ``scipy.linalg.norm`` in trust-ncg) call
        SciPy's bundled OpenBLAS, whose idle threads would compete with
        NumPy's for the cores during the next matrix product of the
        objective. Where both packages use one library (conda, a system BLAS)
        there is no clash and nothing changes.
        """
        if self._controller is None:
            return nullcontext()
        numpy_paths = {lib.filepath for lib in _blas_libraries(self._controller, np)}
        libs = [
            lib
            for lib in _blas_libraries(self._controller, scipy)
            if lib.num_threads > 1 and lib.filepath not in numpy_paths
        ]
        return _limit_to_one(self._select(libs))


def _is_torch_cpu(X):
    torch = sys.modules.get("torch")  # never import it for the user
    return torch is not None and isinstance(X, torch.Tensor) and X.device.type == "cpu"


@contextmanager
def torch_cpu_threads(X):
    """Context in which PyTorch's intra-op pool has one thread, where ``X`` is a
    PyTorch CPU tensor; nothing changes otherwise.

    PyTorch's CPU pool is OpenMP's, whose idle threads spin between parallel
    regions. A fit runs thousands of short regions (the products of each
    evaluation, the solver's vector arithmetic) with Python work in between,
    so with t threads it keeps t cores busy for its whole duration (measured:
    CPU time twice the wall time with 2 threads on 2 cores). Whenever another
    process wants a core, each region waits for a descheduled thread: on
    2 cores, digits 64-200-10 float32 fits took 1.7-2.4 times longer with
    2 threads than with 1 beside one busy process, and 16 times longer than
    NumPy at a load of 4. NumPy's path does not suffer this (its row-block
    threads block instead of spinning). With OMP_WAIT_POLICY=PASSIVE, set
    before PyTorch is imported, the threads sleep instead, and 2 threads were
    never slower than 1 (0.58-1.10 times its time): the user's setting is then
    kept.

    ``torch.set_num_threads`` applies to the calling thread (which runs all of
    a fit's PyTorch work) and to threads that start using PyTorch later; the
    previous value is restored on exit, also when the fit fails.
    """
    if not _is_torch_cpu(X) or (
        os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
    ):
        yield
        return
    import torch

    saved = torch.get_num_threads()
    if saved == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


@contextmanager
def _limit_to_one(libraries):
    if libraries is None or not libraries.lib_controllers:
        yield
        return
    with libraries.limit(limits=1):
        yield


class RowPool:
    """Run one task per row block in threads; results come back in order.

    The calling thread runs the first task itself, so ``n_threads`` tasks need
    ``n_threads - 1`` pool threads. NumPy releases the GIL in its matrix
    products and ufuncs, so the tasks run in parallel.
    """

    def __init__(self, n_threads):
        self.n_threads = n_threads
        self._executor = None

    def map(self, func, items):
        """``[func(item) for item in items]``, the items in parallel.

        The pool threads run under the caller's floating-point error settings
        (``np.errstate`` is per thread).
        """
        items = list(items)
        if len(items) <= 1:
            return [func(item) for item in items]
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.n_threads - 1, thread_name_prefix="sklearn_cgmlp"
            )
        errors = np.geterr()

        def task(item):
            with np.errstate(**errors):
                return func(item)

        futures = [self._executor.submit(task, item) for item in items[1:]]
        try:
            first = func(items[0])
        except BaseException:
            # An interrupt reaches this thread only: let the others finish
            # before their buffers are released.
            wait(futures)
            raise
        return [first, *(f.result() for f in futures)]

    def close(self):
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
