"""clone, pickle, joblib and deepcopy round-trips, for every configuration.

A round-tripped model must predict exactly (bit for bit) what the original
predicts, including batch-norm running statistics, and must go on training
(partial_fit) exactly as the original would: optimizer moments and random
streams travel with it. A clone refitted with the same seed must reproduce
the original model exactly.
"""

import copy
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _scaled(X):
    return StandardScaler().fit_transform(X)


def _binary():
    X, y = load_breast_cancer(return_X_y=True)
    return _scaled(X)[:300], y[:300]


def _multiclass():
    X, y = load_wine(return_X_y=True)
    return _scaled(X), y


def _multilabel():
    X, y = load_wine(return_X_y=True)
    Y = np.column_stack([y == 0, y == 1, X[:, 0] > np.median(X[:, 0])]).astype(int)
    return _scaled(X), Y


def _regression(n_outputs=1):
    X, y = load_diabetes(return_X_y=True)
    y = (y - y.mean()) / y.std()
    if n_outputs == 2:
        y = np.column_stack([y, X[:, 2] * 10])
    return _scaled(X), y


def _poisson():
    X, y = load_diabetes(return_X_y=True)
    return _scaled(X), np.round(y / 50)


def _sparse_binary():
    X, y = _binary()
    X = np.where(np.abs(X) > 1, X, 0.0)
    return sp.csr_matrix(X), y


_COMMON = dict(max_iter=15, learning_rate_init=0.01, random_state=0)

# (id, estimator, data) for every configuration users may save
CONFIGS = [
    ("default", MLPClassifier(hidden_layer_sizes=(16,), **_COMMON), _binary),
    (
        "multiclass-dropout",
        MLPClassifier(hidden_layer_sizes=(16,), dropout=0.3, **_COMMON),
        _multiclass,
    ),
    (
        "batch-norm",
        MLPClassifier(
            hidden_layer_sizes=(16, 8),
            batch_norm=True,
            batch_norm_momentum=0.3,
            **_COMMON,
        ),
        _binary,
    ),
    (
        "batch-norm-per-layer",
        MLPClassifier(
            hidden_layer_sizes=(8, 8),
            batch_norm=(True, False),
            dropout=(0.5, 0.2),
            **_COMMON,
        ),
        _multiclass,
    ),
    (
        "dropconnect-maxnorm-noise",
        MLPClassifier(
            hidden_layer_sizes=(8, 8),
            dropconnect=(0.2, 0.0, 0.1),
            max_norm=2.0,
            input_noise=0.1,
            input_dropout=0.1,
            **_COMMON,
        ),
        _binary,
    ),
    (
        "elasticnet",
        MLPClassifier(hidden_layer_sizes=(16,), alpha=1e-3, l1_ratio=0.5, **_COMMON),
        _binary,
    ),
    (
        "early-stopping-accuracy",
        MLPClassifier(
            hidden_layer_sizes=(16,),
            early_stopping=True,
            scoring="accuracy",
            n_iter_no_change=3,
            **_COMMON,
        ),
        _binary,
    ),
    (
        # the schedule's epoch count travels: the next partial_fit continues
        # it (patience stops the fit at epoch 4 of the 60-epoch schedule)
        "cosine-warmup-weight-decay-clipping",
        MLPClassifier(
            hidden_layer_sizes=(16,),
            learning_rate="cosine",
            warmup_fraction=0.2,
            weight_decay=0.05,
            max_grad_norm=0.5,
            **{**_COMMON, "max_iter": 60, "tol": 1.0, "n_iter_no_change": 2},
        ),
        _binary,
    ),
    (
        "lbfgs",
        MLPClassifier(
            hidden_layer_sizes=(16,), solver="lbfgs", max_iter=30, random_state=0
        ),
        _binary,
    ),
    (
        "sgd-adaptive",
        MLPClassifier(
            hidden_layer_sizes=(16,), solver="sgd", learning_rate="adaptive", **_COMMON
        ),
        _multiclass,
    ),
    (
        "float32",
        MLPClassifier(
            hidden_layer_sizes=(16,), dtype="float32", batch_norm=True, **_COMMON
        ),
        _binary,
    ),
    (
        "class-weight",
        MLPClassifier(hidden_layer_sizes=(16,), class_weight="balanced", **_COMMON),
        _multiclass,
    ),
    ("multilabel", MLPClassifier(hidden_layer_sizes=(16,), **_COMMON), _multilabel),
    (
        "sparse-input",
        MLPClassifier(hidden_layer_sizes=(16,), dropout=0.1, **_COMMON),
        _sparse_binary,
    ),
    (
        "regressor-batch-norm",
        MLPRegressor(hidden_layer_sizes=(16,), batch_norm=True, dropout=0.1, **_COMMON),
        _regression,
    ),
    (
        "regressor-multioutput",
        MLPRegressor(hidden_layer_sizes=(16,), dropconnect=0.1, **_COMMON),
        lambda: _regression(2),
    ),
    (
        "regressor-poisson",
        MLPRegressor(loss="poisson", hidden_layer_sizes=(16,), **_COMMON),
        _poisson,
    ),
    (
        "regressor-lbfgs-batch-norm",
        MLPRegressor(
            hidden_layer_sizes=(8,),
            solver="lbfgs",
            batch_norm=True,
            max_iter=30,
            random_state=0,
        ),
        _regression,
    ),
]
IDS = [c[0] for c in CONFIGS]

_FITTED_ARRAYS = ("coefs_", "intercepts_")
_FITTED_VALUES = (
    "loss_curve_",
    "validation_loss_curve_",
    "validation_scores_",
    "best_iteration_",
    "n_iter_",
    "t_",
    "n_features_in_",
    "n_outputs_",
    "n_layers_",
    "out_activation_",
)


