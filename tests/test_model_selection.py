"""cross_validate with several scorers; validation_curve and learning_curve over
alpha, dropout and max_iter, on scikit-learn's breast cancer and diabetes data.

The curves are checked for the properties their theory predicts (a stronger
penalty fits the training data less well, more epochs fit it better, more data
generalizes better), with a tolerance for the noise of stochastic training.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    log_loss,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)
from sklearn.model_selection import (
    StratifiedKFold,
    cross_validate,
    learning_curve,
    validation_curve,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def breast_cancer():
    return load_breast_cancer(return_X_y=True)


def _classifier(**params):
    params = {
        "hidden_layer_sizes": (32,),
        "max_iter": 40,
        "learning_rate_init": 0.01,
        "random_state": 0,
        **params,
    }
    return make_pipeline(StandardScaler(), MLPClassifier(**params))


@pytest.mark.slow
def test_cross_validate_several_scorers_classifier(breast_cancer):
    X, y = breast_cancer
    scoring = ["accuracy", "balanced_accuracy", "roc_auc", "neg_log_loss"]
    result = cross_validate(
        _classifier(dropout=0.2),
        X,
        y,
        cv=5,
        scoring=scoring,
        return_train_score=True,
        return_estimator=True,
        return_indices=True,
        n_jobs=2,
        error_score="raise",
    )
    for name in scoring:
        assert result[f"test_{name}"].shape == result[f"train_{name}"].shape == (5,)
    majority = np.bincount(y).max() / len(y)
    assert result["test_accuracy"].mean() > majority + 0.25
    assert result["test_roc_auc"].min() > 0.95
    assert np.all(result["test_neg_log_loss"] < 0)
    # each scorer's value is the metric of that fold's fitted estimator
    for i, (estimator, test) in enumerate(
        zip(result["estimator"], result["indices"]["test"], strict=True)
    ):
        proba = estimator.predict_proba(X[test])
        pred = estimator.predict(X[test])
        assert result["test_accuracy"][i] == accuracy_score(y[test], pred)
        assert result["test_balanced_accuracy"][i] == balanced_accuracy_score(
            y[test], pred
        )
        assert_allclose(result["test_roc_auc"][i], roc_auc_score(y[test], proba[:, 1]))
        assert_allclose(result["test_neg_log_loss"][i], -log_loss(y[test], proba))
    # folds are stratified: each test fold has the class balance of y
    for test in result["indices"]["test"]:
        assert abs(y[test].mean() - y.mean()) < 0.02


def test_cross_validate_several_scorers_regressor():
    X, y = load_diabetes(return_X_y=True)
    y = y / y.std()
    model = make_pipeline(
        StandardScaler(),
        MLPRegressor(
            hidden_layer_sizes=(16,),
            max_iter=100,
            learning_rate_init=0.01,
            alpha=1e-3,
            random_state=0,
        ),
    )
    result = cross_validate(
        model,
        X,
        y,
        cv=4,
        scoring=["r2", "neg_mean_squared_error", "neg_mean_absolute_error"],
        return_estimator=True,
        return_indices=True,
        error_score="raise",
    )
    assert result["test_r2"].mean() > 0.3
    assert np.all(result["test_neg_mean_absolute_error"] < 0)
    for i, (estimator, test) in enumerate(
        zip(result["estimator"], result["indices"]["test"], strict=True)
    ):
        mse = mean_squared_error(y[test], estimator.predict(X[test]))
        assert_allclose(-result["test_neg_mean_squared_error"][i], mse)
        # R^2 and MSE agree: R^2 = 1 - MSE / Var(y_test)
        assert_allclose(result["test_r2"][i], 1 - mse / y[test].var())
        assert_allclose(
            result["test_r2"][i], r2_score(y[test], estimator.predict(X[test]))
        )


def _mean_curves(train_scores, test_scores):
    return train_scores.mean(axis=1), test_scores.mean(axis=1)


def test_validation_curve_alpha(breast_cancer):
    X, y = breast_cancer
    alphas = [1e-5, 1e-3, 1e-1, 1.0, 10.0]
    train, test = validation_curve(
        _classifier(),
        X,
        y,
        param_name="mlpclassifier__alpha",
        param_range=alphas,
        cv=StratifiedKFold(3),
        scoring="neg_log_loss",
        n_jobs=2,
        error_score="raise",
    )
    assert train.shape == test.shape == (len(alphas), 3)
    train_mean, test_mean = _mean_curves(train, test)
    # a stronger penalty fits the training data less well
    assert np.all(np.diff(train_mean) < 1e-3)
    assert train_mean[-1] < train_mean[0] - 0.3
    # with alpha=10 the weights are ~0: the model predicts the class prior,
    # whose log loss is the entropy of the labels
    prior = np.bincount(y) / len(y)
    entropy = -(prior * np.log(prior)).sum()
    assert_allclose(-train_mean[-1], entropy, atol=0.05)
    assert_allclose(-test_mean[-1], entropy, atol=0.05)
    # and a small penalty generalizes much better than that
    assert test_mean[0] > -0.5 * entropy


@pytest.mark.slow
def test_validation_curve_dropout(breast_cancer):
    X, y = breast_cancer
    rates = [0.0, 0.3, 0.6, 0.9]
    train, test = validation_curve(
        _classifier(hidden_layer_sizes=(64,), max_iter=60),
        X,
        y,
        param_name="mlpclassifier__dropout",
        param_range=rates,
        cv=StratifiedKFold(3),
        scoring="neg_log_loss",
        n_jobs=2,
        error_score="raise",
    )
    assert train.shape == test.shape == (len(rates), 3)
    train_mean, test_mean = _mean_curves(train, test)
    # dropout fights memorization: the training fit gets worse as the rate
    # grows, and so does the gap between training and test loss
    assert np.all(np.diff(train_mean) < 0.01)
    assert train_mean[-1] < train_mean[0]
    gap = train_mean - test_mean
    assert gap[-1] < gap[0]
    # even a rate of 0.9 still learns: far better than the class prior
    prior = np.bincount(y) / len(y)
    assert test_mean[-1] > 0.5 * (prior * np.log(prior)).sum()


@pytest.mark.slow
def test_validation_curve_max_iter(breast_cancer):
    X, y = breast_cancer
    epochs = [1, 3, 10, 40]
    train, test = validation_curve(
        _classifier(learning_rate_init=1e-3),
        X,
        y,
        param_name="mlpclassifier__max_iter",
        param_range=epochs,
        cv=StratifiedKFold(3),
        scoring="neg_log_loss",
        error_score="raise",
    )
    assert train.shape == test.shape == (len(epochs), 3)
    train_mean, test_mean = _mean_curves(train, test)
    # same seed, more epochs: the training loss keeps falling
    assert np.all(np.diff(train_mean) > 0)
    assert test_mean[-1] > test_mean[0]


def test_learning_curve(breast_cancer):
    X, y = breast_cancer
    sizes = np.linspace(0.1, 1.0, 4)
    train_sizes, train, test, fit_times, _ = learning_curve(
        _classifier(),
        X,
        y,
        train_sizes=sizes,
        cv=StratifiedKFold(3),
        scoring="accuracy",
        shuffle=True,
        random_state=0,
        return_times=True,
        n_jobs=2,
        error_score="raise",
    )
    n_train = min(len(train) for train, _ in StratifiedKFold(3).split(X, y))
    assert_array_equal(train_sizes, (sizes * n_train).astype(int))
    assert train.shape == test.shape == fit_times.shape == (len(sizes), 3)
    train_mean, test_mean = _mean_curves(train, test)
    # more data generalizes better, and is harder to fit perfectly
    assert test_mean[-1] > test_mean[0]
    assert train_mean[-1] <= train_mean[0]
    assert test_mean[-1] > np.bincount(y).max() / len(y) + 0.25


def test_learning_curve_incremental_uses_partial_fit(breast_cancer):
    X, y = breast_cancer
    model = MLPClassifier(
        hidden_layer_sizes=(32,), learning_rate_init=0.01, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    sizes = np.linspace(0.2, 1.0, 3)
    train_sizes, train, test = learning_curve(
        model,
        X,
        y,
        train_sizes=sizes,
        cv=StratifiedKFold(3),
        exploit_incremental_learning=True,
        shuffle=True,
        random_state=0,
        error_score="raise",
    )
    assert train.shape == test.shape == (3, 3)
    # one partial_fit epoch per chunk: already far above the majority class
    assert test.mean(axis=1)[-1] > np.bincount(y).max() / len(y) + 0.2
