"""Training speed of skreg beside its floor and its competitors, side by side.

Run from the repository root::

    python benchmarks/speed.py --repeats 5  # full run: benchmarks/results/speed.md
    python benchmarks/speed.py --quick      # tiny sizes: a smoke test of the harness
    python benchmarks/speed.py --repeats 5 --output /tmp/speed.md

The machines are shared, and their speed changes in phases of seconds
(the GEMM floor's epoch takes 0.35 s in one phase, 0.5 s in the next), and
memory-bound work slows more than the GEMMs in the slow ones. So ratios come
from adjacent runs:

- reference and large cases: in each repeat every contender trains its
  epochs in turn with the others (skreg and scikit-learn by ``partial_fit``,
  one epoch per call; the first call also builds the model), and each of its
  epochs runs right after one epoch of the GEMM floor. A contender's ratio to
  the floor is the median, over all its epochs, of its epoch time divided by
  that floor epoch's; a ratio between two contenders is the ratio of their
  ratios to the floor. Its seconds are the sum of its epochs per repeat.
- digits case (fits of about a second): whole ``fit`` calls, interleaved,
  three times as many repeats, each ratio the median over the repeats of the
  two contenders' ratio within one repeat.

Tables report medians over the repeats. Each contender first trains on
1,024 rows, untimed, so that no timed run pays an import, numba's cache load
or BLAS thread start. Contenders:

- the GEMM-only floor: the same matrix products, forward and backward, in
  numpy float32 with preallocated outputs and nothing else (no activation,
  loss, optimizer, masks);
- skreg (float32 unless said otherwise), with its optional numba kernels when
  numba is installed (the ``fast`` extra), and then again without them ("numpy
  only", what a plain install runs);
- scikit-learn's MLPClassifier on float64 and on float32 input;
- PyTorch (CPU) with its default Adam and with fused Adam, when installed.

Cases: the reference workload (20,000 MNIST rows, 784-512-512-10 ReLU, Adam,
batch 256, 10 epochs, shuffling, no early stopping, every epoch run); the same
with dropout 0.5, with batch norm, with DropConnect 0.5; a small-data case
(load_digits, hidden (100,), batch 200, 200 epochs) where per-call overhead
dominates; DropConnect 0.5 on that digits network with one mask per
mini-batch and with one mask per example (``dropconnect_mask``), side by
side; a large-data case (200,000 rows). PyTorch and threadpoolctl are
benchmark-only dependencies, never needed by skreg.
"""

import argparse
import datetime
import functools
import os
import platform
import statistics
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
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

DIGITS_REPEATS = 3  # digits fits take about a second: three times the repeats
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
# contenders: generators that set up on the first ``next()`` (untimed) and
# then train one epoch per ``next()``, yielding the epoch's training loss (or
# None). ``whole_fit`` times a contender's epochs back to back, as one fit.


def gemm_floor(X, y, hidden, batch_size):
    """The matrix products of training, in float32, and nothing else."""
    rng = np.random.default_rng(0)
    sizes = [X.shape[1], *hidden, int(np.max(y)) + 1]
    X = np.ascontiguousarray(X, dtype=np.float32)
    W = [
        rng.standard_normal((a, b), dtype=np.float32) * 0.01
        for a, b in zip(sizes[:-1], sizes[1:], strict=True)
    ]
    G = [np.empty_like(w) for w in W]
    acts = [np.empty((batch_size, b), np.float32) for b in sizes[1:]]
    deltas = [np.empty((batch_size, a), np.float32) for a in sizes[1:-1]]
    yield
    while True:
        for lo in range(0, X.shape[0], batch_size):
            gemm_pass(X[lo : lo + batch_size], W, acts, G, deltas)
        yield None


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
def numpy_only(active=True):
    """Train without skreg's optional numba kernels, as without the ``fast`` extra."""
    saved = _kernels._kernels
    if active:
        _kernels._kernels = None
    try:
        yield
    finally:
        _kernels._kernels = saved


