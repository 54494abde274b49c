"""Periodic embeddings of numeric features: the option ``numeric_embedding``.

Gorishniy, Rubachev and Babenko (2022), "On embeddings for numerical features
in tabular deep learning", map each scalar feature to a vector of periodic
functions of it with learned frequencies, then through a small linear map of
its own. RealMLP (Holzmueller et al., 2024) made it cheaper and more robust as
"PBLD": one cosine with a learned phase per frequency instead of a sine and a
cosine (P, B), a per-feature linear map (L) without activation, and the raw
value concatenated to the learned ones ("densenet" style, D). With feature
``x_j``, frequencies ``w_j``, phases ``b_j`` (``k`` of each), a ``k x d``
matrix ``V_j`` and offset ``c_j``, feature ``j`` becomes

    e_j = [cos(2 pi w_j x_j + b_j) @ V_j + c_j, x_j]      (d + 1 values)

and the network's first dense layer sees the ``n_features * d`` learned
values, feature after feature, followed by the ``n_features`` raw values.
"""

import math

import numpy as np

from ._layers import Layer, _is_sparse

# RealMLP's PBLD: 16 frequencies, 3 learned values + the raw one per feature
EMBEDDING_DIM = 3


class PeriodicEmbedding(Layer):
    """RealMLP's PBLD embedding of every input feature (see the module doc).

    Initialization as in RealMLP (pytabkit's ``PLREmbeddingsFactory`` with
    ``plr_use_cos_bias``): frequencies ``N(0, frequency_init_scale^2)``,
    phases uniform on ``[-pi, pi]``, the linear maps and offsets uniform on
    ``[-1/sqrt(k), 1/sqrt(k)]`` (PyTorch's ``nn.Linear`` default).
    """

    def __init__(self, n_features, *, n_frequencies=16, frequency_init_scale=0.1):
        self.n_features = n_features
        self.n_frequencies = n_frequencies
        self.frequency_init_scale = frequency_init_scale

    @property
    def n_out(self):
        return self.n_features * (EMBEDDING_DIM + 1)

    def param_specs(self):
        f, k, d = self.n_features, self.n_frequencies, EMBEDDING_DIM
        # the linear maps are penalized like dense weights; frequencies,
        # phases and offsets, like biases, are not
        return [
            ("coef", (f, k, d), True),
            ("frequencies", (f, k), False),
            ("phases", (f, k), False),
            ("intercept", (f, d), False),
        ]

    def init_params(self, rng, dtype):
        f, k, d = self.n_features, self.n_frequencies, EMBEDDING_DIM
        bound = 1.0 / math.sqrt(k)
        return {
            "frequencies": self.frequency_init_scale * rng.standard_normal((f, k)),
            "phases": rng.uniform(-math.pi, math.pi, (f, k)),
            "coef": rng.uniform(-bound, bound, (f, k, d)),
            "intercept": rng.uniform(-bound, bound, (f, d)),
        }

    def forward(self, X, ctx, need_input_grad=True):
        if _is_sparse(X):
            X = X.toarray()
        n, f = X.shape
        two_pi = X.dtype.type(2.0 * math.pi)
        # features lead, so that each feature's map is one batched matmul
        angle = (two_pi * X.T)[:, :, None] * self.params["frequencies"][:, None, :]
        angle += self.params["phases"][:, None, :]
        cosine = np.cos(angle)  # (f, n, k)
        learned = np.matmul(cosine, self.params["coef"])  # (f, n, d)
        learned += self.params["intercept"][:, None, :]
        Y = np.empty((n, self.n_out), dtype=learned.dtype)
        Y[:, : f * EMBEDDING_DIM] = learned.transpose(1, 0, 2).reshape(n, -1)
        Y[:, f * EMBEDDING_DIM :] = X

        def backward(dY):
            return self._backward(dY, X, angle, cosine, need_input_grad)

        return Y, backward

    def _backward(self, dY, X, angle, cosine, need_input_grad):
        n, f = X.shape
        d_learned = dY[:, : f * EMBEDDING_DIM].reshape(n, f, EMBEDDING_DIM)
        d_learned = d_learned.transpose(1, 0, 2)  # (f, n, d)
        grads, params = self.grads, self.params
        np.sum(d_learned, axis=1, out=grads["intercept"])
        np.matmul(cosine.transpose(0, 2, 1), d_learned, out=grads["coef"])
        # d cos(a) / da = -sin(a): ``minus_d_angle`` is the gradient of the
        # angles negated, the sign going to the small reductions below rather
        # than to one more pass over the (features, rows, frequencies) array
        minus_d_angle = np.matmul(d_learned, params["coef"].transpose(0, 2, 1))
        minus_d_angle *= np.sin(angle, out=angle)
        np.sum(minus_d_angle, axis=1, out=grads["phases"])
        np.negative(grads["phases"], out=grads["phases"])
        # d angle / d w = 2 pi x: sum over rows of x * d_angle, per feature
        minus_two_pi_x = X.dtype.type(-2.0 * math.pi) * X.T
        np.matmul(
            minus_two_pi_x[:, None, :],
            minus_d_angle,
            out=grads["frequencies"][:, None, :],
        )
        if not need_input_grad:
            return None
        dX = dY[:, f * EMBEDDING_DIM :].copy()
        minus_d_angle *= params["frequencies"][:, None, :]
        dX -= X.dtype.type(2.0 * math.pi) * np.sum(minus_d_angle, axis=2).T
        return dX
