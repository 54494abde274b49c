"""verbose: one line per epoch, like scikit-learn's MLP, on the breast cancer data.

``verbose=1`` prints ``Iteration k, loss = ...`` per epoch, with the validation
loss (and the validation score, unless it is the negative loss) when a
validation set is monitored, and the seconds since ``fit`` started; the
printed numbers are the recorded curves. The last line says why training
stopped and which epoch's weights the model keeps. ``verbose=2`` adds
progress lines within long epochs.
"""

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_breast_cancer
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

EPOCH_LINE = re.compile(
    r"^Iteration (?P<epoch>\d+), loss = (?P<loss>[-\d.e+]+)"
    r"(?:, validation loss = (?P<val_loss>[-\d.e+]+))?"
    r"(?:, validation (?P<score_name>\w+) = (?P<val_score>[-\d.e+]+))?"
    r", (?P<seconds>[\d.]+) s elapsed$"
)


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _epoch_lines(out):
    return [m for m in map(EPOCH_LINE.match, out.splitlines()) if m]


def test_verbose_prints_one_line_per_epoch(data, capsys):
    X, y = data
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=12, verbose=1, random_state=0)
    clf.fit(X, y)
    out = capsys.readouterr().out.splitlines()
    lines = _epoch_lines("\n".join(out))
    assert len(lines) == clf.n_iter_ == 12
    assert [int(m["epoch"]) for m in lines] == list(range(1, 13))
    assert_allclose([float(m["loss"]) for m in lines], clf.loss_curve_, atol=5e-9)
    assert all(m["val_loss"] is None and m["val_score"] is None for m in lines)
    # seconds since fit started: they never go back
    assert np.all(np.diff([float(m["seconds"]) for m in lines]) >= 0)
    # then one last line: why training stopped, which weights are kept
    assert len(out) == 13
    assert out[-1] == (
        "Reached max_iter=12 epochs. Stopped after epoch 12; keeping the "
        "weights of epoch 12, the last."
    )


def _early_stopping_fit(X, y, **params):
    clf = MLPClassifier(
        hidden_layer_sizes=(64,),
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=200,
        learning_rate_init=0.03,
        verbose=True,
        random_state=0,
        **params,
    )
    return clf.fit(X, y)


def test_verbose_with_early_stopping_shows_validation_loss_once(data, capsys):
    """With scoring="loss" the score is the negative validation loss: the
    line shows the loss alone, not the same number twice."""
    X, y = data
    clf = _early_stopping_fit(X, y)
    out = capsys.readouterr().out
    lines = _epoch_lines(out)
    assert len(lines) == clf.n_iter_ < 200
    assert_allclose(
        [float(m["val_loss"]) for m in lines], clf.validation_loss_curve_, atol=5e-9
    )
    assert all(m["val_score"] is None for m in lines)
    assert "validation score =" not in out
    assert out.count("validation loss =") == clf.n_iter_ + 1  # + the last line
    # the last line says why training stopped and which epoch was kept
    last = out.strip().splitlines()[-1]
    best_loss = clf.validation_loss_curve_[clf.best_iteration_ - 1]
    assert clf.best_iteration_ < clf.n_iter_
    assert last == (
        "Validation score did not improve more than tol=0.000100 for 3 "
        f"consecutive epochs. Stopped after epoch {clf.n_iter_}; keeping the "
        f"weights of epoch {clf.best_iteration_}, the best on the validation "
        f"set (validation loss = {best_loss:.8f})."
    )


def test_verbose_with_a_scorer_shows_its_name_and_value(data, capsys):
    X, y = data
    clf = _early_stopping_fit(X, y, scoring="accuracy")
    out = capsys.readouterr().out
    lines = _epoch_lines(out)
    assert len(lines) == clf.n_iter_
    assert {m["score_name"] for m in lines} == {"accuracy"}
    assert_allclose(
        [float(m["val_score"]) for m in lines], clf.validation_scores_, atol=5e-7
    )
    last = out.strip().splitlines()[-1]
    assert last.endswith(
        f"keeping the weights of epoch {clf.best_iteration_}, the best on the "
        f"validation set (validation accuracy = {clf.best_validation_score_:.6f})."
    )


def test_verbose_after_a_divergence_says_which_weights_are_kept(data, capsys):
    X, y = data
    reg = MLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=10.0,
        max_iter=50,
        verbose=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        reg.fit(X, 1e6 * y + 1e6)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    match = re.fullmatch(
        r"Training diverged in epoch (\d+)\. Stopped after epoch (\d+); "
        r"keeping (the weights this fit started from|the weights of epoch (\d+))\.",
        last,
    )
    assert match, last
    assert int(match[1]) == reg.n_iter_ + 1 and int(match[2]) == reg.n_iter_
    if match[4] is not None:
        assert 1 <= int(match[4]) < int(match[1])


def test_verbose_partial_fit_and_regressor(data, capsys):
    X, y = data
    reg = MLPRegressor(hidden_layer_sizes=(8,), verbose=1, random_state=0)
    for _ in range(3):
        reg.partial_fit(X, y.astype(float))
    out = capsys.readouterr().out
    lines = _epoch_lines(out)
    assert len(lines) == 3  # one epoch per call
    assert len(out.splitlines()) == 3  # and no "Stopped" line after each call
    assert_allclose([float(m["loss"]) for m in lines], reg.loss_curve_, atol=5e-9)


def test_verbose_lbfgs_reports_result(data, capsys):
    X, y = data
    clf = MLPClassifier(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, verbose=1, random_state=0
    ).fit(X, y)
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("lbfgs:")
    printed = float(re.search(r"loss = ([-\d.e+]+)", out[0]).group(1))
    assert_allclose(printed, clf.loss_, atol=5e-9)


def test_silent_by_default(data, capsys):
    X, y = data
    MLPClassifier(
        hidden_layer_sizes=(8,), max_iter=5, early_stopping=True, random_state=0
    ).fit(X, y)
    MLPClassifier(
        hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5, random_state=0
    ).fit(X, y)
    assert capsys.readouterr().out == ""


def test_verbose_2_reports_progress_within_long_epochs(data, capsys):
    X, y = data
    # 569 rows in batches of 20: 29 batches per epoch, a "long" epoch
    params = dict(hidden_layer_sizes=(8,), batch_size=20, max_iter=3, random_state=0)
    MLPClassifier(verbose=1, **params).fit(X, y)
    summary = capsys.readouterr().out.splitlines()[:-1]  # without "Stopped ..."
    MLPClassifier(verbose=2, **params).fit(X, y)
    detailed = capsys.readouterr().out.splitlines()
    epoch_rows = [i for i, line in enumerate(detailed) if EPOCH_LINE.match(line)]
    assert len(epoch_rows) == len(summary) == 3
    # the per-epoch lines are those of verbose=1 (up to the seconds)
    strip = re.compile(r", [\d.]+ s elapsed$")
    assert [strip.sub("", detailed[i]) for i in epoch_rows] == [
        strip.sub("", line) for line in summary
    ]
    # every epoch is preceded by progress lines of its own, which count batches
    # or rows (e.g. "  batch 10/29 ...")
    starts = [0] + [i + 1 for i in epoch_rows[:-1]]
    for start, end in zip(starts, epoch_rows, strict=True):
        progress = detailed[start:end]
        assert progress, "no progress line within the epoch"
        assert all(re.search(r"\d+\s*/\s*\d+", line) for line in progress)
    assert np.all(np.diff(epoch_rows) > 1)
