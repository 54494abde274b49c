"""First-order optimizers over one flat parameter vector.

They know nothing of layers, losses or stopping: ``step(params, grads)``
updates ``params`` in place, and ``step_size()`` tells the penalty's proximal
step how far each coordinate just moved per unit of gradient.

Speed: the update is a handful of in-place ufuncs (``out=``) over the flat
buffers, run chunk by chunk so that every pass of a chunk finds its data in
the core's cache (one pass over memory per step instead of one per ufunc:
about 2.5 times faster than whole-vector passes on a 670k-parameter network).
``step`` can also take the penalty, whose smooth gradient and proximal step
are then applied chunk by chunk in the same sweep, with identical results to
calling ``add_smooth_gradient``, ``step`` and ``prox`` one after the other.

Both optimizers take a decoupled ``weight_decay`` (AdamW and SGDW, Loshchilov &
Hutter, 2019) applied to the penalized coordinates in the same sweep, and a
``rate_factor`` that a learning-rate schedule (``skreg._schedules``) sets
before each step.
"""

import math

import numpy as np

from ._kernels import get_kernels, kernels_wanted

# Elements per chunk, per array: the five or six arrays one chunk touches
# (params, grads, state, work) fit in a 1-2 MiB L2 cache.
_CHUNK_BYTES = 1 << 17


