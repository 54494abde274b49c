"""BaseMLP: parameters, their validation, and the orchestration of ``fit``.

``fit`` reads as: validate -> encode targets -> random streams -> split ->
build network -> train -> set fitted attributes. Target encoding, the loss
and the decoding of outputs belong to the two estimators in ``_classes``.
"""

import copy
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer, get_scorer_names
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.validation import _num_samples, check_is_fitted, validate_data

from ._callbacks import CALLBACK_STATE, FitCallbacks
from ._diagnostics import (
    warn_if_best_epoch_blown_up,
    warn_if_blown_up,
    warn_if_unlike_training,
    zero_output_loss,
)
from ._early_stopping import (
    ValidationMonitor,
    make_network_scorer,
    predict_in_chunks,
    split_validation,
)
from ._embeddings import PeriodicEmbedding
from ._layers import Context
from ._losses import LOSSES
from ._network import Network, build_layers
from ._optimizers import SGD, Adam
from ._penalties import ElasticNet
from ._schedules import RUN_SCHEDULES, make_lr_schedule
from ._threads import BlasThreads
from ._training import (
    History,
    LoopSettings,
    TrainingData,
    as_batches_ready,
    train,
)
from ._warnings import warn
from .utils._sklearn_compat import (
    CallbackSupportMixin,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)

_RATE = Interval(Real, 0, 1, closed="left")
_RATE_TEXT = "a float in the range [0.0, 1.0)"

_X_VAL_HINT = (
    "In a Pipeline, X_val reaches the network untransformed unless the pipeline "
    "is built with transform_input=['X_val'] (with metadata routing enabled); "
    "otherwise transform X_val as the training data is."
)
_Y_VAL_HINT = (
    "With TransformedTargetRegressor or scaled targets, y_val needs the same "
    "transformation as y."
)

# Below this many rows "auto" leaves early stopping off (HistGradientBoosting's rule).
_AUTO_EARLY_STOPPING_MIN_SAMPLES = 10_000
# Patience with dropout, DropConnect or noise counts on the loss without them
# on at most this many training rows (a fixed, evenly spaced subset): a
# prediction pass over them costs ~3 % of an epoch of 20,000 rows, where one
# over all the rows would add a third.
_MEAN_NETWORK_MAX_ROWS = 2048
# Up to this many rows dtype="auto" trains in float64: exact to scikit-learn's
# tolerances on the small data of its checks, at little cost on such sizes.
_AUTO_FLOAT32_MIN_SAMPLES = 1_000


def _per_layer(estimator, name, n_layers, check, kind, layer_kind):
    """Expand a scalar parameter to one value per layer, or check a sequence.

    Errors follow scikit-learn's InvalidParameterError wording.
    """
    value = getattr(estimator, name)
    try:
        scalar = np.ndim(value) == 0
    except ValueError:  # ragged nested sequence
        scalar = False
    values = [value] * n_layers if scalar else list(value)
    if len(values) != n_layers or not all(check(item) for item in values):
        got = "" if scalar else f" ({len(values)} values)"
        raise InvalidParameterError(
            f"The '{name}' parameter of {type(estimator).__name__} must be {kind} "
            f"or a sequence of such values, one per {layer_kind} ({n_layers} with "
            f"hidden_layer_sizes={estimator.hidden_layer_sizes!r}). Got {value!r}"
            f"{got} instead."
        )
    return values


def _is_rate(value):
    return isinstance(value, Real) and not isinstance(value, bool) and 0 <= value < 1


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


