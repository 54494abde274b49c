"""The speed work changes how, never what: fused and reused paths equal plain ones.

- the chunked optimizer sweep (smooth penalty, update and proximal step fused
  chunk by chunk) equals the textbook formulas applied to whole vectors;
- the training loop's reused work arrays give the same outputs and gradients
  as fresh arrays, batch after batch, for every layer type;
- the training loop copies the weights only when a copy can be needed, and
  runs small networks with one BLAS thread when fitted from the main thread
  (restored and handed back to other threads afterwards);
- dropout / DropConnect masks drawn from raw bits equal the masks of uniform
  draws compared with the rate, and keep their documented distribution.
"""

import json
import os
import subprocess
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

import skreg
from skreg import MLPClassifier, _optimizers
from skreg._layers import Context, _keep_bits, _keep_mask
from skreg._network import Network, build_layers
from skreg._optimizers import SGD, Adam
from skreg._penalties import ElasticNet


def _reference_adam(params, grads_seq, penalty, n_pen, lr, b1, b2, eps):
    """Adam as in Kingma & Ba with the L2 gradient and the L1 prox of ElasticNet."""
    params = params.copy()
    m = np.zeros_like(params)
    v = np.zeros_like(params)
    for t, grads in enumerate(grads_seq, start=1):
        g = grads.copy()
        g[:n_pen] += penalty.l2 * params[:n_pen]
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        denom = np.sqrt(v) + eps
        params -= lr_t * m / denom
        # the step per unit of a steady gradient g, whose m is (1 - b1^t) g
        step = lr_t * (1 - b1**t) / denom[:n_pen]
        w = params[:n_pen]
        params[:n_pen] = np.sign(w) * np.maximum(np.abs(w) - step * penalty.l1, 0)
    return params


def _reference_sgd(params, grads_seq, penalty, n_pen, lr, momentum, nesterov):
    params = params.copy()
    velocity = np.zeros_like(params)
    for grads in grads_seq:
        g = grads.copy()
        g[:n_pen] += penalty.l2 * params[:n_pen]
        velocity = momentum * velocity - lr * g
        if nesterov:
            params += momentum * velocity - lr * g
        else:
            params += velocity
        w = params[:n_pen]
        step = lr / (1 - momentum)  # steady-state step of momentum SGD
        params[:n_pen] = np.sign(w) * np.maximum(np.abs(w) - step * penalty.l1, 0)
    return params


@pytest.fixture
def small_chunks(monkeypatch):
    # 1024 float64 per chunk: the vectors below span several chunks, and the
    # penalized boundary falls inside one
    monkeypatch.setattr(_optimizers, "_CHUNK_BYTES", 8 * 1024)


@pytest.mark.parametrize(
    "alpha, l1_ratio", [(0.0, 0.0), (0.05, 0.0), (0.05, 1.0), (0.05, 0.3)]
)
@pytest.mark.parametrize("solver", ["adam", "sgd", "sgd-classical", "sgd-plain"])
def test_chunked_step_equals_whole_vector_formulas(
    small_chunks, solver, alpha, l1_ratio
):
    rng = np.random.default_rng(0)
    n, n_pen, n_steps = 5000, 3100, 4
    params = rng.normal(size=n)
    params[:n_pen] *= 1e-3  # small weights: the soft threshold zeroes some
    grads_seq = [rng.normal(size=n) for _ in range(n_steps)]
    penalty = ElasticNet(alpha, l1_ratio)
    if solver == "adam":
        opt = Adam(
            n, np.float64, learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6
        )
        expected = _reference_adam(
            params, grads_seq, penalty, n_pen, 0.01, 0.8, 0.99, 1e-6
        )
    else:
        momentum = 0.0 if solver == "sgd-plain" else 0.9
        nesterov = solver == "sgd"
        opt = SGD(
            n, np.float64, learning_rate=0.05, momentum=momentum, nesterov=nesterov
        )
        expected = _reference_sgd(
            params, grads_seq, penalty, n_pen, 0.05, momentum, nesterov
        )
    assert len(opt._chunks(n, n_pen)) > 3
    actual = params.copy()
    for grads in grads_seq:
        opt.step(actual, grads.copy(), penalty, n_pen)
    assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)
    if l1_ratio > 0:
        assert np.any(actual[:n_pen] == 0.0)  # the prox really ran
    assert not np.any(actual[n_pen:] == 0.0)  # and only on the penalized part


