"""Behaviour of the regularization toolkit (issue 3, acceptance 3 and 4).

Each test states a property of the real algorithm and would fail if it broke:
predictions are deterministic and row-independent; dropout zeroes a share
``p`` of the units and keeps the expected activation; DropConnect drops
weights, not units; batch-norm running statistics converge to the data's and
drive predictions; max-norm holds after every step; input noise changes
training only; the random streams are independent; early stopping keeps the
best epoch's weights and statistics, honours ``X_val`` and every scoring;
Monte Carlo dropout varies and averages to the prediction for small rates;
and each of dropout, ElasticNet and early stopping beats an over-sized,
unregularized network on held-out data.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer, log_loss, make_scorer, mean_absolute_error
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skreg._base
import skreg._training
from skreg import MLPClassifier, MLPRegressor
from skreg._base import BaseMLP
from skreg._layers import Activation, BatchNorm, Context, Dense, Dropout, GaussianNoise
from skreg._network import Network, build_layers
from skreg._penalties import apply_max_norm
from skreg._training import History, LoopSettings, _end_of_epoch


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # short fits on purpose: ConvergenceWarning is noise here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _classification(n_samples=120, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=6,
        n_informative=4,
        n_classes=3,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def _regression(n_samples=120, seed=0):
    X, y = make_regression(
        n_samples=n_samples, n_features=6, noise=5.0, random_state=seed
    )
    return StandardScaler().fit_transform(X), y / y.std()


def _output(est, X):
    """The continuous output: probabilities (classifier) or predictions."""
    return est.predict_proba(X) if isinstance(est, MLPClassifier) else est.predict(X)


# --------------------------------------------------------------------------
# predictions are deterministic and row-independent, for every configuration

CONFIGS = {
    "dropout": dict(dropout=0.3),
    "per-layer-dropout": dict(dropout=[0.1, 0.5]),
    "input_dropout": dict(input_dropout=0.2),
    "dropconnect": dict(dropconnect=0.3),
    "batch_norm": dict(batch_norm=True),
    "per-layer-batch_norm": dict(batch_norm=[True, False]),
    "max_norm": dict(max_norm=0.5),
    "input_noise": dict(input_noise=0.3),
    "early_stopping": dict(early_stopping=True, validation_fraction=0.2),
    "all": dict(
        dropout=0.3,
        input_dropout=0.1,
        dropconnect=0.2,
        batch_norm=True,
        max_norm=1.0,
        input_noise=0.1,
        early_stopping=True,
        validation_fraction=0.2,
        alpha=1e-3,
        l1_ratio=0.5,
    ),
}


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_predictions_are_deterministic_and_row_independent(Estimator, config):
    X, y = _classification() if Estimator is MLPClassifier else _regression()
    est = Estimator(
        hidden_layer_sizes=(10, 8), max_iter=15, random_state=0, **CONFIGS[config]
    ).fit(X, y)
    full = _output(est, X)
    assert_array_equal(_output(est, X), full)
    assert_array_equal(est.predict(X), est.predict(X))
    rows = [7, 0, 101, 7, 55]
    assert_allclose(_output(est, X[rows]), full[rows], rtol=1e-12, atol=1e-15)
    assert_allclose(_output(est, X[3:4]), full[3:4], rtol=1e-12, atol=1e-15)
    if Estimator is MLPClassifier:
        assert_array_equal(est.predict(X[rows]), est.predict(X)[rows])


# --------------------------------------------------------------------------
# dropout


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_zeroes_a_share_rate_of_units_and_keeps_the_mean(rate):
    X = np.random.default_rng(0).uniform(0.5, 1.5, size=(2000, 100))
    layer = Dropout(rate)
    train = Context(training=True, rng=np.random.default_rng(1))
    Y, backward = layer.forward(X.copy(), train)
    dropped = Y == 0.0
    assert abs(dropped.mean() - rate) < 0.01
    # every unit is dropped about as often, and per sample, not per column
    assert np.max(np.abs(dropped.mean(axis=0) - rate)) < 0.06
    assert 0 < dropped[:, 0].sum() < len(X)
    # inverted dropout: survivors scaled by 1 / (1 - rate), expectation kept
    assert_allclose(Y[~dropped], X[~dropped] / (1 - rate))
    assert Y.mean() == pytest.approx(X.mean(), rel=0.02)
    # the gradient flows through the kept units only, with the same scale
    assert_allclose(backward(np.ones_like(X)), Y / X)
    # fresh masks on every call
    again = Context(training=True, rng=np.random.default_rng(2))
    Y2, _ = layer.forward(X.copy(), again)
    assert not np.array_equal(Y2 == 0, dropped)


def test_dropout_is_the_identity_at_predict_time():
    X = np.random.default_rng(0).standard_normal((50, 7))
    Y, _ = Dropout(0.5).forward(X.copy(), Context(training=False))
    assert_array_equal(Y, X)


_ACTIVATIONS = {
    "relu": lambda Z: np.maximum(Z, 0),
    "tanh": np.tanh,
    "logistic": lambda Z: 1 / (1 + np.exp(-Z)),
    "identity": lambda Z: Z,
}


def _plain_forward(est, X):
    """The network's raw output, written out from the fitted arrays alone:
    affine, batch norm with the running statistics, activation; no masks,
    no noise (``eps=1e-5`` is batch norm's)."""
    A = X
    n_hidden = len(est.coefs_) - 1
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        Z = A @ W + b
        if i == n_hidden:
            return Z
        norm = est.batch_norm_params_[i]
        if norm is not None:
            Z = (Z - norm["running_mean"]) / np.sqrt(norm["running_var"] + 1e-5)
            Z = Z * norm["gamma"] + norm["beta"]
        A = _ACTIVATIONS[est.activation](Z)


@pytest.mark.parametrize(
    "params",
    [
        dict(dropout=0.5),
        dict(dropout=[0.5, 0.2], batch_norm=True),
        dict(input_dropout=0.3),
        dict(dropconnect=0.4),
        dict(dropconnect=0.4, dropconnect_mask="sample"),
        dict(input_noise=0.5),
    ],
    ids=str,
)
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_stochastic_regularizers_are_off_at_predict_time(Estimator, params):
    """A network trained with masks or noise predicts with the plain forward
    pass of its fitted weights."""
    X, y = _classification() if Estimator is MLPClassifier else _regression()
    est = Estimator(hidden_layer_sizes=(10, 6), max_iter=20, random_state=0, **params)
    est.fit(X, y)
    Z = _plain_forward(est, X)
    if Estimator is MLPClassifier:
        expected = np.exp(Z - Z.max(axis=1, keepdims=True))
        expected /= expected.sum(axis=1, keepdims=True)
    else:
        expected = Z.ravel()
    assert_allclose(_output(est, X), expected, rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------
# DropConnect


def _dense(n_in, n_out, dropconnect):
    layer = Dense(n_in, n_out, dropconnect=dropconnect)
    Network([layer], dtype=np.float64).initialize(np.random.default_rng(0))
    return layer


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_dropconnect_drops_weights_not_units(rate):
    n_in, n_out = 40, 50
    layer = _dense(n_in, n_out, rate)
    W, b = layer.params["coef"].copy(), layer.params["intercept"].copy()
    X = np.random.default_rng(3).standard_normal((200, n_in))
    Y, _ = layer.forward(X, Context(training=True, rng=np.random.default_rng(4)))
    # one weight matrix explains the whole mini-batch: Y = X @ W_eff + b
    W_eff, residual, rank, _ = np.linalg.lstsq(X, Y - b, rcond=None)
    assert rank == n_in
    assert_allclose(X @ W_eff + b, Y, atol=1e-10)
    # ... and W_eff is W times a mask of 0 and 1 / (1 - rate)
    ratio = W_eff / W
    dropped = np.abs(ratio) < 1e-8
    assert_allclose(ratio[~dropped], 1 / (1 - rate), rtol=1e-8)
    assert abs(dropped.mean() - rate) < 0.05
    # the dropped weights are spread over the matrix: no unit (column) and no
    # input (row) loses all its weights, so no unit is zero for the batch
    assert np.all(dropped.any(axis=0)) and np.all(dropped.any(axis=1))
    assert not np.any(dropped.all(axis=0)) and not np.any(dropped.all(axis=1))
    assert not np.any(np.all(Y - b == 0, axis=0))
    # the output is X @ (W * mask) + b for that mask
    mask = np.where(dropped, 0.0, 1 / (1 - rate))
    assert_allclose(Y, X @ (W * mask) + b, rtol=1e-10, atol=1e-12)
    # a new mini-batch draws a new mask
    Y2, _ = layer.forward(X, Context(training=True, rng=np.random.default_rng(5)))
    W_eff2 = np.linalg.lstsq(X, Y2 - b, rcond=None)[0]
    assert not np.array_equal(np.abs(W_eff2 / W) < 1e-8, dropped)
    # at predict time the expected weights W are used
    Y_pred, _ = layer.forward(X, Context(training=False))
    assert_allclose(Y_pred, X @ W + b, rtol=1e-12)


def test_dropconnect_gradient_is_masked_like_the_weights():
    layer = _dense(6, 5, 0.5)
    X = np.random.default_rng(3).standard_normal((30, 6))
    W = layer.params["coef"].copy()
    Y, backward = layer.forward(X, Context(training=True, rng=np.random.default_rng(4)))
    W_eff = np.linalg.lstsq(X, Y - layer.params["intercept"], rcond=None)[0]
    dY = np.random.default_rng(5).standard_normal(Y.shape)
    dX = backward(dY.copy())
    assert_allclose(layer.grads["coef"], (X.T @ dY) * (W_eff / W), atol=1e-8)
    assert_allclose(dX, dY @ W_eff.T, atol=1e-8)


# --------------------------------------------------------------------------
# batch normalization


def _dense_then_batch_norm(momentum=0.1):
    dense = Dense(5, 4, bias=False)
    norm = BatchNorm(4, momentum=momentum)
    network = Network([dense, norm], dtype=np.float64)
    network.initialize(np.random.default_rng(0))
    return network, dense, norm


def _shifted_data(n_samples=1000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(
        loc=[3.0, -1.0, 0.5, 2.0, 0.0],
        scale=[2.0, 0.5, 1.0, 3.0, 1.5],
        size=(n_samples, 5),
    )


def test_batch_norm_running_statistics_converge_to_the_data_statistics():
    network, dense, norm = _dense_then_batch_norm()
    X = _shifted_data()
    H = X @ dense.params["coef"]  # the pre-activations batch norm sees
    # start far from the truth
    assert np.max(np.abs(norm.state["running_mean"] - H.mean(axis=0))) > 0.5
    rng = np.random.default_rng(1)
    for _ in range(30):
        for batch in np.array_split(rng.permutation(len(X)), 10):
            network.forward(X[batch], Context(training=True))
    std = H.std(axis=0)
    assert np.all(np.abs(norm.state["running_mean"] - H.mean(axis=0)) < 0.1 * std)
    assert_allclose(norm.state["running_var"], H.var(axis=0), rtol=0.1)
    # on full batches the average is exact once the initial value has decayed
    for _ in range(300):
        network.forward(X, Context(training=True))
    assert_allclose(norm.state["running_mean"], H.mean(axis=0), rtol=1e-8, atol=1e-10)
    assert_allclose(norm.state["running_var"], H.var(axis=0), rtol=1e-8)
    # predicting never updates them
    before = {k: v.copy() for k, v in norm.state.items()}
    network.predict(X[:10] + 100.0)
    for key, value in before.items():
        assert_array_equal(norm.state[key], value)


def test_fitted_batch_norm_statistics_match_the_training_pre_activations():
    X = _shifted_data(n_samples=1000)
    y = np.sin(X[:, 0]) + X[:, 1]
    reg = MLPRegressor(
        hidden_layer_sizes=(6,), batch_norm=True, max_iter=30, random_state=0
    ).fit(X, y)
    H = X @ reg.coefs_[0]  # no intercept: batch norm's beta replaces it
    assert_array_equal(reg.intercepts_[0], 0.0)
    stats = reg.batch_norm_params_[0]
    assert np.all(np.abs(stats["running_mean"] - H.mean(axis=0)) < 0.2 * H.std(axis=0))
    assert_allclose(stats["running_var"], H.var(axis=0), rtol=0.3)


def test_a_single_row_leaves_the_running_statistics_unchanged():
    network, _, norm = _dense_then_batch_norm()
    X = _shifted_data(n_samples=3)
    network.forward(X[:2], Context(training=True))  # two rows: they move
    assert np.all(norm.state["running_var"] != 1.0)
    before = {key: value.copy() for key, value in norm.state.items()}
    network.forward(X[:1], Context(training=True))
    # all the weight on one row is a single row too
    network.forward(X, Context(training=True, weights=np.array([0.0, 1.0, 0.0])))
    for key, value in before.items():
        assert_array_equal(norm.state[key], value)


@pytest.mark.parametrize("merge_single", [False, True])
def test_batch_bounds_join_a_last_single_row_only_when_asked(merge_single):
    bounds = skreg._training.batch_bounds(401, 200, merge_single)
    sizes = [stop - start for start, stop in bounds]
    assert sizes == ([200, 201] if merge_single else [200, 200, 1])
    assert bounds[0][0] == 0 and bounds[-1][1] == 401
    # nothing to join: one batch, or a remainder of two rows
    assert skreg._training.batch_bounds(1, 200, merge_single) == [(0, 1)]
    assert len(skreg._training.batch_bounds(402, 200, merge_single)) == 3


def test_batch_norm_fit_joins_a_single_row_remainder(monkeypatch):
    X = _shifted_data(n_samples=121)
    y = np.sin(X[:, 0]) + X[:, 1]
    batches = _record(monkeypatch, skreg._training, "iterate_batches")
    MLPRegressor(hidden_layer_sizes=(4,), batch_size=40, max_iter=2).fit(X, y)
    reg = MLPRegressor(
        hidden_layer_sizes=(4,), batch_norm=True, batch_size=40, max_iter=2
    ).fit(X, y)
    plain, normed = batches[0], batches[2]
    assert [len(b) for b in plain] == [40, 40, 40, 1]
    assert [len(b) for b in normed] == [40, 40, 41]
    assert np.all(np.isfinite(reg.batch_norm_params_[0]["running_var"]))


def test_batch_norm_running_statistics_drive_predictions():
    X, y = _regression()
    X = X * 2.0 + 3.0
    reg = MLPRegressor(
        hidden_layer_sizes=(6,), batch_norm=True, max_iter=30, random_state=0
    ).fit(X, y)
    stats = reg.batch_norm_params_[0]
    # predict is the network with the running statistics in place of batch ones
    H = X @ reg.coefs_[0]
    H = (H - stats["running_mean"]) / np.sqrt(stats["running_var"] + 1e-5)
    H = np.maximum(H * stats["gamma"] + stats["beta"], 0)
    expected = H @ reg.coefs_[1] + reg.intercepts_[1]
    assert_allclose(reg.predict(X), expected.ravel(), rtol=1e-10, atol=1e-12)
    # one row predicts as it does inside a batch
    assert_allclose(reg.predict(X[5:6]), reg.predict(X)[5:6], rtol=1e-12)
    # changing the statistics changes the predictions
    pred = reg.predict(X)
    stats["running_mean"] += 1.0
    assert not np.allclose(reg.predict(X), pred)
    stats["running_mean"] -= 1.0
    stats["running_var"] *= 4.0
    assert not np.allclose(reg.predict(X), pred)


# --------------------------------------------------------------------------
# max-norm


def _hidden_column_norms(est):
    return np.concatenate([np.linalg.norm(W, axis=0) for W in est.coefs_[:-1]])


def test_apply_max_norm_rescales_only_long_columns():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((10, 6))
    W[:, 0] *= 0.01  # short column
    before = W.copy()
    apply_max_norm([W], 1.0)
    norms = np.linalg.norm(W, axis=0)
    assert np.all(norms <= 1.0 + 1e-12)
    assert_array_equal(W[:, 0], before[:, 0])
    long = np.linalg.norm(before, axis=0) > 1.0
    assert_allclose(norms[long], 1.0)
    # directions are kept
    assert_allclose(W / norms, before / np.linalg.norm(before, axis=0))


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_max_norm_holds_after_every_partial_fit_step(solver):
    X, y = _regression()
    max_norm = 0.5
    params = dict(
        hidden_layer_sizes=(16, 16),
        solver=solver,
        learning_rate_init=0.05,
        batch_size=len(X),
        random_state=0,  # one step per partial_fit call
    )
    free = MLPRegressor(**params)
    bounded = MLPRegressor(max_norm=max_norm, **params)
    for _ in range(25):
        free.partial_fit(X, y)
        bounded.partial_fit(X, y)
        assert np.all(_hidden_column_norms(bounded) <= max_norm + 1e-6)
    # the bound is active: unconstrained columns grow past it, bounded ones
    # sit on it
    assert np.max(_hidden_column_norms(free)) > 2 * max_norm
    assert np.max(_hidden_column_norms(bounded)) == pytest.approx(max_norm)
    # the output layer is not constrained
    assert np.max(np.linalg.norm(bounded.coefs_[-1], axis=0)) > max_norm


@pytest.mark.parametrize("batch_norm", [False, True])
def test_max_norm_holds_after_every_step_within_fit(monkeypatch, batch_norm):
    # before each optimizer step, the weights left by the previous step (and
    # its max-norm projection) must satisfy the bound
    max_norm = 0.5
    checked = []
    make_optimizer = BaseMLP._make_optimizer

    def checking_optimizer(self, network):
        optimizer = make_optimizer(self, network)
        step = optimizer.step
        hidden = network.dense_layers[:-1]

        def checked_step(*args, **kwargs):
            if checked:  # the initial weights need not satisfy it
                for layer in hidden:
                    norms = np.linalg.norm(layer.params["coef"], axis=0)
                    assert np.all(norms <= max_norm + 1e-6)
            checked.append(True)
            return step(*args, **kwargs)

        optimizer.step = checked_step
        return optimizer

    monkeypatch.setattr(BaseMLP, "_make_optimizer", checking_optimizer)
    X, y = _regression()
    reg = MLPRegressor(
        hidden_layer_sizes=(16, 16),
        max_norm=max_norm,
        learning_rate_init=0.05,
        batch_size=20,
        max_iter=10,
        batch_norm=batch_norm,
        random_state=0,
    ).fit(X, y)
    assert len(checked) == reg.n_iter_ * 6  # 120 rows in batches of 20
    assert np.all(_hidden_column_norms(reg) <= max_norm + 1e-6)


# --------------------------------------------------------------------------
# input noise and random streams


def test_input_noise_changes_training_but_not_prediction():
    X, y = _regression()
    params = dict(hidden_layer_sizes=(10,), max_iter=20, random_state=0)
    clean = MLPRegressor(**params).fit(X, y)
    noisy = MLPRegressor(input_noise=0.5, **params).fit(X, y)
    assert not np.allclose(clean.coefs_[0], noisy.coefs_[0])
    # the noise layer is the identity at predict time
    assert_allclose(noisy.predict(X), _plain_forward(noisy, X).ravel(), rtol=1e-10)


STOCHASTIC = {
    "dropout": dict(dropout=0.5),
    "input_dropout": dict(input_dropout=0.3),
    "dropconnect": dict(dropconnect=0.5),
    "input_noise": dict(input_noise=0.5),
}


@pytest.mark.parametrize("name", sorted(STOCHASTIC))
def test_masks_do_not_change_the_initial_weights(name):
    # after one epoch with a vanishing learning rate the weights are the
    # initial ones (to ~1e-10): they must not depend on the regularizer
    X, y = _classification()
    params = dict(
        hidden_layer_sizes=(10, 8), max_iter=1, learning_rate_init=1e-12, random_state=0
    )
    plain = MLPClassifier(**params).fit(X, y)
    masked = MLPClassifier(**params, **STOCHASTIC[name]).fit(X, y)
    for a, b in zip(plain.coefs_, masked.coefs_, strict=True):
        assert_allclose(a, b, atol=1e-9)
    for a, b in zip(plain.intercepts_, masked.intercepts_, strict=True):
        assert_allclose(a, b, atol=1e-9)
    # (and the initial weights do depend on random_state)
    other = MLPClassifier(**{**params, "random_state": 1}).fit(X, y)
    assert not np.allclose(plain.coefs_[0], other.coefs_[0])


def _record(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def recording(*args, **kwargs):
        result = original(*args, **kwargs)
        if name == "iterate_batches":
            result = list(result)
            rows = np.arange(args[1])  # n_samples
            calls.append([rows[index].copy() for index in result])
        else:
            calls.append(result)
        return result

    monkeypatch.setattr(module, name, recording)
    return calls


@pytest.mark.parametrize("name", sorted(STOCHASTIC))
def test_masks_do_not_change_the_batch_order_or_the_split(monkeypatch, name):
    X, y = _classification()
    params = dict(
        hidden_layer_sizes=(8,),
        max_iter=3,
        batch_size=16,
        early_stopping=True,
        validation_fraction=0.2,
        random_state=0,
    )
    batches = _record(monkeypatch, skreg._training, "iterate_batches")
    splits = _record(monkeypatch, skreg._base, "split_validation")
    MLPClassifier(**params).fit(X, y)
    MLPClassifier(**params, **STOCHASTIC[name]).fit(X, y)
    assert len(batches) == 6 and len(splits) == 2
    plain, masked = batches[:3], batches[3:]
    for epoch_plain, epoch_masked in zip(plain, masked, strict=True):
        assert len(epoch_plain) == len(epoch_masked)
        for a, b in zip(epoch_plain, epoch_masked, strict=True):
            assert_array_equal(a, b)
    # shuffling is on: the epochs differ from each other
    assert not np.array_equal(np.concatenate(plain[0]), np.concatenate(plain[1]))
    for a, b in zip(splits[0], splits[1], strict=True):
        assert_array_equal(a, b)


# --------------------------------------------------------------------------
# early stopping


def _noisy_split(Estimator, seed=0):
    if Estimator is MLPClassifier:
        X, y = make_classification(
            n_samples=300, n_features=20, n_informative=5, flip_y=0.2, random_state=seed
        )
    else:
        X, y = make_regression(
            n_samples=300, n_features=20, n_informative=5, noise=50.0, random_state=seed
        )
        y = y / y.std()
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.5, random_state=seed)


def _validation_loss(est, X, y, sample_weight=None):
    """The monitored validation loss, from the public predictions."""
    if isinstance(est, MLPClassifier):
        return log_loss(y, est.predict_proba(X), sample_weight=sample_weight)
    return 0.5 * np.average((est.predict(X) - y) ** 2, weights=sample_weight)


ES = dict(
    hidden_layer_sizes=(64,),
    learning_rate_init=0.01,
    max_iter=200,
    n_iter_no_change=5,
    random_state=0,
)


@pytest.mark.parametrize("batch_norm", [False, True])
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_early_stopping_restores_the_best_epoch(Estimator, batch_norm):
    X, X_val, y, y_val = _noisy_split(Estimator)
    est = Estimator(early_stopping=True, batch_norm=batch_norm, **ES)
    est.fit(X, y, X_val=X_val, y_val=y_val)
    curve = np.asarray(est.validation_loss_curve_)
    assert len(curve) == len(est.loss_curve_) == est.n_iter_
    # it stopped on patience, after the best epoch
    assert est.n_iter_ < ES["max_iter"]
    assert est.best_iteration_ < est.n_iter_
    assert est.best_iteration_ == np.argmin(curve) + 1
    assert curve[-1] > curve.min()
    # the kept model (weights and, with batch norm, running statistics) is
    # the best epoch's: its validation loss is that epoch's
    assert _validation_loss(est, X_val, y_val) == pytest.approx(curve.min(), rel=1e-9)
    assert est.best_validation_score_ == pytest.approx(-curve.min(), rel=1e-12)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_without_restore_the_last_epoch_is_kept(Estimator):
    X, X_val, y, y_val = _noisy_split(Estimator)
    est = Estimator(early_stopping=True, restore_best_weights=False, **ES)
    est.fit(X, y, X_val=X_val, y_val=y_val)
    curve = np.asarray(est.validation_loss_curve_)
    assert curve[-1] > curve.min()
    assert est.best_iteration_ is None
    assert _validation_loss(est, X_val, y_val) == pytest.approx(curve[-1], rel=1e-9)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_validation_set_is_used_instead_of_a_split(Estimator):
    X, X_val, y, y_val = _noisy_split(Estimator)
    weights = np.random.default_rng(0).uniform(0.1, 2.0, size=len(y_val))
    est = Estimator(early_stopping=True, **ES).fit(
        X, y, X_val=X_val, y_val=y_val, sample_weight_val=weights
    )
    # every training row is used for training: no split was taken
    assert est.t_ == est.n_iter_ * len(X)
    # the curve is the (weighted) loss on X_val
    best = est.validation_loss_curve_[est.best_iteration_ - 1]
    assert _validation_loss(est, X_val, y_val, weights) == pytest.approx(best, rel=1e-9)
    assert _validation_loss(est, X_val, y_val) != pytest.approx(best, rel=1e-6)
    # monitored without early stopping: recorded, but the last epoch is kept
    est = Estimator(early_stopping=False, **{**ES, "max_iter": 30}).fit(
        X, y, X_val=X_val, y_val=y_val
    )
    assert len(est.validation_loss_curve_) == est.n_iter_ == 30
    assert est.best_iteration_ is None
    assert _validation_loss(est, X_val, y_val) == pytest.approx(
        est.validation_loss_curve_[-1], rel=1e-9
    )


def _scorers(Estimator):
    if Estimator is MLPClassifier:
        named = ["loss", "accuracy", "neg_log_loss", "balanced_accuracy"]
        custom = make_scorer(lambda y, p: np.mean(y == p) ** 2)
    else:
        named = ["loss", "r2", "neg_mean_absolute_error"]
        custom = make_scorer(mean_absolute_error, greater_is_better=False)
    return [*named, custom]


@pytest.mark.parametrize(
    "Estimator, scoring",
    [(E, s) for E in (MLPClassifier, MLPRegressor) for s in _scorers(E)],
    ids=lambda v: v if isinstance(v, str) else getattr(v, "__name__", "callable"),
)
def test_early_stopping_honours_every_scoring(Estimator, scoring):
    X, X_val, y, y_val = _noisy_split(Estimator)
    est = Estimator(early_stopping=True, scoring=scoring, **ES)
    est.fit(X, y, X_val=X_val, y_val=y_val)
    scores = np.asarray(est.validation_scores_)
    assert len(scores) == len(est.validation_loss_curve_) == est.n_iter_
    assert est.best_validation_score_ == scores.max()
    assert scores[est.best_iteration_ - 1] == scores.max()
    # the kept model scores best_validation_score_ on X_val with that scorer
    if scoring == "loss":
        assert_allclose(scores, -np.asarray(est.validation_loss_curve_))
        final = -_validation_loss(est, X_val, y_val)
    else:
        final = (
            get_scorer(scoring)(est, X_val, y_val)
            if isinstance(scoring, str)
            else scoring(est, X_val, y_val)
        )
    assert final == pytest.approx(est.best_validation_score_, rel=1e-9, abs=1e-12)


def test_early_stopping_on_too_small_data_says_so():
    X, y = _classification(n_samples=9)  # 10% of 9 rows: 1 validation row
    clf = MLPClassifier(
        hidden_layer_sizes=(4,), early_stopping=True, max_iter=5, random_state=0
    )
    with pytest.warns(UserWarning, match="early_stopping is turned off"):
        clf.fit(X, y)
    assert clf.validation_scores_ is None and clf.best_iteration_ is None
    assert clf.t_ == clf.n_iter_ * len(X)


def test_early_stopping_keeps_at_least_two_training_rows():
    """A split leaving one training row is refused, so batch norm (which needs
    two rows per batch) can train on what the split would have left."""
    X, y = _regression(n_samples=3)
    reg = MLPRegressor(
        hidden_layer_sizes=(4,),
        batch_norm=True,
        early_stopping=True,
        validation_fraction=0.5,  # 2 validation rows, 1 training row
        max_iter=2,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="2 validation and 1 training samples"):
        reg.fit(X, y)
    assert reg.validation_scores_ is None
    assert reg.t_ == reg.n_iter_ * len(X)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_early_stopping_auto_turns_on_with_a_validation_set(Estimator):
    X, X_val, y, y_val = _noisy_split(Estimator)
    auto = Estimator(early_stopping="auto", **ES)
    auto.fit(X, y, X_val=X_val, y_val=y_val)
    on = clone(auto).set_params(early_stopping=True).fit(X, y, X_val=X_val, y_val=y_val)
    assert auto.n_iter_ == on.n_iter_ < ES["max_iter"]
    assert auto.best_iteration_ == on.best_iteration_ is not None
    # without X_val, on small data, "auto" leaves it off
    auto_small = clone(auto).set_params(max_iter=5).fit(X, y)
    assert auto_small.validation_scores_ is None
    assert auto_small.t_ == auto_small.n_iter_ * len(X)


# --------------------------------------------------------------------------
# Monte Carlo dropout


@pytest.mark.parametrize(
    "params",
    [dict(dropout=0.2), dict(dropconnect=0.2), dict(input_dropout=0.2)],
    ids=["dropout", "dropconnect", "input_dropout"],
)
def test_sample_predictions_vary_between_passes(params):
    X, y = _regression()
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=30, random_state=0, **params)
    reg.fit(X, y)
    samples = reg.sample_predictions(X[:20], n_samples=25, random_state=0)
    assert samples.shape == (25, 20)
    assert np.all(samples.std(axis=0) > 0)
    assert_array_equal(
        reg.sample_predictions(X[:20], n_samples=25, random_state=0), samples
    )
    assert not np.array_equal(
        reg.sample_predictions(X[:20], n_samples=25, random_state=1), samples
    )
    # predict itself stays deterministic
    assert_array_equal(reg.predict(X[:20]), reg.predict(X[:20]))


def test_sample_predictions_of_a_classifier_are_probabilities():
    X, y = _classification()
    clf = MLPClassifier(
        hidden_layer_sizes=(16,), dropout=0.3, max_iter=30, random_state=0
    ).fit(X, y)
    samples = clf.sample_predictions(X[:10], n_samples=15, random_state=0)
    assert samples.shape == (15, 10, 3)
    assert_allclose(samples.sum(axis=2), 1.0)
    assert np.all(samples.std(axis=0) > 0)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_sample_predictions_mean_approaches_prediction_for_small_rates(Estimator):
    X, y = _classification() if Estimator is MLPClassifier else _regression()
    est = Estimator(
        hidden_layer_sizes=(16,), dropout=0.2, max_iter=50, random_state=0
    ).fit(X, y)
    pred = _output(est, X)
    errors = []
    for rate in (0.4, 0.1, 0.01):
        # same weights, masks of a different rate (prediction is unchanged);
        # set_params would not do: predictions use the fitted settings
        est._fitted_architecture["dropout"] = [rate]
        assert_array_equal(_output(est, X), pred)
        mean = est.sample_predictions(X, n_samples=300, random_state=0).mean(axis=0)
        errors.append(np.sqrt(np.mean((mean - pred) ** 2)))
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.05 * np.std(pred)


def test_sample_predictions_use_running_statistics_and_no_input_noise():
    # without masks every pass is the deterministic prediction
    X, y = _regression()
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        batch_norm=True,
        input_noise=0.5,
        max_iter=20,
        random_state=0,
    ).fit(X, y)
    samples = reg.sample_predictions(X[:10], n_samples=5, random_state=0)
    for sample in samples:
        assert_allclose(sample, reg.predict(X[:10]), rtol=1e-12)


def test_regressor_return_std():
    X, y = _regression()
    params = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0)
    reg = MLPRegressor(dropout=0.2, **params).fit(X, y)
    mean, std = reg.predict(X[:10], return_std=True)
    assert mean.shape == std.shape == (10,)
    assert np.all(std > 0)
    samples = reg.sample_predictions(X[:10], random_state=0)
    assert_allclose(mean, samples.mean(axis=0))
    assert_allclose(std, samples.std(axis=0))

    plain = MLPRegressor(**params).fit(X, y)
    with pytest.warns(UserWarning, match="standard deviation is zero"):
        mean, std = plain.predict(X[:10], return_std=True)
    assert_array_equal(std, 0.0)
    assert_array_equal(mean, plain.predict(X[:10]))


