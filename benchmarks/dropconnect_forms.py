"""DropConnect's two mask forms side by side: how each trains, and its cost.

Run from the repository root::

    python benchmarks/dropconnect_forms.py  # writes benchmarks/results/dropconnect_forms.md
    python benchmarks/dropconnect_forms.py --quick   # smoke test of the harness

``dropconnect_mask="sample"`` draws one mask per example, as Wan et al.
(2013); ``"batch"`` one mask per mini-batch. Both at rate 0.5, every other
parameter at its default, float32 training, beside the same network without
DropConnect:

- blobs: 300 standardized ``make_blobs`` points (3 well-separated classes,
  ``random_state=7``), 3 seeds; epochs run, training accuracy, seconds.
- MNIST, reduced (said so in the report): the first ``--mnist-rows`` training
  rows scaled to [0, 1], hidden (100,), ``--mnist-epochs`` epochs without the
  default stop, test accuracy on the 10,000 test rows and seconds per epoch.

The contenders of each seed run one after the other (interleaved), so that a
change in the machine's load hits all of them; seconds on a shared machine are
inflated, ratios between forms are the meaningful numbers.
"""

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist.npz"
RESULTS = ROOT / "benchmarks" / "results" / "dropconnect_forms.md"
FORMS = {
    "no DropConnect": {},
    "DropConnect 0.5, one mask per mini-batch": dict(
        dropconnect=0.5, dropconnect_mask="batch"
    ),
    "DropConnect 0.5, one mask per example": dict(
        dropconnect=0.5, dropconnect_mask="sample"
    ),
}


def timed_fit(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model, time.perf_counter() - start


def blobs_rows(seeds):
    X, y = make_blobs(n_samples=300, centers=3, random_state=7)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    results = {name: [] for name in FORMS}
    for seed in range(seeds):
        for name, params in FORMS.items():
            model, seconds = timed_fit(MLPClassifier(random_state=seed, **params), X, y)
            results[name].append((model.n_iter_, model.score(X, y), seconds))
    lines = [
        "| blobs (300 rows), defaults | epochs run | training accuracy | seconds |",
        "|---|---|---|---|",
    ]
    for name, runs in results.items():
        epochs, accuracy, seconds = (
            ", ".join(fmt % run[i] for run in runs)
            for i, fmt in enumerate(("%d", "%.3f", "%.2f"))
        )
        lines.append(f"| {name} | {epochs} | {accuracy} | {seconds} |")
    return lines


def mnist_rows(path, n_rows, epochs):
    data = np.load(path)
    X = data["x_train"][:n_rows].reshape(n_rows, -1).astype(np.float32) / 255
    X_test = data["x_test"].reshape(len(data["x_test"]), -1).astype(np.float32) / 255
    y, y_test = data["y_train"][:n_rows], data["y_test"]
    lines = [
        f"| MNIST, first {n_rows:,} training rows, hidden (100,), {epochs} epochs "
        "| test accuracy | training accuracy | seconds per epoch | x no DropConnect |",
        "|---|---|---|---|---|",
    ]
    base = None
    for name, params in FORMS.items():
        model = MLPClassifier(
            (100,), max_iter=epochs, n_iter_no_change=np.inf, random_state=0, **params
        )
        model, seconds = timed_fit(model, X, y)
        per_epoch = seconds / epochs
        base = per_epoch if base is None else base
        lines.append(
            f"| {name} | {model.score(X_test, y_test):.4f} | {model.score(X, y):.4f} "
            f"| {per_epoch:.2f} | {per_epoch / base:.1f} |"
        )
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mnist-rows", type=int, default=10_000)
    parser.add_argument("--mnist-epochs", type=int, default=20)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--mnist", type=Path, default=MNIST, help="mnist.npz")
    args = parser.parse_args(argv)
    rows, epochs = (1_000, 2) if args.quick else (args.mnist_rows, args.mnist_epochs)
    load = os.getloadavg()[0]
    lines = ["# DropConnect: one mask per mini-batch or per example", ""]
    lines += blobs_rows(1 if args.quick else 3) + [""]
    if args.mnist.exists():
        lines += mnist_rows(args.mnist, rows, epochs) + [""]
    lines.append(
        f"Load average (1 min) {load:.1f} at start, {os.getloadavg()[0]:.1f} at end, "
        f"on {os.cpu_count()} CPUs (shared: seconds inflated, compare within a table)."
    )
    print("\n".join(lines))
    output = args.output or (None if args.quick else RESULTS)
    if output is not None:
        output.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
