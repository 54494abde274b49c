"""
==================================================
Early stopping: loss curves and the kept epoch
==================================================

A large network trained for long on a small, noisy dataset first learns the
signal, then the noise: the training loss keeps falling while the
validation loss turns back up. Validation-based early stopping (Prechelt,
1998) watches the validation loss on held-out rows, stops after
``n_iter_no_change`` epochs without improvement, and keeps the weights of the
best epoch, ``best_iteration_``.

:class:`skreg.LossCurveDisplay` draws both curves and marks the kept epoch.
Set ``SKREG_EXAMPLE_QUICK=1`` for a seconds-long run.
"""

# %%
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from skreg import LossCurveDisplay, MLPClassifier

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"
OUTPUT_DIR = Path(os.environ.get("SKREG_EXAMPLE_OUTPUT_DIR", Path(__file__).parent))

# the network without early stopping runs all its epochs on purpose
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = make_classification(
    n_samples=400, n_features=20, n_informative=5, flip_y=0.2, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# %%
# With and without early stopping
# -------------------------------
# Both networks see the same validation rows (``X_val``, ``y_val``), so that
# both curves can be drawn; only the first stops early and restores its best
# epoch.
X_fit, X_val, y_fit, y_val = train_test_split(
    X_train, y_train, test_size=0.25, stratify=y_train, random_state=0
)
epochs = 30 if QUICK else 200
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, early_stopping in zip(axes, (True, False), strict=True):
    clf = MLPClassifier(
        hidden_layer_sizes=(256, 256),
        early_stopping=early_stopping,
        n_iter_no_change=10,
        learning_rate_init=3e-3,
        max_iter=epochs,
        random_state=0,
    ).fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
    LossCurveDisplay.from_estimator(clf, ax=ax)
    test_loss = log_loss(y_test, clf.predict_proba(X_test))
    ax.set_title(
        f"early_stopping={early_stopping}: test log-loss {test_loss:.2f}, "
        f"accuracy {clf.score(X_test, y_test):.2f}"
    )
    print(ax.get_title(), "| epochs run:", clf.n_iter_, "| kept:", clf.best_iteration_)
fig.tight_layout()
figure_path = OUTPUT_DIR / f"{Path(__file__).stem}.png"
fig.savefig(figure_path, dpi=100)
print(f"figure saved to {figure_path}")
