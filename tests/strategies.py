"""hypothesis strategies for skreg: data sets and estimator configurations.

Values are bounded so that each example fits in milliseconds: a few dozen
rows, a few features, networks of at most two small hidden layers and at
most a few epochs. Inputs are deliberately unscaled (up to 1e3 in absolute
value) so that the diverging-run and overflow paths are exercised too.
"""

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

MAX_ABS = 1e3


@st.composite
def feature_matrices(draw, min_samples=4, max_samples=40, max_features=5):
    """Finite X of a random shape, float32 or float64, dense or sparse (CSR or
    CSC, with the zeros the drawn values hold)."""
    n_samples = draw(st.integers(min_samples, max_samples))
    n_features = draw(st.integers(1, max_features))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    elements = st.floats(
        -MAX_ABS, MAX_ABS, allow_nan=False, allow_infinity=False, width=32
    )
    X = draw(arrays(dtype, (n_samples, n_features), elements=elements))
    layout = draw(st.sampled_from(["dense", "dense", "csr", "csc"]))
    return X if layout == "dense" else sp.csr_matrix(X).asformat(layout)


@st.composite
def classification_targets(draw, n_samples):
    """Binary, multiclass (int or str labels) or multilabel targets, each with
    at least two classes present."""
    kind = draw(st.sampled_from(["binary", "multiclass", "strings", "multilabel"]))
    if kind == "multilabel":
        n_labels = draw(st.integers(2, 3))
        Y = draw(arrays(np.int64, (n_samples, n_labels), elements=st.integers(0, 1)))
        Y[0], Y[1] = 0, 1  # both values in every column
        return Y
    n_classes = 2 if kind == "binary" else draw(st.integers(3, 4))
    codes = draw(arrays(np.int64, n_samples, elements=st.integers(0, n_classes - 1)))
    codes[:2] = [0, 1]
    if kind == "strings":
        return np.array(["ant", "bee", "cat", "dog"])[codes]
    return codes


@st.composite
def regression_targets(draw, n_samples, non_negative=False):
    n_outputs = draw(st.integers(1, 2))
    low = 0.0 if non_negative else -MAX_ABS
    elements = st.floats(low, MAX_ABS, allow_nan=False, allow_infinity=False, width=32)
    y = draw(arrays(np.float64, (n_samples, n_outputs), elements=elements))
    return y.ravel() if n_outputs == 1 else y


@st.composite
def sample_weights(draw, n_samples):
    """None, or non-negative weights with a positive sum."""
    if draw(st.booleans()):
        return None
    w = draw(arrays(np.float64, n_samples, elements=st.floats(0.0, 10.0)))
    w[0] = max(w[0], 0.5)
    return w


_RATES = st.sampled_from([0.0, 0.0, 0.1, 0.5, 0.9])


@st.composite
def configurations(draw, regressor=False):
    """Valid parameters: solvers, regularizers, hidden sizes, schedules."""
    solver = draw(st.sampled_from(["adam", "sgd", "lbfgs"]))
    hidden = tuple(draw(st.lists(st.integers(1, 8), min_size=0, max_size=2)))
    n_hidden = len(hidden)
    deterministic = solver == "lbfgs"
    params = {
        "hidden_layer_sizes": hidden,
        "activation": draw(st.sampled_from(["identity", "logistic", "tanh", "relu"])),
        "solver": solver,
        "alpha": draw(st.sampled_from([0.0, 1e-4, 1e-2, 1.0])),
        "l1_ratio": 0.0 if deterministic else draw(st.sampled_from([0.0, 0.5, 1.0])),
        "batch_size": draw(st.one_of(st.just("auto"), st.integers(1, 50))),
        "learning_rate": draw(st.sampled_from(["constant", "invscaling", "adaptive"])),
        "learning_rate_init": draw(st.sampled_from([1e-3, 1e-2, 0.1, 1.0])),
        "max_iter": draw(st.integers(1, 4)),
        "shuffle": draw(st.booleans()),
        "random_state": draw(st.integers(0, 2**16)),
        "momentum": draw(st.sampled_from([0.0, 0.9])),
        "nesterovs_momentum": draw(st.booleans()),
        "early_stopping": draw(st.sampled_from([False, True, "auto"])),
        "validation_fraction": draw(st.sampled_from([0.1, 0.3])),
        "n_iter_no_change": draw(st.integers(1, 3)),
        "dropout": 0.0
        if deterministic
        else draw(
            st.one_of(_RATES, st.lists(_RATES, min_size=n_hidden, max_size=n_hidden))
        ),
        "input_dropout": 0.0 if deterministic else draw(_RATES),
        "dropconnect": 0.0
        if deterministic
        else draw(
            st.one_of(
                _RATES, st.lists(_RATES, min_size=n_hidden + 1, max_size=n_hidden + 1)
            )
        ),
        "batch_norm": draw(
            st.one_of(
                st.booleans(),
                st.lists(st.booleans(), min_size=n_hidden, max_size=n_hidden),
            )
        ),
        "max_norm": None if deterministic else draw(st.sampled_from([None, 0.5, 3.0])),
        "input_noise": 0.0 if deterministic else draw(st.sampled_from([0.0, 0.1, 1.0])),
        "dtype": draw(st.sampled_from(["auto", "float32", "float64"])),
        "warm_start": draw(st.booleans()),
    }
    if np.any(params["batch_norm"]) and params["batch_size"] == 1:
        params["batch_size"] = 2  # batch norm needs batches of 2 rows or more
    if regressor:
        params["loss"] = draw(st.sampled_from(["squared_error", "poisson"]))
    else:
        # "dict": one weight per class, drawn once the labels are known
        params["class_weight"] = draw(st.sampled_from([None, "balanced", "dict"]))
    return params


@st.composite
def class_weights(draw, y):
    """``{label: weight}`` for the labels of a 1-D ``y`` (positive weights)."""
    weights = st.floats(0.1, 10.0)
    return {label: draw(weights) for label in np.unique(y).tolist()}
