"""Decoupled weight decay (AdamW, SGDW) and gradient clipping by global norm.

Expected values come from the papers' update rules written out in float64
here (Loshchilov & Hutter, 2019, Algorithm 2; PyTorch's ``AdamW`` and
``clip_grad_norm_``), not from skreg's optimizers.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import skreg._training
from skreg import MLPClassifier, MLPRegressor
from skreg._optimizers import SGD, Adam, clip_grad_norm
from skreg._penalties import ElasticNet

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N, N_PENALIZED = 50, 30


def _steps(optimizer, n_steps=6, penalty=None, seed=0, factors=None):
    """Run ``optimizer`` on random gradients; return (start, params, grads)."""
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(N)
    params, grads = start.copy(), []
    for step in range(n_steps):
        if factors is not None:
            optimizer.rate_factor = factors[step]
        g = rng.standard_normal(N)
        grads.append(g.copy())
        optimizer.step(params, g, penalty, N_PENALIZED)
    return start, params, grads


def _adamw_reference(start, grads, lr, wd, factors, b1=0.9, b2=0.999, eps=1e-8):
    """PyTorch's AdamW (decay on the first N_PENALIZED coordinates only), with
    Adam in the form scikit-learn uses (Kingma & Ba's section 2 "efficient"
    version: the bias corrections in the rate, epsilon on the raw sqrt(v))."""
    p, m, v = start.copy(), np.zeros(N), np.zeros(N)
    for t, (g, factor) in enumerate(zip(grads, factors, strict=True), start=1):
        rate = lr * factor
        p[:N_PENALIZED] *= 1 - rate * wd
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        rate_t = rate * np.sqrt(1 - b2**t) / (1 - b1**t)
        p -= rate_t * m / (np.sqrt(v) + eps)
    return p


@pytest.mark.parametrize("factors", [[1.0] * 6, [0.2, 1.0, 0.7, 0.0, 0.4, 0.05]])
def test_adam_weight_decay_is_adamw(factors):
    optimizer = Adam(N, np.float64, learning_rate=0.01, weight_decay=0.5)
    start, params, grads = _steps(optimizer, factors=factors)
    expected = _adamw_reference(start, grads, 0.01, 0.5, factors)
    # the rescaled moments change the arithmetic by rounding only
    assert_allclose(params, expected, rtol=1e-12, atol=1e-14)
    # and the decay made a difference
    plain = _adamw_reference(start, grads, 0.01, 0.0, factors)
    assert np.max(np.abs(expected - plain)) > 1e-4


def test_sgd_weight_decay_without_momentum_equals_the_l2_penalty():
    # plain SGD: p (1 - lr wd) - lr g == p - lr (g + wd p), the L2 gradient
    decayed = SGD(N, np.float64, learning_rate=0.1, momentum=0.0, weight_decay=0.3)
    penalized = SGD(N, np.float64, learning_rate=0.1, momentum=0.0)
    _, with_decay, _ = _steps(decayed)
    _, with_l2, _ = _steps(penalized, penalty=ElasticNet(0.3, 0.0))
    assert_allclose(with_decay, with_l2, rtol=1e-13, atol=1e-15)


def test_sgd_with_momentum_weight_decay_is_sgdw():
    # SGDW (Loshchilov & Hutter, Algorithm 1): the decay is outside the
    # momentum, applied to the weights before scikit-learn's momentum step
    optimizer = SGD(N, np.float64, learning_rate=0.1, momentum=0.9, nesterov=False)
    optimizer.weight_decay = 0.3
    start, params, grads = _steps(optimizer)
    p, velocity = start.copy(), np.zeros(N)
    for g in grads:
        p[:N_PENALIZED] *= 1 - 0.1 * 0.3
        velocity = 0.9 * velocity - 0.1 * g
        p += velocity
    assert_allclose(params, p, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("Optimizer", [SGD, Adam])
def test_weight_decay_spares_the_unpenalized_coordinates(Optimizer):
    decayed = Optimizer(N, np.float64, learning_rate=0.1, weight_decay=0.5)
    plain = Optimizer(N, np.float64, learning_rate=0.1)
    _, with_decay, _ = _steps(decayed)
    _, without, _ = _steps(plain)
    # biases and batch-norm parameters (after the weights) move as without it
    assert_array_equal(with_decay[N_PENALIZED:], without[N_PENALIZED:])
    assert not np.allclose(with_decay[:N_PENALIZED], without[:N_PENALIZED])


def _fit_without_and_with(X, y, kwargs, **option):
    """Two regressors fitted with ``kwargs``, the second with ``option`` too."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (
            MLPRegressor(**kwargs).fit(X, y),
            MLPRegressor(**option, **kwargs).fit(X, y),
        )


def test_weight_decay_shrinks_the_fitted_weights():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = X[:, 0] + 3.0
    kwargs = dict(
        hidden_layer_sizes=(8,),
        alpha=0.0,
        learning_rate_init=0.01,
        max_iter=200,
        random_state=0,
    )
    plain, decayed = _fit_without_and_with(X, y, kwargs, weight_decay=1.0)
    norm = lambda model: sum(np.sum(c**2) for c in model.coefs_)  # noqa: E731
    assert norm(decayed) < 0.5 * norm(plain)
    assert decayed.score(X, y) > 0.9  # smaller weights, still a good fit


# ---------------------------------------------------------------------------
# gradient clipping


