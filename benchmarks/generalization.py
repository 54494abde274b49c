"""Generalization benchmark: tuned skreg against a tuned scikit-learn MLP.

Fixed protocol (issue 6), the same for every contender:

* real datasets only: PMLB (``../shared/data/pmlb`` next to the repository)
  and scikit-learn's bundled ones; datasets larger than ``--max-rows`` are
  subsampled (stratified, a fresh subsample per seed) to fit the budget;
* per seed, a stratified 60/20/20 train / validation / test split (regression
  targets are stratified on their deciles);
* preprocessing inside a Pipeline: one-hot encoding of the features each
  PMLB ``metadata.yaml`` marks ``categorical``, standard scaling of the others;
  regression targets are standardized by a ``TransformedTargetRegressor``;
* the same tuning budget: ``--n-iter`` random draws of the contender's
  hyperparameters (``ParameterSampler``), each trained on the training split
  and scored on the validation split; the best draw is scored once on the
  test split;
* metric: balanced accuracy (classification) or R^2 (regression).

Contenders (same architecture and epoch budget):

* ``sklearn MLP``: :class:`sklearn.neural_network.MLPClassifier` /
  ``MLPRegressor`` tuning ``alpha``, ``learning_rate_init`` and
  ``early_stopping``;
* ``skreg plain``: skreg without any regularization, tuning
  ``learning_rate_init`` only;
* ``skreg tuned``: skreg tuning a regularization cocktail (dropout, ElasticNet
  ``alpha`` and ``l1_ratio``, batch norm, early stopping, input noise,
  max-norm) and ``learning_rate_init``.

Usage::

    python benchmarks/generalization.py                 # the 15-dataset suite
    python benchmarks/generalization.py --quick         # 2 bundled datasets
    python benchmarks/generalization.py --datasets spambase phoneme --seeds 3

    # the suite split over two processes (one per core), then merged:
    python benchmarks/generalization.py --datasets adult ... --name part_a &
    python benchmarks/generalization.py --datasets magic ... --name part_b &
    python benchmarks/generalization.py --merge part_a part_b

Writes ``benchmarks/results/<name>.md`` (table, wins/ties/losses, Wilcoxon
signed-rank tests over datasets), ``<name>.png`` and ``<name>_raw.csv`` (one
row per dataset, seed and contender; ``--resume`` continues from it).
"""

import argparse
import csv
import datetime
import gzip
import json
import os
import platform
import re
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy
import sklearn
from scipy.stats import loguniform, wilcoxon
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.metrics import balanced_accuracy_score, r2_score
from sklearn.model_selection import ParameterSampler, train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.neural_network import MLPRegressor as SklearnMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import skreg

REPO = Path(__file__).resolve().parents[1]
PMLB_DIR = REPO.parent / "shared" / "data" / "pmlb"
RESULTS_DIR = REPO / "benchmarks" / "results"

SUITE = [
    # classification (10)
    "adult",
    "magic",
    "spambase",
    "phoneme",
    "satimage",
    "letter",
    "churn",
    "optdigits",
    "waveform_21",
    "nursery",
    # regression (5)
    "537_houses",
    "197_cpu_act",
    "225_puma8NH",
    "564_fried",
    "529_pollen",
]
QUICK_DATASETS = ["breast_cancer", "diabetes"]
BUNDLED = {
    "breast_cancer": (load_breast_cancer, "classification"),
    "wine": (load_wine, "classification"),
    "digits": (load_digits, "classification"),
    "diabetes": (load_diabetes, "regression"),
}
CONTENDERS = ["sklearn MLP", "skreg plain", "skreg tuned"]
RAW_FIELDS = [
    "dataset",
    "task",
    "seed",
    "contender",
    "val_score",
    "test_score",
    "tuning_seconds",
    "rows_used",
    "rows_total",
    "best_params",
]


