"""Weight penalties and constraints, applied to the penalized slice of the buffer.

The ElasticNet penalty (Zou & Hastie, 2005) splits in two parts: the smooth L2
part enters the gradient, the non-smooth L1 part is applied after the
optimizer step as a proximal (soft-threshold) step, which sets weights exactly
to zero instead of letting them oscillate around it.
"""

import numpy as np


class ElasticNet:
    """``alpha * (l1_ratio * ||W||_1 + 0.5 * (1 - l1_ratio) * ||W||_2^2)``.

    Parameters
    ----------
    alpha : float
        Overall strength, >= 0.
    l1_ratio : float
        Share of the L1 part, in [0, 1].
    """

    def __init__(self, alpha, l1_ratio=0.0):
        self.alpha = float(alpha)
        self.l1_ratio = float(l1_ratio)

    @property
    def l1(self):
        return self.alpha * self.l1_ratio

    @property
    def l2(self):
        return self.alpha * (1.0 - self.l1_ratio)

    def value(self, weights):
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(weights).sum())
        if self.l2:
            total += 0.5 * self.l2 * float(weights @ weights)
        return total

    def add_smooth_gradient(self, weights, grads):
        """Add the gradient of the L2 part to ``grads`` in place."""
        if self.l2:
            grads += self.l2 * weights

    def smooth_gradient_value(self, weights):
        """Value of the smooth (L2) part alone, for solvers without a prox step."""
        return 0.5 * self.l2 * float(weights @ weights) if self.l2 else 0.0

    def prox(self, weights, step_size):
        """Soft-threshold ``weights`` in place by ``step_size * alpha * l1_ratio``.

        ``step_size`` is the optimizer's step per unit of a steady gradient: a
        scalar for SGD (``lr / (1 - momentum)``), the per-coordinate
        ``lr sqrt(1 - b2^t) / (sqrt(v) + eps)`` for Adam, so that the
        threshold lives in the metric of the step just taken.
        """
        if not self.l1:
            return
        threshold = step_size * self.l1
        shrunk = np.abs(weights)
        shrunk -= threshold
        np.maximum(shrunk, 0, out=shrunk)
        np.copysign(shrunk, weights, out=weights)


def apply_max_norm(coefs, max_norm):
    """Rescale each column of each matrix in ``coefs`` to L2 norm <= ``max_norm``.

    A column of ``coefs_[i]`` is the incoming weight vector of one unit
    (Srivastava et al., 2014, section 5.1).
    """
    for W in coefs:
        norms = np.sqrt(np.einsum("ij,ij->j", W, W))
        too_big = norms > max_norm
        if too_big.any():
            W[:, too_big] *= (max_norm / norms[too_big]).astype(W.dtype)