def _torch_clip(grads, max_norm):
    """``torch.nn.utils.clip_grad_norm_`` in float64."""
    norm = np.sqrt(np.sum(grads.astype(np.float64) ** 2))
    return grads * min(1.0, max_norm / (norm + 1e-6)), norm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_scales_to_the_max_norm_and_keeps_the_direction(dtype):
    grads = np.random.default_rng(0).standard_normal(1000).astype(dtype)
    expected, norm_before = _torch_clip(grads, 2.0)
    norm = clip_grad_norm(grads, 2.0)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert norm == pytest.approx(norm_before, rel=rtol)
    assert grads.dtype == dtype
    assert_allclose(grads, expected, rtol=rtol)
    # PyTorch's 1e-6 guard leaves the norm a hair below max_norm
    clipped = 2.0 * norm_before / (norm_before + 1e-6)
    assert np.linalg.norm(grads.astype(np.float64)) == pytest.approx(clipped, rel=rtol)


def test_clip_grad_norm_leaves_small_gradients_bit_for_bit():
    grads = np.random.default_rng(0).standard_normal(1000)
    before = grads.copy()
    norm = clip_grad_norm(grads, 100.0)
    assert norm < 100.0
    assert_array_equal(grads, before, strict=True)


def test_clip_grad_norm_survives_squares_that_overflow_float32():
    grads = np.full(100, 1e30, dtype=np.float32)  # sum of squares: inf in float32
    with np.errstate(over="ignore"):  # as in training, which reports overflow itself
        norm = clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(1e31, rel=1e-5)
    assert_allclose(grads, 0.1, rtol=1e-5)


def test_clip_grad_norm_leaves_nan_gradients_to_the_divergence_checks():
    grads = np.array([1e3, np.nan, 2.0])
    clip_grad_norm(grads, 1.0)
    assert grads[0] == 1e3 and np.isnan(grads[1])


def test_training_steps_see_clipped_data_gradients(monkeypatch):
    norms = []
    real_step = Adam.step

    def step(self, params, grads, *args, **kwargs):
        norms.append(np.linalg.norm(grads))
        return real_step(self, params, grads, *args, **kwargs)

    monkeypatch.setattr(Adam, "step", step)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 5)) * 10
    y = X[:, 0] > 0
    MLPClassifier(
        hidden_layer_sizes=(8,), max_grad_norm=0.05, max_iter=3, random_state=0
    ).fit(X, y)
    assert len(norms) == 3
    assert max(norms) <= 0.05 * (1 + 1e-6)
    norms.clear()
    MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X, y)
    assert min(norms) > 0.05  # so the clip did change every step above


def test_clipping_is_what_keeps_a_large_step_from_diverging():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = 50.0 * X[:, 0]  # unscaled targets: plain SGD at this rate blows up
    kwargs = dict(
        hidden_layer_sizes=(16,),
        solver="sgd",
        learning_rate_init=0.2,
        max_iter=30,
        random_state=0,
    )
    plain, clipped = _fit_without_and_with(X, y, kwargs, max_grad_norm=1.0)
    assert plain._history.stop_reason == "diverged"
    assert clipped._history.stop_reason != "diverged"
    assert clipped.score(X, y) > 0.9


# ---------------------------------------------------------------------------
# estimator contract


@pytest.mark.parametrize("params", [{"weight_decay": 0.01}, {"max_grad_norm": 1.0}])
def test_lbfgs_refuses_optimizer_step_options(params):
    X = np.random.default_rng(0).standard_normal((30, 3))
    model = MLPRegressor(solver="lbfgs", **params)
    with pytest.raises(ValueError, match=re.escape("solver='lbfgs' minimizes")):
        model.fit(X, X[:, 0])
    assert not hasattr(model, "coefs_")


RECIPE = dict(
    learning_rate="coslog4",
    warmup_fraction=0.1,
    weight_decay=0.02,
    max_grad_norm=1.0,
    dropout=0.1,
)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_the_recipe_is_reproducible_and_its_random_state_matters(solver):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 6))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    fit = lambda seed: MLPClassifier(  # noqa: E731
        hidden_layer_sizes=(16,),
        solver=solver,
        max_iter=20,
        random_state=seed,
        **RECIPE,
    ).fit(X, y)
    first, again, other = fit(0), fit(0), fit(1)
    for a, b in zip(first.coefs_, again.coefs_, strict=True):
        assert_array_equal(a, b, strict=True)
    assert first.loss_curve_ == again.loss_curve_
    assert not np.array_equal(first.coefs_[0], other.coefs_[0])


def test_pickled_mid_schedule_model_continues_identically():
    X = np.random.default_rng(0).standard_normal((80, 4))
    y = X[:, 0] + X[:, 1]
    model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=10, random_state=0, **RECIPE)
    for _ in range(3):
        model.partial_fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    for _ in range(3):
        model.partial_fit(X, y)
        restored.partial_fit(X, y)
    assert restored._lr_schedule.epochs == 6
    assert model.loss_curve_ == restored.loss_curve_
    for a, b in zip(model.coefs_, restored.coefs_, strict=True):
        assert_array_equal(a, b, strict=True)


def test_loop_passes_max_grad_norm_to_every_step(monkeypatch):
    seen = []
    real_train_step = skreg._training.train_step

    def train_step(*args):
        seen.append(args[-1])
        return real_train_step(*args)

    monkeypatch.setattr(skreg._training, "train_step", train_step)
    X = np.random.default_rng(0).standard_normal((40, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPRegressor(
            hidden_layer_sizes=(4,), max_grad_norm=0.7, batch_size=20, max_iter=2
        ).fit(X, X[:, 0])
    assert seen == [0.7] * 4
