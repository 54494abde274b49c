"""Optional compiled kernels for the elementwise work of training.

When numba is installed (the ``fast`` extra: ``pip install ".[fast]"`` from a
checkout, or ``pip install numba``), the whole optimizer
step (smooth penalty gradient, SGD or Adam update, L1 proximal step) runs as
one compiled loop over the flat buffers: one pass over memory, no per-chunk
Python calls; dropout and DropConnect masks are compared, scaled and applied
in one pass, the ReLU and its gradient run in place in one pass each, and
batch normalization's elementwise steps are fused (2 passes instead of 4
forward, 1 instead of 5 backward; its column sums stay BLAS calls), and the
masks' random words come from a compiled copy of numpy's PCG64 that runs 32
interleaved streams at once (the same words, about 3x faster than numpy's
``random_raw``, which DropConnect's weight-sized masks spend most time in).
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

import functools
import math
import os
from types import SimpleNamespace

import numpy as np

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
    def adam_step(
        p, g, m, v, n_penalized, l2, l1, b1, b2, eps, scale, step_scale, keep
    ):
        """Rescaled-moment Adam (``Adam._update``), ElasticNet and decoupled
        weight decay (``p *= keep`` before the step) on ``[:n_penalized]``."""
        zero = l2 - l2
        one = zero + 1
        for i in range(p.shape[0]):
            gi = g[i]
            if i < n_penalized and l2 != zero:
                gi = p[i] * l2 + gi
            mi = m[i] * b1 + gi
            vi = v[i] * b2 + gi * gi
            m[i] = mi
            v[i] = vi
            denom = math.sqrt(vi) + eps
            pi = p[i]
            if i < n_penalized and keep != one:
                pi = pi * keep
            pi = pi - (mi / denom) * scale
            if i < n_penalized and l1 != zero:
                pi = soft_threshold(pi, (step_scale / denom) * l1, zero)
            p[i] = pi

    @jit
    def sgd_step(
        p, g, velocity, n_penalized, l2, threshold, lr, momentum, nesterov, keep
    ):
        """Momentum SGD (``SGD._update``), ElasticNet and decoupled weight decay
        (``p *= keep`` before the step) on ``[:n_penalized]``."""
        zero = l2 - l2
        one = zero + 1
        for i in range(p.shape[0]):
            gi = g[i]
            if i < n_penalized and l2 != zero:
                gi = p[i] * l2 + gi
            w = gi * lr
            pi = p[i]
            if i < n_penalized and keep != one:
                pi = pi * keep
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
    def mulhi64(a, b):
        """The high 64 bits of the 128-bit product ``a * b`` (uint64 operands)."""
        low32 = np.uint64(0xFFFFFFFF)
        a_lo, a_hi = a & low32, a >> np.uint64(32)
        b_lo, b_hi = b & low32, b >> np.uint64(32)
        lo_hi, hi_lo = a_lo * b_hi, a_hi * b_lo
        middle = ((a_lo * b_lo) >> np.uint64(32)) + (lo_hi & low32) + (hi_lo & low32)
        return (
            a_hi * b_hi
            + (lo_hi >> np.uint64(32))
            + (hi_lo >> np.uint64(32))
            + (middle >> np.uint64(32))
        )

    @jit
    def pcg64_output(hi, lo):
        """PCG's XSL-RR output: ``hi ^ lo`` rotated right by the top 6 bits."""
        x = hi ^ lo
        rot = hi >> np.uint64(58)
        return (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))

    @jit
    def pcg64_lanes(hi, lo, mult_hi, mult_lo, plus_hi, plus_lo, out):
        """PCG64 (XSL-RR) words from interleaved lanes: ``out[k * L + l]`` is lane
        ``l``'s output at its ``k``-th step; each lane then jumps ``L`` states.

        The lanes are independent, so the 128-bit LCG steps vectorize instead of
        waiting on each other as one sequential stream does.
        """
        n_lanes, n = hi.shape[0], out.shape[0]
        for block in range(n // n_lanes):
            start = block * n_lanes
            for lane in range(n_lanes):
                h, w = hi[lane], lo[lane]
                out[start + lane] = pcg64_output(h, w)
                new_lo = w * mult_lo
                new_hi = mulhi64(w, mult_lo) + w * mult_hi + h * mult_lo
                sum_lo = new_lo + plus_lo
                carry = np.uint64(1) if sum_lo < new_lo else np.uint64(0)
                hi[lane] = new_hi + plus_hi + carry
                lo[lane] = sum_lo
        for lane in range(n % n_lanes):  # the last, partial round
            out[n - n % n_lanes + lane] = pcg64_output(hi[lane], lo[lane])

    @jit
    def relu(X):
        """``X = maximum(X, 0)`` in place, as numpy: NaN stays, -0.0 becomes 0.0."""
        zero = X.dtype.type(0)
        for i in range(X.shape[0]):
            if X[i] <= zero:
                X[i] = zero

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
        relu=relu,
        relu_backward=relu_backward,
        pcg64_lanes=pcg64_lanes,
    )


# numpy's PCG64: state -> state * multiplier + inc (mod 2**128), then the
# XSL-RR output of the new state (O'Neill 2014; numpy/random/src/pcg64).
_PCG64_MULTIPLIER = (2549297995355413924 << 64) | 4865540595714422341
_U64 = (1 << 64) - 1
_U128 = (1 << 128) - 1
_PCG64_LANES = 32


@functools.lru_cache(maxsize=64)
def _pcg64_jump(steps, inc):
    """``(mult, plus)``: ``steps`` PCG64 steps map ``s`` to ``mult * s + plus``."""
    mult, plus = 1, 0
    step_mult, step_plus = _PCG64_MULTIPLIER, inc
    while steps:
        if steps & 1:
            mult, plus = (
                (mult * step_mult) & _U128,
                (plus * step_mult + step_plus) & _U128,
            )
        step_mult, step_plus = (
            (step_mult * step_mult) & _U128,
            (step_plus * (step_mult + 1)) & _U128,
        )
        steps >>= 1
    return mult, plus


def _halves(values):
    """128-bit integers as (high, low) uint64 arrays."""
    return (
        np.array([v >> 64 for v in values], dtype=np.uint64),
        np.array([v & _U64 for v in values], dtype=np.uint64),
    )


def pcg64_random_raw(bit_generator, n, kernels):
    """``bit_generator.random_raw(n)``, the same words and final state, computed by
    the ``pcg64_lanes`` kernel (about 3x faster than numpy's one-word-per-call loop).

    ``bit_generator`` must be a :class:`numpy.random.PCG64`; its buffered 32-bit
    half-word, which ``random_raw`` leaves alone, is kept.
    """
    state = bit_generator.state
    start, inc = state["state"]["state"], state["state"]["inc"]
    lanes, current = [], start
    for _ in range(_PCG64_LANES):  # lane l starts at the (l + 1)-th state
        current = (current * _PCG64_MULTIPLIER + inc) & _U128
        lanes.append(current)
    hi, lo = _halves(lanes)
    (mult_hi, plus_hi), (mult_lo, plus_lo) = _halves(_pcg64_jump(_PCG64_LANES, inc))
    words = np.empty(n, dtype=np.uint64)
    kernels.pcg64_lanes(hi, lo, mult_hi, mult_lo, plus_hi, plus_lo, words)
    mult, plus = _pcg64_jump(n, inc)
    state["state"]["state"] = (mult * start + plus) & _U128
    bit_generator.state = state
    return words
