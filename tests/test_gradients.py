"""Finite-difference gradient tests, in float64, for every building block.

Each layer is checked through the scalar ``sum(output * G)`` with a random
upstream gradient ``G``: its backward step, fed ``G``, must return the
gradient of that scalar with respect to the input and write the gradient with
respect to each parameter into the layer's gradient views. Stochastic layers
are checked with the masks and noise held fixed, by drawing them from a fresh
generator with the same seed at every evaluation. Losses are checked with
random sample weights normalized to sum to one (and with ``weights=None``),
the penalty's smooth part against its value, and a whole network (and the
lbfgs objective of the estimators) against central differences of its loss.
"""

import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse
import scipy.stats
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, log_softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from skreg import MLPClassifier, MLPRegressor
from skreg._embeddings import PeriodicEmbedding
from skreg._layers import (
    Activation,
    BatchNorm,
    Context,
    Dense,
    Dropout,
    GaussianNoise,
)
from skreg._losses import LOSSES
from skreg._network import Network, build_layers
from skreg._penalties import ElasticNet

RTOL, ATOL = 1e-5, 1e-8
EPS = 1e-6
SEED = 0


# ---------------------------------------------------------------------------
# helpers


def numerical_gradient(f, x, eps=EPS):
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``f`` receives a perturbed copy of ``x`` (same shape, float64) each time.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + eps
        f_plus = f(x.copy())
        flat_x[i] = original - eps
        f_minus = f(x.copy())
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def random_weights(rng, n, *, with_zero=False):
    """Random positive sample weights normalized to sum to one."""
    w = rng.uniform(0.1, 3.0, n)
    if with_zero:
        w[rng.integers(n)] = 0.0
    return w / w.sum()


def bind(layer, rng):
    """Bind ``layer`` to float64 buffers (through a Network) with random values."""
    network = Network([layer], dtype=np.float64)
    network.params[...] = rng.normal(size=network.params.shape)
    return network


def check_layer_gradients(layer, X, make_ctx, rng, *, check_input=True):
    """Compare a layer's backward step with central differences.

    ``make_ctx()`` returns a fresh :class:`Context` for every evaluation, so a
    stochastic layer draws the same masks each time. Checks the gradient with
    respect to the input (if ``check_input``) and to every parameter.
    """
    Y, _ = layer.forward(X.copy(), make_ctx(), True)
    G = rng.normal(size=Y.shape)

    def scalar_of_input(x):
        out, _ = layer.forward(x, make_ctx(), True)
        return float(np.sum(out * G))

    Y, backward = layer.forward(X.copy(), make_ctx(), True)
    dX = backward(G.copy())
    if check_input:
        assert dX is not None
        assert dX.shape == X.shape
        assert_allclose(
            dX,
            numerical_gradient(scalar_of_input, X),
            rtol=RTOL,
            atol=ATOL,
            err_msg="input gradient",
        )
    checked = []
    for name, _, _ in layer.param_specs():
        analytic = layer.grads[name].copy()
        param = layer.params[name]
        saved = param.copy()

        def scalar_of_param(p, param=param):
            param[...] = p
            return scalar_of_input(X.copy())

        numeric = numerical_gradient(scalar_of_param, saved)
        param[...] = saved
        assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL, err_msg=name)
        checked.append(name)
    return checked


def fixed_ctx(training=True, weights=None, seed=SEED, mc_dropout=False):
    """Factory of contexts whose generator always starts from ``seed``."""

    def make():
        return Context(
            training=training,
            rng=np.random.default_rng(seed),
            weights=weights,
            mc_dropout=mc_dropout,
        )

    return make


# ---------------------------------------------------------------------------
# the helper itself


