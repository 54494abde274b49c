"""First-order optimizers over one flat parameter vector.

They know nothing of layers, losses or stopping: ``step(params, grads)``
updates ``params`` in place, and ``step_size()`` tells the penalty's proximal
step how far each coordinate just moved per unit of gradient.
"""

import numpy as np


class SGD:
    """Stochastic gradient descent with (Nesterov) momentum, as scikit-learn's.

    ``v <- momentum * v - lr * g``; then ``w <- w + v`` or, with Nesterov,
    ``w <- w + momentum * v - lr * g``.
    """

    def __init__(self, n_params, dtype, *, learning_rate, momentum=0.9, nesterov=True):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocity = np.zeros(n_params, dtype=dtype)

    def step(self, params, grads):
        lr = self.learning_rate
        if self.momentum:
            self.velocity *= self.momentum
            self.velocity -= lr * grads
            if self.nesterov:
                params += self.momentum * self.velocity
                params -= lr * grads
            else:
                params += self.velocity
        else:
            params -= lr * grads

    def step_size(self, n):
        return self.learning_rate


class Adam:
    """Adam (Kingma & Ba, 2015) with scikit-learn's parametrization.

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``,
    ``w <- w - lr_t m / (sqrt(v) + eps)`` with
    ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``.
    """

    def __init__(self, n_params, dtype, *, learning_rate, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.t = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)
        self._denom = np.zeros(n_params, dtype=dtype)
        self._work = np.zeros(n_params, dtype=dtype)

    def _lr_t(self):
        t = self.t
        return self.learning_rate * np.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)

    def step(self, params, grads):
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        work = self._work
        self.m *= b1
        np.multiply(grads, 1 - b1, out=work)
        self.m += work
        self.v *= b2
        np.multiply(grads, grads, out=work)
        work *= 1 - b2
        self.v += work
        np.sqrt(self.v, out=self._denom)
        self._denom += self.epsilon
        np.divide(self.m, self._denom, out=work)
        work *= self._lr_t()
        params -= work

    def step_size(self, n):
        """Per-coordinate step of the last update for the first ``n`` coordinates."""
        return self._lr_t() / self._denom[:n]
