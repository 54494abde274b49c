"""What the regression losses mean for the fitted model's predictions.

``MLPRegressor(loss="poisson")`` models the log of the mean: its prediction is
``exp`` of the network's raw output. The log link is the Poisson loss's
canonical link, so at a minimum of the unpenalized loss the derivative with
respect to the (free) output bias, ``mean(exp(z) - y)``, is zero: the mean
prediction over the training set equals the mean target.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from skreg import MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _counts(n=200, d=4, n_outputs=1, seed=0):
    """Poisson counts whose log-rate depends nonlinearly on the inputs."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    log_rate = (
        0.5 + 0.6 * X[:, :1] - 0.4 * np.abs(X[:, 1:2]) + 0.2 * np.arange(n_outputs)
    )
    y = rng.poisson(np.exp(log_rate)).astype(np.float64)
    return X, (y.ravel() if n_outputs == 1 else y)


def _raw_output(model, X):
    """The network's output before the inverse link, by hand (ReLU, no batch norm)."""
    H = X
    for W, b in zip(model.coefs_[:-1], model.intercepts_[:-1], strict=True):
        H = np.maximum(H @ W + b, 0.0)
    return H @ model.coefs_[-1] + model.intercepts_[-1]


@pytest.mark.parametrize("n_outputs", [1, 2])
def test_poisson_predicts_exp_of_the_raw_output(n_outputs):
    X, y = _counts(n_outputs=n_outputs)
    reg = MLPRegressor(
        loss="poisson",
        activation="relu",
        hidden_layer_sizes=(6, 5),
        learning_rate_init=0.01,
        max_iter=30,
        dtype="float64",
        random_state=0,
    ).fit(X, y)
    assert reg.out_activation_ == "exp"
    Z = _raw_output(reg, X)
    # a trained network: its raw outputs take both signs, so exp is not ~1 + z
    assert Z.min() < 0 < Z.max()
    expected = np.exp(Z).ravel() if n_outputs == 1 else np.exp(Z)
    pred = reg.predict(X)
    assert pred.shape == y.shape
    assert_allclose(pred, expected, rtol=1e-12, atol=0)
    # positive everywhere, also far from the training data
    far = 20.0 * np.random.default_rng(1).normal(size=(50, X.shape[1]))
    assert np.all(pred > 0)
    assert np.all(reg.predict(far) > 0)
    assert_allclose(
        reg.predict(far).reshape(50, -1), np.exp(_raw_output(reg, far)), rtol=1e-12
    )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_poisson_fit_mean_prediction_equals_mean_target(weighted, capsys):
    X, y = _counts()
    sample_weight = (
        np.random.default_rng(2).uniform(0.2, 3.0, len(y)) if weighted else None
    )
    tol = 1e-4
    reg = MLPRegressor(
        loss="poisson",
        solver="lbfgs",
        alpha=0.0,
        # smooth: with ReLU's kinks L-BFGS-B tends to stop on its relative
        # reduction test, before the gradient meets tol
        activation="tanh",
        hidden_layer_sizes=(8,),
        tol=tol,
        max_iter=10_000,
        dtype="float64",
        verbose=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X, y, sample_weight=sample_weight)
    # L-BFGS-B converged (no ConvergenceWarning): every gradient component,
    # that of the output bias included, is at most tol, or the objective
    # stopped falling. Which of the two fires depends on the BLAS's rounding
    # (OpenBLAS's Sandybridge kernels stop this fit on the objective with a
    # bias gradient of 1.6e-4), so the bound leaves 5x; weights ignored in
    # the mean would be off by 0.049.
    assert "CONVERGENCE" in capsys.readouterr().out
    # the bias component of the gradient is the (weighted) mean of exp(z) - y
    mean_pred = np.average(reg.predict(X), weights=sample_weight)
    mean_y = np.average(y, weights=sample_weight)
    assert abs(mean_pred - mean_y) <= 5 * tol
    # not trivially: the predictions vary with X
    assert np.std(reg.predict(X)) > 0.2 * np.std(y)