def test_numerical_gradient_of_known_function():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    numeric = numerical_gradient(lambda v: float(np.sum(np.sin(v) * v**2)), x)
    assert_allclose(numeric, np.cos(x) * x**2 + 2 * x * np.sin(x), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------
# layers


def _sparse_input(rng, shape, fmt):
    """A float64 sparse matrix of about half zeros, with an all-zero row."""
    X = rng.normal(size=shape) * (rng.random(shape) < 0.5)
    X[0] = 0.0
    return scipy.sparse.csr_matrix(X).asformat(fmt)


@pytest.mark.parametrize("input_format", ["dense", "csr", "csc"])
@pytest.mark.parametrize("bias", [True, False])
def test_dense_gradients(bias, input_format):
    rng = np.random.default_rng(1)
    layer = Dense(4, 3, bias=bias)
    bind(layer, rng)
    if input_format == "dense":
        X = rng.normal(size=(6, 4))
    else:
        # the first layer of a network fitted on sparse data: the weight
        # gradient is computed from the sparse matrix itself; the input
        # gradient (unused there, and the same dense product either way) is
        # checked in the dense case
        X = _sparse_input(rng, (6, 4), input_format)
        assert scipy.sparse.issparse(X) and X.format == input_format
    checked = check_layer_gradients(
        layer,
        X,
        fixed_ctx(training=False),
        rng,
        check_input=input_format == "dense",
    )
    assert checked == (["coef", "intercept"] if bias else ["coef"])


@pytest.mark.parametrize(
    "ctx_kwargs",
    [{"training": True}, {"training": False, "mc_dropout": True}],
    ids=["training", "mc_dropout"],
)
def test_dense_dropconnect_gradients_with_fixed_mask(ctx_kwargs):
    rng = np.random.default_rng(2)
    layer = Dense(5, 4, dropconnect=0.4)
    bind(layer, rng)
    X = rng.normal(size=(7, 5))
    make_ctx = fixed_ctx(**ctx_kwargs)
    # the mask is really applied: the output differs from the plain affine map
    Y, _ = layer.forward(X.copy(), make_ctx(), True)
    plain = X @ layer.params["coef"] + layer.params["intercept"]
    assert not np.allclose(Y, plain)
    checked = check_layer_gradients(layer, X, make_ctx, rng)
    assert checked == ["coef", "intercept"]
    # dropped weights receive no gradient
    # (the mask read off the layer: unit input rows give each effective weight)
    eye_out, _ = layer.forward(np.eye(5), make_ctx(), False)
    mask = eye_out - layer.params["intercept"] != 0.0
    assert 0 < mask.sum() < mask.size
    _, backward = layer.forward(X.copy(), make_ctx(), True)
    backward(rng.normal(size=(7, 4)))
    assert np.all(layer.grads["coef"][~mask] == 0.0)
    assert np.all(layer.grads["coef"][mask] != 0.0)


@pytest.mark.parametrize("input_format", ["dense", "csr"])
@pytest.mark.parametrize("bias", [True, False])
def test_dense_per_sample_dropconnect_gradients_with_fixed_masks(bias, input_format):
    """Wan et al.'s DropConnect: every row through its own masked weights."""
    rng = np.random.default_rng(5)
    layer = Dense(5, 4, bias=bias, dropconnect=0.4, dropconnect_mask="sample")
    bind(layer, rng)
    X = rng.normal(size=(7, 5))
    X[3] = X[0]  # the same row twice gets two masks
    if input_format == "csr":
        X = scipy.sparse.csr_matrix(X * (rng.random(X.shape) < 0.7))
    make_ctx = fixed_ctx(training=True)
    Y, _ = layer.forward(X.copy(), make_ctx(), True)
    assert not np.allclose(Y[3], Y[0])
    checked = check_layer_gradients(
        layer, X, make_ctx, rng, check_input=input_format == "dense"
    )
    assert checked == (["coef", "intercept"] if bias else ["coef"])


def test_per_sample_dropconnect_row_equals_its_own_masked_product():
    """Each row's output is that row times W * (its mask) / (1 - rate), with
    the masks read off unit rows (one per input), independently of the
    layer's batched products; the rows' masks differ, and the per-batch form
    gives the same rows one mask."""
    rng = np.random.default_rng(6)
    rate, n_in, n_out = 0.5, 4, 3
    outputs = {}
    for form in ("sample", "batch"):
        layer = Dense(n_in, n_out, bias=False, dropconnect=rate, dropconnect_mask=form)
        bind(layer, rng)
        layer.params["coef"][...] = rng.uniform(0.5, 1.5, (n_in, n_out))
        X = np.tile(np.eye(n_in), (3, 1))  # 3 copies of the unit rows
        Y, _ = layer.forward(X, fixed_ctx()(), False)
        # row k * n_in + i is W[i] * (mask of that row)[i] / (1 - rate)
        masks = (Y != 0).reshape(3, n_in, n_out)
        expected = layer.params["coef"] / (1 - rate) * masks
        assert_allclose(Y.reshape(3, n_in, n_out), expected, rtol=1e-15)
        outputs[form] = masks
    assert not np.array_equal(outputs["sample"][0], outputs["sample"][1])
    sample_means = outputs["sample"].mean()
    assert 0.2 < sample_means < 0.8
    assert np.array_equal(outputs["batch"][0], outputs["batch"][1])


def _inputs_away_from_zero(rng, shape, low=0.1):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, 2.0, shape)


