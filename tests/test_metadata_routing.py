"""Metadata routing: sample_weight and X_val / y_val reach ``fit`` through a
Pipeline and through a GridSearchCV, and change what is fitted.

Routing is switched on with ``sklearn.config_context(enable_metadata_routing=True)``
only inside each test. Data: scikit-learn's breast cancer set, split into
training, validation and test rows. The validation set has fewer rows than the
training set on purpose: a search slices every fit parameter whose length
equals the number of training rows into folds, so an X_val of that length would
be cut up like sample_weight.
"""

import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.metrics import get_scorer, log_loss
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PARAMS = dict(
    hidden_layer_sizes=(16,), max_iter=25, learning_rate_init=0.01, random_state=0
)


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    X_fit, X_test, y_fit, y_test = train_test_split(
        X, y, test_size=120, random_state=0, stratify=y
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_fit, y_fit, test_size=100, random_state=0, stratify=y_fit
    )
    # up-weight the malignant class (label 0) five times
    weights = np.where(y_train == 0, 5.0, 1.0)
    return X_train, y_train, weights, X_val, y_val, X_test, y_test


def _routed_pipeline(transform_input=("X_val",), **params):
    mlp = MLPClassifier(**{**PARAMS, **params}).set_fit_request(
        sample_weight=True, X_val=True, y_val=True
    )
    scaler = StandardScaler().set_fit_request(sample_weight=False)
    return Pipeline(
        [("scale", scaler), ("mlp", mlp)],
        transform_input=None if transform_input is None else list(transform_input),
    )


def _manual(X_train, y_train, weights, X_val, y_val, **params):
    """What the routed pipeline must do: scale everything with the scaler
    fitted on the training rows, then fit the network with the metadata."""
    scaler = StandardScaler().fit(X_train)
    mlp = MLPClassifier(**{**PARAMS, **params}).fit(
        scaler.transform(X_train),
        y_train,
        sample_weight=weights,
        X_val=None if X_val is None else scaler.transform(X_val),
        y_val=y_val,
    )
    return scaler, mlp


def test_estimator_requests(data):
    with sklearn.config_context(enable_metadata_routing=True):
        mlp = MLPClassifier().set_fit_request(
            sample_weight=True, X_val=True, y_val=True, sample_weight_val=True
        )
        requests = mlp.get_metadata_routing().fit.requests
    assert requests == {
        "sample_weight": True,
        "X_val": True,
        "y_val": True,
        "sample_weight_val": True,
    }


def test_pipeline_routes_validation_set(data):
    X_train, y_train, _, X_val, y_val, _, _ = data
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = _routed_pipeline().fit(X_train, y_train, X_val=X_val, y_val=y_val)
    mlp = pipe[-1]
    assert len(mlp.validation_loss_curve_) == mlp.n_iter_ == len(mlp.loss_curve_)
    # the monitored loss is the log loss of the fitted pipeline on X_val
    # (without early stopping the last epoch's weights are kept)
    assert_allclose(
        mlp.validation_loss_curve_[-1],
        log_loss(y_val, pipe.predict_proba(X_val)),
        rtol=1e-9,
    )
    assert_allclose(mlp.validation_scores_, -np.asarray(mlp.validation_loss_curve_))
    # and the whole curve equals a manual fit on the scaled validation set
    _, manual = _manual(X_train, y_train, None, X_val, y_val)
    assert_array_equal(mlp.validation_loss_curve_, manual.validation_loss_curve_)
    assert_array_equal(mlp.coefs_[0], manual.coefs_[0])


def test_pipeline_without_transform_input_monitors_raw_x_val(data):
    """transform_input=["X_val"] is what makes the scaler transform X_val."""
    X_train, y_train, _, X_val, y_val, _, _ = data
    with sklearn.config_context(enable_metadata_routing=True):
        with pytest.warns(UserWarning, match="transform_input=\\['X_val'\\]"):
            raw = _routed_pipeline(transform_input=None).fit(
                X_train, y_train, X_val=X_val, y_val=y_val
            )
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=".*does not look preprocessed")
            scaled = _routed_pipeline().fit(X_train, y_train, X_val=X_val, y_val=y_val)
    # same training (the validation set is only monitored), other curves
    assert_array_equal(raw[-1].coefs_[0], scaled[-1].coefs_[0])
    assert not np.allclose(
        raw[-1].validation_loss_curve_, scaled[-1].validation_loss_curve_
    )
    # the raw curve is the loss of the network on unscaled X_val (where the
    # logits are huge: computed from log-probabilities, since log_loss clips)
    log_proba = raw[-1].predict_log_proba(X_val)
    assert_allclose(
        raw[-1].validation_loss_curve_[-1],
        -log_proba[np.arange(len(y_val)), y_val].mean(),
        rtol=1e-9,
    )
    assert (
        raw[-1].validation_loss_curve_[-1] > 10 * scaled[-1].validation_loss_curve_[-1]
    )


