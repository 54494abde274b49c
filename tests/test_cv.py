"""MLPClassifierCV and MLPRegressorCV: fold-wise early stopping, halving,
fold ensembles."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import (
    MLPClassifierCV,
    MLPRegressorCV,
    TabularMLPClassifier,
    TabularMLPRegressor,
)
from skreg._cv import _halving_rounds

SMALL = {"hidden_layer_sizes": (32,), "max_iter": 200, "n_iter_no_change": 10}
GRID = {"dropout": [0.0, 0.2], "alpha": [1e-5, 1e-3]}


def small_classifier_cv(**kwargs):
    return MLPClassifierCV(
        GRID, estimator=TabularMLPClassifier(**SMALL), cv=3, **kwargs
    )


def small_regressor_cv(**kwargs):
    return MLPRegressorCV(GRID, estimator=TabularMLPRegressor(**SMALL), cv=3, **kwargs)


def _expected_failures(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": (
            "the folds are drawn over rows: repeated copies of a row fall in "
            "different folds, while a weighted row falls in one."
        ),
    }


@parametrize_with_checks(
    [small_classifier_cv(), small_regressor_cv()],
    expected_failed_checks=_expected_failures,
)
def test_estimator_checks(estimator, check):
    check(estimator)


class RowRecorder(TabularMLPClassifier):
    """A tabular classifier that logs which rows trained and validated it."""

    log = []

    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        ids = {"train": set(X[:, 0].tolist())}
        ids["val"] = None if X_val is None else set(X_val[:, 0].tolist())
        super().fit(X, y, sample_weight, X_val=X_val, y_val=y_val)
        self.rows_ = ids
        RowRecorder.log.append(ids)
        return self


def _data_with_row_ids(n=150):
    X, y = make_classification(n, 5, random_state=0)
    X[:, 0] = np.arange(n)  # a row id, unique per row
    return X, y


def test_no_validation_row_trains_the_model_it_validates():
    X, y = _data_with_row_ids()
    RowRecorder.log = []
    cv = MLPClassifierCV(GRID, estimator=RowRecorder(**SMALL), cv=3, random_state=0)
    cv.fit(X, y)
    assert len(RowRecorder.log) == cv.n_fits_
    for rows in RowRecorder.log:  # every fold model, eliminated ones included
        assert rows["val"] and not rows["train"] & rows["val"]
        assert rows["train"] | rows["val"] == set(range(len(y)))
    kept = [model.rows_["val"] for model in cv.estimators_]
    # the kept fold models' validation rows partition the data
    assert sorted(r for rows in kept for r in rows) == list(range(len(y)))


def test_refit_trains_one_model_on_all_rows():
    X, y = _data_with_row_ids()
    cv = MLPClassifierCV(
        GRID, estimator=RowRecorder(**SMALL), cv=3, refit=True, random_state=0
    ).fit(X, y)
    (model,) = cv.estimators_
    assert model.rows_ == {"train": set(range(len(y))), "val": None}
    assert model.dropout == cv.best_params_["dropout"]
    assert cv.n_fits_ == 1 + np.sum(cv.cv_results_["n_folds"])


def test_same_random_state_same_results_bit_for_bit():
    X, y = make_classification(150, 5, random_state=0)
    first = small_classifier_cv(random_state=1).fit(X, y)
    second = small_classifier_cv(random_state=1).fit(X, y)
    assert_array_equal(
        first.cv_results_["split0_test_score"], second.cv_results_["split0_test_score"]
    )
    assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    other = small_classifier_cv(random_state=2).fit(X, y)
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


@pytest.mark.slow
def test_n_jobs_gives_the_sequential_result():
    X, y = make_regression(150, 5, noise=5.0, random_state=0)
    sequential = small_regressor_cv(random_state=0).fit(X, y)
    parallel = small_regressor_cv(random_state=0, n_jobs=2).fit(X, y)
    # other processes may round BLAS sums differently: a tolerance, not bits
    assert parallel.best_params_ == sequential.best_params_
    assert_allclose(
        parallel.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
        rtol=1e-6,
    )
    assert_allclose(parallel.predict(X), sequential.predict(X), rtol=1e-6, atol=1e-8)


def test_prediction_averages_the_fold_models():
    X, y = make_classification(150, 5, n_classes=3, n_informative=3, random_state=0)
    cv = small_classifier_cv(random_state=0).fit(X, y)
    folds = [model.predict_proba(X) for model in cv.estimators_]
    assert len(folds) == 3
    assert_allclose(cv.predict_proba(X), np.mean(folds, axis=0), rtol=1e-12)
    assert_array_equal(cv.predict(X), cv.classes_[np.argmax(np.mean(folds, axis=0), 1)])
    reg = small_regressor_cv(random_state=0).fit(X, y.astype(float))
    assert_allclose(
        reg.predict(X), np.mean([m.predict(X) for m in reg.estimators_], axis=0)
    )


def test_successive_halving_spends_less_on_weak_candidates():
    X, y = make_classification(150, 5, random_state=0)
    cv = small_classifier_cv(random_state=0).fit(X, y)
    n_folds = cv.cv_results_["n_folds"]
    # 4 candidates on fold 1, the best ceil(4 / 3) = 2 on all 3 folds
    assert sorted(n_folds) == [1, 1, 3, 3] and cv.n_fits_ == 8
    best = cv.best_index_
    assert n_folds[best] == 3 and cv.cv_results_["rank_test_score"][best] == 1
    dropped = n_folds == 1
    assert np.all(np.isnan(cv.cv_results_["split1_test_score"][dropped]))
    # survivors were the two best on the first fold
    first = cv.cv_results_["split0_test_score"]
    assert set(np.argsort(-first)[:2]) == set(np.flatnonzero(~dropped))
    full = small_classifier_cv(random_state=0, halving_factor=None).fit(X, y)
    assert full.n_fits_ == 12 and np.all(full.cv_results_["n_folds"] == 3)
    assert cv.best_score_ == full.cv_results_["mean_test_score"][best]


@pytest.mark.parametrize(
    "n_candidates, n_splits, factor, expected",
    [
        (6, 5, 3, [(1, 6), (3, 2), (5, 1)]),
        (4, 3, 3, [(1, 4), (3, 2)]),
        (1, 5, 3, [(1, 1), (3, 1), (5, 1)]),
        (8, 4, 2, [(1, 8), (2, 4), (4, 2)]),
        (6, 5, None, [(5, 6)]),
    ],
)
def test_halving_rounds(n_candidates, n_splits, factor, expected):
    assert _halving_rounds(n_candidates, n_splits, factor) == expected


def test_a_class_missing_from_a_fold_gets_probability_zero_there():
    X, y = make_classification(90, 4, random_state=0)
    y[:4] = 2  # a rare class, all in the first fold of an unshuffled KFold
    cv = MLPClassifierCV(
        {"dropout": [0.0]}, estimator=TabularMLPClassifier(**SMALL), cv=KFold(3)
    ).fit(X, y)
    proba = cv.predict_proba(X)
    assert proba.shape == (90, 3)
    assert_allclose(proba.sum(axis=1), 1.0)
    without = [m for m in cv.estimators_ if 2 not in m.classes_]
    assert len(without) == 1  # the fold model that held out the rare rows


def test_default_grid_and_estimator():
    cv = MLPClassifierCV()
    assert cv._base_estimator().get_params() == TabularMLPClassifier().get_params()


def test_estimator_without_x_val_is_refused():
    X, y = make_classification(60, 4, random_state=0)
    with pytest.raises(ValueError, match="no X_val parameter"):
        MLPClassifierCV({"C": [1.0]}, estimator=LogisticRegression()).fit(X, y)


def test_pipeline_cross_val_score_and_grid_search():
    X, y = make_classification(120, 4, random_state=0)
    pipe = make_pipeline(StandardScaler(), small_classifier_cv(random_state=0))
    assert cross_val_score(pipe, X, y, cv=2).shape == (2,)
    search = GridSearchCV(small_classifier_cv(random_state=0), {"cv": [2, 3]}, cv=2)
    search.fit(X, y)
    assert search.best_estimator_.n_splits_ == search.best_params_["cv"]


def test_scoring_is_used_for_selection():
    X, y = make_classification(150, 5, random_state=0)
    cv = small_classifier_cv(random_state=0, scoring="accuracy").fit(X, y)
    scores = cv.cv_results_["mean_test_score"]
    assert np.all((scores >= 0) & (scores <= 1))  # accuracies, not log-losses