def test_adam_step_size_and_moments_keep_their_meaning():
    rng = np.random.default_rng(1)
    g = rng.normal(size=50)
    opt = Adam(50, np.float64, learning_rate=0.01)
    opt.step(np.zeros(50), g.copy())
    assert_allclose(opt.m, 0.1 * g, rtol=1e-12)
    assert_allclose(opt.v, 0.001 * g * g, rtol=1e-12)
    steady_rate = 0.01 * np.sqrt(1 - 0.999)  # lr_t (1 - b1^t) at t = 1
    assert_allclose(
        opt.step_size(20), steady_rate / (np.sqrt(opt.v[:20]) + 1e-8), rtol=1e-12
    )


def test_adam_step_size_is_the_step_per_unit_of_a_steady_gradient():
    """The L1 threshold's meaning: under a constant gradient g, every step
    moves each weight by exactly -step_size * g, from the first step on."""
    g = np.random.default_rng(2).normal(size=30)
    opt = Adam(30, np.float64, learning_rate=0.01)
    params = np.zeros(30)
    for _ in range(25):
        before = params.copy()
        opt.step(params, g.copy())
        assert_allclose(params - before, -opt.step_size(30) * g, rtol=1e-9)


LAYER_CONFIGS = {
    "plain": dict(),
    "dropout": dict(dropout=[0.5, 0.3], input_dropout=0.2),
    "dropconnect": dict(dropconnect=[0.3, 0.5, 0.2]),
    "batch_norm": dict(batch_norm=[True, True]),
    "everything": dict(
        dropout=[0.5, 0.0],
        dropconnect=[0.0, 0.3, 0.2],
        batch_norm=[True, False],
        input_noise=0.1,
    ),
}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("config", sorted(LAYER_CONFIGS))
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_reused_buffers_give_the_same_outputs_and_gradients(
    config, activation, weighted
):
    rng = np.random.default_rng(2)
    units = [6, 9, 7, 3]

    def make_network():
        layers = build_layers(units, activation=activation, **LAYER_CONFIGS[config])
        network = Network(layers, dtype=np.float64)
        network.initialize(np.random.default_rng(3))
        return network

    fresh, reused = make_network(), make_network()
    # batches of varying size, the smaller after the larger (buffers are sliced)
    for step, n in enumerate([11, 11, 4, 11]):
        X = rng.normal(size=(n, units[0]))
        dZ = rng.normal(size=(n, units[-1]))
        w = rng.uniform(0.1, 1.0, n) if weighted else None
        w = None if w is None else w / w.sum()
        results = []
        for network, reuse in ((fresh, False), (reused, True)):
            ctx = Context(
                training=True,
                rng=np.random.default_rng(step),
                weights=w,
                reuse_buffers=reuse,
            )
            Z, backward = network.forward(X.copy(), ctx)
            Z = Z.copy()
            backward(dZ.copy())
            results.append((Z, network.grads.copy(), network.get_state()))
        (Z0, g0, s0), (Z1, g1, s1) = results
        assert_allclose(Z1, Z0, rtol=1e-12, atol=1e-12)
        assert_allclose(g1, g0, rtol=1e-12, atol=1e-12)
        for a, b in zip(s0, s1, strict=True):
            for key in a:
                assert_allclose(b[key], a[key], rtol=1e-12, atol=1e-12)
        assert np.any(g0 != 0)


def test_partial_fit_copies_the_weights_once_per_call(monkeypatch):
    """One epoch per call needs one snapshot (its start, for rollback): the
    copies after the last epoch and before the loop were dropped as waste."""
    X = np.random.default_rng(0).normal(size=(60, 4))
    y = np.arange(60) % 3
    model = MLPClassifier(hidden_layer_sizes=(5,), random_state=0)
    model.partial_fit(X, y, classes=[0, 1, 2])
    calls = []
    original = Network.snapshot
    monkeypatch.setattr(
        Network, "snapshot", lambda self: calls.append(1) or original(self)
    )
    model.partial_fit(X, y)
    assert len(calls) == 1
    calls.clear()
    model.set_params(max_iter=3, tol=0.0, n_iter_no_change=100, warm_start=True)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert len(calls) == 3  # the start, then after every epoch but the last


