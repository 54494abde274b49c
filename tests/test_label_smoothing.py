"""Label smoothing (Szegedy et al., 2016) of MLPClassifier: the smoothed losses'
values and float64 gradients, binary, multiclass and multilabel fits, plain
validation losses, validation of the parameter, reproducibility, pickling."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, log_softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.utils._param_validation import InvalidParameterError

from skreg import MLPClassifier
from skreg._losses import LOSSES, LabelSmoothing
from tests.test_gradients import ATOL, RTOL, numerical_gradient, random_weights

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CASES = [
    ("log_loss", 2),
    ("log_loss", 4),
    ("binary_log_loss", 1),
    ("binary_log_loss", 3),
]


def _one_hot_targets(name, rng, n, k):
    if name == "log_loss":
        return np.eye(k)[rng.integers(0, k, n)]
    return rng.integers(0, 2, size=(n, k)).astype(float)


def _independent_smoothed_loss(name, Z, Y, w, eps):
    """Cross-entropy against (1 - eps) y + eps / K, written out."""
    if name == "log_loss":
        target = (1 - eps) * Y + eps / Y.shape[1]
        return float(w @ -np.sum(target * log_softmax(Z, axis=1), axis=1))
    target = (1 - eps) * Y + eps / 2
    P = expit(Z)
    per_output = -(target * np.log(P) + (1 - target) * np.log(1 - P))
    return float(w @ per_output.sum(axis=1))


@pytest.mark.parametrize("weighted", [True, False], ids=["weights", "no_weights"])
@pytest.mark.parametrize("name, k", CASES)
def test_smoothed_loss_value_and_gradient(name, k, weighted):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(7, k))
    Y = _one_hot_targets(name, rng, 7, k)
    w = random_weights(rng, 7) if weighted else None
    loss = LabelSmoothing(LOSSES[name](), 0.2)
    value, grad = loss.value_and_gradient(Z.copy(), Y, w)
    expected = _independent_smoothed_loss(
        name, Z, Y, np.full(7, 1 / 7) if w is None else w, 0.2
    )
    assert value == pytest.approx(expected, rel=1e-10)
    assert loss.value(Z, Y, w) == pytest.approx(expected, rel=1e-10)
    numeric = numerical_gradient(lambda z: loss.value(z, Y, w), Z)
    assert_allclose(grad, numeric, rtol=RTOL, atol=ATOL)
    # the targets are unchanged: the smoothed copy is the loss's own
    assert set(np.unique(Y)) <= {0.0, 1.0}


@pytest.mark.parametrize("name, k", CASES)
def test_smoothed_loss_is_minimal_at_the_smoothed_targets(name, k):
    """The probabilities minimizing the smoothed loss are the smoothed targets."""
    rng = np.random.default_rng(1)
    Y = _one_hot_targets(name, rng, 5, k)
    loss = LabelSmoothing(LOSSES[name](), 0.1)
    target = loss.smoothed(Y)
    if name == "log_loss":
        Z = np.log(target)
    else:
        Z = np.log(target / (1 - target))
    _, grad = loss.value_and_gradient(Z, Y)
    assert_allclose(grad, 0.0, atol=1e-15)


def _separable(n_classes, seed=0, n=150):
    rng = np.random.default_rng(seed)
    centers = 6.0 * rng.normal(size=(n_classes, 4))
    y = rng.integers(0, n_classes, n)
    return centers[y] + rng.normal(size=(n, 4)), y


def _fit(y_kind, eps, **params):
    if y_kind == "multilabel":
        X, y = _separable(4)
        y = np.stack([y % 2, y // 2], axis=1)  # two separable labels
    else:
        X, y = _separable(2 if y_kind == "binary" else 3)
    settings = dict(hidden_layer_sizes=(16,), solver="lbfgs", max_iter=500)
    settings.update(params)
    clf = MLPClassifier(label_smoothing=eps, random_state=0, **settings)
    return clf.fit(X, y), X, y


@pytest.mark.parametrize(
    "y_kind, n_classes", [("binary", 2), ("multiclass", 3), ("multilabel", 2)]
)
def test_probabilities_approach_smoothed_targets(y_kind, n_classes):
    """Separable data, trained to convergence: without smoothing the model is
    as confident as it gets; with it the probabilities settle at the smoothed
    targets, 1 - eps + eps / K, and stay proper probabilities."""
    eps = 0.2
    K = n_classes if y_kind == "multiclass" else 2
    smoothed, X, y = _fit(y_kind, eps)
    plain, _, _ = _fit(y_kind, 0.0)
    proba = smoothed.predict_proba(X)
    assert np.all((proba > 0) & (proba < 1))
    if y_kind != "multilabel":
        assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    top = proba.max(axis=1) if y_kind != "multilabel" else np.maximum(proba, 1 - proba)
    assert_allclose(np.median(top), 1 - eps + eps / K, atol=0.02)
    plain_proba = plain.predict_proba(X)
    plain_top = (
        plain_proba.max(axis=1)
        if y_kind != "multilabel"
        else np.maximum(plain_proba, 1 - plain_proba)
    )
    assert np.median(plain_top) > 0.99
    # smoothing regularizes confidence, not the decisions
    assert smoothed.score(X, y) == 1.0


def test_zero_smoothing_is_the_plain_loss():
    X, y = _separable(3)
    settings = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    default = MLPClassifier(**settings).fit(X, y)
    explicit = MLPClassifier(label_smoothing=0.0, **settings).fit(X, y)
    for a, b in zip(default.coefs_, explicit.coefs_, strict=True):
        assert_array_equal(a, b)
    assert default.loss_curve_ == explicit.loss_curve_


def test_validation_loss_is_the_plain_log_loss():
    X, y = _separable(3, seed=1, n=200)
    X_val, y_val = _separable(3, seed=1, n=260)
    X_val, y_val = X_val[200:], y_val[200:]
    clf = MLPClassifier(
        hidden_layer_sizes=(8,),
        label_smoothing=0.3,
        early_stopping=True,
        dtype="float64",
        learning_rate_init=0.01,
        max_iter=40,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    kept = clf.validation_loss_curve_[clf.best_iteration_ - 1]
    assert kept == pytest.approx(
        log_loss(y_val, clf.predict_proba(X_val), labels=clf.classes_), rel=1e-9
    )


@pytest.mark.parametrize("y_kind", ["binary", "multiclass"])
def test_training_objective_is_the_smoothed_loss(y_kind):
    # lbfgs records the objective at its final weights; alpha=0: no penalty
    eps = 0.25
    clf, X, y = _fit(y_kind, eps, alpha=0.0, max_iter=50)
    Y = np.eye(len(clf.classes_))[np.searchsorted(clf.classes_, y)]
    P = clf.predict_proba(X)
    expected = float(
        np.mean(-np.sum(((1 - eps) * Y + eps / Y.shape[1]) * np.log(P), 1))
    )
    assert clf.loss_ == pytest.approx(expected, rel=1e-9)
    assert clf.loss_ > log_loss(y, P) + 0.1


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, "0.1", None])
def test_bad_label_smoothing_is_refused_by_name(bad):
    X, y = _separable(2)
    clf = MLPClassifier(label_smoothing=bad)
    with pytest.raises(InvalidParameterError, match="'label_smoothing' parameter"):
        clf.fit(X, y)
    assert not hasattr(clf, "coefs_")


def test_reproducible_and_picklable():
    X, y = _separable(3)
    settings = dict(
        hidden_layer_sizes=(8,), label_smoothing=0.1, dropout=0.1, max_iter=20
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = MLPClassifier(random_state=3, **settings).fit(X, y)
        b = MLPClassifier(random_state=3, **settings).fit(X, y)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    restored = pickle.loads(pickle.dumps(a))
    assert restored.label_smoothing == 0.1
    assert_array_equal(restored.predict_proba(X), a.predict_proba(X))


def test_partial_fit_uses_the_smoothed_loss():
    X, y = _separable(3)
    settings = dict(hidden_layer_sizes=(8,), random_state=0)
    smoothed = MLPClassifier(label_smoothing=0.3, **settings)
    plain = MLPClassifier(**settings)
    smoothed.partial_fit(X, y, classes=[0, 1, 2])
    plain.partial_fit(X, y, classes=[0, 1, 2])
    # same initial weights and batches: only the targets differ
    assert smoothed.loss_ != plain.loss_
    assert not np.array_equal(smoothed.coefs_[0], plain.coefs_[0])
