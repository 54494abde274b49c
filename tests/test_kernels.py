"""The optional numba kernels give bit for bit the numpy path's results."""

import os

import numpy as np
import pytest

from skreg import MLPClassifier, MLPRegressor, _kernels, _layers, _optimizers
from skreg._layers import Activation, BatchNorm, Context, Dense, Dropout
from skreg._optimizers import SGD, Adam
from skreg._penalties import ElasticNet

pytest.importorskip("numba")
if os.environ.get("SKREG_NUMBA", "1") == "0":
    pytest.skip("SKREG_NUMBA=0 turns the kernels off", allow_module_level=True)

DEFAULT_MIN_PARAMS = _kernels.KERNEL_MIN_PARAMS


@pytest.fixture(autouse=True)
def kernels_for_every_size(monkeypatch):
    """The tests' small networks use the kernels too (normally >= 100k params)."""
    monkeypatch.setattr(_kernels, "KERNEL_MIN_PARAMS", 0)


OPTIMIZERS = {
    "adam": lambda n, dt: Adam(n, dt, learning_rate=1e-2),
    "sgd": lambda n, dt: SGD(n, dt, learning_rate=0.1, momentum=0.0),
    "momentum": lambda n, dt: SGD(n, dt, learning_rate=0.1, nesterov=False),
    "nesterov": lambda n, dt: SGD(n, dt, learning_rate=0.1, nesterov=True),
    "adamw": lambda n, dt: Adam(n, dt, learning_rate=1e-2, weight_decay=0.3),
    "sgdw": lambda n, dt: SGD(n, dt, learning_rate=0.1, weight_decay=0.3),
}
# a schedule's factor per step, a step at a factor of 0 among them
RATE_FACTORS = [0.3, 1.0, 0.0, 0.05, 0.71]
PENALTIES = {
    "none": None,
    "l2": ElasticNet(0.1, 0.0),
    "l1": ElasticNet(0.1, 1.0),
    "elasticnet": ElasticNet(0.1, 0.5),
}


def _run(name, penalty, dtype, n_steps=5, n=5000, n_penalized=3000, scheduled=False):
    rng = np.random.default_rng(0)
    params = rng.standard_normal(n).astype(dtype)
    optimizer = OPTIMIZERS[name](n, dtype)
    for step in range(n_steps):
        if scheduled:
            optimizer.rate_factor = RATE_FACTORS[step % len(RATE_FACTORS)]
        grads = rng.standard_normal(n).astype(dtype)
        grads[::7] = 0.0  # signed zeros and plateaus on the way
        optimizer.step(params, grads, penalty, n_penalized)
    return params


def test_kernels_are_compiled():
    assert _kernels.get_kernels() is not None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("scheduled", [False, True], ids=["constant", "scheduled"])
