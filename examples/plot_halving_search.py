"""
========================================================
Tuning a regularization cocktail with successive halving
========================================================

Regularizers combine: a "cocktail" of ElasticNet, dropout, batch norm,
input noise and early stopping (Kadra et al., 2021) often beats any one of
them, but the joint space is large. Successive halving
(:class:`~sklearn.model_selection.HalvingRandomSearchCV`) tries many random
cocktails on few epochs, then spends more epochs only on the best ones,
using ``max_iter`` as the resource.

Set ``SKREG_EXAMPLE_QUICK=1`` for a seconds-long run.
"""

# %%
import os
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
from scipy.stats import loguniform, uniform
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingRandomSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"
OUTPUT_DIR = Path(os.environ.get("SKREG_EXAMPLE_OUTPUT_DIR", Path(__file__).parent))
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# %%
# The search space: every regularizer is a plain parameter
# --------------------------------------------------------
pipe = make_pipeline(
    StandardScaler(), MLPClassifier(hidden_layer_sizes=(128, 128), random_state=0)
)
space = {
    "mlpclassifier__alpha": loguniform(1e-6, 1e-1),
    "mlpclassifier__l1_ratio": uniform(0, 1),
    "mlpclassifier__dropout": [0.0, 0.2, 0.5, (0.5, 0.2)],
    "mlpclassifier__batch_norm": [False, True],
    "mlpclassifier__input_noise": [0.0, 0.1, 0.3],
    "mlpclassifier__early_stopping": [False, True],
}
search = HalvingRandomSearchCV(
    pipe,
    space,
    resource="mlpclassifier__max_iter",
    min_resources=5 if QUICK else 10,
    max_resources=20 if QUICK else 160,
    n_candidates=8 if QUICK else 48,
    factor=2 if QUICK else 3,
    scoring="balanced_accuracy",
    random_state=0,
    n_jobs=2,
).fit(X_train, y_train)
print("best cocktail:", search.best_params_)
print(f"test balanced accuracy: {search.score(X_test, y_test):.3f}")

# %%
# How the candidates fared round by round
# ---------------------------------------
results = search.cv_results_
fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(
    results["param_mlpclassifier__max_iter"],
    results["mean_test_score"],
    c=results["iter"],
    cmap="viridis",
)
ax.set_xlabel("epochs (the resource)")
ax.set_ylabel("cross-validated balanced accuracy")
ax.set_title("Successive halving over regularization cocktails")
fig.tight_layout()
figure_path = OUTPUT_DIR / f"{Path(__file__).stem}.png"
fig.savefig(figure_path, dpi=100)
print(f"figure saved to {figure_path}")
