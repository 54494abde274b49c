"""
==========================================
Quick start: scikit-learn's MLP vs skreg
==========================================

Train scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` and
:class:`skreg.MLPClassifier` with the same architecture on a real dataset and
print their held-out scores and fit times side by side.

The data is PMLB's ``spambase`` (4,601 e-mails, 57 word and character
frequencies) from ``../shared/data/pmlb`` next to the repository; without it
the script falls back to scikit-learn's bundled breast cancer dataset. skreg
uses its own regularizers (dropout, weight decay and early stopping that keeps
the best epoch); scikit-learn's MLP runs with its defaults. Set
``SKREG_EXAMPLE_QUICK=1`` for a seconds-long smoke run.

For a tuned comparison over 15 datasets see ``benchmarks/generalization.py``.
"""

# %%
import os
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skreg

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"
PMLB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "pmlb"


# %%
# Load a real dataset
# -------------------
def load_data():
    """PMLB spambase if available, else the bundled breast cancer data."""
    path = PMLB / "spambase" / "spambase.tsv.gz"
    if path.exists():
        data = np.loadtxt(path, delimiter="\t", skiprows=1)
        return "PMLB spambase", data[:, :-1], data[:, -1].astype(int)
    X, y = load_breast_cancer(return_X_y=True)
    return "breast cancer (bundled)", X, y


name, X, y = load_data()
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
if QUICK and len(y) > 800:  # a stratified sample of 600 rows (sorted by class)
    X_train, _, y_train, _ = train_test_split(
        X_train, y_train, train_size=450, stratify=y_train, random_state=0
    )
    X_test, _, y_test, _ = train_test_split(
        X_test, y_test, train_size=150, stratify=y_test, random_state=0
    )
print(
    f"{name}: {len(y_train)} training rows, {len(y_test)} test rows, "
    f"{X.shape[1]} features\n"
)

# %%
# Two networks, same architecture and epoch budget
# ------------------------------------------------
common = dict(
    hidden_layer_sizes=(128, 128), max_iter=10 if QUICK else 100, random_state=0
)
models = {
    "scikit-learn MLPClassifier": SklearnMLPClassifier(**common),
    "skreg MLPClassifier (dropout, L2, early stopping)": skreg.MLPClassifier(
        dropout=0.3, alpha=1e-4, early_stopping=True, n_iter_no_change=20, **common
    ),
}

# %%
# Fit, then score on the held-out rows
# ------------------------------------
print(f"{'model':<52}{'accuracy':>10}{'bal. acc.':>11}{'epochs':>8}{'fit s':>8}")
for label, net in models.items():
    model = make_pipeline(StandardScaler(), net)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    pred = model.predict(X_test)
    print(
        f"{label:<52}{accuracy_score(y_test, pred):>10.4f}"
        f"{balanced_accuracy_score(y_test, pred):>11.4f}"
        f"{net.n_iter_:>8d}{seconds:>8.1f}"
    )
