"""TabularMLPClassifier and TabularMLPRegressor: preprocessing and recipe."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import TabularMLPClassifier, TabularMLPRegressor

SMALL = {"hidden_layer_sizes": (32,), "max_iter": 200, "n_iter_no_change": 10}
RANDOM_SPLIT = (
    "the validation split is drawn over rows: repeated copies of a row fall on "
    "both sides of it, while a weighted row falls on one side."
)


def _expected_failures(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": RANDOM_SPLIT,
    }


@parametrize_with_checks(
    [TabularMLPClassifier(**SMALL), TabularMLPRegressor(**SMALL)],
    expected_failed_checks=_expected_failures,
)
def test_estimator_checks(estimator, check):
    check(estimator)


def _mixed_frame(n=200, seed=0):
    """A DataFrame with two numeric columns and a string category."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["blue", "green", "red"], size=n)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = ((colour == "red") ^ (x1 > 0)).astype(int)
    frame = pd.DataFrame({"x1": x1, "colour": pd.Categorical(colour), "x2": x2})
    return frame, y


def test_categorical_from_dtype_one_hot_encodes_the_category_columns():
    X, y = _mixed_frame()
    clf = TabularMLPClassifier(**SMALL, random_state=0).fit(X, y)
    # 3 one-hot columns + 2 scaled numeric ones
    assert clf.mlp_.n_features_in_ == 5
    assert_array_equal(clf.feature_names_in_, ["x1", "colour", "x2"])
    assert clf.score(X, y) > 0.9  # needs the category: it decides half of y


def test_categorical_by_index_equals_from_dtype():
    X, y = _mixed_frame()
    codes = X.assign(colour=X["colour"].cat.codes.astype(float)).to_numpy()
    by_dtype = TabularMLPClassifier(**SMALL, random_state=0).fit(X, y)
    by_index = TabularMLPClassifier(
        **SMALL, random_state=0, categorical_features=[1]
    ).fit(codes, y)
    by_mask = TabularMLPClassifier(
        **SMALL, random_state=0, categorical_features=[False, True, False]
    ).fit(codes, y)
    # same one-hot columns in the same order: the same network, bit for bit
    assert_array_equal(by_dtype.predict_proba(X), by_index.predict_proba(codes))
    assert_array_equal(by_index.predict_proba(codes), by_mask.predict_proba(codes))


def test_categorical_by_name_and_unseen_category():
    X, y = _mixed_frame()
    clf = TabularMLPClassifier(**SMALL, random_state=0, categorical_features=["colour"])
    clf.fit(X, y)
    unseen = X.head(3).assign(colour=pd.Categorical(["purple"] * 3))
    assert clf.predict_proba(unseen).shape == (3, 2)


@pytest.mark.parametrize(
    "spec, message",
    [
        ([5], "indices in"),
        ([True, False], "boolean mask needs 3"),
    ],
)
def test_bad_categorical_features_are_refused(spec, message):
    X, y = _mixed_frame(50)
    codes = X.assign(colour=X["colour"].cat.codes).to_numpy(dtype=float)
    with pytest.raises(ValueError, match=message):
        TabularMLPClassifier(**SMALL, categorical_features=spec).fit(codes, y)


def test_empty_categorical_features_means_all_numeric():
    X, y = make_classification(60, 4, random_state=0)
    clf = TabularMLPClassifier(**SMALL, categorical_features=[]).fit(X, y)
    assert clf.mlp_.n_features_in_ == 4


def test_categorical_names_need_a_dataframe():
    X, y = _mixed_frame(50)
    with pytest.raises(ValueError, match="needs X as a DataFrame"):
        TabularMLPClassifier(**SMALL, categorical_features=["colour"]).fit(
            X.drop(columns="colour").to_numpy(), y
        )


def test_missing_values_are_imputed():
    X, y = make_classification(200, 5, random_state=0)
    X[::7, 2] = np.nan
    clf = TabularMLPClassifier(**SMALL, random_state=0).fit(X, y)
    assert np.all(np.isfinite(clf.predict_proba(X)))
    # five scaled columns and one missing-value indicator
    assert clf.mlp_.n_features_in_ == 6


