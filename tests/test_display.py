"""LossCurveDisplay, rendered with matplotlib's Agg backend.

The drawn lines must hold exactly the fitted curves (``loss_curve_``,
``validation_loss_curve_``, ``validation_scores_``) and the kept epoch
(``best_iteration_``) must be marked. Data: scikit-learn's breast cancer and
diabetes sets.
"""

import io
import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import LossCurveDisplay, MLPClassifier, MLPRegressor

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _render(display):
    """Draw the figure to PNG bytes: the display really renders."""
    buffer = io.BytesIO()
    display.figure_.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")


def _early_stopped(X, y, **params):
    params = {
        "hidden_layer_sizes": (64,),
        "early_stopping": True,
        "n_iter_no_change": 8,
        "learning_rate_init": 0.03,
        "max_iter": 200,
        "random_state": 0,
        **params,
    }
    return MLPClassifier(**params).fit(X, y)


def test_from_estimator_with_score(data):
    X, y = data
    clf = _early_stopped(X, y, scoring="accuracy")
    fig, ax = plt.subplots()
    display = LossCurveDisplay.from_estimator(clf, ax=ax)

    assert display.ax_ is ax and display.figure_ is fig
    assert set(display.lines_) == {"loss", "validation_loss", "validation_score"}
    epochs = np.arange(1, len(clf.loss_curve_) + 1)
    loss = display.lines_["loss"]
    assert_array_equal(loss.get_xdata(), epochs)
    assert_array_equal(loss.get_ydata(), clf.loss_curve_)
    assert_array_equal(display.lines_["validation_loss"].get_xdata(), epochs)
    assert_array_equal(
        display.lines_["validation_loss"].get_ydata(), clf.validation_loss_curve_
    )
    # the score is on its own (twin) axis, sharing the epochs
    score = display.lines_["validation_score"]
    assert display.score_ax_ is not None and score.axes is display.score_ax_
    assert loss.axes is ax and display.lines_["validation_loss"].axes is ax
    assert_array_equal(score.get_ydata(), clf.validation_scores_)
    assert display.score_ax_.get_ylabel() == "Accuracy"
    assert ax.get_xlabel() == "Epoch" and ax.get_ylabel() == "Loss"
    # the kept epoch is marked by a vertical line at best_iteration_
    assert clf.best_iteration_ is not None
    assert_array_equal(
        display.best_iteration_line_.get_xdata(),
        [clf.best_iteration_, clf.best_iteration_],
    )
    assert clf.validation_scores_[clf.best_iteration_ - 1] == clf.best_validation_score_
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "Training objective",
        "Validation loss",
        "Validation accuracy",
        f"Kept epoch ({clf.best_iteration_})",
    ]
    assert ax.get_title() == "MLPClassifier"
    _render(display)


def test_from_estimator_loss_scoring_has_no_score_axis(data):
    X, y = data
    clf = _early_stopped(X, y)
    display = LossCurveDisplay.from_estimator(clf, name="dropout 0")
    assert set(display.lines_) == {"loss", "validation_loss"}
    assert display.score_ax_ is None
    assert len(display.figure_.axes) == 1
    assert display.ax_.get_title() == "dropout 0"
    # with scoring='loss' the kept epoch is where the validation loss is lowest
    val = display.lines_["validation_loss"]
    assert val.get_xdata()[np.argmin(val.get_ydata())] == clf.best_iteration_
    _render(display)


def test_without_validation_only_training_curve(data):
    X, y = data
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    assert clf.validation_loss_curve_ is None and clf.best_iteration_ is None
    display = LossCurveDisplay.from_estimator(clf)
    assert set(display.lines_) == {"loss"}
    assert display.best_iteration_line_ is None and display.score_ax_ is None
    assert_array_equal(display.lines_["loss"].get_ydata(), clf.loss_curve_)
    _render(display)


def test_validation_set_without_early_stopping_marks_nothing(data):
    """X_val without early stopping is only monitored: the last epoch is
    kept, so no epoch is marked."""
    X, y = data
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    clf.fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    display = LossCurveDisplay.from_estimator(clf)
    assert_array_equal(
        display.lines_["validation_loss"].get_ydata(), clf.validation_loss_curve_
    )
    assert clf.best_iteration_ is None and display.best_iteration_line_ is None


def test_pipeline_and_search_are_unwrapped(data):
    X, y = data
    pipe = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=(8,), max_iter=30, early_stopping=True, random_state=0
        ),
    )
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=2).fit(X, y)
    for estimator, final in [
        (search.best_estimator_, search.best_estimator_[-1]),
        (search, search.best_estimator_[-1]),
    ]:
        display = LossCurveDisplay.from_estimator(estimator)
        assert_array_equal(display.lines_["loss"].get_ydata(), final.loss_curve_)
        assert_array_equal(
            display.lines_["validation_loss"].get_ydata(), final.validation_loss_curve_
        )


def test_regressor_score_axis_and_lbfgs_label():
    X, y = load_diabetes(return_X_y=True)
    X, y = StandardScaler().fit_transform(X), (y - y.mean()) / y.std()
    reg = MLPRegressor(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        scoring="r2",
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
    ).fit(X, y)
    display = LossCurveDisplay.from_estimator(reg)
    assert display.score_ax_.get_ylabel() == "R2"
    assert_allclose(
        display.lines_["validation_score"].get_ydata(), reg.validation_scores_
    )

    lbfgs = MLPRegressor(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=50, random_state=0
    ).fit(X, y)
    display = LossCurveDisplay.from_estimator(lbfgs)
    assert display.ax_.get_xlabel() == "Iteration"
    assert_array_equal(display.lines_["loss"].get_ydata(), lbfgs.loss_curve_)


