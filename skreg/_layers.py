"""Layers of a feed-forward network, each with its own forward and backward step.

Every layer follows one protocol:

- ``param_specs()`` lists its trainable arrays as ``(name, shape, penalized)``;
  the network allocates them in one flat buffer and hands each layer views of
  it through ``bind(params, grads)``.
- ``state`` (a dict of arrays) holds what is not trained by the optimizer but
  belongs to the model, such as batch-norm running statistics.
- ``forward(X, ctx, need_input_grad)`` returns ``(Y, backward)``. ``backward(dY)``
  writes the parameter gradients into the bound gradient views and returns
  ``dX`` (or ``None`` when ``need_input_grad`` is false). The closure captures
  exactly what the backward step needs (input, mask, normalized activations),
  so no stale cache can leak between calls. ``backward`` may overwrite ``dY``.

``ctx`` is a :class:`Context`: whether we train, the random generator for masks
and noise, and the normalized sample weights of the mini-batch.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import erf

from ._kernels import get_kernels, pcg64_random_raw


@dataclass
class Context:
    """What a forward pass needs besides its input.

    Attributes
    ----------
    training : bool
        Training mode: masks and noise are drawn, batch norm uses batch
        statistics and updates its running statistics.
    rng : numpy.random.Generator or None
        Source of every mask and noise draw; required when training with a
        stochastic layer.
    weights : ndarray of shape (n_samples,) or None
        Sample weights of the batch normalized to sum to one; ``None`` means
        uniform. Batch norm computes weighted batch statistics with them.
    mc_dropout : bool
        Draw dropout and DropConnect masks outside training too (Monte Carlo
        dropout, Gal & Ghahramani 2016); everything else behaves as at
        prediction time.
    kernels : bool
        Use the optional compiled kernels (:mod:`skreg._kernels`) where they
        apply; the training loop sets it for networks large enough to gain.
    reuse_buffers : bool
        Let layers write outputs, masks and gradients into work arrays kept
        from the previous call instead of allocating new ones, and overwrite
        their input when the layer below no longer needs it. Only for a
        loop that finishes each forward/backward pair before the next
        forward (the training loop); the arrays returned by one call are
        overwritten by the next.
    """

    training: bool = False
    rng: np.random.Generator | None = None
    weights: np.ndarray | None = None
    mc_dropout: bool = False
    kernels: bool = False
    reuse_buffers: bool = False

    @property
    def drops(self):
        """Whether dropout and DropConnect masks are drawn in this pass."""
        return self.training or self.mc_dropout


class Layer:
    """Base class: a layer without parameters or state."""

    def param_specs(self):
        return []

    def bind(self, params, grads):
        """Receive views into the network's flat parameter and gradient buffers."""
        self.params, self.grads = params, grads

    def init_params(self, rng, dtype):
        """Initial values of the parameters, keyed by name."""
        return {}

    state = {}

    def reset_state(self):
        """Return the non-trainable state to its initial value."""

    @property
    def stochastic(self):
        """Whether training passes draw random numbers."""
        return False

    def _buffer(self, ctx, key, shape, dtype):
        """An uninitialized array of ``shape``: fresh, or reused if ``ctx`` allows.

        A reused buffer is kept per layer and key, with room for the largest
        batch seen; smaller batches get a leading slice of it (contiguous).
        """
        if not ctx.reuse_buffers:
            return np.empty(shape, dtype=dtype)
        buffers = self.__dict__.setdefault("_buffers", {})
        buffer = buffers.get(key)
        if (
            buffer is None
            or buffer.dtype != dtype
            or buffer.shape[1:] != tuple(shape[1:])
            or buffer.shape[0] < shape[0]
        ):
            buffer = buffers[key] = np.empty(shape, dtype=dtype)
        return buffer[: shape[0]]

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_buffers", None)  # work arrays, not model
        return state


@functools.lru_cache(maxsize=32)
def constant_vector(n, value, dtype):
    """A read-only vector of ``n`` entries ``value``, made once per arguments.

    For the small constant vectors a training step asks for every time: ones
    for column sums as matrix products, ReLU's row of zeros, the loss's equal
    sample weights.
    """
    vector = np.full(n, value, dtype=dtype)
    vector.flags.writeable = False
    return vector


