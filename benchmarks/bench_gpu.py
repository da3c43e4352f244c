"""GPU fits through array API dispatch: overhead per evaluation and fit times.

The motivating problem, 50,000 x 3072 inputs -> 200 logistic units -> 10
classes (616,610 parameters), on a CUDA device with PyTorch:

1. one loss+gradient evaluation of ``ArrayAPIObjective`` alone (the time of
   that evaluation's own kernels on the device, synchronised) against one
   evaluation inside ``fit`` (fit time / evaluations, solver="cg" on the device,
   200 iterations): the ratio is the overhead of the solver and the host
   round trips;
2. the 200-iteration fit, in float64, float32 and float32 with TensorFloat-32
   matrix products (PyTorch's ``allow_tf32`` switch, off by default);
3. the same problem on the CPU (NumPy float32, all cores; a shorter fit,
   compared per evaluation);
4. a plain PyTorch loop: ``torch.optim.LBFGS`` full batch on the same network
   and loss, 200 iterations.

Run on a machine with a GPU (``SCIPY_ARRAY_API=1`` is set by the script):

    python benchmarks/bench_gpu.py              # about 2-4 minutes on one H100
    python benchmarks/bench_gpu.py --device cpu --quick   # smoke test anywhere
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import argparse  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from _common import machine_summary, print_table  # noqa: E402
from sklearn import config_context  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_cgmlp import CGMLPClassifier  # noqa: E402
from sklearn_cgmlp._layout import ParameterLayout  # noqa: E402
from sklearn_cgmlp._layout import glorot_init as _glorot_init  # noqa: E402
from sklearn_cgmlp._loss import MLPLoss  # noqa: E402
from sklearn_cgmlp._objective import ArrayAPIObjective  # noqa: E402
from sklearn_cgmlp._ops import array_ops  # noqa: E402


def make_problem(torch, n, n_features, n_classes, dtype, device, seed=0):
    """Synthetic classes separated by a random projection, made on the device."""
    g = torch.Generator(device=device).manual_seed(seed)
    X = torch.randn(n, n_features, generator=g, device=device, dtype=dtype)
    W = torch.randn(n_features, n_classes, generator=g, device=device, dtype=dtype)
    y = torch.argmax(X @ W + torch.randn(n, n_classes, generator=g, device=device,
                                         dtype=dtype), dim=1)  # fmt: skip
    return X, y


def sync(torch, device):
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def time_evaluation(torch, X, y, hidden, device, repeat=20):
    """Median time of one evaluation of the objective alone (synchronised)."""
    ops = array_ops(X)
    n_classes = int(y.max()) + 1
    Y = torch.nn.functional.one_hot(y, n_classes).to(X.dtype)
    layout = ParameterLayout([X.shape[1], *hidden, n_classes])
    loss = MLPLoss(layout, "logistic", "softmax", 1e-4)
    objective = ArrayAPIObjective(X, Y, loss=loss, ops=ops)
    theta = torch.asarray(_glorot_init(layout, "logistic", 0), dtype=X.dtype,
                          device=X.device)  # fmt: skip
    times = []
    for i in range(repeat + 2):
        sync(torch, device)
        start = time.perf_counter()
        loss, grad = objective.loss_grad(theta)
        sync(torch, device)
        if i >= 2:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def time_fit(X, y, hidden, max_iter):
    clf = CGMLPClassifier(hidden_layer_sizes=hidden, activation="logistic",
                          max_iter=max_iter, tol=0.0, random_state=0)  # fmt: skip
    with config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        elapsed = time.perf_counter() - start
    return elapsed, clf


def torch_lbfgs(torch, X, y, hidden, max_iter, device):
    """Full-batch torch.optim.LBFGS on the same network and objective."""
    torch.manual_seed(0)
    layers, width = [], X.shape[1]
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.Sigmoid()]
        width = h
    layers.append(torch.nn.Linear(width, int(y.max()) + 1))
    model = torch.nn.Sequential(*layers).to(device=device, dtype=X.dtype)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    optimizer = torch.optim.LBFGS(model.parameters(), max_iter=max_iter,
                                  tolerance_grad=0.0, tolerance_change=0.0,
                                  line_search_fn="strong_wolfe")  # fmt: skip
    evaluations = [0]
    n = X.shape[0]

    def closure():
        evaluations[0] += 1
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), y)
        loss = loss + 0.5 * 1e-4 / n * sum((W * W).sum() for W in weights)
        loss.backward()
        return loss

    sync(torch, device)
    start = time.perf_counter()
    loss = optimizer.step(closure)
    sync(torch, device)
    return time.perf_counter() - start, float(loss), evaluations[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--cpu-iterations", type=int, default=20)
    args = parser.parse_args()
    import torch

    n, d, hidden = (2000, 256, (32,)) if args.quick else (50_000, 3072, (200,))
    iterations = 10 if args.quick else args.iterations
    print(machine_summary())
    if str(args.device).startswith("cuda"):
        print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}")
    rows = []
    for label, dtype, tf32 in [
        ("float64", torch.float64, False),
        ("float32", torch.float32, False),
        ("float32 + TF32", torch.float32, True),
    ]:
        if tf32 and not str(args.device).startswith("cuda"):
            continue
        torch.backends.cuda.matmul.allow_tf32 = tf32
        X, y = make_problem(torch, n, d, 10, dtype, args.device)
        kernel = time_evaluation(torch, X, y, hidden, args.device)
        elapsed, clf = time_fit(X, y, hidden, iterations)
        per_eval = elapsed / clf.n_fun_evals_
        t_lbfgs, loss_lbfgs, evals_lbfgs = torch_lbfgs(
            torch, X, y, hidden, iterations, args.device
        )
        rows.append([
            label, f"{kernel * 1e3:.2f}", f"{per_eval * 1e3:.2f}",
            f"{per_eval / kernel:.2f}", f"{clf.n_iter_} / {clf.n_fun_evals_}",
            f"{elapsed:.2f}", f"{clf.loss_:.4g}", f"{t_lbfgs:.2f}",
            f"{evals_lbfgs}", f"{loss_lbfgs:.4g}",
        ])  # fmt: skip
        del X, y
    torch.backends.cuda.matmul.allow_tf32 = False
    print_table(
        f"{n} x {d} -> {hidden} -> 10 on {args.device}, solver='cg', "
        f"{iterations} iterations",
        ["dtype", "evaluation alone (ms)", "evaluation inside fit (ms)",
         "inside fit / alone", "iterations / evaluations", "fit (s)", "final loss",
         "torch.optim.LBFGS fit (s)", "LBFGS evaluations", "LBFGS final loss"],
        rows,
    )  # fmt: skip

    # The same problem on the CPU (NumPy float32, all cores), per evaluation.
    X, y = make_problem(torch, n, d, 10, torch.float32, args.device)
    X_np, y_np = X.cpu().numpy(), y.cpu().numpy()
    cpu = CGMLPClassifier(
        hidden_layer_sizes=hidden,
        activation="logistic",
        max_iter=args.cpu_iterations,
        tol=0.0,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        cpu.fit(X_np, y_np)
        cpu_time = time.perf_counter() - start
    gpu_time, gpu = time_fit(X, y, hidden, args.cpu_iterations)
    print_table(
        f"CPU (NumPy float32, {os.cpu_count()} cores) against {args.device}, "
        f"{args.cpu_iterations} iterations",
        ["where", "fit (s)", "evaluations", "ms per evaluation", "speed-up"],
        [
            ["CPU", f"{cpu_time:.2f}", cpu.n_fun_evals_,
             f"{cpu_time / cpu.n_fun_evals_ * 1e3:.1f}", "1.0"],
            [args.device, f"{gpu_time:.2f}", gpu.n_fun_evals_,
             f"{gpu_time / gpu.n_fun_evals_ * 1e3:.1f}",
             f"{(cpu_time / cpu.n_fun_evals_) / (gpu_time / gpu.n_fun_evals_):.1f}"],
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
