"""What a fitted model holds, and how later calls and set_params change it.

Predictions come from the fitted arrays and the settings of the fit; the
validation attributes describe the fits that monitored a validation set; the
early-stopping scorer sees the network being trained through a stand-in that
answers like the estimator.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_diabetes, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, roc_auc_score

from skreg import LossCurveDisplay, MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _classification(n_classes=2):
    return make_classification(
        n_samples=240,
        n_features=6,
        n_informative=4,
        n_classes=n_classes,
        random_state=0,
    )


def _regression():
    X, y = make_regression(n_samples=240, n_features=6, noise=5.0, random_state=0)
    return X, y / np.std(y)


# --------------------------------------------------------------------------
# predictions use the fitted settings


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_set_params_after_fit_does_not_change_predictions(Estimator):
    X, y = _classification() if Estimator is MLPClassifier else _regression()
    est = Estimator(
        hidden_layer_sizes=(8,), dropout=0.2, max_iter=20, random_state=0
    ).fit(X, y)
    pred = est.predict(X)
    samples = est.sample_predictions(X, n_samples=5, random_state=0)
    # what a search does to a fitted clone: other depth, per-layer lists, activation
    est.set_params(
        hidden_layer_sizes=(8, 8),
        dropout=[0.5, 0.1],
        dropconnect=[0.0, 0.3, 0.0],
        input_dropout=0.3,
        activation="tanh",
    )
    assert_array_equal(est.predict(X), pred)
    assert_array_equal(est.sample_predictions(X, n_samples=5, random_state=0), samples)


def test_return_std_follows_the_fitted_dropout():
    X, y = _regression()
    plain = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    plain.set_params(dropout=0.5)  # masks at predict time need a fitted dropout
    with pytest.warns(UserWarning, match="network is deterministic"):
        _, std = plain.predict(X, return_std=True)
    assert_array_equal(std, 0.0)


# --------------------------------------------------------------------------
# validation attributes


def _fit_quietly(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def test_validation_curves_end_with_a_fit_that_monitors_none():
    X, y = _classification()
    X_val, y_val = X[:60], y[:60]
    est = MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=3, warm_start=True, random_state=0
    )
    _fit_quietly(est, X, y, X_val=X_val, y_val=y_val)
    assert len(est.validation_scores_) == len(est.loss_curve_) == 3
    _fit_quietly(est, X, y)  # warm start, no validation set
    assert len(est.loss_curve_) == 6
    assert est.validation_scores_ is None
    assert est.validation_loss_curve_ is None
    assert est.best_validation_score_ is None
    # monitored again: the validation curve covers the last epochs only
    _fit_quietly(est, X, y, X_val=X_val, y_val=y_val)
    assert len(est.loss_curve_) == 9
    assert len(est.validation_scores_) == len(est.validation_loss_curve_) == 3
    assert est.best_validation_score_ == max(est.validation_scores_)


def test_partial_fit_after_early_stopping_clears_the_validation_attributes():
    X, y = _classification()
    est = MLPClassifier(
        hidden_layer_sizes=(8,), early_stopping=True, max_iter=5, random_state=0
    )
    _fit_quietly(est, X, y)
    assert est.validation_scores_ is not None and est.best_loss_ is None
    est.partial_fit(X, y)
    assert est.validation_scores_ is None
    assert est.validation_loss_curve_ is None
    assert est.best_validation_score_ is None
    assert est.best_loss_ == min(est.loss_curve_)


def test_loss_curve_display_aligns_validation_with_the_last_epochs():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    X, y = _classification()
    est = MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=4, warm_start=True, random_state=0
    )
    _fit_quietly(est, X, y)
    _fit_quietly(est, X, y, X_val=X[:60], y_val=y[:60])
    display = LossCurveDisplay.from_estimator(est)
    epochs = display.lines_["validation_loss"].get_xdata()
    assert_array_equal(epochs, [5, 6, 7, 8])
    assert_allclose(
        display.lines_["validation_loss"].get_ydata(), est.validation_loss_curve_
    )


# --------------------------------------------------------------------------
# scorers see the network being trained


def _monitored_fit(Estimator, X, y, scoring):
    """A 4-epoch fit on ``X[80:]`` that monitors ``X[:80]`` with ``scoring``;
    without early stopping the last epoch's score belongs to the final weights."""
    est = Estimator(
        hidden_layer_sizes=(8,),
        early_stopping=False,
        scoring=scoring,
        max_iter=4,
        random_state=0,
    )
    return _fit_quietly(est, X[80:], y[80:], X_val=X[:80], y_val=y[:80])


