"""The rules a fit follows that no other test pins (issue 16, item 5).

The "auto" thresholds of dtype and early stopping; sample weights normalized
within each mini-batch; class weights multiplied into sample weights; warm
starts after changing alpha, dropout or dtype; partial_fit holding no rows
out; and that multilabel, multi-output and probability outputs learn what
they should (scores against baselines, not only shapes).
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import (
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, f1_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# binary classification with 10 % flipped labels
BINARY = dict(n_features=5, n_informative=3, n_redundant=0, flip_y=0.1)


def _binary(n_samples=400, seed=0):
    X, y = make_classification(n_samples, random_state=seed, **BINARY)
    return StandardScaler().fit_transform(X), y


# --------------------------------------------------------------------------
# the "auto" thresholds


@pytest.mark.parametrize(
    "n_samples, X_dtype, trained_in",
    [
        (1000, np.float64, np.float64),
        (1001, np.float64, np.float32),
        (50, np.float32, np.float32),
    ],
)
def test_dtype_auto_trains_in_float32_above_1000_rows_or_for_float32_input(
    n_samples, X_dtype, trained_in
):
    X, y = _binary(n_samples)
    est = MLPRegressor(hidden_layer_sizes=(3,), max_iter=1, random_state=0)
    est.fit(X.astype(X_dtype), y.astype(float))
    assert all(coef.dtype == trained_in for coef in est.coefs_)


@pytest.mark.parametrize("n_samples, monitored", [(10_000, False), (10_001, True)])
def test_early_stopping_auto_turns_on_above_10000_rows(n_samples, monitored):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, 2)).astype(np.float32)
    y = X[:, 0] + 0.1 * rng.normal(size=n_samples)
    est = MLPRegressor(
        hidden_layer_sizes=(2,), max_iter=1, early_stopping="auto", random_state=0
    ).fit(X, y)
    assert (est.validation_scores_ is not None) == monitored
    # the split holds 10 % out of training
    n_validation = int(np.ceil(0.1 * n_samples)) if monitored else 0
    assert est.t_ == n_samples - n_validation


# --------------------------------------------------------------------------
# sample and class weights


def _sgd_fit(X, y, sample_weight, **params):
    """SGD without momentum or shuffling: each step is one batch's gradient."""
    est = MLPClassifier(
        hidden_layer_sizes=(4,),
        solver="sgd",
        momentum=0.0,
        shuffle=False,
        max_iter=3,
        random_state=0,
        **params,
    )
    return est.fit(X, y, sample_weight=sample_weight)


def test_sample_weights_are_normalized_within_each_mini_batch():
    """A batch's loss is the weighted mean over its own rows: scaling all the
    weights of one batch leaves the fit unchanged (by 8, a power of two, so
    exactly), while moving weight between rows of a batch changes it."""
    X, y = _binary(200)
    ones = np.ones(200)
    second_batch_heavier = np.where(np.arange(200) >= 100, 8.0, 1.0)
    reference = _sgd_fit(X, y, ones, batch_size=100)
    scaled = _sgd_fit(X, y, second_batch_heavier, batch_size=100)
    for a, b in zip(reference.coefs_, scaled.coefs_, strict=True):
        assert_array_equal(a, b)
    # the same weights over one batch of all the rows do matter
    whole = _sgd_fit(X, y, ones, batch_size=200)
    whole_scaled = _sgd_fit(X, y, second_batch_heavier, batch_size=200)
    assert not np.allclose(whole.coefs_[0], whole_scaled.coefs_[0])


def test_class_weight_multiplies_sample_weight():
    X, y = _binary(200)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, 200)
    class_weight = {0: 3.0, 1: 0.5}
    both = _sgd_fit(X, y, sw, class_weight=class_weight, batch_size=50)
    product = _sgd_fit(X, y, sw * np.where(y == 0, 3.0, 0.5), batch_size=50)
    for a, b in zip(both.coefs_, product.coefs_, strict=True):
        assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    alone = _sgd_fit(X, y, sw, batch_size=50)
    assert not np.allclose(both.coefs_[0], alone.coefs_[0])


# --------------------------------------------------------------------------
# warm starts after changing parameters