def _chunk_slices(n_total, n_penalized, itemsize):
    """``(slice, n)`` chunks covering ``[0, n_total)``; the chunk's first ``n``
    coordinates are penalized (the penalized coordinates lead the buffer)."""
    size = max(1024, _CHUNK_BYTES // itemsize)
    return [
        (
            slice(start, min(start + size, n_total)),
            min(max(n_penalized - start, 0), size),
        )
        for start in range(0, n_total, size)
    ]


def clip_grad_norm(grads, max_norm):
    """Scale ``grads`` in place to a global L2 norm of at most ``max_norm``.

    Gradient clipping by the global norm (Pascanu et al., 2013), as PyTorch's
    ``clip_grad_norm_`` (scale ``max_norm / (norm + 1e-6)`` when below 1) and
    Keras' ``global_clipnorm``: one norm over all parameters, so the update
    keeps its direction. Returns the norm before clipping. A non-finite norm
    (NaN gradients) leaves ``grads`` alone: the divergence checks see them.
    """
    norm = math.sqrt(float(np.dot(grads, grads)))
    if math.isinf(norm):  # the squares overflowed the dtype: rescale first
        largest = float(np.max(np.abs(grads)))
        scaled = grads / grads.dtype.type(largest)
        norm = largest * math.sqrt(float(np.dot(scaled, scaled)))
    if norm > max_norm:  # False for NaN
        grads *= grads.dtype.type(max_norm / (norm + 1e-6))
    return norm


class _FlatOptimizer:
    """Chunked sweep over the flat buffers; subclasses update one chunk."""

    def __init__(self, n_params, dtype, weight_decay=0.0):
        self.n_params = n_params
        self.dtype = np.dtype(dtype)
        # decoupled weight decay of the penalized coordinates (AdamW, SGDW)
        self.weight_decay = weight_decay
        # the schedule's multiplier of ``learning_rate``, set before each step;
        # 1.0 leaves every product with the rate exact
        self.rate_factor = 1.0
        size = max(1024, _CHUNK_BYTES // self.dtype.itemsize)
        # penalized gradient, temporary and denominator of one chunk
        self._work = np.zeros((3, min(size, max(n_params, 1))), dtype=self.dtype)
        self._slices = {}
        self.use_kernels = kernels_wanted(n_params)

    def _chunks(self, n_total, n_penalized):
        key = (n_total, n_penalized)
        if key not in self._slices:
            self._slices[key] = _chunk_slices(n_total, n_penalized, self.dtype.itemsize)
        return self._slices[key]

    def step(self, params, grads, penalty=None, n_penalized=0):
        """Update ``params`` in place from ``grads``.

        Parameters
        ----------
        params, grads : ndarray of shape (n_params,)
            Flat parameter and gradient buffers.
        penalty : ElasticNet or None
            If given, its smooth gradient is added to the gradient of the
            first ``n_penalized`` coordinates before the update (in a work
            array: ``grads`` is left as it is) and its proximal step applied
            to ``params[:n_penalized]`` after it, with this step's step sizes.
        n_penalized : int
            Number of leading coordinates the penalty applies to.
        """
        self._begin_step()
        smooth = penalty is not None and bool(penalty.l2)
        prox = penalty is not None and bool(penalty.l1)
        keep = self._decay_keep()
        if not (smooth or prox or keep != 1.0):
            n_penalized = 0
        kernels = get_kernels() if self.use_kernels else None
        if kernels is not None:
            l2 = penalty.l2 if smooth else 0.0
            l1 = penalty.l1 if prox else 0.0
            self._compiled_step(kernels, params, grads, n_penalized, l2, l1, keep)
            return
        keep = params.dtype.type(keep)  # as the kernels receive it
        work = self._work
        # Memory traffic is what costs: read params, grads and the state,
        # write params and the state, once per step; all else stays in cache.
        for s, n in self._chunks(params.shape[0], n_penalized):
            p, g = params[s], grads[s]
            k = p.shape[0]
            if n and smooth:  # g + l2 * p on the chunk's penalized head
                full = work[0, :k]
                np.multiply(p[:n], penalty.l2, out=full[:n])
                full[:n] += g[:n]
                full[n:] = g[n:]
                g = full
            if n and keep != 1:  # decoupled decay of the weights before the step
                p[:n] *= keep
            denom = self._update(s, p, g, work[1, :k], work[2, :k])
            if n and prox:
                penalty.prox(p[:n], self._chunk_step_size(denom, n))

    def _begin_step(self):
        pass

    @property
    def rate(self):
        """The rate of the next step: ``learning_rate`` times the schedule's factor."""
        return self.learning_rate * self.rate_factor

    def _decay_keep(self):
        """``1 - rate * weight_decay``: what decoupled weight decay keeps of each
        weight this step (Loshchilov & Hutter, 2019, with the rate multiplying
        the decay as in PyTorch's and Keras' AdamW)."""
        if not self.weight_decay:
            return 1.0
        return 1.0 - self.rate * self.weight_decay


class SGD(_FlatOptimizer):
    """Stochastic gradient descent with (Nesterov) momentum, as scikit-learn's.

    ``v <- momentum * v - lr * g``; then ``w <- w + v`` or, with Nesterov,
    ``w <- w + momentum * v - lr * g``.
    """

    def __init__(
        self,
        n_params,
        dtype,
        *,
        learning_rate,
        momentum=0.9,
        nesterov=True,
        weight_decay=0.0,
    ):
        super().__init__(n_params, dtype, weight_decay)
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity = np.zeros(n_params, dtype=dtype)

    def _update(self, s, p, g, w, _):
        lr, momentum = self.rate, self.momentum
        np.multiply(g, lr, out=w)  # w = lr * g
        if not momentum:
            p -= w
            return
        velocity = self.velocity[s]
        velocity *= momentum
        velocity -= w
        if self.nesterov:
            p -= w
            np.multiply(velocity, momentum, out=w)
            p += w
        else:
            p += velocity

    def _chunk_step_size(self, _denom, _n):
        return self.step_size(0)

    def _compiled_step(self, kernels, params, grads, n_penalized, l2, l1, keep):
        cast = params.dtype.type
        kernels.sgd_step(
            params,
            grads,
            self.velocity,
            n_penalized,
            cast(l2),
            cast(self.step_size(0) * l1),
            cast(self.rate),
            cast(self.momentum),
            bool(self.nesterov),
            cast(keep),
        )

    def step_size(self, n):
        """Distance moved per unit of a steady gradient: ``lr / (1 - momentum)``.

        Momentum accumulates a steady gradient into a step ``1 / (1 - momentum)``
        times the plain one, so the L1 threshold must grow alike for the fixed
        points to be those of the objective (a weight stays at zero exactly when
        its data gradient is below ``alpha * l1_ratio``).
        """
        if self.momentum < 1:
            return self.rate / (1.0 - self.momentum)
        return self.rate


class Adam(_FlatOptimizer):
    """Adam (Kingma & Ba, 2015) with scikit-learn's parametrization.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``w <- w - lr_t m / (sqrt(v) + eps)`` with
    ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``.

    The moments are stored rescaled, ``m / (1 - b1)`` and ``v / (1 - b2)``,
    which saves two passes per step (``m <- b1 m + g``, ``v <- b2 v + g^2``)
    and changes the arithmetic only by rounding.
    """

    def __init__(
        self,
        n_params,
        dtype,
        *,
        learning_rate,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        weight_decay=0.0,
    ):
        super().__init__(n_params, dtype, weight_decay)
        self.learning_rate = learning_rate
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self._m = np.zeros(n_params, dtype=dtype)  # m / (1 - beta_1)
        self._v = np.zeros(n_params, dtype=dtype)  # v / (1 - beta_2)

    @property
    def m(self):
        """First moment estimate (biased), as in the paper."""
        return self._m * (1 - self.beta_1)

    @property
    def v(self):
        """Second moment estimate (biased), as in the paper."""
        return self._v * (1 - self.beta_2)

    def _lr_t(self):
        return self._steady_step_rate() / (1 - self.beta_1**self.t)

    def _steady_step_rate(self):
        """``lr_t (1 - b1^t) = lr sqrt(1 - b2^t)``: the step per unit of a steady
        gradient, times ``sqrt(v) + eps``."""
        return self.rate * math.sqrt(1 - self.beta_2**self.t)

    def _begin_step(self):
        self.t += 1
        root = math.sqrt(1 - self.beta_2)
        lr_t = self._lr_t()
        self._eps_scaled = self.epsilon / root
        # lr_t * m / (sqrt(v) + eps) == scale * m_ / denom_
        self._scale = lr_t * (1 - self.beta_1) / root
        # the L1 threshold per unit of alpha * l1_ratio: the step taken per
        # unit of a steady gradient g, whose biased m is (1 - b1^t) g
        self._step_scale = self._steady_step_rate() / root

    def _update(self, s, p, g, w, denom):
        # denom = (sqrt(v) + eps) / sqrt(1 - beta_2), in a work array
        m, v = self._m[s], self._v[s]
        m *= self.beta_1
        m += g
        v *= self.beta_2
        np.square(g, out=w)
        v += w
        np.sqrt(v, out=denom)
        denom += self._eps_scaled
        np.divide(m, denom, out=w)
        w *= self._scale
        p -= w
        return denom

    def _chunk_step_size(self, denom, n):
        return self._step_scale / denom[:n]

    def _compiled_step(self, kernels, params, grads, n_penalized, l2, l1, keep):
        cast = params.dtype.type
        kernels.adam_step(
            params,
            grads,
            self._m,
            self._v,
            n_penalized,
            cast(l2),
            cast(l1),
            cast(self.beta_1),
            cast(self.beta_2),
            cast(self._eps_scaled),
            cast(self._scale),
            cast(self._step_scale),
            cast(keep),
        )

    def step_size(self, n):
        """Per-coordinate step of the last update per unit of a steady gradient,
        ``lr sqrt(1 - b2^t) / (sqrt(v) + eps)``, for the first ``n`` coordinates."""
        v = self._v[:n] * (1 - self.beta_2)
        return self._steady_step_rate() / (np.sqrt(v) + self.epsilon)