@pytest.mark.parametrize(
    ("scoring", "metric"),
    [("roc_auc", roc_auc_score), ("average_precision", average_precision_score)],
)
def test_threshold_scorers_score_the_probabilities(scoring, metric):
    X, y = _classification()
    X_val, y_val = X[:80], y[:80]
    est = _monitored_fit(MLPClassifier, X, y, scoring)
    expected = metric(y_val, est.predict_proba(X_val)[:, 1])
    assert_allclose(est.validation_scores_[-1], expected, rtol=1e-6)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_a_callable_scorer_can_call_score(Estimator):
    X, y = _classification() if Estimator is MLPClassifier else _regression()
    X_val, y_val = X[:80], y[:80]
    est = _monitored_fit(Estimator, X, y, lambda estimator, X, y: estimator.score(X, y))
    assert_allclose(est.validation_scores_[-1], est.score(X_val, y_val), rtol=1e-6)


def test_a_callable_scorer_sees_what_the_estimator_offers():
    X, y = _classification(n_classes=3)
    X_val, y_val = X[:80], y[:80]
    seen = {}

    def mean_log_proba(estimator, X, y):
        seen.update(
            n_features=estimator.n_features_in_,
            alpha=estimator.get_params()["alpha"],
        )
        log_proba = estimator.predict_log_proba(X)
        return float(np.mean(log_proba[np.arange(len(y)), y]))

    est = _monitored_fit(MLPClassifier, X, y, mean_log_proba)
    assert seen == {"n_features": 6, "alpha": est.alpha}
    expected = mean_log_proba(est, X_val, y_val)
    assert_allclose(est.validation_scores_[-1], expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("Estimator", "scoring", "message"),
    [
        # a metric of the other task: refused before training
        (MLPRegressor, "accuracy", "must be a regression scorer or 'loss'"),
        # a metric of the task that these targets break (3 classes)
        (MLPClassifier, "roc_auc", "scoring='roc_auc' failed on the"),
    ],
)
def test_a_scoring_unfit_for_the_targets_is_named(Estimator, scoring, message):
    X, y = _classification(n_classes=3) if Estimator is MLPClassifier else _regression()
    est = Estimator(hidden_layer_sizes=(4,), early_stopping=True, scoring=scoring)
    with pytest.raises(ValueError, match=message) as info:
        est.fit(X, y)
    assert "'loss'" in str(info.value)
    assert not hasattr(est, "n_iter_")  # the failed fit left nothing behind


def test_a_scorer_is_only_asked_about_trained_epochs():
    # mean squared log error refuses predictions <= -1, which these initial
    # weights give on the validation set; from the first epoch on they are
    # in range
    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    params = dict(hidden_layer_sizes=(50,), random_state=1)
    # the precondition: the initial weights (a vanishing step leaves them)
    initial = _fit_quietly(
        MLPRegressor(**params, learning_rate_init=1e-12, max_iter=1), X, y
    )
    assert initial.predict(X).min() <= -1
    est = MLPRegressor(
        **params,
        early_stopping=True,
        scoring="neg_mean_squared_log_error",
        learning_rate_init=0.01,
        max_iter=5,
    )
    _fit_quietly(est, X, y, X_val=X, y_val=y)
    assert len(est.validation_scores_) == est.n_iter_ == 5


@pytest.mark.parametrize(
    ("y_shape", "y_val_shape"), [((1,), (3,)), ((2,), ()), ((2,), (3,))]
)
def test_y_val_needs_the_outputs_of_y(y_shape, y_val_shape):
    X, y = _regression()
    Y = np.tile(y[:, None], y_shape) if y_shape != (1,) else y
    Y_val = np.tile(y[:80, None], y_val_shape) if y_val_shape else y[:80]
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2)
    with pytest.raises(ValueError, match="y_val needs the outputs of y"):
        est.fit(X, Y, X_val=X[:80], y_val=Y_val)


