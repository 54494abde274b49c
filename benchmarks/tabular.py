"""Tabular benchmark: skreg against what users pick instead (issue 19).

Protocol (``tabular_common.py``): every visible PMLB dataset of
``../shared/data/pmlb``; per seed a stratified subsample of at most 3,000 rows
(``--max-rows``; 0 = full size) and a stratified 80/20 train / test split;
test balanced accuracy and log-loss (classification) or R^2 and RMSE
(regression); fit time in seconds. Every contender trains on one thread
(BLAS, OpenMP and PyTorch limited to 1), side by side in one process.

Contenders:

* ``sklearn MLP``: scikit-learn's MLP with its defaults;
* ``sklearn MLP tuned``: scikit-learn's MLP tuned by ``RandomizedSearchCV``
  (4 draws x 3 folds = 12 fits, the number of fits of skreg's CV estimator
  with its default grid and halving, plus the refit) over ``alpha``,
  ``learning_rate_init`` and ``early_stopping`` (the default width: with
  ``(256, 256)`` in the space one dataset took 215 s to tune, too much for
  this machine's budget);
* ``skreg defaults``: ``skreg.MLPClassifier`` / ``MLPRegressor`` with
  scikit-learn's defaults;
* ``HistGradientBoosting``: scikit-learn's, defaults, told the categorical
  columns;
* ``RealMLP-TD``: ``pytabkit`` (Holzmueller et al., 2024) on CPU, told the
  categorical columns (benchmark-only dependency, with PyTorch);
* ``skreg tabular``: ``TabularMLPClassifier`` / ``TabularMLPRegressor`` with
  their defaults, told the categorical columns;
* ``skreg CV``: ``MLPClassifierCV`` / ``MLPRegressorCV`` with their defaults
  (the tabular estimator, its default grid, 5 folds, halving).

The three scikit-learn-style MLPs without preprocessing of their own get what
a user would write: one-hot encoding of the categorical columns and
``StandardScaler`` on the others in a Pipeline, regression targets
standardized by ``TransformedTargetRegressor``.

Usage::

    python benchmarks/tabular.py --seeds 1                 # 1 seed, 3,000 rows
    python benchmarks/tabular.py --seeds 3 --contenders "skreg tabular"
    python benchmarks/tabular.py --max-rows 0 --largest 5 --name tabular_full
    python benchmarks/tabular.py --report-only

Writes ``benchmarks/results/<name>.md``, ``<name>.png`` and ``<name>_raw.csv``
(resumable: finished (dataset, seed, contender) rows are not run again).
"""

import argparse
import time

import numpy as np
import tabular_report
from scipy.stats import loguniform
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.model_selection import RandomizedSearchCV
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from tabular_common import (
    RESULTS_DIR,
    append_raw,
    largest_datasets,
    load_pmlb,
    quiet,
    read_raw,
    split_80_20,
    test_scores,
    visible_datasets,
)
from threadpoolctl import threadpool_limits

import skreg

