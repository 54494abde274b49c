"""Training speed of skreg beside its floor and its competitors, side by side.

Run from the repository root::

    python benchmarks/speed.py              # full run: benchmarks/results/speed.md
    python benchmarks/speed.py --quick      # tiny sizes: a smoke test of the harness
    python benchmarks/speed.py --repeats 5 --output /tmp/speed.md

Every contender of a case is timed once per repeat, the repeats interleaved
(so that a slow spell of the machine hits all of them alike), and the table
reports medians. Every ratio is paired: the median, over the repeats, of the
two contenders' ratio within one repeat, where they ran minutes apart at most;
on a shared machine whose speed drifts this is steadier than a ratio of
medians. Each contender first fits 1,024 rows once, untimed, so that no
timed run pays an import, numba's cache load or BLAS thread start. Contenders:

- the GEMM-only floor: the same matrix products, forward and backward, in
  numpy float32 with preallocated outputs and nothing else (no activation,
  loss, optimizer, masks);
- skreg (float32 unless said otherwise), with its optional numba kernels when
  numba is installed (``skreg[fast]``), and then again without them ("numpy
  only", what a plain install runs);
- scikit-learn's MLPClassifier on float64 and on float32 input;
- PyTorch (CPU) with its default Adam and with fused Adam, when installed.

Cases: the reference workload (20,000 MNIST rows, 784-512-512-10 ReLU, Adam,
batch 256, 10 epochs, shuffling, no early stopping, every epoch run); the same
with dropout 0.5, with batch norm, with DropConnect 0.5; a small-data case
(load_digits, hidden (100,), batch 200, 200 epochs) where per-call overhead
dominates; a large-data case (200,000 rows). PyTorch and threadpoolctl are
benchmark-only dependencies, never needed by skreg.
"""

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier as SklearnMLP

import skreg
from skreg import MLPClassifier, _kernels

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generalization import skreg_source  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional: its rows are skipped
    torch = None
try:
    from threadpoolctl import threadpool_info
except ImportError:
    threadpool_info = None

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist" / "mnist.npz"
RESULTS = ROOT / "benchmarks" / "results" / "speed.md"
NUMPY_ONLY = "numpy only"

ALPHA = 1e-4  # skreg's and scikit-learn's default L2; PyTorch gets it as weight_decay


# ---------------------------------------------------------------------------
# data


