"""Hyper-parameter searches over every regularization parameter, with n_jobs=2.

GridSearchCV, RandomizedSearchCV and HalvingRandomSearchCV on scikit-learn's
breast cancer data (classification) and diabetes data (regression), with a
StandardScaler + network Pipeline. The searches run in two worker processes,
so they also check that skreg estimators pickle and stay deterministic there.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import loguniform, uniform
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.metrics import get_scorer, r2_score
from sklearn.model_selection import (
    GridSearchCV,
    HalvingRandomSearchCV,
    KFold,
    ParameterGrid,
    RandomizedSearchCV,
    StratifiedKFold,
    check_cv,
    train_test_split,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, MLPRegressor

# searches run many fits in worker processes: minutes, not seconds
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

# Every regularization parameter, each group varied on its own so that the
# grid stays small; per-layer sequences for the (8, 8) network: dropout per
# hidden layer, dropconnect per weight layer, batch_norm per hidden layer.
GRID = [
    {"mlp__alpha": [1e-5, 1e-2], "mlp__l1_ratio": [0.0, 0.5]},
    {"mlp__dropout": [0.1, (0.5, 0.2)], "mlp__input_dropout": [0.0, 0.1]},
    {"mlp__dropconnect": [0.1, (0.2, 0.0, 0.1)]},
    {"mlp__batch_norm": [True, (True, False)], "mlp__batch_norm_momentum": [0.1, 0.5]},
    {"mlp__max_norm": [None, 1.0], "mlp__input_noise": [0.0, 0.1]},
    {
        "mlp__early_stopping": [True],
        "mlp__validation_fraction": [0.2],
        "mlp__n_iter_no_change": [3, 10],
        "mlp__restore_best_weights": [True, False],
    },
]


def _pipe(estimator=None):
    estimator = estimator or MLPClassifier(
        hidden_layer_sizes=(8, 8), max_iter=30, learning_rate_init=0.01, random_state=0
    )
    return Pipeline([("scale", StandardScaler()), ("mlp", estimator)])


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def grid_search(data):
    X_train, _, y_train, _ = data
    search = GridSearchCV(
        _pipe(), GRID, cv=3, n_jobs=2, scoring="neg_log_loss", error_score="raise"
    )
    return search.fit(X_train, y_train)


def test_grid_search_results_complete(grid_search):
    candidates = list(ParameterGrid(GRID))
    results = grid_search.cv_results_
    assert len(results["params"]) == len(candidates) == 22
    assert results["params"] == candidates
    assert grid_search.best_params_ in candidates
    assert grid_search.best_params_ == results["params"][grid_search.best_index_]
    assert results["rank_test_score"][grid_search.best_index_] == 1

    splits = np.column_stack([results[f"split{i}_test_score"] for i in range(3)])
    assert np.all(np.isfinite(splits)) and np.all(splits < 0)  # neg log loss
    assert_allclose(results["mean_test_score"], splits.mean(axis=1))
    assert_allclose(results["std_test_score"], splits.std(axis=1))
    assert grid_search.best_score_ == results["mean_test_score"].max()

    # per-layer sequences survive as values, not split up or converted
    dropouts = [p.get("mlp__dropout") for p in results["params"]]
    assert (0.5, 0.2) in dropouts
    assert (True, False) in [p.get("mlp__batch_norm") for p in results["params"]]
    # every parameter changed the model: the scores of the 22 candidates differ
    # (restore_best_weights can coincide when the best epoch is the last)
    assert len(np.unique(np.round(results["mean_test_score"], 12))) >= 20


def test_grid_search_refit(grid_search, data):
    X_train, X_test, y_train, y_test = data
    best = grid_search.best_estimator_
    assert best[-1].get_params() == {
        **_pipe()[-1].get_params(),
        **{k.removeprefix("mlp__"): v for k, v in grid_search.best_params_.items()},
    }
    refit = clone(_pipe()).set_params(**grid_search.best_params_).fit(X_train, y_train)
    assert_array_equal(grid_search.predict_proba(X_test), refit.predict_proba(X_test))
    majority = np.bincount(y_test).max() / len(y_test)
    assert (grid_search.predict(X_test) == y_test).mean() > majority + 0.25
    assert_allclose(
        grid_search.score(X_test, y_test),
        get_scorer("neg_log_loss")(refit, X_test, y_test),
    )


def test_search_uses_stratified_folds(grid_search, data):
    """The classifier is recognized as one: an integer cv means StratifiedKFold."""
    X_train, _, y_train, _ = data
    assert is_classifier(MLPClassifier()) and is_classifier(_pipe())
    assert isinstance(
        check_cv(3, y_train, classifier=is_classifier(_pipe())), StratifiedKFold
    )
    # recompute candidate 0's split scores on StratifiedKFold's folds
    params = grid_search.cv_results_["params"][0]
    scorer = get_scorer("neg_log_loss")

    def split_scores(cv):
        scores = []
        for train, test in cv.split(X_train, y_train):
            model = (
                clone(_pipe()).set_params(**params).fit(X_train[train], y_train[train])
            )
            scores.append(scorer(model, X_train[test], y_train[test]))
        return np.array(scores)

    searched = [grid_search.cv_results_[f"split{i}_test_score"][0] for i in range(3)]
    assert_allclose(split_scores(StratifiedKFold(3)), searched, rtol=1e-12)
    # and not on plain KFold's folds
    assert not np.allclose(split_scores(KFold(3)), searched, rtol=1e-6)


def test_randomized_search_is_reproducible_across_processes(data):
    X_train, X_test, y_train, y_test = data
    distributions = {
        "mlp__alpha": loguniform(1e-6, 1e-1),
        "mlp__l1_ratio": uniform(0, 1),
        "mlp__dropout": [0.0, 0.2, (0.5, 0.2)],
        "mlp__input_dropout": [0.0, 0.1],
        "mlp__dropconnect": [0.0, (0.1, 0.1, 0.0)],
        "mlp__batch_norm": [False, True, (False, True)],
        "mlp__max_norm": [None, 1.0, 3.0],
        "mlp__input_noise": uniform(0, 0.2),
    }
    search = RandomizedSearchCV(
        _pipe(),
        distributions,
        n_iter=8,
        cv=3,
        random_state=0,
        n_jobs=2,
        error_score="raise",
    ).fit(X_train, y_train)
    results = search.cv_results_
    assert len(results["params"]) == 8
    for params in results["params"]:
        assert 1e-6 <= params["mlp__alpha"] <= 1e-1
        assert 0 <= params["mlp__l1_ratio"] <= 1
        assert params["mlp__dropout"] in distributions["mlp__dropout"]
        assert params["mlp__batch_norm"] in distributions["mlp__batch_norm"]
    assert search.best_params_ in results["params"]
    assert search.score(X_test, y_test) > np.bincount(y_test).max() / len(y_test) + 0.2

    # the same search in this process gives exactly the same scores
    serial = clone(search).set_params(n_jobs=1).fit(X_train, y_train)
    assert serial.cv_results_["params"] == results["params"]
    assert_allclose(serial.cv_results_["mean_test_score"], results["mean_test_score"])
    assert serial.best_params_ == search.best_params_


@pytest.mark.parametrize("resource", ["n_samples", "mlp__max_iter"])
def test_halving_random_search(data, resource):
    X_train, X_test, y_train, y_test = data
    distributions = {
        "mlp__alpha": loguniform(1e-6, 1e-1),
        "mlp__dropout": [0.0, 0.2, (0.5, 0.2)],
        "mlp__batch_norm": [False, (True, False)],
    }
    limits = (
        dict(min_resources=60, max_resources="auto")
        if resource == "n_samples"
        else dict(min_resources=5, max_resources=40)
    )
    search = HalvingRandomSearchCV(
        _pipe(),
        distributions,
        n_candidates=8,
        factor=2,
        resource=resource,
        cv=3,
        random_state=0,
        n_jobs=2,
        error_score="raise",
        **limits,
    ).fit(X_train, y_train)

    assert search.n_candidates_[0] == 8
    assert np.all(np.diff(search.n_candidates_) < 0)
    assert np.all(np.diff(search.n_resources_) > 0)
    results = search.cv_results_
    last = results["iter"] == results["iter"].max()
    assert search.best_index_ in np.flatnonzero(last)
    assert set(np.unique(results["iter"])) == set(range(search.n_iterations_))
    best = search.best_estimator_[-1]
    if resource == "mlp__max_iter":
        # the resource is the number of epochs; the refit uses the largest
        assert search.best_params_["mlp__max_iter"] == 40 == best.max_iter
        assert best.n_iter_ <= 40
    else:
        assert best.n_features_in_ == X_train.shape[1]
    assert best.alpha == search.best_params_["mlp__alpha"]
    assert search.score(X_test, y_test) > np.bincount(y_test).max() / len(y_test) + 0.2


def test_regressor_search_uses_kfold_and_r2():
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    y_center, y_scale = y_train.mean(), y_train.std()
    reg = _pipe(
        MLPRegressor(
            hidden_layer_sizes=(16,),
            max_iter=100,
            learning_rate_init=0.01,
            random_state=0,
        )
    )
    assert is_regressor(reg)
    assert isinstance(check_cv(3, y_train, classifier=is_classifier(reg)), KFold)
    search = GridSearchCV(
        reg,
        {"mlp__alpha": [1e-4, 1.0], "mlp__dropout": [0.0, 0.2]},
        cv=3,
        n_jobs=2,
        error_score="raise",
    ).fit(X_train, (y_train - y_center) / y_scale)
    assert search.best_params_ in list(ParameterGrid(search.param_grid))
    y_test = (y_test - y_center) / y_scale
    score = search.score(X_test, y_test)
    assert score == pytest.approx(r2_score(y_test, search.predict(X_test)))
    # far better than predicting the mean (R^2 0); this small net in 100
    # epochs reaches about 0.33, a well-tuned model on diabetes about 0.45
    assert score > 0.2