def _blas_threads_during_training(monkeypatch, model, X, y):
    """The BLAS libraries' thread counts seen by the first training step."""
    seen = []
    original = skreg._training.train_step

    def recording(*args):
        if not seen:
            seen.append([pool["num_threads"] for pool in _blas_pools()])
        return original(*args)

    monkeypatch.setattr(skreg._training, "train_step", recording)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return seen[0]


def _blas_pools():
    return [pool for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.fixture
def two_blas_threads():
    """BLAS set to two threads, so that a change to one is visible anywhere."""
    with threadpool_limits(2, user_api="blas"):
        before = [pool["num_threads"] for pool in _blas_pools()]
        if not before or set(before) != {2}:
            pytest.skip("the BLAS here cannot be set to two threads")
        yield before


def test_small_networks_train_with_one_blas_thread(monkeypatch, two_blas_threads):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 10)), np.arange(64) % 2
    before = two_blas_threads
    small = MLPClassifier(hidden_layer_sizes=(20,), max_iter=1, random_state=0)
    assert _blas_threads_during_training(monkeypatch, small, X, y) == [1] * len(before)
    # restored afterwards, also when the fit fails
    assert [pool["num_threads"] for pool in _blas_pools()] == before
    monkeypatch.setattr(skreg._training, "train_step", _raise_value_error)
    with pytest.raises(ValueError, match="step failed"):
        small.fit(X, y)
    assert [pool["num_threads"] for pool in _blas_pools()] == before


_HANDBACK_SCRIPT = """
import json, threading, warnings
from concurrent.futures import ThreadPoolExecutor
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits
from skreg import MLPClassifier

def counts():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

def limit_from_another_thread():
    seen = []
    def limit():
        with threadpool_limits(1, user_api="blas"):
            seen.append(counts())
    thread = threading.Thread(target=limit)
    thread.start()
    thread.join()
    return seen[0]

def state():
    return [counts(), limit_from_another_thread()]

warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X, y = rng.normal(size=(64, 10)), np.arange(64) % 2

def fit(seed):
    return MLPClassifier(hidden_layer_sizes=(20,), max_iter=2, random_state=seed).fit(
        X, y
    )

result = {"before": state()}
fit(0)
result["main-thread fit"] = state()
model = MLPClassifier(hidden_layer_sizes=(20,), random_state=0)
model.partial_fit(X, y, classes=[0, 1])
model.partial_fit(X, y)
result["main-thread partial_fit"] = state()
with ThreadPoolExecutor(2) as pool:
    list(pool.map(fit, range(4)))
result["worker-thread fits"] = state()
print(json.dumps(result))
"""