@pytest.mark.parametrize(
    "name",
    ["identity", "relu", "tanh", "logistic", "gelu", "silu", "mish", "selu"],
)
def test_activation_gradients(name):
    rng = np.random.default_rng(3)
    layer = Activation(name)
    bind(layer, rng)
    X = _inputs_away_from_zero(rng, (6, 4))  # relu's kink at 0 stays > eps away
    assert check_layer_gradients(layer, X, fixed_ctx(training=False), rng) == []


@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_periodic_embedding_gradients(scale):
    rng = np.random.default_rng(4)
    layer = PeriodicEmbedding(3, n_frequencies=5, frequency_init_scale=scale)
    network = Network([layer], dtype=np.float64)
    network.initialize(rng)
    X = rng.normal(size=(6, 3))
    checked = check_layer_gradients(layer, X, fixed_ctx(training=False), rng)
    assert checked == ["coef", "frequencies", "phases", "intercept"]


def test_network_with_periodic_embedding_gradient():
    """The embedding as the first trainable layer of a whole network (after
    input noise and dropout, before batch norm), with the penalty on its maps."""
    rng = np.random.default_rng(5)
    layers = build_layers(
        [3, 4, 2],
        activation="mish",
        batch_norm=[True],
        input_noise=0.1,
        input_dropout=0.2,
        numeric_embedding={"n_frequencies": 3, "frequency_init_scale": 0.5},
    )
    network = Network(layers, dtype=np.float64)
    network.initialize(rng)
    loss, penalty = LOSSES["squared_error"](), ElasticNet(0.05, 0.0)
    n = network.n_penalized
    X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))

    def objective(params):
        network.params[...] = params
        Z, _ = network.forward(X.copy(), fixed_ctx()())
        return loss.value(Z, Y) + penalty.smooth_gradient_value(params[:n])

    params = network.params.copy()
    network.grads[...] = np.nan  # every entry must be written by backward
    Z, backward = network.forward(X.copy(), fixed_ctx()())
    backward(loss.value_and_gradient(Z, Y)[1])
    penalty.add_smooth_gradient(network.params[:n], network.grads[:n])
    analytic = network.grads.copy()
    numeric = numerical_gradient(objective, params)
    network.params[...] = params
    assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "ctx_kwargs",
    [{"training": True}, {"training": False, "mc_dropout": True}],
    ids=["training", "mc_dropout"],
)
def test_dropout_gradients_with_fixed_mask(ctx_kwargs):
    rng = np.random.default_rng(4)
    layer = Dropout(0.5)
    bind(layer, rng)
    X = rng.normal(size=(8, 5))
    make_ctx = fixed_ctx(**ctx_kwargs)
    Y, _ = layer.forward(X.copy(), make_ctx(), True)
    assert np.any(Y == 0.0) and not np.allclose(Y, X)  # a mask was applied
    check_layer_gradients(layer, X, make_ctx, rng)


def test_gaussian_noise_gradient_is_identity():
    rng = np.random.default_rng(5)
    layer = GaussianNoise(0.3)
    bind(layer, rng)
    X = rng.normal(size=(6, 3))
    make_ctx = fixed_ctx(training=True)
    Y, backward = layer.forward(X.copy(), make_ctx(), True)
    assert not np.allclose(Y, X)  # noise was added
    G = rng.normal(size=Y.shape)
    assert_allclose(backward(G.copy()), G, rtol=0, atol=0)
    check_layer_gradients(layer, X, make_ctx, rng)


def _batch_norm_layer(rng, n_units):
    layer = BatchNorm(n_units)
    bind(layer, rng)
    layer.params["gamma"][...] = rng.uniform(0.5, 2.0, n_units)
    layer.params["beta"][...] = rng.normal(size=n_units)
    return layer