def test_regression_targets_are_scaled_and_predictions_unscaled():
    X, y = make_regression(150, 4, noise=1.0, random_state=0)
    small = TabularMLPRegressor(**SMALL, random_state=0).fit(X, y)
    big = TabularMLPRegressor(**SMALL, random_state=0).fit(X, 1e5 * y + 3e5)
    # the network sees the same standardized targets (up to rounding)
    assert_allclose(big.predict(X), 1e5 * small.predict(X) + 3e5, rtol=1e-6)
    assert_allclose(big.target_mean_, [3e5 + 1e5 * y.mean()])
    assert_allclose(big.target_scale_, [1e5 * y.std()])
    unscaled = TabularMLPRegressor(**SMALL, random_state=0, scale_target=False)
    assert_array_equal(unscaled.fit(X, y).target_scale_, [1.0])


def test_multioutput_regression_scales_each_target():
    X, y = make_regression(150, 4, n_targets=2, random_state=0)
    y[:, 1] *= 1000
    reg = TabularMLPRegressor(**SMALL, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (150, 2)
    assert_allclose(reg.target_scale_, y.std(axis=0))


def test_same_random_state_same_model_bit_for_bit():
    X, y = make_classification(300, 6, random_state=0)
    first = TabularMLPClassifier(**SMALL, random_state=3).fit(X, y).predict_proba(X)
    second = TabularMLPClassifier(**SMALL, random_state=3).fit(X, y).predict_proba(X)
    other = TabularMLPClassifier(**SMALL, random_state=4).fit(X, y).predict_proba(X)
    assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_validation_set_drives_early_stopping():
    X, y = make_classification(300, 6, random_state=0)
    clf = TabularMLPClassifier(**SMALL, random_state=0)
    clf.fit(X[:200], y[:200], X_val=X[200:], y_val=y[200:])
    # every training row was used: no split of its own
    assert clf.mlp_.t_ == 200 * clf.n_iter_
    assert clf.best_iteration_ == 1 + int(np.argmax(clf.mlp_.validation_scores_))
    with pytest.raises(ValueError, match="passed together"):
        clf.fit(X, y, X_val=X)


def test_recipe_parameters_reach_the_network():
    X, y = make_classification(100, 4, random_state=0)
    clf = TabularMLPClassifier(
        **SMALL, beta_2=0.9, dropout=0.1, mlp_params={"batch_norm": True}
    ).fit(X, y)
    assert clf.mlp_.beta_2 == 0.9 and clf.mlp_.dropout == 0.1
    assert clf.mlp_.batch_norm is True and clf.mlp_.early_stopping is True


def test_mlp_params_may_not_shadow_own_parameters():
    X, y = make_classification(60, 4, random_state=0)
    with pytest.raises(ValueError, match=r"mlp_params sets \['dropout'\]"):
        TabularMLPClassifier(**SMALL, mlp_params={"dropout": 0.5}).fit(X, y)


def test_refused_fit_keeps_the_fitted_model():
    X, y = make_regression(80, 3, random_state=0)
    reg = TabularMLPRegressor(**SMALL, random_state=0).fit(X, y)
    before = reg.predict(X)
    bad = y.copy()
    bad[0] = np.nan
    with pytest.raises(ValueError):
        reg.fit(X, 10 * bad)
    assert_array_equal(reg.predict(X), before)


def test_pipeline_grid_search_and_cross_val_score():
    X, y = make_classification(150, 4, random_state=0)
    pipe = make_pipeline(
        FunctionTransformer(), TabularMLPClassifier(**SMALL, random_state=0)
    )
    search = GridSearchCV(pipe, {"tabularmlpclassifier__dropout": [0.0, 0.3]}, cv=2)
    search.fit(X, y)
    assert set(search.cv_results_["param_tabularmlpclassifier__dropout"]) == {0.0, 0.3}
    scores = cross_val_score(TabularMLPRegressor(**SMALL), X, y.astype(float), cv=2)
    assert scores.shape == (2,)
