"""Helpers shared by the benchmark scripts: timing, machine facts, tables.

Importing this module puts the repository that contains it first on
``sys.path``, so that the scripts benchmark the ``sklearn_cgmlp`` of their own
working tree, not whichever copy is installed in the environment. The scripts
import it before ``sklearn_cgmlp``.
"""

import os
import platform
import sys
import time
from datetime import date

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402


def median_time(func, repeat=5, warmup=1):
    """Median wall time of ``func()`` over ``repeat`` calls, after warm-up."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def package_location():
    """Directory of the ``sklearn_cgmlp`` package being benchmarked."""
    import sklearn_cgmlp

    return os.path.dirname(os.path.abspath(sklearn_cgmlp.__file__))


def blas_threads():
    """One line per BLAS library loaded: whose it is, version, threads now."""
    lines = []
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        # The wheels keep their bundled libraries in numpy.libs / scipy.libs.
        owner = os.path.basename(os.path.dirname(info.get("filepath", "")))
        lines.append(
            f"{owner}/{os.path.basename(info.get('filepath', ''))} "
            f"({info.get('internal_api')} {info.get('version')}): "
            f"{info.get('num_threads')} threads"
        )
    return lines


def machine_summary():
    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads, "
        f"{i.get('architecture')})"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return (
        f"date {date.today()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, BLAS: {'; '.join(blas)}; "
        f"sklearn_cgmlp from {_where(package_location())}"
    )


def _where(location):
    """The package's folder, as "this working tree" when it is the one next to
    the benchmarks (no machine path in the printed tables)."""
    if location == os.path.join(REPO_ROOT, "sklearn_cgmlp"):
        return "this working tree"
    return location


def print_table(title, header, rows):
    """Print a Markdown table."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