@pytest.mark.parametrize("weights", ["none", "uniform", "random", "random_with_zero"])
def test_batch_norm_training_gradients(weights):
    rng = np.random.default_rng(6)
    n, d = 9, 4
    layer = _batch_norm_layer(rng, d)
    X = rng.normal(loc=1.5, scale=2.0, size=(n, d))
    w = {
        "none": None,
        "uniform": np.full(n, 1.0 / n),
        "random": random_weights(rng, n),
        "random_with_zero": random_weights(rng, n, with_zero=True),
    }[weights]
    make_ctx = fixed_ctx(training=True, weights=w)
    checked = check_layer_gradients(layer, X, make_ctx, rng)
    assert checked == ["gamma", "beta"]
    # the forward pass really uses the (weighted) batch statistics
    w_eff = np.full(n, 1.0 / n) if w is None else w
    mean = w_eff @ X
    var = w_eff @ (X - mean) ** 2
    Y, _ = layer.forward(X.copy(), make_ctx(), True)
    expected = (X - mean) / np.sqrt(var + layer.eps) * layer.params["gamma"]
    assert_allclose(Y, expected + layer.params["beta"], rtol=1e-12, atol=1e-12)


def test_batch_norm_weighted_gradient_differs_from_uniform():
    # guards against a backward step that ignores the weights
    rng = np.random.default_rng(7)
    layer = _batch_norm_layer(rng, 3)
    X = rng.normal(size=(6, 3))
    G = rng.normal(size=X.shape)
    grads = []
    for w in (None, random_weights(rng, 6)):
        _, backward = layer.forward(X.copy(), Context(training=True, weights=w), True)
        grads.append(backward(G.copy()))
    assert not np.allclose(grads[0], grads[1])


def test_batch_norm_prediction_gradients():
    rng = np.random.default_rng(8)
    layer = _batch_norm_layer(rng, 4)
    layer.state["running_mean"][...] = rng.normal(size=4)
    layer.state["running_var"][...] = rng.uniform(0.5, 3.0, 4)
    X = rng.normal(size=(5, 4))
    assert check_layer_gradients(layer, X, fixed_ctx(training=False), rng) == [
        "gamma",
        "beta",
    ]


# ---------------------------------------------------------------------------
# losses


def _targets(name, rng, n, k):
    if name == "squared_error":
        return rng.normal(size=(n, k))
    if name == "poisson":
        return rng.poisson(2.0, size=(n, k)).astype(np.float64)
    if name == "binary_log_loss":
        return rng.integers(0, 2, size=(n, k)).astype(np.float64)
    if name == "log_loss":
        return np.eye(k)[rng.integers(0, k, size=n)]
    raise AssertionError(name)


def _loss_case(name, rng, n=7, k=3, scale=1.0):
    Z = scale * rng.normal(size=(n, k))
    return Z, _targets(name, rng, n, k)


def test_every_loss_is_covered():
    assert set(LOSSES) == {"squared_error", "poisson", "binary_log_loss", "log_loss"}


# softmax needs at least two outputs; the others also run with a single one
LOSS_SHAPES = [
    (name, n_outputs)
    for name in sorted(LOSSES)
    for n_outputs in ([2, 3] if name == "log_loss" else [1, 3])
]


@pytest.mark.parametrize("weighted", [True, False], ids=["weights", "no_weights"])
@pytest.mark.parametrize("name, n_outputs", LOSS_SHAPES)
def test_loss_gradient(name, n_outputs, weighted):
    rng = np.random.default_rng(9)
    loss = LOSSES[name]()
    Z, Y = _loss_case(name, rng, k=n_outputs)
    w = random_weights(rng, Z.shape[0]) if weighted else None
    value, grad = loss.value_and_gradient(Z.copy(), Y, w)
    assert grad.shape == Z.shape
    assert value == pytest.approx(loss.value(Z, Y, w), rel=1e-12)
    numeric = numerical_gradient(lambda z: loss.value(z, Y, w), Z)
    assert_allclose(grad, numeric, rtol=RTOL, atol=ATOL)


def _independent_loss(name, Z, Y, w):
    """The weighted mean loss written straight from its textbook definition."""
    if name == "squared_error":
        return float(w @ (0.5 * np.mean((Z - Y) ** 2, axis=1)))
    if name == "poisson":
        # negative Poisson log-likelihood of mean exp(z), without log(y!)
        per_output = -(
            scipy.stats.poisson.logpmf(Y, np.exp(Z)) + scipy.special.gammaln(Y + 1)
        )
        return float(w @ per_output.mean(axis=1))
    if name == "binary_log_loss":
        per_output = -scipy.stats.bernoulli.logpmf(Y, expit(Z))
        return float(w @ per_output.sum(axis=1))
    if name == "log_loss":
        P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        return float(
            log_loss(Y.argmax(axis=1), P, sample_weight=w, labels=range(Z.shape[1]))
        )
    raise AssertionError(name)


