"""Cost of the recipe options of issue 18 on one training step, A/B in blocks.

Run from the repository root::

    python benchmarks/recipe_step.py          # writes benchmarks/results/recipe_step.md
    python benchmarks/recipe_step.py --quick  # smoke test, writes nothing

The harness of ``step_ab.py``: one mini-batch (batch 256, float32), skreg's
``train_step`` on it (forward, loss, backward, optimizer) in blocks of 10
calls, contenders interleaved block by block, many rounds; but with one BLAS
thread, and timed in the process's CPU seconds as well as in wall seconds:
on a machine shared with other work (load 15 on 2 cores when this was
written) wall times mostly measure the neighbours, while CPU time counts
what the step itself runs (still inflated by the cache and memory traffic
the neighbours cause). Two workloads:

- the reference workload of ``speed.py`` (20,000 MNIST rows, 784-512-512-10,
  Adam): ReLU against the new activations, label smoothing and the periodic
  embedding of all 784 inputs (an extreme case: the embedding works per
  feature, and images have many);
- a tabular one in RealMLP's shape (satimage from ../shared/data, 36
  features, hidden (256, 256, 256)): plain against the embedding, the case
  the embedding is meant for.
"""

import argparse
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

import skreg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import mnist_rows  # noqa: E402
from step_ab import captured_step, gemm_step  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "recipe_step.md"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REFERENCE = {
    "relu (plain)": {},
    "gelu": {"activation": "gelu"},
    "silu": {"activation": "silu"},
    "mish": {"activation": "mish"},
    "selu": {"activation": "selu"},
    "label_smoothing 0.1": {"label_smoothing": 0.1},
    "numeric_embedding pbld": {"numeric_embedding": "pbld"},
}
TABULAR = {
    "plain": {},
    "numeric_embedding pbld": {"numeric_embedding": "pbld"},
}


def timed_blocks(contenders, rounds, block=10):
    """Per contender, (CPU ms, wall ms) per step of each block, interleaved."""
    times = {name: ([], []) for name in contenders}
    for _ in range(rounds):
        for name, step in contenders.items():
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(block):
                step()
            times[name][0].append((time.process_time() - cpu) / block * 1e3)
            times[name][1].append((time.perf_counter() - wall) / block * 1e3)
    return times


def satimage_rows(path, n_rows=2560):
    data = np.loadtxt(path, delimiter="\t", skiprows=1)[:n_rows]
    X = data[:, :-1]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float32), data[:, -1].astype(np.int64)


def contenders(X, y, configs, hidden):
    steps = {}
    for name, params in configs.items():
        step, network, X_batch = captured_step(X, y, params, hidden)
        if not steps:
            steps["GEMMs alone"] = gemm_step(network, X_batch)
        steps[name] = step
    return steps


def table(title, times, plain):
    cpu = {name: float(np.median(t[0])) for name, t in times.items()}
    wall = {name: float(np.median(t[1])) for name, t in times.items()}
    lines = [
        f"## {title}",
        "",
        "| contender | CPU ms/step (median) | x plain, CPU "
        "| wall ms/step (median) | x plain, wall |",
        "|---|---|---|---|---|",
    ]
    for name in times:
        lines.append(
            f"| {name} | {cpu[name]:.2f} | {cpu[name] / cpu[plain]:.2f} | "
            f"{wall[name]:.2f} | {wall[name] / wall[plain]:.2f} |"
        )
    return lines + [""]


def workloads(data, rounds):
    X, y = mnist_rows(2560)
    steps = contenders(X, y, REFERENCE, (512, 512))
    title = "Reference workload: MNIST 784-512-512-10, Adam"
    lines = table(title, timed_blocks(steps, rounds), "relu (plain)")
    satimage = data / "pmlb" / "satimage" / "satimage.tsv.gz"
    if satimage.exists():
        steps = contenders(*satimage_rows(satimage), TABULAR, (256, 256, 256))
        title = "Tabular: satimage, 36 features, 256-256-256, Adam"
        lines += table(title, timed_blocks(steps, rounds), "plain")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="smoke test")
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=DATA, help="shared/data")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds
    output = args.output or (None if args.quick else RESULTS)
    lines = [
        "# Recipe options on one training step (batch 256, float32)",
        "",
        f"- date: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; machine: "
        f"{platform.processor() or platform.machine()}, shared with other "
        f"sessions' work while measured; skreg {skreg.__version__}, numpy "
        f"{np.__version__}; numba kernels "
        f"{'on' if skreg._kernels.get_kernels() is not None else 'off'}",
        f"- {rounds} rounds of 10-step blocks per contender, interleaved, one "
        "BLAS thread; command: `python benchmarks/recipe_step.py`",
        "",
    ]
    with threadpool_limits(1):
        lines += workloads(args.data, rounds)
    print("\n".join(lines))
    if output:
        output.write_text("\n".join(lines))
        print(f"wrote {output}")


if __name__ == "__main__":
    main()
