"""Shared protocol of ``tabular.py`` and ``ablation.py`` (issues 18 and 19).

Every visible PMLB dataset of ``../shared/data/pmlb``; per seed a fresh
stratified subsample of at most ``max_rows`` rows, then a stratified 80/20
train / test split (regression targets stratified on their deciles); test
score = balanced accuracy (classification) or R^2 (regression), plus
log-loss / RMSE. Raw results are one CSV row per (dataset, seed, contender),
appended as they come so that an interrupted run resumes.
"""

import csv
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from scipy import stats
from sklearn.metrics import (
    balanced_accuracy_score,
    log_loss,
    r2_score,
    root_mean_squared_error,
)
from sklearn.model_selection import train_test_split

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generalization  # noqa: E402
from generalization import load_pmlb, strata  # noqa: E402

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _pmlb_dir():
    """../shared/data/pmlb beside the repository, or beside a parent of it
    (git worktrees live one level deeper), or $SKREG_PMLB_DIR."""
    if os.environ.get("SKREG_PMLB_DIR"):
        return Path(os.environ["SKREG_PMLB_DIR"])
    repo = Path(__file__).resolve().parents[1]
    for parent in repo.parents:
        if (parent / "shared" / "data" / "pmlb").is_dir():
            return parent / "shared" / "data" / "pmlb"
    return generalization.PMLB_DIR


PMLB_DIR = generalization.PMLB_DIR = _pmlb_dir()


def visible_datasets():
    """Names of every PMLB dataset in ../shared/data/pmlb, sorted."""
    return sorted(p.name for p in PMLB_DIR.iterdir() if (p / "metadata.yaml").exists())


def largest_datasets(names, k=5):
    sizes = {name: len(load_pmlb(name).y) for name in names}
    return sorted(names, key=lambda n: -sizes[n])[:k]


def split_80_20(dataset, max_rows, seed):
    """Stratified subsample of at most max_rows rows, then an 80/20 split."""
    X, y = dataset.X, dataset.y
    if max_rows and len(y) > max_rows:
        X, _, y, _ = train_test_split(
            X,
            y,
            train_size=max_rows,
            random_state=seed,
            stratify=strata(y, dataset.task),
        )
    return train_test_split(
        X, y, test_size=0.2, random_state=seed, stratify=strata(y, dataset.task)
    )


def test_scores(task, model, X, y):
    """(score, loss): balanced accuracy and log-loss, or R^2 and RMSE."""
    if task == "classification":
        proba = model.predict_proba(X)
        pred = model.classes_[np.argmax(proba, axis=1)]
        return balanced_accuracy_score(y, pred), log_loss(
            y, proba, labels=model.classes_
        )
    pred = model.predict(X)
    return r2_score(y, pred), root_mean_squared_error(y, pred)


@contextmanager
def quiet():
    """Silence convergence warnings of short budgets."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def read_raw(path):
    if not Path(path).exists():
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def append_raw(path, record, fields):
    new = not Path(path).exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        if new:
            writer.writeheader()
        writer.writerow(record)


def mean_ci(differences, level=0.95):
    """Mean and Student-t confidence interval of per-dataset differences."""
    d = np.asarray(differences, dtype=float)
    mean = d.mean()
    if len(d) < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return mean, mean - half, mean + half


def wilcoxon_text(a, b):
    diff = np.asarray(a) - np.asarray(b)
    if len(diff) < 2 or np.all(diff == 0):
        return "n/a"
    res = stats.wilcoxon(a, b)
    return f"p = {res.pvalue:.3g}"
