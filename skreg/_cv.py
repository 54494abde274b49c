"""MLPClassifierCV and MLPRegressorCV: cross-validated regularization.

Each candidate setting is trained once per fold, the fold's held-out rows
driving that model's early stopping (``fit(X_val=, y_val=)``) and giving its
CV score. The best setting's fold models are kept and their predictions
averaged, so no refit is needed and no model ever trained on the rows that
validated it. Successive halving over folds spends less on weak settings.
"""

import inspect
import math
import time
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    clone,
    is_classifier,
)
from sklearn.metrics import check_scoring, log_loss
from sklearn.model_selection import KFold, ParameterGrid, StratifiedKFold, check_cv
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._tabular import TabularMLPClassifier, TabularMLPRegressor, _is_dataframe
from .utils._sklearn_compat import _fit_context

# The default space: the two regularizers the ablation found to matter most
# for the tabular recipe (see benchmarks/results/ablation.md).
DEFAULT_PARAM_GRID = {"dropout": [0.0, 0.15, 0.3], "alpha": [1e-5, 1e-3]}

_PARAMETERS_DOC = """
    param_grid : dict or list of dict, default=None
        Candidate settings of ``estimator``, as in
        :class:`~sklearn.model_selection.GridSearchCV`. None uses
        ``{{"dropout": [0.0, 0.15, 0.3], "alpha": [1e-5, 1e-3]}}``.

    estimator : estimator, default=None
        The model to tune; its ``fit`` must accept ``X_val`` and ``y_val``,
        and it should early-stop on them (skreg's MLPs with
        ``early_stopping=True``, or the tabular estimators). None uses
        :class:`{tabular}` with its defaults.

    cv : int, cross-validation generator or iterable, default=5
        The folds. An int k gives a shuffled {splitter}(k) seeded from
        ``random_state``.

    scoring : str, callable or None, default=None
        What selects the setting, scored on each fold's held-out rows
        (a scikit-learn scorer name or callable). None uses {scoring}.
        Since those rows also chose the fold model's best epoch, the CV
        scores are slightly optimistic; predictions on new data are not.

    refit : bool, default=False
        False keeps the best setting's k fold models and averages their
        predictions (each saw k-1 folds; like ``refit=False`` of
        :class:`~sklearn.linear_model.LogisticRegressionCV`, which averages
        the fold models' coefficients). True instead fits the best setting
        once on all rows, with the estimator's own early stopping (its own
        validation split).

    halving_factor : float or None, default=3
        Successive halving over folds (Jamieson & Talwalkar, 2016; Li et al.,
        2018): round r trains the surviving settings on the first
        ``min(k, halving_factor ** r)`` folds and keeps the best
        ``ceil(n_survivors / halving_factor)`` by mean fold score, until the
        survivors have seen every fold. None trains every setting on every
        fold.

    n_jobs : int or None, default=None
        Number of joblib workers fitting fold models in parallel. The
        result does not depend on it (every fold model's seed is fixed
        beforehand), up to the rounding of a BLAS with other thread counts.

    random_state : int, RandomState instance or None, default=None
        Seeds the fold split (when ``cv`` is an int) and the fold models
        (one seed per fold, shared by the candidates, so that they are
        compared on the same initializations). Pass an int for reproducible
        results.

    verbose : int, default=0
        Print one line per halving round.
"""

_ATTRIBUTES_DOC = """
    cv_results_ : dict of ndarray
        Per candidate: ``params``, one ``param_<name>`` column per parameter,
        ``split<i>_test_score`` (NaN for folds not trained after the
        candidate was eliminated), ``mean_test_score`` and
        ``std_test_score`` over its trained folds, ``n_folds`` (how many),
        ``mean_fit_time`` and ``rank_test_score`` (candidates that reached
        the last round first, then by mean score).

    best_params_ : dict
        The selected setting.

    best_score_ : float
        Its mean CV score.

    best_index_ : int
        Its index in ``cv_results_``.

    estimators_ : list of estimator
        The k fold models of the best setting (``refit=False``) or the one
        model refitted on all rows (``refit=True``).

    n_splits_ : int
        Number of folds.

    n_fits_ : int
        Number of models trained (the refit included).

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string feature names.
"""

