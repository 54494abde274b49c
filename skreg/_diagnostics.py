"""Warnings about fits and data that look wrong without being invalid.

A run whose loss blew up without overflowing, an early-stopping run whose best
epoch is still far off, and a validation set that looks like it missed the
preprocessing of the training data: each is legal input or a legal outcome, so
it is warned about, with what to change, rather than refused.
"""

import numpy as np
import scipy.sparse as sp

from ._warnings import warn

# A fit whose last training objective is this many times its lowest one, or
# whose data loss is this many times that of a network that outputs zeros, has
# blown up without reaching inf or NaN (say with a learning rate 1e4 times too
# high, or unscaled inputs).
BLOWN_UP_FACTOR = 10.0


def zero_output_loss(loss, Y, sample_weight, n_rows=10_000):
    """The data loss of all-zero outputs (> 0 for every loss), on at most
    ``n_rows`` evenly spaced rows (data sorted by target stays represented)."""
    rows = slice(None, None, -(-len(Y) // n_rows))
    Y = Y[rows]
    weights = None
    if sample_weight is not None:
        weights = sample_weight[rows]
        if not weights.sum() > 0:
            return np.inf
        weights = weights / weights.sum()
    return loss.value(np.zeros_like(Y), Y, weights)


def warn_if_blown_up(curve, penalty, baseline, early_stopping_requested=False):
    """Warn when a fit's objective ends far above its lowest value, or its data
    loss (objective minus ``penalty``) far above ``baseline``, the loss of
    all-zero outputs (``zero_output_loss``).

    ``early_stopping_requested``: the user asked for early stopping but this
    fit ran without it (too few rows to split), so the advice is to pass a
    validation set rather than to turn on what is already on.
    """
    if not curve:
        return
    last, lowest = curve[-1], min(curve)
    if lowest > 0 and last > BLOWN_UP_FACTOR * lowest:
        what = f"up from {lowest:.4g} earlier in this fit"
    elif last - penalty > BLOWN_UP_FACTOR * baseline:
        what = (
            f"its data term over {BLOWN_UP_FACTOR:g} times the "
            f"{baseline:.4g} of all-zero outputs"
        )
    else:
        return
    keep_best = (
        "pass X_val and y_val to fit so that early stopping can keep the best "
        "validation epoch"
        if early_stopping_requested
        else "use early_stopping=True to keep the best validation epoch"
    )
    warn(
        f"The training loss ended at {last:.4g}, {what}: training did not "
        "settle, and the weights of the last epoch are kept. Scale the inputs "
        "(and, for regression, the targets), lower learning_rate_init, or "
        f"{keep_best}.",
        RuntimeWarning,
    )


def warn_if_best_epoch_blown_up(validation_loss, baseline):
    """Warn when even the best validation epoch, the one kept, is far worse
    than ``baseline``, all-zero outputs' loss on the validation set."""
    if validation_loss > BLOWN_UP_FACTOR * baseline:
        warn(
            f"The best validation epoch, whose weights are kept, has a validation "
            f"loss of {validation_loss:.4g}, over {BLOWN_UP_FACTOR:g} times the "
            f"{baseline:.4g} of all-zero outputs: training never settled. "
            "Scale the inputs (and, for regression, the targets) or lower "
            "learning_rate_init.",
            RuntimeWarning,
        )


# How far (in training standard deviations) the typical column of a
# validation set may sit from the training data, or how many times wider or
# narrower it may be, before it looks unprocessed: far beyond drift (a later
# period of a trending series stays within about 12x), well below the gap
# between raw and standardized features (30x on the breast cancer data).
_UNLIKE_TRAINING_FACTOR = 20.0
# Fewer rows give too noisy a spread to judge by.
_UNLIKE_TRAINING_MIN_ROWS = 20


def warn_if_unlike_training(train, val, name, hint, n_rows=10_000):
    """Warn when ``val``'s columns sit far from ``train``'s: the typical sign of
    a validation set that missed the preprocessing the training data had.

    ``train`` and ``val`` are 2-D. Compares column means and standard
    deviations (on at most ``n_rows`` evenly spaced rows of each; dense
    arrays of at least ``_UNLIKE_TRAINING_MIN_ROWS`` rows only) through the
    median over the columns that vary in both, so that one shifted feature,
    indicator columns absent from a small validation set, or a genuine drift
    do not warn.
    """
    if sp.issparse(train) or sp.issparse(val):
        return
    if min(len(train), len(val)) < _UNLIKE_TRAINING_MIN_ROWS:
        return
    train, val = train[:: -(-len(train) // n_rows)], val[:: -(-len(val) // n_rows)]
    with np.errstate(all="ignore"):
        mean, std, val_std = train.mean(axis=0), train.std(axis=0), val.std(axis=0)
        tiny = 1e-12 * (np.abs(mean) + 1)
        varies = (std > tiny) & (val_std > tiny)
        if not varies.any():
            return
        offset = np.abs(val.mean(axis=0) - mean)[varies] / std[varies]
        spread = np.abs(np.log(val_std[varies] / std[varies]))
        distance = float(np.median(offset))
        ratio = float(np.exp(np.median(spread)))
    if distance > _UNLIKE_TRAINING_FACTOR or ratio > _UNLIKE_TRAINING_FACTOR:
        warn(
            f"{name} does not look preprocessed like the training data: its "
            f"typical column is {distance:.3g} training standard deviations off "
            f"the training mean, and {ratio:.3g} times wider or narrower. {hint}",
            UserWarning,
        )
