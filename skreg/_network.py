"""A sequential stack of layers whose parameters live in one flat buffer.

Keeping every trainable array as a view into one contiguous vector lets the
optimizers and penalties work with a handful of in-place vector operations per
step, whatever the depth. Penalized weights come first in the buffer, so the
penalty sees ``params[:n_penalized]`` as a single vector.
"""

import numpy as np

from ._embeddings import PeriodicEmbedding
from ._layers import (
    Activation,
    BatchNorm,
    Context,
    Dense,
    Dropout,
    GaussianNoise,
)


class Network:
    """Layers plus the flat parameter and gradient buffers they are bound to.

    Parameters
    ----------
    layers : list of Layer
    dtype : numpy dtype
        Dtype of parameters, gradients and activations.
    """

    def __init__(self, layers, dtype=np.float32):
        self.layers = layers
        self.dtype = np.dtype(dtype)
        specs = [
            (index, name, shape, penalized)
            for index, layer in enumerate(layers)
            for name, shape, penalized in layer.param_specs()
        ]
        # stable sort: penalized weights first, in layer order
        specs.sort(key=lambda spec: not spec[3])
        sizes = [int(np.prod(shape)) for _, _, shape, _ in specs]
        self.params = np.zeros(sum(sizes), dtype=self.dtype)
        self.grads = np.zeros_like(self.params)
        self.n_penalized = sum(
            s for s, spec in zip(sizes, specs, strict=True) if spec[3]
        )
        bound = [({}, {}) for _ in layers]
        start = 0
        for (index, name, shape, _), size in zip(specs, sizes, strict=True):
            stop = start + size
            bound[index][0][name] = self.params[start:stop].reshape(shape)
            bound[index][1][name] = self.grads[start:stop].reshape(shape)
            start = stop
        for layer, (params, grads) in zip(layers, bound, strict=True):
            layer.bind(params, grads)
        first_trainable = next(
            (i for i, layer in enumerate(layers) if layer.param_specs()), len(layers)
        )
        # a layer needs the gradient of its input only if something below it trains
        self._need_input_grad = [i > first_trainable for i in range(len(layers))]

    @property
    def dense_layers(self):
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def batch_norm_layers(self):
        return [layer for layer in self.layers if isinstance(layer, BatchNorm)]

    @property
    def stochastic(self):
        """Whether a training pass draws random numbers (dropout, noise, ...)."""
        return any(layer.stochastic for layer in self.layers)

    def initialize(self, rng):
        """Draw initial parameters from ``rng`` and reset the state."""
        for layer in self.layers:
            for name, value in layer.init_params(rng, self.dtype).items():
                layer.params[name][...] = value
            layer.reset_state()

    def forward(self, X, ctx):
        """Run all layers; return the output and a function computing gradients.

        The returned ``backward(dY)`` fills ``self.grads`` with the gradient of
        the loss with respect to every parameter, given ``dY``, the gradient
        with respect to the output.
        """
        backwards = []
        for layer, need in zip(self.layers, self._need_input_grad, strict=True):
            X, backward = layer.forward(X, ctx, need)
            backwards.append(backward)

        def backward(dY):
            for step in reversed(backwards):
                dY = step(dY)
                if dY is None:
                    break
            return dY

        return X, backward

    def predict(self, X):
        """Deterministic output: no masks, no noise, running statistics."""
        output, _ = self.forward(X, Context(training=False))
        return output

    def get_state(self):
        """Copies of every non-trainable state array, e.g. running statistics."""
        return [
            {key: value.copy() for key, value in layer.state.items()}
            for layer in self.layers
        ]

    def set_state(self, states):
        for layer, state in zip(self.layers, states, strict=True):
            for key, value in state.items():
                layer.state[key][...] = value

    def snapshot(self):
        """Parameters and state, to restore later (e.g. the best epoch)."""
        return self.params.copy(), self.get_state()

    def restore(self, snapshot):
        params, states = snapshot
        self.params[...] = params
        self.set_state(states)


def build_layers(
    layer_units,
    *,
    activation="relu",
    dropout=None,
    dropconnect=None,
    batch_norm=None,
    batch_norm_momentum=0.1,
    input_dropout=0.0,
    input_noise=0.0,
    dropconnect_mask="batch",
    numeric_embedding=None,
):
    """Layers of an MLP with the given units per layer (input and output included).

    ``dropout`` and ``batch_norm`` hold one value per hidden layer and
    ``dropconnect`` one value per weight layer; ``None`` means off everywhere.
    ``dropconnect_mask`` ("batch" or "sample") is one DropConnect mask per
    mini-batch or per row.
    ``numeric_embedding`` is None or the keyword arguments of a
    :class:`~skreg._embeddings.PeriodicEmbedding` of the inputs, placed after
    input noise and input dropout (which act on the raw features).
    The output layer is affine: the loss applies the output activation.
    """
    n_hidden = len(layer_units) - 2
    dropout = dropout if dropout is not None else [0.0] * n_hidden
    batch_norm = batch_norm if batch_norm is not None else [False] * n_hidden
    dropconnect = dropconnect if dropconnect is not None else [0.0] * (n_hidden + 1)
    init_factor = 2.0 if activation == "logistic" else 6.0
    init = "lecun_normal" if activation == "selu" else "glorot_uniform"

    layers = []
    if input_noise > 0:
        layers.append(GaussianNoise(input_noise))
    if input_dropout > 0:
        layers.append(Dropout(input_dropout))
    if numeric_embedding is not None:
        embedding = PeriodicEmbedding(layer_units[0], **numeric_embedding)
        layers.append(embedding)
        layer_units = [embedding.n_out, *layer_units[1:]]
    for i in range(n_hidden):
        n_in, n_out = layer_units[i], layer_units[i + 1]
        layers.append(
            Dense(
                n_in,
                n_out,
                bias=not batch_norm[i],  # batch norm's beta replaces the bias
                dropconnect=dropconnect[i],
                init_factor=init_factor,
                init=init,
                dropconnect_mask=dropconnect_mask,
            )
        )
        if batch_norm[i]:
            layers.append(BatchNorm(n_out, momentum=batch_norm_momentum))
        layers.append(Activation(activation))
        if dropout[i] > 0:
            layers.append(Dropout(dropout[i]))
    layers.append(
        Dense(
            layer_units[-2],
            layer_units[-1],
            dropconnect=dropconnect[-1],
            init_factor=init_factor,
            init=init,
            dropconnect_mask=dropconnect_mask,
        )
    )
    return layers
