"""Distributed search: the same GridSearchCV on a dask.distributed cluster.

A real LocalCluster with two worker *processes* is started once for the
module; scikit-learn's search runs on it through joblib's Dask backend
(``with joblib.parallel_backend("dask")``), and must give exactly what the
local search gives. dask[distributed] is an optional extra
(``pip install ".[distributed]"``); the module is skipped without it.
Data: scikit-learn's breast cancer set.
"""

import logging
import os

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

distributed = pytest.importorskip("distributed")

pytestmark = [
    pytest.mark.slow,  # a local dask cluster per test
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    # dask's own housekeeping (ports, event loops, closed sockets)
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

GRID = {
    "mlpclassifier__alpha": [1e-4, 1e-1],
    "mlpclassifier__dropout": [0.0, (0.3, 0.1)],
    "mlpclassifier__batch_norm": [False, (True, False)],
}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def data():
    return load_breast_cancer(return_X_y=True)


def _search():
    estimator = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(16, 8),
            max_iter=30,
            learning_rate_init=0.01,
            random_state=0,
        ),
    )
    return GridSearchCV(
        estimator, GRID, cv=3, scoring="neg_log_loss", n_jobs=-1, error_score="raise"
    )


def test_cluster_has_two_worker_processes(client):
    pids = client.run(os.getpid)
    assert len(pids) == 2
    assert len(set(pids.values())) == 2
    assert os.getpid() not in pids.values()


def _assert_ran_on_workers(client, tasks):
    """The fits ran as tasks on the cluster's workers."""
    workers = set(client.scheduler_info()["workers"])
    used = {task["worker"] for task in tasks.data}
    assert used and used <= workers


def test_grid_search_on_dask_equals_local(client, data):
    X, y = data
    local = _search().set_params(n_jobs=1).fit(X, y)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = _search().fit(X, y)

    _assert_ran_on_workers(client, tasks)
    assert remote.best_params_ == local.best_params_
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    for key in [
        "mean_test_score",
        "std_test_score",
        "split0_test_score",
        "split1_test_score",
        "split2_test_score",
    ]:
        assert_allclose(remote.cv_results_[key], local.cv_results_[key], rtol=1e-12)
    assert_array_equal(
        remote.cv_results_["rank_test_score"], local.cv_results_["rank_test_score"]
    )
    # the refit (done in this process) is the same model
    assert_array_equal(remote.predict_proba(X), local.predict_proba(X))


def test_randomized_search_on_dask_equals_local(client, data):
    X, y = data
    search = RandomizedSearchCV(
        clone(_search().estimator),
        {
            **GRID,
            "mlpclassifier__l1_ratio": [0.0, 0.5],
            "mlpclassifier__max_norm": [None, 2.0],
        },
        n_iter=6,
        cv=3,
        random_state=0,
        n_jobs=-1,
        error_score="raise",
    )
    local = clone(search).set_params(n_jobs=1).fit(X, y)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = clone(search).fit(X, y)
    _assert_ran_on_workers(client, tasks)
    assert remote.best_params_ == local.best_params_
    assert_allclose(
        remote.cv_results_["mean_test_score"],
        local.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert remote.best_score_ > np.bincount(y).max() / len(y) + 0.25
