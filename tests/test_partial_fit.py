"""partial_fit for data that does not fit in memory.

The training rows are written to a read-only numpy memmap in a temporary
directory and streamed in chunks: a StandardScaler is fitted in one pass with
``partial_fit``, then the network sees one chunk per ``partial_fit`` call, for
several epochs. Data: 11,000 generated rows with features on very different
scales and offsets (so that the streamed scaler matters), binary
(``make_classification``) and nonlinear regression with targets on the scale
of house prices (``make_friedman1``); and scikit-learn's bundled data sets.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import (
    load_breast_cancer,
    load_wine,
    make_classification,
    make_friedman1,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

CHUNK = 2_000
N_ROWS = 11_000  # 8,800 training rows: four full chunks and a short one


def _unscaled(X, rng):
    """X with each column stretched by 1-100 and shifted by up to 500, in float32."""
    scale = rng.uniform(1, 100, X.shape[1])
    offset = rng.uniform(-500, 500, X.shape[1])
    return (X * scale + offset).astype(np.float32)


def _binary_data(seed=0):
    """Binary classification, about 65 / 35, 5 % flipped labels."""
    X, y = make_classification(
        n_samples=N_ROWS,
        n_features=10,
        n_informative=6,
        n_redundant=2,
        weights=[0.65],
        flip_y=0.05,
        class_sep=0.8,
        random_state=seed,
    )
    return _unscaled(X, np.random.default_rng(seed)), y.astype(np.float64)


def _regression_data(seed=0):
    """Friedman's nonlinear function of 5 of 8 features, targets ~1e5."""
    X, y = make_friedman1(n_samples=N_ROWS, n_features=8, noise=1.0, random_state=seed)
    return _unscaled(X, np.random.default_rng(seed)), 1e4 * y


def _to_memmap(X, path):
    """Write X to disk and reopen it read-only, as out-of-core data."""
    writer = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    writer[:] = X
    writer.flush()
    del writer
    return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)


def _stream(model, X_disk, y, n_epochs, *, fit_kwargs=None, seed=0):
    """Scale (one streaming pass), then train chunk by chunk for n_epochs."""
    starts = np.arange(0, X_disk.shape[0], CHUNK)
    scaler = StandardScaler()
    for start in starts:
        scaler.partial_fit(X_disk[start : start + CHUNK])
    rng = np.random.default_rng(seed)
    for _ in range(n_epochs):
        for start in rng.permutation(starts):
            rows = slice(start, start + CHUNK)
            chunk = scaler.transform(X_disk[rows]).astype(np.float32)
            model.partial_fit(chunk, y[rows], **(fit_kwargs or {}))
    return scaler, len(starts)


def test_classifier_on_memmap_reaches_fit_accuracy(tmp_path):
    X, y = _binary_data()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y
    )
    X_disk = _to_memmap(X_train, tmp_path / "binary.f32")
    assert isinstance(X_disk, np.memmap) and not X_disk.flags.writeable

    params = dict(
        hidden_layer_sizes=(64,),
        learning_rate_init=3e-3,
        batch_size=200,
        random_state=0,
    )
    n_epochs = 8
    streamed = MLPClassifier(**params)
    scaler, n_chunks = _stream(
        streamed, X_disk, y_train, n_epochs, fit_kwargs={"classes": np.unique(y)}
    )
    # one loss value per call, every row seen once per epoch
    assert len(streamed.loss_curve_) == n_epochs * n_chunks
    assert streamed.t_ == n_epochs * len(X_train)
    assert streamed.coefs_[0].dtype == np.float32  # float32 data trains in float32

    in_memory = MLPClassifier(max_iter=n_epochs, early_stopping=False, **params)
    in_memory.fit(scaler.transform(X_train).astype(np.float32), y_train)

    X_test = scaler.transform(X_test)
    streamed_accuracy = streamed.score(X_test, y_test)
    fit_accuracy = in_memory.score(X_test, y_test)
    majority = np.unique(y_test, return_counts=True)[1].max() / len(y_test)
    assert fit_accuracy > majority + 0.1
    assert streamed_accuracy > fit_accuracy - 0.015


def test_regressor_on_memmap_reaches_fit_r2(tmp_path):
    X, y = _regression_data()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=0
    )
    y_mean, y_std = y_train.mean(), y_train.std()  # targets ~1e5: scale them
    X_disk = _to_memmap(X_train, tmp_path / "regression.f32")

    params = dict(
        hidden_layer_sizes=(32,),
        learning_rate_init=3e-3,
        batch_size=200,
        random_state=0,
    )
    n_epochs = 6
    streamed = MLPRegressor(**params)
    scaler, _ = _stream(streamed, X_disk, (y_train - y_mean) / y_std, n_epochs)
    in_memory = MLPRegressor(max_iter=n_epochs, early_stopping=False, **params)
    in_memory.fit(
        scaler.transform(X_train).astype(np.float32), (y_train - y_mean) / y_std
    )

    X_test = scaler.transform(X_test)
    streamed_r2 = streamed.score(X_test, (y_test - y_mean) / y_std)
    fit_r2 = in_memory.score(X_test, (y_test - y_mean) / y_std)
    assert fit_r2 > 0.6
    assert streamed_r2 > fit_r2 - 0.03


@pytest.mark.parametrize(
    "params",
    [{}, {"dropout": 0.2, "batch_norm": True, "dropconnect": 0.1}],
    ids=["plain", "regularized"],
)
def test_partial_fit_epochs_equal_fit_epochs(params):
    """k partial_fit calls on all rows are exactly fit(max_iter=k): the
    optimizer state and the random streams carry over between calls."""
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    fitted = MLPClassifier(
        hidden_layer_sizes=(16,), max_iter=5, random_state=0, **params
    ).fit(X, y)
    streamed = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, **params)
    for _ in range(5):
        streamed.partial_fit(X, y, classes=[0, 1])
    assert streamed.loss_curve_ == fitted.loss_curve_
    assert streamed.t_ == fitted.t_
    assert_array_equal(streamed.predict_proba(X), fitted.predict_proba(X))


def test_partial_fit_memmap_equals_in_memory_array(tmp_path):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(np.float32)
    X_disk = _to_memmap(X, tmp_path / "bc.f32")
    a = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    b = MLPClassifier(hidden_layer_sizes=(8,), random_state=0)
    for start in range(0, len(X), 100):
        a.partial_fit(
            X_disk[start : start + 100], y[start : start + 100], classes=[0, 1]
        )
        b.partial_fit(X[start : start + 100], y[start : start + 100], classes=[0, 1])
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # the read-only input was not written to
    assert_array_equal(np.asarray(X_disk), X)


def test_chunks_missing_classes_need_classes_on_first_call():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    order = np.argsort(y, kind="stable")  # chunks of one or two classes only
    X, y = X[order], y[order]
    model = MLPClassifier(
        hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0
    )
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X[:60], y[:60])
    model.partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    assert_array_equal(model.classes_, [0, 1, 2])
    for _ in range(30):
        for start in range(0, len(X), 60):
            model.partial_fit(X[start : start + 60], y[start : start + 60])
    assert model.predict_proba(X).shape == (len(X), 3)
    assert model.score(X, y) > 0.9
    # a class never announced is refused, naming it
    with pytest.raises(ValueError, match=r"not in classes_ \[0, 1, 2\]: \[7\]"):
        model.partial_fit(X[:5], np.full(5, 7))
