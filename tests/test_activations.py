"""GELU, SiLU, Mish and SELU: values against their papers' definitions, SELU's
LeCun-normal initialization and self-normalization, and the estimators.

Their gradients are checked in tests/test_gradients.py (test_activation_gradients).
"""

import pickle
import warnings

import numpy as np
import pytest
import scipy.stats
from numpy.testing import assert_allclose, assert_array_equal

from skreg import MLPClassifier, MLPRegressor
from skreg._layers import Activation, Context
from skreg._network import Network, build_layers

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

NEW_ACTIVATIONS = ["gelu", "silu", "mish", "selu"]

# Klambauer et al. (2017), eq. (14): the fixed-point solutions for (mean, var) = (0, 1)
SELU_ALPHA, SELU_LAMBDA = 1.6732632423543772, 1.0507009873554805


def _reference(name, x):
    """Each activation written from its paper's formula, in float64."""
    if name == "gelu":  # x * Phi(x)
        return x * scipy.stats.norm.cdf(x)
    if name == "silu":  # x * sigmoid(x)
        return x / (1.0 + np.exp(-x))
    if name == "mish":  # x * tanh(ln(1 + e^x))
        return x * np.tanh(np.log1p(np.exp(x)))
    if name == "selu":
        return SELU_LAMBDA * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1.0))
    raise AssertionError(name)


def _apply(name, X):
    Y, _ = Activation(name).forward(X, Context())
    return Y


@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_values_match_paper_definitions(name):
    x = np.linspace(-8.0, 8.0, 161).reshape(7, 23)
    assert_allclose(_apply(name, x.copy()), _reference(name, x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_float32_stays_float32_and_close(name):
    x = np.linspace(-6.0, 6.0, 60).reshape(6, 10)
    Y = _apply(name, x.astype(np.float32))
    assert Y.dtype == np.float32
    assert_allclose(Y, _reference(name, x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_extreme_inputs_are_finite_without_warnings(name):
    x = np.array([[-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Y = _apply(name, x.copy())
        _, backward = Activation(name).forward(x.copy(), Context())
        dX = backward(np.ones_like(x))
    assert np.all(np.isfinite(Y)) and np.all(np.isfinite(dX))
    # far out, each is the identity (times lambda for SELU) on the right
    # and its lower limit on the left
    scale = SELU_LAMBDA if name == "selu" else 1.0
    assert Y[0, -1] == pytest.approx(scale * 1e4)
    lower = -SELU_LAMBDA * SELU_ALPHA if name == "selu" else 0.0
    assert Y[0, 0] == pytest.approx(lower, abs=1e-12)


@pytest.mark.parametrize("name", ["gelu", "silu", "mish"])
def test_smooth_activations_leave_their_input_unchanged(name):
    # their backward step needs the input: it must survive the forward pass
    X = np.random.default_rng(0).normal(size=(5, 4))
    original = X.copy()
    _apply(name, X)
    assert_array_equal(X, original)


def test_selu_initializes_lecun_normal():
    layers = build_layers([300, 400, 2], activation="selu")
    network = Network(layers, dtype=np.float64)
    network.initialize(np.random.default_rng(0))
    for dense in network.dense_layers:
        coef = dense.params["coef"]
        # the sample std of 120,000 (800) normal draws is within 1 % (5 %)
        assert np.std(coef) == pytest.approx(np.sqrt(1.0 / dense.n_in), rel=0.05)
        assert_array_equal(dense.params["intercept"], 0.0)
    # normal (excess kurtosis 0, sd 0.014 over 120,000 draws), not uniform (-1.2)
    first = network.dense_layers[0].params["coef"].ravel()
    assert abs(scipy.stats.kurtosis(first)) < 0.1


def test_other_activations_keep_glorot_uniform():
    layers = build_layers([300, 400, 2], activation="gelu")
    network = Network(layers, dtype=np.float64)
    network.initialize(np.random.default_rng(0))
    coef = network.dense_layers[0].params["coef"]
    bound = np.sqrt(6.0 / (300 + 400))
    assert np.abs(coef).max() <= bound
    assert scipy.stats.kurtosis(coef.ravel()) < -1.0  # uniform: -1.2


def test_selu_self_normalizes_through_depth():
    """Klambauer et al.'s fixed point: with LeCun-normal weights, activations
    of standardized inputs keep mean ~0 and variance ~1 over many layers."""
    width, depth = 256, 16
    layers = build_layers([width] * (depth + 1) + [1], activation="selu")
    network = Network(layers, dtype=np.float64)
    network.initialize(np.random.default_rng(1))
    X = np.random.default_rng(2).standard_normal((2000, width))
    ctx = Context()
    for layer in network.layers[:-1]:
        X, _ = layer.forward(X, ctx)
    assert abs(X.mean()) < 0.15
    assert X.var() == pytest.approx(1.0, abs=0.25)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(120, 5))
    return X, X[:, 0] - 2 * X[:, 1] ** 2 + 0.1 * rng.normal(size=120)


@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_estimators_learn_with_each_activation(name):
    X, y = _data()
    reg = MLPRegressor(
        hidden_layer_sizes=(32,),
        activation=name,
        learning_rate_init=0.01,
        max_iter=300,
        random_state=0,
    ).fit(X, y)
    assert reg.score(X, y) > 0.8
    labels = X[:, 0] + X[:, 1] > 0
    clf = MLPClassifier(
        hidden_layer_sizes=(16,), activation=name, max_iter=300, random_state=0
    ).fit(X, labels)
    assert clf.score(X, labels) > 0.9


@pytest.mark.parametrize("name", NEW_ACTIVATIONS)
def test_lbfgs_trains_with_each_activation(name):
    X, y = _data(1)
    reg = MLPRegressor(
        hidden_layer_sizes=(16,), activation=name, solver="lbfgs", random_state=0
    ).fit(X, y)
    assert reg.score(X, y) > 0.9


@pytest.mark.parametrize("name", ["selu", "mish"])
def test_reproducible_picklable_and_incremental(name):
    X, y = _data(2)
    settings = dict(hidden_layer_sizes=(8,), activation=name, max_iter=20)
    a = MLPRegressor(random_state=4, **settings).fit(X, y)
    b = MLPRegressor(random_state=4, **settings).fit(X, y)
    assert_array_equal(a.predict(X), b.predict(X))
    restored = pickle.loads(pickle.dumps(a))
    assert_array_equal(restored.predict(X), a.predict(X))
    before = a.predict(X)
    a.partial_fit(X, y)
    assert not np.array_equal(a.predict(X), before)