@pytest.mark.parametrize("weighted", [True, False], ids=["weights", "no_weights"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_value_matches_independent_formula(name, weighted):
    rng = np.random.default_rng(10)
    loss = LOSSES[name]()
    Z, Y = _loss_case(name, rng, n=8, k=3)
    w = random_weights(rng, 8) if weighted else None
    expected = _independent_loss(name, Z, Y, np.full(8, 1 / 8) if w is None else w)
    assert loss.value(Z, Y, w) == pytest.approx(expected, rel=1e-10)
    assert loss.value_and_gradient(Z.copy(), Y, w)[0] == pytest.approx(
        expected, rel=1e-10
    )


def test_log_loss_matches_scipy_log_softmax():
    rng = np.random.default_rng(11)
    Z, Y = _loss_case("log_loss", rng, n=6, k=4)
    w = random_weights(rng, 6)
    expected = -np.sum(w * np.sum(Y * log_softmax(Z, axis=1), axis=1))
    assert LOSSES["log_loss"]().value(Z, Y, w) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["binary_log_loss", "log_loss", "squared_error"])
def test_loss_finite_for_extreme_logits(name):
    rng = np.random.default_rng(12)
    n, k = 6, 3
    Z = 1e4 * rng.choice([-1.0, 1.0], size=(n, k)) * rng.uniform(0.5, 1.0, (n, k))
    Y = _targets(name, rng, n, k)
    w = random_weights(rng, n)
    loss = LOSSES[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow / log(0)
        value, grad = loss.value_and_gradient(Z.copy(), Y, w)
    assert np.isfinite(value)
    assert np.all(np.isfinite(grad))
    # asymptotic forms: softplus(z) -> max(z, 0), logsumexp(z) -> max(z)
    if name == "binary_log_loss":
        expected = w @ np.sum(np.maximum(Z, 0) - Y * Z, axis=1)
        assert_allclose(grad, w[:, None] * ((Z > 0) - Y), rtol=0, atol=1e-12)
    elif name == "log_loss":
        expected = w @ (Z.max(axis=1) - np.sum(Y * Z, axis=1))
        onehot_max = np.eye(k)[Z.argmax(axis=1)]
        assert_allclose(grad, w[:, None] * (onehot_max - Y), rtol=0, atol=1e-12)
    else:
        expected = w @ (0.5 * np.mean((Z - Y) ** 2, axis=1))
    assert value == pytest.approx(expected, rel=1e-10)


# ---------------------------------------------------------------------------
# penalty


@pytest.mark.parametrize("l1_ratio", [0.0, 0.3, 1.0])
def test_elastic_net_smooth_gradient(l1_ratio):
    rng = np.random.default_rng(13)
    alpha = 0.7
    penalty = ElasticNet(alpha, l1_ratio)
    W = rng.normal(size=20)
    start = rng.normal(size=20)
    grads = start.copy()
    penalty.add_smooth_gradient(W, grads)
    smooth = grads - start  # added in place to what was there
    l2_only = ElasticNet(alpha * (1 - l1_ratio), 0.0)
    numeric = numerical_gradient(l2_only.value, W)
    assert_allclose(smooth, numeric, rtol=RTOL, atol=ATOL)
    assert_allclose(
        numerical_gradient(penalty.smooth_gradient_value, W),
        numeric,
        rtol=RTOL,
        atol=ATOL,
    )
    if l1_ratio == 1.0:
        assert_array_equal(grads, start)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.3, 1.0])
def test_elastic_net_value_gradient_away_from_zero(l1_ratio):
    # off the kinks, d value / dW = l2 * W + l1 * sign(W)
    rng = np.random.default_rng(14)
    alpha = 0.7
    penalty = ElasticNet(alpha, l1_ratio)
    W = _inputs_away_from_zero(rng, 15)
    expected = alpha * (1 - l1_ratio) * W + alpha * l1_ratio * np.sign(W)
    assert_allclose(
        numerical_gradient(penalty.value, W), expected, rtol=RTOL, atol=ATOL
    )
    assert penalty.value(W) == pytest.approx(
        alpha * (l1_ratio * np.abs(W).sum() + 0.5 * (1 - l1_ratio) * W @ W)
    )