_REFERENCES_DOC = """
    References
    ----------
    Jamieson, K. and Talwalkar, A. (2016). Non-stochastic best arm
    identification and hyperparameter optimization. AISTATS.

    Li, L., Jamieson, K., DeSalvo, G., Rostamizadeh, A. and Talwalkar, A.
    (2018). Hyperband: a novel bandit-based approach to hyperparameter
    optimization. JMLR 18(185).

    Holzmueller, D., Grinsztajn, L. and Steinwart, I. (2024). Better by
    default: strong pre-tuned MLPs and boosted trees on tabular data. NeurIPS
    (fold ensembles of tabular MLPs, their Table B.4).
"""


def _fit_fold(estimator, params, X, y, sample_weight, train, test, seed, scorer):
    """Train one candidate on one fold; its held-out rows early-stop it.

    A classifier's held-out rows of classes absent from its training rows
    (a class rarer than the folds) can neither stop nor score it: dropped.
    """
    if is_classifier(estimator):
        test = test[np.isin(y[test], y[train])]
    model = clone(estimator).set_params(**params)
    if "random_state" in model.get_params(deep=False):
        model.set_params(random_state=seed)
    fit_params = {}
    if sample_weight is not None:
        fit_params["sample_weight"] = sample_weight[train]
    X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
    start = time.perf_counter()
    model.fit(X_train, y[train], X_val=X_test, y_val=y[test], **fit_params)
    seconds = time.perf_counter() - start
    return model, scorer(model, X_test, y[test]), seconds


def _neg_log_loss(model, X, y):
    """Scorer of the negative log-loss over the model's own classes.

    Unlike the 'neg_log_loss' scorer it accepts a fold whose held-out rows
    lack a class that the fold model knows.
    """
    return -log_loss(y, model.predict_proba(X), labels=model.classes_)


def _halving_rounds(n_candidates, n_splits, factor):
    """Cumulative numbers of folds per round and survivors entering it."""
    if factor is None:
        return [(n_splits, n_candidates)]
    rounds, folds, alive, r = [], 0, n_candidates, 0
    while folds < n_splits:
        folds = min(n_splits, math.ceil(factor**r))
        rounds.append((folds, alive))
        alive = max(1, math.ceil(alive / factor))
        r += 1
    return rounds


