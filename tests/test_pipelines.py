"""skreg inside scikit-learn Pipelines and ColumnTransformer front ends.

Datasets: scikit-learn's bundled breast cancer data; a generated census-like
DataFrame shaped after PMLB's ``adult`` (six categorical columns with string
labels, a few common levels and many rare ones, and numeric columns on
different scales, some skewed; about 24 % positives); and ``make_friedman1``
targets on the scale of house prices.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.compose import (
    ColumnTransformer,
    TransformedTargetRegressor,
    make_column_selector,
)
from sklearn.datasets import load_breast_cancer, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skreg import MLPClassifier, MLPRegressor

pd = pytest.importorskip("pandas")

# adult's categorical features and their number of levels
CATEGORICAL = {
    "workclass": 8,
    "marital-status": 7,
    "occupation": 14,
    "relationship": 6,
    "race": 5,
    "native-country": 40,
}

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _census(n=4000, seed=0):
    """A mixed-type DataFrame (categorical columns as pandas categories with
    string labels) and a binary target drawn from a logistic model of it."""
    rng = np.random.default_rng(seed)
    columns, logit = {}, np.zeros(n)
    for name, n_levels in CATEGORICAL.items():
        frequency = 1.0 / np.arange(1, n_levels + 1) ** 1.5  # Zipf-like
        codes = rng.choice(n_levels, size=n, p=frequency / frequency.sum())
        logit += rng.normal(size=n_levels)[codes]
        columns[name] = pd.Categorical([f"{name[:4]}_{code}" for code in codes])
    age = rng.integers(17, 91, n)
    education = rng.integers(1, 17, n)
    gain = np.where(rng.random(n) < 0.08, rng.lognormal(8, 1.2, n).round(), 0.0)
    hours = np.clip(rng.normal(40, 12, n), 1, 99).round()
    columns |= {
        "age": age,
        "education-num": education,
        "capital-gain": gain,
        "hours-per-week": hours,
    }
    logit += 0.04 * (age - 40) + 0.3 * (education - 10) + 1.5 * (gain > 0)
    logit += 0.03 * (hours - 40)
    logit -= np.quantile(logit, 0.76)  # about 24 % positives, as in adult
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * logit))).astype(int)
    return pd.DataFrame(columns), y


@pytest.fixture(scope="module")
def adult():
    """The census-like data, split stratified into 3,000 + 1,000 rows."""
    X, y = _census()
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def _front_end(**kwargs):
    return ColumnTransformer(
        [
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore"),
                make_column_selector(dtype_include="category"),
            ),
            ("num", StandardScaler(), make_column_selector(dtype_include="number")),
        ],
        **kwargs,
    )


def _majority_rate(y):
    return np.unique(y, return_counts=True)[1].max() / len(y)


def test_scaler_pipeline_beats_baseline_and_equals_manual_steps(breast_cancer):
    X_train, X_test, y_train, y_test = breast_cancer
    params = dict(
        hidden_layer_sizes=(16,),
        alpha=1e-3,
        dropout=0.1,
        max_iter=60,
        learning_rate_init=0.01,
        random_state=0,
    )
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(**params))])
    pipe.fit(X_train, y_train)

    assert is_classifier(pipe)
    assert_array_equal(pipe.classes_, [0, 1])
    assert pipe.score(X_test, y_test) > _majority_rate(y_test) + 0.25

    # the pipeline is exactly "scale, then fit the network"
    scaler = StandardScaler().fit(X_train)
    manual = MLPClassifier(**params).fit(scaler.transform(X_train), y_train)
    assert_array_equal(
        pipe.predict_proba(X_test), manual.predict_proba(scaler.transform(X_test))
    )

    # without scaling, the same network is clearly worse: the pipeline matters
    unscaled = MLPClassifier(**params).fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > unscaled.score(X_test, y_test)


def test_column_transformer_on_mixed_dataframe(adult):
    X_train, X_test, y_train, y_test = adult
    assert X_train.select_dtypes("category").shape[1] == len(CATEGORICAL)
    pipe = make_pipeline(
        _front_end(),
        MLPClassifier(
            hidden_layer_sizes=(32,),
            alpha=1e-3,
            dropout=0.2,
            max_iter=30,
            learning_rate_init=3e-3,
            random_state=0,
            dtype="float64",  # sparse and dense products agree to float64 rounding
        ),
    )
    pipe.fit(X_train, y_train)
    # majority class is about 0.76; the labels are noisy draws, but a network
    # on one-hot + scaled features recovers much of the logistic model
    accuracy = pipe.score(X_test, y_test)
    assert accuracy > _majority_rate(y_test) + 0.05
    proba = pipe.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    assert_allclose(proba.sum(axis=1), 1.0)

    # the one-hot block is sparse: skreg takes the sparse matrix directly and
    # gives the same model as on the dense one
    Xt = pipe[0].transform(X_test)
    assert hasattr(Xt, "tocsr")
    dense = make_pipeline(_front_end(sparse_threshold=0.0), clone(pipe[-1]))
    dense.fit(X_train, y_train)
    assert isinstance(dense[0].transform(X_test), np.ndarray)
    assert_allclose(dense.predict_proba(X_test), proba, rtol=1e-7, atol=1e-10)


def test_column_transformer_pandas_output_feature_names(adult):
    X_train, X_test, y_train, _ = adult
    front = ColumnTransformer(
        [
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                make_column_selector(dtype_include="category"),
            ),
            ("num", StandardScaler(), make_column_selector(dtype_include="number")),
        ]
    ).set_output(transform="pandas")
    pipe = make_pipeline(
        front, MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    )
    pipe.fit(X_train, y_train)
    mlp = pipe[-1]
    assert_array_equal(mlp.feature_names_in_, front.get_feature_names_out())
    assert mlp.n_features_in_ == len(front.get_feature_names_out())
    assert_array_equal(pipe.predict(X_test), mlp.predict(front.transform(X_test)))
    # a frame with reordered columns is refused by the network, as in scikit-learn
    shuffled = front.transform(X_test).iloc[:, ::-1]
    with pytest.raises(ValueError, match="feature names"):
        mlp.predict(shuffled)


def test_regressor_pipeline_with_target_scaling():
    X, y = make_friedman1(n_samples=3000, n_features=8, noise=1.0, random_state=0)
    rng = np.random.default_rng(0)
    X = X * rng.uniform(1, 100, 8) + rng.uniform(-500, 500, 8)  # unscaled inputs
    y = 1e4 * y  # on the scale of house prices, about 1e5
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    network = MLPRegressor(
        hidden_layer_sizes=(32,), max_iter=50, learning_rate_init=3e-3, random_state=0
    )
    model = TransformedTargetRegressor(
        make_pipeline(StandardScaler(), network), transformer=StandardScaler()
    )
    model.fit(X_train, y_train)
    assert is_regressor(model)
    # a constant prediction scores R^2 ~ 0; the network explains most variance
    assert model.score(X_test, y_test) > 0.6
    assert model.predict(X_test).shape == y_test.shape
    # predictions are on the prices' scale, not the standardized one
    assert abs(np.median(model.predict(X_test)) - np.median(y_test)) < 0.25 * np.std(
        y_test
    )


def test_pipeline_set_params_reaches_network(breast_cancer):
    X_train, X_test, y_train, y_test = breast_cancer
    pipe = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(8, 8),
            max_iter=40,
            random_state=0,
            learning_rate_init=0.01,
        ),
    )
    pipe.set_params(mlpclassifier__dropout=(0.5, 0.2), mlpclassifier__batch_norm=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X_train, y_train)
    mlp = pipe[-1]
    assert mlp.dropout == (0.5, 0.2)
    # batch norm on both hidden layers: their statistics were learned
    assert all(p is not None for p in mlp.batch_norm_params_)
    assert all(np.any(p["running_var"] != 1.0) for p in mlp.batch_norm_params_)
    assert pipe.score(X_test, y_test) > _majority_rate(y_test) + 0.2