def test_a_column_y_val_is_accepted_for_a_1d_y():
    X, y = _regression()
    params = dict(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    flat = _fit_quietly(MLPRegressor(**params), X, y, X_val=X[:80], y_val=y[:80])
    column = _fit_quietly(
        MLPRegressor(**params), X, y, X_val=X[:80], y_val=y[:80, None]
    )
    assert flat.validation_loss_curve_ == column.validation_loss_curve_


@pytest.mark.parametrize("weight", [np.nan, np.inf])
def test_class_weight_must_be_finite(weight):
    X, y = _classification()
    est = MLPClassifier(hidden_layer_sizes=(4,), class_weight={0: weight, 1: 1.0})
    with pytest.raises(ValueError, match="class_weight gives some samples a NaN"):
        est.fit(X, y)


# --------------------------------------------------------------------------
# multilabel partial_fit


def test_multilabel_partial_fit_learns_like_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    Y = (X[:, :3] + 0.3 * rng.normal(size=(300, 3)) > 0).astype(int)
    params = dict(hidden_layer_sizes=(16,), random_state=0)
    est = MLPClassifier(**params)
    est.partial_fit(X, Y, classes=[0, 1, 2])
    assert_array_equal(est.classes_, [0, 1, 2])
    for _ in range(9):
        est.partial_fit(X, Y)
    # one epoch per call over the same data: the fit of as many epochs
    fitted = _fit_quietly(MLPClassifier(**params, max_iter=10), X, Y)
    for a, b in zip(est.coefs_, fitted.coefs_, strict=True):
        assert_array_equal(a, b)
    assert est.predict_proba(X).shape == est.predict(X).shape == (300, 3)
    assert_array_equal(est.predict(X), fitted.predict(X))


def test_set_params_loss_after_fit_does_not_change_predictions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    est = MLPRegressor(
        hidden_layer_sizes=(8,), loss="poisson", max_iter=20, random_state=0
    ).fit(X, y)
    pred = est.predict(X)
    est.set_params(loss="squared_error")
    assert_array_equal(est.predict(X), pred)
    assert est.out_activation_ == "exp"


def test_lbfgs_warm_start_clears_the_validation_attributes():
    X, y = _classification()
    est = MLPClassifier(
        hidden_layer_sizes=(8,), early_stopping=True, max_iter=5, random_state=0
    )
    _fit_quietly(est, X, y)
    assert est.validation_scores_ is not None
    est.set_params(warm_start=True, solver="lbfgs", max_iter=5)
    _fit_quietly(est, X, y)
    assert est.validation_scores_ is None
    assert est.validation_loss_curve_ is None
    assert est.best_validation_score_ is None
    assert est.best_loss_ == min(est.loss_curve_)


def test_a_batch_norm_refusal_leaves_the_fitted_model_alone():
    X, y = _classification()
    est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    _fit_quietly(est, X, y)
    pred, curve = est.predict(X), list(est.loss_curve_)
    est.set_params(batch_norm=True, batch_size=1)
    with pytest.raises(ValueError, match="batch_norm needs mini-batches"):
        est.fit(X, y + 5)
    assert_array_equal(est.classes_, [0, 1])
    assert_array_equal(est.predict(X), pred)
    assert est.loss_curve_ == curve


def test_x_val_without_early_stopping_does_not_change_training():
    """X_val is only recorded then: patience runs on the training loss alone."""
    X, y = _regression()
    params = dict(hidden_layer_sizes=(8,), tol=1e-2, n_iter_no_change=3)
    plain = _fit_quietly(MLPRegressor(**params, random_state=0), X, y)
    monitored = _fit_quietly(
        MLPRegressor(**params, early_stopping=False, random_state=0),
        X,
        y,
        X_val=X[:50],
        y_val=y[:50],
    )
    assert plain.n_iter_ < plain.max_iter  # stopped by patience
    assert monitored.n_iter_ == plain.n_iter_
    assert monitored.loss_curve_ == plain.loss_curve_
    assert len(monitored.validation_scores_) == monitored.n_iter_


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_warm_start_that_diverges_at_once_reports_no_best_score():
    X, y = _regression()
    est = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        batch_size=10,  # many steps per epoch: inf within the first
        max_iter=3,
        warm_start=True,
        random_state=0,
    )
    _fit_quietly(est, X, y, X_val=X[:50], y_val=y[:50])
    est.set_params(learning_rate_init=1e6)
    _fit_quietly(est, X, 1e6 * y, X_val=X[:50], y_val=1e6 * y[:50])
    assert est.n_iter_ == 0  # diverged in its first epoch
    assert est.best_validation_score_ is None


