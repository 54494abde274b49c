"""
===========================================
Distributed hyper-parameter search on Dask
===========================================

A regularized network is only as good as the search that tunes it, and
searches are where one machine stops being enough. skreg estimators are
plain scikit-learn estimators (they clone, pickle and give the same result
in any process), so scikit-learn's own searches run on a
`dask.distributed <https://distributed.dask.org>`_ cluster through joblib's
Dask backend: no code of skreg's or yours changes, only where joblib sends
the work.

Install the optional extra with ``pip install ".[distributed]"`` from a
checkout of skreg.

This example starts a :class:`~distributed.LocalCluster` (two worker
processes on this machine). To use a real cluster instead, start a scheduler
and workers there (``dask scheduler`` on one machine, ``dask worker
tcp://scheduler:8786`` on the others, each with skreg installed) and change
the two lines that create the client, from::

    cluster = LocalCluster(n_workers=2, threads_per_worker=1)
    client = Client(cluster)

to::

    cluster = "tcp://scheduler:8786"
    client = Client(cluster)

(:class:`~distributed.Client` takes a cluster object or a scheduler
address, so in fact only the first line changes). The search itself is
untouched: ``with joblib.parallel_backend("dask"):`` around ``fit`` is all
it takes.

The data travel with each task; for large arrays, ``client.scatter`` them
first, or read them on the workers. Set ``SKREG_EXAMPLE_QUICK=1`` for a
smaller grid (2 candidates, 10 epochs).
"""

# %%
# The search, as it would run on one machine
# ------------------------------------------
import logging
import os
import time
import warnings

import joblib
from distributed import Client, LocalCluster
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

QUICK = os.environ.get("SKREG_EXAMPLE_QUICK") == "1"

# A few strongly regularized candidates use all their epochs; that is fine here.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_breast_cancer(return_X_y=True)
pipeline = make_pipeline(
    StandardScaler(),
    MLPClassifier(
        hidden_layer_sizes=(32, 16),
        max_iter=10 if QUICK else 60,
        learning_rate_init=0.01,
        early_stopping=True,
        n_iter_no_change=10,
        random_state=0,
    ),
)
param_grid = {
    "mlpclassifier__alpha": [1e-5, 1e-2],  # L2 (weight decay)
    "mlpclassifier__dropout": [0.0, (0.3, 0.1)],  # one rate per hidden layer
    "mlpclassifier__batch_norm": [False, True],
}
if QUICK:
    param_grid = {"mlpclassifier__alpha": [1e-5, 1e-2]}
search = GridSearchCV(pipeline, param_grid, cv=3, scoring="neg_log_loss", n_jobs=-1)

# %%
# Point joblib at the cluster
# ---------------------------
# The ``if __name__ == "__main__"`` guard is needed because the workers are
# separate processes that may import this file.
if __name__ == "__main__":
    # (1) a remote cluster instead: cluster = "tcp://scheduler:8786"
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster)  # (2)
    print(f"workers: {list(client.scheduler_info()['workers'])}")

    tic = time.perf_counter()
    with joblib.parallel_backend("dask"):
        search.fit(X, y)
    print(
        f"{len(search.cv_results_['params'])} candidates x 3 folds on Dask in "
        f"{time.perf_counter() - tic:.1f} s"
    )
    print(f"best parameters: {search.best_params_}")
    print(f"best cross-validated log loss: {-search.best_score_:.4f}")

    # %%
    # The cluster gives exactly the local result
    # ------------------------------------------
    # Every fit is seeded, so where it ran does not matter.
    local = GridSearchCV(
        pipeline, param_grid, cv=3, scoring="neg_log_loss", n_jobs=1
    ).fit(X, y)
    assert local.best_params_ == search.best_params_
    assert (
        abs(
            local.cv_results_["mean_test_score"] - search.cv_results_["mean_test_score"]
        ).max()
        < 1e-12
    )
    print("local search: same best parameters and scores")

    client.close()
    if isinstance(cluster, LocalCluster):
        cluster.close()
