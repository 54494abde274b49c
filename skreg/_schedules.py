"""Learning-rate schedules set at every optimizer step.

A schedule multiplies the optimizer's base rate (``learning_rate_init``, or
what scikit-learn's per-epoch rules 'invscaling' and 'adaptive' make of it)
by a factor computed before each mini-batch step from the run's progress,
measured in epochs: ``e = epochs done + batches done / batches per epoch``.

- 'cosine': ``(1 + cos(pi t)) / 2`` with ``t = e / max_iter``, from 1 to 0 over
  the run (Loshchilov & Hutter, 2017, SGDR, one cycle without restart;
  PyTorch's ``CosineAnnealingLR`` with ``eta_min=0`` and ``T_max`` the run's
  steps).
- 'one_cycle': Smith & Topin (2019), with the defaults of PyTorch's
  ``OneCycleLR`` (``pct_start=0.3``, ``div_factor=25``,
  ``final_div_factor=1e4``, cosine annealing): a cosine rise from 1/25 of the
  peak to the peak (``learning_rate_init``) over the first 30 % of the run,
  then a cosine fall to 1/250,000 of the peak. Momentum is not cycled.
- 'coslog4': RealMLP's multi-cycle schedule (Holzmueller et al., 2024,
  pytabkit's ``CoslogFunc(4)``): ``(1 - cos(2 pi log2(1 + 15 t))) / 2``, four
  cosine cycles from 0 up to 1 and back to 0, each twice as long as the one
  before (on a log time scale), the last ending the run at 0.

A linear warmup (Goyal et al., 2017) multiplies any of these, and
scikit-learn's 'constant', 'invscaling' and 'adaptive', by
``min(1, e' / (warmup_fraction * max_iter))``, ``e'`` the progress after the
step, so the first step runs at a small fraction of the rate.

The run is ``max_iter`` epochs. Stopping rules (early stopping, the
training-loss patience) may end it before the schedule ends: the schedule is
neither stretched nor shortened to them. ``partial_fit`` calls count as one
epoch each and continue the schedule of the fit or calls before them; past
``max_iter`` epochs the factor stays at the schedule's last value. Each
``fit`` (also with ``warm_start=True``) starts the schedule anew.
"""

import math

# PyTorch OneCycleLR's defaults
_ONE_CYCLE_PCT_START = 0.3
_ONE_CYCLE_START = 1.0 / 25.0
_ONE_CYCLE_END = _ONE_CYCLE_START / 1e4
_COSLOG_CYCLES = 4


def _cosine_between(start, end, u):
    """Half a cosine from ``start`` (u = 0) to ``end`` (u = 1)."""
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * u))


def cosine(t):
    return 0.5 * (1.0 + math.cos(math.pi * t))


def one_cycle(t):
    if t < _ONE_CYCLE_PCT_START:
        return _cosine_between(_ONE_CYCLE_START, 1.0, t / _ONE_CYCLE_PCT_START)
    rest = (t - _ONE_CYCLE_PCT_START) / (1.0 - _ONE_CYCLE_PCT_START)
    return _cosine_between(1.0, _ONE_CYCLE_END, rest)


def coslog4(t):
    log_time = math.log2(1.0 + (2**_COSLOG_CYCLES - 1) * t)
    return 0.5 * (1.0 - math.cos(2.0 * math.pi * log_time))


# the schedules that span the run, by their ``learning_rate`` name
RUN_SCHEDULES = {"cosine": cosine, "one_cycle": one_cycle, "coslog4": coslog4}


class LearningRateSchedule:
    """The per-step rate factor of one run; counts the epochs it has seen.

    Parameters
    ----------
    shape : callable or None
        Factor as a function of the run's progress ``t`` in [0, 1]; None
        for none (scikit-learn's schedules, applied per epoch elsewhere).
    max_iter : int
        The run's length in epochs.
    warmup_fraction : float
        Share of the run over which the rate rises linearly from 0.
    """

    def __init__(self, shape, max_iter, warmup_fraction):
        self.shape = shape
        self.max_iter = max_iter
        self.warmup_epochs = warmup_fraction * max_iter
        self.epochs = 0  # epochs completed in this run

    def factor(self, batch, n_batches):
        """The factor of the step on 0-based ``batch`` of ``n_batches``."""
        start = self.epochs + batch / n_batches
        value = 1.0
        if self.shape is not None:
            value = self.shape(min(start / self.max_iter, 1.0))
        if start < self.warmup_epochs:
            value *= min(1.0, (start + 1.0 / n_batches) / self.warmup_epochs)
        return value

    @property
    def ended(self):
        """Whether a schedule that spans the run has run all its epochs."""
        return self.shape is not None and self.epochs >= self.max_iter


def make_lr_schedule(learning_rate, max_iter, warmup_fraction):
    """The schedule for these parameters, or None when no step needs a factor
    (then the optimizer runs exactly as without schedules)."""
    shape = RUN_SCHEDULES.get(learning_rate)
    if shape is None and not warmup_fraction:
        return None
    return LearningRateSchedule(shape, max_iter, warmup_fraction)
