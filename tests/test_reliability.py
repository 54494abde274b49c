"""Reliability (issue 4): divergence, Ctrl-C, no mutation, reproducibility,
n_jobs, numerically stable losses."""

import copy
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

import skreg._base
import skreg._training
from skreg import MLPClassifier, MLPRegressor
from skreg._diagnostics import warn_if_blown_up, zero_output_loss
from skreg._losses import LOSSES, BinaryLogLoss, MultinomialLogLoss

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=120, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    y_reg = X @ w + 0.1 * rng.normal(size=n)
    y_cls = np.digitize(X @ w, np.quantile(X @ w, [1 / 3, 2 / 3]))
    return X, y_reg, y_cls


def _weights(model):
    """Every fitted array that defines the model, flattened into one list."""
    arrays = [*model.coefs_, *model.intercepts_]
    for norm in model.batch_norm_params_:
        if norm is not None:
            arrays += [norm[key] for key in sorted(norm)]
    return arrays


def _all_finite(model):
    return all(np.all(np.isfinite(a)) for a in _weights(model))


# --------------------------------------------------------------------------
# divergence

DIVERGING = {
    "sgd-lr10": dict(solver="sgd", learning_rate_init=10.0),
    "sgd-lr10-float32": dict(solver="sgd", learning_rate_init=10.0, dtype="float32"),
    "sgd-lr1-two-layers": dict(
        solver="sgd", learning_rate_init=1.0, hidden_layer_sizes=(16, 16)
    ),
    "sgd-lr1-no-momentum": dict(solver="sgd", learning_rate_init=1.0, momentum=0.0),
}


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("params", DIVERGING.values(), ids=DIVERGING.keys())
def test_diverging_run_stops_warns_and_keeps_finite_weights(params):
    X, y, _ = _data()
    y = 1e6 * y + 1e6  # unscaled targets
    model = MLPRegressor(
        **{"hidden_layer_sizes": (8,), "max_iter": 50, "random_state": 0, **params}
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    diverged = [w for w in caught if "Training diverged" in str(w.message)]
    assert len(diverged) == 1
    assert diverged[0].category is RuntimeWarning
    message = str(diverged[0].message)
    # the warning says what to change
    for advice in (
        "Lower learning_rate_init",
        "scale the inputs",
        "targets",
        "solver='adam'",
    ):
        assert advice in message
    assert model.n_iter_ < 50  # stopped at once, not after max_iter epochs
    assert _all_finite(model)
    assert np.all(np.isfinite(model.predict(X)))
    assert np.all(np.isfinite(model.predict(X[:7] * 3.0)))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize(
    ("learning_rate", "keeps_best_epoch"), [(10.0, False), (1.0, True)]
)
def test_divergence_with_early_stopping_keeps_what_validates_better(
    learning_rate, keeps_best_epoch
):
    """The best validation epoch competes with the divergence fallback (the
    start of the lowest-loss epoch) on the validation set."""
    X, y, _ = _data()
    X_val, y_val = X[:40], y[:40]
    model = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=learning_rate,
        early_stopping=True,
        max_iter=50,
        random_state=0,
    )
    with pytest.warns(RuntimeWarning, match="Training diverged"):
        model.fit(X[40:], y[40:], X_val=X_val, y_val=y_val)
    kept_loss = 0.5 * np.mean((model.predict(X_val) - y_val) ** 2)
    best_epoch_loss = min(model.validation_loss_curve_)
    if keeps_best_epoch:  # here the first epoch validated well
        assert model.best_iteration_ == 1 + int(np.argmin(model.validation_loss_curve_))
        assert_allclose(kept_loss, best_epoch_loss, rtol=1e-9)
    else:  # every epoch's weights were already exploding
        assert model.best_iteration_ is None
        assert kept_loss < 1e-2 * best_epoch_loss