# What was run and what was tried, printed at the top of the report (kept
# with the script so that a regenerated report keeps it).
NOTES = [
    "## What was run",
    "",
    "Seed 0 only, in one sitting of about 70 minutes on a 2-core machine shared",
    "with five other jobs. Several processes ran side by side: RealMLP-TD alone;",
    "the scikit-learn MLPs, skreg defaults and HistGradientBoosting; and the two",
    "skreg recipe contenders (split over several processes), each over the",
    "datasets in an interleaved classification / regression order. **Fit times",
    "are not comparable across contenders in this run**: the load average was",
    "15-27 until about 18:05 UTC and fell to ~1.5 after, and RealMLP-TD took",
    "310-510 s per dataset before and 30-106 s after (its first eight datasets ran",
    "in the busy phase, most of the rest in the quiet one; the CV estimator",
    "likewise 160-620 s before, ~90 s after). The time targets therefore cannot",
    "be judged from the tables (printed as measured); see the quiet-phase times",
    "below. Not run,",
    "for lack of machine time: seeds 1 and 2, and the full-size run on the five",
    "largest datasets. The harness does both (`--seeds 0 1 2`; `--max-rows 0",
    "--largest 5 --name tabular_full`) and resumes from the raw CSV.",
    "",
    "## Targets not met, and what was tried",
    "",
    "- Tabular defaults vs scikit-learn MLP defaults (>= 80 % of datasets, >= 1",
    "  point): the baseline here is scikit-learn's MLP inside the pipeline a",
    "  careful user writes (one-hot, StandardScaler, standardized targets), not the",
    "  bare estimator, and on these datasets it is close to the recipe. The",
    "  recipe's ingredients were ablated on 17 datasets (`ablation.md`): removing",
    "  any of them costs 0.1-1.1 points on average, and none of the additions tried",
    "  (quantile scaling, batch norm, input noise, more dropout; robust scaling,",
    "  label smoothing, GELU and SiLU on 1-3 datasets) has a confidence interval",
    "  above zero. Not tried for lack of machine time: issue 18's schedules,",
    "  decoupled weight decay and periodic embeddings (merged into main at 17:45,",
    "  after this run started), and class weighting for balanced accuracy on the",
    "  imbalanced datasets (churn, coil2000), where networks trained on log-loss",
    "  predict the majority class more often than HistGradientBoosting.",
    "- Fit times measured in the quiet phase only (the 13 datasets on which",
    "  RealMLP-TD and both skreg recipe contenders ran after the load fell: letter,",
    "  churn, optdigits, 227_cpu_small, mushroom, waveform_40, coil2000,",
    "  529_pollen, 574_house_16H, waveform_21, nursery, texture, ring): RealMLP-TD",
    "  48.5 s, tabular defaults 3.0 s (ratio 0.063: the 1/10 target is met), CV",
    "  estimator 33.5 s (ratio 0.69: the 1/3 target is not met). The CV estimator",
    "  trains 12 networks (6 candidates, 5 folds, halving), RealMLP-TD one for 256",
    "  epochs; halving already cut 30 fits to 12; cheaper settings (`cv=3`, a",
    "  smaller grid, `n_jobs`) were not benchmarked.",
    "- Mean rank better than both HistGradientBoosting's and RealMLP-TD's: the CV",
    "  estimator ties RealMLP-TD (3.00 each, HistGradientBoosting 3.62) with the",
    "  best log-loss of all; on balanced accuracy and R^2 HistGradientBoosting's",
    "  mean is higher (neither gap significant: p = 0.47 and 0.43). One seed only.",
    "",
]

FIELDS = [
    "dataset",
    "task",
    "seed",
    "contender",
    "rows_train",
    "score",
    "loss",
    "loss_normalized",
    "fit_seconds",
]
SK_TUNED_SPACE = {
    "alpha": loguniform(1e-5, 1e-1),
    "learning_rate_init": loguniform(1e-4, 1e-2),
    "early_stopping": [False, True],
}


def user_pipeline(net, task, categorical, n_features):
    """One-hot + StandardScaler (+ target scaling): what a user writes."""
    numeric = [j for j in range(n_features) if j not in categorical]
    pre = ColumnTransformer(
        [
            (
                "onehot",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            ),
            ("scale", StandardScaler(), numeric),
        ]
    )
    model = make_pipeline(pre, net)
    if task == "regression":
        model = TransformedTargetRegressor(model, transformer=StandardScaler())
    return model


def sklearn_mlp(task, categorical, n_features, seed):
    net = (SkMLPClassifier if task == "classification" else SkMLPRegressor)(
        random_state=seed
    )
    return user_pipeline(net, task, categorical, n_features)


def sklearn_mlp_tuned(task, categorical, n_features, seed):
    net = (SkMLPClassifier if task == "classification" else SkMLPRegressor)(
        random_state=seed
    )
    model = user_pipeline(net, task, categorical, n_features)
    prefix = (
        "mlpclassifier__" if task == "classification" else "regressor__mlpregressor__"
    )
    space = {prefix + name: values for name, values in SK_TUNED_SPACE.items()}
    return RandomizedSearchCV(model, space, n_iter=4, cv=3, random_state=seed)


def skreg_defaults(task, categorical, n_features, seed):
    net = (skreg.MLPClassifier if task == "classification" else skreg.MLPRegressor)(
        random_state=seed
    )
    return user_pipeline(net, task, categorical, n_features)


def hist_gradient_boosting(task, categorical, n_features, seed):
    cls = (
        HistGradientBoostingClassifier
        if task == "classification"
        else HistGradientBoostingRegressor
    )
    mask = np.isin(np.arange(n_features), categorical)
    return cls(random_state=seed, categorical_features=mask if mask.any() else None)