@pytest.mark.slow
def test_fits_restore_the_blas_and_hand_it_back_to_other_threads():
    """threadpoolctl lets one thread at a time set a process-wide BLAS pool:
    after a fit (main thread, partial_fit, or worker threads, which leave it
    alone) the thread count is as before and other threads can still limit it.
    In a fresh process: this suite's session-wide limit holds the BLAS."""
    # without thread-count variables that other tests' tools may have set
    # (dask's workers set OMP_NUM_THREADS=1 and the like)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    output = subprocess.run(
        [sys.executable, "-c", _HANDBACK_SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    result = json.loads(output)
    before, other_before = result.pop("before")
    if not before or set(before) == {1} or set(other_before) != {1}:
        pytest.skip("other threads cannot limit this BLAS from 2+ threads here")
    for after, other_after in result.values():
        assert after == before
        assert set(other_after) == {1}


def test_fits_in_worker_threads_do_not_touch_the_blas_limit(monkeypatch):
    """Concurrent fits would race on the process-wide setting (each restoring
    what it saw), so only main-thread fits set it."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 10)), np.arange(64) % 2
    callers = []
    original = skreg._threads._threadpool_controller

    def recording():
        callers.append(threading.current_thread())
        return original()

    monkeypatch.setattr(skreg._threads, "_threadpool_controller", recording)

    def fit(seed):
        # tol stops each fit after two epochs, without a ConvergenceWarning
        # (warning filters are not thread-safe)
        MLPClassifier(
            hidden_layer_sizes=(20,), tol=1e9, n_iter_no_change=1, random_state=seed
        ).fit(X, y)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(fit, range(4)))
    assert callers == []
    fit(0)
    assert callers == [threading.main_thread()]


# "auto" times its first steps with one thread, then with the process's count
@pytest.mark.parametrize(
    "blas_threads, expected", [(None, "before"), (1, "one"), ("auto", "one")]
)
def test_large_networks_blas_threads(
    monkeypatch, two_blas_threads, blas_threads, expected
):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(200, 400)), np.arange(200) % 2
    before = two_blas_threads
    # 200 rows x (400 x 300 + 300 x 1) multiply-adds per batch: above the limit
    large = MLPClassifier(
        hidden_layer_sizes=(300,),
        max_iter=1,
        random_state=0,
        blas_threads=blas_threads,
    )
    macs = 200 * (400 * 300 + 300)
    assert macs >= skreg._threads.SINGLE_THREAD_MACS
    during = _blas_threads_during_training(monkeypatch, large, X, y)
    assert during == (before if expected == "before" else [1] * len(before))
    assert [pool["num_threads"] for pool in _blas_pools()] == before


def _raise_value_error(*args):
    raise ValueError("step failed")


def _drop_probability(rate):
    """The documented drop probability: ``rate`` rounded up to a multiple of 2**-16."""
    return min(np.ceil(rate * 2.0**16) / 2.0**16, 1.0)


@pytest.mark.parametrize("rate", [0.0, 1e-6, 0.2, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masks_from_raw_bits_have_the_documented_distribution(rate, dtype):
    rng = np.random.default_rng(4)
    shape = (400, 251)  # not a multiple of 4: the last 64-bit draw is split
    mask = _keep_mask(rng, shape, rate, dtype)
    assert mask.dtype == dtype and mask.shape == shape
    assert set(np.unique(mask)) <= {dtype(0), dtype(1 / (1 - rate))}
    n = mask.size
    p = _drop_probability(rate)
    assert abs(p - rate) <= 2.0**-16
    dropped = float(np.mean(mask == 0))
    assert abs(dropped - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-12
    # draws are fresh and the same seed repeats the mask
    again = _keep_mask(np.random.default_rng(4), shape, rate, dtype)
    assert_array_equal(again, mask)
    if 0.1 < rate < 0.9:
        assert not np.array_equal(_keep_mask(rng, shape, rate, dtype), mask)
        # no structure across rows or columns
        by_column = np.mean(mask == 0, axis=0)
        assert np.max(np.abs(by_column - rate)) < 6 * np.sqrt(rate * (1 - rate) / 400)


@pytest.mark.parametrize("rate", [1e-9, 1 / 2**16, 3 / 2**16, 0.5 + 1e-9])
def test_keep_bits_round_the_rate_up_to_the_16_bit_grid(rate):
    # with 2**22 entries, the drop fraction resolves single steps of 2**-16
    keep = _keep_bits(np.random.default_rng(7), (2**11, 2**11), rate)
    p = _drop_probability(rate)
    dropped = 1 - float(np.mean(keep))
    assert abs(dropped - p) < 5 * np.sqrt(p * (1 - p) / keep.size)


@pytest.mark.parametrize("rate, kept", [(0.0, True), (1 - 1e-12, False), (1.0, False)])
def test_keep_bits_at_the_ends(rate, kept):
    keep = _keep_bits(np.random.default_rng(7), (5, 7), rate)
    assert keep.dtype == bool and keep.shape == (5, 7)
    assert np.all(keep == kept)


def test_keep_bits_uses_the_given_generator_only():
    rng = np.random.default_rng(5)
    state = rng.bit_generator.state
    keep = _keep_bits(rng, (3, 5), 0.5)
    assert keep.dtype == bool and keep.shape == (3, 5)
    assert rng.bit_generator.state != state
    rng.bit_generator.state = state
    assert_array_equal(_keep_bits(rng, (3, 5), 0.5), keep)
