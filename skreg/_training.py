"""The epoch / mini-batch loop of the stochastic solvers, as plain functions.

``train`` runs epochs until ``max_iter``, patience, divergence or Ctrl-C, and
records everything in a :class:`History`; it never raises for those, it stops
and says why. Whatever stops the loop, the network is left holding finite
weights: the best validation epoch's when early stopping restores it; after a
divergence, those at the start of the epoch with the lowest training loss
(unless early stopping restores the best validation epoch and it scores
better); after Ctrl-C, those of the last completed epoch.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._layers import Context
from ._optimizers import clip_grad_norm
from ._penalties import apply_max_norm
from ._warnings import warn


@dataclass
class History:
    """What training recorded, epoch by epoch; kept across ``partial_fit`` calls."""

    loss_curve: list = field(default_factory=list)
    validation_loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = np.inf
    best_mean_network_loss: float = np.inf
    best_validation_score: float = -np.inf
    best_iteration: int | None = None
    n_iter: int = 0
    t: int = 0
    no_improvement_count: int = 0
    stop_reason: str | None = None

    def end_validation_curves(self):
        """Forget the validation curves: they describe the fits that monitored a
        validation set in a row, and a fit without one ends them."""
        self.validation_loss_curve.clear()
        self.validation_scores.clear()


@dataclass
class TrainingData:
    """Training rows: X and encoded Y in the network's dtype, weights or None.

    ``rows`` selects the training subset of X (None: all rows), so that a
    validation split needs no copy of X.
    """

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray | None = None
    rows: np.ndarray | None = None

    def __iter__(self):
        return iter((self.X, self.Y, self.sample_weight, self.rows))

    @property
    def n_samples(self):
        return self.X.shape[0] if self.rows is None else len(self.rows)


@dataclass
class LoopSettings:
    """The estimator's parameters that the loop reads, already validated."""

    batch_size: int
    max_iter: int
    shuffle: bool
    tol: float
    n_iter_no_change: int
    adaptive_learning_rate: bool = False
    invscaling_power: float | None = None
    learning_rate_init: float = 1e-3
    max_norm: float | None = None
    restore_best_weights: bool = True
    early_stopping: bool = False
    verbose: int = 0
    # called after every mini-batch step (the BLAS thread chooser times them)
    on_step: Callable[[], None] | None = None
    # per-step learning-rate factor (skreg._schedules), None for none; it
    # counts epochs, so it lives as long as the optimizer (across partial_fit)
    lr_schedule: object = None
    max_grad_norm: float | None = None
    # what verbose calls the validation score; None when it is the negative
    # validation loss (scoring="loss"), which the line already shows
    score_name: str | None = None


class DivergenceError(FloatingPointError):
    """Raised internally when a batch produces a non-finite loss or weights."""


def iterate_batches(rows, n_samples, bounds, rng=None):
    """Row selections of the mini-batches of one epoch.

    ``rows`` (an index array, or None for all ``n_samples`` rows) is the
    training subset; indexing through it lets a validation split be held
    out without copying X. ``bounds`` are the batches' ``(start, stop)`` in
    the (shuffled) order. Without shuffling and subset, batches are slices.
    """
    if rows is None and rng is None:
        for start, stop in bounds:
            yield slice(start, stop)
        return
    if rows is None:
        rows = np.arange(n_samples)
    order = rows if rng is None else rows[rng.permutation(len(rows))]
    for start, stop in bounds:
        yield order[start:stop]


def batch_bounds(n, batch_size, merge_single=False):
    """``(start, stop)`` of each mini-batch of ``n`` rows.

    ``merge_single`` joins a last batch of one row to the one before: batch
    normalization cannot normalize a single row.
    """
    starts = list(range(0, n, batch_size))
    if merge_single and len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return list(zip(starts, [*starts[1:], n], strict=True))


def _take(A, index, out=None):
    if A is None:
        return None
    if out is None or isinstance(index, slice) or not isinstance(A, np.ndarray):
        return A[index]
    # mode="clip" skips the bounds check that makes numpy buffer ``out``
    # (2-3x slower); the indices are our own row numbers, always in range
    return np.take(A, index, axis=0, out=out[: len(index)], mode="clip")


