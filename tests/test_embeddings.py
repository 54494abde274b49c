"""The periodic numeric-feature embedding (numeric_embedding='pbld'): the
layer against its formula, its initialization, and the estimators' use of it.

Its float64 gradients are checked in tests/test_gradients.py."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from skreg import MLPClassifier, MLPRegressor
from skreg._embeddings import PeriodicEmbedding
from skreg._layers import Context
from skreg._network import Network

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _initialized(n_features, seed=0, **kwargs):
    layer = PeriodicEmbedding(n_features, **kwargs)
    Network([layer], dtype=np.float64).initialize(np.random.default_rng(seed))
    return layer


def test_forward_is_the_pbld_formula():
    layer = _initialized(4, n_frequencies=6, frequency_init_scale=0.7)
    X = np.random.default_rng(1).normal(size=(9, 4))
    Y, _ = layer.forward(X.copy(), Context())
    p = layer.params
    learned = [
        np.cos(2 * np.pi * np.outer(X[:, j], p["frequencies"][j]) + p["phases"][j])
        @ p["coef"][j]
        + p["intercept"][j]
        for j in range(4)
    ]
    assert Y.shape == (9, 16)
    assert_allclose(Y, np.hstack([*learned, X]), rtol=1e-12, atol=1e-14)


def test_initialization_follows_realmlp():
    k, sigma = 16, 0.1
    layer = _initialized(200, n_frequencies=k, frequency_init_scale=sigma)
    p = layer.params
    # 3,200 normal draws: sample std within 5 %
    assert np.std(p["frequencies"]) == pytest.approx(sigma, rel=0.05)
    assert np.abs(p["phases"]).max() <= np.pi
    assert np.std(p["phases"]) == pytest.approx(np.pi / np.sqrt(3), rel=0.05)
    bound = 1 / np.sqrt(k)
    for name in ("coef", "intercept"):
        assert np.abs(p[name]).max() <= bound
        assert np.abs(p[name]).max() > 0.95 * bound


def _wave(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, np.sin(6 * X[:, 0]) * np.cos(4 * X[:, 1])


def _regressor(**params):
    settings = dict(
        hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=60, random_state=0
    )
    return MLPRegressor(**{**settings, **params})


def test_embedding_helps_on_an_oscillating_target():
    """Periodic functions of the inputs fit a wave the plain ReLU network
    approximates only piece by piece (same budget, same seed)."""
    X, y = _wave(600, 0)
    X_test, y_test = _wave(600, 1)
    plain = _regressor().fit(X, y).score(X_test, y_test)
    embedded = _regressor(numeric_embedding="pbld", frequency_init_scale=0.5)
    embedded = embedded.fit(X, y).score(X_test, y_test)
    assert embedded > 0.9
    assert embedded > plain + 0.1


def test_fitted_shapes_and_prediction_uses_the_fitted_embedding():
    X, y = _wave(100, 2)
    reg = _regressor(numeric_embedding="pbld", n_frequencies=5).fit(X, y)
    shapes = {name: v.shape for name, v in reg.embedding_params_.items()}
    assert shapes == {
        "coef": (2, 5, 3),
        "frequencies": (2, 5),
        "phases": (2, 5),
        "intercept": (2, 3),
    }
    assert reg.coefs_[0].shape == (8, 32)
    before = reg.predict(X)
    # predictions come from the fitted arrays, not from later parameters
    reg.set_params(numeric_embedding=None, n_frequencies=7)
    assert_array_equal(reg.predict(X), before)
    # ... and from embedding_params_: changing them changes predictions
    reg.embedding_params_["frequencies"] *= 2
    assert not np.allclose(reg.predict(X), before)


def test_without_embedding_nothing_changes():
    X, y = _wave(80, 3)
    default = _regressor().fit(X, y)
    unused = _regressor(n_frequencies=3, frequency_init_scale=2.0).fit(X, y)
    assert default.embedding_params_ is None
    for a, b in zip(default.coefs_, unused.coefs_, strict=True):
        assert_array_equal(a, b)


def test_reproducible_and_picklable():
    X, y = _wave(100, 4)
    a = _regressor(numeric_embedding="pbld", dropout=0.1, random_state=5).fit(X, y)
    b = _regressor(numeric_embedding="pbld", dropout=0.1, random_state=5).fit(X, y)
    for name, value in a.embedding_params_.items():
        assert_array_equal(value, b.embedding_params_[name])
    assert_array_equal(a.predict(X), b.predict(X))
    restored = pickle.loads(pickle.dumps(a))
    assert_array_equal(restored.predict(X), a.predict(X))
    other = _regressor(numeric_embedding="pbld", random_state=6).fit(X, y)
    assert not np.array_equal(
        other.embedding_params_["frequencies"], a.embedding_params_["frequencies"]
    )


def test_warm_start_continues_and_refuses_a_changed_embedding():
    X, y = _wave(100, 5)
    reg = _regressor(numeric_embedding="pbld", warm_start=True, max_iter=5).fit(X, y)
    first = {k: v.copy() for k, v in reg.embedding_params_.items()}
    reg.fit(X, y)
    assert not np.array_equal(reg.embedding_params_["phases"], first["phases"])
    for change in ({"n_frequencies": 4}, {"numeric_embedding": None}):
        reg.set_params(**change)
        with pytest.raises(ValueError, match="numeric_embedding or n_frequencies"):
            reg.fit(X, y)
        reg.set_params(numeric_embedding="pbld", n_frequencies=16)
    fresh = _regressor(warm_start=True, max_iter=5).fit(X, y)
    fresh.set_params(numeric_embedding="pbld")
    with pytest.raises(ValueError, match="numeric_embedding or n_frequencies"):
        fresh.fit(X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_classifier_and_sparse_input(solver):
    X, y = _wave(120, 6)
    labels = y > 0
    settings = dict(
        hidden_layer_sizes=(16,),
        numeric_embedding="pbld",
        solver=solver,
        max_iter=30,
        random_state=0,
    )
    dense = MLPClassifier(**settings).fit(X, labels)
    sparse = MLPClassifier(**settings).fit(sp.csr_matrix(X), labels)
    assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), rtol=1e-6
    )


def test_float32_training_keeps_float64_predictions_close():
    X, y = _wave(100, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r32 = _regressor(numeric_embedding="pbld", dtype="float32").fit(X, y)
        r64 = _regressor(numeric_embedding="pbld", dtype="float64").fit(X, y)
    assert r32.embedding_params_["coef"].dtype == np.float32
    assert r32.predict(X).dtype == np.float64
    assert_allclose(r32.predict(X), r64.predict(X), atol=1e-3)


def test_partial_fit_trains_the_embedding():
    X, y = _wave(100, 8)
    reg = _regressor(numeric_embedding="pbld").partial_fit(X, y)
    first = reg.embedding_params_["frequencies"].copy()
    reg.partial_fit(X, y)
    assert not np.array_equal(reg.embedding_params_["frequencies"], first)