def test_compiled_step_matches_numpy_bit_for_bit(
    name, penalty, dtype, scheduled, monkeypatch
):
    compiled = _run(name, PENALTIES[penalty], dtype, scheduled=scheduled)
    _without_kernels(monkeypatch)
    reference = _run(name, PENALTIES[penalty], dtype, scheduled=scheduled)
    assert compiled.dtype == reference.dtype == dtype
    np.testing.assert_array_equal(compiled, reference, strict=True)
    # the sign of zeros too (the L1 step makes exact zeros)
    np.testing.assert_array_equal(np.signbit(compiled), np.signbit(reference))
    if penalty in ("l1", "elasticnet"):
        assert np.sum(compiled == 0) > 0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "Estimator, params",
    [
        (MLPClassifier, {"solver": "adam", "alpha": 0.01, "l1_ratio": 0.5}),
        (MLPClassifier, {"solver": "sgd", "alpha": 0.001, "dtype": "float32"}),
        (MLPRegressor, {"solver": "adam", "alpha": 0.01, "dropout": 0.2}),
        (MLPClassifier, {"dropconnect": 0.3, "input_dropout": 0.1, "dtype": "float32"}),
        (MLPRegressor, {"batch_norm": True, "dropout": 0.1, "dtype": "float32"}),
        (MLPRegressor, {"input_noise": 0.1, "dropout": 0.3, "dtype": "float32"}),
        (MLPClassifier, {"batch_norm": True, "l1_ratio": 1.0, "alpha": 1e-3}),
        (
            MLPClassifier,
            {"learning_rate": "cosine", "weight_decay": 0.1, "dtype": "float32"},
        ),
        (
            MLPRegressor,
            {"solver": "sgd", "learning_rate": "one_cycle", "max_grad_norm": 0.5},
        ),
        (
            MLPClassifier,
            {
                "learning_rate": "coslog4",
                "warmup_fraction": 0.2,
                "max_grad_norm": 1.0,
                "weight_decay": 0.05,
                "alpha": 1e-3,
                "l1_ratio": 0.5,
                "dtype": "float32",
            },
        ),
        (
            MLPRegressor,
            {"solver": "sgd", "learning_rate": "invscaling", "warmup_fraction": 0.3},
        ),
    ],
)
def test_fit_is_identical_with_and_without_kernels(Estimator, params, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 8))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) if Estimator is MLPClassifier else X[:, 0]
    sample_weight = rng.uniform(0.5, 2.0, len(y))  # weighted batch statistics
    kwargs = dict(hidden_layer_sizes=(16,), max_iter=20, random_state=0, **params)
    compiled = Estimator(**kwargs).fit(X, y, sample_weight=sample_weight)
    _without_kernels(monkeypatch)
    reference = Estimator(**kwargs).fit(X, y, sample_weight=sample_weight)
    for a, b in zip(
        compiled.coefs_ + compiled.intercepts_,
        reference.coefs_ + reference.intercepts_,
        strict=True,
    ):
        np.testing.assert_array_equal(a, b, strict=True)
    assert compiled.loss_curve_ == reference.loss_curve_
    for a, b in zip(
        compiled.batch_norm_params_, reference.batch_norm_params_, strict=True
    ):
        assert (a is None) == (b is None)
        for key in a or {}:
            np.testing.assert_array_equal(a[key], b[key], strict=True)


class _CallCounter:
    """Wraps the kernels and counts the calls of each."""

    def __init__(self, kernels):
        self.kernels, self.calls = kernels, {}

    def __getattr__(self, name):
        kernel = getattr(self.kernels, name)

        def counted(*args):
            self.calls[name] = self.calls.get(name, 0) + 1
            return kernel(*args)

        return counted


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("min_params, used", [(0, True), (10**9, False)])
def test_only_networks_above_the_size_threshold_use_kernels(
    min_params, used, monkeypatch
):
    counter = _CallCounter(_kernels.get_kernels())
    monkeypatch.setattr(_kernels, "_kernels", counter)
    monkeypatch.setattr(_kernels, "KERNEL_MIN_PARAMS", min_params)
    X = np.random.default_rng(0).standard_normal((100, 5))
    MLPClassifier(
        hidden_layer_sizes=(8,),
        dropout=0.2,
        dropconnect=0.2,
        batch_norm=True,
        max_iter=3,
    ).fit(X, X[:, 0] > 0)
    expected = {
        "batch_norm_center",
        "batch_norm_scale",
        "batch_norm_backward",
        "adam_step",
        "dropout",
        "dropconnect",
        "multiply_by_keep",
        "pcg64_lanes",
        "relu",
        "relu_backward",
    }
    assert set(counter.calls) == (expected if used else set())


def test_default_threshold_separates_small_and_large_networks(monkeypatch):
    monkeypatch.setattr(_kernels, "KERNEL_MIN_PARAMS", DEFAULT_MIN_PARAMS)
    digits_net = 64 * 100 + 100 + 100 * 10 + 10  # a fit of well under a second
    mnist_net = 784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10
    assert not _kernels.kernels_wanted(digits_net)
    assert _kernels.kernels_wanted(mnist_net)


def test_environment_variable_disables_kernels(monkeypatch):
    monkeypatch.setattr(_kernels, "_kernels", _kernels._UNSET)
    monkeypatch.setenv("SKREG_NUMBA", "0")
    assert _kernels.get_kernels() is None
    monkeypatch.setattr(_kernels, "_kernels", _kernels._UNSET)
    monkeypatch.delenv("SKREG_NUMBA")
    assert _kernels.get_kernels() is not None