def _outputs(model, X):
    """Every prediction the model offers, as arrays."""
    outputs = {"predict": model.predict(X)}
    if hasattr(model, "predict_proba"):
        outputs["predict_proba"] = model.predict_proba(X)
        outputs["predict_log_proba"] = model.predict_log_proba(X)
    if model._has_prediction_masks():
        outputs["sample_predictions"] = model.sample_predictions(
            X, n_samples=3, random_state=1
        )
    return outputs


def _assert_same_model(a, b, X):
    for name in _FITTED_ARRAYS:
        for left, right in zip(getattr(a, name), getattr(b, name), strict=True):
            assert_array_equal(left, right)
            assert left.dtype == right.dtype
    for left, right in zip(a.batch_norm_params_, b.batch_norm_params_, strict=True):
        assert (left is None) == (right is None)
        if left is not None:
            assert left.keys() == right.keys()
            for key in left:
                assert_array_equal(left[key], right[key])
    for name in _FITTED_VALUES:
        assert getattr(a, name) == getattr(b, name), name
    if hasattr(a, "classes_"):
        if isinstance(a.classes_, list):
            for left, right in zip(a.classes_, b.classes_, strict=True):
                assert_array_equal(left, right)
        else:
            assert_array_equal(a.classes_, b.classes_)
    out_a, out_b = _outputs(a, X), _outputs(b, X)
    assert out_a.keys() == out_b.keys()
    for key in out_a:
        assert_array_equal(out_a[key], out_b[key], err_msg=key)


def _pickle(model, tmp_path):
    return pickle.loads(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))


def _joblib(model, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    return joblib.load(path)


def _joblib_compressed(model, tmp_path):
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    buffer.seek(0)
    return joblib.load(buffer)


def _deepcopy(model, tmp_path):
    return copy.deepcopy(model)


ROUND_TRIPS = [_pickle, _joblib, _joblib_compressed, _deepcopy]


def _fit(config):
    _, estimator, make_data = config
    X, y = make_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = clone(estimator).fit(X, y)
    return estimator, model, X, y


@pytest.fixture(params=CONFIGS, ids=IDS)
def fitted(request):
    return _fit(request.param)


BATCH_NORM_CONFIGS = [c for c in CONFIGS if np.any(c[1].batch_norm)]
INCREMENTAL_CONFIGS = [
    c
    for c in CONFIGS
    if c[1].solver != "lbfgs" and getattr(c[1], "class_weight", None) != "balanced"
]


@pytest.mark.parametrize("round_trip", ROUND_TRIPS, ids=lambda f: f.__name__[1:])
def test_round_trip_reproduces_predictions(fitted, round_trip, tmp_path):
    _, model, X, _ = fitted
    restored = round_trip(model, tmp_path)
    assert restored is not model
    assert restored.get_params() == model.get_params()
    _assert_same_model(model, restored, X)


@pytest.mark.parametrize("config", BATCH_NORM_CONFIGS, ids=lambda c: c[0])
def test_batch_norm_statistics_survive(config, tmp_path):
    _, model, X, _ = _fit(config)
    assert any(p is not None for p in model.batch_norm_params_)
    restored = _joblib(model, tmp_path)
    # the running statistics were learned (not the initial 0 / 1) and travel
    for params in restored.batch_norm_params_:
        if params is not None:
            assert np.any(params["running_mean"] != 0)
            assert np.any(params["running_var"] != 1)
    # predictions depend on them: resetting them changes the predictions
    reset = _pickle(restored, tmp_path)
    for params in reset.batch_norm_params_:
        if params is not None:
            params["running_mean"][...] = 0.0
            params["running_var"][...] = 1.0
    assert not np.allclose(
        _outputs(reset, X)[
            "predict" if not hasattr(reset, "predict_proba") else "predict_proba"
        ],
        _outputs(restored, X)[
            "predict" if not hasattr(restored, "predict_proba") else "predict_proba"
        ],
    )


def test_clone_refit_reproduces_model(fitted):
    estimator, model, X, y = fitted
    cloned = clone(model)
    assert cloned.get_params() == model.get_params()
    with pytest.raises(NotFittedError):
        cloned.predict(X)
    assert not hasattr(cloned, "coefs_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cloned.fit(X, y)
    _assert_same_model(model, cloned, X)


@pytest.mark.parametrize("config", INCREMENTAL_CONFIGS, ids=lambda c: c[0])
def test_restored_model_keeps_training_identically(config, tmp_path):
    """Optimizer moments, the batch-order and mask streams are persisted."""
    _, model, X, y = _fit(config)
    restored = _pickle(model, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.partial_fit(X, y)
        restored.partial_fit(X, y)
    _assert_same_model(model, restored, X)


def test_unfitted_round_trip():
    estimator = MLPClassifier(hidden_layer_sizes=(8, 8), dropout=(0.5, 0.2))
    restored = pickle.loads(pickle.dumps(estimator))
    assert restored.get_params() == estimator.get_params()
    assert not hasattr(restored, "coefs_")


def test_fitted_search_round_trip(tmp_path):
    X, y = load_breast_cancer(return_X_y=True)
    search = GridSearchCV(
        make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(8,), batch_norm=True, **_COMMON),
        ),
        {"mlpclassifier__dropout": [0.0, 0.3]},
        cv=3,
    ).fit(X, y)
    restored = _joblib(search, tmp_path)
    assert restored.best_params_ == search.best_params_
    assert_array_equal(restored.predict_proba(X), search.predict_proba(X))
    _assert_same_model(
        search.best_estimator_[-1],
        restored.best_estimator_[-1],
        search.best_estimator_[0].transform(X),
    )
