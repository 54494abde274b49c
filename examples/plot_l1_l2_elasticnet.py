"""
=======================================
L1 vs L2 vs ElasticNet weight penalties
=======================================

skreg penalizes the weights with the ElasticNet penalty
``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``.
``l1_ratio=0`` is ridge (L2, weight decay): it shrinks every weight but sets
none to zero. ``l1_ratio=1`` is the lasso (L1): skreg applies it by a
proximal soft-threshold after each optimizer step, so weights that do not
matter become *exactly* ``0.0``. ElasticNet sits in between.

The data is the breast cancer dataset with 30 extra columns of pure noise
appended, so that we know which inputs are useless. The top row shows the
first-layer weights (zeros counted in the titles); the bottom row shows, for
each input, the norm of its outgoing weights: the penalties with an L1 part
switch many inputs off entirely. Set ``SKREG_EXAMPLE_QUICK=1`` for a
seconds-long run.
"""

# %%
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"
OUTPUT_DIR = Path(os.environ.get("SKREG_EXAMPLE_OUTPUT_DIR", Path(__file__).parent))
# a fixed number of epochs is the point here, not convergence
warnings.filterwarnings("ignore", category=ConvergenceWarning)

# %%
# Real features plus noise features
# ---------------------------------
X, y = load_breast_cancer(return_X_y=True)
n_real = X.shape[1]
rng = np.random.default_rng(0)
X = np.hstack([X, rng.normal(size=(len(X), 30))])
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

# %%
# Same strength, three mixes of L1 and L2
# ---------------------------------------
penalties = {
    "L2 (l1_ratio=0)": 0.0,
    "ElasticNet (l1_ratio=0.5)": 0.5,
    "L1 (l1_ratio=1)": 1.0,
}
models = {
    label: MLPClassifier(
        hidden_layer_sizes=(64,),
        alpha=1e-2,
        l1_ratio=l1_ratio,
        learning_rate_init=3e-3,
        max_iter=30 if QUICK else 300,
        random_state=0,
    ).fit(X_train, y_train)
    for label, l1_ratio in penalties.items()
}
for label, model in models.items():
    first = model.coefs_[0]
    print(
        f"{label:<27} test accuracy {model.score(X_test, y_test):.3f}, "
        f"exact zeros {np.sum(first == 0)} / {first.size}, "
        f"inputs switched off {np.sum(np.all(first == 0, axis=1))} / {len(first)}"
    )

# %%
# Weight histograms and per-input weight norms
# --------------------------------------------
fig, axes = plt.subplots(2, 3, figsize=(11, 6), sharey="row")
for (label, model), top, bottom in zip(models.items(), *axes, strict=True):
    first = model.coefs_[0]
    top.hist(first.ravel(), bins=61, color="tab:blue")
    top.set_yscale("log")
    top.set_title(
        f"{label}\n{np.sum(first == 0)} / {first.size} weights exactly 0",
        fontsize="medium",
    )
    top.set_xlabel("first-layer weight")
    norms = np.linalg.norm(first, axis=1)
    bottom.bar(
        np.arange(n_real), norms[:n_real], color="tab:green", label="real feature"
    )
    bottom.bar(
        np.arange(n_real, len(norms)),
        norms[n_real:],
        color="tab:red",
        label="noise feature",
    )
    bottom.set_xlabel("input")
axes[0, 0].set_ylabel("count")
axes[1, 0].set_ylabel("norm of the input's weights")
axes[1, 0].legend(fontsize="small")
fig.tight_layout()
figure_path = OUTPUT_DIR / f"{Path(__file__).stem}.png"
fig.savefig(figure_path, dpi=100)
print(f"figure saved to {figure_path}")
plt.show()
