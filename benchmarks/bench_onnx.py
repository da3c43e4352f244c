"""onnxruntime against our predict: latency (1 row) and throughput (10,000 rows).

A classifier (50 features, 128-64 relu units, 10 classes, softmax) and a
regressor (the same network, 3 outputs), fitted briefly on synthetic data (the
weights do not change the cost), in float32 and float64. Each is converted
with ``sklearn_cgmlp.onnx`` (``zipmap=False``; float32 input for the float32
model, float64 for the float64 one, so both sides compute in the model's
dtype) and timed against our method on the same rows:

* ``predict`` against the graph's ``label`` output (classifier) or its only
  output (regressor), ``predict_proba`` against its ``probabilities``;
* on 1 row (latency: each sample is the mean of a batch of calls) and on
  10,000 rows (throughput);
* at equal threads: onnxruntime with ``intra_op_num_threads = n`` and
  ``inter_op_num_threads = 1``, our predict inside ``threadpool_limits(n)``,
  which limits NumPy's and SciPy's OpenBLAS alike (held over the whole
  measurement, so that its own cost is not timed).

Times are medians of repeats that interleave the two sides; the ratio
``ours / onnxruntime`` (above 1: onnxruntime is faster) comes from one run.
onnxruntime keeps its default thread spinning.

Run ``python benchmarks/bench_onnx.py`` (about a minute on 2 cores;
``--quick``: a few seconds). Needs the ``onnx`` and ``benchmark`` extras.
"""

import argparse
import os
import time
import warnings

import numpy as np
from _common import machine_summary, print_table
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import sklearn_cgmlp.onnx  # noqa: F401  (registers the converters)
from sklearn_cgmlp import CGMLPClassifier, CGMLPRegressor

try:
    import onnxruntime as ort
    import skl2onnx
    from skl2onnx import to_onnx
except ImportError as exc:  # pragma: no cover
    raise SystemExit(f"needs the onnx extra: {exc}") from exc

N_FEATURES, HIDDEN, N_CLASSES, N_TARGETS = 50, (128, 64), 10, 3


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def fitted(kind, dtype, rng):
    X = rng.normal(size=(2000, N_FEATURES)).astype(dtype)
    if kind == "classifier":
        est = CGMLPClassifier(hidden_layer_sizes=HIDDEN, max_iter=5, random_state=0)
        y = (X[:, :N_CLASSES] + rng.normal(size=(len(X), N_CLASSES))).argmax(1)
    else:
        est = CGMLPRegressor(hidden_layer_sizes=HIDDEN, max_iter=5, random_state=0)
        y = X[:, :N_TARGETS] + 0.1 * rng.normal(size=(len(X), N_TARGETS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def session(est, dtype, threads):
    graph = to_onnx(
        est,
        np.zeros((1, N_FEATURES), dtype=dtype),
        options={"zipmap": False} if isinstance(est, CGMLPClassifier) else None,
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(
        graph.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def interleaved(funcs, repeat, number):
    """Median seconds per call of each callable; each sample is the mean of
    ``number`` calls, the samples of the callables interleaved."""
    for func in funcs.values():  # warm-up
        for _ in range(max(1, number // 10)):
            func()
    times = {name: [] for name in funcs}
    for _ in range(repeat):
        for name, func in funcs.items():
            start = time.perf_counter()
            for _ in range(number):
                func()
            times[name].append((time.perf_counter() - start) / number)
    return {name: float(np.median(t)) for name, t in times.items()}


def measure(ours, sess, output, X, threads, repeat, number):
    """Seconds per call of our method and of the graph's ``output`` on ``X``."""
    name = sess.get_inputs()[0].name
    # Same answer first: the timings compare equal work.
    expected = ours(X)
    got = sess.run([output], {name: X})[0].reshape(np.shape(expected))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    # The limit holds over the whole measurement (its own cost is not timed);
    # it does not touch onnxruntime's thread pool.
    with threadpool_limits(threads):
        return interleaved(
            {"ours": lambda: ours(X), "onnx": lambda: sess.run([output], {name: X})},
            repeat,
            number,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument(
        "--threads", type=int, nargs="+", default=sorted({1, os.cpu_count() or 1})
    )
    args = parser.parse_args()
    repeat = 5 if args.quick else 15
    number_one_row = 50 if args.quick else 300
    number_batch = 1 if args.quick else 3

    print(machine_summary())
    print(
        f"CPU: {cpu_model()}; onnxruntime {ort.__version__}, "
        f"skl2onnx {skl2onnx.__version__}"
    )
    rng = np.random.default_rng(0)
    X_all = rng.normal(size=(10_000, N_FEATURES))
    rows = []
    for kind in ("classifier", "regressor"):
        for dtype in (np.float32, np.float64):
            est = fitted(kind, dtype, rng)
            methods = {"predict": 0}
            if kind == "classifier":
                methods["predict_proba"] = 1
            for threads in args.threads:
                sess = session(est, dtype, threads)
                outputs = [o.name for o in sess.get_outputs()]
                for n_rows, number in ((1, number_one_row), (10_000, number_batch)):
                    X = np.ascontiguousarray(X_all[:n_rows], dtype=dtype)
                    for method, index in methods.items():
                        t = measure(
                            getattr(est, method),
                            sess,
                            outputs[index],
                            X,
                            threads,
                            repeat,
                            number,
                        )
                        unit, scale = ("µs", 1e6) if n_rows == 1 else ("ms", 1e3)
                        rows.append(
                            [
                                kind,
                                np.dtype(dtype).name,
                                method,
                                threads,
                                f"{n_rows:,}",
                                f"{t['ours'] * scale:.1f} {unit}",
                                f"{t['onnx'] * scale:.1f} {unit}",
                                f"{t['ours'] / t['onnx']:.2f}",
                            ]
                        )
    print_table(
        f"onnxruntime vs ours, {N_FEATURES}-{'-'.join(map(str, HIDDEN))}-k relu "
        f"network (medians of {repeat} interleaved repeats)",
        [
            "model",
            "dtype",
            "method",
            "threads",
            "rows",
            "ours",
            "onnxruntime",
            "ours / onnxruntime",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