def _without_kernels(monkeypatch):
    monkeypatch.setattr(_layers, "get_kernels", lambda: None)
    monkeypatch.setattr(_optimizers, "get_kernels", lambda: None)


def _layer_pass(layer, X, seed, compiled):
    """Forward and backward of ``layer`` in training mode: (Y, dX, grads)."""
    ctx = Context(
        training=True,
        rng=np.random.default_rng(seed),
        kernels=compiled,
        reuse_buffers=True,
    )
    Y, backward = layer.forward(X.copy(), ctx)
    Y = Y.copy()
    dY = np.random.default_rng(seed + 1).standard_normal(Y.shape).astype(X.dtype)
    dX = backward(dY)
    grads = {k: v.copy() for k, v in getattr(layer, "grads", {}).items()}
    return Y, None if dX is None else dX.copy(), grads


def _bound_dense(n_in, n_out, dtype, rate):
    layer = Dense(n_in, n_out, dropconnect=rate)
    n = n_in * n_out + n_out
    params = np.random.default_rng(5).standard_normal(n).astype(dtype)
    grads = np.zeros(n, dtype=dtype)

    def views(flat):
        return {
            "coef": flat[: n_in * n_out].reshape(n_in, n_out),
            "intercept": flat[n_in * n_out :],
        }

    layer.bind(views(params), views(grads))
    return layer


def _bound_batch_norm(n_units, dtype):
    layer = BatchNorm(n_units)
    rng = np.random.default_rng(6)
    params = rng.uniform(0.5, 2, 2 * n_units).astype(dtype)
    grads = np.zeros(2 * n_units, dtype=dtype)
    layer.bind(
        {"gamma": params[:n_units], "beta": params[n_units:]},
        {"gamma": grads[:n_units], "beta": grads[n_units:]},
    )
    return layer


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rate", [0.0, 0.3, 0.5, 1 - 1e-12])
@pytest.mark.parametrize("kind", ["dropout", "dropconnect", "relu", "batch_norm"])
def test_layer_kernels_match_numpy_bit_for_bit(kind, rate, dtype, monkeypatch):
    X = np.random.default_rng(3).standard_normal((37, 23)).astype(dtype)
    X[::5, ::3] = 0.0
    if kind in ("dropout", "relu"):
        X[1, 1] = np.inf  # inf * 0 is NaN in both paths
    if kind == "relu":  # numpy's maximum: NaN stays NaN, -0.0 becomes +0.0
        X[2, 2], X[3, 3] = np.nan, -0.0

    def make():
        if kind == "dropout":
            return Dropout(rate) if rate else Dropout(0.5)
        if kind == "dropconnect":
            return _bound_dense(23, 7, dtype, rate or 0.5)
        if kind == "batch_norm":
            return _bound_batch_norm(23, dtype)
        return Activation("relu")

    compiled = _layer_pass(make(), X, seed=11, compiled=True)
    reference = _layer_pass(make(), X, seed=11, compiled=False)
    for a, b in zip(compiled[:2], reference[:2], strict=True):
        np.testing.assert_array_equal(a, b, strict=True)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b))
    for name in reference[2]:
        np.testing.assert_array_equal(compiled[2][name], reference[2][name])


@pytest.mark.parametrize("n", [0, 1, 31, 32, 33, 1000, 4097])
def test_compiled_generator_gives_numpy_pcg64_words_and_state(n):
    reference, compiled = np.random.PCG64(7), np.random.PCG64(7)
    for bit_generator in (reference, compiled):
        # leave a buffered 32-bit half-word, which random_raw must not touch
        np.random.Generator(bit_generator).random(3, dtype=np.float32)
    words = _kernels.pcg64_random_raw(compiled, n, _kernels.get_kernels())
    np.testing.assert_array_equal(words, reference.random_raw(n), strict=True)
    assert compiled.state == reference.state
    after = [
        np.random.Generator(g).random(5, dtype=np.float32)
        for g in (compiled, reference)
    ]
    np.testing.assert_array_equal(*after)
