"""TabularMLPClassifier and TabularMLPRegressor: skreg's tabular recipe.

The recipe wraps a skreg MLP with the preprocessing that tabular data needs
and that users most often get wrong: imputation and scaling of the numeric
columns, one-hot encoding of the categorical ones, standardization of
regression targets, and a validation split with best-epoch selection. The
defaults were chosen by the ablation of ``benchmarks/ablation.py`` on the
PMLB datasets of ``../shared/data`` (``benchmarks/results/ablation.md``).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, QuantileTransformer, StandardScaler
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._classes import MLPClassifier, MLPRegressor
from ._preprocessing import SmoothClippedRobustScaler
from .utils._sklearn_compat import StrOptions, _fit_context

# The recipe's network settings; the tabular estimators expose each one as a
# parameter and pass the rest of skreg's parameters through ``mlp_params``.
_RECIPE_PARAMETERS = (
    "hidden_layer_sizes",
    "activation",
    "alpha",
    "dropout",
    "batch_size",
    "learning_rate_init",
    "beta_2",
    "max_iter",
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
    "random_state",
    "verbose",
)

_RECIPE_DOC = """
    hidden_layer_sizes : array-like of shape (n_layers - 2,), \
default=(256, 256, 256)
        Widths of the hidden layers.

    activation : str, default='relu'
        Activation of the hidden layers (any of skreg's MLP activations).

    alpha : float, default=1e-5
        Strength of the L2 penalty on the weights (skreg's ``alpha``, not
        divided by the batch size).

    dropout : float or sequence of float, default=0.15
        Dropout rate of the hidden units.

    batch_size : int or 'auto', default=256
        Mini-batch size of Adam.

    learning_rate_init : float, default=1e-3
        Adam's step size.

    beta_2 : float, default=0.95
        Adam's second-moment decay; RealMLP (Holzmueller et al., 2024) found
        0.95 better than the usual 0.999 for tabular networks.

    max_iter : int, default=200
        Maximum number of epochs.

    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows (or use ``X_val`` and
        ``y_val`` of ``fit``), stop once the validation loss has not improved
        for ``n_iter_no_change`` epochs and keep the weights of the best
        epoch.

    validation_fraction : float, default=0.2
        Share of the rows held out for early stopping, in (0, 1).

    n_iter_no_change : int, default=20
        Patience of early stopping, in epochs.

    categorical_features : 'from_dtype', array-like of int, bool or str, or \
None, default='from_dtype'
        The columns to one-hot encode, as in
        :class:`~sklearn.ensemble.HistGradientBoostingClassifier`: 'from_dtype'
        takes the columns of a pandas DataFrame whose dtype is ``category``,
        ``object`` or string (none for a numpy array); or their indices, a
        boolean mask or their names; None treats every column as numeric.
        Categories unseen in ``fit`` are encoded as all zeros.

    numeric_scaling : {'standard', 'robust', 'quantile'}, default='standard'
        Scaling of the numeric columns after median imputation (with a
        missing-value indicator for columns that had missing values):
        standardization, RealMLP's robust scaling with smooth clipping
        (:class:`SmoothClippedRobustScaler`), or a
        :class:`~sklearn.preprocessing.QuantileTransformer` to a normal
        distribution.

    mlp_params : dict or None, default=None
        Further parameters of the skreg MLP (e.g. ``{"batch_norm": True}``).
        Keys that are parameters of this estimator are refused. The network
        trains with ``blas_threads=1`` unless this sets it, so that a fit is
        reproducible bit for bit (the BLAS thread count changes how float32
        products are summed).

    random_state : int, RandomState instance or None, default=None
        Seeds the network (initialization, validation split, batch order,
        dropout masks). Pass an int for reproducible results.

    verbose : bool or int, default=False
        Print the network's per-epoch progress.
"""

_ATTRIBUTES_DOC = """
    preprocessor_ : ColumnTransformer
        The fitted imputation, scaling and one-hot encoding.

    mlp_ : MLPClassifier or MLPRegressor
        The fitted network, on the preprocessed columns.

    n_iter_ : int
        Number of epochs run.

    best_iteration_ : int or None
        The epoch whose weights were kept by early stopping.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string feature names.
"""

_REFERENCES_DOC = """
    References
    ----------
    Holzmueller, D., Grinsztajn, L. and Steinwart, I. (2024). Better by
    default: strong pre-tuned MLPs and boosted trees on tabular data. NeurIPS.

    Gorishniy, Y., Rubachev, I., Khrulkov, V. and Babenko, A. (2021).
    Revisiting deep learning models for tabular data. NeurIPS.
"""


def _is_dataframe(X):
    return hasattr(X, "columns") and hasattr(X, "dtypes")


def _categorical_from_dtype(X):
    """Columns of a DataFrame whose dtype is category, object or string."""
    if not _is_dataframe(X):
        return []
    return [
        i
        for i, dtype in enumerate(X.dtypes)
        if dtype.kind in "OSU" or str(dtype) in ("category", "string", "str")
    ]


class _TabularMLP(BaseEstimator):
    """Shared preprocessing and fitting of the tabular estimators."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [str],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left"), "array-like"],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "categorical_features": ["array-like", StrOptions({"from_dtype"}), None],
        "numeric_scaling": [StrOptions({"standard", "robust", "quantile"})],
        "mlp_params": [dict, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        hidden_layer_sizes=(256, 256, 256),
        activation="relu",
        alpha=1e-5,
        dropout=0.15,
        batch_size=256,
        learning_rate_init=1e-3,
        beta_2=0.95,
        max_iter=200,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=20,
        categorical_features="from_dtype",
        numeric_scaling="standard",
        mlp_params=None,
        random_state=None,
        verbose=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.alpha = alpha
        self.dropout = dropout
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.beta_2 = beta_2
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.categorical_features = categorical_features
        self.numeric_scaling = numeric_scaling
        self.mlp_params = mlp_params
        self.random_state = random_state
        self.verbose = verbose

    # preprocessing -----------------------------------------------------

    def _validate_X(self, X, reset):
        """Check feature names and counts; numeric arrays are checked in full.

        DataFrames are passed on as they are (their categorical columns may
        hold strings); anything else must be numeric (NaN allowed).
        """
        if _is_dataframe(X):
            validate_data(self, X, skip_check_array=True, reset=reset)
            return X
        return validate_data(
            self, X, reset=reset, dtype="numeric", ensure_all_finite="allow-nan"
        )

    def _categorical_indices(self, X):
        spec = self.categorical_features
        n_features = X.shape[1]
        if spec is None:
            return []
        if isinstance(spec, str):
            return _categorical_from_dtype(X)
        spec = np.asarray(spec)
        if spec.size == 0:
            return []
        if spec.dtype.kind == "b":
            if spec.shape != (n_features,):
                raise ValueError(
                    f"categorical_features as a boolean mask needs {n_features} "
                    f"entries (one per feature), got shape {spec.shape}."
                )
            return list(np.flatnonzero(spec))
        if spec.dtype.kind in "OSU":
            return self._indices_of_names(spec)
        if spec.dtype.kind in "iu" and np.all((spec >= 0) & (spec < n_features)):
            return sorted(set(int(i) for i in spec))
        raise ValueError(
            "categorical_features must be 'from_dtype', None, a boolean mask, "
            f"feature names or indices in [0, {n_features}); got {spec!r}."
        )

    def _indices_of_names(self, names):
        known = getattr(self, "feature_names_in_", None)
        if known is None:
            raise ValueError(
                "categorical_features given as names needs X as a DataFrame "
                "with string column names."
            )
        missing = [n for n in names if n not in known]
        if missing:
            raise ValueError(
                f"categorical_features names {missing} are not columns of X."
            )
        return sorted(list(known).index(n) for n in names)

    def _make_preprocessor(self, X):
        categorical = self._categorical_indices(X)
        numeric = [j for j in range(X.shape[1]) if j not in set(categorical)]
        scaler = {
            "standard": StandardScaler,
            "robust": SmoothClippedRobustScaler,
            "quantile": lambda: QuantileTransformer(
                output_distribution="normal",
                n_quantiles=min(1000, max(10, X.shape[0])),
                random_state=0,
            ),
        }[self.numeric_scaling]()
        numeric_steps = make_pipeline(
            SimpleImputer(
                strategy="median", add_indicator=True, keep_empty_features=True
            ),
            scaler,
        )
        onehot = OneHotEncoder(
            handle_unknown="ignore", sparse_output=False, dtype=np.float64
        )
        return ColumnTransformer(
            [("categorical", onehot, categorical), ("numeric", numeric_steps, numeric)],
            sparse_threshold=0.0,
        )

    # the network -------------------------------------------------------

    def _make_mlp(self):
        extra = dict(self.mlp_params or {})
        clash = sorted(set(extra) & set(self.get_params(deep=False)))
        if clash:
            raise ValueError(
                f"mlp_params sets {clash}, which are parameters of "
                f"{type(self).__name__}: set them directly instead."
            )
        settings = {name: getattr(self, name) for name in _RECIPE_PARAMETERS}
        mlp = self._mlp_class(solver="adam", blas_threads=1, **settings)
        return mlp.set_params(**extra)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, X_val=None, y_val=None):
        """Fit the preprocessing and the network.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The input data; a DataFrame may hold categorical columns.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights of the rows.
        X_val : {array-like, DataFrame} of shape (n_val_samples, \
n_features), default=None
            A validation set for early stopping instead of a split of X
            (preprocessed with the transformations fitted on X).
        y_val : array-like of shape (n_val_samples,), default=None
            Targets of ``X_val``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be passed together.")
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        X = self._validate_X(X, reset=True)
        mlp = self._make_mlp()
        if isinstance(self.batch_size, Integral):
            # small data: one full batch, without the network's clipping warning
            mlp.set_params(batch_size=min(self.batch_size, X.shape[0]))
        preprocessor = self._make_preprocessor(X)
        Z = preprocessor.fit_transform(X)
        target = self._target_statistics(y)
        y_fit = self._transform_target(y, target)
        validation = {}
        if X_val is not None:
            Z_val = preprocessor.transform(self._validate_X(X_val, reset=False))
            validation = {
                "X_val": Z_val,
                "y_val": self._transform_target(y_val, target),
            }
        mlp.fit(Z, y_fit, sample_weight=sample_weight, **validation)
        # set only now, so that a refused fit leaves the estimator as it was
        for name, value in target.items():
            setattr(self, name, value)
        self.preprocessor_, self.mlp_ = preprocessor, mlp
        self.n_iter_ = mlp.n_iter_
        self.best_iteration_ = mlp.best_iteration_
        return self

    def _transformed(self, X):
        check_is_fitted(self)
        return self.preprocessor_.transform(self._validate_X(X, reset=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags


class TabularMLPClassifier(ClassifierMixin, _TabularMLP):
    __doc__ = f"""skreg's recipe for tabular classification, preprocessing included.

    A :class:`MLPClassifier` with the defaults that worked best on the PMLB
    datasets of the project's benchmarks (``benchmarks/results/ablation.md``),
    behind the preprocessing a tabular network needs: numeric columns are
    median-imputed and scaled, categorical columns one-hot encoded, and a
    validation split drives early stopping with best-epoch selection.
    :class:`MLPClassifier` itself keeps scikit-learn's defaults.

    Parameters
    ----------
{_RECIPE_DOC}
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
{_ATTRIBUTES_DOC}
    See Also
    --------
    TabularMLPRegressor : The same recipe for regression.
    MLPClassifierCV : Cross-validated regularization with fold ensembles.
    sklearn.ensemble.HistGradientBoostingClassifier : The usual first choice.
{_REFERENCES_DOC}
    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from skreg import TabularMLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = TabularMLPClassifier(random_state=0).fit(X, y)
    >>> clf.predict(X[:2])
    array([0, 0])
    """

    _mlp_class = MLPClassifier

    def _target_statistics(self, y):
        return {}

    def _transform_target(self, y, statistics):
        return y

    @property
    def classes_(self):
        """The class labels of the fitted network."""
        check_is_fitted(self)
        return self.mlp_.classes_

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            The predicted classes.
        """
        Z = self._transformed(X)
        return self.mlp_.predict(Z)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The class probabilities, columns ordered as ``classes_``.
        """
        Z = self._transformed(X)
        return self.mlp_.predict_proba(Z)

    def predict_log_proba(self, X):
        """Logarithms of the probability estimates.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probabilities, columns ordered as ``classes_``.
        """
        Z = self._transformed(X)
        return self.mlp_.predict_log_proba(Z)


class TabularMLPRegressor(RegressorMixin, _TabularMLP):
    __doc__ = f"""skreg's recipe for tabular regression, preprocessing included.

    A :class:`MLPRegressor` with the defaults that worked best on the PMLB
    datasets of the project's benchmarks (``benchmarks/results/ablation.md``),
    behind the preprocessing a tabular network needs: numeric columns are
    median-imputed and scaled, categorical columns one-hot encoded, targets
    standardized (predictions are returned on the original scale), and a
    validation split drives early stopping with best-epoch selection.
    :class:`MLPRegressor` itself keeps scikit-learn's defaults.

    Parameters
    ----------
{_RECIPE_DOC}
    scale_target : bool, default=True
        Standardize the targets for training (their mean and standard
        deviation are ``target_mean_`` and ``target_scale_``).

    Attributes
    ----------
    target_mean_ : ndarray of shape (n_outputs,)
        Mean of the training targets (0 without ``scale_target``).

    target_scale_ : ndarray of shape (n_outputs,)
        Standard deviation of the training targets (1 without
        ``scale_target``, or for a constant target).
{_ATTRIBUTES_DOC}
    See Also
    --------
    TabularMLPClassifier : The same recipe for classification.
    MLPRegressorCV : Cross-validated regularization with fold ensembles.
    sklearn.ensemble.HistGradientBoostingRegressor : The usual first choice.
{_REFERENCES_DOC}
    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skreg import TabularMLPRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = TabularMLPRegressor(random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _mlp_class = MLPRegressor
    _parameter_constraints: dict = {
        **_TabularMLP._parameter_constraints,
        "scale_target": ["boolean"],
    }

    def __init__(
        self,
        *,
        hidden_layer_sizes=(256, 256, 256),
        activation="relu",
        alpha=1e-5,
        dropout=0.15,
        batch_size=256,
        learning_rate_init=1e-3,
        beta_2=0.95,
        max_iter=200,
        early_stopping=True,
        validation_fraction=0.2,
        n_iter_no_change=20,
        categorical_features="from_dtype",
        numeric_scaling="standard",
        scale_target=True,
        mlp_params=None,
        random_state=None,
        verbose=False,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            alpha=alpha,
            dropout=dropout,
            batch_size=batch_size,
            learning_rate_init=learning_rate_init,
            beta_2=beta_2,
            max_iter=max_iter,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            categorical_features=categorical_features,
            numeric_scaling=numeric_scaling,
            mlp_params=mlp_params,
            random_state=random_state,
            verbose=verbose,
        )
        self.scale_target = scale_target

    def _target_statistics(self, y):
        """Mean and scale of the targets (0 and 1 without ``scale_target``).

        Non-finite targets are left for the network's validation to refuse.
        """
        columns = np.asarray(y, dtype=np.float64)
        columns = columns.reshape(len(columns), -1)
        n_outputs = columns.shape[1]
        mean, scale = np.zeros(n_outputs), np.ones(n_outputs)
        if self.scale_target and np.all(np.isfinite(columns)):
            mean, scale = columns.mean(axis=0), columns.std(axis=0)
            scale[~(scale > 0)] = 1.0
        return {"target_mean_": mean, "target_scale_": scale}

    def _transform_target(self, y, statistics):
        y = np.asarray(y, dtype=np.float64)
        columns = y.reshape(len(y), -1)
        scaled = (columns - statistics["target_mean_"]) / statistics["target_scale_"]
        return scaled.reshape(y.shape)

    def predict(self, X):
        """Predict the targets, on their original scale.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        Z = self._transformed(X)
        scaled = np.asarray(self.mlp_.predict(Z))
        flat = scaled.reshape(len(scaled), -1) * self.target_scale_ + self.target_mean_
        return flat.reshape(scaled.shape)