class _BaseMLPCV(BaseEstimator):
    """Fold-wise training, successive halving and fold-ensemble prediction."""

    _parameter_constraints: dict = {
        "param_grid": [dict, list, None],
        "estimator": [HasMethods(["fit", "predict"]), None],
        "cv": ["cv_object"],
        "scoring": [str, callable, None],
        "refit": ["boolean"],
        "halving_factor": [Interval(Real, 1, None, closed="neither"), None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        param_grid=None,
        *,
        estimator=None,
        cv=5,
        scoring=None,
        refit=False,
        halving_factor=3,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.param_grid = param_grid
        self.estimator = estimator
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.halving_factor = halving_factor
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _base_estimator(self):
        estimator = (
            self.estimator if self.estimator is not None else self._default_estimator()
        )
        if "X_val" not in inspect.signature(estimator.fit).parameters:
            raise ValueError(
                f"estimator {type(estimator).__name__} has no X_val parameter in "
                "fit: the CV estimator needs one that early-stops on X_val and "
                "y_val (a skreg MLP or tabular estimator)."
            )
        return estimator

    def _splits(self, X, y, rng):
        if isinstance(self.cv, Integral):
            splitter = self._splitter(
                n_splits=self.cv, shuffle=True, random_state=rng.randint(2**31 - 1)
            )
        else:
            splitter = check_cv(self.cv, y, classifier=is_classifier(self))
        return list(splitter.split(X, y))

    def _validate_X(self, X, reset):
        if _is_dataframe(X):
            validate_data(self, X, skip_check_array=True, reset=reset)
            return X
        return validate_data(
            self, X, reset=reset, dtype="numeric", ensure_all_finite="allow-nan"
        )

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Cross-validate the candidates and keep the best one's fold models.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed to the fold models' ``fit``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = self._validate_X(X, reset=True)
        y = self._validate_y(y)
        check_consistent_length(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        estimator = self._base_estimator()
        candidates = list(ParameterGrid(self.param_grid or DEFAULT_PARAM_GRID))
        rng = check_random_state(self.random_state)
        splits = self._splits(X, y, rng)
        seeds = rng.randint(2**31 - 1, size=len(splits))
        scorer = check_scoring(estimator, scoring=self._scoring())
        task = (estimator, X, y, sample_weight, splits, seeds, scorer)
        scores, times, models, n_fits = self._successive_halving(candidates, task)
        self._store_results(candidates, scores, times)
        self.estimators_ = models[self.best_index_]
        if self.refit:
            self.estimators_ = [self._refit(estimator, X, y, sample_weight, seeds[0])]
            n_fits += 1
        self.n_splits_, self.n_fits_ = len(splits), n_fits
        if is_classifier(self):
            self.classes_ = np.unique(y)
        return self

    def _successive_halving(self, candidates, task):
        estimator, X, y, sample_weight, splits, seeds, scorer = task
        n, k = len(candidates), len(splits)
        scores, times = np.full((n, k), np.nan), np.full((n, k), np.nan)
        models = {i: [None] * k for i in range(n)}
        alive, n_fits = list(range(n)), 0
        parallel = Parallel(n_jobs=self.n_jobs)
        for folds, n_alive in _halving_rounds(n, k, self.halving_factor):
            alive = self._survivors(alive, scores, n_alive)
            jobs = [(i, f) for i in alive for f in range(folds) if models[i][f] is None]
            results = parallel(
                delayed(_fit_fold)(
                    estimator,
                    candidates[i],
                    X,
                    y,
                    sample_weight,
                    *splits[f],
                    seeds[f],
                    scorer,
                )
                for i, f in jobs
            )
            for (i, f), (model, score, seconds) in zip(jobs, results, strict=True):
                models[i][f], scores[i, f], times[i, f] = model, score, seconds
            n_fits += len(jobs)
            for i in set(models) - set(alive):
                models[i] = None  # eliminated: free the fold models
            if self.verbose:
                print(
                    f"[{type(self).__name__}] {len(alive)} candidates x {folds} folds"
                )
        return scores, times, models, n_fits

    @staticmethod
    def _survivors(alive, scores, n_alive):
        """The n_alive best of ``alive`` by mean score over their folds so far.

        Ties (and a first round with no scores) keep the grid order.
        """
        if len(alive) <= n_alive:
            return alive
        means = [np.nanmean(scores[i]) for i in alive]
        order = sorted(range(len(alive)), key=lambda j: (-means[j], j))
        return sorted(alive[j] for j in order[:n_alive])

    def _store_results(self, candidates, scores, times):
        trained = ~np.isnan(scores)
        n_folds = trained.sum(axis=1)
        means = np.array([np.nanmean(row) for row in scores])
        stds = np.array([np.nanstd(row) for row in scores])
        # rank: the candidates that went furthest first, then by mean score
        order = np.lexsort((np.arange(len(means)), -means, -n_folds))
        rank = np.empty(len(means), dtype=np.int32)
        rank[order] = np.arange(1, len(means) + 1)
        results = {"params": candidates}
        for name in sorted({key for c in candidates for key in c}):
            results[f"param_{name}"] = np.ma.masked_array(
                [c.get(name) for c in candidates],
                mask=[name not in c for c in candidates],
                dtype=object,
            )
        for f in range(scores.shape[1]):
            results[f"split{f}_test_score"] = scores[:, f]
        results.update(
            mean_test_score=means,
            std_test_score=stds,
            rank_test_score=rank,
            n_folds=n_folds,
            mean_fit_time=np.array([np.nanmean(t) for t in times]),
        )
        self.cv_results_ = results
        self.best_index_ = int(order[0])
        self.best_params_ = candidates[self.best_index_]
        self.best_score_ = float(means[self.best_index_])

    def _refit(self, estimator, X, y, sample_weight, seed):
        model = clone(estimator).set_params(**self.best_params_)
        if "random_state" in model.get_params(deep=False):
            model.set_params(random_state=seed)
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        return model.fit(X, y, **fit_params)

    def _fold_predictions(self, X, method):
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return [getattr(model, method)(X) for model in self.estimators_]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags


class MLPClassifierCV(ClassifierMixin, _BaseMLPCV):
    __doc__ = f"""Classifier with cross-validated regularization and fold ensembles.

    Trains each candidate setting of ``param_grid`` on k-1 folds per fold,
    the held-out fold driving that model's early stopping and scoring it;
    successive halving over folds drops weak candidates early. The setting
    with the best mean CV score is kept, and its k fold models' predicted
    probabilities are averaged: a fold ensemble whose members never saw the
    rows that stopped them, with no refit needed (``refit=True`` refits on
    all rows instead).

    Parameters
    ----------
{
        _PARAMETERS_DOC.format(
            tabular="TabularMLPClassifier",
            splitter="StratifiedKFold",
            scoring="the negative log-loss",
        )
    }
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
{_ATTRIBUTES_DOC}
    See Also
    --------
    MLPRegressorCV : The same for regression.
    TabularMLPClassifier : The default estimator, skreg's tabular recipe.
    sklearn.linear_model.LogisticRegressionCV : The linear model's analogue.
{_REFERENCES_DOC}
    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skreg import MLPClassifierCV, TabularMLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = MLPClassifierCV(
    ...     {{"dropout": [0.0, 0.3]}},
    ...     estimator=TabularMLPClassifier(hidden_layer_sizes=(32,)),
    ...     cv=3, random_state=0,
    ... ).fit(X, y)
    >>> len(clf.estimators_)
    3
    """

    _splitter = StratifiedKFold

    @staticmethod
    def _default_estimator():
        return TabularMLPClassifier()

    def _scoring(self):
        return _neg_log_loss if self.scoring is None else self.scoring

    def _validate_y(self, y):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return y

    def predict_proba(self, X):
        """Mean of the fold models' class probabilities.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns ordered as ``classes_``; a fold model that never saw a
            class gives it probability 0.
        """
        total, probas = None, self._fold_predictions(X, "predict_proba")
        for model, proba in zip(self.estimators_, probas, strict=True):
            aligned = np.zeros((proba.shape[0], len(self.classes_)))
            aligned[:, np.searchsorted(self.classes_, model.classes_)] = proba
            total = aligned if total is None else total + aligned
        return total / len(self.estimators_)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probabilities.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The class with the highest mean probability.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The predicted classes.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class MLPRegressorCV(RegressorMixin, _BaseMLPCV):
    __doc__ = f"""Regressor with cross-validated regularization and fold ensembles.

    Trains each candidate setting of ``param_grid`` on k-1 folds per fold,
    the held-out fold driving that model's early stopping and scoring it;
    successive halving over folds drops weak candidates early. The setting
    with the best mean CV score is kept, and its k fold models' predictions
    are averaged: a fold ensemble whose members never saw the rows that
    stopped them, with no refit needed (``refit=True`` refits on all rows
    instead).

    Parameters
    ----------
{
        _PARAMETERS_DOC.format(
            tabular="TabularMLPRegressor", splitter="KFold", scoring="R^2 ('r2')"
        )
    }
    Attributes
    ----------
{_ATTRIBUTES_DOC}
    See Also
    --------
    MLPClassifierCV : The same for classification.
    TabularMLPRegressor : The default estimator, skreg's tabular recipe.
    sklearn.linear_model.RidgeCV : A linear model's analogue.
{_REFERENCES_DOC}
    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skreg import MLPRegressorCV, TabularMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = MLPRegressorCV(
    ...     {{"alpha": [1e-5, 1e-3]}},
    ...     estimator=TabularMLPRegressor(hidden_layer_sizes=(32,)),
    ...     cv=3, random_state=0,
    ... ).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _splitter = KFold

    @staticmethod
    def _default_estimator():
        return TabularMLPRegressor()

    def _scoring(self):
        return "r2" if self.scoring is None else self.scoring

    def _validate_y(self, y):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1- or 2-dimensional, got shape {y.shape}.")
        return y

    def predict(self, X):
        """Mean of the fold models' predictions.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        return np.mean(self._fold_predictions(X, "predict"), axis=0)