# --------------------------------------------------------------------------
# the overfitting experiment


@pytest.mark.slow
def test_regularizers_beat_an_overfitting_network():
    """A (256, 256) network memorizes 200 noisy samples (20% flipped labels).

    Dropout, ElasticNet and early stopping each improve the held-out log-loss
    on every split and the held-out accuracy on average. Margins measured on
    6 splits: log-loss gains >= 0.43 per split, mean accuracy gains >= 0.024
    over any 4 consecutive seeds, >= 0.033 over seeds 0-2 (asserted here).
    """
    regularized = {
        "dropout": dict(dropout=0.5),
        "elastic_net": dict(alpha=3e-3, l1_ratio=0.5),
        "early_stopping": dict(early_stopping=True, validation_fraction=0.2),
    }
    accuracy = {name: [] for name in ["none", *regularized]}
    loss = {name: [] for name in ["none", *regularized]}
    for seed in range(3):
        X, y = make_classification(
            n_samples=1200,
            n_features=20,
            n_informative=5,
            flip_y=0.2,
            random_state=seed,
        )
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, train_size=200, random_state=seed
        )
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        for name, params in [("none", {}), *regularized.items()]:
            clf = (
                MLPClassifier(
                    hidden_layer_sizes=(256, 256),
                    alpha=0.0,
                    max_iter=100,
                    random_state=seed,
                )
                .set_params(**params)
                .fit(X_train, y_train)
            )
            accuracy[name].append(clf.score(X_test, y_test))
            loss[name].append(log_loss(y_test, clf.predict_proba(X_test)))
            if name == "none":
                # it does overfit: training labels memorized, test far below
                assert clf.score(X_train, y_train) > 0.97
                assert clf.score(X_test, y_test) < clf.score(X_train, y_train) - 0.15
    for name in regularized:
        assert np.all(np.asarray(loss["none"]) - loss[name] > 0.2), (name, loss)
        assert np.mean(accuracy[name]) - np.mean(accuracy["none"]) > 0.01, (
            name,
            accuracy,
        )


