"""scikit-learn's callback API (scikit-learn >= 1.9): ``set_callbacks``, a
``ProgressBar`` whose steps are epochs (nested under a search's bars), a
``ScoringMonitor`` that scores every epoch, and callbacks that stop training.
With a scikit-learn that has no ``sklearn.callback``, the estimators have no
``set_callbacks`` and everything else works unchanged.
"""

import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, MLPRegressor

callback = pytest.importorskip("sklearn.callback")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
FAST = dict(hidden_layer_sizes=(8,), max_iter=6, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


class StopAfter:
    """A callback that asks to stop at the end of epoch ``n``, and counts
    its hooks."""

    def __init__(self, n):
        self.n = n
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append("setup")

    def teardown(self, estimator, context):
        self.calls.append("teardown")

    def on_fit_task_begin(self, estimator, context):
        self.calls.append(f"begin {context.task_name}")

    def on_fit_task_end(self, estimator, context):
        self.calls.append(f"end {context.task_name}")
        return context.task_name == "epoch" and context.task_id + 1 == self.n


def _epoch_rows(monitor):
    return [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]


def test_set_callbacks_is_scikit_learns():
    clf = MLPClassifier(**FAST)
    assert clf.set_callbacks(StopAfter(100)) is clf
    with pytest.raises(TypeError, match="FitCallback protocol"):
        clf.set_callbacks(StopAfter)  # a class, not an instance


def test_scoring_monitor_scores_every_epoch(data):
    X, y = data
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = MLPClassifier(**FAST).set_callbacks(monitor).fit(X, y)
    rows = _epoch_rows(monitor)
    assert (
        [row["task_id"] for row in rows] == list(range(clf.n_iter_)) == list(range(6))
    )
    scores = [row["accuracy"] for row in rows]
    assert len(set(scores)) > 1  # the weights change from epoch to epoch
    # the last epoch's weights are the model's (no early stopping)
    assert scores[-1] == clf.score(X, y)
    # epoch 1 of this fit is exactly a fit of one epoch (same seed and path)
    one_epoch = MLPClassifier(**{**FAST, "max_iter": 1}).fit(X, y)
    assert scores[0] == one_epoch.score(X, y)


def test_a_callback_stops_training(data, capsys):
    X, y = data
    stop = StopAfter(3)
    clf = MLPClassifier(**{**FAST, "max_iter": 50, "verbose": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "max_iter reached" warning
        clf.set_callbacks(stop).fit(X, y)
    assert clf.n_iter_ == len(clf.loss_curve_) == 3
    assert stop.calls == [
        "setup",
        "begin fit",
        *["begin epoch", "end epoch"] * 3,
        "end fit",
        "teardown",
    ]
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == (
        "A callback asked to stop training. Stopped after epoch 3; keeping the "
        "weights of epoch 3, the last."
    )


def test_partial_fit_and_lbfgs_tasks(data):
    X, y = data
    stop = StopAfter(100)
    reg = MLPRegressor(**FAST).set_callbacks(stop)
    reg.partial_fit(X, y.astype(float))
    assert stop.calls == [
        "setup",
        "begin fit",
        "begin epoch",
        "end epoch",
        "end fit",
        "teardown",
    ]
    # lbfgs: scipy runs the iterations, the fit is one task
    stop.calls.clear()
    MLPClassifier(**{**FAST, "solver": "lbfgs"}).set_callbacks(stop).fit(X, y)
    assert stop.calls == ["setup", "begin fit", "end fit", "teardown"]


def test_a_fit_that_raises_still_tears_callbacks_down(data):
    X, y = data
    stop = StopAfter(100)
    clf = MLPClassifier(**FAST).set_callbacks(stop)
    with pytest.raises(ValueError, match="X_val"):
        clf.fit(X, y, X_val=X[:, :3], y_val=y)  # too few features: refused
    assert stop.calls[0] == "setup" and stop.calls[-1] == "teardown"
    assert not hasattr(clf, "_callback_fit_ctx")
    clf.fit(X, y)  # and the next fit works
    assert clf.n_iter_ == 6


def test_progress_bar_renders_epochs(data, capsys):
    pytest.importorskip("rich")
    X, y = data
    MLPClassifier(**FAST).set_callbacks(callback.ProgressBar()).fit(X, y)
    out = capsys.readouterr().out
    assert "MLPClassifier - fit" in out and "100%" in out


@pytest.mark.slow
def test_progress_bar_nests_epochs_under_a_grid_search(data, capsys):
    pytest.importorskip("rich")
    X, y = data
    search = GridSearchCV(
        make_pipeline(StandardScaler(), MLPClassifier(**FAST)),
        {"mlpclassifier__alpha": [1e-4, 1e-2]},
        cv=2,
    )
    search.set_callbacks(callback.ProgressBar(max_propagation_depth=None))
    search.fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    search_line = next(
        i for i, line in enumerate(lines) if "GridSearchCV - fit" in line
    )
    nested = [line for line in lines if "MLPClassifier - fit" in line]
    # 2 candidates x 2 folds, and the refit, each a bar under the search's
    assert len(nested) == 5
    assert all(lines.index(line) > search_line for line in nested)
    indent = len(lines[search_line]) - len(lines[search_line].lstrip())
    assert all(len(line) - len(line.lstrip()) > indent for line in nested)
    assert search.best_estimator_[-1].n_iter_ == 6


OLD_SKLEARN = textwrap.dedent(
    """
    import builtins, pickle, sys
    import numpy as np

    real_import = builtins.__import__

    def without_callbacks(name, globals=None, locals=None, fromlist=(), level=0):
        # skreg sees a scikit-learn from before 1.9 (no sklearn.callback);
        # scikit-learn itself keeps its own modules
        caller = (globals or {}).get("__name__", "")
        if name == "sklearn.callback" and caller.startswith("skreg"):
            raise ImportError("No module named 'sklearn.callback'")
        return real_import(name, globals, locals, fromlist, level)

    builtins.__import__ = without_callbacks
    from sklearn.base import clone
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import GridSearchCV
    from skreg import MLPClassifier

    assert not hasattr(MLPClassifier(), "set_callbacks")
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=6, random_state=0)
    search = GridSearchCV(clf, {"alpha": [1e-4, 1e-2]}, cv=2).fit(X, y)
    fitted = pickle.loads(pickle.dumps(clone(clf).fit(X, y)))
    np.save(sys.argv[1], fitted.predict_proba(X))
    """
)


@pytest.mark.slow
def test_without_sklearn_callback_everything_else_works(tmp_path):
    script = tmp_path / "old_sklearn.py"
    script.write_text(OLD_SKLEARN)
    out = tmp_path / "proba.npy"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run(
        [sys.executable, "-W", "ignore", str(script), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    raw_X, y = load_breast_cancer(return_X_y=True)
    X = (raw_X - raw_X.mean(0)) / raw_X.std(0)
    expected = MLPClassifier(hidden_layer_sizes=(8,), max_iter=6, random_state=0)
    # the same fit, same code path, with scikit-learn's callback API present
    np.testing.assert_array_equal(np.load(out), expected.fit(X, y).predict_proba(X))