def train_step(
    network, loss, penalty, optimizer, X, Y, sample_weight, rng, max_grad_norm=None
):
    """One mini-batch: forward, backward, gradient clipping (``max_grad_norm``
    of the data gradient, before the penalty's), smooth penalty, optimizer
    step, prox.

    Returns the batch's weighted mean data loss and the sum of its sample
    weights, or ``None`` when the weights are all zero (nothing to learn).
    """
    if sample_weight is None:
        weight_sum, weights = float(X.shape[0]), None
    else:
        weight_sum = float(sample_weight.sum())
        if weight_sum <= 0:
            return None
        weights = sample_weight / weight_sum
    ctx = Context(
        training=True,
        rng=rng,
        weights=weights,
        kernels=optimizer.use_kernels,
        reuse_buffers=True,
    )
    Z, backward = network.forward(X, ctx)
    batch_loss, dZ = loss.value_and_gradient(Z, Y, weights)
    if not math.isfinite(batch_loss):
        raise DivergenceError(batch_loss)
    backward(dZ)
    if max_grad_norm is not None:
        clip_grad_norm(network.grads, max_grad_norm)
    # smooth penalty gradient, update and proximal step in one cache-friendly sweep
    optimizer.step(network.params, network.grads, penalty, network.n_penalized)
    return batch_loss, weight_sum