class BaseMLP(CallbackSupportMixin, BaseEstimator):
    """Shared machinery of MLPClassifier and MLPRegressor; not for direct use."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [
            StrOptions(
                {"identity", "logistic", "tanh", "relu", "gelu", "silu", "mish", "selu"}
            )
        ],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [
            StrOptions(
                {"constant", "invscaling", "adaptive", "cosine", "one_cycle", "coslog4"}
            )
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "scoring": [StrOptions({"loss", *get_scorer_names()}), callable],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "restore_best_weights": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "dropout": [_RATE, "array-like"],
        "input_dropout": [_RATE],
        "dropconnect": [_RATE, "array-like"],
        "dropconnect_mask": [StrOptions({"batch", "sample"})],
        "batch_norm": ["boolean", "array-like"],
        "batch_norm_momentum": [Interval(Real, 0, 1, closed="right")],
        "max_norm": [None, Interval(Real, 0, None, closed="neither")],
        "input_noise": [Interval(Real, 0, None, closed="left")],
        "dtype": [StrOptions({"auto", "float32", "float64"})],
        "blas_threads": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "numeric_embedding": [None, StrOptions({"pbld"})],
        "n_frequencies": [Interval(Integral, 1, None, closed="left")],
        "frequency_init_scale": [Interval(Real, 0, None, closed="neither")],
        "warmup_fraction": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_grad_norm": [None, Interval(Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        l1_ratio=0.0,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        scoring="loss",
        validation_fraction=0.1,
        restore_best_weights=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=0.0,
        input_dropout=0.0,
        dropconnect=0.0,
        dropconnect_mask="batch",
        batch_norm=False,
        batch_norm_momentum=0.1,
        max_norm=None,
        input_noise=0.0,
        dtype="auto",
        blas_threads="auto",
        numeric_embedding=None,
        n_frequencies=16,
        frequency_init_scale=0.1,
        warmup_fraction=0.0,
        weight_decay=0.0,
        max_grad_norm=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.scoring = scoring
        self.validation_fraction = validation_fraction
        self.restore_best_weights = restore_best_weights
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.input_dropout = input_dropout
        self.dropconnect = dropconnect
        self.dropconnect_mask = dropconnect_mask
        self.batch_norm = batch_norm
        self.batch_norm_momentum = batch_norm_momentum
        self.max_norm = max_norm
        self.input_noise = input_noise
        self.dtype = dtype
        self.blas_threads = blas_threads
        self.numeric_embedding = numeric_embedding
        self.n_frequencies = n_frequencies
        self.frequency_init_scale = frequency_init_scale
        self.warmup_fraction = warmup_fraction
        self.weight_decay = weight_decay
        self.max_grad_norm = max_grad_norm

    # ------------------------------------------------------------------
    # parameters that need more than _parameter_constraints

    def _hidden_sizes(self):
        try:
            sizes = np.atleast_1d(self.hidden_layer_sizes)
        except ValueError:  # ragged, as [5, [3]]
            sizes = np.empty((0, 0))
        if sizes.ndim != 1 or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0
            for s in sizes.tolist()
        ):
            raise InvalidParameterError(
                f"The 'hidden_layer_sizes' parameter of {type(self).__name__} must "
                "be a positive int or a sequence of positive ints. Got "
                f"{self.hidden_layer_sizes!r} instead."
            )
        return [int(s) for s in sizes]

    def _architecture(self):
        """Per-layer regularization settings, checked against the depth."""
        n_hidden = len(self._hidden_sizes())
        return {
            "activation": self.activation,
            "dropout": _per_layer(
                self, "dropout", n_hidden, _is_rate, _RATE_TEXT, "hidden layer"
            ),
            "dropconnect": _per_layer(
                self,
                "dropconnect",
                n_hidden + 1,
                _is_rate,
                _RATE_TEXT,
                "weight layer, output layer included",
            ),
            "batch_norm": _per_layer(
                self, "batch_norm", n_hidden, _is_bool, "a bool", "hidden layer"
            ),
            "dropconnect_mask": self.dropconnect_mask,
            "batch_norm_momentum": self.batch_norm_momentum,
            "input_dropout": self.input_dropout,
            "input_noise": self.input_noise,
            "numeric_embedding": self._embedding_settings(),
        }

    def _embedding_settings(self):
        if self.numeric_embedding is None:
            return None
        return {
            "n_frequencies": self.n_frequencies,
            "frequency_init_scale": self.frequency_init_scale,
        }

    def _check_solver_compatibility(self, architecture):
        if self.solver != "lbfgs":
            return
        if self.l1_ratio > 0 and self.alpha > 0:
            raise ValueError(
                "solver='lbfgs' needs a smooth objective, but l1_ratio > 0 adds a "
                "non-differentiable L1 term. Use solver='adam' or 'sgd' (which apply "
                "L1 by a proximal step), or set l1_ratio=0."
            )
        if self.max_norm is not None:
            raise ValueError(
                "solver='lbfgs' cannot apply max_norm, a projection of the weights "
                "after each mini-batch step. Use solver='adam' or 'sgd', or set "
                "max_norm=None."
            )
        if self.weight_decay > 0 or self.max_grad_norm is not None:
            raise ValueError(
                "solver='lbfgs' minimizes the objective itself, without optimizer "
                "steps to decay the weights in or gradients to clip: use "
                "solver='adam' or 'sgd' for weight_decay and max_grad_norm, or "
                "alpha for an L2 penalty with lbfgs."
            )
        stochastic = {
            "dropout": any(architecture["dropout"]),
            "dropconnect": any(architecture["dropconnect"]),
            "input_dropout": self.input_dropout > 0,
            "input_noise": self.input_noise > 0,
        }
        used = [name for name, on in stochastic.items() if on]
        if used:
            raise ValueError(
                f"solver='lbfgs' needs a deterministic objective, but {used} draw "
                "random masks or noise at every step. Use solver='adam' or 'sgd'."
            )

    def _check_scoring_fits_the_task(self):
        """Refuse a scikit-learn scorer of the other task (``scoring="r2"`` on
        a classifier) before training, instead of scoring nonsense per epoch."""
        if not isinstance(self.scoring, str) or self.scoring == "loss":
            return
        metric = getattr(get_scorer(self.scoring), "_score_func", None)
        module = getattr(metric, "__module__", "")
        if is_classifier(self):
            wrong, task = module.endswith("._regression"), "a classification"
            examples = "'accuracy', 'balanced_accuracy', 'neg_log_loss'"
        else:
            wrong = module.endswith(("._classification", "._ranking"))
            task, examples = "a regression", "'r2', 'neg_mean_squared_error'"
        if wrong:
            raise InvalidParameterError(
                f"The 'scoring' parameter of {type(self).__name__} must be "
                f"{task} scorer or 'loss'. Got {self.scoring!r} instead, a "
                f"metric for the other task. Use for example {examples}, or "
                "'loss' (the validation loss)."
            )

    # ------------------------------------------------------------------
    # fit orchestration

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights; the data term is their weighted mean (see the class
            docstring). None means uniform weights.
        X_val : {array-like, sparse matrix} of shape (n_val_samples, n_features), \
                default=None
            A validation set to monitor instead of splitting one off. With
            ``early_stopping=True`` or ``"auto"`` it drives early stopping; with
            ``early_stopping=False`` it is only recorded in
            ``validation_loss_curve_`` and ``validation_scores_``. Routed
            through a :class:`~sklearn.pipeline.Pipeline` (metadata routing,
            ``set_fit_request(X_val=True, y_val=True)``), ``X_val`` reaches
            the network untransformed unless the pipeline is built with
            ``transform_input=["X_val"]``, which passes it through the
            pipeline's transformers as X is.
        y_val : array-like of shape (n_val_samples,) or (n_val_samples, n_outputs), \
                default=None
            Targets of ``X_val``.
        sample_weight_val : array-like of shape (n_val_samples,), default=None
            Sample weights of ``X_val``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be passed together.")
        if sample_weight_val is not None and X_val is None:
            raise ValueError("sample_weight_val needs X_val and y_val.")
        with self._restored_on_error():
            return self._fit(
                X,
                y,
                sample_weight,
                validation=(X_val, y_val, sample_weight_val),
                incremental=False,
            )

    @contextmanager
    def _restored_on_error(self):
        """Leave the estimator as it was if the block raises: a refit refused
        for bad data keeps the earlier model whole."""
        before = dict(vars(self))
        for name in ("_history", "_rngs"):  # updated in place while training
            if name in before:
                before[name] = copy.deepcopy(before[name])
        try:
            yield
        except BaseException:
            callback_state = {
                name: value
                for name, value in vars(self).items()
                if name in CALLBACK_STATE
            }
            vars(self).clear()
            vars(self).update(before, **callback_state)
            raise

    def _fit(
        self,
        X,
        y,
        sample_weight,
        *,
        validation=(None, None, None),
        incremental=False,
        classes=None,
    ):
        architecture = self._architecture()
        self._check_solver_compatibility(architecture)
        self._check_scoring_fits_the_task()
        _check_numeric_columns(X, "X")
        if any(architecture["batch_norm"]):  # checked before anything is fitted
            n_rows = _num_samples(X)
            batch_size = n_rows
            if self.solver != "lbfgs" and self.batch_size != "auto":
                batch_size = min(self.batch_size, n_rows)
            _check_batch_norm_rows(batch_size, n_rows)
        first_call = not (incremental or self.warm_start) or not hasattr(self, "coefs_")
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=first_call,
            y_numeric=self._y_numeric,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not incremental:
            source = "fit"
        else:
            source = "partial_fit" if classes is None else "classes"
        Y = self._encode_targets(
            y, first_call=first_call, classes=classes, source=source
        )
        sample_weight = self._training_weights(X, y, sample_weight)
        dtype = self._training_dtype(X)
        X = as_batches_ready(X, dtype)
        Y = as_batches_ready(Y, dtype, "y")
        callbacks = self._begin_callbacks(
            X, y, sample_weight, architecture, incremental
        )

        rngs = self._random_streams(incremental)
        network = self._network_for_training(
            X.shape[1], Y.shape[1], dtype, architecture, first_call, rngs
        )
        loss = self._training_loss()
        penalty = ElasticNet(self.alpha, self.l1_ratio)
        if self.solver == "lbfgs":
            if validation[0] is not None:
                warn(
                    "solver='lbfgs' does not monitor a validation set: X_val and "
                    "y_val are ignored. Use solver='adam' or 'sgd' to monitor them.",
                    UserWarning,
                )
            self._fit_lbfgs(network, loss, penalty, X, Y, sample_weight, first_call)
        else:
            self._fit_stochastic(
                network,
                loss,
                penalty,
                (X, Y, y, sample_weight),
                validation,
                incremental,
                first_call,
                rngs,
                callbacks,
            )
        self._export_network(network)
        # what predictions are made with, whatever set_params changes later
        self._fitted_architecture = architecture
        if callbacks is not None:
            callbacks.end_fit()
        return self

    def _begin_callbacks(self, X, y, sample_weight, architecture, incremental):
        """scikit-learn's callbacks of this fit (None without any): ``X`` and
        ``y`` as validated, the weights training uses (class_weight included)."""
        # lbfgs: one task, scipy runs the iterations; partial_fit: one epoch
        max_epochs = 1 if incremental else self.max_iter
        return FitCallbacks.begin_fit(
            self,
            X,
            y,
            sample_weight,
            max_epochs=0 if self.solver == "lbfgs" else max_epochs,
            fitted_attributes=lambda network: {
                **self._weight_attributes(network),
                "_fitted_architecture": architecture,
            },
        )

    def _training_dtype(self, X):
        """float32 where it pays (large or float32 data), else float64.

        scipy's L-BFGS-B works in float64, so lbfgs always does.
        """
        if self.solver == "lbfgs":
            return np.dtype(np.float64)
        if self.dtype != "auto":
            return np.dtype(self.dtype)
        if X.dtype == np.float32 or X.shape[0] > _AUTO_FLOAT32_MIN_SAMPLES:
            return np.dtype(np.float32)
        return np.dtype(np.float64)

    def _training_loss(self):
        return LOSSES[self._loss_name()]()

    def _training_weights(self, X, y, sample_weight):
        if sample_weight is None and getattr(self, "class_weight", None) is None:
            return None
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        sample_weight = self._apply_class_weight(sample_weight, y)
        if not np.all(np.isfinite(sample_weight)):
            raise ValueError(
                "class_weight gives some samples a NaN or infinite weight: class "
                "weights must be finite numbers >= 0."
            )
        if np.any(sample_weight < 0):
            raise ValueError(
                "class_weight gives some samples a negative weight: class weights "
                "must be >= 0."
            )
        if not sample_weight.max() > 0:
            raise ValueError(
                "sample_weight (times class_weight) sums to zero: at least one "
                "sample needs a positive weight."
            )
        return _scaled_to_one(sample_weight)

    def _apply_class_weight(self, sample_weight, y):
        return sample_weight

    def _random_streams(self, incremental):
        """Independent generators per purpose, so that enabling dropout does not
        change the initial weights or the batch order."""
        if incremental and hasattr(self, "_rngs"):
            return self._rngs
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        streams = np.random.SeedSequence(seed).spawn(4)
        self._rngs = dict(
            zip(
                ("init", "split", "shuffle", "masks"),
                (np.random.default_rng(s) for s in streams),
                strict=True,
            )
        )
        return self._rngs

    def _network_for_training(
        self, n_features, n_outputs, dtype, architecture, first_call, rngs
    ):
        settings = dict(architecture)
        if self.solver == "lbfgs":
            # full-batch statistics: the running statistics equal the last pass
            settings["batch_norm_momentum"] = 1.0
        units = [n_features, *self._hidden_sizes(), n_outputs]
        network = Network(build_layers(units, **settings), dtype=dtype)
        if first_call:
            network.initialize(rngs["init"])
            self._history = History()
        else:
            self._load_fitted_weights(network)
            if not np.all(np.isfinite(network.params)):
                raise ValueError(
                    "The fitted weights (coefs_, intercepts_ or batch_norm_params_) "
                    "hold NaN or infinite values, so training cannot continue "
                    "from them: set warm_start=False and fit again."
                )
        return network

    def _fit_stochastic(
        self,
        network,
        loss,
        penalty,
        data,
        validation,
        incremental,
        first_call,
        rngs,
        callbacks=None,
    ):
        X, Y, y, sample_weight = data
        early_stopping = self._early_stopping_on(X.shape[0], validation, incremental)
        rows, monitor = self._validation_monitor(
            network, loss, data, validation, early_stopping, rngs
        )
        if first_call or not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer(network)
            self._lr_schedule = make_lr_schedule(
                self.learning_rate, self.max_iter, self.warmup_fraction
            )
        elif self._lr_schedule is not None and self._lr_schedule.ended:
            warn(
                f"learning_rate={self.learning_rate!r} has run its max_iter="
                f"{self._lr_schedule.max_iter} epochs (partial_fit calls count one "
                "each): this call trains at the schedule's final rate. Call fit, "
                "or raise max_iter before the first call, for a longer schedule.",
                UserWarning,
            )
        n_train = X.shape[0] if rows is None else len(rows)
        settings = LoopSettings(
            batch_size=self._batch_size(n_train),
            max_iter=self.max_iter,
            shuffle=self.shuffle,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            adaptive_learning_rate=self.solver == "sgd"
            and self.learning_rate == "adaptive",
            invscaling_power=(
                self.power_t
                if self.solver == "sgd" and self.learning_rate == "invscaling"
                else None
            ),
            learning_rate_init=self.learning_rate_init,
            max_norm=self.max_norm,
            restore_best_weights=self.restore_best_weights and early_stopping,
            early_stopping=early_stopping,
            verbose=int(self.verbose),
            lr_schedule=self._lr_schedule,
            max_grad_norm=self.max_grad_norm,
            score_name=_score_name(self.scoring),
        )
        history = self._history
        history.n_iter = 0
        history.no_improvement_count = 0
        history.best_validation_score = -np.inf
        history.best_mean_network_loss = np.inf
        history.best_iteration = None
        history.stop_reason = None
        if monitor is None:
            history.end_validation_curves()
        start = network.snapshot()
        threads = BlasThreads(self.blas_threads, _batch_macs(network, settings))
        settings.on_step = threads.step_done
        with threads:
            converged = train(
                network,
                loss,
                penalty,
                self._optimizer,
                TrainingData(X, Y, sample_weight, rows),
                settings,
                rngs,
                history,
                validation=monitor,
                max_epochs=1 if incremental else None,
                start=start,
                mean_network=self._mean_network_objective(
                    network, loss, penalty, data, rows, settings, incremental
                ),
                callbacks=callbacks,
            )
        if history.stop_reason == "diverged":
            self._recover_from_divergence(network, X, start)
        elif not (
            incremental or (settings.restore_best_weights and monitor is not None)
        ):
            # the last epoch's weights are kept: say if they are far off
            penalty_now = penalty.value(network.params[: network.n_penalized])
            zero_loss = zero_output_loss(loss, Y, sample_weight)
            this_fit = history.loss_curve[len(history.loss_curve) - history.n_iter :]
            warn_if_blown_up(
                this_fit,
                penalty_now,
                zero_loss,
                early_stopping_requested=self.early_stopping != "auto"
                and bool(self.early_stopping),
            )
        elif history.best_iteration is not None:  # the best validation epoch is kept
            curve = history.validation_loss_curve
            kept = curve[len(curve) - history.n_iter + history.best_iteration - 1]
            zero_loss = zero_output_loss(monitor.loss, monitor.Y, monitor.weights)
            warn_if_best_epoch_blown_up(kept, zero_loss)
        if history.best_iteration is not None:
            if settings.restore_best_weights:
                # best_iteration_ counts in loss_curve_, which warm starts extend
                history.best_iteration += len(history.loss_curve) - history.n_iter
            else:
                # monitored only (X_val without early stopping): the last epoch is kept
                history.best_iteration = None
        # a schedule that spans max_iter epochs is meant to run them all
        spans_run = self.learning_rate in RUN_SCHEDULES
        if not (converged or incremental or spans_run or history.stop_reason):
            warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )

    def _mean_network_objective(
        self, network, loss, penalty, data, rows, settings, incremental
    ):
        """What patience counts on when dropout, DropConnect or noise make the
        epoch's loss noisy: the training objective of the network without them.

        None (patience on the epoch's loss, as scikit-learn) for deterministic
        networks, with early stopping, and when nothing can stop the loop.
        """
        if not network.stochastic or settings.early_stopping or incremental:
            return None
        if not np.isfinite(settings.n_iter_no_change):
            return None
        X, Y, _, sample_weight = data
        n_train = X.shape[0] if rows is None else len(rows)
        if n_train > _MEAN_NETWORK_MAX_ROWS:  # evenly spaced, the same each epoch
            picked = np.linspace(0, n_train - 1, _MEAN_NETWORK_MAX_ROWS).astype(int)
            rows = picked if rows is None else rows[picked]
        if rows is not None:
            X, Y = X[rows], Y[rows]
            sample_weight = None if sample_weight is None else sample_weight[rows]
        monitor = ValidationMonitor(X, Y, sample_weight, loss)
        n = network.n_penalized

        def objective(network):
            return monitor(network)[0] + penalty.value(network.params[:n])

        return objective

    def _recover_from_divergence(self, network, X, start):
        """After a diverged run, make sure the kept weights give finite outputs.

        The loop keeps the weights of the last finite epoch, but weights that
        are finite yet huge (say 1e200) still overflow in ``predict``. Then the
        weights this fit started from are restored. The optimizer's moments
        are dropped either way, so that a following ``partial_fit`` starts
        afresh rather than from non-finite moments.
        """
        del self._optimizer
        n_check = min(X.shape[0], 10_000)
        with np.errstate(all="ignore"):
            finite = np.all(np.isfinite(predict_in_chunks(network, X[:n_check])))
        if not finite:
            network.restore(start)
            warn(
                "The weights of the last finite epoch still give infinite or NaN "
                "outputs, so the weights this fit started from are kept. Lower "
                "learning_rate_init, scale the inputs (and, for regression, the "
                "targets), or use solver='adam'.",
                RuntimeWarning,
            )

    def _early_stopping_on(self, n_samples, validation, incremental):
        if incremental:
            return False  # one epoch over a chunk: nothing to stop
        if self.early_stopping == "auto":
            return validation[0] is not None or (
                n_samples > _AUTO_EARLY_STOPPING_MIN_SAMPLES
                and self.validation_fraction > 0
            )
        return bool(self.early_stopping)

    def _validation_monitor(
        self, network, loss, data, validation, early_stopping, rngs
    ):
        """Training rows and the per-epoch monitor (None when nothing is monitored)."""
        X, Y, y, sample_weight = data
        X_val, y_val, sw_val = validation
        rows = None
        if X_val is not None:
            _check_numeric_columns(X_val, "X_val")
            try:
                X_val, y_val = validate_data(
                    self,
                    X_val,
                    y_val,
                    accept_sparse=["csr", "csc"],
                    multi_output=True,
                    dtype=(np.float64, np.float32),
                    reset=False,
                    y_numeric=self._y_numeric,
                )
                y_val = _same_outputs_as(y_val, y)
                Y_val = self._encode_targets(
                    y_val, first_call=False, classes=None, source="validation"
                )
                if sw_val is not None:
                    sw_val = _scaled_to_one(
                        _check_sample_weight(
                            sw_val, X_val, dtype=np.float64, ensure_non_negative=True
                        )
                    )
            except ValueError as exc:
                # the checks name "X", "y", "sample_weight": say which set it is
                raise ValueError(
                    f"Invalid validation set (X_val, y_val, sample_weight_val): {exc}"
                ) from exc
            X_val = as_batches_ready(X_val, network.dtype, "X_val")
            warn_if_unlike_training(X, X_val, "X_val", _X_VAL_HINT)
            if self._y_numeric:
                warn_if_unlike_training(Y, Y_val, "y_val", _Y_VAL_HINT)
        elif early_stopping:
            stratify = y if self._stratify_split(y) else None
            split = split_validation(
                X.shape[0], self.validation_fraction, rngs["split"], stratify
            )
            if split is None:
                return None, None
            rows, val_rows = split
            if sample_weight is not None and not (
                sample_weight[rows].sum() > 0 and sample_weight[val_rows].sum() > 0
            ):
                warn(
                    "early_stopping is turned off for this fit: the validation split "
                    "leaves all the positive sample weights on one side. Pass "
                    "X_val, y_val (and sample_weight_val) to fit, or set "
                    "early_stopping=False.",
                    UserWarning,
                )
                return None, None
            X_val, Y_val, y_val = X[val_rows], Y[val_rows], y[val_rows]
            sw_val = None if sample_weight is None else sample_weight[val_rows]
        else:
            return None, None
        Y_val = as_batches_ready(Y_val, network.dtype, "y_val")
        scorer = None
        if self.scoring != "loss":
            scorer = make_network_scorer(self, self.scoring, X_val, y_val, sw_val)
        # the plain loss, whatever the training loss adds (label smoothing)
        plain_loss = LOSSES[self._loss_name()]()
        return rows, ValidationMonitor(X_val, Y_val, sw_val, plain_loss, scorer)

    def _stratify_split(self, y):
        return False

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warn(
                f"Got batch_size={self.batch_size} larger than the {n_samples} "
                "training samples; it is clipped to the number of samples.",
            )
        return int(min(self.batch_size, n_samples))

    def _make_optimizer(self, network):
        size, dtype = network.params.size, network.dtype
        if self.solver == "sgd":
            return SGD(
                size,
                dtype,
                learning_rate=self.learning_rate_init,
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum,
                weight_decay=self.weight_decay,
            )
        return Adam(
            size,
            dtype,
            learning_rate=self.learning_rate_init,
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            weight_decay=self.weight_decay,
        )

    def _fit_lbfgs(self, network, loss, penalty, X, Y, sample_weight, first_call):
        weights = None if sample_weight is None else sample_weight / sample_weight.sum()
        n = network.n_penalized

        def objective(params):
            network.params[...] = params
            # overflow makes the value inf or NaN, which L-BFGS-B backs off from
            with np.errstate(over="ignore", invalid="ignore"):
                Z, backward = network.forward(
                    X, Context(training=True, weights=weights)
                )
                value, dZ = loss.value_and_gradient(Z, Y, weights)
                backward(dZ)
            penalty.add_smooth_gradient(network.params[:n], network.grads[:n])
            return value + penalty.value(network.params[:n]), network.grads.copy()

        curve = []
        result = scipy.optimize.minimize(
            objective,
            network.params.copy(),
            method="L-BFGS-B",
            jac=True,
            callback=lambda intermediate_result: curve.append(
                float(intermediate_result.fun)
            ),
            options={
                "maxfun": self.max_fun,
                "maxiter": self.max_iter,
                "gtol": self.tol,
            },
        )
        objective(result.x)  # leave the optimum (and its batch statistics) in place
        history = self._history
        history.end_validation_curves()  # lbfgs monitors no validation set
        history.n_iter = int(result.nit)
        history.t += X.shape[0]
        history.loss_curve.extend(curve or [float(result.fun)])
        history.best_loss = min(history.best_loss, float(result.fun))
        history.best_iteration = None
        if not np.isfinite(result.fun):
            warn(
                "The lbfgs objective is infinite or NaN at the weights it ended "
                "with: the outputs overflow. Scale the inputs (and, for "
                "regression, the targets).",
                RuntimeWarning,
            )
        elif result.status != 0:
            warn(
                f"lbfgs failed to converge after {result.nit} iterations "
                f"(status={result.status}): {result.message}. Increase max_iter "
                "(or max_fun), or scale the data.",
                ConvergenceWarning,
            )
        if self.verbose:
            print(f"lbfgs: {result.message}, loss = {result.fun:.8f}")

    # ------------------------------------------------------------------
    # fitted attributes <-> network

    def _weight_attributes(self, network):
        """The fitted attributes that predictions read, copied from ``network``."""
        dense = network.dense_layers
        norms = iter(network.batch_norm_layers)
        embedding = _embedding_layer(network)
        loss_name = self._loss_name()
        return {
            "coefs_": [layer.params["coef"].copy() for layer in dense],
            "intercepts_": [
                layer.params["intercept"].copy()
                if layer.bias
                else np.zeros(layer.n_out, dtype=network.dtype)
                for layer in dense
            ],
            "batch_norm_params_": [
                None if dense_layer.bias else _batch_norm_values(next(norms))
                for dense_layer in dense[:-1]
            ],
            "embedding_params_": (
                None
                if embedding is None
                else {name: value.copy() for name, value in embedding.params.items()}
            ),
            "n_layers_": len(dense) + 1,
            "n_outputs_": dense[-1].n_out,
            "_fitted_loss": loss_name,
            "out_activation_": LOSSES[loss_name].out_activation,
        }

    def _export_network(self, network):
        """Set the scikit-learn fitted attributes from the trained network."""
        vars(self).update(self._weight_attributes(network))
        history = self._history
        self.n_iter_ = history.n_iter
        self.t_ = history.t
        self.loss_curve_ = list(history.loss_curve)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else None
        monitored = bool(history.validation_scores)
        self.validation_loss_curve_ = (
            list(history.validation_loss_curve) if monitored else None
        )
        self.validation_scores_ = list(history.validation_scores) if monitored else None
        best_score = history.best_validation_score
        # None also when this fit validated no epoch (diverged in its first)
        self.best_validation_score_ = (
            best_score if monitored and np.isfinite(best_score) else None
        )
        kept = (
            history.best_iteration if monitored and self.restore_best_weights else None
        )
        self.best_iteration_ = kept
        self.best_loss_ = (
            None if monitored and self.early_stopping else history.best_loss
        )
        # what the curves mean, whatever set_params changes later (the plots)
        self._fitted_scoring, self._fitted_solver = self.scoring, self.solver

    def _load_fitted_weights(self, network):
        """Copy the fitted attributes into ``network`` (warm start, prediction)."""
        self._load_fitted_embedding(network)
        dense = network.dense_layers
        shapes = [layer.params["coef"].shape for layer in dense]
        if [c.shape for c in self.coefs_] != shapes:
            raise ValueError(
                "The fitted coefs_ have shapes "
                f"{[c.shape for c in self.coefs_]} but the network needs {shapes}: "
                "with warm_start=True or partial_fit, keep hidden_layer_sizes and "
                "the number of features and outputs unchanged."
            )
        fitted_batch_norm = [p is not None for p in self.batch_norm_params_]
        # batch norm replaces a layer's intercepts by its own parameters
        batch_norm = [not layer.bias for layer in dense[:-1]]
        if fitted_batch_norm != batch_norm:
            raise ValueError(
                f"batch_norm={self.batch_norm!r} normalizes the hidden layers "
                f"{batch_norm} but the fitted model normalizes {fitted_batch_norm}: "
                "with warm_start=True or partial_fit, keep batch_norm unchanged "
                "(or set warm_start=False to train a new model)."
            )
        for layer, coef, intercept in zip(
            dense, self.coefs_, self.intercepts_, strict=True
        ):
            layer.params["coef"][...] = coef
            if layer.bias:
                layer.params["intercept"][...] = intercept
        fitted_norms = [p for p in self.batch_norm_params_ if p is not None]
        norms = network.batch_norm_layers
        for layer, values in zip(norms, fitted_norms, strict=True):
            layer.params["gamma"][...] = values["gamma"]
            layer.params["beta"][...] = values["beta"]
            layer.state["running_mean"][...] = values["running_mean"]
            layer.state["running_var"][...] = values["running_var"]

    def _load_fitted_embedding(self, network):
        embedding = _embedding_layer(network)
        fitted = getattr(self, "embedding_params_", None)
        shapes = None if embedding is None else embedding.param_specs()
        if (fitted is None) != (embedding is None) or (
            fitted is not None
            and any(fitted[name].shape != shape for name, shape, _ in shapes)
        ):
            raise ValueError(
                "numeric_embedding or n_frequencies differs from the fitted "
                "model's: with warm_start=True or partial_fit, keep them unchanged."
            )
        if embedding is not None:
            for name, value in fitted.items():
                embedding.params[name][...] = value

    def _prediction_network(self):
        """A float64 network holding the fitted weights, in prediction mode.

        Built from the fitted arrays and the settings of the fit, not from the
        current parameters, so that ``set_params`` after fitting (as a search
        does on clones) cannot change or break predictions. Predicting in
        float64 whatever the training dtype keeps predictions independent of
        how rows are batched by the BLAS.
        """
        check_is_fitted(self)
        units = [self.n_features_in_, *(coef.shape[1] for coef in self.coefs_)]
        settings = {
            **self._fitted_architecture,
            "batch_norm": [p is not None for p in self.batch_norm_params_],
        }
        network = Network(build_layers(units, **settings), dtype=np.float64)
        self._load_fitted_weights(network)
        return network

    def _validated_input(self, X):
        """X checked against the fitted model, in float64, and X's float dtype
        (float64 for integer X), which predictions are returned in."""
        _check_numeric_columns(X, "X")
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        return as_batches_ready(X, np.float64), X.dtype

    def _forward(self, X):
        """Raw outputs (before the output activation) for input X, in float64,
        and X's float dtype, which predictions are returned in.

        Computed in float64 on slices of rows, so that predicting on a large X
        needs neither a float64 copy of it nor full-size activations, and a
        row's prediction does not depend on the rows predicted with it. Only
        the result is rounded to X's dtype (float32 in, float32 out, as
        scikit-learn's MLP).
        """
        network = self._prediction_network()
        _check_numeric_columns(X, "X")
        X = validate_data(
            self,
            X,
            accept_sparse=["csr", "csc"],
            dtype=(np.float64, np.float32),
            reset=False,
        )
        if sp.issparse(X):
            X = X.tocsr()  # row slices
        return predict_in_chunks(network, X, np.float64), X.dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _batch_macs(network, settings):
    """Multiply-adds of one mini-batch's forward pass through the dense layers."""
    per_row = sum(layer.n_in * layer.n_out for layer in network.dense_layers)
    return settings.batch_size * per_row


def _embedding_layer(network):
    """The network's numeric-feature embedding, or None."""
    return next(
        (layer for layer in network.layers if isinstance(layer, PeriodicEmbedding)),
        None,
    )


def _score_name(scoring):
    """What verbose output calls the validation score (None: the loss's)."""
    if scoring == "loss":
        return None
    return scoring if isinstance(scoring, str) else "score"


def _check_numeric_columns(X, name):
    """Name the columns of a DataFrame (or object array) that hold text or
    categories, and say how to encode them, before numpy's bare "could not
    convert string to float" does."""
    if hasattr(X, "columns") and hasattr(X, "dtypes"):
        columns = [(label, X[label]) for label in X.columns]
        dtypes = list(X.dtypes)
    elif isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "OUS":
        columns = [(int(index), X[:, index]) for index in range(X.shape[1])]
        dtypes = [X.dtype] * X.shape[1]
    else:
        return
    bad = []
    for (label, values), dtype in zip(columns, dtypes, strict=True):
        if getattr(dtype, "kind", "O") in "biuf":
            continue
        try:
            np.asarray(values, dtype=np.float64)
        except ValueError:  # text; other objects (TypeError) are refused below
            bad.append(label if isinstance(label, int) else str(label))
    if bad:
        listed = ", ".join(map(repr, bad))
        which = "Columns" if hasattr(X, "columns") else "Column indices"
        raise ValueError(
            f"{which} {listed} of {name} hold text or categories, but the "
            "network needs numbers. Encode them first, for example one-hot "
            "with make_column_transformer((OneHotEncoder(handle_unknown="
            f"'ignore'), [{listed}]), remainder=StandardScaler()) in a "
            "pipeline before the network."
        )


def _scaled_to_one(sample_weight):
    """Weights scaled by a power of two to a largest weight in [0.5, 1).

    Losses and scores depend on the weights' ratios alone, which the scaling
    keeps bit for bit (a power of two is exact), while the weighted sums of
    huge weights (1e307) stay finite.
    """
    _, exponent = np.frexp(sample_weight.max())
    return np.ldexp(sample_weight, -exponent)


def _same_outputs_as(y_val, y):
    """``y_val`` as 1-D when ``y`` is, after checking it has as many outputs."""
    if y_val.ndim == 2 and y_val.shape[1] == 1 and y.ndim == 1:
        y_val = y_val.ravel()
    if y_val.shape[1:] != y.shape[1:]:
        outputs = "1-D" if y.ndim == 1 else f"{y.shape[1]} columns"
        raise ValueError(
            f"y has shape {y.shape} but y_val has shape {y_val.shape}: y_val "
            f"needs the outputs of y ({outputs}), one row per row of X_val."
        )
    return y_val


def _check_batch_norm_rows(batch_size, n_train):
    """Batch normalization needs batches of 2 rows or more to have statistics.

    A validation split keeps at least 2 training rows (``split_validation``),
    so checking the whole data before the split is enough.
    """
    if batch_size < 2:
        rows = "1 sample" if n_train == 1 else f"n_samples={n_train}"
        raise ValueError(
            "batch_norm needs mini-batches of at least 2 rows (one row has no "
            f"batch variance), but this fit has batch_size={batch_size} with "
            f"{rows} for training. Use batch_size >= 2 (and at least 2 rows per "
            "partial_fit call), or batch_norm=False."
        )


def _batch_norm_values(layer):
    return {
        "gamma": layer.params["gamma"].copy(),
        "beta": layer.params["beta"].copy(),
        "running_mean": layer.state["running_mean"].copy(),
        "running_var": layer.state["running_var"].copy(),
    }
