"""Peak memory of ``fit`` on a large float32 array (a benchmark, not a test).

Issue 4 asks that training streams mini-batches and copies X at most once, so
that the peak memory of ``fit`` on a 1,000,000 x 100 float32 array with
``hidden_layer_sizes=(256, 256)`` stays under 1.5x the size of X plus the
model. Each configuration runs in a fresh subprocess, which

1. imports skreg and builds X (float32) and y,
2. measures ``fit`` twice over: with ``tracemalloc`` (numpy reports its
   buffers to it), the peak of the bytes allocated during ``fit`` on top of
   what existed before; and with ``resource.getrusage`` (``ru_maxrss``), the
   growth of the process's peak resident set size during ``fit``,
3. reports ``(size of X + peak extra bytes) / (size of X + size of model)``.

The model is the fitted ``coefs_`` and ``intercepts_`` (a few hundred kB
here), so the ratio is essentially "1 + the extra memory of fit, in units of
X". ``max_iter=1`` (one epoch) is enough: the peak is reached in the first
epoch, every later epoch reuses the same buffers.

Run: ``python benchmarks/memory.py`` (about a minute on 2 cores). Writes
``benchmarks/results/memory.md``.
"""

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

N_SAMPLES, N_FEATURES, HIDDEN = 1_000_000, 100, (256, 256)
# Activation buffers are batch_size x 256 (2 MB in float32 at 2,000 rows), which
# is noise next to X; a larger batch than the default 200 only shortens the run.
BATCH_SIZE = 2_000
LIMIT = 1.5

CONFIGURATIONS = {
    "MLPRegressor, defaults (adam)": dict(estimator="MLPRegressor", params={}),
    # a 10% validation split, scored once per epoch
    "MLPRegressor, early_stopping=True": dict(
        estimator="MLPRegressor", params={"early_stopping": True}
    ),
    "MLPRegressor, early_stopping=True, scoring='r2'": dict(
        estimator="MLPRegressor", params={"early_stopping": True, "scoring": "r2"}
    ),
    "MLPClassifier (10 classes), defaults": dict(estimator="MLPClassifier", params={}),
    "MLPClassifier (10 classes), dropout=0.2, batch_norm=True": dict(
        estimator="MLPClassifier", params={"dropout": 0.2, "batch_norm": True}
    ),
}

NOTES = """\
## Where the extra memory goes

X itself is never copied: float32 X trains in float32 (`dtype="auto"`) and
`validate_data` and `as_batches_ready` pass it through. What `fit` adds:

- the targets in the training dtype (4 MB for 1,000,000 floats; one-hot
  classes: 4 bytes per sample and class, 40 MB for 10 classes) plus, per
  epoch, the shuffled row order (8 MB of int64);
- with early stopping, the validation rows (`X[val_rows]`, 10% of X: 40 MB)
  and their targets; the validation set is predicted in slices of 8,192 rows
  (`predict_in_chunks`), so its activations take a few MB;
- mini-batch work arrays and the model, optimizer moments and snapshots
  (a few MB).

Before the fixes of issue 4 the figure was 1.65x with early stopping (the
100,000 validation rows went through the network in one pass: 100 MB per
256-unit activation) and 1.40x for a 10-class classifier (LabelBinarizer's
int64 one-hot matrix plus a float64 copy of it: 160 MB).
"""

_CHILD = r"""
import json, resource, sys, tracemalloc, warnings
import numpy as np
import skreg

spec = json.loads(sys.argv[1])
n, d = spec["n_samples"], spec["n_features"]
rng = np.random.default_rng(0)
X = rng.standard_normal((n, d), dtype=np.float32)
w = rng.standard_normal(d, dtype=np.float32)
if spec["estimator"] == "MLPClassifier":
    y = np.digitize(X @ w, np.quantile(X[:10_000] @ w, np.linspace(0.1, 0.9, 9)))
else:
    y = (X @ w).astype(np.float32)
est = getattr(skreg, spec["estimator"])(
    hidden_layer_sizes=tuple(spec["hidden"]), max_iter=1, random_state=0,
    batch_size=spec["batch_size"], **spec["params"],
)

def maxrss():
    # kilobytes on Linux, bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale

def current_rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    if spec["mode"] == "tracemalloc":
        tracemalloc.start()
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        est.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        extra = peak - before
    else:
        rss_before = current_rss()
        assert maxrss() - rss_before < 50e6, "X was built with a temporary copy"
        est.fit(X, y)
        extra = maxrss() - rss_before
model = sum(a.nbytes for a in est.coefs_ + est.intercepts_)
print(json.dumps({"x_bytes": X.nbytes, "y_bytes": y.nbytes, "model_bytes": model,
                  "extra_bytes": extra}))
"""


