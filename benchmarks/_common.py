"""Helpers shared by the benchmark scripts: timing, machine facts, tables."""

import os
import platform
import time
from datetime import date

import numpy as np
import scipy
import sklearn
from threadpoolctl import threadpool_info


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
        f"scikit-learn {sklearn.__version__}, BLAS: {'; '.join(blas)}"
    )


def print_table(title, header, rows):
    """Print a Markdown table."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")
