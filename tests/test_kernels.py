"""The optional numba kernels give bit for bit the numpy path's results."""

import numpy as np
import pytest

from skreg import MLPClassifier, MLPRegressor, _kernels, _optimizers
from skreg._optimizers import SGD, Adam
from skreg._penalties import ElasticNet

pytest.importorskip("numba")

OPTIMIZERS = {
    "adam": lambda n, dt: Adam(n, dt, learning_rate=1e-2),
    "sgd": lambda n, dt: SGD(n, dt, learning_rate=0.1, momentum=0.0),
    "momentum": lambda n, dt: SGD(n, dt, learning_rate=0.1, nesterov=False),
    "nesterov": lambda n, dt: SGD(n, dt, learning_rate=0.1, nesterov=True),
}
PENALTIES = {
    "none": None,
    "l2": ElasticNet(0.1, 0.0),
    "l1": ElasticNet(0.1, 1.0),
    "elasticnet": ElasticNet(0.1, 0.5),
}


def _run(name, penalty, dtype, n_steps=5, n=5000, n_penalized=3000):
    rng = np.random.default_rng(0)
    params = rng.standard_normal(n).astype(dtype)
    optimizer = OPTIMIZERS[name](n, dtype)
    for _ in range(n_steps):
        grads = rng.standard_normal(n).astype(dtype)
        grads[::7] = 0.0  # signed zeros and plateaus on the way
        optimizer.step(params, grads, penalty, n_penalized)
    return params


def test_kernels_are_compiled():
    assert _kernels.get_kernels() is not None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_compiled_step_matches_numpy_bit_for_bit(name, penalty, dtype, monkeypatch):
    compiled = _run(name, PENALTIES[penalty], dtype)
    monkeypatch.setattr(_optimizers, "get_kernels", lambda: None)
    reference = _run(name, PENALTIES[penalty], dtype)
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
    ],
)
def test_fit_is_identical_with_and_without_kernels(Estimator, params, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 8))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) if Estimator is MLPClassifier else X[:, 0]
    kwargs = dict(hidden_layer_sizes=(16,), max_iter=20, random_state=0, **params)
    compiled = Estimator(**kwargs).fit(X, y)
    monkeypatch.setattr(_optimizers, "get_kernels", lambda: None)
    reference = Estimator(**kwargs).fit(X, y)
    for a, b in zip(
        compiled.coefs_ + compiled.intercepts_,
        reference.coefs_ + reference.intercepts_,
        strict=True,
    ):
        np.testing.assert_array_equal(a, b, strict=True)
    assert compiled.loss_curve_ == reference.loss_curve_


def test_environment_variable_disables_kernels(monkeypatch):
    monkeypatch.setattr(_kernels, "_kernels", _kernels._UNSET)
    monkeypatch.setenv("SKREG_NUMBA", "0")
    assert _kernels.get_kernels() is None
    monkeypatch.setattr(_kernels, "_kernels", _kernels._UNSET)
    monkeypatch.delenv("SKREG_NUMBA")
    assert _kernels.get_kernels() is not None