@dataclass
class Settings:
    """Everything that defines a run; stored next to the raw results."""

    datasets: list
    seeds: int
    n_iter: int
    max_rows: int
    max_iter: int
    hidden: tuple
    tie: float

    def is_full_protocol(self):
        return sorted(self.datasets) == sorted(SUITE) and self.seeds >= 5


@dataclass
class Dataset:
    name: str
    task: str
    X: np.ndarray
    y: np.ndarray
    categorical: list


# ---------------------------------------------------------------------------
# data


def categorical_features(metadata_text):
    """Names of the features that a PMLB ``metadata.yaml`` marks categorical.

    A small reader for the ``features:`` list (PMLB writes one ``- name:``
    line followed by a ``type:`` line per feature), so that the benchmark
    needs no YAML library.
    """
    section = re.split(r"^features:.*$", metadata_text, maxsplit=1, flags=re.M)[-1]
    names = []
    current = None
    for line in section.splitlines():
        if line and not line[0].isspace() and not line.startswith("-"):
            break  # the next top-level key
        name = re.match(r"\s*-\s*name:\s*(.+?)\s*$", line)
        kind = re.match(r"\s+type:\s*(\w+)", line)
        if name:
            current = name.group(1).strip("'\"")
        elif kind and current is not None:
            if kind.group(1) == "categorical":
                names.append(current)
            current = None
    return names


def load_pmlb(name):
    folder = PMLB_DIR / name
    path = folder / f"{name}.tsv.gz"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: the benchmark reads PMLB's {name}.tsv.gz and "
            f"metadata.yaml from {PMLB_DIR}. Copy the folder datasets/{name} of "
            "https://github.com/EpistasisLab/pmlb there (or `pip install pmlb` "
            f"and pmlb.fetch_data('{name}', local_cache_dir='{PMLB_DIR}') for "
            "the .tsv.gz; metadata.yaml comes from the same folder)."
        )
    with gzip.open(path, "rt") as f:
        header = f.readline().rstrip("\n").split("\t")
    data = np.loadtxt(path, delimiter="\t", skiprows=1)
    features = header[:-1]
    categorical = categorical_features((folder / "metadata.yaml").read_text())
    unknown = set(categorical) - set(features)
    if unknown:
        raise ValueError(f"{name}: metadata lists unknown features {unknown}")
    task = "regression" if name[0].isdigit() else "classification"
    y = data[:, -1] if task == "regression" else data[:, -1].astype(np.int64)
    return Dataset(
        name, task, data[:, :-1], y, [features.index(c) for c in categorical]
    )


def load_dataset(name):
    if name in BUNDLED:
        loader, task = BUNDLED[name]
        X, y = loader(return_X_y=True)
        return Dataset(name, task, X, y, [])
    return load_pmlb(name)


def strata(y, task):
    """Labels to stratify on: the classes, or the deciles of a real target."""
    if task == "classification":
        return y
    edges = np.quantile(y, np.linspace(0, 1, 11)[1:-1])
    return np.searchsorted(edges, y)


def subsample(dataset, max_rows, seed):
    """At most ``max_rows`` rows, stratified, drawn afresh for each seed."""
    n = len(dataset.y)
    if n <= max_rows:
        return dataset.X, dataset.y
    X, _, y, _ = train_test_split(
        dataset.X,
        dataset.y,
        train_size=max_rows,
        random_state=seed,
        stratify=strata(dataset.y, dataset.task),
    )
    return X, y


def split_60_20_20(X, y, task, seed):
    """Stratified train / validation / test split, 60 / 20 / 20."""
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, test_size=0.4, random_state=seed, stratify=strata(y, task)
    )
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, test_size=0.5, random_state=seed, stratify=strata(y_rest, task)
    )
    return (X_train, y_train), (X_val, y_val), (X_test, y_test)


# ---------------------------------------------------------------------------
# contenders