def measure(estimator, params, mode):
    spec = dict(
        estimator=estimator,
        params=params,
        mode=mode,
        n_samples=N_SAMPLES,
        n_features=N_FEATURES,
        hidden=HIDDEN,
        batch_size=BATCH_SIZE,
    )
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(spec)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    base = result["x_bytes"] + result["model_bytes"]
    result["ratio"] = (result["x_bytes"] + result["extra_bytes"]) / base
    return result


def machine():
    import numpy as np

    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                line.split(":", 1)[1].strip()
                for line in f
                if line.startswith("model name")
            )
    except (OSError, StopIteration):
        cpu = platform.processor() or "unknown CPU"
    return (
        f"{platform.system()} {platform.machine()}, {cpu}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )


def main():
    import numpy as np
    import sklearn

    import skreg

    rows = []
    for name, config in CONFIGURATIONS.items():
        traced = measure(config["estimator"], config["params"], "tracemalloc")
        rss = measure(config["estimator"], config["params"], "rss")
        rows.append((name, traced, rss))
        print(
            f"{name}: tracemalloc {traced['ratio']:.3f}x "
            f"(+{traced['extra_bytes'] / 1e6:.0f} MB), maxrss {rss['ratio']:.3f}x "
            f"(+{rss['extra_bytes'] / 1e6:.0f} MB)",
            flush=True,
        )
    x_mb = rows[0][1]["x_bytes"] / 1e6
    model_kb = rows[0][1]["model_bytes"] / 1e3
    worst = max(max(t["ratio"], r["ratio"]) for _, t, r in rows)
    lines = [
        "# Peak memory of `fit`",
        "",
        f"Date: {datetime.date.today().isoformat()}  ",
        f"Machine: {machine()}  ",
        f"Versions: skreg {skreg.__version__}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}",
        "",
        f"X: {N_SAMPLES:,} x {N_FEATURES} float32 ({x_mb:.0f} MB); "
        f"hidden_layer_sizes={HIDDEN}; max_iter=1 (one epoch); batch_size={BATCH_SIZE} "
        "(activations of 2,000 x 256 floats: 2 MB, noise next to X); model "
        f"(coefs_ + intercepts_) {model_kb:.0f} kB. Figure = (size of X + peak extra "
        "memory during fit) / (size of X + size of model); the target is < "
        f"{LIMIT}x. Produced by `python benchmarks/memory.py` (each row in a fresh "
        "subprocess).",
        "",
        "| configuration | tracemalloc: extra MB | ratio | maxrss: extra MB | ratio |",
        "|---|---|---|---|---|",
    ]
    for name, traced, rss in rows:
        lines.append(
            f"| {name} | {traced['extra_bytes'] / 1e6:.1f} | {traced['ratio']:.3f} | "
            f"{rss['extra_bytes'] / 1e6:.1f} | {rss['ratio']:.3f} |"
        )
    lines += [
        "",
        f"Worst figure: **{worst:.3f}x** ({'under' if worst < LIMIT else 'OVER'} the "
        f"{LIMIT}x target).",
        "",
        "tracemalloc counts the numpy buffers allocated by `fit` (peak minus what "
        "existed before); maxrss is the growth of the process's peak resident set "
        "during `fit` (it also counts the BLAS workspace and the allocator's slack).",
        "",
        NOTES,
    ]
    out = Path(__file__).parent / "results" / "memory.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines))
    print(f"wrote {out}")
    return 0 if worst < LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