def _soft_threshold(W, threshold):
    shrunk = np.abs(W) - threshold
    return np.where(np.abs(W) <= threshold, 0.0, np.sign(W) * shrunk)


@pytest.mark.parametrize("step_kind", ["scalar", "array"])
@pytest.mark.parametrize("l1_ratio", [0.5, 1.0])
def test_elastic_net_prox_soft_thresholds(step_kind, l1_ratio):
    rng = np.random.default_rng(15)
    alpha, n = 0.4, 40
    penalty = ElasticNet(alpha, l1_ratio)
    step = 0.5 if step_kind == "scalar" else rng.uniform(0.1, 1.0, n)
    threshold = np.broadcast_to(step * alpha * l1_ratio, n)
    W = rng.uniform(-0.5, 0.5, n)
    W[0], W[1] = threshold[0], -threshold[1]  # exactly at the threshold
    W[2] = 0.0
    original = W.copy()
    assert penalty.prox(W, step) is None  # in place
    expected = _soft_threshold(original, threshold)
    small = np.abs(original) <= threshold
    assert small.sum() >= 5 and (~small).sum() >= 5  # both regimes are exercised
    assert np.all(W[small] == 0.0)
    assert_allclose(W[~small], expected[~small], rtol=1e-14, atol=0)
    assert_allclose(
        np.abs(original[~small]) - np.abs(W[~small]),
        threshold[~small],
        rtol=1e-12,
        atol=1e-15,
    )
    assert_array_equal(np.sign(W[~small]), np.sign(original[~small]))


def test_elastic_net_prox_without_l1_is_identity():
    rng = np.random.default_rng(16)
    W = rng.normal(size=10)
    original = W.copy()
    ElasticNet(0.5, 0.0).prox(W, 1.0)
    assert_array_equal(W, original)


# ---------------------------------------------------------------------------
# whole network


def _network_case(loss_name, activation, training, rng, deep=False):
    """Two hidden layers (the first batch-normalized), or four with ``deep``
    (the first and third normalized, per-example DropConnect masks)."""
    layer_units = [4, 5, 4, 3, 3, 2] if deep else [4, 5, 3, 2]
    n_hidden = len(layer_units) - 2
    kwargs = dict(
        activation=activation,
        batch_norm=[i % 2 == 0 for i in range(n_hidden)] if deep else [True, False],
    )
    if training:
        kwargs.update(
            dropout=[0.3, 0.2, 0.1, 0.2][:n_hidden],
            dropconnect=[0.2, 0.0, 0.3, 0.1, 0.2][: n_hidden + 1],
            dropconnect_mask="sample" if deep else "batch",
            input_dropout=0.2,
            input_noise=0.1,
        )
    layers = build_layers(layer_units, **kwargs)
    network = Network(layers, dtype=np.float64)
    network.initialize(rng)
    for bn in network.batch_norm_layers:
        bn.params["gamma"][...] = rng.uniform(0.5, 2.0, bn.n_units)
        bn.params["beta"][...] = rng.normal(size=bn.n_units)
        bn.state["running_mean"][...] = rng.normal(size=bn.n_units)
        bn.state["running_var"][...] = rng.uniform(0.5, 2.0, bn.n_units)
    n = 10
    X = rng.normal(size=(n, 4))
    Y = _targets(loss_name, rng, n, 2)
    w = random_weights(rng, n)
    return network, X, Y, w