def run_epoch(network, loss, penalty, optimizer, data, settings, rngs):
    """One pass over the training data; returns the epoch's training objective."""
    X, Y, sample_weight, rows = data
    order_rng = rngs["shuffle"] if settings.shuffle else None
    hidden_coefs = [layer.params["coef"] for layer in network.dense_layers[:-1]]
    total_loss = total_weight = 0.0
    merge_single = bool(network.batch_norm_layers)
    bounds = batch_bounds(data.n_samples, settings.batch_size, merge_single)
    n_batches = len(bounds)
    # rows of a shuffled batch are gathered into arrays reused by every batch
    batch_size = max(stop - start for start, stop in bounds)
    X_batch = None if sp.issparse(X) else np.empty((batch_size, *X.shape[1:]), X.dtype)
    Y_batch = np.empty((batch_size, *Y.shape[1:]), Y.dtype)
    # verbose >= 2: about ten progress lines per epoch
    report_every = max(1, n_batches // 10) if settings.verbose > 1 else 0
    batches = iterate_batches(rows, X.shape[0], bounds, order_rng)
    schedule = settings.lr_schedule
    for number, index in enumerate(batches, start=1):
        if schedule is not None:
            optimizer.rate_factor = schedule.factor(number - 1, n_batches)
        result = train_step(
            network,
            loss,
            penalty,
            optimizer,
            _take(X, index, X_batch),
            _take(Y, index, Y_batch),
            _take(sample_weight, index),
            rngs["masks"],
            settings.max_grad_norm,
        )
        if settings.max_norm is not None:
            apply_max_norm(hidden_coefs, settings.max_norm)
        if settings.on_step is not None:
            settings.on_step()
        if result is not None:
            total_loss += result[0] * result[1]
            total_weight += result[1]
        if report_every and (number % report_every == 0 or number == n_batches):
            running = total_loss / total_weight if total_weight else 0.0
            print(f"  batch {number}/{n_batches}, running data loss = {running:.8f}")
    if schedule is not None:
        schedule.epochs += 1
    if not np.all(np.isfinite(network.params)):
        raise DivergenceError("non-finite weights")
    data_loss = total_loss / total_weight if total_weight else 0.0
    epoch_loss = data_loss + penalty.value(network.params[: network.n_penalized])
    if not np.isfinite(epoch_loss):  # finite batches can still sum to inf
        raise DivergenceError(epoch_loss)
    return epoch_loss


def _update_patience(history, settings, value, best_value, *, higher_is_better):
    """Count epochs whose value did not beat the best by more than ``tol``."""
    if higher_is_better:
        improved = value >= best_value + settings.tol
    else:
        improved = value <= best_value - settings.tol
    history.no_improvement_count = 0 if improved else history.no_improvement_count + 1


def _end_of_epoch(
    network, history, settings, optimizer, validation, best, mean_network=None
):
    """Record the epoch, track the best state; return a stop reason or None."""
    if validation is not None:
        # exploding weights give an infinite validation loss: never the best
        with np.errstate(over="ignore", invalid="ignore"):
            val_loss, val_score = validation(network)
        history.validation_loss_curve.append(val_loss)
        history.validation_scores.append(val_score)
        if settings.early_stopping:  # else only recorded: patience is the loss's
            _update_patience(
                history,
                settings,
                val_score,
                history.best_validation_score,
                higher_is_better=True,
            )
        if val_score > history.best_validation_score or history.best_iteration is None:
            history.best_validation_score = val_score
            history.best_iteration = history.n_iter
            best["snapshot"] = network.snapshot()
    if not settings.early_stopping and mean_network is not None:
        _mean_network_patience(network, history, settings, mean_network)
    elif not settings.early_stopping:
        train_loss = history.loss_curve[-1]
        _update_patience(
            history, settings, train_loss, history.best_loss, higher_is_better=False
        )
    history.best_loss = min(history.best_loss, history.loss_curve[-1])

    if settings.invscaling_power is not None:
        optimizer.learning_rate = (
            settings.learning_rate_init / (history.t + 1) ** settings.invscaling_power
        )
    if history.no_improvement_count <= settings.n_iter_no_change:
        return None
    what = "Validation score" if settings.early_stopping else "Training loss"
    message = (
        f"{what} did not improve more than tol={settings.tol:f} for "
        f"{settings.n_iter_no_change} consecutive epochs."
    )
    # scikit-learn's rule: divide by 5 and go on, unless the rate is already
    # at most 1e-6 (so the last epochs may run below it)
    if settings.adaptive_learning_rate and optimizer.learning_rate > 1e-6:
        optimizer.learning_rate /= 5.0
        history.no_improvement_count = 0
        if settings.verbose:
            print(f"{message} Setting learning rate to {optimizer.learning_rate:f}")
        return None
    return message


def _mean_network_patience(network, history, settings, mean_network):
    """Patience on the training objective of the mean network (no masks, no
    noise: the model ``predict`` uses), for networks trained with dropout,
    DropConnect or input noise. Their epoch loss averages losses under random
    masks, whose noise would meet ``tol`` by chance and stop training early."""
    with np.errstate(over="ignore", invalid="ignore"):
        value = mean_network(network)
    _update_patience(
        history, settings, value, history.best_mean_network_loss, higher_is_better=False
    )
    history.best_mean_network_loss = min(history.best_mean_network_loss, value)


def _print_epoch(history, settings, elapsed):
    """One line: the epoch's training objective, validation loss and score
    (each once: with scoring="loss" the score is the negative loss), and the
    seconds since ``fit`` started."""
    line = f"Iteration {history.n_iter}, loss = {history.loss_curve[-1]:.8f}"
    if history.validation_scores:
        line += f", validation loss = {history.validation_loss_curve[-1]:.8f}"
        if settings.score_name is not None:
            line += f", validation {settings.score_name} = "
            line += f"{history.validation_scores[-1]:.6f}"
    print(f"{line}, {elapsed:.2f} s elapsed")


def _print_stop(history, settings, kept):
    """The last line of verbose output: why training stopped, which epoch's
    weights the model keeps."""
    reason = {
        None: f"Reached max_iter={settings.max_iter} epochs.",
        "diverged": f"Training diverged in epoch {history.n_iter + 1}.",
        "interrupted": "Training interrupted by the user.",
        "callback": "A callback asked to stop training.",
    }.get(history.stop_reason, history.stop_reason)
    if kept == 0:
        weights = "the weights this fit started from"
    else:
        weights = f"the weights of epoch {kept}"
    if kept == history.best_iteration and settings.restore_best_weights:
        best = history.best_validation_score
        if settings.score_name is None:
            value = f"validation loss = {-best:.8f}"
        else:
            value = f"validation {settings.score_name} = {best:.6f}"
        weights += f", the best on the validation set ({value})"
    elif kept == history.n_iter:
        weights += ", the last"
    print(f"{reason} Stopped after epoch {history.n_iter}; keeping {weights}.")


def train(
    network,
    loss,
    penalty,
    optimizer,
    data,
    settings,
    rngs,
    history,
    validation=None,
    max_epochs=None,
    start=None,
    mean_network=None,
    callbacks=None,
):
    """Train for up to ``max_epochs`` (default ``settings.max_iter``) epochs.

    Parameters
    ----------
    network, loss, penalty, optimizer
        The model and how it learns.
    data : TrainingData
        Training data in the network's dtype.
    settings : LoopSettings
    rngs : dict of numpy.random.Generator
        ``"shuffle"`` for batch order, ``"masks"`` for dropout and noise.
    history : History
        Updated in place.
    validation : callable or None
        ``validation(network) -> (loss, score)`` on held-out data, or None.
    max_epochs : int or None
        Epochs to run at most; None means ``settings.max_iter``.
    start : tuple or None
        ``network.snapshot()`` taken just before the call, if the caller has
        one (saves a copy of the weights); None takes it here.
    mean_network : callable or None
        ``mean_network(network) -> float``: the training objective without
        masks or noise. When given (stochastic regularizers, no early
        stopping), patience counts on it instead of on the epoch's loss.
    callbacks : FitCallbacks or None
        scikit-learn callbacks to tell about each epoch; one that asks to stop
        ends training after the epoch (``history.stop_reason = "callback"``).

    Returns
    -------
    converged : bool
        False when the loop ran out of epochs without meeting its tolerance.
    """
    full_fit = max_epochs is None  # partial_fit runs one epoch per call
    max_epochs = settings.max_iter if max_epochs is None else max_epochs
    fit_start = time.perf_counter()
    best = {}
    last_good = network.snapshot() if start is None else start
    # For divergence: (loss, weights at its start) of the lowest-loss epoch. An
    # epoch's loss is averaged over its batches, so it vouches for the weights
    # it started from; those it ended with may already be finite but huge.
    # (the epoch whose start it is: 0 for the weights the fit started from)
    lowest = (np.inf, last_good, 0)
    converged = False
    kept = None
    try:
        for epoch in range(max_epochs):
            if callbacks is not None:
                callbacks.begin_epoch()
            try:
                # overflow is detected and reported below, not warned about
                with np.errstate(over="ignore", invalid="ignore"):
                    epoch_loss = run_epoch(
                        network, loss, penalty, optimizer, data, settings, rngs
                    )
            except DivergenceError:
                network.restore(lowest[1])
                kept = lowest[2]
                _choose_by_validation(network, history, validation, best)
                history.stop_reason = "diverged"
                warn(
                    "Training diverged: the loss or the weights became NaN or "
                    f"infinite in epoch {history.n_iter + 1}; the weights at the "
                    "start of the epoch with the lowest training loss are kept (or, "
                    "when early stopping restores the best validation epoch, that "
                    "epoch's if it scores better). Lower learning_rate_init, scale "
                    "the inputs (and, for regression, the targets), or use "
                    "solver='adam'.",
                    RuntimeWarning,
                )
                break
            history.n_iter += 1
            history.t += data.n_samples
            history.loss_curve.append(epoch_loss)
            message = _end_of_epoch(
                network, history, settings, optimizer, validation, best, mean_network
            )
            if epoch_loss < lowest[0]:
                lowest = (epoch_loss, last_good, history.n_iter - 1)
            # the weights after the last epoch need no copy: nothing follows
            # that could spoil them (partial_fit runs one epoch per call)
            last_good = network.snapshot() if epoch + 1 < max_epochs else None
            if settings.verbose:
                _print_epoch(history, settings, time.perf_counter() - fit_start)
            if callbacks is not None and callbacks.end_epoch(network):
                message = message or "callback"
            if message is not None:
                history.stop_reason = message
                converged = True
                break
    except KeyboardInterrupt:
        history.stop_reason = "interrupted"
        warn(
            "Training interrupted by user; the estimator keeps the weights "
            "reached so far" + (" (best validation epoch)." if best else "."),
            UserWarning,
        )
        if not best and last_good is not None:
            network.restore(last_good)
    if best and settings.restore_best_weights:
        network.restore(best["snapshot"])
        kept = history.best_iteration
    if settings.verbose and full_fit:
        _print_stop(history, settings, history.n_iter if kept is None else kept)
    return converged


def _choose_by_validation(network, history, validation, best):
    """After a divergence: keep the best validation epoch only if it scores better.

    ``network`` holds the fallback weights (the start of the lowest-loss
    epoch). A run that diverges from its first epochs may have validated
    nothing but already-exploding weights, so the fallback is scored on the
    validation set too, and the best epoch is forgotten when it loses.
    """
    if not best or validation is None:
        return
    try:
        with np.errstate(all="ignore"):
            score = validation(network)[1]
    except (ValueError, FloatingPointError):  # scorers refuse NaN outputs
        return
    if math.isfinite(score) and score > history.best_validation_score:
        best.clear()
        history.best_iteration = None
        history.best_validation_score = score  # that of the weights kept


def as_batches_ready(X, dtype, name="X"):
    """X converted once to the training dtype: C order (so that the rounding
    of the matrix products does not depend on the input's memory layout), or
    CSR for fast row gathering. Refuses values that overflow the new dtype."""
    source = X.dtype
    with np.errstate(over="ignore"):  # reported below, with what to do
        if sp.issparse(X):
            X = sp.csr_matrix(X, dtype=dtype)
        else:
            X = np.ascontiguousarray(X, dtype=dtype)
    values = X.data if sp.issparse(X) else X
    if X.dtype.itemsize < source.itemsize and values.size:
        if not (np.isfinite(values.min()) and np.isfinite(values.max())):
            limit = np.finfo(X.dtype).max
            raise ValueError(
                f"{name} has values beyond {X.dtype}'s range (+-{limit:.3g}), "
                f"the precision this fit trains in. Scale {name}, or set "
                "dtype='float64'."
            )
    return X