def test_warm_start_curves_are_aligned(data):
    """A warm start extends loss_curve_; a validation curve that starts later
    is drawn at the epochs it covers, and best_iteration_ counts in loss_curve_."""
    X, y = data
    clf = MLPClassifier(
        hidden_layer_sizes=(32,),
        max_iter=10,
        warm_start=True,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X, y)
    n_first = len(clf.loss_curve_)
    clf.set_params(early_stopping=True, max_iter=60, n_iter_no_change=5).fit(X, y)
    n_val = len(clf.validation_loss_curve_)
    assert len(clf.loss_curve_) == n_first + n_val
    display = LossCurveDisplay.from_estimator(clf)
    val_x = display.lines_["validation_loss"].get_xdata()
    assert_array_equal(val_x, np.arange(n_first + 1, n_first + n_val + 1))
    assert clf.best_iteration_ > n_first
    best = val_x[np.argmax(clf.validation_scores_)]
    assert clf.best_iteration_ == best
    assert display.best_iteration_line_.get_xdata()[0] == best


def test_constructor_and_plot_with_styles():
    loss = [1.0, 0.6, 0.4, 0.35]
    display = LossCurveDisplay(
        loss_curve=loss,
        validation_loss_curve=[0.9, 0.7, 0.75],
        validation_scores=[0.8, 0.85, 0.84],
        best_iteration=3,
        score_name="Accuracy",
        name="net",
    )
    assert not hasattr(display, "ax_")  # nothing drawn yet
    fig, (left, right) = plt.subplots(1, 2)
    display.plot(
        ax=right, loss_kw={"color": "black"}, best_iteration_kw={"color": "red"}
    )
    assert display.ax_ is right and display.figure_ is fig
    assert display.lines_["loss"].get_color() == "black"
    assert display.best_iteration_line_.get_color() == "red"
    assert_array_equal(display.lines_["validation_loss"].get_xdata(), [2, 3, 4])
    assert_array_equal(
        display.lines_["validation_score"].get_ydata(), [0.8, 0.85, 0.84]
    )
    assert right.get_title() == "net" and not left.lines
    # plotting again on new axes moves the display there
    display.plot()
    assert display.ax_ is not right
    _render(display)


def test_inconsistent_curves_are_refused():
    display = LossCurveDisplay(loss_curve=[1.0, 0.5], validation_loss_curve=[1, 2, 3])
    with pytest.raises(ValueError, match="same fit"):
        display.plot()
    with pytest.raises(ValueError, match="empty"):
        LossCurveDisplay(loss_curve=[]).plot()


def test_not_fitted_error():
    with pytest.raises(NotFittedError, match="not fitted"):
        LossCurveDisplay.from_estimator(MLPClassifier())
    with pytest.raises(NotFittedError, match="not fitted"):
        LossCurveDisplay.from_estimator(
            make_pipeline(StandardScaler(), MLPClassifier())
        )


def test_a_fitted_model_without_curves_is_refused_with_what_to_pass(data):
    X, y = data
    with pytest.raises(TypeError, match="fitted LogisticRegression has no loss_curve_"):
        LossCurveDisplay.from_estimator(LogisticRegression().fit(X, y))


def test_transformed_target_regressor_is_unwrapped():
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(),
        MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0),
    )
    search = GridSearchCV(pipe, {"mlpregressor__alpha": [1e-4]}, cv=2)
    for inner, final in [
        (pipe, lambda m: m.regressor_[-1]),
        (search, lambda m: m.regressor_.best_estimator_[-1]),
    ]:
        model = TransformedTargetRegressor(inner, transformer=StandardScaler())
        display = LossCurveDisplay.from_estimator(model.fit(X, y))
        assert_array_equal(display.lines_["loss"].get_ydata(), final(model).loss_curve_)


def test_name_is_the_displays_name(data):
    X, y = data
    display = LossCurveDisplay.from_estimator(
        _early_stopped(X, y, max_iter=5), name="My net"
    )
    assert display.name == "My net" == display.ax_.get_title()


def test_the_curves_keep_the_meaning_of_their_fit(data):
    X, y = data
    clf = _early_stopped(X, y, scoring="roc_auc", max_iter=10)
    clf.set_params(scoring="loss", solver="lbfgs")
    display = LossCurveDisplay.from_estimator(clf)
    assert display.score_ax_.get_ylabel() == "Roc auc"
    assert display.ax_.get_xlabel() == "Epoch"


def test_scikit_learns_mlp_validation_scores_are_drawn(data):
    X, y = data
    from sklearn.neural_network import MLPClassifier as SkMLP

    clf = SkMLP(hidden_layer_sizes=(8,), early_stopping=True, random_state=0)
    clf.fit(X, y)
    display = LossCurveDisplay.from_estimator(clf)
    assert display.score_ax_.get_ylabel() == "Accuracy"
    assert_array_equal(
        display.lines_["validation_score"].get_ydata(), clf.validation_scores_
    )


def test_missing_matplotlib_error(data, monkeypatch):
    X, y = data
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y)
    # a None entry in sys.modules makes "import matplotlib.pyplot" raise ImportError
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"requires matplotlib.*the `plots` extra"):
        LossCurveDisplay.from_estimator(clf)
    with pytest.raises(ImportError, match="requires matplotlib"):
        LossCurveDisplay(loss_curve=[1.0]).plot()


def test_import_skreg_does_not_import_matplotlib():
    code = "import sys, skreg; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