@pytest.mark.parametrize("deep", [False, True], ids=["2-hidden", "4-hidden"])
@pytest.mark.parametrize("training", [True, False], ids=["training", "predict"])
@pytest.mark.parametrize("activation", ["tanh", "logistic", "relu"])
@pytest.mark.parametrize("loss_name", sorted(LOSSES))
def test_network_gradient(loss_name, activation, training, deep):
    rng = np.random.default_rng(17)
    network, X, Y, w = _network_case(loss_name, activation, training, rng, deep)
    assert network.stochastic == training
    loss = LOSSES[loss_name]()
    penalty = ElasticNet(0.05, 0.3)
    n = network.n_penalized
    dense = network.dense_layers
    assert n == sum(layer.params["coef"].size for layer in dense)

    def make_ctx():
        return Context(training=training, rng=np.random.default_rng(SEED), weights=w)

    def objective(params):
        network.params[...] = params
        Z, _ = network.forward(X.copy(), make_ctx())
        return loss.value(Z, Y, w) + penalty.smooth_gradient_value(params[:n])

    params = network.params.copy()
    # analytic, as train_step does: forward, loss, backward, smooth penalty
    network.grads[...] = np.nan  # every entry must be written by backward
    Z, backward = network.forward(X.copy(), make_ctx())
    _, dZ = loss.value_and_gradient(Z, Y, w)
    backward(dZ)
    penalty.add_smooth_gradient(network.params[:n], network.grads[:n])
    analytic = network.grads.copy()
    assert np.all(np.isfinite(analytic))

    numeric = numerical_gradient(objective, params)
    network.params[...] = params
    assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------
# the estimators' lbfgs objective


@pytest.mark.parametrize(
    "Estimator, make_y",
    [
        (MLPRegressor, lambda rng, X: X @ rng.normal(size=(3, 2))),
        (MLPClassifier, lambda rng, X: rng.integers(0, 3, size=30)),
    ],
    ids=["regressor", "classifier"],
)
def test_lbfgs_objective_gradient(Estimator, make_y, monkeypatch):
    """The function handed to scipy's L-BFGS-B returns its own gradient."""
    captured = {}
    real_minimize = scipy.optimize.minimize

    def spy(fun, x0, *args, **kwargs):
        captured.setdefault("fun", fun)
        captured.setdefault("x0", np.array(x0, copy=True))
        return real_minimize(fun, x0, *args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", spy)
    rng = np.random.default_rng(18)
    X = rng.normal(size=(30, 3))
    y = make_y(rng, X)
    sample_weight = rng.uniform(0.1, 3.0, 30)
    est = Estimator(
        solver="lbfgs",
        hidden_layer_sizes=(4, 3),
        activation="tanh",
        batch_norm=[True, False],
        alpha=0.3,
        max_iter=2,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, sample_weight=sample_weight)
    assert "fun" in captured
    fun = captured["fun"]
    x0 = captured["x0"]
    for point in (x0, x0 + 0.3 * rng.normal(size=x0.shape)):
        value, grad = fun(point.copy())
        assert np.isfinite(value)
        numeric = numerical_gradient(lambda p: fun(p)[0], point)
        assert_allclose(grad, numeric, rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------
# sparse input through the estimators


SPARSE_SOLVERS = {
    # shuffled mini-batches: rows are gathered from the CSR matrix
    "adam": dict(solver="adam", batch_size=16, max_iter=40, learning_rate_init=0.01),
    # few iterations: L-BFGS-B amplifies rounding differences as it goes
    "lbfgs": dict(solver="lbfgs", max_iter=20),
}


@pytest.mark.parametrize("input_format", ["csr", "csc"])
@pytest.mark.parametrize("solver", sorted(SPARSE_SOLVERS))
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_sparse_input_fits_the_dense_model(Estimator, solver, input_format):
    """Sparse and dense X give the same model, up to float64 rounding: the
    products with the sparse matrix, forward and backward, are exact
    counterparts of the dense ones."""
    rng = np.random.default_rng(19)
    X = _sparse_input(rng, (80, 12), "csr").toarray()
    y = X @ rng.normal(size=12) + 0.1 * rng.normal(size=80)
    if Estimator is MLPClassifier:
        y = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    params = dict(
        hidden_layer_sizes=(7,),
        dtype="float64",
        random_state=0,
        **SPARSE_SOLVERS[solver],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = Estimator(**params).fit(X, y)
        sparse = Estimator(**params).fit(
            scipy.sparse.csr_matrix(X).asformat(input_format), y
        )
        start = Estimator(**{**params, "max_iter": 1}).fit(X, y)
    assert sparse.n_iter_ == dense.n_iter_
    # the weights moved far from their start: rounding had room to show
    assert not np.allclose(start.coefs_[0], dense.coefs_[0], rtol=0.1)
    for a, b in zip(sparse.coefs_, dense.coefs_, strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    for a, b in zip(sparse.intercepts_, dense.intercepts_, strict=True):
        assert_allclose(a, b, rtol=1e-9, atol=1e-12)
