"""Validation-based early stopping (Prechelt, 1998): the split and the monitor.

The training loop calls the monitor once per epoch; it returns the
validation loss and the validation score (higher is better). Which epoch's
weights are kept and when patience runs out is decided in ``_training``.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import check_scoring
from sklearn.model_selection import train_test_split
from sklearn.utils.metaestimators import available_if

from ._warnings import warn


def split_validation(n_samples, fraction, rng, stratify=None):
    """Indices ``(train, validation)`` of a split, or None if too small to use.

    A split that would leave fewer than 2 rows on either side is refused
    with a warning, and training goes on without early stopping. Stratifies
    on ``stratify`` (class labels) only when every class can appear on both
    sides.
    """
    n_val = int(np.ceil(fraction * n_samples))
    if n_val < 2 or n_samples - n_val < 2:
        warn(
            f"early_stopping is turned off for this fit: validation_fraction="
            f"{fraction} of {n_samples} samples gives {n_val} validation and "
            f"{n_samples - n_val} training samples, and early stopping needs at "
            "least 2 of each. Change validation_fraction, pass X_val and y_val "
            "to fit, or set early_stopping=False.",
            UserWarning,
        )
        return None
    if stratify is not None:
        _, counts = np.unique(stratify, return_counts=True)
        n_classes = len(counts)
        if counts.min() < 2 or n_val < n_classes or n_samples - n_val < n_classes:
            stratify = None
    seed = int(rng.integers(np.iinfo(np.int32).max))
    return train_test_split(
        np.arange(n_samples), test_size=n_val, random_state=seed, stratify=stratify
    )


# Rows per forward pass when predicting on many rows: activations then take
# at most PREDICT_CHUNK_ROWS x (widest layer) floats instead of a copy of X per
# layer (a 100,000-row validation set through 256 units is 100-200 MB).
PREDICT_CHUNK_ROWS = 8192


def predict_in_chunks(network, X, dtype=None, chunk_rows=PREDICT_CHUNK_ROWS):
    """``network.predict(X)`` computed on slices of at most ``chunk_rows`` rows.

    ``dtype`` (default: the network's) is what each slice is converted to, so
    that converting X costs one slice at a time, not a full copy. Predictions
    are row-independent, so the result does not depend on the slicing (up
    to rounding: BLAS may sum a product of few rows in another order).
    """
    dtype = network.dtype if dtype is None else np.dtype(dtype)
    n_samples = X.shape[0]
    if n_samples <= chunk_rows:
        return network.predict(_as_dtype(X, dtype))
    out = None
    for start in range(0, n_samples, chunk_rows):
        stop = min(start + chunk_rows, n_samples)
        Z = network.predict(_as_dtype(X[start:stop], dtype))
        if out is None:
            out = np.empty((n_samples, Z.shape[1]), dtype=Z.dtype)
        out[start:stop] = Z
    return out


def _as_dtype(X, dtype):
    if sp.issparse(X):
        return sp.csr_matrix(X, dtype=dtype)
    return np.asarray(X, dtype=dtype)


class ValidationMonitor:
    """Computes ``(validation loss, validation score)`` for a network.

    Parameters
    ----------
    X, Y : arrays
        Validation inputs (training dtype) and encoded targets.
    sample_weight : ndarray or None
        Validation sample weights.
    loss : Loss
    scorer : callable or None
        ``scorer(network) -> float``; None scores by the negative loss.
    """

    def __init__(self, X, Y, sample_weight, loss, scorer=None):
        self.X, self.Y, self.loss, self.scorer = X, Y, loss, scorer
        self.weights = None
        if sample_weight is not None:
            total = sample_weight.sum()
            if total <= 0:
                raise ValueError("sample_weight_val must have a positive sum.")
            self.weights = sample_weight / total

    def __call__(self, network):
        Z = predict_in_chunks(network, self.X)
        value = self.loss.value(Z, self.Y, self.weights)
        score = -value if self.scorer is None else float(self.scorer(network))
        return value, score


class NetworkView:
    """A fitted-estimator stand-in around a network being trained.

    scikit-learn scorers call ``predict`` or ``predict_proba`` on an
    estimator, and custom scorers may call ``score``; this forwards them to
    the current network through the estimator's own output decoding, without
    copying the weights into fitted attributes. Like the estimators, it has
    no ``decision_function``, so that threshold scorers such as ``roc_auc``
    use ``predict_proba``.
    """

    def __init__(self, estimator, network):
        self._estimator = estimator
        self._network = network
        self.get_params = estimator.get_params
        for name in ("classes_", "n_features_in_", "feature_names_in_"):
            if hasattr(estimator, name):
                setattr(self, name, getattr(estimator, name))

    def __sklearn_tags__(self):
        return self._estimator.__sklearn_tags__()

    def _output(self, X):
        return predict_in_chunks(self._network, X)

    def predict(self, X):
        # the loss being trained, not the fitted one of an earlier fit
        loss_name = self._estimator._loss_name()
        return self._estimator._decode_output(self._output(X), loss_name=loss_name)

    def predict_proba(self, X):
        return self._estimator._proba_from_output(self._output(X))

    @available_if(lambda view: hasattr(view._estimator, "_log_proba_from_output"))
    def predict_log_proba(self, X):
        return self._estimator._log_proba_from_output(self._output(X))

    def score(self, X, y, sample_weight=None):
        """The estimator's ``score`` (accuracy or R^2) with the current weights."""
        return type(self._estimator).score(self, X, y, sample_weight=sample_weight)


def make_network_scorer(estimator, scoring, X, y, sample_weight):
    """``scorer(network) -> float`` for a scikit-learn scorer name or callable."""
    scorer = check_scoring(estimator, scoring=scoring)

    def score(network):
        view = NetworkView(estimator, network)
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        try:
            return scorer(view, X, y, **kwargs)
        except (ValueError, TypeError, AttributeError) as exc:
            if not _outputs_finite(view, X):
                raise  # a diverging network: the training loop handles it
            raise ValueError(
                f"scoring={scoring!r} failed on the validation set ({exc}). "
                "Choose a scorer for this kind of target and these predictions "
                "(see sklearn.metrics.get_scorer_names()), or scoring='loss'."
            ) from exc

    return score


def _outputs_finite(view, X):
    with np.errstate(all="ignore"):
        return bool(np.all(np.isfinite(view._output(X))))