def test_validation_fraction_zero_holds_out_nothing():
    X, y = _classification()
    X = np.tile(X, (50, 1))[:10_001]  # over 'auto''s 10,000-row threshold
    y = np.tile(y, 50)[:10_001]
    params = dict(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    auto = MLPClassifier(validation_fraction=0.0, early_stopping="auto", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "turned off" warning
        warnings.simplefilter("ignore", ConvergenceWarning)
        auto.fit(X, y)
    assert auto.validation_scores_ is None
    with pytest.warns(UserWarning, match="gives 0 validation"):
        forced = MLPClassifier(validation_fraction=0.0, early_stopping=True, **params)
        _fit_quietly(forced, X, y)
    assert forced.validation_scores_ is None
    assert forced.loss_curve_ == auto.loss_curve_


# --------------------------------------------------------------------------
# a validation set that missed the training data's preprocessing


def _fit_recording(est, *args, **kwargs):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        est.fit(*args, **kwargs)
    return [
        str(w.message) for w in record if "does not look preprocessed" in str(w.message)
    ]


@pytest.mark.parametrize(
    ("transform", "warned"),
    [
        (lambda X: X, False),
        (lambda X: X + 0.5, False),  # drift of half a standard deviation
        (lambda X: 100 * X, True),  # another scale
        (lambda X: X + 50, True),  # another centre
    ],
)
def test_an_unprocessed_X_val_is_warned_about(transform, warned):
    X, y = _classification()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    messages = _fit_recording(
        est, X[80:], y[80:], X_val=transform(X[:80]), y_val=y[:80]
    )
    assert bool(messages) == warned
    if warned:
        assert "X_val" in messages[0] and "transform_input" in messages[0]


def _one_hot_and_numeric(n, rng):
    """3 standardized columns and a one-hot of a long-tailed 50-level category."""
    levels = rng.zipf(1.5, size=n) % 50
    return np.hstack([rng.normal(size=(n, 3)), np.eye(50)[levels]])


@pytest.mark.parametrize("seed", range(5))
def test_processed_validation_sets_are_not_warned_about(seed):
    rng = np.random.default_rng(seed)
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    # indicator columns, most of them absent (constant) in a small X_val
    X = _one_hot_and_numeric(2050, rng)
    y = X[:, 0] + rng.normal(size=2050)
    assert not _fit_recording(est, X[:2000], y[:2000], X_val=X[2000:], y_val=y[2000:])
    # a later period of trending features and a trending target
    t = np.arange(1000.0)
    X = np.column_stack([t, np.sqrt(t + 1), np.log(t + 1), np.sin(t / 50)])
    y = np.log(t + 1) + rng.normal(scale=0.1, size=1000)
    assert not _fit_recording(est, X[:900], y[:900], X_val=X[900:], y_val=y[900:])
    # a few-valued target, and validation sets too small to judge
    y = rng.integers(1, 6, size=1000).astype(float)
    assert not _fit_recording(
        est, X[:900], y[:900], X_val=X[900:906], y_val=y[:6] * 0 + 3
    )


def test_y_val_on_another_scale_than_y_is_warned_about():
    X, y = _regression()  # y has unit variance
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    raw = 70 * y[:80] + 150  # as if y had been standardized and y_val not
    messages = _fit_recording(est, X[80:], y[80:], X_val=X[:80], y_val=raw)
    assert len(messages) == 1 and "TransformedTargetRegressor" in messages[0]
    assert not _fit_recording(est, X[80:], y[80:], X_val=X[:80], y_val=y[:80])


def test_a_scoring_the_regressor_cannot_use_is_named():
    X, y = _regression()
    est = MLPRegressor(
        hidden_layer_sizes=(4,), early_stopping=True, scoring="neg_log_loss"
    )
    # a classification metric: refused before training, with what to use
    with pytest.raises(ValueError, match="Got 'neg_log_loss' instead, a metric for"):
        est.fit(X, y)
    assert not hasattr(est, "n_iter_")


# --------------------------------------------------------------------------
# prediction dtype


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_predictions_come_in_the_float_dtype_of_X(Estimator):
    """float32 in, float32 out (as scikit-learn's MLP); computed in float64
    all the same, so a float32 prediction is the float64 one rounded once."""
    X, y = _classification() if Estimator is MLPClassifier else _regression()
    est = Estimator(hidden_layer_sizes=(8,), dropout=0.2, max_iter=5, random_state=0)
    est.fit(X, y)
    X32 = X.astype(np.float32)
    methods = ["predict_proba", "predict_log_proba"]
    if Estimator is MLPRegressor:
        methods = ["predict"]
    for method in methods:
        out32 = getattr(est, method)(X32)
        out64 = getattr(est, method)(X32.astype(np.float64))
        assert out32.dtype == np.float32, method
        assert out64.dtype == np.float64, method
        assert_array_equal(out32, out64.astype(np.float32))
    assert getattr(est, methods[0])(np.round(X).astype(int)).dtype == np.float64
    samples = est.sample_predictions(X32, n_samples=2, random_state=0)
    assert samples.dtype == np.float32
    if Estimator is MLPRegressor:
        mean, std = est.predict(X32, return_std=True)
        assert mean.dtype == std.dtype == np.float32