class RealMLP:
    """RealMLP-TD from pytabkit, told the categorical columns."""

    def __init__(self, task, categorical, n_features, seed):
        import torch
        from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor

        torch.set_num_threads(1)
        cls = (
            RealMLP_TD_Classifier if task == "classification" else RealMLP_TD_Regressor
        )
        self.model = cls(device="cpu", random_state=seed, n_threads=1, verbosity=0)
        self.mask = list(np.isin(np.arange(n_features), categorical))

    def fit(self, X, y):
        self.model.fit(X, y, cat_indicator=self.mask)
        self.classes_ = getattr(self.model, "classes_", None)
        return self

    def predict(self, X):
        return self.model.predict(X)

    def predict_proba(self, X):
        return self.model.predict_proba(X)


def skreg_tabular(task, categorical, n_features, seed):
    cls = (
        skreg.TabularMLPClassifier
        if task == "classification"
        else skreg.TabularMLPRegressor
    )
    return cls(random_state=seed, categorical_features=categorical or None)


def skreg_cv(task, categorical, n_features, seed):
    cls = skreg.MLPClassifierCV if task == "classification" else skreg.MLPRegressorCV
    return cls(
        estimator=skreg_tabular(task, categorical, n_features, None), random_state=seed
    )


CONTENDERS = {
    "sklearn MLP": sklearn_mlp,
    "sklearn MLP tuned": sklearn_mlp_tuned,
    "skreg defaults": skreg_defaults,
    "HistGradientBoosting": hist_gradient_boosting,
    "RealMLP-TD": RealMLP,
    "skreg tabular": skreg_tabular,
    "skreg CV": skreg_cv,
}


def run_one(dataset, contender, seed, max_rows):
    X_tr, X_te, y_tr, y_te = split_80_20(dataset, max_rows, seed)
    model = CONTENDERS[contender](
        dataset.task, dataset.categorical, X_tr.shape[1], seed
    )
    start = time.perf_counter()
    with quiet(), threadpool_limits(1):
        model.fit(X_tr, y_tr)
        seconds = time.perf_counter() - start
        score, loss = test_scores(dataset.task, model, X_te, y_te)
    normalized = loss if dataset.task == "classification" else loss / np.std(y_te)
    return {
        "rows_train": len(y_tr),
        "score": score,
        "loss": loss,
        "loss_normalized": normalized,
        "fit_seconds": seconds,
    }


def run(names, contenders, seeds, max_rows, raw, log=print):
    done = {(r["dataset"], r["seed"], r["contender"]) for r in read_raw(raw)}
    for seed in seeds:
        for name in names:
            dataset = load_pmlb(name)
            for contender in contenders:
                if (name, str(seed), contender) in done:
                    continue
                result = run_one(dataset, contender, seed, max_rows)
                append_raw(
                    raw,
                    {
                        "dataset": name,
                        "task": dataset.task,
                        "seed": seed,
                        "contender": contender,
                        **result,
                    },
                    FIELDS,
                )
                log(
                    f"{name:>16} s{seed} {contender:<22} {result['score']:.4f} "
                    f"({result['fit_seconds']:.1f} s)",
                    flush=True,
                )


def first_of_each(records):
    """One record per (dataset, seed, contender): the first, should two
    processes have run the same one."""
    seen, out = set(), []
    for r in records:
        key = (r["dataset"], r["seed"], r["contender"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--contenders", nargs="*", default=list(CONTENDERS))
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--max-rows", type=int, default=3000)
    parser.add_argument(
        "--largest", type=int, default=0, help="only the LARGEST biggest datasets"
    )
    parser.add_argument("--name", default="tabular")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    names = args.datasets or visible_datasets()
    if args.largest:
        names = largest_datasets(names, args.largest)
    raw = RESULTS_DIR / f"{args.name}_raw.csv"
    if not args.report_only:
        run(names, args.contenders, args.seeds, args.max_rows, raw)
    tabular_report.write(
        first_of_each(read_raw(raw)),
        RESULTS_DIR / args.name,
        list(CONTENDERS),
        args.max_rows,
        notes=NOTES,
    )


if __name__ == "__main__":
    main()
