"""Fit times when another process keeps one of the cores busy.

Run from the repository root::

    python benchmarks/contention.py                 # -> benchmarks/results/contention.md
    python benchmarks/contention.py --quick         # tiny sizes: a smoke test

OpenBLAS threads spin while they wait for each other, so a fit whose matrix
products use two threads waits for a descheduled thread whenever another
process holds a core. This compares, on a 2-core machine, each workload's fit
time on the idle machine (one BLAS thread, two threads, ``blas_threads="auto"``)
with its time while a busy loop is pinned to core 0 (skreg with
``blas_threads="auto"``, one and two threads; scikit-learn's MLP with the
process's threads). The target (issue 21): contended "auto" at most 1.3x the
idle one-thread time. Conditions alternate within each repeat; tables give the
median over the repeats. Workloads:

- digits: the README's example network (64-256-10, batch 200), 50 epochs;
- reference: 20,000 MNIST rows, 784-512-512-10, Adam, batch 256, 3 epochs.
"""

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier as SklearnMLP
from threadpoolctl import threadpool_info

from skreg import MLPClassifier

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist.npz"
BUSY_LOOP = "import os\nos.sched_setaffinity(0, {0})\nwhile True:\n    pass\n"


def workloads(quick):
    X, y = load_digits(return_X_y=True)
    yield "digits", X / 16.0, y, (256,), 200, 5 if quick else 50
    if MNIST.exists():
        with np.load(MNIST) as data:
            rows = 2_000 if quick else 20_000
            X = data["x_train"][:rows].reshape(rows, -1).astype(np.float32) / 255
            y = data["y_train"][:rows]
        yield "reference", X, y, (512, 512), 256, 1 if quick else 3
    else:
        print(f"{MNIST} not found: the reference workload is skipped")


def fit_seconds(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    return time.perf_counter() - start


def contenders(hidden, batch_size, epochs):
    def skreg(blas_threads):
        return lambda: MLPClassifier(
            hidden,
            batch_size=batch_size,
            max_iter=epochs,
            tol=0.0,
            random_state=0,
            blas_threads=blas_threads,
        )

    sklearn = lambda: SklearnMLP(  # noqa: E731
        hidden, batch_size=batch_size, max_iter=epochs, tol=0.0, random_state=0
    )
    idle = {
        "skreg, 1 thread": skreg(1),
        "skreg, 2 threads": skreg(2),
        "skreg, auto": skreg("auto"),
    }
    busy = {
        "skreg, auto": skreg("auto"),
        "skreg, 1 thread": skreg(1),
        "skreg, 2 threads": skreg(2),
        "scikit-learn": sklearn,
    }
    return idle, busy


@contextmanager
def busy_core():
    loop = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
    try:
        time.sleep(0.5)
        yield
    finally:
        loop.kill()
        loop.wait()


def measure(X, y, idle, busy, repeats):
    times = {("idle", name): [] for name in idle}
    times.update({("busy", name): [] for name in busy})
    for _ in range(repeats):
        for name, make in idle.items():
            times["idle", name].append(fit_seconds(make(), X, y))
        with busy_core():
            for name, make in busy.items():
                times["busy", name].append(fit_seconds(make(), X, y))
    return {key: statistics.median(values) for key, values in times.items()}


def report(results, repeats):
    blas = [
        f"{p['internal_api']} {p['version']} ({p['num_threads']} threads)"
        for p in threadpool_info()
        if p["user_api"] == "blas"
    ]
    lines = [
        "# Fit times with one core busy (benchmarks/contention.py)",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{', '.join(blas)}; median of {repeats} repeats, seconds per fit.",
        "",
        "| workload | condition | contender | seconds | / idle 1 thread |",
        "|---|---|---|---|---|",
    ]
    for workload, medians in results.items():
        base = medians["idle", "skreg, 1 thread"]
        for (condition, name), seconds in medians.items():
            lines.append(
                f"| {workload} | {condition} | {name} | {seconds:.2f} | "
                f"{seconds / base:.2f}x |"
            )
    lines += ["", "Target: busy 'skreg, auto' at most 1.30x idle 1 thread."]
    for workload, medians in results.items():
        ratio = medians["busy", "skreg, auto"] / medians["idle", "skreg, 1 thread"]
        lines.append(
            f"- {workload}: {ratio:.2f}x ({'met' if ratio <= 1.3 else 'not met'})"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks/results/contention.md"
    )
    args = parser.parse_args(argv)
    results = {}
    for name, X, y, hidden, batch_size, epochs in workloads(args.quick):
        idle, busy = contenders(hidden, batch_size, epochs)
        repeats = 1 if args.quick else args.repeats
        results[name] = measure(X, y, idle, busy, repeats)
    text = report(results, 1 if args.quick else args.repeats)
    print(text)
    if not args.quick:
        args.output.write_text(text)
        print(f"written to {args.output}")


if __name__ == "__main__":
    main()