def test_a_blown_up_but_finite_loss_is_warned_about():
    X, y, _ = _data()
    model = MLPRegressor(
        hidden_layer_sizes=(8,), learning_rate_init=1e4, max_iter=20, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(RuntimeWarning, match="training did not settle"):
            model.fit(X, 1000 * y)
    assert np.all(np.isfinite(model.loss_curve_))


def test_a_blown_up_best_validation_epoch_is_warned_about():
    X, y, _ = _data(n=300)
    model = MLPRegressor(
        hidden_layer_sizes=(20,),
        learning_rate_init=1e3,
        max_iter=50,
        early_stopping=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(RuntimeWarning, match="best validation epoch.*never settled"):
            model.fit(X, y)
    # the weights kept are the best epoch's, however poor
    best = model.validation_loss_curve_[model.best_iteration_ - 1]
    assert best == min(model.validation_loss_curve_)


HEALTHY = {
    "default": (MLPRegressor, dict()),
    # the penalty (alpha is not divided by n) dominates the objective, while
    # the data term is near all-zero outputs': the objective alone would warn
    "strong-alpha": (MLPClassifier, dict(alpha=5.0, hidden_layer_sizes=(100,))),
    "weighted": (MLPRegressor, dict(sample_weight=True)),
    "dropout": (MLPRegressor, dict(dropout=0.5)),
    # a rough ride (the last epochs lose ground), but the best validation
    # epoch kept beats all-zero outputs
    "early-stopping": (
        MLPRegressor,
        dict(learning_rate_init=1.5, early_stopping=True),
    ),
}


@pytest.mark.parametrize(("Estimator", "params"), HEALTHY.values(), ids=HEALTHY.keys())
def test_healthy_fits_are_not_warned_about(Estimator, params):
    if Estimator is MLPClassifier:
        X, y = make_classification(n_samples=300, n_features=20, random_state=0)
    else:
        X, y, _ = _data()
    params = dict(params)
    weights = np.abs(y) ** 4 if params.pop("sample_weight", False) else None
    model = Estimator(
        **{"hidden_layer_sizes": (8,), "max_iter": 30, "random_state": 0, **params}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)  # numpy's overflow too
        model.fit(X, y, sample_weight=weights)


@pytest.mark.parametrize(
    ("curve", "penalty", "fragment"),
    [
        ([1.0, 0.5, 6.0], 0.0, "up from 0.5"),  # rose twelvefold
        ([1.0, 0.5, 4.9], 0.0, None),
        # the data term against all-zero outputs' loss of 1 (Poisson losses
        # can be negative, so only this rule applies to them)
        ([-3.0, -4.0, 20.0], 0.0, "data term over 10 times"),
        ([-3.0, -4.0, 9.0], 0.0, None),
        # a large objective made of penalty is not a blown-up data term
        ([30.0, 25.0, 20.0], 15.0, None),
        ([30.0, 25.0, 20.0], 5.0, "data term over 10 times"),
    ],
)
def test_blown_up_rule(curve, penalty, fragment):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warn_if_blown_up(curve, penalty, baseline=1.0)
    if fragment is None:
        assert caught == []
    else:
        assert len(caught) == 1 and fragment in str(caught[0].message)


def test_zero_output_loss_samples_rows_evenly():
    # targets sorted: the first rows alone would give a baseline of 0
    loss = LOSSES["squared_error"]()
    Y = np.repeat([0.0, 10.0], 50)[:, None]
    full = zero_output_loss(loss, Y, None)
    assert full == 25.0
    assert zero_output_loss(loss, Y, None, n_rows=10) == full


def test_zero_output_loss_is_weighted():
    loss = LOSSES["squared_error"]()  # all-zero outputs: 0.5 * y^2
    Y = np.array([[1.0], [3.0]])
    assert zero_output_loss(loss, Y, None) == 0.5 * (0.5 + 4.5)
    weighted = zero_output_loss(loss, Y, np.array([3.0, 1.0]))
    assert weighted == 0.75 * 0.5 + 0.25 * 4.5


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings(
    "ignore:The weights of the last finite epoch:RuntimeWarning"
)
def test_training_continues_cleanly_after_a_divergence():
    """The optimizer's non-finite moments are not carried into partial_fit."""
    X, y, _ = _data()
    model = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=10.0,
        max_iter=50,
        random_state=0,
    )
    with pytest.warns(RuntimeWarning, match="Training diverged"):
        model.fit(X, 1e6 * y)
    model.set_params(learning_rate_init=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(3):
            model.partial_fit(X, y)
    assert np.isfinite(model.loss_curve_[-1])
    assert _all_finite(model)


# --------------------------------------------------------------------------
# Ctrl-C


def _interrupt_after(monkeypatch, n_batches):
    """Make the n_batches+1-th mini-batch step raise KeyboardInterrupt."""
    original = skreg._training.train_step
    calls = {"n": 0}

    def step(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > n_batches:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(skreg._training, "train_step", step)
    return calls


INTERRUPTIBLE = {
    "adam": dict(),
    "sgd-dropout-batchnorm": dict(solver="sgd", dropout=0.2, batch_norm=True),
    "early-stopping": dict(early_stopping=True, n_iter_no_change=1000),
}


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("params", INTERRUPTIBLE.values(), ids=INTERRUPTIBLE.keys())
def test_keyboard_interrupt_keeps_the_weights_reached_so_far(
    monkeypatch, Estimator, params
):
    """Interrupted in epoch 5: the model equals a run of 4 epochs (the best of
    them with early stopping), is fitted, and predicts finite values."""
    X, y_reg, y_cls = _data(n=200)
    y = y_cls if Estimator is MLPClassifier else y_reg
    params = {
        "hidden_layer_sizes": (8,),
        "batch_size": 40,
        "random_state": 0,
        "max_iter": 30,
        **params,
    }
    batches_per_epoch = 5  # 200 rows (180 with early stopping) in batches of 40
    _interrupt_after(monkeypatch, 4 * batches_per_epoch + 2)
    with pytest.warns(UserWarning, match="Training interrupted by user") as record:
        model = Estimator(**params).fit(X, y)  # returns, does not raise
    monkeypatch.undo()
    assert model.n_iter_ == 4
    assert len(model.loss_curve_) == 4
    reference = Estimator(**{**params, "max_iter": 4}).fit(X, y)
    for got, expected in zip(_weights(model), _weights(reference), strict=True):
        assert_array_equal(got, expected)
    if params.get("early_stopping"):
        assert "best validation epoch" in str(record[0].message)
        best = int(np.argmax(model.validation_scores_)) + 1
        assert model.best_iteration_ == best
    predictions = (
        model.predict_proba(X) if Estimator is MLPClassifier else model.predict(X)
    )
    assert np.all(np.isfinite(predictions))


def test_keyboard_interrupt_in_first_epoch_leaves_a_usable_model(monkeypatch):
    X, _, y = _data()
    _interrupt_after(monkeypatch, 0)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        model = MLPClassifier(hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    monkeypatch.undo()
    assert model.n_iter_ == 0
    assert model.loss_curve_ == []
    # the initial weights, as a fit with the same seed draws them
    fresh = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    network = fresh._network_for_training(
        X.shape[1],
        3,
        np.float64,
        fresh._architecture(),
        first_call=True,
        rngs=fresh._random_streams(incremental=False),
    )
    for got, layer in zip(model.coefs_, network.dense_layers, strict=True):
        assert_array_equal(got, layer.params["coef"])
    proba = model.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X)) <= set(model.classes_)


def test_keyboard_interrupt_during_partial_fit(monkeypatch):
    X, y, _ = _data()
    model = MLPRegressor(hidden_layer_sizes=(8,), batch_size=20, random_state=0)
    model.partial_fit(X, y)
    before = [a.copy() for a in _weights(model)]
    calls = _interrupt_after(monkeypatch, 2)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        model.partial_fit(X, y)
    monkeypatch.undo()
    assert calls["n"] == 3
    # the interrupted epoch is rolled back to where it started
    for got, expected in zip(_weights(model), before, strict=True):
        assert_array_equal(got, expected)
    model.partial_fit(X, y)  # and training can go on
    assert np.all(np.isfinite(model.predict(X)))


# --------------------------------------------------------------------------
# fit does not modify its inputs or the parameters


def _inputs(kind):
    X, y_reg, y_cls = _data(n=60)
    if kind == "float32":
        X = X.astype(np.float32)
    elif kind == "sparse":
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    elif kind == "fortran":
        X = np.asfortranarray(X)
    return X, y_reg, y_cls


def _copy(A):
    return A.copy() if sp.issparse(A) else np.array(A, order="K", copy=True)


def _same(A, B):
    if sp.issparse(A):
        assert type(A) is type(B)
        for attr in ("data", "indices", "indptr"):
            assert_array_equal(getattr(A, attr), getattr(B, attr))
    else:
        assert A.dtype == B.dtype
        assert_array_equal(A, B)


@pytest.mark.parametrize("kind", ["float64", "float32", "sparse", "fortran"])
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_fit_does_not_modify_inputs_or_params(Estimator, kind):
    X, y_reg, y_cls = _inputs(kind)
    y = y_cls if Estimator is MLPClassifier else y_reg
    sw = np.linspace(0.5, 2.0, X.shape[0])
    X_val, y_val, sw_val = X[:20], y[:20], np.ones(20)
    model = Estimator(
        hidden_layer_sizes=[6, 4],
        dropout=[0.1, 0.2],
        dropconnect=[0.1, 0.0, 0.1],
        batch_norm=[True, False],
        alpha=1e-3,
        l1_ratio=0.5,
        max_norm=3.0,
        input_noise=0.1,
        early_stopping=True,
        max_iter=3,
        random_state=0,
    )
    params = copy.deepcopy(model.get_params())
    saved = [_copy(a) for a in (X, y, sw, X_val, y_val, sw_val)]
    model.fit(
        X, y, sample_weight=sw, X_val=X_val, y_val=y_val, sample_weight_val=sw_val
    )
    model.partial_fit(X, y)
    for original, now in zip(saved, (X, y, sw, X_val, y_val, sw_val), strict=True):
        _same(original, now)
    assert model.get_params() == params
    assert model.hidden_layer_sizes == [6, 4]  # the very list, unchanged
    assert model.dropout == [0.1, 0.2]


# --------------------------------------------------------------------------
# reproducibility

CONFIGURATIONS = {
    "adam": dict(),
    "dropout": dict(dropout=0.3),
    "dropconnect": dict(dropconnect=0.2),
    "input-dropout-noise": dict(input_dropout=0.1, input_noise=0.1),
    "batch-norm": dict(batch_norm=True),
    "early-stopping": dict(early_stopping=True),
    "sgd-invscaling": dict(
        solver="sgd", learning_rate="invscaling", learning_rate_init=0.05
    ),
    "l1-max-norm": dict(alpha=1e-2, l1_ratio=1.0, max_norm=1.0),
    "float32": dict(dtype="float32"),
    "lbfgs": dict(solver="lbfgs"),
}


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize("params", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_same_random_state_gives_bit_identical_models(Estimator, params):
    X, y_reg, y_cls = _data()
    y = y_cls if Estimator is MLPClassifier else y_reg

    def make(seed):
        return Estimator(
            hidden_layer_sizes=(8, 8), max_iter=8, random_state=seed, **params
        )

    first, second, other = make(3).fit(X, y), make(3).fit(X, y), make(4).fit(X, y)
    for a, b in zip(_weights(first), _weights(second), strict=True):
        assert a.dtype == b.dtype
        assert_array_equal(a, b)
    assert first.loss_curve_ == second.loss_curve_
    assert first.n_iter_ == second.n_iter_
    assert_array_equal(first.predict(X), second.predict(X))
    if Estimator is MLPClassifier:
        assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    # another seed, another model
    assert not np.array_equal(first.coefs_[0], other.coefs_[0])


def test_random_state_instance_is_reproducible_when_reseeded():
    X, y, _ = _data()
    a = MLPRegressor(
        hidden_layer_sizes=(8,),
        max_iter=5,
        dropout=0.2,
        random_state=np.random.RandomState(7),
    ).fit(X, y)
    b = MLPRegressor(
        hidden_layer_sizes=(8,),
        max_iter=5,
        dropout=0.2,
        random_state=np.random.RandomState(7),
    ).fit(X, y)
    assert_array_equal(a.predict(X), b.predict(X))


# --------------------------------------------------------------------------
# n_jobs: joblib workers run BLAS with fewer threads, so results agree to
# float tolerance (bitwise when the products are too small to be threaded)


@pytest.mark.parametrize(("dtype", "rtol"), [("float64", 1e-10), ("float32", 1e-6)])
def test_cross_val_score_agrees_across_n_jobs(dtype, rtol):
    X, _, y = _data(n=150)
    model = MLPClassifier(
        hidden_layer_sizes=(16,), max_iter=15, dropout=0.1, random_state=0, dtype=dtype
    )
    cv = KFold(3, shuffle=True, random_state=0)
    serial = cross_val_score(model, X, y, cv=cv, n_jobs=1, scoring="neg_log_loss")
    parallel = cross_val_score(model, X, y, cv=cv, n_jobs=2, scoring="neg_log_loss")
    assert_allclose(parallel, serial, rtol=rtol)


def test_grid_search_agrees_across_n_jobs():
    X, y, _ = _data(n=150)
    grid = {"alpha": [1e-4, 1e-1], "dropout": [0.0, 0.2]}
    model = MLPRegressor(hidden_layer_sizes=(16,), max_iter=15, random_state=0)
    serial = GridSearchCV(model, grid, cv=2, n_jobs=1).fit(X, y)
    parallel = GridSearchCV(clone(model), grid, cv=2, n_jobs=2).fit(X, y)
    assert_allclose(
        parallel.cv_results_["mean_test_score"],
        serial.cv_results_["mean_test_score"],
        rtol=1e-10,
    )
    assert parallel.best_params_ == serial.best_params_
    assert_allclose(parallel.predict(X), serial.predict(X), rtol=1e-10)


# --------------------------------------------------------------------------
# numerically stable losses and probabilities


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
def test_extreme_logits_give_finite_probabilities(kind):
    X, _, y3 = _data()
    y = {
        "binary": y3 > 0,
        "multiclass": y3,
        "multilabel": np.c_[y3 == 0, y3 == 1, y3 == 2],
    }[kind]
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X, y)
    model.coefs_ = [c * 1e3 for c in model.coefs_]  # logits of order 1e6 and more
    for scale in (1.0, 1e4, 1e100):
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # no overflow, no log(0)
            proba = model.predict_proba(X * scale)
            log_proba = model.predict_log_proba(X * scale)
        assert np.all(np.isfinite(proba)) and np.all(np.isfinite(log_proba))
        assert np.all((proba > 0) & (proba < 1))
        assert np.all(log_proba <= 0)
        assert_allclose(np.exp(log_proba), proba, rtol=1e-12, atol=1e-300)
        # the decisions still follow the logits
        predicted = model.predict(X * scale)
        if kind == "multilabel":
            assert_array_equal(predicted, proba > 0.5)
        else:
            assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
            assert_array_equal(predicted, model.classes_[np.argmax(log_proba, axis=1)])


@pytest.mark.parametrize("Loss", [BinaryLogLoss, MultinomialLogLoss])
def test_log_losses_are_finite_for_extreme_logits(Loss):
    rng = np.random.default_rng(0)
    Z = rng.choice([-1e300, -1e4, 0.0, 1e4, 1e300], size=(50, 3))
    Y = np.eye(3)[rng.integers(0, 3, 50)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        value, grad = Loss().value_and_gradient(Z, Y)
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))
    assert np.all(np.abs(grad) <= 1.0 / 50 + 1e-15)  # bounded by the weight


def test_training_on_huge_inputs_keeps_a_finite_loss():
    X, _, y = _data()
    model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # the loss stays finite but far above that of all-zero outputs: warned
        with pytest.warns(RuntimeWarning, match="all-zero outputs.*Scale the inputs"):
            model.fit(X * 1e4, y)
    assert np.all(np.isfinite(model.loss_curve_))
    assert _all_finite(model)
    assert np.all(np.isfinite(model.predict_proba(X * 1e4)))


def test_validation_split_without_positive_weights_turns_early_stopping_off():
    """Found by hypothesis: the internal split put every positive weight on one side."""
    X = np.zeros((11, 1), dtype=np.float32)
    y = np.array([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    sw = np.zeros(11)
    sw[0] = 0.5
    model = MLPClassifier(
        hidden_layer_sizes=(),
        early_stopping=True,
        max_iter=1,
        shuffle=False,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="all the positive sample weights on one side"):
        model.fit(X, y, sample_weight=sw)
    assert model.validation_scores_ is None
    assert np.all(np.isfinite(model.predict_proba(X)))


# --------------------------------------------------------------------------
# memory: X is never copied, large sets are predicted in slices
# (benchmarks/memory.py measures the 1,000,000 x 100 case)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_fit_does_not_copy_float32_X(early_stopping):
    import tracemalloc

    rng = np.random.default_rng(0)
    # 16 MB; 200 features so that X dominates the per-row index arrays
    X = rng.standard_normal((20_000, 200), dtype=np.float32)
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    model = MLPClassifier(
        hidden_layer_sizes=(16,),
        max_iter=1,
        batch_size=2000,
        early_stopping=early_stopping,
        random_state=0,
    )
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        model.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # measured: 0.27x (batch work arrays, targets, row order), 0.36x with early
    # stopping (+ the validation rows); a copy of X would add 1x (2x in float64)
    assert (peak - before) / X.nbytes < 0.6


@pytest.mark.parametrize("sparse", [False, True])
def test_predictions_do_not_depend_on_slicing(sparse, monkeypatch):
    import skreg._early_stopping as es

    X, _, y = _data(n=50)
    model = MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=3, batch_norm=True, random_state=0
    ).fit(X, y)
    X_in = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0)) if sparse else X
    whole = model.predict_proba(X_in)
    network = model._prediction_network()
    monkeypatch.setattr(es, "PREDICT_CHUNK_ROWS", 7)
    sliced = es.predict_in_chunks(network, X_in, np.float64, chunk_rows=7)
    assert sliced.shape == (50, 3)
    assert_allclose(model._proba_from_output(sliced), whole, rtol=1e-12)


