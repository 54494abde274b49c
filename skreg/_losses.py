"""Output links paired with their losses.

Each loss maps raw network outputs ``Z`` (before the output activation),
targets ``Y`` and normalized sample weights ``w`` (summing to one) to the
weighted mean loss ``sum_i w_i * l(y_i, z_i)`` and its gradient with respect
to ``Z``. Working on ``Z`` rather than on probabilities keeps them finite for
any logits (log-sum-exp and softplus instead of ``log(p)``).
"""

import numpy as np
from scipy.special import expit, log_softmax, softmax

from ._layers import constant_vector


def _uniform_weights(weights, n_samples, dtype):
    if weights is not None:
        return weights.astype(dtype, copy=False)
    if n_samples <= _CACHED_WEIGHTS_MAX:  # mini-batches: asked for at every step
        return constant_vector(n_samples, 1.0 / n_samples, np.dtype(dtype))
    return np.full(n_samples, 1.0 / n_samples, dtype=dtype)


# Longer weight vectors (full-batch L-BFGS, validation sets) are made afresh
# rather than kept alive by the cache.
_CACHED_WEIGHTS_MAX = 4096


class Loss:
    """Base class. ``out_activation`` names the inverse link, as scikit-learn does."""

    out_activation = "identity"

    def inverse_link(self, Z):
        return Z

    def pointwise(self, Z, Y):
        """Loss of each sample, shape (n_samples,)."""
        raise NotImplementedError

    def raw_gradient(self, Z, Y):
        """Gradient of each sample's loss with respect to its outputs."""
        raise NotImplementedError

    def value(self, Z, Y, weights=None):
        w = _uniform_weights(weights, Z.shape[0], Z.dtype)
        return float(w @ self.pointwise(Z, Y))

    def value_and_gradient(self, Z, Y, weights=None):
        """Weighted mean loss and its gradient with respect to ``Z``."""
        w = _uniform_weights(weights, Z.shape[0], Z.dtype)
        grad = self.raw_gradient(Z, Y)
        grad *= w[:, None]
        return float(w @ self.pointwise(Z, Y)), grad


class SquaredError(Loss):
    """``l(y, z) = 0.5 * mean_k (z_k - y_k)^2`` (scikit-learn's MLPRegressor loss)."""

    def pointwise(self, Z, Y):
        diff = Z - Y
        return 0.5 * np.mean(diff * diff, axis=1)

    def raw_gradient(self, Z, Y):
        grad = Z - Y
        grad *= 1.0 / Z.shape[1]
        return grad


class Poisson(Loss):
    """Half Poisson deviance up to a constant: ``l = mean_k (exp(z_k) - y_k z_k)``."""

    out_activation = "exp"

    def inverse_link(self, Z):
        return np.exp(Z)

    def pointwise(self, Z, Y):
        return np.mean(np.exp(Z) - Y * Z, axis=1)

    def raw_gradient(self, Z, Y):
        grad = np.exp(Z)
        grad -= Y
        grad *= 1.0 / Z.shape[1]
        return grad


class BinaryLogLoss(Loss):
    """Log loss summed over independent logistic outputs (binary and multilabel).

    ``l(y, z) = sum_k softplus(z_k) - y_k z_k``, which equals
    ``-sum_k y_k log p_k + (1 - y_k) log(1 - p_k)`` with ``p = expit(z)``.
    """

    out_activation = "logistic"

    def inverse_link(self, Z):
        return expit(Z)

    def pointwise(self, Z, Y):
        return np.sum(np.logaddexp(0, Z) - Y * Z, axis=1)

    def raw_gradient(self, Z, Y):
        grad = expit(Z)
        grad -= Y
        return grad


class MultinomialLogLoss(Loss):
    """Cross-entropy of a softmax output: ``l(y, z) = logsumexp(z) - z_y``."""

    out_activation = "softmax"

    def inverse_link(self, Z):
        return softmax(Z, axis=1)

    def pointwise(self, Z, Y):
        return -np.sum(Y * log_softmax(Z, axis=1), axis=1)

    def raw_gradient(self, Z, Y):
        grad = softmax(Z, axis=1)
        grad -= Y
        return grad

    def value_and_gradient(self, Z, Y, weights=None):
        """Weighted mean loss and its gradient from one shared softmax.

        The same arithmetic as ``pointwise`` and ``raw_gradient`` (shift by the
        row maximum, as scipy does), in a few numpy calls: the training loop
        calls this once per mini-batch.
        """
        w = _uniform_weights(weights, Z.shape[0], Z.dtype)
        # Column-major, the row-wise max and sums over a few classes run as
        # vectorized column sweeps (5x faster than numpy's per-row reductions).
        Z, Y = np.asfortranarray(Z), np.asfortranarray(Y)
        row_max = Z.max(axis=1, keepdims=True)
        row_max[~np.isfinite(row_max)] = 0
        shifted = Z - row_max
        grad = np.exp(shifted)
        total = grad.sum(axis=1, keepdims=True)
        # -sum_k y_k log_softmax_k = sum_k y_k (log(total) - shifted_k)
        shifted -= np.log(total)
        shifted *= Y
        value = -float(w @ shifted.sum(axis=1))
        grad /= total
        grad -= Y
        grad *= w[:, None]
        return value, np.ascontiguousarray(grad)


LOSSES = {
    "squared_error": SquaredError,
    "poisson": Poisson,
    "binary_log_loss": BinaryLogLoss,
    "log_loss": MultinomialLogLoss,
}


class LabelSmoothing(Loss):
    """A log loss trained against smoothed targets (Szegedy et al., 2016).

    Each target distribution moves a share ``smoothing`` of its mass to the
    uniform one: ``(1 - smoothing) * y + smoothing / K`` with ``K`` the number
    of classes of a softmax output, and ``K = 2`` for each independent
    logistic output (binary and multilabel targets), as PyTorch's
    ``CrossEntropyLoss`` and Keras' ``CategoricalCrossentropy`` and
    ``BinaryCrossentropy`` do. The link is the base loss's, so probabilities
    stay a softmax or a logistic of the outputs.
    """

    def __init__(self, base, smoothing):
        self.base, self.smoothing = base, smoothing
        self.out_activation = base.out_activation

    def smoothed(self, Y):
        n_classes = Y.shape[1] if self.base.out_activation == "softmax" else 2
        smoothed = Y * (1.0 - self.smoothing)
        smoothed += self.smoothing / n_classes
        return smoothed

    def inverse_link(self, Z):
        return self.base.inverse_link(Z)

    def pointwise(self, Z, Y):
        return self.base.pointwise(Z, self.smoothed(Y))

    def raw_gradient(self, Z, Y):
        return self.base.raw_gradient(Z, self.smoothed(Y))

    def value(self, Z, Y, weights=None):
        return self.base.value(Z, self.smoothed(Y), weights)

    def value_and_gradient(self, Z, Y, weights=None):
        return self.base.value_and_gradient(Z, self.smoothed(Y), weights)
