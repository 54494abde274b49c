"""
==========================================
Batch normalization: faster convergence
==========================================

Batch normalization (Ioffe & Szegedy, 2015) normalizes each hidden layer's
pre-activations with the statistics of the mini-batch while training, and
with running statistics at prediction time. It keeps the scale of the
activations stable from layer to layer, so a deeper network trains in fewer
epochs at the same learning rate.

Here a four-layer network learns the digits dataset with and without
``batch_norm=True``; the training loss per epoch (``loss_curve_``) shows the
difference. Set ``SKREG_EXAMPLE_QUICK=1`` for a seconds-long run.
"""

# %%
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"
OUTPUT_DIR = Path(os.environ.get("SKREG_EXAMPLE_OUTPUT_DIR", Path(__file__).parent))
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    StandardScaler().fit_transform(X), y, stratify=y, random_state=0
)

# %%
# The same network, with and without batch norm
# ---------------------------------------------
# Same seed, same learning rate, same number of epochs: only ``batch_norm``
# changes.
epochs = 8 if QUICK else 40
fig, ax = plt.subplots(figsize=(6, 4))
for batch_norm in (False, True):
    clf = MLPClassifier(
        hidden_layer_sizes=(64, 64, 64, 64),
        batch_norm=batch_norm,
        learning_rate_init=1e-3,
        max_iter=epochs,
        tol=0,
        random_state=0,
    ).fit(X_train, y_train)
    label = f"batch_norm={batch_norm}: test accuracy {clf.score(X_test, y_test):.3f}"
    print(label)
    ax.plot(range(1, clf.n_iter_ + 1), clf.loss_curve_, label=label)
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
ax.set_yscale("log")
ax.set_title("Batch normalization speeds up training")
ax.legend()
fig.tight_layout()
fig.savefig(OUTPUT_DIR / f"{Path(__file__).stem}.png", dpi=100)