def quiet(method, *args, **kwargs):
    """Call ``method`` with warnings off (ConvergenceWarning: max_iter on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return method(*args, **kwargs)


def skreg_model(hidden, batch_size, max_iter=200, dtype="float32", **params):
    return MLPClassifier(
        hidden_layer_sizes=hidden,
        batch_size=batch_size,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=10**9,
        early_stopping=False,
        shuffle=True,
        random_state=0,
        dtype=dtype,
        alpha=ALPHA,
        **params,
    )


def sklearn_model(hidden, batch_size, max_iter=200, random_state=0):
    return SklearnMLP(
        hidden_layer_sizes=hidden,
        batch_size=batch_size,
        max_iter=max_iter,
        tol=0.0,
        n_iter_no_change=10**9,
        early_stopping=False,
        shuffle=True,
        random_state=random_state,
        alpha=ALPHA,
    )


def skreg_epochs(X, y, hidden, batch_size, kernels=True, **params):
    model, classes = skreg_model(hidden, batch_size, **params), np.unique(y)
    yield
    while True:
        # the kernels' switch is set around each epoch: other contenders run between
        with numpy_only(active=not kernels):
            quiet(model.partial_fit, X, y, classes=classes)
        yield model.loss_curve_[-1]


def sklearn_epochs(X, y, hidden, batch_size, dtype=np.float64):
    X = np.asarray(X, dtype=dtype)
    # scikit-learn re-seeds an integer random_state on every partial_fit call,
    # which would repeat one batch order each epoch; a RandomState moves on
    model = sklearn_model(hidden, batch_size, random_state=np.random.RandomState(0))
    classes = np.unique(y)
    yield
    while True:
        quiet(model.partial_fit, X, y, classes=classes)
        yield model.loss_curve_[-1]


def skreg_fit(X, y, hidden, batch_size, epochs, kernels=True, **params):
    """``(seconds, final loss)`` of one ``fit`` of ``epochs`` epochs."""
    model = skreg_model(hidden, batch_size, max_iter=epochs, **params)
    with numpy_only(active=not kernels):
        start = time.perf_counter()
        quiet(model.fit, X, y)
        seconds = time.perf_counter() - start
    assert model.n_iter_ == epochs
    return seconds, model.loss_curve_[-1]


def sklearn_fit(X, y, hidden, batch_size, epochs, dtype=np.float64):
    X = np.asarray(X, dtype=dtype)
    model = sklearn_model(hidden, batch_size, max_iter=epochs)
    start = time.perf_counter()
    quiet(model.fit, X, y)
    return time.perf_counter() - start, model.loss_curve_[-1]


def torch_epochs(X, y, hidden, batch_size, fused=False, dropout=0.0, batch_norm=False):
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
    yield
    while True:
        total, order = 0.0, torch.randperm(len(Xt), generator=generator)
        for lo in range(0, len(Xt), batch_size):
            index = order[lo : lo + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[index]), yt[index])
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(index)
        yield total / len(Xt)


def whole_fit(epochs_of, X, y, epochs):
    """``(seconds, final loss)`` of ``epochs`` epochs of a contender in one go."""
    run = epochs_of(X, y)
    next(run)  # set up: model, input conversion
    start = time.perf_counter()
    for _ in range(epochs):
        loss = next(run)
    return time.perf_counter() - start, loss


# ---------------------------------------------------------------------------
# cases


FLOOR = "GEMMs alone, numpy float32 (the floor)"


def cases(quick):
    """name -> (data loader, settings, {contender: factory(X, y)}).

    With ``settings["epochs_interleaved"]`` the factories make epoch
    generators (``run_epoch_case``), else they time one whole fit each
    (``run_fit_case``).
    """
    n_ref, n_large = (2_000, 5_000) if quick else (20_000, 200_000)
    ref = dict(hidden=(512, 512), batch_size=256, epochs=2 if quick else 10)
    large = dict(hidden=(512, 512), batch_size=256, epochs=1)
    small = dict(hidden=(100,), batch_size=200, epochs=20 if quick else 200)
    ref["epochs_interleaved"] = large["epochs_interleaved"] = True

    def numpy_rows(contenders):
        """The same skreg contenders without numba, when numba is installed."""
        if _kernels.get_kernels() is None:
            return {}  # the plain rows already are the numpy path
        return {f"{name}, {NUMPY_ONLY}": fit for name, fit in contenders.items()}

    def with_torch(contenders, **torch_params):
        if torch is not None:
            contenders.update(torch_params)
        return contenders

    def bind(settings, contender, **kw):
        def factory(X, y):
            return contender(X, y, settings["hidden"], settings["batch_size"], **kw)

        return factory

    def gemm(settings):
        return bind(settings, gemm_floor)

    def sk(settings, **kw):
        return bind(settings, skreg_epochs, **kw)

    def skl(settings, dtype):
        return bind(settings, sklearn_epochs, dtype=dtype)

    def pt(settings, **kw):
        return bind(settings, torch_epochs, **kw)

    def fit(contender, **kw):  # the digits case: whole fits
        return bind(small, contender, epochs=small["epochs"], **kw)

    def pt_fit(X, y):
        return whole_fit(pt(small), X, y, small["epochs"])

    return {
        "reference": (
            lambda: mnist_rows(n_ref),
            ref,
            with_torch(
                {
                    FLOOR: gemm(ref),
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
                    "skreg (dtype='auto')": fit(skreg_fit, dtype="auto"),
                    "skreg float32": fit(skreg_fit),
                    **numpy_rows(
                        {
                            "skreg (dtype='auto')": fit(
                                skreg_fit, dtype="auto", kernels=False
                            )
                        }
                    ),
                    "scikit-learn, float32 input": fit(sklearn_fit, dtype=np.float32),
                    "scikit-learn, float64 input": fit(sklearn_fit, dtype=np.float64),
                },
                **{"PyTorch float32, default Adam": pt_fit},
            ),
        ),
        # DropConnect's two mask forms on the digits network, whole fits
        "dropconnect": (
            digits,
            small,
            {
                "skreg float32": fit(skreg_fit),
                "skreg float32 + DropConnect 0.5, one mask per mini-batch": fit(
                    skreg_fit, dropconnect=0.5, dropconnect_mask="batch"
                ),
                "skreg float32 + DropConnect 0.5, one mask per example": fit(
                    skreg_fit, dropconnect=0.5, dropconnect_mask="sample"
                ),
            },
        ),
        "large": (
            lambda: mnist_rows(n_large),
            large,
            with_torch(
                {FLOOR: gemm(large), "skreg float32": sk(large)},
                **{
                    "PyTorch float32, default Adam": pt(large),
                    "PyTorch float32, fused Adam": pt(large, fused=True),
                },
            ),
        ),
    }


@dataclass
class Timings:
    """Seconds per repeat of each contender's workload, and its ratios.

    ``epoch_pairs`` (epoch-interleaved cases): for each contender other than
    the floor, ``(its epoch time, the floor epoch's just before it)``; its
    ratio to the floor is the median of their quotients, and a ratio between
    two contenders the quotient of their ratios to the floor. Without it,
    ratios are paired within each repeat (``paired_ratio``). The floor's
    seconds are its mean epoch times the number of epochs.
    """

    seconds: dict
    losses: dict
    epoch_pairs: dict | None = None

    def floor_ratios(self, name):
        return [mine / floor for mine, floor in self.epoch_pairs[name]]

    def to_floor(self, name):
        if name == FLOOR:
            return 1.0
        return statistics.median(self.floor_ratios(name))

    def ratio(self, name, reference):
        if self.epoch_pairs is None:
            return paired_ratio(self.seconds, name, reference)
        return self.to_floor(name) / self.to_floor(reference)


def run_fit_case(X, y, contenders, repeats):
    """Each contender fits once per repeat, the repeats interleaved."""
    times = {name: [] for name in contenders}
    losses = {}
    for fit in contenders.values():  # imports, numba's cache, BLAS threads: untimed
        fit(X[:1024], y[:1024])
    for _ in range(repeats):
        for name, fit in contenders.items():
            seconds, loss = fit(X, y)
            times[name].append(seconds)
            losses[name] = loss
    return Timings(times, losses)


def timed_next(run):
    start = time.perf_counter()
    value = next(run)
    return time.perf_counter() - start, value


def run_epoch_case(X, y, contenders, repeats, epochs):
    """Every contender trains ``epochs`` epochs per repeat, epoch by epoch in turn,
    and each of its epochs runs right after one epoch of the GEMM floor.

    The machines are shared, and their speed changes in phases of seconds;
    a ratio of two epochs a second apart is far steadier than one of two
    whole fits a minute apart.
    """
    others = {name: make for name, make in contenders.items() if name != FLOOR}
    for make in contenders.values():  # imports, numba's cache, BLAS threads: untimed
        warm_up = make(X[:1024], y[:1024])
        next(warm_up)
        next(warm_up)
    seconds = {name: [] for name in contenders}
    epoch_pairs = {name: [] for name in others}
    losses = {}
    for _ in range(repeats):
        floor = contenders[FLOOR](X, y)
        runs = {name: make(X, y) for name, make in others.items()}
        for run in [floor, *runs.values()]:
            next(run)  # set up: model, input conversion
        totals, repeat_floor = dict.fromkeys(others, 0.0), []
        names = list(runs)
        for epoch in range(epochs):
            # rotate the order, so that no contender always follows the same one
            shift = epoch % len(names)
            for name in names[shift:] + names[:shift]:
                run = runs[name]
                floor_seconds, _ = timed_next(floor)
                mine, losses[name] = timed_next(run)
                repeat_floor.append(floor_seconds)
                totals[name] += mine
                epoch_pairs[name].append((mine, floor_seconds))
        seconds[FLOOR].append(statistics.mean(repeat_floor) * epochs)
        for name, total in totals.items():
            seconds[name].append(total)
    return Timings(seconds, losses, epoch_pairs)


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
        f"numba {numba.__version__} (the fast extra); rows marked '{NUMPY_ONLY}' "
        "train without it, as a plain install does"
    )


def paired_ratio(times, name, reference):
    """Median over the repeats of ``time[name] / time[reference]`` in that repeat."""
    return statistics.median(
        mine / theirs
        for mine, theirs in zip(times[name], times[reference], strict=True)
    )


def table(timings, floor=None, sklearn64=None):
    header = "| contender | median s | min-max s | final loss |"
    rule = "|---|---|---|---|"
    if floor:
        header += " x GEMM floor |"
        rule += "---|"
    if sklearn64:
        header += " x scikit-learn f64 |"
        rule += "---|"
    rows = [header, rule]
    times = timings.seconds
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, t in sorted(times.items(), key=lambda item: medians[item[0]]):
        loss = timings.losses.get(name)
        row = (
            f"| {name} | {medians[name]:.3f} | {min(t):.3f}-{max(t):.3f} | "
            f"{'-' if loss is None else f'{loss:.4f}'} |"
        )
        if floor:
            row += f" {timings.ratio(name, floor):.2f} |"
        if sklearn64:
            row += f" {timings.ratio(name, sklearn64):.2f} |"
        rows.append(row)
    return rows, medians


def phase_lines(timings, name):
    """How the epoch ratio to the floor spreads, and how it follows the phases.

    On a shared machine the floor's epoch time shows the phase an epoch ran
    in; memory-bound work slows more than the GEMMs in the slow phases.
    """
    pairs = timings.epoch_pairs[name]
    ratios = timings.floor_ratios(name)
    q1, q2, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    floors = sorted(floor for _, floor in pairs)
    lines = [
        f"  - {name} epoch / the floor epoch just before it, over {len(ratios)} "
        f"epochs: quartiles {q1:.2f} / {q2:.2f} / {q3:.2f}, fastest {min(ratios):.2f}"
        f"; floor epochs took {floors[0]:.2f}-{floors[-1]:.2f} s"
    ]
    if len(pairs) >= 8:
        cut = statistics.median(floors)
        fast = [mine / floor for mine, floor in pairs if floor <= cut]
        slow = [mine / floor for mine, floor in pairs if floor > cut]
        lines.append(
            f"  - median ratio when the floor epoch was at most its median "
            f"{cut:.2f} s (the faster phase): {statistics.median(fast):.2f}; "
            f"when slower: {statistics.median(slow):.2f}"
        )
    return lines


def verdict(ok):
    return "met" if ok else "**not met**"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="repeats per contender (digits: three times as many); 5 for a full run",
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
        default=["reference", "digits", "dropconnect", "large"],
        choices=["reference", "digits", "dropconnect", "large"],
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
        f"- repeats: {args.repeats} (digits: {DIGITS_REPEATS * args.repeats}); "
        "medians reported. reference and large: every contender's epochs "
        "interleaved, each right after an epoch of the GEMM floor, ratios from "
        "those adjacent epochs; digits: whole fits interleaved, ratios paired "
        "within each repeat"
        + (" ; QUICK sizes (smoke test, not a measurement)" if args.quick else "")
    )
    report.append("")
    targets = []
    all_cases = cases(args.quick)
    for case in args.cases:
        load, settings, contenders = all_cases[case]
        print(f"== {case}: {settings}", flush=True)
        X, y = load()
        if settings.get("epochs_interleaved"):
            timings = run_epoch_case(X, y, contenders, args.repeats, settings["epochs"])
        else:
            timings = run_fit_case(X, y, contenders, DIGITS_REPEATS * args.repeats)
        times, losses, ratio_of = timings.seconds, timings.losses, timings.ratio
        floor = FLOOR if FLOOR in times else None
        sk64 = (
            "scikit-learn, float64 input"
            if "scikit-learn, float64 input" in times
            else None
        )
        rows, med = table(timings, floor, sk64)
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
            ratio = ratio_of(plain, floor)
            targets.append(
                f"- reference: skreg / GEMM floor = {ratio:.2f} (target <= 1.3): "
                f"{verdict(ratio <= 1.3)}"
            )
            targets += phase_lines(timings, plain)
            if sk64:
                ratio = ratio_of(plain, sk64)
                targets.append(
                    f"- reference: skreg / scikit-learn float64 = {ratio:.2f} "
                    f"(target <= 0.25): {verdict(ratio <= 0.25)}"
                )
            for name in ("dropout 0.5", "batch norm", "DropConnect 0.5"):
                extra = ratio_of(f"skreg float32 + {name}", plain) - 1
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
                        ratio_of(f"skreg float32 + {name}, {NUMPY_ONLY}", numpy_plain)
                    ]
                )
                targets.append(
                    f"- without numba ({NUMPY_ONLY}): skreg / GEMM floor = "
                    f"{ratio_of(numpy_plain, floor):.2f}"
                    + (
                        f", / scikit-learn float64 = {ratio_of(numpy_plain, sk64):.2f}"
                        if sk64
                        else ""
                    )
                    + f"; {extras}"
                )
            # accuracy: float32 training ends where float64 training does
            float64_run = functools.partial(
                skreg_epochs,
                hidden=settings["hidden"],
                batch_size=settings["batch_size"],
                dtype="float64",
            )
            _, loss64 = whole_fit(float64_run, X, y, settings["epochs"])
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
            ratio = ratio_of("skreg (dtype='auto')", sk64)
            targets.append(
                f"- digits: skreg (auto dtype) / scikit-learn float64 = {ratio:.2f}"
                f" (target <= 0.4): {verdict(ratio <= 0.4)}; skreg float32: "
                f"{ratio_of('skreg float32', sk64):.2f}"
            )
            numpy_auto = f"skreg (dtype='auto'), {NUMPY_ONLY}"
            if numpy_auto in times:
                targets.append(
                    f"- digits without numba ({NUMPY_ONLY}): skreg (auto dtype) / "
                    "scikit-learn float64 = "
                    f"{ratio_of(numpy_auto, sk64):.2f}"
                )
            if "PyTorch float32, default Adam" in med:
                pt = med["PyTorch float32, default Adam"]
                targets.append(
                    f"- digits: skreg {fastest:.3f} s vs PyTorch {pt:.3f} s "
                    f"(target: below): {verdict(fastest < pt)}"
                )
        if case == "dropconnect":
            forms = [
                f"skreg float32 + DropConnect 0.5, one mask per {form}"
                for form in ("mini-batch", "example")
            ]
            targets.append(
                "- DropConnect 0.5 on digits: one mask per example / one per "
                f"mini-batch = {ratio_of(forms[1], forms[0]):.2f}; per mini-batch "
                f"/ no DropConnect = {ratio_of(forms[0], 'skreg float32'):.2f}"
            )
        if case == "large":
            ratio = ratio_of("skreg float32", floor)
            targets.append(f"- large: skreg / GEMM floor = {ratio:.2f}")
            targets += phase_lines(timings, "skreg float32")
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
    lines += ["## Targets (issue 7): ratios from the runs above", ""]
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