def preprocessor(dataset):
    """One-hot for the categorical columns, standard scaling for the others."""
    n_features = dataset.X.shape[1]
    numeric = [j for j in range(n_features) if j not in dataset.categorical]
    return ColumnTransformer(
        [
            (
                "onehot",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                dataset.categorical,
            ),
            ("scale", StandardScaler(), numeric),
        ]
    )


def search_space(contender):
    """The hyperparameter distributions each contender tunes."""
    learning_rate = {"learning_rate_init": loguniform(1e-4, 1e-2)}
    if contender == "sklearn MLP":
        # scikit-learn divides alpha by the batch size (skreg does not)
        return {
            **learning_rate,
            "alpha": loguniform(1e-5, 1e1),
            "early_stopping": [False, True],
        }
    if contender == "skreg plain":
        return learning_rate
    return {
        **learning_rate,
        "alpha": loguniform(1e-7, 1e-2),
        "l1_ratio": [0.0, 0.0, 0.1, 0.5],
        "dropout": [0.0, 0.1, 0.2, 0.3, 0.5],
        "batch_norm": [False, True],
        "early_stopping": [False, True],
        "input_noise": [0.0, 0.0, 0.05, 0.1, 0.2],
        "max_norm": [None, None, 1.0, 3.0],
    }


def network(contender, task, settings, seed):
    """The untuned network of a contender; tuning sets its parameters."""
    common = {
        "hidden_layer_sizes": settings.hidden,
        "max_iter": settings.max_iter,
        "random_state": seed,
    }
    if contender == "sklearn MLP":
        cls = SklearnMLPClassifier if task == "classification" else SklearnMLPRegressor
        return cls(**common)
    cls = skreg.MLPClassifier if task == "classification" else skreg.MLPRegressor
    if contender == "skreg plain":
        return cls(alpha=0.0, early_stopping=False, **common)
    return cls(**common)


def make_model(dataset, net, params):
    model = make_pipeline(preprocessor(dataset), net.set_params(**params))
    if dataset.task == "regression":
        model = TransformedTargetRegressor(model, transformer=StandardScaler())
    return model


def score(task, model, X, y):
    if task == "classification":
        return balanced_accuracy_score(y, model.predict(X))
    return r2_score(y, model.predict(X))


def tune_and_test(dataset, contender, splits, settings, seed):
    """Random search on the validation split, then one test score."""
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = splits
    draws = ParameterSampler(
        search_space(contender), settings.n_iter, random_state=seed
    )
    start = time.perf_counter()
    best = (-np.inf, None, None)
    for params in draws:
        net = network(contender, dataset.task, settings, seed)
        model = make_model(dataset, net, params)
        with quiet():
            model.fit(X_train, y_train)
        val = score(dataset.task, model, X_val, y_val)
        if val > best[0] or best[1] is None:
            best = (val, params, model)
    seconds = time.perf_counter() - start
    val, params, model = best
    return {
        "val_score": val,
        "test_score": score(dataset.task, model, X_test, y_test),
        "tuning_seconds": seconds,
        "best_params": json.dumps(params, default=float, sort_keys=True),
    }