def test_pipeline_routes_sample_weight(data):
    X_train, y_train, weights, _, _, X_test, _ = data
    with sklearn.config_context(enable_metadata_routing=True):
        weighted = _routed_pipeline().fit(X_train, y_train, sample_weight=weights)
        unweighted = _routed_pipeline().fit(X_train, y_train)
    scaler, manual = _manual(X_train, y_train, weights, None, None)
    # exactly the weighted fit...
    assert_array_equal(
        weighted.predict_proba(X_test), manual.predict_proba(scaler.transform(X_test))
    )
    # ...which differs from the unweighted one in the expected direction:
    # the up-weighted class 0 gets more probability
    assert not np.allclose(weighted[-1].coefs_[0], unweighted[-1].coefs_[0])
    assert (
        weighted.predict_proba(X_test)[:, 0].mean()
        > unweighted.predict_proba(X_test)[:, 0].mean()
    )


def test_unrequested_metadata_is_refused(data):
    X_train, y_train, weights, _, _, _, _ = data
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                ("scale", StandardScaler().set_fit_request(sample_weight=False)),
                ("mlp", MLPClassifier(**PARAMS)),
            ]
        )
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            pipe.fit(X_train, y_train, sample_weight=weights)


@pytest.mark.slow
def test_search_routes_sample_weight_and_validation_set(data):
    X_train, y_train, weights, X_val, y_val, X_test, y_test = data
    grid = {"mlp__alpha": [1e-4, 1e-1]}
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = get_scorer("neg_log_loss").set_score_request(sample_weight=True)
        search = GridSearchCV(
            _routed_pipeline(), grid, cv=3, scoring=scorer, error_score="raise"
        )
        search.fit(X_train, y_train, sample_weight=weights, X_val=X_val, y_val=y_val)
        unweighted = clone(search).fit(X_train, y_train, X_val=X_val, y_val=y_val)

    # each fold fitted on its rows' weights and the whole validation set, and
    # was scored with its test rows' weights
    params = search.cv_results_["params"][0]
    for i, (train, test) in enumerate(StratifiedKFold(3).split(X_train, y_train)):
        scaler, manual = _manual(
            X_train[train],
            y_train[train],
            weights[train],
            X_val,
            y_val,
            alpha=params["mlp__alpha"],
        )
        proba = manual.predict_proba(scaler.transform(X_train[test]))
        expected = -log_loss(y_train[test], proba, sample_weight=weights[test])
        assert_allclose(
            search.cv_results_[f"split{i}_test_score"][0], expected, rtol=1e-10
        )
    assert not np.allclose(
        search.cv_results_["mean_test_score"], unweighted.cv_results_["mean_test_score"]
    )

    # the refit saw the full weights and the validation set
    best = search.best_estimator_
    scaler, manual = _manual(
        X_train, y_train, weights, X_val, y_val, alpha=search.best_params_["mlp__alpha"]
    )
    assert_array_equal(
        best.predict_proba(X_test), manual.predict_proba(scaler.transform(X_test))
    )
    assert_allclose(
        best[-1].validation_loss_curve_[-1],
        log_loss(y_val, best.predict_proba(X_val)),
        rtol=1e-9,
    )
    assert (best.predict(X_test) == y_test).mean() > 0.85


def test_early_stopping_on_routed_validation_set(data):
    """With early_stopping, the routed X_val decides which epoch is kept."""
    X_train, y_train, _, X_val, y_val, _, _ = data
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = _routed_pipeline(
            early_stopping=True,
            max_iter=200,
            n_iter_no_change=5,
            hidden_layer_sizes=(64,),
            learning_rate_init=0.03,
        )
        pipe.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    mlp = pipe[-1]
    curve = np.asarray(mlp.validation_loss_curve_)
    assert mlp.best_iteration_ == int(np.argmin(curve)) + 1
    assert mlp.n_iter_ < 200  # stopped by patience
    # the kept weights are those of the best epoch on X_val
    assert_allclose(log_loss(y_val, pipe.predict_proba(X_val)), curve.min(), rtol=1e-9)


def test_legacy_fit_params_without_routing(data):
    """Without routing, the step__param syntax still works."""
    X_train, y_train, weights, X_val, y_val, X_test, _ = data
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(**PARAMS))])
    pipe.fit(X_train, y_train, mlp__sample_weight=weights)
    scaler, manual = _manual(X_train, y_train, weights, None, None)
    assert_array_equal(
        pipe.predict_proba(X_test), manual.predict_proba(scaler.transform(X_test))
    )
