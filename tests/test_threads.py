"""The BLAS thread chooser (skreg._threads), with a fake clock and BLAS.

A fake controller records every limit set, and a fake clock makes each step
take as long as the test says for the thread count in force, so that the
choices are checked exactly, whatever the machine's load.
"""

import threading

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import skreg._threads as threads_module
from skreg import MLPClassifier
from skreg._threads import (
    RETRY_SECONDS,
    SINGLE_THREAD_MACS,
    SLOW_STEPS,
    TRIAL_STEPS,
    BlasThreads,
)

LARGE = SINGLE_THREAD_MACS


class FakeBlas:
    """A BLAS with ``process_threads`` threads whose limits are recorded."""

    def __init__(self, process_threads=2):
        self.process_threads = process_threads
        self.current = process_threads
        self.limits = []

    def select(self, user_api):
        blas = self

        class Selection:
            def info(self):
                return [{"num_threads": blas.current}]

        return Selection()

    def limit(self, limits, user_api):
        blas, original = self, self.current
        self.limits.append(limits)
        self.current = limits

        class Limiter:
            def __enter__(self):
                return self

            def __exit__(self, *exc_info):
                blas.current = original

        return Limiter()


class FakeClock:
    """Each step takes ``seconds[threads in force]``; read by the chooser."""

    def __init__(self, blas, seconds):
        self.blas, self.seconds, self.now = blas, seconds, 0.0
        self.steps = dict.fromkeys(seconds, 0)  # steps run per thread count

    def __call__(self):
        return self.now

    def step(self, chooser):
        self.now += self.seconds[self.blas.current]
        self.steps[self.blas.current] += 1
        chooser.step_done()


@pytest.fixture
def blas(monkeypatch):
    fake = FakeBlas()
    monkeypatch.setattr(threads_module, "_threadpool_controller", lambda: fake)
    return fake


def _run(blas, seconds, n_steps, setting="auto", macs=LARGE):
    clock = FakeClock(blas, seconds)
    chooser = BlasThreads(setting, macs, clock=clock)
    with chooser:
        for _ in range(n_steps):
            clock.step(chooser)
        during = blas.current
    return chooser, during, clock.steps


@pytest.mark.parametrize("two_threads", [0.5, 1.2, 40.0])
def test_auto_keeps_the_faster_count(blas, two_threads):
    chooser, during, steps = _run(blas, {1: 1.0, 2: two_threads}, 2 * TRIAL_STEPS)
    assert blas.limits[:2] == [1, 2]  # one thread first, then the process's count
    fastest = 2 if two_threads < 1 else 1
    assert during == fastest and chooser.used == fastest
    assert blas.current == 2  # the process's count is restored
    # a collapsing count is dropped after one step, a slower one after its trial
    assert steps[2] == (TRIAL_STEPS if two_threads < 3 else 1)


def test_auto_tries_again_when_steps_slow_down(blas):
    clock = FakeClock(blas, {1: 1.0, 2: 0.5})
    chooser = BlasThreads("auto", LARGE, clock=clock)
    with chooser:
        for _ in range(2 * TRIAL_STEPS + 2):
            clock.step(chooser)
        assert chooser.used == 2
        clock.seconds = {1: 1.0, 2: 40.0}  # another process took a core
        for _ in range(SLOW_STEPS - 1):
            clock.step(chooser)
        assert chooser.used == 2  # a slow step or two is not enough
        for _ in range(1 + 2 * TRIAL_STEPS):
            clock.step(chooser)
        assert chooser.used == 1


def test_auto_retries_two_threads_with_backing_off(blas):
    clock = FakeClock(blas, {1: 1.0, 2: 40.0})
    chooser = BlasThreads("auto", LARGE, clock=clock)
    ends, starts = [], []  # when each trial ended, when the next one began
    with chooser:
        for _ in range(600):
            in_trial = chooser._trial is not None
            clock.step(chooser)
            if in_trial and chooser._trial is None:
                ends.append(clock.now)
            elif not in_trial and chooser._trial is not None:
                starts.append(clock.now)
        assert chooser.used == 1  # contention went on: one thread each time
    waits = np.subtract(starts, ends[: len(starts)])
    assert len(waits) >= 3
    # one thread runs RETRY_SECONDS, then twice as long after each retry
    # (up to the one-second step that crosses the deadline)
    expected = RETRY_SECONDS * 2.0 ** np.arange(len(waits))
    assert np.all((waits >= expected) & (waits <= expected + 1.0))


@pytest.mark.parametrize(
    "setting, macs, expected",
    [("auto", LARGE - 1, [1]), (3, LARGE, [3]), (1, 10, [1]), (None, LARGE, [])],
)
def test_fixed_counts_never_measure(blas, setting, macs, expected):
    _run(blas, {1: 1.0, 2: 0.1, 3: 0.1}, 50, setting, macs)
    assert blas.limits == expected
    assert blas.current == 2


def test_one_thread_process_is_left_alone(blas):
    blas.current = blas.process_threads = 1
    _run(blas, {1: 1.0}, 50)
    assert blas.limits == []


def test_worker_threads_set_nothing(blas):
    def fit():
        _run(blas, {1: 1.0, 2: 0.5}, 50, setting=3)

    worker = threading.Thread(target=fit)
    worker.start()
    worker.join()
    assert blas.limits == []


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_pinned_count_repeats_the_model_bit_for_bit():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(300, 40)), np.arange(300) % 3
    fits = [
        MLPClassifier((64,), max_iter=5, random_state=0, blas_threads=1).fit(X, y)
        for _ in range(2)
    ]
    for a, b in zip(fits[0].coefs_, fits[1].coefs_, strict=True):
        assert_array_equal(a, b)