def mnist_rows(n_rows, seed=0):
    """``n_rows`` MNIST training images as float32 in [0, 1] and their labels.

    Beyond the 60,000 images the rows repeat (the large case only times).
    Without the data file, random pixels and labels of the same shape.
    """
    if MNIST.exists():
        with np.load(MNIST) as data:
            X = data["x_train"].reshape(len(data["x_train"]), -1)
            y = data["y_train"].astype(np.int64)
        reps = -(-n_rows // len(X))
        X = np.tile(X, (reps, 1))[:n_rows]
        y = np.tile(y, reps)[:n_rows]
        return (X / np.float32(255)).astype(np.float32), y
    rng = np.random.default_rng(seed)
    return rng.random((n_rows, 784), dtype=np.float32), rng.integers(0, 10, n_rows)


def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


# ---------------------------------------------------------------------------
# contenders: each returns (seconds, final training loss or None)


def gemm_floor(X, hidden, n_outputs, batch_size, epochs):
    """The matrix products of training, in float32, and nothing else."""
    rng = np.random.default_rng(0)
    sizes = [X.shape[1], *hidden, n_outputs]
    X = np.ascontiguousarray(X, dtype=np.float32)
    W = [
        rng.standard_normal((a, b), dtype=np.float32) * 0.01
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    G = [np.empty_like(w) for w in W]
    acts = [np.empty((batch_size, b), np.float32) for b in sizes[1:]]
    deltas = [np.empty((batch_size, a), np.float32) for a in sizes[1:-1]]
    start = time.perf_counter()
    for _ in range(epochs):
        for lo in range(0, X.shape[0], batch_size):
            gemm_pass(X[lo : lo + batch_size], W, acts, G, deltas)
    return time.perf_counter() - start, None


def gemm_pass(batch, weights, acts, grads, deltas, top_delta=None):
    """The matrix products of one training step, into preallocated arrays.

    Forward ``batch @ W`` layer by layer into ``acts``, then the weight
    gradients into ``grads`` and the input gradients below the top layer into
    ``deltas``; the top layer's delta is ``top_delta`` (default: its output).
    """
    n = batch.shape[0]
    inputs = [batch]
    for W, out in zip(weights, acts, strict=True):
        inputs.append(np.matmul(inputs[-1], W, out=out[:n]))
    delta = inputs[-1] if top_delta is None else top_delta
    for i in range(len(weights) - 1, -1, -1):
        np.matmul(inputs[i].T, delta, out=grads[i])
        if i > 0:
            delta = np.matmul(delta, weights[i].T, out=deltas[i - 1][:n])


@contextmanager
def numpy_only():
    """Train without skreg's optional numba kernels, as without ``skreg[fast]``."""
    saved = _kernels._kernels
    _kernels._kernels = None
    try:
        yield
    finally:
        _kernels._kernels = saved


def skreg_fit(
    X, y, hidden, batch_size, epochs, dtype="float32", kernels=True, **params
):
    if not kernels:
        with numpy_only():
            return skreg_fit(X, y, hidden, batch_size, epochs, dtype, **params)
    model = MLPClassifier(
        hidden_layer_sizes=hidden,
        batch_size=batch_size,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=10**9,
        early_stopping=False,
        shuffle=True,
        random_state=0,
        dtype=dtype,
        alpha=ALPHA,
        **params,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: max_iter on purpose
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    assert model.n_iter_ == epochs
    return seconds, model.loss_curve_[-1]


def sklearn_fit(X, y, hidden, batch_size, epochs, dtype=np.float64):
    X = np.asarray(X, dtype=dtype)
    model = SklearnMLP(
        hidden_layer_sizes=hidden,
        batch_size=batch_size,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=10**9,
        early_stopping=False,
        shuffle=True,
        random_state=0,
        alpha=ALPHA,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, model.loss_curve_[-1]


def torch_fit(
    X, y, hidden, batch_size, epochs, fused=False, dropout=0.0, batch_norm=False
):
    torch.manual_seed(0)
    layers, n_in = [], X.shape[1]
    for n_out in hidden:
        layers.append(torch.nn.Linear(n_in, n_out, bias=not batch_norm))
        if batch_norm:
            layers.append(torch.nn.BatchNorm1d(n_out))
        layers.append(torch.nn.ReLU())
        if dropout:
            layers.append(torch.nn.Dropout(dropout))
        n_in = n_out
    n_classes = int(y.max()) + 1
    layers.append(torch.nn.Linear(n_in, n_classes))
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=1e-3, weight_decay=ALPHA, fused=fused or None
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    generator = torch.Generator().manual_seed(0)
    model.train()
    start = time.perf_counter()
    for _ in range(epochs):
        total, order = 0.0, torch.randperm(len(Xt), generator=generator)
        for lo in range(0, len(Xt), batch_size):
            index = order[lo : lo + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[index]), yt[index])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(index)
    seconds = time.perf_counter() - start
    return seconds, total / len(Xt)


# ---------------------------------------------------------------------------
# cases


def cases(quick):
    """name -> (data loader, settings, {contender: callable(X, y)})."""
    n_ref, n_large = (2_000, 5_000) if quick else (20_000, 200_000)
    epochs = 2 if quick else 10
    large_epochs = 1
    digit_epochs = 20 if quick else 200
    ref = dict(hidden=(512, 512), batch_size=256, epochs=epochs)
    large = dict(hidden=(512, 512), batch_size=256, epochs=large_epochs)
    small = dict(hidden=(100,), batch_size=200, epochs=digit_epochs)

    def numpy_rows(contenders):
        """The same skreg contenders without numba, when numba is installed."""
        if _kernels.get_kernels() is None:
            return {}  # the plain rows already are the numpy path
        return {f"{name}, {NUMPY_ONLY}": fit for name, fit in contenders.items()}

    def with_torch(contenders, **torch_params):
        if torch is not None:
            contenders.update(torch_params)
        return contenders

    def gemm(settings):
        return lambda X, y: gemm_floor(
            X, settings["hidden"], 10, settings["batch_size"], settings["epochs"]
        )

    def sk(settings, **kw):
        return lambda X, y: skreg_fit(
            X, y, settings["hidden"], settings["batch_size"], settings["epochs"], **kw
        )

    def skl(settings, dtype):
        return lambda X, y: sklearn_fit(
            X,
            y,
            settings["hidden"],
            settings["batch_size"],
            settings["epochs"],
            dtype=dtype,
        )

    def pt(settings, **kw):
        return lambda X, y: torch_fit(
            X, y, settings["hidden"], settings["batch_size"], settings["epochs"], **kw
        )

    return {
        "reference": (
            lambda: mnist_rows(n_ref),
            ref,
            with_torch(
                {
                    "GEMMs alone, numpy float32 (the floor)": gemm(ref),
                    "skreg float32": sk(ref),
                    "skreg float32 + dropout 0.5": sk(ref, dropout=0.5),
                    "skreg float32 + batch norm": sk(ref, batch_norm=True),
                    "skreg float32 + DropConnect 0.5": sk(ref, dropconnect=0.5),
                    **numpy_rows(
                        {
                            "skreg float32": sk(ref, kernels=False),
                            "skreg float32 + dropout 0.5": sk(
                                ref, dropout=0.5, kernels=False
                            ),
                            "skreg float32 + DropConnect 0.5": sk(
                                ref, dropconnect=0.5, kernels=False
                            ),
                        }
                    ),
                    "scikit-learn, float32 input": skl(ref, np.float32),
                    "scikit-learn, float64 input": skl(ref, np.float64),
                },
                **{
                    "PyTorch float32, default Adam": pt(ref),
                    "PyTorch float32, fused Adam": pt(ref, fused=True),
                    "PyTorch float32 + dropout 0.5": pt(ref, dropout=0.5),
                    "PyTorch float32 + batch norm": pt(ref, batch_norm=True),
                },
            ),
        ),
        "digits": (
            digits,
            small,
            with_torch(
                {
                    "skreg (dtype='auto')": sk(small, dtype="auto"),
                    "skreg float32": sk(small),
                    **numpy_rows(
                        {"skreg (dtype='auto')": sk(small, dtype="auto", kernels=False)}
                    ),
                    "scikit-learn, float32 input": skl(small, np.float32),
                    "scikit-learn, float64 input": skl(small, np.float64),
                },
                **{"PyTorch float32, default Adam": pt(small)},
            ),
        ),
        "large": (
            lambda: mnist_rows(n_large),
            large,
            with_torch(
                {
                    "GEMMs alone, numpy float32 (the floor)": gemm(large),
                    "skreg float32": sk(large),
                },
                **{
                    "PyTorch float32, default Adam": pt(large),
                    "PyTorch float32, fused Adam": pt(large, fused=True),
                },
            ),
        ),
    }


def run_case(load, contenders, repeats):
    X, y = load()
    times = {name: [] for name in contenders}
    losses = {}
    for fit in contenders.values():  # imports, numba's cache, BLAS threads: untimed
        fit(X[:1024], y[:1024])
    for _ in range(repeats):
        for name, fit in contenders.items():
            seconds, loss = fit(X, y)
            times[name].append(seconds)
            losses[name] = loss
    return X, y, times, losses


# ---------------------------------------------------------------------------
# report


def machine_info():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines = [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- machine: {cpu}, {os.cpu_count()} logical CPUs, {platform.platform()}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, skreg {skreg.__version__}, "
        f"torch {torch.__version__ if torch is not None else 'not installed'}",
        f"- skreg source: {skreg_source()}; kernels: {kernel_info()}",
    ]
    if threadpool_info is not None:
        for pool in threadpool_info():
            lines.append(
                f"- thread pool: {pool.get('internal_api')} {pool.get('version')} "
                f"({pool.get('user_api')}, {pool.get('num_threads')} threads, "
                f"{pool.get('threading_layer', '-')}, {pool.get('architecture', '-')}) "
                f"from {Path(pool.get('filepath', '?')).name}"
            )
    else:
        lines.append("- thread pools: threadpoolctl not installed")
    return lines


def kernel_info():
    if _kernels.get_kernels() is None:
        return "numpy only (numba not installed or SKREG_NUMBA=0)"
    import numba

    return (
        f"numba {numba.__version__} (skreg[fast]); rows marked '{NUMPY_ONLY}' "
        "train without it, as a plain install does"
    )


def paired_ratio(times, name, reference):
    """Median over the repeats of ``time[name] / time[reference]`` in that repeat."""
    return statistics.median(
        mine / theirs
        for mine, theirs in zip(times[name], times[reference], strict=True)
    )


def table(times, losses, floor=None, sklearn64=None):
    header = "| contender | median s | min-max s | final loss |"
    rule = "|---|---|---|---|"
    if floor:
        header += " x GEMM floor |"
        rule += "---|"
    if sklearn64:
        header += " x scikit-learn f64 |"
        rule += "---|"
    rows = [header, rule]
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, t in sorted(times.items(), key=lambda item: medians[item[0]]):
        loss = losses.get(name)
        row = (
            f"| {name} | {medians[name]:.3f} | {min(t):.3f}-{max(t):.3f} | "
            f"{'-' if loss is None else f'{loss:.4f}'} |"
        )
        if floor:
            row += f" {paired_ratio(times, name, floor):.2f} |"
        if sklearn64:
            row += f" {paired_ratio(times, name, sklearn64):.2f} |"
        rows.append(row)
    return rows, medians


def phase_lines(times, name, floor):
    """The ratio repeat by repeat, beside the floor's time, and on the fastest runs.

    On a shared machine the floor's time shows the phase each repeat ran in;
    memory-bound work slows more than the GEMMs in the slow phases.
    """
    pairs = ", ".join(
        f"{mine / theirs:.2f} ({theirs:.2f} s)"
        for mine, theirs in zip(times[name], times[floor], strict=True)
    )
    fastest = min(times[name]) / min(times[floor])
    return [
        f"  - repeat by repeat, {name} / GEMM floor (floor seconds): {pairs}",
        f"  - fastest {name} run / fastest floor run (the quietest phase): "
        f"{fastest:.2f}",
    ]


def verdict(ok):
    return "met" if ok else "**not met**"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed runs per contender"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"markdown report (default {RESULTS.relative_to(ROOT)}; "
        "--quick writes none unless given)",
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        default=["reference", "digits", "large"],
        choices=["reference", "digits", "large"],
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS and PyTorch threads (default: all cores)",
    )
    args = parser.parse_args(argv)
    output = args.output or (None if args.quick else RESULTS)
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)

    load_start = os.getloadavg()
    wall = time.perf_counter()
    report = ["# skreg training speed", ""]
    report += machine_info()
    if args.threads is not None:
        report.append(f"- threads limited to {args.threads} (--threads)")
    report.append(
        f"- repeats per contender: {args.repeats} (interleaved); medians reported, "
        "ratios paired within each repeat"
        + (" ; QUICK sizes (smoke test, not a measurement)" if args.quick else "")
    )
    report.append("")
    targets = []
    all_cases = cases(args.quick)
    for case in args.cases:
        load, settings, contenders = all_cases[case]
        print(f"== {case}: {settings}", flush=True)
        X, y, times, losses = run_case(load, contenders, args.repeats)
        floor = next((n for n in times if n.startswith("GEMMs")), None)
        sk64 = (
            "scikit-learn, float64 input"
            if "scikit-learn, float64 input" in times
            else None
        )
        rows, med = table(times, losses, floor, sk64)
        report += [
            f"## {case}: {X.shape[0]:,} x {X.shape[1]} rows, hidden "
            f"{settings['hidden']}, batch {settings['batch_size']}, "
            f"{settings['epochs']} epochs, Adam",
            "",
        ]
        report += rows + [""]
        print("\n".join(rows), flush=True)
        if case == "reference":
            plain = "skreg float32"
            ratio = paired_ratio(times, plain, floor)
            targets.append(
                f"- reference: skreg / GEMM floor = {ratio:.2f} (target <= 1.3): "
                f"{verdict(ratio <= 1.3)}"
            )
            targets += phase_lines(times, plain, floor)
            if sk64:
                ratio = paired_ratio(times, plain, sk64)
                targets.append(
                    f"- reference: skreg / scikit-learn float64 = {ratio:.2f} "
                    f"(target <= 0.25): {verdict(ratio <= 0.25)}"
                )
            for name in ("dropout 0.5", "batch norm", "DropConnect 0.5"):
                extra = paired_ratio(times, f"skreg float32 + {name}", plain) - 1
                targets.append(
                    f"- {name} adds {100 * extra:.0f} % to skreg's plain time "
                    f"(target <= 15 %): {verdict(extra <= 0.15)}"
                )
            numpy_plain = f"skreg float32, {NUMPY_ONLY}"
            if numpy_plain in times:
                extras = ", ".join(
                    f"{name} adds {100 * (ratio - 1):.0f} %"
                    for name in ("dropout 0.5", "DropConnect 0.5")
                    for ratio in [
                        paired_ratio(
                            times, f"skreg float32 + {name}, {NUMPY_ONLY}", numpy_plain
                        )
                    ]
                )
                targets.append(
                    f"- without numba ({NUMPY_ONLY}): skreg / GEMM floor = "
                    f"{paired_ratio(times, numpy_plain, floor):.2f}"
                    + (
                        ", / scikit-learn float64 = "
                        f"{paired_ratio(times, numpy_plain, sk64):.2f}"
                        if sk64
                        else ""
                    )
                    + f"; {extras}"
                )
            # accuracy: float32 training ends where float64 training does
            _, loss64 = skreg_fit(
                X,
                y,
                settings["hidden"],
                settings["batch_size"],
                settings["epochs"],
                dtype="float64",
            )
            loss32 = losses["skreg float32"]
            gap = abs(loss32 - loss64) / loss64
            targets.append(
                f"- final training loss float32 {loss32:.5f} vs float64 "
                f"{loss64:.5f}: relative gap {100 * gap:.2f} % (target <= 1 %): "
                f"{verdict(gap <= 0.01)}"
            )
        if case == "digits":
            mine = med["skreg (dtype='auto')"]
            fastest = min(mine, med["skreg float32"])
            ratio = paired_ratio(times, "skreg (dtype='auto')", sk64)
            targets.append(
                f"- digits: skreg (auto dtype) / scikit-learn float64 = {ratio:.2f}"
                f" (target <= 0.4): {verdict(ratio <= 0.4)}; skreg float32: "
                f"{paired_ratio(times, 'skreg float32', sk64):.2f}"
            )
            numpy_auto = f"skreg (dtype='auto'), {NUMPY_ONLY}"
            if numpy_auto in times:
                targets.append(
                    f"- digits without numba ({NUMPY_ONLY}): skreg (auto dtype) / "
                    "scikit-learn float64 = "
                    f"{paired_ratio(times, numpy_auto, sk64):.2f}"
                )
            if "PyTorch float32, default Adam" in med:
                pt = med["PyTorch float32, default Adam"]
                targets.append(
                    f"- digits: skreg {fastest:.3f} s vs PyTorch {pt:.3f} s "
                    f"(target: below): {verdict(fastest < pt)}"
                )
        if case == "large":
            ratio = paired_ratio(times, "skreg float32", floor)
            targets.append(f"- large: skreg / GEMM floor = {ratio:.2f}")
            targets += phase_lines(times, "skreg float32", floor)
        # written after every case, so that an interrupted run leaves its results
        done = case == args.cases[-1]
        write_report(output, report, targets, load_start, wall, done)
    print("\n".join(targets))
    return 0


def write_report(output, report, targets, load_start, wall, done):
    load_end = os.getloadavg()
    lines = list(report)
    if not done:
        lines += ["(partial report: the run has not finished all cases)", ""]
    lines += ["## Targets (issue 7): paired ratios from the runs above", ""]
    lines += targets + [""]
    lines.append(
        f"Load average (1 min) at start {load_start[0]:.1f}, "
        f"at end {load_end[0]:.1f} on "
        f"{os.cpu_count()} CPUs; total run {time.perf_counter() - wall:.0f} s. A load "
        "above the CPU count means other processes shared the cores during the run: "
        "absolute seconds are then inflated and ratios noisier, most of all for the "
        "multi-threaded GEMMs."
    )
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("\n".join(lines) + "\n")
        print(f"wrote {output}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
