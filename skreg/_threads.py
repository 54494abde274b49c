"""How many BLAS threads a fit trains with.

OpenBLAS threads spin while they wait for each other, so when another process
holds one of the cores, every matrix product waits for a descheduled thread:
on this project's 2-core machine, with a busy loop on the other core, two
threads made fits 2-2.6x slower than one on the idle machine, and 20-40x
under heavier sharing (benchmarks/results/contention.md). One thread never
collapses that way, but an idle machine gives larger networks up to 1.5x its
speed with two. Since OpenBLAS sums float32 products in
another order with another thread count, the choice can change the numbers,
so it is a parameter (``blas_threads``):

- ``"auto"`` (default): networks below :data:`SINGLE_THREAD_MACS` (10
  million) multiply-adds per mini-batch train with one thread (a fixed rule:
  the same model bit for bit); larger ones time a few steps with one thread and with
  the process's thread count, keep the faster, and time again when steps
  slow down (another process took a core) or, with backing off, now and then
  when one thread was kept (the other process may have ended).
- an int: that many threads for the whole fit (bit-for-bit reproducible).
- ``None``: the process's BLAS settings are left alone.

Threads are only set from the main thread: the BLAS thread pool is shared by
the whole process, and fits run from worker threads (dask, thread pools)
already run side by side, where one thread's limit and restore would race
with the others'.
"""

import functools
import statistics
import threading
import time

from threadpoolctl import ThreadpoolController

# Networks whose matrix products per mini-batch (forward pass) stay below this
# many multiply-adds train with one BLAS thread when fitted from the main
# thread, a fixed rule that keeps their models the same bit for bit. Measured
# on 2 cores (benchmarks/README.md): two threads gain at most 4 % on an idle
# machine at 1.5 million (digits' 64-100-10 network) and 13-19 % at 3.8
# million (benchmarks/results/contention.md), but are 2-40x slower when other
# work shares the cores; below 10 million the gain does not pay for a choice
# that varies from run to run.
SINGLE_THREAD_MACS = 10_000_000
# steps timed per candidate thread count; the first of each is not counted
# (it pays for waking the threads)
TRIAL_STEPS = 5
# a step of the process's count this much slower than one thread's median
# ends its trial at once: under contention its steps take 2-40x longer, and
# a full trial would cost more than the fit gains
ABORT_FACTOR = 3.0
# this many steps in a row, each this much slower than the chosen count's
# trial, start a new trial (one slow step is the end of an epoch's validation
# and snapshot, timed with the step after it)
SLOWDOWN = 2.0
SLOW_STEPS = 3
# seconds of training with one thread before the other count is tried again;
# doubles after each trial that keeps one thread
RETRY_SECONDS = 10.0


@functools.cache
def _threadpool_controller():
    # a kept controller takes 15 us per limit, ``threadpool_limits`` would
    # search the loaded libraries each time (0.5 ms)
    return ThreadpoolController()


def process_blas_threads():
    """The largest thread count among the process's BLAS libraries (1 if none)."""
    infos = _threadpool_controller().select(user_api="blas").info()
    return max((info["num_threads"] for info in infos), default=1)


class BlasThreads:
    """Sets the BLAS threads of one fit; a ``with`` block around training.

    Parameters
    ----------
    setting : {"auto"}, int or None
        The estimator's ``blas_threads``.
    macs : int
        Multiply-adds of one mini-batch's forward pass.
    clock : callable, default=time.perf_counter
        Seconds, for the timed steps (tests pass a fake one).
    """

    def __init__(self, setting, macs, clock=time.perf_counter):
        self.clock = clock
        self.used = None  # the count in force, None while not set by us
        self._limiter = None
        self._plan = self._fixed_count(setting, macs)
        self._trial = None

    def _fixed_count(self, setting, macs):
        """The count to set for the whole fit, "measure", or None (leave)."""
        if setting is None or threading.current_thread() is not (
            threading.main_thread()
        ):
            return None
        if setting != "auto":
            return int(setting)
        if macs < SINGLE_THREAD_MACS:
            return 1
        return "measure" if process_blas_threads() > 1 else None

    def __enter__(self):
        if self._plan == "measure":
            # one thread first: its median tells when the other count is hopeless
            self._candidates = [1, process_blas_threads()]
            self._retry_after = RETRY_SECONDS
            self._start_trial()
        elif self._plan is not None:
            self._set(self._plan)
        return self

    def __exit__(self, *exc_info):
        self._release()

    def _set(self, n_threads):
        if n_threads == self.used:
            return
        self._release()
        # entered and exited as a ``with`` block would: threadpoolctl lets one
        # thread at a time set a process-wide BLAS pool, and the exit restores
        # the limits and hands that control back to other threads
        self._limiter = _threadpool_controller().limit(
            limits=n_threads, user_api="blas"
        )
        self._limiter.__enter__()
        self.used = n_threads

    def _release(self):
        if self._limiter is not None:
            self._limiter.__exit__(None, None, None)
            self._limiter = None

    # ------------------------------------------------------------------
    # measuring: called after every training step

    def step_done(self):
        """Time the step that just ended; switch threads when it is time to."""
        if self._plan != "measure":
            return
        now = self.clock()
        seconds, self._last = now - self._last, now
        if self._trial is not None:
            self._record_trial_step(seconds)
            return
        slow = seconds > SLOWDOWN * self._chosen_seconds
        self._slow_steps = self._slow_steps + 1 if slow else 0
        if self.used == 1 and now > self._retry_at:
            self._retry_after *= 2  # one thread kept winning: try less often
            self._start_trial()
        elif self._slow_steps >= SLOW_STEPS:
            self._start_trial()

    def _start_trial(self):
        self._trial = {count: [] for count in self._candidates}
        self._trial_order = list(self._candidates)
        self._set(self._trial_order[0])
        self._last = self.clock()

    def _record_trial_step(self, seconds):
        count = self.used
        self._trial[count].append(seconds)
        first = self._candidates[0]
        hopeless = count != first and seconds > ABORT_FACTOR * self._median(first)
        if len(self._trial[count]) < TRIAL_STEPS and not hopeless:
            return
        self._trial_order.pop(0)
        if self._trial_order and not hopeless:
            self._set(self._trial_order[0])
            self._last = self.clock()
            return
        medians = {n: self._median(n) for n, times in self._trial.items() if times}
        best = first if hopeless else min(medians, key=lambda n: (medians[n], n))
        self._chosen_seconds = medians[best]
        self._trial = None
        self._slow_steps = 0
        if best > 1:
            self._retry_after = RETRY_SECONDS
        self._set(best)
        self._last = self.clock()
        self._retry_at = self._last + self._retry_after

    def _median(self, count):
        """Median step time of ``count`` in this trial, its first step aside."""
        times = self._trial[count]
        return statistics.median(times[1:] if len(times) > 1 else times)
