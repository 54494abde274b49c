"""
=====================================================================
Quick start: skreg beside scikit-learn's MLP and gradient boosting
=====================================================================

Fit three classifiers on the same training rows of a real dataset and print
their scores on held-out rows, with their fit times:

- scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` with its
  defaults;
- :class:`skreg.TabularMLPClassifier`, skreg's recipe for tabular data with
  its defaults (its own scaling of the inputs, 3 x 256 ReLU with dropout
  0.15, early stopping that keeps the best epoch's weights): the
  ``SKREG_MODEL`` line below, the one line to change to try another skreg
  estimator;
- scikit-learn's
  :class:`~sklearn.ensemble.HistGradientBoostingClassifier` with its
  defaults, the usual strong baseline on tabular data.

No setting is tuned, and one dataset and one split say little:
``benchmarks/tabular.py`` compares these and more on 24 datasets (README:
"Tabular data").

The data is PMLB's ``satimage`` (6,435 satellite image patches, 36 features,
6 soil classes) from ``../shared/data/pmlb``, the ``pmlb`` package or OpenML;
where none is reachable the script says so and uses scikit-learn's bundled
digits. Set ``SKREG_EXAMPLE_QUICK=1`` for a run on 600 rows.
"""

# %%
import os
import time
import warnings

from _datasets import load_dataset
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skreg

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"

# %%
# A real dataset, with held-out rows
# ----------------------------------
X, y, source = load_dataset("satimage")
print(source)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
if QUICK:  # a stratified sample of 450 training and 150 test rows
    X_train, _, y_train, _ = train_test_split(
        X_train, y_train, train_size=450, stratify=y_train, random_state=0
    )
    X_test, _, y_test, _ = train_test_split(
        X_test, y_test, train_size=150, stratify=y_test, random_state=0
    )
print(
    f"{len(y_train)} training rows, {len(y_test)} test rows, {X.shape[1]} "
    f"features, {len(set(y))} classes\n"
)

# %%
# Three classifiers, scaled inputs for the networks
# -------------------------------------------------
# the one line to change to try another skreg estimator (the tabular one
# scales its inputs itself; put a plain skreg.MLPClassifier behind a scaler)
SKREG_MODEL = skreg.TabularMLPClassifier(random_state=0)
models = {
    "scikit-learn MLPClassifier, defaults": make_pipeline(
        StandardScaler(), SklearnMLPClassifier(random_state=0)
    ),
    f"skreg {type(SKREG_MODEL).__name__}, defaults": SKREG_MODEL,
    "HistGradientBoostingClassifier, defaults": HistGradientBoostingClassifier(
        random_state=0
    ),
}

# %%
# Fit, then score on the held-out rows
# ------------------------------------
# A network that uses all its epochs says so in the last column (instead of
# a ConvergenceWarning in the middle of the table).
print(f"skreg's model: {SKREG_MODEL}\n")
print(f"{'model':<48}{'accuracy':>9}{'bal. acc.':>11}{'fit s':>7}  stopped")
for label, model in models.items():
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    for warning in caught:  # anything else would be news: show it
        if not issubclass(warning.category, ConvergenceWarning):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    final = model[-1] if hasattr(model, "steps") else model
    is_network = not isinstance(final, HistGradientBoostingClassifier)
    epochs = f"after {final.n_iter_} epochs" if is_network else ""
    if caught and any(w.category is ConvergenceWarning for w in caught):
        epochs += " (max_iter)"
    pred = model.predict(X_test)
    print(
        f"{label:<48}{accuracy_score(y_test, pred):>9.4f}"
        f"{balanced_accuracy_score(y_test, pred):>11.4f}{seconds:>7.1f}  {epochs}"
    )