# --------------------------------------------------------------------------
# a failed call changes nothing


def _refused_refits():
    X, _, y = _data(n=60, d=3)
    wide = np.hstack([X, X])
    return {
        "labels-with-zero-weights": (
            MLPClassifier,
            (X, np.array(["a", "b"] * 30)),
            dict(sample_weight=np.zeros(60)),
        ),
        "one-class": (MLPClassifier, (X, np.full(60, "a")), {}),
        "new-labels-bad-X_val": (
            MLPClassifier,
            (X, y + 10),
            dict(X_val=X[:, :2], y_val=y),
        ),
        "more-features-zero-weights": (
            MLPRegressor,
            (wide, y.astype(float)),
            dict(sample_weight=np.zeros(60)),
        ),
    }


REFUSED = _refused_refits()


@pytest.mark.parametrize("case", REFUSED.values(), ids=REFUSED.keys())
@pytest.mark.parametrize("warm_start", [False, True])
def test_a_refused_refit_leaves_the_fitted_model_as_it_was(case, warm_start):
    Estimator, args, kwargs = case
    X, _, y = _data(n=60, d=3)
    model = Estimator(
        hidden_layer_sizes=(5,), max_iter=5, warm_start=warm_start, random_state=0
    )
    model.fit(X, y)
    before = copy.deepcopy(vars(model))
    predictions = model.predict(X)
    with pytest.raises(ValueError):
        model.fit(*args, **kwargs)
    assert sorted(vars(model)) == sorted(before)
    assert model.n_features_in_ == before["n_features_in_"]
    if Estimator is MLPClassifier:
        assert_array_equal(model.classes_, before["classes_"])
    assert_array_equal(model.predict(X), predictions)
    for now, then in zip(_weights(model), _weights_of(before), strict=True):
        assert_array_equal(now, then)
    # and it trains on from there as if nothing had happened
    assert model.partial_fit(X, y).n_iter_ == 1