@contextmanager
def quiet():
    """Silence the convergence warnings that short epoch budgets raise."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


# ---------------------------------------------------------------------------
# running


def read_raw(path):
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def append_raw(path, record):
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=RAW_FIELDS)
        if new:
            writer.writeheader()
        writer.writerow(record)


def run(settings, raw_path, log=print):
    done = {(r["dataset"], r["seed"], r["contender"]) for r in read_raw(raw_path)}
    for name in settings.datasets:
        dataset = load_dataset(name)
        for seed in range(settings.seeds):
            X, y = subsample(dataset, settings.max_rows, seed)
            splits = split_60_20_20(X, y, dataset.task, seed)
            for contender in CONTENDERS:
                if (name, str(seed), contender) in done:
                    continue
                result = tune_and_test(dataset, contender, splits, settings, seed)
                append_raw(
                    raw_path,
                    {
                        "dataset": name,
                        "task": dataset.task,
                        "seed": seed,
                        "contender": contender,
                        "rows_used": len(y),
                        "rows_total": len(dataset.y),
                        **result,
                    },
                )
                log(
                    f"{name:>14} seed {seed} {contender:<12} "
                    f"val {result['val_score']:.4f} test {result['test_score']:.4f} "
                    f"({result['tuning_seconds']:.1f} s)"
                )


# ---------------------------------------------------------------------------
# reporting


def collect(records, datasets):
    """Test scores as {dataset: {contender: array over seeds}} (common seeds)."""
    table = {}
    for name in datasets:
        rows = [r for r in records if r["dataset"] == name]
        seeds = sorted(
            set.intersection(
                *[{r["seed"] for r in rows if r["contender"] == c} for c in CONTENDERS]
            ),
            key=int,
        )
        if not seeds:
            continue
        by = {(r["contender"], r["seed"]): r for r in rows}
        table[name] = {
            "task": rows[0]["task"],
            "rows": f"{rows[0]['rows_used']} / {rows[0]['rows_total']}",
            "seconds": {
                c: np.mean([float(by[c, s]["tuning_seconds"]) for s in seeds])
                for c in CONTENDERS
            },
            "scores": {
                c: np.array([float(by[c, s]["test_score"]) for s in seeds])
                for c in CONTENDERS
            },
            "params": [json.loads(by["skreg tuned", s]["best_params"]) for s in seeds],
        }
    return table


def outcome(delta, tie):
    if abs(delta) <= tie:
        return "tie"
    return "win" if delta > 0 else "loss"


def paired_test(a, b):
    """Wilcoxon signed-rank test of the per-dataset means a vs b."""
    diff = np.asarray(a) - np.asarray(b)
    if len(diff) < 2 or np.all(diff == 0):
        return "n/a (fewer than 2 datasets with a difference)"
    res = wilcoxon(a, b)
    return f"W = {res.statistic:.1f}, p = {res.pvalue:.3g} (n = {len(diff)} datasets)"


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} logical cores, {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, skreg {skreg.__version__} "
        f"({skreg_source()})"
    )


def skreg_source():
    """Which skreg ran: the git commit of its source tree, or where it lives."""
    source = Path(skreg.__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(source), "log", "-1", "--format=%h", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(source), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"from {source}"
    if not commit:
        return f"from {source}"
    return f"skreg/ at commit {commit}" + (" with local changes" if dirty else "")


def regularizer_usage(table):
    """How often the tuned skreg kept each regularizer, over datasets x seeds."""
    params = [p for entry in table.values() for p in entry["params"]]
    checks = {
        "dropout > 0": lambda p: p["dropout"] > 0,
        "batch_norm": lambda p: p["batch_norm"],
        "early_stopping": lambda p: p["early_stopping"],
        "input_noise > 0": lambda p: p["input_noise"] > 0,
        "max_norm": lambda p: p["max_norm"] is not None,
        "l1_ratio > 0": lambda p: p["l1_ratio"] > 0,
    }
    return {k: f"{sum(map(f, params))} / {len(params)}" for k, f in checks.items()}


def markdown_report(table, settings, title, started, elapsed, notes=()):
    means = {
        n: {c: e["scores"][c].mean() for c in CONTENDERS} for n, e in table.items()
    }
    lines = [f"# {title}", ""]
    if not settings.is_full_protocol():
        lines += [
            "**Partial run**: not the full protocol (15-dataset suite, 5 seeds); "
            "read it as a smoke test, not as the benchmark result.",
            "",
        ]
    lines += [
        f"- Date: {started:%Y-%m-%d %H:%M} UTC; wall time "
        + ("of the partial runs" if elapsed is None else f"{elapsed / 60:.1f} min"),
        *notes,
        f"- Machine: {machine_description()} (BLAS limited to 1 thread)",
        f"- Protocol: stratified 60/20/20 train/validation/test splits, "
        f"{settings.seeds} seeds; {settings.n_iter} random-search draws per "
        f"contender, scored on the validation split; hidden layers "
        f"{settings.hidden}, at most {settings.max_iter} epochs; datasets with "
        f"more than {settings.max_rows} rows subsampled (stratified) to "
        f"{settings.max_rows}.",
        "- Metric: balanced accuracy (classification), R^2 (regression), on the "
        "test split; mean +- std over seeds.",
        f"- Outcome: skreg tuned minus the other's mean; a tie when within "
        f"{settings.tie}.",
        "- Command: `python benchmarks/generalization.py "
        + " ".join(sys.argv[1:])
        + "`",
        "",
        "| dataset | task | rows used / total | sklearn MLP | skreg plain | "
        "skreg tuned | tuned - sklearn | vs sklearn | vs plain |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    tally = {"sklearn MLP": [], "skreg plain": []}
    for name, entry in table.items():
        cells = [
            f"{entry['scores'][c].mean():.4f} +- {entry['scores'][c].std():.4f}"
            for c in CONTENDERS
        ]
        best = max(CONTENDERS, key=lambda c: means[name][c])
        cells[CONTENDERS.index(best)] = f"**{cells[CONTENDERS.index(best)]}**"
        results = {}
        for other in tally:
            results[other] = outcome(
                means[name]["skreg tuned"] - means[name][other], settings.tie
            )
            tally[other].append(results[other])
        delta = means[name]["skreg tuned"] - means[name]["sklearn MLP"]
        lines.append(
            f"| {name} | {entry['task'][:5]}. | {entry['rows']} | "
            + " | ".join(cells)
            + f" | {delta:+.4f} | {results['sklearn MLP']} | "
            f"{results['skreg plain']} |"
        )
    lines += ["", "## Summary", ""]
    tuned = [means[n]["skreg tuned"] for n in table]
    for other, outcomes in tally.items():
        counts = {k: outcomes.count(k) for k in ("win", "tie", "loss")}
        lines.append(
            f"- skreg tuned vs {other}: {counts['win']} wins / {counts['tie']} ties / "
            f"{counts['loss']} losses; Wilcoxon signed-rank: "
            f"{paired_test(tuned, [means[n][other] for n in table])}"
        )
    seconds = {
        c: np.mean([e["seconds"][c] for e in table.values()]) for c in CONTENDERS
    }
    lines.append(
        "- Mean tuning time per dataset and seed ("
        + f"{settings.n_iter} fits): "
        + ", ".join(f"{c} {s:.1f} s" for c, s in seconds.items())
    )
    lines.append(
        "- Regularizers in the tuned skreg's best draws: "
        + ", ".join(f"{k} {v}" for k, v in regularizer_usage(table).items())
    )
    lines.append("")
    return "\n".join(lines)


def plot_report(table, path, title):
    import matplotlib

    if not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(table)
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.6))
    for offset, other, color in [
        (-0.15, "sklearn MLP", "tab:blue"),
        (0.15, "skreg plain", "tab:gray"),
    ]:
        diffs = [
            table[n]["scores"]["skreg tuned"] - table[n]["scores"][other] for n in names
        ]
        ax.errorbar(
            [d.mean() for d in diffs],
            y + offset,
            xerr=[d.std() for d in diffs],
            fmt="o",
            color=color,
            label=f"skreg tuned - {other}",
        )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("test score difference (balanced accuracy / R^2), mean +- std")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------
# command line


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="two bundled datasets, 2 seeds, 4 draws, 60 epochs",
    )
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=None,
        help=f"PMLB or bundled names (default: the {len(SUITE)}-dataset "
        f"suite); 'all' for every PMLB and bundled dataset",
    )
    parser.add_argument("--seeds", type=int, default=None, help="default 5")
    parser.add_argument(
        "--n-iter",
        type=int,
        default=None,
        help="random-search draws per contender (default 6)",
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=3000,
        help="subsample larger datasets to this many rows",
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=None,
        help="epoch budget of every network (default 100)",
    )
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 128])
    parser.add_argument(
        "--tie",
        type=float,
        default=0.005,
        help="absolute difference of means counted as a tie",
    )
    parser.add_argument(
        "--name", default=None, help="output base name in benchmarks/results/"
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the raw csv of the same name",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        default=None,
        metavar="NAME",
        help="start from the raw csvs of these partial runs (same settings, "
        "other --datasets), e.g. the suite split over processes",
    )
    return parser.parse_args(argv)


def settings_from(args):
    quick = args.quick
    datasets = args.datasets or (QUICK_DATASETS if quick else SUITE)
    if datasets == ["all"]:
        datasets = sorted(p.name for p in PMLB_DIR.iterdir() if p.is_dir()) + list(
            BUNDLED
        )
    return Settings(
        datasets=datasets,
        seeds=args.seeds or (2 if quick else 5),
        n_iter=args.n_iter or (4 if quick else 6),
        max_rows=args.max_rows,
        max_iter=args.max_iter or (60 if quick else 100),
        hidden=tuple(args.hidden),
        tie=args.tie,
    )


def output_name(args, settings):
    if args.name:
        return args.name
    if args.quick:
        return "generalization_quick"
    return "generalization" if settings.is_full_protocol() else "generalization_partial"


def merge_partial_runs(names, stored, raw_path):
    """Concatenate the raw records of partial runs with the same settings."""
    records = []
    for name in names:
        previous = json.loads((RESULTS_DIR / f"{name}_settings.json").read_text())
        differ = [k for k in stored if k != "datasets" and previous.get(k) != stored[k]]
        if differ:
            sys.exit(f"--merge: {name} was run with other settings: {differ}")
        records += read_raw(RESULTS_DIR / f"{name}_raw.csv")
    if raw_path.exists():
        raw_path.unlink()
    for record in records:
        append_raw(raw_path, record)


def main(argv=None):
    from threadpoolctl import threadpool_limits

    args = parse_args(argv)
    settings = settings_from(args)
    name = output_name(args, settings)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    raw_path = RESULTS_DIR / f"{name}_raw.csv"
    settings_path = RESULTS_DIR / f"{name}_settings.json"
    stored = vars(settings) | {"hidden": list(settings.hidden)}
    if args.merge:
        merge_partial_runs(args.merge, stored, raw_path)
    elif args.resume and settings_path.exists():
        previous = json.loads(settings_path.read_text())
        if {k: v for k, v in previous.items() if k != "datasets"} != {
            k: v for k, v in stored.items() if k != "datasets"
        }:
            sys.exit(f"--resume: settings differ from {settings_path}")
    elif raw_path.exists():
        raw_path.unlink()
    settings_path.write_text(json.dumps(stored, indent=1))

    started = datetime.datetime.now(datetime.timezone.utc)
    clock = time.perf_counter()
    with threadpool_limits(1):
        run(settings, raw_path)
    elapsed = time.perf_counter() - clock

    title = "Generalization benchmark: skreg vs scikit-learn MLP"
    if args.quick:
        title += " (--quick smoke run)"
    records = read_raw(raw_path)
    table = collect(records, settings.datasets)
    tuning = sum(float(r["tuning_seconds"]) for r in records) / 60
    note = f"- Tuning time summed over all {len(records)} records: {tuning:.1f} min"
    if args.merge:
        note += f" (merged from the partial runs {', '.join(args.merge)})"
    if args.merge:
        elapsed = None  # the merge itself runs nothing: the time is the parts'
    report = markdown_report(table, settings, title, started, elapsed, [note])
    (RESULTS_DIR / f"{name}.md").write_text(report)
    plot_report(table, RESULTS_DIR / f"{name}.png", title)
    print(report)
    print(f"Written to {RESULTS_DIR / name}.md / .png / _raw.csv")


if __name__ == "__main__":
    main()
