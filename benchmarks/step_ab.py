"""One training step of skreg against its matrix products alone, A/B in blocks.

Run from the repository root::

    python benchmarks/step_ab.py            # writes benchmarks/results/step_ab.md
    python benchmarks/step_ab.py --quick    # smoke test, writes nothing

``speed.py`` times epochs, which include the batch gather, shuffling and
per-epoch work. This script isolates the per-step cost beyond the GEMMs:
it takes one mini-batch of the reference workload (784-512-512-10, batch
256, MNIST rows) and alternates blocks of 10 calls of

- the GEMMs of that step alone (forward and backward, preallocated outputs),
- skreg's ``train_step`` on the same batch (forward, loss, backward,
  optimizer), plain and with each regularizer,

many times over. Each block's time per step is recorded; the fastest blocks
show the machine's quiet phase, the medians its usual state. No batch
gathering, shuffling or per-epoch work is included (``speed.py`` has those).
"""

import argparse
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import skreg
from skreg import MLPClassifier, _training

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import gemm_pass, mnist_rows  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "step_ab.md"
CONFIGS = {
    "plain": {},
    "dropout 0.5": {"dropout": 0.5},
    "batch norm": {"batch_norm": True},
    "DropConnect 0.5": {"dropconnect": 0.5},
    "cosine schedule + warmup": {"learning_rate": "cosine", "warmup_fraction": 0.1},
    "weight decay": {"weight_decay": 0.01},
    "gradient clipping": {"max_grad_norm": 1.0},
}


def captured_step(X, y, params, hidden_layer_sizes=(512, 512)):
    """A ``train_step`` closure on the first mini-batch of a one-epoch fit."""
    captured = {}
    original = _training.train_step

    def capture(*args):
        captured.setdefault("args", args)
        return original(*args)

    _training.train_step = capture
    try:
        model = MLPClassifier(
            hidden_layer_sizes=hidden_layer_sizes,
            batch_size=256,
            max_iter=1,
            random_state=0,
            **params,
        ).fit(X, y)
    finally:
        _training.train_step = original
    network, loss, penalty, optimizer, X_batch, Y_batch, *rest = captured["args"]
    X_batch, Y_batch = X_batch.copy(), Y_batch.copy()  # the fit's buffers are reused
    # a schedule's factor is set per step by the epoch loop: time it here too,
    # over the first tenth of the run (the one-epoch fit has ended it)
    schedule, steps = model._lr_schedule, iter(range(10**9))
    if schedule is not None:
        schedule.epochs = 0

    def step():
        if schedule is not None:
            optimizer.rate_factor = schedule.factor(next(steps) % 10, 100)
        original(network, loss, penalty, optimizer, X_batch, Y_batch, *rest)

    return step, network, X_batch


def gemm_step(network, X_batch):
    """The step's matrix products alone (``speed.gemm_pass``), on its weights."""
    coefs = [layer.params["coef"] for layer in network.dense_layers]
    n = X_batch.shape[0]
    acts = [np.empty((n, W.shape[1]), np.float32) for W in coefs]
    grads = [np.empty_like(W) for W in coefs]
    deltas = [np.empty((n, W.shape[0]), np.float32) for W in coefs[1:]]
    dZ = np.random.default_rng(0).standard_normal(acts[-1].shape, np.float32)

    def step():
        gemm_pass(X_batch, coefs, acts, grads, deltas, top_delta=dZ)

    return step


def timed_blocks(contenders, rounds, block=10):
    """Milliseconds per step of each contender's blocks, blocks interleaved."""
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, step in contenders.items():
            start = time.perf_counter()
            for _ in range(block):
                step()
            times[name].append((time.perf_counter() - start) / block * 1e3)
    return times


def report(times, rounds):
    floor = "GEMMs alone"
    fastest = {name: min(t) for name, t in times.items()}
    medians = {name: statistics.median(t) for name, t in times.items()}
    lines = [
        "# One training step against its GEMMs (784-512-512-10, batch 256, float32)",
        "",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; machine: "
        f"{platform.processor() or platform.machine()}; skreg {skreg.__version__}, "
        f"numpy {np.__version__}; numba kernels "
        f"{'on' if skreg._kernels.get_kernels() is not None else 'off'}",
        f"- {rounds} rounds of 10-step blocks per contender, interleaved; "
        "command: `python benchmarks/step_ab.py`",
        "",
        "| contender | fastest block ms/step | median ms/step "
        "| x GEMMs (fastest) | x GEMMs (median) |",
        "|---|---|---|---|---|",
    ]
    for name in times:
        lines.append(
            f"| {name} | {fastest[name]:.3f} | {medians[name]:.3f} | "
            f"{fastest[name] / fastest[floor]:.2f} | "
            f"{medians[name] / medians[floor]:.2f} |"
        )
    lines += [
        "",
        "The fastest blocks show the step on a quiet machine; the medians include "
        "the slow phases of a shared one, which slow memory-bound work (the "
        "optimizer, masks, elementwise passes) more than the GEMMs.",
    ]
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=150)
    parser.add_argument("--quick", action="store_true", help="smoke test")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    output = args.output or (None if args.quick else RESULTS)
    X, y = mnist_rows(2560)
    contenders = {}
    for name, params in CONFIGS.items():
        step, network, X_batch = captured_step(X, y, params)
        if not contenders:
            contenders["GEMMs alone"] = gemm_step(network, X_batch)
        contenders[f"skreg step, {name}"] = step
    lines = report(timed_blocks(contenders, rounds), rounds)
    print("\n".join(lines))
    if output:
        output.write_text("\n".join(lines) + "\n")
        print(f"wrote {output}")


if __name__ == "__main__":
    main()
