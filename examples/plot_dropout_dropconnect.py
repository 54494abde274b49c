"""
===============================================
Dropout and DropConnect: a validation curve
===============================================

Dropout (Srivastava et al., 2014) zeroes each hidden unit with probability
``dropout`` during training; DropConnect (Wan et al., 2013) zeroes each
*weight* with probability ``dropconnect``. Both train an implicit ensemble of
thinned networks and predict with the full, rescaled network.

A validation curve over the rate shows the usual shape on a small, noisy
regression problem (the diabetes dataset, 221 training rows, a network of
two layers of 128 units): without dropping, the network memorizes its
training rows (a training R^2 above 0.9) and predicts new patients poorly; as
the rate grows, the training R^2 falls and the validation R^2 rises until
the network starts to underfit. Set ``SKREG_EXAMPLE_QUICK=1`` for a
seconds-long run.
"""

# %%
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, validation_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPRegressor

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"
OUTPUT_DIR = Path(os.environ.get("SKREG_EXAMPLE_OUTPUT_DIR", Path(__file__).parent))
# a fixed number of epochs is the point here, not convergence
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_diabetes(return_X_y=True)

# %%
# One validation curve per technique
# ----------------------------------
# Half the rows train, the other half validate, on three random splits;
# inputs and target are standardized, every network trains for the same
# number of epochs.
rates = [0.0, 0.3, 0.6] if QUICK else [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
cv = ShuffleSplit(n_splits=2 if QUICK else 3, test_size=0.5, random_state=0)
model = TransformedTargetRegressor(
    make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(128, 128),
            alpha=0.0,
            max_iter=15 if QUICK else 150,
            n_iter_no_change=1000,
            random_state=0,
        ),
    ),
    transformer=StandardScaler(),
)
curves = {}
for technique in ["dropout", "dropconnect"]:
    train, valid = validation_curve(
        model,
        X,
        y,
        param_name=f"regressor__mlpregressor__{technique}",
        param_range=rates,
        cv=cv,
        scoring="r2",
    )
    curves[technique] = (train, valid)
    mean = valid.mean(axis=1)
    print(
        f"{technique:<12} best rate {rates[int(np.argmax(mean))]}: validation "
        f"R^2 {mean.max():.3f} (without {technique}: {mean[0]:.3f})"
    )

# %%
# Plot
# ----
fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
for ax, (technique, (train, valid)) in zip(axes, curves.items(), strict=True):
    for scores, label, color in [
        (train, "training", "tab:blue"),
        (valid, "validation", "tab:orange"),
    ]:
        mean, std = scores.mean(axis=1), scores.std(axis=1)
        ax.plot(rates, mean, "o-", color=color, label=label)
        ax.fill_between(rates, mean - std, mean + std, color=color, alpha=0.2)
    ax.axvline(rates[int(np.argmax(valid.mean(axis=1)))], color="gray", ls=":")
    ax.set_xlabel(f"{technique} rate")
    ax.set_title(technique)
axes[0].set_ylabel("R^2 (mean +- std over splits)")
axes[0].legend()
fig.suptitle("Diabetes, 221 training rows: validation curves over the drop rate")
fig.tight_layout()
figure_path = OUTPUT_DIR / f"{Path(__file__).stem}.png"
fig.savefig(figure_path, dpi=100)
print(f"figure saved to {figure_path}")
plt.show()