# --------------------------------------------------------------------------
# the default stop (tol, n_iter_no_change) and stochastic regularizers


def _blobs():
    """300 standardized points of 3 well-separated blobs (a linear model
    separates them all)."""
    X, y = make_blobs(n_samples=300, centers=3, random_state=7)
    return StandardScaler().fit_transform(X), y


ORDINARY_RATES = [
    dict(dropout=0.3),
    dict(dropout=0.5),
    dict(dropconnect=0.3),
    dict(dropconnect=0.5),
    dict(dropconnect=0.5, dropconnect_mask="sample"),
    dict(input_dropout=0.2),
    dict(input_dropout=0.3),
    dict(input_noise=0.3),
    dict(input_noise=0.5),
]


@pytest.mark.parametrize("params", ORDINARY_RATES, ids=str)
def test_each_stochastic_regularizer_alone_fits_separable_blobs(params):
    """Every other parameter at its default: the noise of the masks must not
    end training (one DropConnect mask per mini-batch used to stop after 16
    epochs at 0.67 training accuracy)."""
    X, y = _blobs()
    assert MLPClassifier(random_state=0, **params).fit(X, y).score(X, y) >= 0.99


def _stop_epoch(curve, tol, n_iter_no_change):
    """The epoch at which scikit-learn's rule stops on ``curve``, or None."""
    best, count = np.inf, 0
    for epoch, value in enumerate(curve, start=1):
        count = count + 1 if value > best - tol else 0
        best = min(best, value)
        if count > n_iter_no_change:
            return epoch
    return None