def _warm(est, X, y, **changes):
    est.set_params(warm_start=True, **changes)
    return est.fit(X, y)


@pytest.mark.parametrize(
    "changes", [dict(alpha=1.0), dict(dropout=0.5), dict(dtype="float32")], ids=str
)
def test_a_warm_start_after_a_change_continues_from_the_fitted_weights(changes):
    X, y = _binary()
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    est.fit(X, y)
    before = [coef.copy() for coef in est.coefs_]
    _warm(est, X, y, max_iter=1, learning_rate_init=1e-12, **changes)
    for now, then in zip(est.coefs_, before, strict=True):
        assert_allclose(now, then, rtol=0, atol=1e-6)  # float32 rounding at most
    expected_dtype = np.float32 if changes.get("dtype") == "float32" else np.float64
    assert est.coefs_[0].dtype == expected_dtype


def test_a_warm_start_trains_with_the_new_alpha():
    X, y = _binary()
    params = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    step = dict(learning_rate_init=0.01)
    same = _warm(MLPClassifier(**params).fit(X, y), X, y, **step)
    larger = _warm(MLPClassifier(**params).fit(X, y), X, y, alpha=10.0, **step)

    def norm(est):
        return sum(float(np.sum(c**2)) for c in est.coefs_)

    assert norm(larger) < 0.5 * norm(same)


# --------------------------------------------------------------------------
# partial_fit


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_partial_fit_with_early_stopping_trains_on_every_row(Estimator):
    X, y = _binary(150)
    est = Estimator(hidden_layer_sizes=(4,), early_stopping=True, random_state=0)
    kwargs = {"classes": np.unique(y)} if Estimator is MLPClassifier else {}
    est.partial_fit(X, y, **kwargs)
    assert est.t_ == 150
    assert est.validation_scores_ is None
    est.partial_fit(X, y)
    assert est.t_ == 300


# --------------------------------------------------------------------------
# every kind of target learns


def test_multilabel_classifier_learns():
    X, Y = make_multilabel_classification(
        n_samples=600, n_features=10, n_classes=4, random_state=0
    )
    X = StandardScaler().fit_transform(X)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)
    est = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
    predicted = est.fit(X_train, Y_train).predict(X_test)
    baseline = DummyClassifier(strategy="most_frequent").fit(X_train, Y_train)
    skreg_f1 = f1_score(Y_test, predicted, average="micro")
    dummy_f1 = f1_score(Y_test, baseline.predict(X_test), average="micro")
    assert skreg_f1 > 0.7 and skreg_f1 > dummy_f1 + 0.15


def test_multi_output_regressor_learns_every_output():
    X, Y = make_regression(
        n_samples=400, n_features=6, n_targets=3, noise=5.0, random_state=0
    )
    Y = Y / Y.std(axis=0)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)
    est = MLPRegressor(hidden_layer_sizes=(32,), max_iter=500, random_state=0)
    predicted = est.fit(X_train, Y_train).predict(X_test)
    assert np.all(r2_score(Y_test, predicted, multioutput="raw_values") > 0.9)


def test_probabilities_are_calibrated_like_logistic_regression():
    """Labels drawn from a logistic model: logistic regression is the
    well-specified model, and the network's probabilities score a Brier loss
    close to its own (and to that of the true probabilities)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 4))
    p_true = 1 / (1 + np.exp(-(X @ np.array([1.5, -1.0, 0.5, 0.0]))))
    y = (rng.random(3000) < p_true).astype(int)
    X_train, X_test, y_train, y_test, _, p_test = train_test_split(
        X, y, p_true, test_size=1000, random_state=0
    )
    est = MLPClassifier(hidden_layer_sizes=(16,), random_state=0).fit(X_train, y_train)
    logistic = LogisticRegression().fit(X_train, y_train)
    brier = brier_score_loss(y_test, est.predict_proba(X_test)[:, 1])
    reference = brier_score_loss(y_test, logistic.predict_proba(X_test)[:, 1])
    assert brier < reference + 0.005
    assert brier < brier_score_loss(y_test, p_test) + 0.01
    # and not merely accurate: a constant prediction scores far worse
    assert brier < brier_score_loss(y_test, np.full(1000, y_train.mean())) - 0.05
