"""
====================================
Underfitting vs overfitting
====================================

Grow a network from 1 to 512 hidden units and watch the training and the
validation log loss part ways. A tiny network cannot fit the handwritten
digits (underfitting: both losses are high). Past a few dozen units the
unregularized network memorizes its training digits (a training loss near
1e-3) while its validation loss hardly moves: the gap between the two curves,
a factor of about a hundred, is overfitting. Dropout and a little weight
decay keep the training loss from collapsing and give the lowest validation
loss for the largest networks: regularization lets you use a big network
without paying for its capacity.

The training set is deliberately small (300 digits) so that overfitting
shows. The script prints both losses at every width and says where the
regularized network's validation loss is below the plain one's, then saves
its figure next to the script (or in ``SKREG_EXAMPLE_OUTPUT_DIR``). Set
``SKREG_EXAMPLE_QUICK=1`` for a run over three widths, one split and 100
epochs.
"""

# %%
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, validation_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"
OUTPUT_DIR = Path(os.environ.get("SKREG_EXAMPLE_OUTPUT_DIR", Path(__file__).parent))

# a fixed number of epochs is the point here, not convergence
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)

# %%
# Train and validation loss as the hidden layer widens
# ----------------------------------------------------
# ``validation_curve`` refits the pipeline for every width on three random
# splits of 300 training and 600 validation digits.
widths = [2, 32, 256] if QUICK else [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
cv = ShuffleSplit(
    n_splits=1 if QUICK else 3, train_size=300, test_size=600, random_state=0
)
settings = {
    "unregularized": dict(alpha=0.0),
    "dropout 0.5 + L2": dict(alpha=1e-3, dropout=0.5),
}
curves = {}
for label, regularization in settings.items():
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            # dropout needs the epochs: after 20 its network still underfits
            max_iter=100 if QUICK else 300,
            n_iter_no_change=1000,
            random_state=0,
            **regularization,
        ),
    )
    train, valid = validation_curve(
        model,
        X,
        y,
        param_name="mlpclassifier__hidden_layer_sizes",
        param_range=[(w,) for w in widths],
        cv=cv,
        scoring="neg_log_loss",
    )
    curves[label] = (-train.mean(axis=1), -valid.mean(axis=1))

# %%
# What the curves say
# -------------------
plain, regularized = (curves[label] for label in settings)
print(f"{'units':>6}  {'log loss: training / validation':>34}")
print(f"{'':>6}  {'unregularized':>17}{'dropout 0.5 + L2':>19}")
for k, width in enumerate(widths):
    print(
        f"{width:>6}  {plain[0][k]:>8.4f} / {plain[1][k]:<6.4f}"
        f"{regularized[0][k]:>10.4f} / {regularized[1][k]:.4f}"
    )
lower = [w for k, w in enumerate(widths) if regularized[1][k] < plain[1][k]]
print(
    f"The regularized network's validation loss is below the unregularized "
    f"one's at {len(lower)} of {len(widths)} widths ({lower} hidden units)."
)

# %%
# Plot
# ----
fig, ax = plt.subplots(figsize=(7, 4.5))
for (label, (train, valid)), style in zip(curves.items(), ["-", "--"], strict=True):
    ax.plot(
        widths, train, style, color="tab:blue", marker="o", label=f"training, {label}"
    )
    ax.plot(
        widths,
        valid,
        style,
        color="tab:orange",
        marker="o",
        label=f"validation, {label}",
    )
gap_at = widths[-1]
ax.annotate(
    "",
    xy=(gap_at, curves["unregularized"][0][-1]),
    xytext=(gap_at, curves["unregularized"][1][-1]),
    arrowprops=dict(arrowstyle="<->", color="gray"),
)
ax.text(
    gap_at * 0.8,
    np.sqrt(curves["unregularized"][0][-1] * curves["unregularized"][1][-1]),
    "overfitting\n(generalization gap)",
    ha="right",
    va="center",
    fontsize="small",
)
ax.text(
    widths[0], curves["unregularized"][1][0] * 1.3, "underfitting", fontsize="small"
)
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("hidden units")
ax.set_ylabel("log loss")
ax.set_title("Digits: training vs validation loss as the network grows")
ax.legend(fontsize="small")
fig.tight_layout()
figure_path = OUTPUT_DIR / f"{Path(__file__).stem}.png"
fig.savefig(figure_path, dpi=100)
print(f"figure saved to {figure_path}")
plt.show()