def test_without_stochastic_regularizers_patience_counts_on_the_epoch_loss():
    X, y = _blobs()
    est = MLPClassifier(hidden_layer_sizes=(10,), max_iter=2000, random_state=0)
    est.fit(X, y)
    assert est.n_iter_ < 2000
    assert _stop_epoch(est.loss_curve_, est.tol, est.n_iter_no_change) == est.n_iter_


def _epochs_until_stop(epoch_losses, mean_network_losses):
    """Epochs ``_end_of_epoch`` runs before stopping, fed these curves."""
    settings = LoopSettings(
        batch_size=10, max_iter=100, shuffle=False, tol=0.1, n_iter_no_change=2
    )
    history = History()
    values = iter(mean_network_losses or [])
    mean_network = None if mean_network_losses is None else lambda net: next(values)
    for epoch, loss in enumerate(epoch_losses, start=1):
        history.loss_curve.append(loss)
        if _end_of_epoch(None, history, settings, None, None, {}, mean_network):
            return epoch
    return None


def test_patience_counts_on_the_mean_network_when_it_is_given():
    noisy = [5.0, 1.0, 3.0, 2.0, 1.5, 1.2, 1.1, 1.05]  # a lucky epoch 2
    steady = [5.0, 4.0, 3.0, 2.0, 1.5, 1.2, 1.1, 1.05]
    assert _epochs_until_stop(noisy, None) == 5  # stopped by the lucky epoch
    assert _epochs_until_stop(noisy, steady) is None
    flat = [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    assert _epochs_until_stop(steady, flat) == 4


# --------------------------------------------------------------------------
# the order of the layers, and which layer each per-layer value acts on


def _describe(layer):
    if isinstance(layer, Dense):
        return ("Dense", layer.n_in, layer.n_out, layer.bias, layer.dropconnect)
    if isinstance(layer, Dropout):
        return ("Dropout", layer.rate)
    if isinstance(layer, GaussianNoise):
        return ("GaussianNoise", layer.std)
    if isinstance(layer, BatchNorm):
        return ("BatchNorm", layer.n_units)
    assert isinstance(layer, Activation)
    return ("Activation", layer.name)


def test_layers_come_in_order_and_per_layer_values_act_on_their_layer():
    """noise -> input dropout -> (Dense -> batch norm -> activation ->
    dropout) per hidden layer -> output Dense; value i of dropout,
    dropconnect and batch_norm acts on hidden layer i (dropconnect's last
    value on the output layer)."""
    layers = build_layers(
        [3, 4, 5, 2],
        activation="tanh",
        dropout=[0.1, 0.2],
        dropconnect=[0.3, 0.0, 0.4],
        batch_norm=[True, False],
        input_dropout=0.25,
        input_noise=0.5,
    )
    assert [_describe(layer) for layer in layers] == [
        ("GaussianNoise", 0.5),
        ("Dropout", 0.25),
        ("Dense", 3, 4, False, 0.3),  # batch norm's beta replaces the bias
        ("BatchNorm", 4),
        ("Activation", "tanh"),
        ("Dropout", 0.1),
        ("Dense", 4, 5, True, 0.0),
        ("Activation", "tanh"),
        ("Dropout", 0.2),
        ("Dense", 5, 2, True, 0.4),
    ]


def test_an_estimator_builds_the_layers_of_its_parameters():
    X, y = _classification()
    est = MLPClassifier(
        hidden_layer_sizes=(4, 5),
        dropout=[0.0, 0.2],
        dropconnect=[0.0, 0.3, 0.0],
        batch_norm=[False, True],
        max_iter=1,
        random_state=0,
    ).fit(X, y)
    assert [p is not None for p in est.batch_norm_params_] == [False, True]
    network = est._prediction_network()
    assert [_describe(layer) for layer in network.layers] == [
        ("Dense", 6, 4, True, 0.0),
        ("Activation", "relu"),
        ("Dense", 4, 5, False, 0.3),
        ("BatchNorm", 5),
        ("Activation", "relu"),
        ("Dropout", 0.2),
        ("Dense", 5, 3, True, 0.0),
    ]


def _mean_network_rows(monkeypatch, n_samples, **params):
    """Rows the patience's mean-network loss is computed on (None: not used)."""
    seen = []
    real = skreg._base.ValidationMonitor

    def recording(X, Y, sample_weight, loss, scorer=None):
        seen.append(X.shape[0])
        return real(X, Y, sample_weight, loss, scorer)

    monkeypatch.setattr(skreg._base, "ValidationMonitor", recording)
    X, y = _classification(n_samples)
    MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0, **params).fit(
        X, y
    )
    return seen[0] if seen else None


@pytest.mark.parametrize(
    "n_samples, params, rows",
    [
        (300, dict(dropout=0.2), 300),
        (3000, dict(input_noise=0.2), 2048),  # a fixed subset on larger data
        (300, {}, None),  # deterministic: patience on the epoch loss, as before
        (300, dict(dropout=0.2, n_iter_no_change=np.inf), None),  # cannot stop
    ],
)
def test_the_mean_network_loss_is_computed_only_when_it_decides(
    monkeypatch, n_samples, params, rows
):
    assert _mean_network_rows(monkeypatch, n_samples, **params) == rows
