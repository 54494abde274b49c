"""Patience and learning-rate schedules of the stochastic solvers, epoch by epoch.

The rules are scikit-learn's MLP's (``_fit_stochastic``): an epoch counts as
"no improvement" when the monitored value fails to beat the best so far by
``tol``; training stops (or, with ``learning_rate='adaptive'``, divides the
learning rate by 5) once ``n_iter_no_change + 1`` such epochs follow each
other. ``'invscaling'`` sets the rate after each epoch to
``learning_rate_init / (t + 1) ** power_t``, ``t`` the samples seen so far.

The training-loss tests replace ``skreg._training.run_epoch`` by a stand-in
that records the learning rate each epoch runs with, and either returns a
scripted loss (so the stopping rule sees known values) or runs the real epoch.
Expected epoch counts and rates come from small re-implementations of the
rules below, written from scikit-learn's code, not from the code under test.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning

import skreg._training
from skreg import MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.1 * rng.normal(size=n)
    return X, y


def _fit_small(**params):
    """A 4-unit regressor without early stopping, fitted on ``_data()``."""
    X, y = _data()
    base = dict(hidden_layer_sizes=(4,), early_stopping=False, random_state=0)
    return MLPRegressor(**{**base, **params}).fit(X, y)


def _record_epochs(monkeypatch, losses=None):
    """Patch the epoch function; return the list of per-epoch learning rates.

    With ``losses``, epoch k returns ``losses[k]`` without training; without,
    the real epoch runs.
    """
    rates = []
    real_run_epoch = skreg._training.run_epoch
    scripted = None if losses is None else iter(losses)

    def run_epoch(network, loss, penalty, optimizer, data, settings, rngs):
        rates.append(optimizer.learning_rate)
        if scripted is None:
            return real_run_epoch(
                network, loss, penalty, optimizer, data, settings, rngs
            )
        return next(scripted)

    monkeypatch.setattr(skreg._training, "run_epoch", run_epoch)
    return rates


def _patience_stop(values, tol, n_iter_no_change, *, higher_is_better):
    """The 1-based epoch at which scikit-learn's patience rule stops, or None.

    scikit-learn: ``if last < best + tol: count += 1 else: count = 0`` for
    scores (``last > best - tol`` for losses), then the best is updated, and
    training stops when ``count > n_iter_no_change``.
    """
    sign = 1.0 if higher_is_better else -1.0
    best, count = -np.inf, 0
    for epoch, value in enumerate(values, start=1):
        value = sign * value
        count = count + 1 if value < best + tol else 0
        best = max(best, value)
        if count > n_iter_no_change:
            return epoch
    return None


def _adaptive_schedule(losses, learning_rate_init, tol, n_iter_no_change):
    """Learning rate of each epoch under 'adaptive', and the stopping epoch.

    Each time the patience rule fires, training stops if the rate is already
    1e-6 or below; otherwise the rate is divided by 5 and the count starts
    again (scikit-learn's ``SGDOptimizer.trigger_stopping``).
    """
    rates, rate, best, count = [], learning_rate_init, np.inf, 0
    for epoch, loss in enumerate(losses, start=1):
        rates.append(rate)
        count = count + 1 if loss > best - tol else 0
        best = min(best, loss)
        if count > n_iter_no_change:
            if rate <= 1e-6:
                return rates, epoch
            count = 0
            rate /= 5.0
    return rates, None


# ---------------------------------------------------------------------------
# patience


def _early_stopped(tol, n_iter_no_change):
    """A regressor early-stopped on noisy data with a large step, where the
    validation loss turns up after a few epochs and stays above its best."""
    X, y = make_regression(n_samples=150, n_features=8, noise=30, random_state=0)
    return MLPRegressor(
        hidden_layer_sizes=(32,),
        early_stopping=True,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        learning_rate_init=0.01,
        max_iter=500,
        random_state=0,
    ).fit(X, y / y.std())


@pytest.mark.parametrize("n_iter_no_change", [2, 5])
def test_early_stopping_stops_n_iter_no_change_plus_one_epochs_after_the_best(
    n_iter_no_change,
):
    reg = _early_stopped(tol=0.0, n_iter_no_change=n_iter_no_change)
    scores = np.asarray(reg.validation_scores_)
    assert reg.n_iter_ < reg.max_iter and len(scores) == reg.n_iter_
    # the best epoch (1-based) is the argmax, and no later epoch ties it
    # (with tol=0 a tie would count as an improvement)
    assert reg.best_iteration_ == np.argmax(scores) + 1
    assert np.all(scores[reg.best_iteration_ :] < scores.max())
    assert reg.n_iter_ == reg.best_iteration_ + n_iter_no_change + 1
    assert reg.n_iter_ == _patience_stop(
        scores, 0.0, n_iter_no_change, higher_is_better=True
    )


def test_early_stopping_counts_improvements_smaller_than_tol_as_none():
    reg = _early_stopped(tol=0.02, n_iter_no_change=3)
    scores = reg.validation_scores_
    assert reg.n_iter_ < reg.max_iter
    assert reg.n_iter_ == _patience_stop(scores, 0.02, 3, higher_is_better=True)
    # the tol made a difference on this run: with tol=0 the rule runs longer
    later = _patience_stop(scores, 0.0, 3, higher_is_better=True)
    assert later is None or later > reg.n_iter_


@pytest.mark.parametrize("n_iter_no_change", [1, 3])
def test_training_loss_patience_stops_exactly(monkeypatch, n_iter_no_change):
    # the loss falls for four epochs, then only rises: the best is epoch 4
    losses = [5.0, 4.0, 3.0, 2.0] + [2.5 + 0.1 * k for k in range(50)]
    _record_epochs(monkeypatch, losses)
    reg = _fit_small(
        tol=0.0,
        n_iter_no_change=n_iter_no_change,
        max_iter=50,
    )
    assert reg.n_iter_ == 4 + n_iter_no_change + 1
    assert reg.loss_curve_ == losses[: reg.n_iter_]
    assert reg.best_loss_ == 2.0


def test_training_loss_patience_resets_on_improvement_and_respects_tol(monkeypatch):
    tol, n_iter_no_change = 0.1, 2
    losses = [
        10.0,
        9.0,  # improves by more than tol: count 0
        8.95,  # better, but by less than tol: count 1
        9.5,  # count 2
        8.0,  # improves by more than tol: count back to 0
        7.95,  # count 1
        7.92,  # count 2
        7.91,  # count 3 > n_iter_no_change: stop here, at epoch 8
    ] + [7.0] * 20
    _record_epochs(monkeypatch, losses)
    reg = _fit_small(
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        max_iter=len(losses),
    )
    expected = _patience_stop(losses, tol, n_iter_no_change, higher_is_better=False)
    assert expected == 8
    assert reg.n_iter_ == expected
    assert reg.best_loss_ == 7.91  # the best is the minimum, tol or not


# ---------------------------------------------------------------------------
# learning-rate schedules


@pytest.mark.parametrize("power_t", [0.5, 0.25])
def test_invscaling_rate_follows_samples_seen(monkeypatch, power_t):
    rates = _record_epochs(monkeypatch)
    learning_rate_init = 0.05
    reg = _fit_small(
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=learning_rate_init,
        power_t=power_t,
        batch_size=16,
        max_iter=6,
        n_iter_no_change=100,
    )
    n_samples = len(_data()[0])
    assert reg.n_iter_ == len(rates) == 6
    assert reg.t_ == 6 * n_samples
    # epoch k runs with the rate set after epoch k - 1, when
    # t = (k - 1) * n_samples samples had been seen (epoch 1: the initial rate)
    t = np.arange(6) * n_samples
    assert_allclose(rates, learning_rate_init / (t + 1) ** power_t, rtol=1e-12)


def test_invscaling_counts_samples_across_partial_fit_calls(monkeypatch):
    rates = _record_epochs(monkeypatch)
    X, y = _data(n=100)
    reg = MLPRegressor(
        hidden_layer_sizes=(4,),
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.05,
        power_t=0.3,
        random_state=0,
    )
    starts, sizes = [0, 30, 80, 0], [30, 50, 20, 45]
    for start, size in zip(starts, sizes, strict=True):
        reg.partial_fit(X[start : start + size], y[start : start + size])
    seen_before = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    assert reg.t_ == sum(sizes)
    assert_allclose(rates, 0.05 / (seen_before + 1) ** 0.3, rtol=1e-12)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd", learning_rate="constant"),
        dict(solver="adam", learning_rate="invscaling"),
        dict(solver="adam", learning_rate="adaptive"),
    ],
    ids=["sgd-constant", "adam-invscaling", "adam-adaptive"],
)
def test_rate_stays_constant_unless_sgd_schedules_it(monkeypatch, params):
    # learning_rate only schedules solver='sgd', as in scikit-learn
    losses = [1.0] * 30  # flat: 'adaptive' would divide the rate after 3 epochs
    rates = _record_epochs(monkeypatch, losses)
    _fit_small(
        learning_rate_init=0.01,
        tol=1e-4,
        n_iter_no_change=2,
        max_iter=len(losses),
        **params,
    )
    assert len(rates) == 4  # stopped by patience: epoch 1 + 3 without improvement
    assert rates == [0.01] * 4


@pytest.mark.parametrize("n_iter_no_change", [1, 2])
def test_adaptive_divides_rate_by_5_after_patience_until_at_most_1e_6(
    monkeypatch, n_iter_no_change
):
    tol, learning_rate_init = 1e-3, 1e-4
    # improving for five epochs (by more than tol), then flat
    losses = [1.0, 0.9, 0.8, 0.7, 0.6] + [0.6] * 100
    rates = _record_epochs(monkeypatch, losses)
    reg = _fit_small(
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=learning_rate_init,
        tol=tol,
        n_iter_no_change=n_iter_no_change,
        max_iter=len(losses),
    )
    expected_rates, stop = _adaptive_schedule(
        losses, learning_rate_init, tol, n_iter_no_change
    )
    # 1e-4 -> 2e-5 -> 4e-6 -> 8e-7, which is <= 1e-6: the next time patience
    # runs out training stops. Four patience periods of n_iter_no_change + 1
    # flat epochs each, the first flat epoch being 6
    assert stop == 5 + 4 * (n_iter_no_change + 1)
    assert reg.n_iter_ == stop
    assert_allclose(rates, expected_rates[:stop], rtol=1e-12)
    assert_allclose(
        sorted(set(rates), reverse=True),
        learning_rate_init / 5.0 ** np.arange(4),
        rtol=1e-12,
    )


def test_adaptive_keeps_the_rate_while_the_loss_improves(monkeypatch):
    losses = list(np.linspace(1.0, 0.1, 20))  # improves by 0.047 > tol each epoch
    rates = _record_epochs(monkeypatch, losses)
    reg = _fit_small(
        solver="sgd",
        learning_rate="adaptive",
        learning_rate_init=0.01,
        tol=1e-2,
        n_iter_no_change=1,
        max_iter=len(losses),
    )
    assert reg.n_iter_ == len(losses)
    assert rates == [0.01] * len(losses)


# ---------------------------------------------------------------------------
# per-step schedules: 'cosine', 'one_cycle', 'coslog4' and the warmup
#
# The expected rates come from the formulas of the papers and of PyTorch's
# schedulers, written out here with numpy over the whole run, not from
# skreg._schedules.


def _record_steps(monkeypatch):
    """Patch the step function; return the list of the rates steps run with."""
    rates = []
    real_train_step = skreg._training.train_step

    def train_step(network, loss, penalty, optimizer, *args):
        rates.append(optimizer.rate)
        return real_train_step(network, loss, penalty, optimizer, *args)

    monkeypatch.setattr(skreg._training, "train_step", train_step)
    return rates


def _cosine(t):  # CosineAnnealingLR with eta_min=0: from 1 to 0
    return 0.5 * (1 + np.cos(np.pi * t))


def _one_cycle(t):  # OneCycleLR(pct_start=0.3, div_factor=25, final_div_factor=1e4)
    start, end = 1 / 25, 1 / 25 / 1e4
    rise = 1 + (start - 1) * _cosine(np.minimum(t / 0.3, 1))
    fall = end + (1 - end) * _cosine(np.clip((t - 0.3) / 0.7, 0, 1))
    return np.where(t < 0.3, rise, fall)


def _coslog4(t):  # pytabkit's CoslogFunc(4)
    return 0.5 * (1 - np.cos(2 * np.pi * np.log2(1 + 15 * t)))


SHAPES = {"cosine": _cosine, "one_cycle": _one_cycle, "coslog4": _coslog4}


def test_schedule_shapes_meet_their_definitions():
    from skreg import _schedules

    t = np.linspace(0, 1, 1001)
    for name, expected in SHAPES.items():
        got = [_schedules.RUN_SCHEDULES[name](x) for x in t]
        assert_allclose(got, expected(t), rtol=1e-12, atol=1e-15, err_msg=name)
    # landmarks: cosine halves at mid-run; one-cycle peaks at 30 %;
    # coslog4 is 0 at the ends of its four cycles, 1 at their middles
    assert _schedules.cosine(0.5) == pytest.approx(0.5)
    assert _schedules.one_cycle(0.0) == pytest.approx(1 / 25)
    assert _schedules.one_cycle(0.3) == pytest.approx(1.0)
    assert _schedules.one_cycle(1.0) == pytest.approx(1 / 25 / 1e4)
    ends = (2.0 ** np.arange(5) - 1) / 15
    middles = (2.0 ** (np.arange(4) + 0.5) - 1) / 15
    assert_allclose([_schedules.coslog4(x) for x in ends], 0, atol=1e-12)
    assert_allclose([_schedules.coslog4(x) for x in middles], 1, rtol=1e-12)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("name", SHAPES)
def test_run_schedules_set_the_rate_at_every_step(monkeypatch, name, solver):
    rates = _record_steps(monkeypatch)
    n_epochs, batch_size = 7, 16
    reg = _fit_small(
        solver=solver,
        learning_rate=name,
        learning_rate_init=0.02,
        batch_size=batch_size,
        max_iter=n_epochs,
        n_iter_no_change=np.inf,
    )
    n_batches = -(-len(_data()[0]) // batch_size)  # 60 rows: 4 batches
    assert reg.n_iter_ == n_epochs
    assert len(rates) == n_epochs * n_batches
    t = np.arange(n_epochs * n_batches) / (n_epochs * n_batches)
    assert_allclose(rates, 0.02 * SHAPES[name](t), rtol=1e-12, atol=1e-18)


@pytest.mark.parametrize(
    "learning_rate, base",
    [("constant", lambda t: 1.0 + 0 * t), ("cosine", _cosine)],
)
def test_warmup_rises_linearly_over_its_share_of_the_run(
    monkeypatch, learning_rate, base
):
    rates = _record_steps(monkeypatch)
    n_epochs, n_batches = 10, 4
    _fit_small(
        learning_rate=learning_rate,
        learning_rate_init=0.01,
        batch_size=15,
        max_iter=n_epochs,
        warmup_fraction=0.25,
        n_iter_no_change=np.inf,
    )
    steps = np.arange(n_epochs * n_batches)
    warmup_steps = 0.25 * n_epochs * n_batches  # 10 steps
    expected = (
        0.01
        * np.minimum(1.0, (steps + 1) / warmup_steps)
        * base(steps / (n_epochs * n_batches))
    )
    assert_allclose(rates, expected, rtol=1e-12)
    assert rates[0] == pytest.approx(0.01 * base(0) / warmup_steps)


def test_warmup_multiplies_sklearn_schedules_and_applies_to_adam(monkeypatch):
    # 'invscaling' still sets the base rate per epoch (sgd only), the warmup
    # multiplies it per step, for adam too
    rates = _record_steps(monkeypatch)
    _fit_small(
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.05,
        power_t=0.5,
        batch_size=30,
        max_iter=4,
        warmup_fraction=0.5,
        n_iter_no_change=np.inf,
    )
    steps = np.arange(8)
    base = 0.05 / (60 * (steps // 2) + 1) ** 0.5
    assert_allclose(rates, base * np.minimum(1, (steps + 1) / 4), rtol=1e-12)
    rates.clear()
    _fit_small(
        solver="adam",
        learning_rate="invscaling",
        learning_rate_init=0.05,
        batch_size=30,
        max_iter=4,
        warmup_fraction=0.5,
        n_iter_no_change=np.inf,
    )
    assert_allclose(rates, 0.05 * np.minimum(1, (steps + 1) / 4), rtol=1e-12)


def test_early_stopping_truncates_the_schedule_without_stretching_it(monkeypatch):
    rates = _record_steps(monkeypatch)
    X, y = make_regression(n_samples=150, n_features=8, noise=30, random_state=0)
    reg = MLPRegressor(
        hidden_layer_sizes=(32,),
        early_stopping=True,
        n_iter_no_change=2,
        tol=0.0,
        learning_rate="cosine",
        learning_rate_init=0.01,
        batch_size=135,  # the 135 training rows: one step per epoch
        max_iter=500,
        random_state=0,
    ).fit(X, y / y.std())
    assert reg.n_iter_ < 500
    assert len(rates) == reg.n_iter_
    # the schedule is that of 500 epochs, cut where early stopping ended it
    assert_allclose(rates, 0.01 * _cosine(np.arange(reg.n_iter_) / 500), rtol=1e-12)


@pytest.mark.parametrize("name", SHAPES)
def test_a_schedule_run_to_max_iter_is_no_convergence_failure(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _fit_small(learning_rate=name, max_iter=5, n_iter_no_change=np.inf)
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        _fit_small(learning_rate="constant", max_iter=5, n_iter_no_change=np.inf)


def _scheduled(learning_rate, **params):
    """A 4-unit regressor at a peak rate of 0.01 and 40 rows of ``_data``."""
    X, y = _data(n=40)
    reg = MLPRegressor(
        hidden_layer_sizes=(4,),
        learning_rate=learning_rate,
        learning_rate_init=0.01,
        random_state=0,
        **params,
    )
    return reg, X, y


def test_partial_fit_counts_calls_as_epochs_of_the_schedule(monkeypatch):
    rates = _record_steps(monkeypatch)
    reg, X, y = _scheduled("cosine", batch_size=20, max_iter=3)
    for _ in range(3):
        reg.partial_fit(X, y)
    t = np.arange(6) / 6  # two steps per call, three calls = the run
    assert_allclose(rates, 0.01 * _cosine(t), rtol=1e-12)
    rates.clear()
    with pytest.warns(UserWarning, match="has run its max_iter=3 epochs"):
        reg.partial_fit(X, y)
    assert rates == [0.0, 0.0]  # the final rate of the cosine


def test_partial_fit_after_fit_continues_its_schedule(monkeypatch):
    rates = _record_steps(monkeypatch)
    # tol=10: patience ends the fit after 1 + 3 epochs
    reg, X, y = _scheduled(
        "one_cycle", batch_size=40, max_iter=10, tol=10.0, n_iter_no_change=2
    )
    reg.fit(X, y)
    assert reg.n_iter_ == 4
    reg.partial_fit(X, y)
    assert_allclose(rates, 0.01 * _one_cycle(np.arange(5) / 10), rtol=1e-12)


def test_each_fit_starts_the_schedule_anew_also_with_warm_start(monkeypatch):
    rates = _record_steps(monkeypatch)
    reg = _fit_small(
        learning_rate="cosine",
        learning_rate_init=0.01,
        batch_size=60,
        max_iter=4,
        warm_start=True,
        n_iter_no_change=np.inf,
    )
    first = list(rates)
    rates.clear()
    reg.fit(*_data())
    assert rates == first
    assert_allclose(first, 0.01 * _cosine(np.arange(4) / 4), rtol=1e-12)
