"""The notebook (HTML) and text representations show the non-default parameters.

Both come with scikit-learn's BaseEstimator; these tests check that skreg's
parameters (per-layer sequences, numpy arrays, nested in a Pipeline or a
search) go through them correctly.
"""

import html
import re

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skreg import MLPClassifier, MLPRegressor

PARAM_ROW = re.compile(
    r'<tr class="(?P<kind>user-set|default)">.*?<td class="param">(?P<name>[^<]+)</td>'
    r'\s*<td class="value">(?P<value>.*?)</td>',
    re.S,
)


def _param_rows(markup):
    """(name, kind, value) of every parameter row, in order."""
    return [
        (m["name"], m["kind"], html.unescape(m["value"]))
        for m in PARAM_ROW.finditer(markup)
    ]


def _user_set(markup):
    return {name for name, kind, _ in _param_rows(markup) if kind == "user-set"}


@pytest.mark.parametrize(
    "estimator, changed",
    [
        (MLPClassifier(), set()),
        (
            MLPClassifier(hidden_layer_sizes=(8, 8), dropout=(0.5, 0.2), alpha=1e-2),
            {"hidden_layer_sizes", "dropout", "alpha"},
        ),
        (
            MLPClassifier(
                batch_norm=[True],
                l1_ratio=0.5,
                early_stopping="auto",
                class_weight="balanced",
                max_norm=3.0,
            ),
            {"batch_norm", "l1_ratio", "early_stopping", "class_weight", "max_norm"},
        ),
        (
            MLPRegressor(
                loss="poisson", dropconnect=0.1, input_noise=0.05, dtype="float32"
            ),
            {"loss", "dropconnect", "input_noise", "dtype"},
        ),
    ],
    ids=["defaults", "per-layer", "mixed", "regressor"],
)
def test_html_repr_marks_changed_parameters(estimator, changed):
    markup = estimator._repr_html_()
    rows = _param_rows(markup)
    # every parameter has a row, and exactly the changed ones are marked
    assert [name for name, _, _ in rows].count("alpha") == 1
    assert {name for name, _, _ in rows} == set(estimator.get_params())
    assert _user_set(markup) == changed
    # the changed ones come first, as in scikit-learn
    kinds = [kind for _, kind, _ in rows]
    assert kinds == sorted(kinds, key=lambda kind: kind != "user-set")
    # and the text fallback inside the HTML is the changed-only repr
    assert html.escape(repr(estimator)) in markup or repr(estimator) in html.unescape(
        markup
    )


def test_text_repr_shows_only_changed_parameters():
    estimator = MLPClassifier(hidden_layer_sizes=(8, 8), dropout=(0.5, 0.2), alpha=1e-2)
    assert repr(MLPClassifier()) == "MLPClassifier()"
    text = " ".join(repr(estimator).split())
    assert text == (
        "MLPClassifier(alpha=0.01, dropout=(0.5, 0.2), hidden_layer_sizes=(8, 8))"
    )
    # the full listing is still available on request
    with sklearn.config_context(print_changed_only=False):
        assert "learning_rate_init=0.001" in repr(estimator)


def test_default_value_passed_explicitly_is_not_marked():
    estimator = MLPClassifier(alpha=0.0001, dropout=0.0, batch_norm=False, max_iter=50)
    assert _user_set(estimator._repr_html_()) == {"max_iter"}
    assert repr(estimator) == "MLPClassifier(max_iter=50)"


def test_array_parameters_are_shown():
    estimator = MLPClassifier(
        hidden_layer_sizes=np.array([8, 4]), dropout=np.array([0.1, 0.2])
    )
    markup = estimator._repr_html_()
    assert _user_set(markup) == {"hidden_layer_sizes", "dropout"}
    values = {name: value for name, _, value in _param_rows(markup)}
    assert "8" in values["hidden_layer_sizes"] and "0.1" in values["dropout"]


def test_fitted_status_and_nesting():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(),
        MLPClassifier(hidden_layer_sizes=(8,), dropout=0.2, max_iter=5),
    )
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=2)
    before = search._repr_html_()
    assert "Not fitted" in before
    # the network's own box inside the search lists its changed parameters
    assert "MLPClassifier" in before
    assert {"hidden_layer_sizes", "dropout", "max_iter"} <= _user_set(before)

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    after = search._repr_html_()
    assert re.search(r"<span>Fitted</span>", after)
    network = search.best_estimator_[-1]
    assert re.search(r"<span>Fitted</span>", network._repr_html_())
    assert _user_set(network._repr_html_()) == {
        "hidden_layer_sizes",
        "dropout",
        "max_iter",
        "alpha",
    } - ({"alpha"} if network.alpha == 1e-4 else set())
