"""SmoothClippedRobustScaler: scikit-learn's checks, RealMLP's rule written out
independently, zero-range columns, NaN, pipelines, feature names, set_output."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import RobustScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import MLPRegressor, SmoothClippedRobustScaler


@parametrize_with_checks(
    [
        SmoothClippedRobustScaler(),
        SmoothClippedRobustScaler(max_abs_value=None),
        SmoothClippedRobustScaler(quantile_range=(10.0, 90.0), max_abs_value=1.5),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _realmlp_reference(X_train, X, m=3.0):
    """RealMLP's rule, column by column, from its description: median centre,
    IQR (else half the range, else 0 for a constant column), smooth clip."""
    out = np.empty_like(X, dtype=np.float64)
    for j in range(X.shape[1]):
        column = X_train[:, j]
        iqr = np.quantile(column, 0.75) - np.quantile(column, 0.25)
        if iqr == 0:
            iqr = 0.5 * (column.max() - column.min())
        factor = 0.0 if iqr == 0 else 1.0 / iqr
        z = (X[:, j] - np.median(column)) * factor
        out[:, j] = z / np.sqrt(1.0 + (z / m) ** 2)
    return out


def _mixed_columns(rng, n=200):
    """Heavy-tailed, zero-IQR (mostly one value), constant and integer columns."""
    heavy = rng.standard_cauchy(n)
    spiky = np.where(rng.random(n) < 0.9, 5.0, rng.normal(size=n))
    constant = np.full(n, 7.0)
    counts = rng.poisson(3.0, n).astype(float)
    return np.column_stack([heavy, spiky, constant, counts])


def test_matches_realmlp_rule():
    rng = np.random.default_rng(0)
    X_train, X_test = _mixed_columns(rng), _mixed_columns(rng, 50)
    X_test[:, 2] = rng.normal(size=50)  # unseen values of the constant column
    scaler = SmoothClippedRobustScaler().fit(X_train)
    assert scaler.scale_[1] > 0  # the spiky column fell back to half its range
    assert scaler.scale_[2] == 0
    assert_allclose(
        scaler.transform(X_test),
        _realmlp_reference(X_train, X_test),
        rtol=1e-12,
        atol=1e-15,
    )
    assert_array_equal(scaler.transform(X_test)[:, 2], 0.0)


def test_without_clipping_equals_robust_scaler_on_ordinary_columns():
    X = np.random.default_rng(1).lognormal(size=(100, 3))
    ours = SmoothClippedRobustScaler(max_abs_value=None).fit_transform(X)
    assert_allclose(ours, RobustScaler().fit_transform(X), rtol=1e-12)


@pytest.mark.parametrize("m", [1.0, 3.0, 10.0])
def test_output_bounded_and_order_kept(m):
    X = np.random.default_rng(2).standard_cauchy((500, 2)) * 1e3
    Y = SmoothClippedRobustScaler(max_abs_value=m).fit_transform(X)
    assert np.all(np.abs(Y) < m)
    for j in range(2):
        order = np.argsort(X[:, j], kind="stable")
        assert np.all(np.diff(Y[order, j]) >= 0)


def test_nan_ignored_in_fit_and_kept_in_transform():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    X_nan = X.copy()
    X_nan[::7, 0] = np.nan
    scaler = SmoothClippedRobustScaler().fit(X_nan)
    kept = X[~np.isnan(X_nan[:, 0]), 0]
    assert scaler.center_[0] == pytest.approx(np.median(kept), rel=1e-12)
    assert scaler.center_[1] == pytest.approx(np.median(X[:, 1]), rel=1e-12)
    Y = scaler.transform(X_nan)
    assert_array_equal(np.isnan(Y), np.isnan(X_nan))


def test_float32_in_float32_out_and_input_untouched():
    X = np.random.default_rng(4).normal(size=(30, 3)).astype(np.float32)
    original = X.copy()
    Y = SmoothClippedRobustScaler().fit_transform(X)
    assert Y.dtype == np.float32
    assert_array_equal(X, original)
    assert_allclose(Y, _realmlp_reference(X.astype(float), X.astype(float)), rtol=1e-5)


def test_copy_false_transforms_in_place():
    X = np.random.default_rng(5).normal(size=(20, 2))
    scaler = SmoothClippedRobustScaler(copy=False).fit(X)
    expected = SmoothClippedRobustScaler().fit(X).transform(X)
    Y = scaler.transform(X)
    assert Y is X or np.shares_memory(Y, X)
    assert_allclose(X, expected)


@pytest.mark.parametrize("bad", [(75.0, 25.0), (-1.0, 50.0), (25.0, 101.0), ("a", 9)])
def test_bad_quantile_range_is_refused(bad):
    with pytest.raises(ValueError, match="quantile_range must be a tuple"):
        SmoothClippedRobustScaler(quantile_range=bad).fit(np.ones((5, 1)))


@pytest.mark.parametrize("bad", [0.0, -1.0, "3"])
def test_bad_max_abs_value_is_refused(bad):
    with pytest.raises(ValueError, match="'max_abs_value' parameter"):
        SmoothClippedRobustScaler(max_abs_value=bad).fit(np.ones((5, 1)))


def test_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"age": [20.0, 30.0, 40.0, 90.0], "income": [1, 2, 3, 50]})
    scaler = SmoothClippedRobustScaler().set_output(transform="pandas")
    out = scaler.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["age", "income"]
    assert_array_equal(scaler.get_feature_names_out(), ["age", "income"])
    assert_allclose(
        out.to_numpy(), _realmlp_reference(frame.to_numpy(float), frame.to_numpy(float))
    )


def test_in_a_pipeline_with_the_network():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(150, 4)) * [1.0, 100.0, 0.01, 1e4]
    y = X[:, 0] + X[:, 1] / 100 + 0.1 * rng.normal(size=150)
    X[::10, 3] = 1e9  # outliers the clipping tames
    pipe = make_pipeline(
        SmoothClippedRobustScaler(),
        MLPRegressor(hidden_layer_sizes=(16,), solver="lbfgs", random_state=0),
    )
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.8


def test_pickle_round_trip():
    X = np.random.default_rng(7).normal(size=(20, 3))
    scaler = SmoothClippedRobustScaler(max_abs_value=2.0).fit(X)
    restored = pickle.loads(pickle.dumps(scaler))
    assert_array_equal(restored.transform(X), scaler.transform(X))
