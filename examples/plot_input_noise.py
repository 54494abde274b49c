"""
=====================================
Input noise as data augmentation
=====================================

Adding Gaussian noise to the (standardized) inputs during training, and only
then, shows the network a slightly different version of every row at every
epoch. For small tabular datasets this is a cheap data augmentation; in
expectation it acts like a smoothness penalty on the learned function
(Bishop, 1995). ``input_noise`` is its standard deviation.

A validation curve over ``input_noise`` on a small regression problem shows
the held-out score rising, then falling once the noise drowns the signal.
Set ``SKREG_EXAMPLE_QUICK=1`` for a seconds-long run.
"""

# %%
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import ShuffleSplit, validation_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPRegressor

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"
OUTPUT_DIR = Path(os.environ.get("SKREG_EXAMPLE_OUTPUT_DIR", Path(__file__).parent))
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_diabetes(return_X_y=True)

# %%
# Validation curve over the noise level
# -------------------------------------
# The scaler runs first, so one noise level fits every feature.
model = TransformedTargetRegressor(
    make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(128, 128),
            max_iter=40 if QUICK else 300,
            learning_rate_init=3e-3,
            random_state=0,
        ),
    ),
    transformer=StandardScaler(),
)
levels = [0.0, 0.3, 1.0] if QUICK else [0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5]
train, valid = validation_curve(
    model,
    X,
    y,
    param_name="regressor__mlpregressor__input_noise",
    param_range=levels,
    cv=ShuffleSplit(n_splits=2 if QUICK else 3, test_size=0.5, random_state=0),
    scoring="r2",
)
for level, score in zip(levels, valid.mean(axis=1), strict=True):
    print(f"input_noise={level:<4}  validation R^2 = {score:.3f}")

fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(levels, train.mean(axis=1), "o-", label="training")
ax.plot(levels, valid.mean(axis=1), "o-", label="validation")
ax.set_xlabel("input_noise (standard deviation, standardized inputs)")
ax.set_ylabel("R^2")
ax.set_title("Input noise trades training fit for generalization")
ax.legend()
fig.tight_layout()
figure_path = OUTPUT_DIR / f"{Path(__file__).stem}.png"
fig.savefig(figure_path, dpi=100)
print(f"figure saved to {figure_path}")
