"""
=====================================================
Tuning dropout, L1 and batch norm with GridSearchCV
=====================================================

skreg's regularizers are plain constructor parameters, so scikit-learn's
:class:`~sklearn.model_selection.GridSearchCV` tunes them like any other,
inside a :class:`~sklearn.pipeline.Pipeline` that scales the inputs first
(fitted on each training fold only, so nothing leaks from the validation
folds).

We classify e-mails as spam or not (PMLB's ``spambase``: 4,601 e-mails, 57
word and character frequencies) with a two-hidden-layer network and search
over

- ``dropout``: one rate for both hidden layers, or one per layer;
- ``l1_ratio``: the share of L1 in the ElasticNet penalty (0 is pure L2);
- ``batch_norm``: batch normalization of the hidden layers.

The data comes from ``../shared/data/pmlb``, the ``pmlb`` package or
OpenML; where none is reachable the example says so and uses scikit-learn's
bundled breast cancer data. Run it with
``MPLBACKEND=Agg python examples/plot_pipeline_grid_search.py``; it saves its
figure next to the script (or in ``SKREG_EXAMPLE_OUTPUT_DIR``) and prints
where. Set ``SKREG_EXAMPLE_QUICK=1`` for a run on 600 e-mails with a smaller
grid.
"""

# %%
# Data
# ----
# A stratified split keeps a test set that the search never sees.
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from _datasets import load_dataset
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skreg import LossCurveDisplay, MLPClassifier

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"
# the epoch budget (max_iter) is part of the setting: candidates whose
# validation loss still improves at its end are fine here
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y, source = load_dataset("spambase")
print(source)
if QUICK and len(y) > 600:  # a stratified sample of 600 rows
    X, _, y, _ = train_test_split(X, y, train_size=600, random_state=0, stratify=y)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
print(
    f"{X_train.shape[0]} training rows, {X_test.shape[0]} test rows, "
    f"{y.mean():.0%} in class 1"
)

# %%
# The pipeline and the grid
# -------------------------
# Early stopping holds out 10% of each training fold and keeps the weights of
# the best epoch, so the number of epochs need not be tuned. A dropout rate
# per hidden layer is a tuple, one value per layer, and is searched like any
# other value.
pipeline = Pipeline(
    [
        ("scale", StandardScaler()),
        (
            "mlp",
            MLPClassifier(
                hidden_layer_sizes=(64, 32),
                alpha=1e-3,
                learning_rate_init=3e-3,
                early_stopping=True,
                n_iter_no_change=5,
                max_iter=30 if QUICK else 60,
                random_state=0,
            ),
        ),
    ]
)
param_grid = {
    "mlp__dropout": [0.0, 0.2, (0.5, 0.2)],
    "mlp__l1_ratio": [0.0, 0.5],
    "mlp__batch_norm": [False, True],
}
if QUICK:
    param_grid = {**param_grid, "mlp__dropout": [0.0, (0.5, 0.2)]}
search = GridSearchCV(
    pipeline,
    param_grid,
    cv=StratifiedKFold(3, shuffle=True, random_state=0),
    scoring="accuracy",
    n_jobs=2,
)
search.fit(X_train, y_train)
print(f"best parameters: {search.best_params_}")
print(f"cross-validated accuracy: {search.best_score_:.3f}")
print(
    f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.3f}"
)

# %%
# How much did regularization buy?
# --------------------------------
# The same network with no dropout, no batch norm and pure L2, for reference.
results = pd.DataFrame(search.cv_results_)
plain = results[
    (results["param_mlp__dropout"] == 0.0)
    & (results["param_mlp__l1_ratio"] == 0.0)
    & (~results["param_mlp__batch_norm"].astype(bool))
]
print(
    f"unregularized (L2 only) cross-validated accuracy: "
    f"{plain['mean_test_score'].iloc[0]:.3f}"
)

# %%
# Plot the search and the learning curves of the best network
# -----------------------------------------------------------
# Left and middle: the cross-validated accuracy of every candidate, without
# and with batch norm, with its standard deviation over the folds. The colour
# scale spans a fixed 5 points of accuracy below the best candidate, so that
# differences within the folds' noise look as small as they are. Right: the
# training objective and validation loss per epoch of the refitted best
# network, with the epoch early stopping kept.
dropouts = [str(d) for d in param_grid["mlp__dropout"]]
l1_ratios = param_grid["mlp__l1_ratio"]
fig, axes = plt.subplots(1, 3, figsize=(13, 4.2), layout="constrained")
vmax = results["mean_test_score"].max()
vmin = vmax - 0.05
for ax, batch_norm in zip(axes[:2], [False, True], strict=True):
    table = np.empty((len(dropouts), len(l1_ratios)))
    spread = np.empty_like(table)
    for i, dropout in enumerate(param_grid["mlp__dropout"]):
        for j, l1_ratio in enumerate(l1_ratios):
            row = results[
                (results["param_mlp__dropout"].map(str) == str(dropout))
                & (results["param_mlp__l1_ratio"] == l1_ratio)
                & (results["param_mlp__batch_norm"].astype(bool) == batch_norm)
            ]
            table[i, j] = row["mean_test_score"].iloc[0]
            spread[i, j] = row["std_test_score"].iloc[0]
    image = ax.imshow(table, cmap="viridis", vmin=vmin, vmax=vmax)
    for (i, j), value in np.ndenumerate(table):
        ax.text(
            j,
            i,
            f"{value:.3f}\n\u00b1{spread[i, j]:.3f}",
            ha="center",
            va="center",
            color="white" if value < (vmin + vmax) / 2 else "black",
        )
    ax.set_xticks(range(len(l1_ratios)), [str(r) for r in l1_ratios])
    ax.set_yticks(range(len(dropouts)), dropouts)
    ax.set_xlabel("l1_ratio")
    ax.set_ylabel("dropout")
    ax.set_title(f"batch_norm={batch_norm}")
fig.colorbar(image, ax=axes[:2], label="cross-validated accuracy", shrink=0.8)

LossCurveDisplay.from_estimator(search, ax=axes[2], name="best pipeline")
output_dir = Path(os.environ.get("SKREG_EXAMPLE_OUTPUT_DIR", Path(__file__).parent))
figure_path = output_dir / f"{Path(__file__).stem}.png"
fig.savefig(figure_path)
print(f"figure saved to {figure_path}")

# %%
# The heat maps show which regularizers matter on this data; the curves show
# whether the best network under- or overfits: a validation loss that turns
# up while the training objective keeps falling is overfitting, which early
# stopping cuts at the marked epoch.
