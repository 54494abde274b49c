"""Optional compiled kernels for the elementwise work of training.

When numba is installed (``pip install "skreg[fast]"``), the whole optimizer
step (smooth penalty gradient, SGD or Adam update, L1 proximal step) runs as
one compiled loop over the flat buffers: one pass over memory, no per-chunk
Python calls; dropout and DropConnect masks are compared, scaled and applied
in one pass, the ReLU gradient is masked in place without a temporary, and
batch normalization's elementwise steps are fused (2 passes instead of 4
forward, 1 instead of 5 backward; its column sums stay BLAS calls).
Without numba, :mod:`skreg._optimizers` and :mod:`skreg._layers` run the same
arithmetic as numpy ufuncs. Both paths give bit-identical results: the
loops below do the same float operations in the same order and precision
(every scalar arrives cast to the buffers' dtype, and without ``fastmath``
LLVM neither fuses multiply-adds nor reorders), as ``tests/test_kernels.py``
checks.

The kernels are serial (``nogil``, no numba threading layer), so they are safe
under any joblib, dask or thread-based parallelism, and compiled once per
dtype and cached on disk.

Importing numba and loading the compiled code costs about a second, once per
process, so only networks of at least ``KERNEL_MIN_PARAMS`` parameters use
the kernels: there the saving per step is large, and small networks (where a
whole fit may take less than that second) never import numba. Set the
environment variable ``SKREG_NUMBA=0`` to use the numpy path even when numba
is installed.
"""

import math
import os
from types import SimpleNamespace

KERNEL_MIN_PARAMS = 100_000

_UNSET = object()
_kernels = _UNSET


def kernels_wanted(n_params):
    """Whether a network of ``n_params`` parameters trains with the kernels."""
    return n_params >= KERNEL_MIN_PARAMS and get_kernels() is not None


def get_kernels():
    """The compiled kernels as a namespace, or ``None`` (numba missing or disabled)."""
    global _kernels
    if _kernels is _UNSET:
        _kernels = _compile() if os.environ.get("SKREG_NUMBA", "1") != "0" else None
    return _kernels


def _compile():
    try:
        import numba
    except ImportError:
        return None

    jit = numba.njit(error_model="numpy", nogil=True, cache=True)

    @jit
    def soft_threshold(w, threshold, zero):
        # copysign(max(|w| - threshold, 0), w), NaN passing through as in numpy
        shrunk = abs(w) - threshold
        if shrunk < zero:
            shrunk = zero
        return math.copysign(shrunk, w)

    @jit
    def adam_step(p, g, m, v, n_penalized, l2, l1, b1, b2, eps, scale, step_scale):
        """Rescaled-moment Adam (``Adam._update``), ElasticNet on ``[:n_penalized]``."""
        zero = l2 - l2
        for i in range(p.shape[0]):
            gi = g[i]
            if i < n_penalized and l2 != zero:
                gi = p[i] * l2 + gi
            mi = m[i] * b1 + gi
            vi = v[i] * b2 + gi * gi
            m[i] = mi
            v[i] = vi
            denom = math.sqrt(vi) + eps
            pi = p[i] - (mi / denom) * scale
            if i < n_penalized and l1 != zero:
                pi = soft_threshold(pi, (step_scale / denom) * l1, zero)
            p[i] = pi

    @jit
    def sgd_step(p, g, velocity, n_penalized, l2, threshold, lr, momentum, nesterov):
        """Momentum SGD (``SGD._update``), ElasticNet on ``[:n_penalized]``."""
        zero = l2 - l2
        for i in range(p.shape[0]):
            gi = g[i]
            if i < n_penalized and l2 != zero:
                gi = p[i] * l2 + gi
            w = gi * lr
            pi = p[i]
            if momentum == zero:
                pi = pi - w
            else:
                vi = velocity[i] * momentum - w
                velocity[i] = vi
                if nesterov:
                    pi = (pi - w) + vi * momentum
                else:
                    pi = pi + vi
            if i < n_penalized and threshold != zero:
                pi = soft_threshold(pi, threshold, zero)
            p[i] = pi

    @jit
    def dropout(X, bits, threshold, scale, mask, Y):
        """Inverted dropout: ``mask = (bits >= threshold) * scale; Y = X * mask``."""
        zero = scale - scale
        for i in range(X.shape[0]):
            m = scale if bits[i] >= threshold else zero
            mask[i] = m
            Y[i] = X[i] * m

    @jit
    def dropconnect(W, bits, threshold, dropped, keep):
        """``keep = bits >= threshold``, ``dropped = W * keep`` (DropConnect)."""
        one = W.dtype.type(1)
        zero = W.dtype.type(0)
        for i in range(W.shape[0]):
            k = bits[i] >= threshold
            keep[i] = k
            dropped[i] = W[i] * (one if k else zero)

    @jit
    def multiply_by_keep(values, keep):
        """``values *= keep`` for a boolean ``keep``, in place."""
        one = values.dtype.type(1)
        zero = values.dtype.type(0)
        for i in range(values.shape[0]):
            values[i] = values[i] * (one if keep[i] else zero)

    @jit
    def relu_backward(Y, dY):
        """``dY *= Y > 0``: the gradient through a ReLU, in place."""
        one = dY.dtype.type(1)
        zero = dY.dtype.type(0)
        for i in range(Y.shape[0]):
            dY[i] = dY[i] * (one if Y[i] > zero else zero)

    @jit
    def batch_norm_center(X, mean, square):
        """``X -= mean`` (per column) in place and ``square = X ** 2``."""
        for i in range(X.shape[0]):
            for j in range(X.shape[1]):
                centered = X[i, j] - mean[j]
                X[i, j] = centered
                square[i, j] = centered * centered

    @jit
    def batch_norm_scale(x_hat, inv_std, gamma, beta, Y):
        """``x_hat *= inv_std`` in place and ``Y = x_hat * gamma + beta``."""
        for i in range(x_hat.shape[0]):
            for j in range(x_hat.shape[1]):
                scaled = x_hat[i, j] * inv_std[j]
                x_hat[i, j] = scaled
                Y[i, j] = scaled * gamma[j] + beta[j]

    @jit
    def batch_norm_backward(dY, x_hat, w, grad_gamma, grad_beta, gamma_inv_std):
        """``dY = (dY - (x_hat * grad_gamma + grad_beta) * w) * gamma_inv_std``."""
        for i in range(dY.shape[0]):
            for j in range(dY.shape[1]):
                correction = (x_hat[i, j] * grad_gamma[j] + grad_beta[j]) * w[i]
                dY[i, j] = (dY[i, j] - correction) * gamma_inv_std[j]

    return SimpleNamespace(
        batch_norm_center=batch_norm_center,
        batch_norm_scale=batch_norm_scale,
        batch_norm_backward=batch_norm_backward,
        adam_step=adam_step,
        sgd_step=sgd_step,
        dropout=dropout,
        dropconnect=dropconnect,
        multiply_by_keep=multiply_by_keep,
        relu_backward=relu_backward,
    )