def _weights_of(state):
    return [*state["coefs_"], *state["intercepts_"]]


def test_a_refused_partial_fit_keeps_the_history():
    X, y, _ = _data(n=60, d=3)
    model = MLPRegressor(hidden_layer_sizes=(5,), random_state=0)
    model.partial_fit(X, y).partial_fit(X, y)
    curve = list(model.loss_curve_)
    with pytest.raises(ValueError):
        model.partial_fit(X[:, :2], y)
    assert model._history.loss_curve == curve
    assert model.partial_fit(X, y).loss_curve_[:2] == curve


# --------------------------------------------------------------------------
# warnings point at the caller's line


def test_warnings_name_the_line_that_called_fit():
    X, y, _ = _data(n=60, d=3)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        MLPRegressor(hidden_layer_sizes=(4,), batch_size=500, max_iter=2).fit(X, y)
        MLPRegressor(
            hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=10.0
        ).fit(X, 1e3 * y)
        MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=1).fit(
            X, y, X_val=X, y_val=y
        )
    categories = {w.category for w in record}
    assert {UserWarning, RuntimeWarning, ConvergenceWarning} <= categories
    assert {w.filename for w in record} == {__file__}


def test_a_refused_first_partial_fit_leaves_the_model_unfitted():
    X, _, y = _data(n=60, d=3)
    model = MLPClassifier(hidden_layer_sizes=(5,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X, y, classes=[0, 1])  # y also has class 2
    assert not hasattr(model, "classes_")
    model.partial_fit(X, y, classes=[0, 1, 2])
    assert_array_equal(model.classes_, [0, 1, 2])


@pytest.mark.parametrize("where", ["X", "y", "X_val", "sparse X"])
def test_values_beyond_float32_are_refused_when_training_in_float32(where):
    X, y, _ = _data()
    X_val, y_val = X[:20].copy(), y[:20].copy()
    if where == "y":
        y = y.copy()
        y[3] = 1e39
    elif where == "X_val":
        X_val[3, 2] = 1e39
    else:
        X = X.copy()
        X[3, 2] = -1e39
        if where == "sparse X":
            X = sp.csr_matrix(X)
    name = where.split()[-1]
    model = MLPRegressor(hidden_layer_sizes=(4,), dtype="float32", max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy's cast overflow too
        with pytest.raises(ValueError, match=f"^{name} has values beyond float32"):
            model.fit(X, y, X_val=X_val, y_val=y_val)
    # float64 holds them
    model.set_params(dtype="float64", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y, X_val=X_val, y_val=y_val)


@pytest.mark.parametrize("params", [dict(solver="lbfgs"), dict(shuffle=False)])
def test_the_memory_layout_of_X_does_not_change_the_model(params):
    X, y, _ = _data(n=500, d=20)  # where OpenBLAS rounds F-order X otherwise
    fit = lambda X: MLPRegressor(  # noqa: E731
        hidden_layer_sizes=(50,), max_iter=10, random_state=0, **params
    ).fit(X, y)
    for c, f in zip(_weights(fit(X)), _weights(fit(np.asfortranarray(X))), strict=True):
        assert_array_equal(c, f)


def test_huge_sample_weights_train_like_their_ratios():
    X, y, _ = _data(n=300, d=3)
    params = dict(hidden_layer_sizes=(5,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)  # numpy's overflow too
        ones = MLPRegressor(**params).fit(X, y, sample_weight=np.ones(300))
        threes = MLPRegressor(**params).fit(X, y, sample_weight=np.full(300, 3.0))
        huge = MLPRegressor(**params).fit(X, y, sample_weight=np.full(300, 1e307))
    for a, b, c in zip(_weights(ones), _weights(threes), _weights(huge), strict=True):
        assert_array_equal(a, b)  # equal weights are equal weights, bit for bit
        assert_allclose(a, c, rtol=1e-9, atol=1e-12)
    assert huge.n_iter_ == 5


def test_lbfgs_on_overflowing_inputs_says_so_once():
    X, _, y = _data(n=100, d=3)
    model = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(X * 1e200, y)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1 and "outputs overflow" in messages[0], messages


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_training_on_from_non_finite_weights_is_refused(how):
    X, y, _ = _data(n=60, d=3)
    model = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    model.coefs_[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="hold NaN or infinite values"):
        model.fit(X, y) if how == "warm_start" else model.partial_fit(X, y)
    assert np.isnan(model.coefs_[0][0, 0])  # left as it was


def test_huge_validation_weights_score_like_their_ratios():
    X, y, _ = _data(n=400, d=3)
    sw = np.linspace(0.5, 2.0, 400)
    params = dict(
        hidden_layer_sizes=(5,), max_iter=8, early_stopping=True, random_state=0
    )

    def fit(scale):
        return MLPRegressor(**params).fit(
            X[:300],
            y[:300],
            sample_weight=sw[:300] * scale,
            X_val=X[300:],
            y_val=y[300:],
            sample_weight_val=sw[300:] * scale,
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)  # numpy's overflow too
        plain, huge = fit(1.0), fit(1e307)
    assert_allclose(
        huge.validation_loss_curve_, plain.validation_loss_curve_, rtol=1e-9
    )
    assert huge.best_iteration_ == plain.best_iteration_


def test_weights_are_scaled_by_a_power_of_two():
    from skreg._base import _scaled_to_one

    w = np.array([3.0, 1.0, 7.0, 0.1])
    scaled = _scaled_to_one(w)
    assert 0.5 <= scaled.max() < 1.0
    assert_array_equal(scaled * 8, w)  # exact: 7 scales to 7/8


def test_best_epoch_blown_up_threshold():
    from skreg._diagnostics import warn_if_best_epoch_blown_up

    with pytest.warns(RuntimeWarning, match="never settled"):
        warn_if_best_epoch_blown_up(11.0, baseline=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_best_epoch_blown_up(9.0, baseline=1.0)


def test_training_on_from_infinite_intercepts_is_refused():
    X, y, _ = _data(n=60, d=3)
    model = MLPRegressor(hidden_layer_sizes=(5,), max_iter=3, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    model.intercepts_[-1][0] = np.inf
    with pytest.raises(ValueError, match="hold NaN or infinite values"):
        model.fit(X, y)


def test_y_val_beyond_float32_is_refused():
    X, y, _ = _data()
    y_val = y[:20].copy()
    y_val[3] = 1e39
    model = MLPRegressor(hidden_layer_sizes=(4,), dtype="float32", max_iter=2)
    with pytest.raises(ValueError, match="^y_val has values beyond float32"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            model.fit(X, y, X_val=X[:20], y_val=y_val)


# --------------------------------------------------------------------------
# warm start and partial_fit keep the layer structure


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
@pytest.mark.parametrize(
    "fitted, changed",
    [([True, False], [False, True]), ([True, False], False), (False, [False, True])],
)
def test_training_on_with_batch_norm_elsewhere_is_refused(how, fitted, changed):
    """Batch norm replaces a layer's intercepts by gamma and beta, so moving it
    to another layer would load the weights into the wrong places (the
    number of normalized layers alone used to be compared)."""
    X, _, y = _data(n=200, d=5)
    model = MLPClassifier((8, 8), batch_norm=fitted, max_iter=20, random_state=0)
    model.fit(X, y)
    before = copy.deepcopy(vars(model))
    proba = model.predict_proba(X)
    model.set_params(
        batch_norm=changed, warm_start=True, max_iter=1, learning_rate_init=1e-12
    )
    match = r"batch_norm=.* normalizes the hidden layers .* keep batch_norm unchanged"
    with pytest.raises(ValueError, match=match):
        model.fit(X, y) if how == "warm_start" else model.partial_fit(X, y)
    assert sorted(vars(model)) == sorted(before)
    for now, then in zip(_weights(model), _weights_of(before), strict=False):
        assert_array_equal(now, then)
    assert_array_equal(model.predict_proba(X), proba)
    # with the fitted structure back, training goes on from the same weights
    # (the step is 1e-12; batch norm's running statistics move, its weights not)
    model.set_params(batch_norm=fitted).fit(X, y)
    for now, then in zip(model.coefs_, before["coefs_"], strict=True):
        assert_allclose(now, then, rtol=0, atol=1e-9)
