"""Bad input gets a clear error that names the problem (issue 4).

One list of bad inputs (data, sample weights, validation sets, prediction
time) and one table of invalid parameter values. Each case asserts the
exception type and a fragment of its message. Parameter errors follow
scikit-learn's style: ``InvalidParameterError`` with "The 'name' parameter of
Estimator must be ...", raised by ``fit`` (never by ``__init__``).
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skreg import MLPClassifier, MLPRegressor

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y_CLS = np.arange(40) % 2
Y_REG = RNG.normal(size=40)
FAST = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0)

# max_iter=2 is for speed: not converging is expected here
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _with(A, index, value):
    A = np.array(A, dtype=np.result_type(A, type(value)))
    A[index] = value
    return A


def clf(**params):
    return MLPClassifier(**{**FAST, **params})


def reg(**params):
    return MLPRegressor(**{**FAST, **params})


def _fitted_clf():
    return clf().fit(X, Y_CLS)


def _frame_with_text():
    pd = pytest.importorskip("pandas")
    return pd.DataFrame(
        {
            "width": X[:, 0],
            "color": np.where(Y_CLS == 1, "blue", "red"),
            "height": X[:, 1],
            "size": pd.Categorical(np.where(Y_CLS == 1, "S", "L")),
            # numbers stored as categories convert: not named
            "grade": pd.Categorical(Y_CLS + 1),
        }
    )


def _partial_fit_unseen():
    model = clf().partial_fit(X, Y_CLS, classes=[0, 1])
    model.partial_fit(X, Y_CLS + 5)


# (call, exception type, message fragment); each call must raise
BAD_INPUTS = [
    # X and y
    pytest.param(
        lambda: clf().fit(_with(X, (0, 0), np.nan), Y_CLS),
        ValueError,
        "Input X contains NaN",
        id="nan-in-X",
    ),
    pytest.param(
        lambda: reg().fit(_with(X, (3, 1), np.inf), Y_REG),
        ValueError,
        "Input X contains infinity",
        id="inf-in-X",
    ),
    pytest.param(
        lambda: clf().fit(sp.csr_matrix(_with(X, (0, 0), np.nan)), Y_CLS),
        ValueError,
        "Input X contains NaN",
        id="nan-in-sparse-X",
    ),
    pytest.param(
        lambda: reg().fit(X, _with(Y_REG, 0, np.nan)),
        ValueError,
        "Input y contains NaN",
        id="nan-in-y-regressor",
    ),
    pytest.param(
        lambda: reg().fit(X, _with(Y_REG, 0, -np.inf)),
        ValueError,
        "Input y contains infinity",
        id="inf-in-y-regressor",
    ),
    pytest.param(
        lambda: clf().fit(X, _with(Y_CLS, 0, np.nan)),
        ValueError,
        "Input y contains NaN",
        id="nan-in-y-classifier",
    ),
    pytest.param(
        lambda: clf().fit(np.empty((0, 3)), np.empty(0)),
        ValueError,
        "0 sample(s)",
        id="empty-X",
    ),
    pytest.param(
        lambda: reg().fit(np.empty((40, 0)), Y_REG),
        ValueError,
        "0 feature(s)",
        id="X-without-features",
    ),
    pytest.param(
        lambda: clf().fit(X[:, 0], Y_CLS), ValueError, "Expected 2D array", id="1d-X"
    ),
    pytest.param(
        lambda: clf().fit(X[:, :, None], Y_CLS), ValueError, "dim 3", id="3d-X"
    ),
    pytest.param(
        lambda: clf().fit(X, Y_CLS[:-1]),
        ValueError,
        "inconsistent numbers of samples",
        id="mismatched-lengths",
    ),
    pytest.param(
        lambda: reg().fit(X[:-3], Y_REG),
        ValueError,
        "inconsistent numbers of samples",
        id="mismatched-lengths-regressor",
    ),
    pytest.param(
        lambda: clf().fit(np.array([["a", "b", "c"]] * 40), Y_CLS),
        ValueError,
        "Column indices 0, 1, 2 of X hold text or categories, but the network "
        "needs numbers. Encode them first, for example one-hot with "
        "make_column_transformer((OneHotEncoder(handle_unknown='ignore'), "
        "[0, 1, 2]), remainder=StandardScaler())",
        id="non-numeric-X",
    ),
    pytest.param(
        lambda: clf().fit(_frame_with_text(), Y_CLS),
        ValueError,
        "Columns 'color', 'size' of X hold text or categories, but the network "
        "needs numbers. Encode them first, for example one-hot with "
        "make_column_transformer((OneHotEncoder(handle_unknown='ignore'), "
        "['color', 'size']), remainder=StandardScaler()) in a pipeline before "
        "the network.",
        id="dataframe-text-columns",
    ),
    pytest.param(
        lambda: reg().fit(X, Y_REG, X_val=_frame_with_text(), y_val=Y_REG),
        ValueError,
        "Columns 'color', 'size' of X_val hold text or categories",
        id="dataframe-text-columns-X_val",
    ),
    pytest.param(
        lambda: reg().fit(X, Y_REG).predict(_frame_with_text()),
        ValueError,
        "Columns 'color', 'size' of X hold text or categories",
        id="dataframe-text-columns-predict",
    ),
    pytest.param(
        lambda: clf().fit(X, Y_CLS).predict_proba(_frame_with_text()),
        ValueError,
        "Columns 'color', 'size' of X hold text or categories",
        id="dataframe-text-columns-predict-proba",
    ),
    pytest.param(
        lambda: reg().fit(np.array([[None] * 3] * 40), Y_REG),
        ValueError,
        "Input X contains NaN",
        id="None-in-object-X",
    ),
    pytest.param(
        lambda: clf().fit(X + 1j, Y_CLS),
        ValueError,
        "Complex data not supported",
        id="complex-X",
    ),
    pytest.param(
        lambda: reg().fit(X, Y_REG + 1j),
        ValueError,
        "Complex data not supported",
        id="complex-y",
    ),
    pytest.param(
        lambda: reg().fit(X, np.array(["a"] * 40)),
        ValueError,
        "could not convert string to float",
        id="string-y-regressor",
    ),
    pytest.param(
        lambda: clf().fit(X, Y_REG),
        ValueError,
        "Unknown label type: continuous",
        id="continuous-y-classifier",
    ),
    pytest.param(
        lambda: clf().fit(X, np.zeros(40, dtype=np.int64)),
        ValueError,
        "MLPClassifier needs samples of at least 2 classes in the data, but the "
        "data contains only one class: 0. Check how y was built (a filter or a "
        "split that kept a single class).",
        id="single-class",
    ),
    pytest.param(
        lambda: clf().fit(X, np.array(["malignant"] * 40)),
        ValueError,
        "the data contains only one class: 'malignant'. Check",
        id="single-class-string",
    ),
    # a scorer of the other task, refused before training
    pytest.param(
        lambda: clf(scoring="r2", early_stopping=True).fit(X, Y_CLS),
        InvalidParameterError,
        "The 'scoring' parameter of MLPClassifier must be a classification "
        "scorer or 'loss'. Got 'r2' instead, a metric for the other task. Use "
        "for example 'accuracy', 'balanced_accuracy', 'neg_log_loss', or 'loss' "
        "(the validation loss).",
        id="regression-scorer-on-classifier",
    ),
    pytest.param(
        lambda: reg(scoring="accuracy").fit(X, Y_REG),
        InvalidParameterError,
        "The 'scoring' parameter of MLPRegressor must be a regression scorer or "
        "'loss'. Got 'accuracy' instead, a metric for the other task. Use for "
        "example 'r2', 'neg_mean_squared_error', or 'loss'",
        id="classification-scorer-on-regressor",
    ),
    pytest.param(
        lambda: reg(scoring="roc_auc", early_stopping=True).fit(X, Y_REG),
        InvalidParameterError,
        "Got 'roc_auc' instead, a metric for the other task",
        id="ranking-scorer-on-regressor",
    ),
    pytest.param(
        lambda: reg(scoring="neg_log_loss", early_stopping=True).fit(X, Y_REG),
        InvalidParameterError,
        "Got 'neg_log_loss' instead, a metric for the other task",
        id="log-loss-scorer-on-regressor",
    ),
    pytest.param(
        lambda: clf().partial_fit(X, np.zeros(40), classes=[0]),
        ValueError,
        "classes=[0] must list at least 2 classes",
        id="single-class-partial-fit",
    ),
    pytest.param(
        lambda: clf().partial_fit(X, Y_CLS, classes=[0]),
        ValueError,
        "classes=[0] must list at least 2 classes",
        id="partial-fit-classes-missing-a-label",
    ),
    pytest.param(
        lambda: clf().partial_fit(X, Y_CLS, classes=[]),
        ValueError,
        "classes=[] must list at least 2 classes",
        id="partial-fit-no-classes",
    ),
    pytest.param(
        lambda: clf(hidden_layer_sizes=[5, [3]]).fit(X, Y_CLS),
        ValueError,
        "'hidden_layer_sizes' parameter of MLPClassifier must be a positive int",
        id="ragged-hidden-layer-sizes",
    ),
    pytest.param(
        lambda: reg(loss="poisson").fit(X, Y_REG),
        ValueError,
        "needs non-negative targets",
        id="poisson-negative-y",
    ),
    # sample_weight
    pytest.param(
        lambda: clf().fit(X, Y_CLS, sample_weight=-np.ones(40)),
        ValueError,
        "Negative values in data passed to `sample_weight`",
        id="negative-sample-weight",
    ),
    pytest.param(
        lambda: reg().fit(X, Y_REG, sample_weight=_with(np.ones(40), 5, -1.0)),
        ValueError,
        "Negative values",
        id="one-negative-sample-weight",
    ),
    pytest.param(
        lambda: clf().fit(X, Y_CLS, sample_weight=np.zeros(40)),
        ValueError,
        "at least one non-zero",
        id="all-zero-sample-weight",
    ),
    pytest.param(
        lambda: reg().fit(X, Y_REG, sample_weight=np.ones(39)),
        ValueError,
        "sample_weight.shape == (39,), expected (40,)",
        id="sample-weight-length",
    ),
    pytest.param(
        lambda: clf().fit(X, Y_CLS, sample_weight=_with(np.ones(40), 0, np.nan)),
        ValueError,
        "Input sample_weight contains NaN",
        id="nan-sample-weight",
    ),
    pytest.param(
        lambda: clf(class_weight={0: 0.0, 1: 0.0}).fit(X, Y_CLS),
        ValueError,
        "sample_weight (times class_weight) sums to zero",
        id="all-zero-class-weight",
    ),
    pytest.param(
        lambda: clf(class_weight={0: 0.0}).fit(
            X, Y_CLS, sample_weight=(Y_CLS == 0).astype(float)
        ),
        ValueError,
        "sample_weight (times class_weight) sums to zero",
        id="class-weight-zeroes-every-weighted-sample",
    ),
    pytest.param(
        lambda: clf(class_weight={0: -1.0, 1: 1.0}).fit(X, Y_CLS),
        ValueError,
        "class weights must be >= 0",
        id="negative-class-weight",
    ),
    # partial_fit
    pytest.param(
        lambda: clf().partial_fit(X, Y_CLS + np.arange(40) % 3, classes=[0, 1]),
        ValueError,
        "y has classes that are not in classes_ [0, 1]: [2, 3]; classes= of the "
        "first partial_fit call must list every class",
        id="first-partial-fit-labels-outside-classes",
    ),
    pytest.param(
        lambda: clf(warm_start=True).fit(X, Y_CLS).fit(X, Y_CLS * 2),
        ValueError,
        "y has classes that are not in classes_ [0, 1]: [2]; warm_start=True keeps",
        id="warm-start-new-class",
    ),
    pytest.param(
        _partial_fit_unseen,
        ValueError,
        "y has classes that are not in classes_ [0, 1]: [5, 6]; pass every class",
        id="unseen-labels-partial-fit",
    ),
    pytest.param(
        lambda: clf().partial_fit(X, Y_CLS),
        ValueError,
        "classes must be passed on the first call",
        id="partial-fit-without-classes",
    ),
    pytest.param(
        lambda: (
            clf().partial_fit(X, Y_CLS, classes=[0, 1]).partial_fit(X[:, :2], Y_CLS)
        ),
        ValueError,
        "X has 2 features, but MLPClassifier is expecting 3",
        id="partial-fit-feature-count",
    ),
    # validation set
    pytest.param(
        lambda: clf().fit(X, Y_CLS, X_val=_with(X, (1, 1), np.nan), y_val=Y_CLS),
        ValueError,
        "Invalid validation set (X_val, y_val, sample_weight_val): "
        "Input X contains NaN",
        id="nan-in-X_val",
    ),
    pytest.param(
        lambda: reg(early_stopping=True).fit(
            X, Y_REG, X_val=_with(X, (1, 1), np.inf), y_val=Y_REG
        ),
        ValueError,
        "Invalid validation set",
        id="inf-in-X_val-early-stopping",
    ),
    pytest.param(
        lambda: reg().fit(X, Y_REG, X_val=X, y_val=_with(Y_REG, 2, np.nan)),
        ValueError,
        "Input y contains NaN",
        id="nan-in-y_val",
    ),
    pytest.param(
        lambda: clf().fit(X, Y_CLS, X_val=X[:, :2], y_val=Y_CLS),
        ValueError,
        "X has 2 features, but MLPClassifier is expecting 3",
        id="X_val-feature-count",
    ),
    pytest.param(
        lambda: clf().fit(X, Y_CLS, X_val=X, y_val=Y_CLS[:-1]),
        ValueError,
        "inconsistent numbers of samples",
        id="y_val-length",
    ),
    pytest.param(
        lambda: clf().fit(X, Y_CLS, X_val=X, y_val=Y_CLS + 3),
        ValueError,
        "y_val has classes that are not in classes_ [0, 1]",
        id="unseen-labels-in-y_val",
    ),
    pytest.param(
        lambda: clf().fit(
            X, Y_CLS, X_val=X, y_val=Y_CLS, sample_weight_val=-np.ones(40)
        ),
        ValueError,
        "Negative values",
        id="negative-sample-weight-val",
    ),
    pytest.param(
        lambda: clf().fit(
            X, Y_CLS, X_val=X, y_val=Y_CLS, sample_weight_val=np.zeros(40)
        ),
        ValueError,
        "at least one non-zero",
        id="zero-sample-weight-val",
    ),
    pytest.param(
        lambda: clf().fit(X, Y_CLS, X_val=X),
        ValueError,
        "X_val and y_val must be passed together",
        id="X_val-alone",
    ),
    pytest.param(
        lambda: clf().fit(X, Y_CLS, y_val=Y_CLS),
        ValueError,
        "X_val and y_val must be passed together",
        id="y_val-alone",
    ),
    pytest.param(
        lambda: clf().fit(X, Y_CLS, sample_weight_val=np.ones(40)),
        ValueError,
        "sample_weight_val needs X_val and y_val",
        id="sample-weight-val-alone",
    ),
    # solver compatibility
    pytest.param(
        lambda: clf(solver="lbfgs", alpha=0.1, l1_ratio=0.5).fit(X, Y_CLS),
        ValueError,
        "non-differentiable L1 term",
        id="lbfgs-with-l1",
    ),
    pytest.param(
        lambda: reg(solver="lbfgs", dropout=0.2).fit(X, Y_REG),
        ValueError,
        "needs a deterministic objective",
        id="lbfgs-with-dropout",
    ),
    pytest.param(
        lambda: reg(solver="lbfgs", max_norm=1.0).fit(X, Y_REG),
        ValueError,
        "solver='lbfgs' cannot apply max_norm",
        id="lbfgs-with-max-norm",
    ),
    pytest.param(
        lambda: reg(batch_norm=True, batch_size=1).fit(X, Y_REG),
        ValueError,
        "batch_norm needs mini-batches of at least 2 rows",
        id="batch-norm-with-batch-size-1",
    ),
    pytest.param(
        lambda: reg(batch_norm=True).partial_fit(X[:1], Y_REG[:1]),
        ValueError,
        "batch_size=1 with 1 sample for training",
        id="batch-norm-partial-fit-one-row",
    ),
    pytest.param(
        lambda: reg(batch_norm=True, solver="lbfgs").fit(X[:1], Y_REG[:1]),
        ValueError,
        "batch_norm needs mini-batches of at least 2 rows",
        id="batch-norm-lbfgs-one-row",
    ),
    pytest.param(
        lambda: reg(solver="lbfgs", input_noise=0.1).fit(X, Y_REG),
        ValueError,
        "['input_noise']",
        id="lbfgs-with-input-noise",
    ),
    # warm start with another architecture
    pytest.param(
        lambda: (
            clf(warm_start=True)
            .fit(X, Y_CLS)
            .set_params(hidden_layer_sizes=(4,))
            .fit(X, Y_CLS)
        ),
        ValueError,
        "keep hidden_layer_sizes",
        id="warm-start-new-architecture",
    ),
    # prediction time
    pytest.param(
        lambda: _fitted_clf().predict(X[:, :2]),
        ValueError,
        "X has 2 features, but MLPClassifier is expecting 3",
        id="wrong-feature-count-at-predict",
    ),
    pytest.param(
        lambda: _fitted_clf().predict_proba(_with(X, (0, 0), np.nan)),
        ValueError,
        "Input X contains NaN",
        id="nan-at-predict",
    ),
    pytest.param(
        lambda: reg().fit(X, Y_REG).predict(_with(X, (0, 0), np.inf)),
        ValueError,
        "Input X contains infinity",
        id="inf-at-predict",
    ),
    pytest.param(
        lambda: clf().predict(X),
        NotFittedError,
        "is not fitted yet",
        id="predict-before-fit",
    ),
    pytest.param(
        lambda: clf(dropout=0.2).fit(X, Y_CLS).sample_predictions(X, n_samples=0),
        ValueError,
        "n_samples must be an int >= 1, got 0",
        id="sample-predictions-zero",
    ),
    pytest.param(
        lambda: clf(dropout=0.2).fit(X, Y_CLS).sample_predictions(X, n_samples=2.7),
        ValueError,
        "n_samples must be an int >= 1, got 2.7",
        id="sample-predictions-float",
    ),
]


@pytest.mark.parametrize(("call", "error", "fragment"), BAD_INPUTS)
def test_bad_input_raises_clear_error(call, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        call()


def test_refused_scorer_trains_nothing():
    """Refused before training: the model fitted earlier is left as it was."""
    model = clf().fit(X, Y_CLS)
    coefs = [c.copy() for c in model.coefs_]
    with pytest.raises(InvalidParameterError, match="'scoring' parameter"):
        model.set_params(scoring="neg_mean_absolute_error").fit(X, 1 - Y_CLS)
    for before, after in zip(coefs, model.coefs_, strict=True):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(
    ("Estimator", "scoring", "y"),
    [
        (MLPClassifier, "accuracy", Y_CLS),
        (MLPClassifier, "roc_auc", Y_CLS),
        (MLPClassifier, "neg_log_loss", Y_CLS),
        (MLPRegressor, "r2", Y_REG),
        (MLPRegressor, "neg_mean_absolute_error", Y_REG),
    ],
)
def test_scorers_of_the_task_are_accepted(Estimator, scoring, y):
    model = Estimator(**FAST, scoring=scoring, early_stopping=True).fit(X, y)
    assert len(model.validation_scores_) == model.n_iter_


def test_early_stopping_turned_off_gives_no_contradictory_advice():
    """5 rows cannot be split: the fit warns that early stopping is off, and
    the blown-up warning that follows must not advise turning it on."""
    X5, y5 = X[:5], 1000 * Y_REG[:5]
    model = reg(learning_rate_init=1e4, max_iter=20, early_stopping=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X5, y5)
    messages = [str(w.message) for w in caught]
    assert any("early_stopping is turned off for this fit" in m for m in messages)
    blown_up = [m for m in messages if "training did not settle" in m]
    assert len(blown_up) == 1
    assert "use early_stopping=True" not in blown_up[0]
    assert "pass X_val and y_val to fit" in blown_up[0]
    # without early stopping asked for, the advice is to turn it on
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.set_params(early_stopping=False).fit(X5, y5)
    blown_up = [str(w.message) for w in caught if "did not settle" in str(w.message)]
    assert len(blown_up) == 1 and "use early_stopping=True" in blown_up[0]


def test_lbfgs_says_it_ignores_a_validation_set():
    X_val = _with(X, (0, 0), np.nan)
    with pytest.warns(UserWarning, match="X_val and y_val are ignored"):
        reg(solver="lbfgs").fit(X, Y_REG, X_val=X_val, y_val=Y_REG)


# --------------------------------------------------------------------------
# parameters: (estimator, parameter, invalid value, what "must be" says)

_RATE = "a float in the range [0.0, 1.0)"
_BOOL = "an instance of 'bool'"
BAD_PARAMS = [
    (MLPClassifier, "hidden_layer_sizes", 0, "an array-like or an int in the range [1"),
    (MLPClassifier, "hidden_layer_sizes", (4, 0), "a positive int or a sequence"),
    (MLPRegressor, "hidden_layer_sizes", (-2,), "a positive int or a sequence"),
    (MLPClassifier, "hidden_layer_sizes", (2.5,), "a positive int or a sequence"),
    (MLPClassifier, "hidden_layer_sizes", ("a",), "a positive int or a sequence"),
    (MLPClassifier, "activation", "softplus", "a str among"),
    (MLPRegressor, "activation", None, "a str among"),
    (MLPClassifier, "solver", "newton", "a str among"),
    (MLPClassifier, "alpha", -1e-4, "a float in the range [0.0, inf)"),
    (MLPRegressor, "alpha", "strong", "a float in the range [0.0, inf)"),
    (MLPClassifier, "l1_ratio", -0.1, "a float in the range [0.0, 1.0]"),
    (MLPRegressor, "l1_ratio", 1.5, "a float in the range [0.0, 1.0]"),
    (MLPClassifier, "batch_size", 0, "an int in the range [1, inf)"),
    (MLPClassifier, "batch_size", "big", "a str among {'auto'}"),
    (MLPClassifier, "learning_rate", "cosine_restarts", "a str among"),
    (MLPClassifier, "learning_rate_init", 0.0, "a float in the range (0.0, inf)"),
    (MLPRegressor, "learning_rate_init", -0.1, "a float in the range (0.0, inf)"),
    (MLPClassifier, "power_t", -0.5, "a float in the range [0.0, inf)"),
    (MLPClassifier, "max_iter", 0, "an int in the range [1, inf)"),
    (MLPRegressor, "max_iter", 2.5, "an int in the range [1, inf)"),
    (MLPClassifier, "shuffle", "yes", _BOOL),
    (MLPClassifier, "random_state", "seed", "an int in the range [0, 4294967295]"),
    (MLPClassifier, "tol", -1.0, "a float in the range [0.0, inf)"),
    (MLPClassifier, "verbose", "loud", "an int"),
    (MLPClassifier, "warm_start", "yes", _BOOL),
    (MLPClassifier, "momentum", 1.5, "a float in the range [0.0, 1.0]"),
    (MLPClassifier, "nesterovs_momentum", "yes", _BOOL),
    (MLPClassifier, "early_stopping", "yes", "a str among {'auto'}"),
    (MLPClassifier, "scoring", "accuracyy", "a str among"),
    (MLPRegressor, "scoring", 3, "a str among"),
    (MLPClassifier, "validation_fraction", 1.0, "a float in the range [0.0, 1.0)"),
    (MLPClassifier, "restore_best_weights", "yes", _BOOL),
    (MLPClassifier, "beta_1", 1.0, "a float in the range [0.0, 1.0)"),
    (MLPClassifier, "beta_2", -0.1, "a float in the range [0.0, 1.0)"),
    (MLPClassifier, "epsilon", 0.0, "a float in the range (0.0, inf)"),
    (MLPClassifier, "n_iter_no_change", 0, "an int in the range [1, inf)"),
    (MLPClassifier, "max_fun", 0, "an int in the range [1, inf)"),
    (MLPClassifier, "dropout", 1.0, _RATE),
    (MLPClassifier, "dropout", -0.1, _RATE),
    (MLPRegressor, "dropout", "half", _RATE),
    (MLPClassifier, "input_dropout", 1.0, _RATE),
    (MLPRegressor, "input_dropout", -0.5, _RATE),
    (MLPClassifier, "input_dropout", [0.1], _RATE),
    (MLPClassifier, "dropconnect", 1.0, _RATE),
    (MLPRegressor, "dropconnect", -0.2, _RATE),
    (MLPClassifier, "dropconnect_mask", "example", "a str among"),
    (MLPRegressor, "dropconnect_mask", None, "a str among"),
    (MLPClassifier, "batch_norm", "yes", _BOOL),
    (MLPClassifier, "batch_norm_momentum", 0.0, "a float in the range (0.0, 1.0]"),
    (MLPRegressor, "batch_norm_momentum", 1.5, "a float in the range (0.0, 1.0]"),
    (MLPClassifier, "max_norm", 0.0, "None or a float in the range (0.0, inf)"),
    (MLPRegressor, "max_norm", -1.0, "None or a float in the range (0.0, inf)"),
    (MLPClassifier, "input_noise", -0.1, "a float in the range [0.0, inf)"),
    (MLPClassifier, "dtype", "float16", "a str among"),
    (MLPRegressor, "dtype", np.float64, "a str among"),
    (MLPClassifier, "class_weight", "uniform", "an instance of 'dict', a str among"),
    (MLPRegressor, "loss", "huber", "a str among {"),
    (MLPClassifier, "label_smoothing", 1.0, "a float in the range [0.0, 1.0)"),
    (MLPClassifier, "blas_threads", 0, "an int in the range [1, inf)"),
    (MLPRegressor, "blas_threads", "all", "a str among {'auto'}"),
    (MLPClassifier, "numeric_embedding", "periodic", "None or a str among {'pbld'}"),
    (MLPRegressor, "n_frequencies", 0, "an int in the range [1, inf)"),
    (MLPClassifier, "frequency_init_scale", 0.0, "a float in the range (0.0, inf)"),
    (MLPClassifier, "warmup_fraction", 1.0, "a float in the range [0.0, 1.0)"),
    (MLPRegressor, "warmup_fraction", -0.1, "a float in the range [0.0, 1.0)"),
    (MLPClassifier, "weight_decay", -0.01, "a float in the range [0.0, inf)"),
    (MLPRegressor, "weight_decay", "strong", "a float in the range [0.0, inf)"),
    (MLPClassifier, "max_grad_norm", 0.0, "None or a float in the range (0.0, inf)"),
    (MLPRegressor, "max_grad_norm", -1.0, "None or a float in the range (0.0, inf)"),
]

# per-layer sequences, with hidden_layer_sizes=(4, 3): two hidden layers, three
# weight layers (dropconnect has one rate per weight layer, output included)
_PER_LAYER = "or a sequence of such values, one per"
BAD_PER_LAYER = [
    ("dropout", [0.1, 1.0], f"{_RATE} {_PER_LAYER} hidden layer (2 with"),
    ("dropout", [0.1, -0.1], f"{_RATE} {_PER_LAYER} hidden layer"),
    ("dropout", [0.1, 0.2, 0.3], "Got [0.1, 0.2, 0.3] (3 values) instead"),
    ("dropout", [0.1], "Got [0.1] (1 values) instead"),
    ("dropout", [0.1, "a"], f"{_RATE} {_PER_LAYER} hidden layer"),
    ("dropout", [[0.1], [0.2, 0.3]], f"{_RATE} {_PER_LAYER} hidden layer"),
    ("dropconnect", [0.1, 0.2], "one per weight layer, output layer included (3 with"),
    ("dropconnect", [0.1, 0.2, 0.3, 0.4], "(4 values) instead"),
    ("dropconnect", [0.1, 0.2, 1.0], f"{_RATE} {_PER_LAYER} weight layer"),
    ("batch_norm", [True], f"a bool {_PER_LAYER} hidden layer (2 with"),
    ("batch_norm", [True, False, True], "(3 values) instead"),
    ("batch_norm", [True, "no"], f"a bool {_PER_LAYER} hidden layer"),
    ("batch_norm", [1, 0], f"a bool {_PER_LAYER} hidden layer"),
]


def _data_for(Estimator):
    return (X, Y_CLS) if Estimator is MLPClassifier else (X, Y_REG)


@pytest.mark.parametrize(
    ("Estimator", "name", "value", "must_be"),
    BAD_PARAMS,
    ids=[f"{E.__name__}-{name}={value!r}" for E, name, value, _ in BAD_PARAMS],
)
def test_invalid_parameter_raises_invalid_parameter_error(
    Estimator, name, value, must_be
):
    model = Estimator(**FAST).set_params(**{name: value})  # __init__ never validates
    expected = f"The '{name}' parameter of {Estimator.__name__} must be "
    with pytest.raises(InvalidParameterError, match=re.escape(expected)) as info:
        model.fit(*_data_for(Estimator))
    assert must_be in str(info.value)
    assert repr(value) in str(info.value) or str(value) in str(info.value)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    BAD_PER_LAYER,
    ids=[f"{name}={value!r}" for name, value, _ in BAD_PER_LAYER],
)
def test_invalid_per_layer_sequence(Estimator, name, value, fragment):
    model = Estimator(**{**FAST, "hidden_layer_sizes": (4, 3), name: value})
    expected = f"The '{name}' parameter of {Estimator.__name__} must be "
    with pytest.raises(InvalidParameterError, match=re.escape(expected)) as info:
        model.fit(*_data_for(Estimator))
    assert fragment in str(info.value)


def test_partial_fit_validates_parameters_too():
    with pytest.raises(
        InvalidParameterError, match="The 'alpha' parameter of MLPRegressor"
    ):
        reg(alpha=-1.0).partial_fit(X, Y_REG)
    with pytest.raises(
        InvalidParameterError, match="The 'dropout' parameter of MLPClass"
    ):
        clf(dropout=[0.1, 0.2]).partial_fit(X, Y_CLS, classes=[0, 1])


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_every_parameter_has_an_invalid_value_in_the_table(Estimator):
    """New parameters must come with a bad-value case above."""
    covered = {name for _, name, _, _ in BAD_PARAMS}
    covered |= {name for name, _, _ in BAD_PER_LAYER}
    missing = set(Estimator._parameter_constraints) - covered
    assert not missing, f"no invalid-value case for {sorted(missing)}"


def test_valid_per_layer_sequences_are_accepted():
    """The counterpart of the table: right lengths and values fit."""
    model = clf(
        hidden_layer_sizes=(4, 3),
        dropout=[0.0, 0.5],
        dropconnect=(0.1, 0.0, 0.2),
        batch_norm=np.array([True, False]),
    ).fit(X, Y_CLS)
    assert model.batch_norm_params_[0] is not None
    assert model.batch_norm_params_[1] is None
