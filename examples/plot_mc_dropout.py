"""
=====================================
Monte Carlo dropout uncertainty
=====================================

A network trained with dropout can keep its dropout masks on at prediction
time: each stochastic pass is a different thinned network, and the spread of
their predictions approximates the model's uncertainty (Gal & Ghahramani,
2016). ``MLPRegressor.predict(X, return_std=True)`` returns the mean and the
standard deviation of 30 such passes; ``sample_predictions`` returns the
passes themselves.

On a 1-D problem, the band is narrow where the training data lies and
widens as the network extrapolates away from it. Set
``SKREG_EXAMPLE_QUICK=1`` for a seconds-long run.
"""

# %%
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skreg import MLPRegressor

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"
OUTPUT_DIR = Path(os.environ.get("SKREG_EXAMPLE_OUTPUT_DIR", Path(__file__).parent))
warnings.filterwarnings("ignore", category=ConvergenceWarning)

rng = np.random.default_rng(0)
x = rng.uniform(-2, 2, 200)
y = np.sin(2 * x) + 0.1 * rng.normal(size=x.size)

# %%
# Fit with dropout, predict with the masks on
# -------------------------------------------
reg = MLPRegressor(
    hidden_layer_sizes=(128, 128),
    dropout=0.2,
    learning_rate_init=3e-3,
    max_iter=50 if QUICK else 300,
    random_state=0,
).fit(x.reshape(-1, 1), y)
grid = np.linspace(-5, 5, 201).reshape(-1, 1)
mean, std = reg.predict(grid, return_std=True)
inside = np.abs(grid.ravel()) <= 2
print(
    f"mean std where the data lies: {std[inside].mean():.3f}, "
    f"outside it: {std[~inside].mean():.3f}"
)

fig, ax = plt.subplots(figsize=(7, 4))
ax.scatter(x, y, s=8, color="gray", label="training data")
ax.plot(grid, mean, label="MC dropout mean")
ax.fill_between(
    grid.ravel(), mean - 2 * std, mean + 2 * std, alpha=0.3, label="+- 2 std"
)
ax.axvspan(-2, 2, color="gray", alpha=0.1, label="training range")
ax.set_title("Monte Carlo dropout: wider bands away from the data")
ax.legend(loc="lower left")
fig.tight_layout()
figure_path = OUTPUT_DIR / f"{Path(__file__).stem}.png"
fig.savefig(figure_path, dpi=100)
print(f"figure saved to {figure_path}")