def _is_sparse(X):
    """``sp.issparse`` with a fast exit for arrays (it costs ~1 us per call)."""
    return not isinstance(X, np.ndarray) and sp.issparse(X)


def _product_dtype(A, B):
    """Dtype of ``A @ B`` (``np.result_type`` costs ~2 us, a comparison 0.1)."""
    return A.dtype if A.dtype == B.dtype else np.result_type(A.dtype, B.dtype)


# Masks cost random bits, not float uniforms: each entry is a 16-bit integer
# (four per 64-bit word of the bit generator) kept when at or above
# ``ceil(rate * 2**16)``. The drop probability is thus ``rate`` rounded up to a
# multiple of 2**-16 (within 1.6e-5 of it), and drawing a mask costs a quarter
# of a word per entry: eight times fewer words than ``Generator.random``'s
# float64 uniforms, which matters most for DropConnect's weight-sized masks.
_MASK_BITS = 16


def _random_bits(rng, n, rate, kernels=None):
    """``n`` random 16-bit integers and the threshold they are kept at or above.

    The threshold is ``None`` when ``rate`` rounds to 1 (nothing is kept). With
    the numba ``kernels`` and numpy's default PCG64, the same words come from a
    compiled generator (:func:`skreg._kernels.pcg64_random_raw`).
    """
    n_words = -(-n // 4)
    if kernels is not None and type(rng.bit_generator) is np.random.PCG64:
        words = pcg64_random_raw(rng.bit_generator, n_words, kernels)
    else:
        words = rng.bit_generator.random_raw(n_words)
    bits = words.view(np.uint16)[:n]
    threshold = math.ceil(rate * 2.0**_MASK_BITS)
    if threshold >= 2**_MASK_BITS:
        return bits, None
    return bits, np.uint16(threshold)


def _keep_bits(rng, shape, rate, out=None):
    """Boolean keep mask, False with probability ``ceil(rate * 2**16) / 2**16``."""
    bits, threshold = _random_bits(rng, int(np.prod(shape)), rate)
    if threshold is None:
        keep = np.empty(shape, dtype=bool) if out is None else out
        keep[...] = False
        return keep
    return np.greater_equal(bits.reshape(shape), threshold, out=out)


def _keep_mask(rng, shape, rate, dtype, out=None, keep_out=None):
    """Inverted-dropout mask: 0 with probability ``rate``, else ``1 / (1 - rate)``."""
    keep = _keep_bits(rng, shape, rate, out=keep_out)
    scale = np.asarray(1.0 / (1.0 - rate), dtype=dtype)
    return np.multiply(keep, scale, out=out, dtype=dtype)


def _compiled(wanted, *arrays):
    """The numba kernels, if ``wanted``, installed and every array C-contiguous."""
    kernels = get_kernels() if wanted else None
    if kernels is None or not all(a.flags.c_contiguous for a in arrays):
        return None
    return kernels


def _dropout(X, rng, rate, mask_out, Y_out, keep_out, compiled=False):
    """``(Y, mask)``: ``mask = _keep_mask(...)`` and ``Y = X * mask``.

    With the numba kernels, the mask is drawn, scaled and applied in one pass,
    from the same random bits and with the same arithmetic.
    """
    kernels = _compiled(compiled, X, mask_out, Y_out)
    if kernels is not None:
        bits, threshold = _random_bits(rng, X.size, rate, kernels)
        if threshold is not None:
            scale = X.dtype.type(1.0 / (1.0 - rate))
            kernels.dropout(
                X.ravel(), bits, threshold, scale, mask_out.ravel(), Y_out.ravel()
            )
            return Y_out, mask_out
    mask = _keep_mask(rng, X.shape, rate, X.dtype, out=mask_out, keep_out=keep_out)
    return np.multiply(X, mask, out=Y_out), mask


def _dropconnect(W, rng, rate, dropped_out, keep_out, compiled=False):
    """``(W * keep, keep)`` with ``keep = _keep_bits(...)``, in one pass if compiled."""
    kernels = _compiled(compiled, W, dropped_out, keep_out)
    if kernels is not None:
        bits, threshold = _random_bits(rng, W.size, rate, kernels)
        if threshold is not None:
            kernels.dropconnect(
                W.ravel(), bits, threshold, dropped_out.ravel(), keep_out.ravel()
            )
            return dropped_out, keep_out
    keep = _keep_bits(rng, W.shape, rate, out=keep_out)
    return np.multiply(W, keep, out=dropped_out), keep


def _multiply_by_keep(values, keep, compiled=False):
    """``values *= keep`` in place (a DropConnect mask on the weight gradient)."""
    kernels = _compiled(compiled, values, keep)
    if kernels is not None:
        kernels.multiply_by_keep(values.ravel(), keep.ravel())
    else:
        values *= keep


# Per-sample DropConnect works on (rows, n_in, n_out) blocks of masked
# weights; rows are taken in groups whose block holds at most this many
# entries (32 MB in float64), so its memory stays bounded whatever the batch.
_PER_SAMPLE_BLOCK_ENTRIES = 1 << 22


def _row_groups(n_rows, n_in, n_out):
    step = max(1, _PER_SAMPLE_BLOCK_ENTRIES // (n_in * n_out))
    return [slice(start, start + step) for start in range(0, n_rows, step)]


def _dense_rows(X, rows):
    return X[rows].toarray() if _is_sparse(X) else X[rows]


def _per_sample_forward(X, W, keep):
    """``Y[b] = X[b] @ (W * keep[b])``: each row through its own masked W."""
    Y = np.empty((X.shape[0], W.shape[1]), dtype=_product_dtype(X, W))
    for rows in _row_groups(*keep.shape):
        masked = np.multiply(W, keep[rows])
        Y[rows] = np.matmul(_dense_rows(X, rows)[:, None, :], masked)[:, 0, :]
    return Y


def _per_sample_backward(X, W, keep, dY, grad_coef, need_input_grad):
    """Gradients of ``_per_sample_forward``: ``grad_coef`` (written in place)
    sums ``keep[b] * outer(X[b], dY[b])`` over rows; ``dX[b] = (W * keep[b])
    @ dY[b]``."""
    grad_coef[...] = 0
    dX = None
    if need_input_grad:
        dX = np.empty((dY.shape[0], W.shape[0]), dtype=dY.dtype)
    for rows in _row_groups(*keep.shape):
        masked_dY = np.multiply(keep[rows], dY[rows, None, :])
        X_rows = _dense_rows(X, rows)
        grad_coef += np.einsum("bi,bij->ij", X_rows, masked_dY)
        if need_input_grad:
            dX[rows] = np.einsum("bij,ij->bi", masked_dY, W)
    return dX


class Dense(Layer):
    """Affine layer ``Y = X @ W + b``, with optional DropConnect.

    DropConnect (Wan et al., 2013) drops each *weight* independently with
    probability ``dropconnect``. With ``dropconnect_mask="sample"`` every row
    of the mini-batch draws its own mask, as in the paper (each example sees
    its own network); with ``"batch"`` one mask serves the whole mini-batch,
    which keeps the layer one matrix product (see the estimators' docs for
    the measured cost of each). The kept weights are scaled by
    ``1 / (1 - dropconnect)`` (inverted scaling), so the expected weight
    matrix equals ``W`` and prediction uses ``W`` itself: the "mean network"
    inference of the paper, rather than its moment-matching Gaussian sampling
    at test time.
    """

    def __init__(
        self,
        n_in,
        n_out,
        *,
        bias=True,
        dropconnect=0.0,
        init_factor=6.0,
        init="glorot_uniform",
        dropconnect_mask="batch",
    ):
        self.n_in, self.n_out = n_in, n_out
        self.bias = bias
        self.dropconnect = dropconnect
        self.init_factor = init_factor
        self.init = init
        self.dropconnect_mask = dropconnect_mask

    def param_specs(self):
        specs = [("coef", (self.n_in, self.n_out), True)]
        if self.bias:
            specs.append(("intercept", (self.n_out,), False))
        return specs

    def init_params(self, rng, dtype):
        if self.init == "lecun_normal":
            return self._lecun_normal(rng)
        # Glorot & Bengio (2010) uniform, as scikit-learn's MLP: factor 6, or 2
        # for the logistic activation.
        bound = np.sqrt(self.init_factor / (self.n_in + self.n_out))
        values = {"coef": rng.uniform(-bound, bound, (self.n_in, self.n_out))}
        if self.bias:
            values["intercept"] = rng.uniform(-bound, bound, self.n_out)
        return values

    def _lecun_normal(self, rng):
        # N(0, 1 / n_in) weights and zero biases: the initialization under
        # which SELU networks self-normalize (Klambauer et al., 2017)
        std = np.sqrt(1.0 / self.n_in)
        values = {"coef": rng.normal(0.0, std, (self.n_in, self.n_out))}
        if self.bias:
            values["intercept"] = np.zeros(self.n_out)
        return values

    @property
    def stochastic(self):
        return self.dropconnect > 0

    def forward(self, X, ctx, need_input_grad=True):
        if ctx.drops and self.dropconnect > 0 and self.dropconnect_mask == "sample":
            return self._forward_per_sample(X, ctx, need_input_grad)
        W = self.params["coef"]
        scale = None
        if ctx.drops and self.dropconnect > 0:
            # W * mask / (1 - rate) computed as (W * keep) with the scale moved
            # to the (smaller) batch-sized arrays: Y = scale * X @ (W * keep)
            W, keep = _dropconnect(
                W,
                ctx.rng,
                self.dropconnect,
                self._buffer(ctx, "dropped", W.shape, W.dtype),
                self._buffer(ctx, "keep", W.shape, np.bool_),
                compiled=ctx.kernels,
            )
            scale = np.asarray(1.0 / (1.0 - self.dropconnect), dtype=W.dtype)
        out_shape = (X.shape[0], self.n_out)
        if _is_sparse(X):
            Y = np.asarray(X @ W)
        else:
            dtype = _product_dtype(X, W)
            Y = np.matmul(X, W, out=self._buffer(ctx, "Y", out_shape, dtype))
        if scale is not None:
            Y *= scale
        if self.bias:
            Y += self.params["intercept"]

        def backward(dY):
            if self.bias:  # column sums by BLAS (gemv)
                np.matmul(
                    constant_vector(dY.shape[0], 1, dY.dtype),
                    dY,
                    out=self.grads["intercept"],
                )
            if scale is not None:
                dY *= scale
            grad_coef = self.grads["coef"]
            if _is_sparse(X):
                grad_coef[...] = X.T @ dY
            else:
                np.matmul(X.T, dY, out=grad_coef)
            if scale is not None:
                _multiply_by_keep(grad_coef, keep, ctx.kernels)
            if not need_input_grad:
                return None
            dX_shape = (dY.shape[0], self.n_in)
            dtype = _product_dtype(dY, W)
            return np.matmul(dY, W.T, out=self._buffer(ctx, "dX", dX_shape, dtype))

        return Y, backward

    def _forward_per_sample(self, X, ctx, need_input_grad):
        """DropConnect with an independent mask per row (Wan et al., 2013)."""
        W = self.params["coef"]
        shape = (X.shape[0], self.n_in, self.n_out)
        kernels = get_kernels() if ctx.kernels else None
        n_entries = int(np.prod(shape))
        bits, threshold = _random_bits(ctx.rng, n_entries, self.dropconnect, kernels)
        if threshold is None:
            keep = np.zeros(shape, dtype=bool)
        else:
            keep = np.greater_equal(bits.reshape(shape), threshold)
        scale = np.asarray(1.0 / (1.0 - self.dropconnect), dtype=W.dtype)
        Y = _per_sample_forward(X, W, keep)
        Y *= scale
        if self.bias:
            Y += self.params["intercept"]

        def backward(dY):
            if self.bias:
                self.grads["intercept"][...] = dY.sum(axis=0)
            dY = dY * scale
            return _per_sample_backward(
                X, W, keep, dY, self.grads["coef"], need_input_grad
            )

        return Y, backward


class Activation(Layer):
    """Elementwise nonlinearity, applied in place on the incoming array.

    Every function of ``ACTIVATIONS`` and ``DERIVATIVES`` takes ``compiled``:
    whether it may use the numba kernels (only ReLU has them). The smooth
    activations of ``SMOOTH_ACTIVATIONS`` (GELU, SiLU, Mish) have derivatives
    that are not functions of their output: they write a new array and keep
    their input for the backward step.
    """

    def __init__(self, name):
        self.name = name

    def forward(self, X, ctx, need_input_grad=True):
        if self.name in SMOOTH_ACTIVATIONS:
            return self._forward_smooth(X)
        Y = ACTIVATIONS[self.name](X, compiled=ctx.kernels)

        def backward(dY):
            return DERIVATIVES[self.name](Y, dY, compiled=ctx.kernels)

        return Y, backward

    def _forward_smooth(self, X):
        function, derivative = SMOOTH_ACTIVATIONS[self.name]
        Y, kept = function(X)

        def backward(dY):
            dY *= derivative(X, kept)
            return dY

        return Y, backward


def _identity(X, compiled=False):
    return X


def _relu(X, compiled=False):
    kernels = _compiled(compiled, X)
    if kernels is not None:
        kernels.relu(X.ravel())
        return X
    # a row of zeros, not the scalar 0: numpy's maximum against a broadcast
    # scalar runs at half the speed of this (about 50 against 24 us for 256x512)
    return np.maximum(X, constant_vector(X.shape[-1], 0, X.dtype), out=X)


def _tanh(X, compiled=False):
    return np.tanh(X, out=X)


def _logistic(X, compiled=False):
    # 1 / (1 + exp(-x)) without overflow warnings for very negative x.
    np.negative(X, out=X)
    np.clip(X, -500, 500, out=X)
    np.exp(X, out=X)
    X += 1
    return np.reciprocal(X, out=X)


# SELU (Klambauer et al., 2017): the constants that make zero mean and unit
# variance a fixed point of a layer with LeCun-normal weights.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu(X, compiled=False):
    # scale * (x if x > 0 else alpha * (exp(x) - 1)), with exp(x) - 1 rather
    # than expm1: numpy vectorizes exp (SIMD) and not expm1, 0.28 against
    # 2.3 ms on 256 x 512 float32, and the absolute error near 0 stays within
    # an ulp of 1 (6e-8 in float32), below the rounding of float32 training
    negative = np.minimum(X, 0)
    np.exp(negative, out=negative)
    negative -= 1.0
    negative *= _SELU_ALPHA
    np.maximum(X, 0, out=X)
    X += negative
    X *= _SELU_SCALE
    return X


ACTIVATIONS = {
    "identity": _identity,
    "relu": _relu,
    "tanh": _tanh,
    "logistic": _logistic,
    "selu": _selu,
}


def _relu_derivative(Y, dY, compiled=False):
    kernels = _compiled(compiled, Y, dY)
    if kernels is not None and Y.shape == dY.shape:
        kernels.relu_backward(Y.ravel(), dY.ravel())
        return dY
    dY *= Y > 0
    return dY


def _identity_derivative(Y, dY, compiled=False):
    return dY


def _tanh_derivative(Y, dY, compiled=False):
    dY *= 1 - Y * Y
    return dY


def _logistic_derivative(Y, dY, compiled=False):
    dY *= Y * (1 - Y)
    return dY


def _selu_derivative(Y, dY, compiled=False):
    # y > 0 exactly where x > 0; below, dy/dx = scale alpha exp(x) = y + scale alpha
    dY *= np.where(Y > 0, Y.dtype.type(_SELU_SCALE), Y + _SELU_SCALE * _SELU_ALPHA)
    return dY


DERIVATIVES = {
    "identity": _identity_derivative,
    "relu": _relu_derivative,
    "tanh": _tanh_derivative,
    "logistic": _logistic_derivative,
    "selu": _selu_derivative,
}


# Smooth activations whose derivative needs the input, as (function,
# derivative) pairs: ``function(X)`` returns a new array and what its
# derivative reuses (the transcendental part, so the backward step computes
# no erf, sigmoid or exp twice), ``derivative(X, kept)`` the local slope.
# X is left unchanged.


def _normal_cdf(X):
    cdf = X * math.sqrt(0.5)
    erf(cdf, out=cdf)
    cdf += 1.0
    cdf *= 0.5
    return cdf


def _gelu(X):
    # exact x * Phi(x), the form of Hendrycks & Gimpel's definition and the
    # default of PyTorch and Keras
    cdf = _normal_cdf(X)
    return X * cdf, cdf


def _gelu_derivative(X, cdf):
    # Phi(x) + x * phi(x)
    slope = np.square(X)
    slope *= -0.5
    np.exp(slope, out=slope)
    slope *= 1.0 / math.sqrt(2.0 * math.pi)
    slope *= X
    slope += cdf
    return slope


def _sigmoid(X):
    # 1 / (1 + exp(-x)) by numpy's vectorized exp (scipy's expit takes 2.5x
    # as long in float32); -x capped at 80, where exp stays finite in float32
    # and the sigmoid is below 2e-35 either way
    s = np.negative(X)
    np.minimum(s, 80.0, out=s)
    np.exp(s, out=s)
    s += 1.0
    return np.reciprocal(s, out=s)


def _silu(X):
    s = _sigmoid(X)
    return X * s, s


def _silu_derivative(X, s):
    # s + x s (1 - s) = s (1 + x (1 - s)) with s = sigmoid(x)
    slope = 1.0 - s
    slope *= X
    slope += 1.0
    slope *= s
    return slope


def _tanh_softplus(X):
    """``(tanh(softplus(x)), exp(min(x, 20)))`` from one exponential.

    With ``e = exp(x)``, ``tanh(log(1 + e)) = n / (n + 2)`` for
    ``n = e (e + 2)``: one ``exp`` instead of ``logaddexp`` and ``tanh``
    (about 5x faster). Beyond x = 20 the ratio is 1 to float64 precision,
    and clipping there keeps ``n`` finite in float32.
    """
    e = np.exp(np.minimum(X, 20))
    n = e + 2.0
    n *= e
    t = n + 2.0
    np.divide(n, t, out=t)
    return t, e


def _mish(X):
    t, e = _tanh_softplus(X)
    return X * t, (t, e)


def _mish_derivative(X, kept):
    # tanh(sp) + x * (1 - tanh(sp)^2) * sigmoid(x), sp = softplus(x), and
    # sigmoid(x) = e / (1 + e)
    t, e = kept
    slope = e + 1.0
    np.divide(e, slope, out=slope)
    slope *= X
    slope *= 1.0 - t * t
    slope += t
    return slope


SMOOTH_ACTIVATIONS = {
    "gelu": (_gelu, _gelu_derivative),
    "silu": (_silu, _silu_derivative),
    "mish": (_mish, _mish_derivative),
}


class Dropout(Layer):
    """Inverted dropout (Srivastava et al., 2014).

    In training, each unit of each sample is zeroed with probability ``rate``
    and the survivors are scaled by ``1 / (1 - rate)``, so that the expected
    activation is unchanged. At prediction time the layer is the identity.
    """

    def __init__(self, rate):
        self.rate = rate

    @property
    def stochastic(self):
        return self.rate > 0

    def forward(self, X, ctx, need_input_grad=True):
        if not ctx.drops or self.rate == 0:
            return X, _pass_through
        if _is_sparse(X):
            X = X.toarray()
        Y, mask = _dropout(
            X,
            ctx.rng,
            self.rate,
            self._buffer(ctx, "mask", X.shape, X.dtype),
            self._buffer(ctx, "Y", X.shape, X.dtype),
            self._buffer(ctx, "keep", X.shape, np.bool_),
            compiled=ctx.kernels,
        )

        def backward(dY):
            dY *= mask
            return dY

        return Y, backward


def _pass_through(dY):
    return dY


class GaussianNoise(Layer):
    """Additive Gaussian input noise of standard deviation ``std``, training only.

    A data augmentation for tabular inputs (Bishop, 1995: training with noise
    is equivalent to Tikhonov regularization); the identity at prediction time.
    """

    def __init__(self, std):
        self.std = std

    @property
    def stochastic(self):
        return self.std > 0

    def forward(self, X, ctx, need_input_grad=True):
        if not ctx.training or self.std == 0:
            return X, _pass_through
        if _is_sparse(X):
            X = X.toarray()
        noise = ctx.rng.standard_normal(X.shape, dtype=X.dtype)
        noise *= self.std
        noise += X
        return noise, _pass_through


class BatchNorm(Layer):
    """Batch normalization of pre-activations (Ioffe & Szegedy, 2015).

    Training: ``Y = gamma * (X - mu_B) / sqrt(var_B + eps) + beta`` with the
    (sample-weighted) mean and biased variance of the mini-batch, and the
    running statistics move towards them:
    ``running = (1 - momentum) * running + momentum * batch``. The variance
    stays the biased one, as in Keras: the paper's ``m / (m - 1)`` correction
    (its Algorithm 2) changes batches of 100 rows by 1 %, and it would make
    integer sample weights differ from repeated rows. A batch with a single
    row (of positive weight) has no variance and leaves them unchanged.
    Prediction: the running statistics replace the batch statistics, so each
    row is transformed on its own.
    """

    def __init__(self, n_units, *, momentum=0.1, eps=1e-5):
        self.n_units = n_units
        self.momentum = momentum
        self.eps = eps
        self.state = {
            "running_mean": np.zeros(n_units),
            "running_var": np.ones(n_units),
        }

    def reset_state(self):
        self.state["running_mean"][...] = 0.0
        self.state["running_var"][...] = 1.0

    def param_specs(self):
        return [
            ("gamma", (self.n_units,), False),
            ("beta", (self.n_units,), False),
        ]

    def init_params(self, rng, dtype):
        return {"gamma": np.ones(self.n_units), "beta": np.zeros(self.n_units)}

    def forward(self, X, ctx, need_input_grad=True):
        gamma, beta = self.params["gamma"], self.params["beta"]
        if not ctx.training:
            inv_std = 1.0 / np.sqrt(self.state["running_var"] + self.eps)
            x_hat = (X - self.state["running_mean"]) * inv_std.astype(X.dtype)
            Y = x_hat * gamma
            Y += beta

            def backward_predict(dY):
                self.grads["gamma"][...] = np.sum(dY * x_hat, axis=0)
                self.grads["beta"][...] = np.sum(dY, axis=0)
                return dY * (gamma * inv_std).astype(dY.dtype)

            return Y, backward_predict

        # X (the dense layer's fresh output) is normalized in place into x_hat
        w = ctx.weights
        n = X.shape[0]
        w = np.full(n, 1.0 / n, dtype=X.dtype) if w is None else w.astype(X.dtype)
        mean = w @ X  # column means by BLAS (gemv), weighted or not
        square = self._buffer(ctx, "work", X.shape, X.dtype)
        Y = self._buffer(ctx, "Y", X.shape, X.dtype)
        # in the training loop X is the dense layer's work array: normalize in place
        kernels = _compiled(ctx.kernels and ctx.reuse_buffers, X, square, Y)
        if kernels is not None:
            x_hat = X
            kernels.batch_norm_center(x_hat, mean, square)
        else:
            x_hat = np.subtract(X, mean, out=X if ctx.reuse_buffers else None)
            np.square(x_hat, out=square)
        var = w @ square
        inv_std = 1.0 / np.sqrt(var + self.eps)
        if kernels is not None:
            kernels.batch_norm_scale(x_hat, inv_std, gamma, beta, Y)
        else:
            x_hat *= inv_std
            np.multiply(x_hat, gamma, out=Y)
            Y += beta
        self._update_running(mean, var, w)

        def backward(dY):
            grad_gamma, grad_beta = self.grads["gamma"], self.grads["beta"]
            ones = constant_vector(n, 1, dY.dtype)  # column sums by BLAS (gemv)
            np.matmul(ones, dY, out=grad_beta)
            product = np.multiply(
                dY, x_hat, out=self._buffer(ctx, "work", dY.shape, dY.dtype)
            )
            np.matmul(ones, product, out=grad_gamma)
            if not need_input_grad:
                return None
            # d_xhat = gamma * dY; with sum_d = gamma * grad_beta and
            # sum_dx = gamma * grad_gamma (weighted sums):
            # dX = inv_std * (d_xhat - w * sum_d - w * x_hat * sum_dx)
            #    = gamma * inv_std * (dY - w * grad_beta - w * x_hat * grad_gamma)
            if kernels is not None and dY.flags.c_contiguous:
                kernels.batch_norm_backward(
                    dY, x_hat, w, grad_gamma, grad_beta, gamma * inv_std
                )
                return dY
            wc = w[:, None]
            correction = np.multiply(
                x_hat, grad_gamma, out=self._buffer(ctx, "work", dY.shape, dY.dtype)
            )
            correction += grad_beta
            correction *= wc
            dY -= correction
            dY *= gamma * inv_std
            return dY

        return Y, backward

    def _update_running(self, mean, var, w):
        if float(w @ w) >= 1.0:  # all the weight on one row: no batch variance
            return
        m = self.momentum
        for key, batch in (("running_mean", mean), ("running_var", var)):
            running = self.state[key]
            running *= 1 - m
            running += m * batch
