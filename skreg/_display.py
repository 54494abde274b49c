"""LossCurveDisplay: training and validation curves per epoch, in scikit-learn's
Display style (a constructor holding the data, ``plot``, ``from_estimator``).

matplotlib is an optional dependency (the ``plots`` extra, or ``pip install
matplotlib``): it is imported only when something is drawn.
"""

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted


def _import_pyplot(caller_name):
    """``matplotlib.pyplot``, or an ImportError that says how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller_name} requires matplotlib. Install it with "
            "`pip install matplotlib` (the `plots` extra of skreg)."
        ) from exc
    return plt


def _score_name(scoring):
    """A readable name for a ``scoring`` value, or None for the loss."""
    if scoring is None or (isinstance(scoring, str) and scoring == "loss"):
        return None
    if isinstance(scoring, str):
        name = scoring
    else:
        name = getattr(scoring, "__name__", None) or getattr(
            getattr(scoring, "_score_func", None), "__name__", "score"
        )
    if name.startswith("neg_"):
        name = "negative " + name[len("neg_") :]
    name = name.replace("_", " ")
    return name[:1].upper() + name[1:]


def _final_estimator(estimator):
    """The estimator holding the curves: the last step of a Pipeline, the best
    estimator of a fitted search, the regressor of a TransformedTargetRegressor,
    or the estimator itself."""
    if hasattr(estimator, "best_estimator_"):
        return _final_estimator(estimator.best_estimator_)
    if hasattr(estimator, "regressor_"):
        return _final_estimator(estimator.regressor_)
    if hasattr(estimator, "steps"):
        return _final_estimator(estimator.steps[-1][1])
    return estimator


def _curve_settings(estimator):
    """``(score_name, xlabel)`` of a fitted MLP's curves, as it was fitted."""
    scoring = getattr(estimator, "_fitted_scoring", None)
    if scoring is None and not hasattr(estimator, "validation_loss_curve_"):
        # scikit-learn's MLP: its validation_scores_ are its score's
        scoring = "accuracy" if is_classifier(estimator) else "r2"
    solver = getattr(estimator, "_fitted_solver", getattr(estimator, "solver", None))
    return _score_name(scoring), "Iteration" if solver == "lbfgs" else "Epoch"


class LossCurveDisplay:
    """Learning curves per epoch of a fitted skreg network.

    Shows the training objective and, when a validation set was monitored,
    the validation loss per epoch, with the epoch whose weights were kept
    (``best_iteration_``) marked by a vertical line, so that under- and
    overfitting are seen at a glance: a validation loss that turns upwards
    while the training objective keeps falling is overfitting; two curves
    that are still falling together at the last epoch call for more epochs
    or less regularization. When early stopping monitored a score other
    than the loss (``scoring``), the validation score is drawn on a second
    y-axis on the right.

    It is recommended to use :meth:`from_estimator` to create a display.
    All parameters are stored as attributes.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training objective per epoch (``loss_curve_``): the mean data loss
        over the epoch's mini-batches, computed in training mode (dropout
        and noise on), plus the penalty.

    validation_loss_curve : array-like of shape (n_val_epochs,), default=None
        Validation loss per epoch (``validation_loss_curve_``), the data loss
        alone. When shorter than ``loss_curve`` (e.g. after a warm start
        whose first fit had no validation set), it is aligned with the last
        epochs.

    validation_scores : array-like of shape (n_val_epochs,), default=None
        Validation score per epoch (``validation_scores_``). Drawn only when
        ``score_name`` is not None; with ``scoring='loss'`` the score is the
        negative validation loss and would repeat it.

    best_iteration : int, default=None
        The 1-based epoch whose weights were kept (``best_iteration_``),
        marked by a vertical line; None draws no mark.

    score_name : str, default=None
        Name of the validation score, the label of the right y-axis. None
        means the score is the negative loss and is not drawn.

    name : str, default=None
        Name of the estimator, shown as the title of the plot (``name`` as
        in scikit-learn's displays since 1.7, which replaced
        ``estimator_name``); None shows no title.

    xlabel : str, default="Epoch"
        Label of the x-axis ("Iteration" for the lbfgs solver).

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes with the loss curves.

    score_ax_ : matplotlib Axes or None
        The twin axes (sharing the x-axis of ``ax_``) holding the validation
        score, or None when no score is drawn.

    figure_ : matplotlib Figure
        Figure containing the curves.

    lines_ : dict of str to matplotlib Line2D
        The drawn curves under the keys ``"loss"``, ``"validation_loss"`` and
        ``"validation_score"`` (only those drawn).

    best_iteration_line_ : matplotlib Line2D or None
        The vertical line at ``best_iteration``, or None.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against the
        number of training samples.
    sklearn.model_selection.ValidationCurveDisplay : Scores against a
        hyper-parameter.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skreg import LossCurveDisplay, MLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True,
    ...                     learning_rate_init=0.01, random_state=0).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> len(display.lines_["loss"].get_xdata()) == len(clf.loss_curve_)
    True
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_loss_curve=None,
        validation_scores=None,
        best_iteration=None,
        score_name=None,
        name=None,
        xlabel="Epoch",
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.validation_scores = validation_scores
        self.best_iteration = best_iteration
        self.score_name = score_name
        self.name = name
        self.xlabel = xlabel

    def plot(
        self,
        ax=None,
        *,
        name=None,
        loss_kw=None,
        validation_loss_kw=None,
        score_kw=None,
        best_iteration_kw=None,
    ):
        """Plot the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure and axes are created.

        name : str, default=None
            Title of the plot; overrides the ``name`` of the display.

        loss_kw : dict, default=None
            Keyword arguments of ``ax.plot`` for the training objective.

        validation_loss_kw : dict, default=None
            Keyword arguments of ``ax.plot`` for the validation loss.

        score_kw : dict, default=None
            Keyword arguments of ``ax.plot`` for the validation score.

        best_iteration_kw : dict, default=None
            Keyword arguments of ``ax.axvline`` for the kept epoch.

        Returns
        -------
        display : LossCurveDisplay
            The display, holding the drawn artists.
        """
        plt = _import_pyplot("LossCurveDisplay.plot")
        loss = np.asarray(self.loss_curve, dtype=float).ravel()
        if loss.size == 0:
            raise ValueError("loss_curve is empty: there is nothing to plot.")
        epochs = np.arange(1, loss.size + 1)
        if ax is None:
            _, ax = plt.subplots()

        self.lines_ = {}
        (self.lines_["loss"],) = ax.plot(
            epochs,
            loss,
            **{"label": "Training objective", "color": "C0", **(loss_kw or {})},
        )
        handles = [self.lines_["loss"]]
        if self.validation_loss_curve is not None:
            val_loss = np.asarray(self.validation_loss_curve, dtype=float).ravel()
            val_epochs = self._aligned_epochs(val_loss.size, loss.size)
            (self.lines_["validation_loss"],) = ax.plot(
                val_epochs,
                val_loss,
                **{
                    "label": "Validation loss",
                    "color": "C1",
                    **(validation_loss_kw or {}),
                },
            )
            handles.append(self.lines_["validation_loss"])
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel("Loss")

        self.score_ax_ = None
        if self.score_name is not None and self.validation_scores is not None:
            scores = np.asarray(self.validation_scores, dtype=float).ravel()
            score_epochs = self._aligned_epochs(scores.size, loss.size)
            self.score_ax_ = ax.twinx()
            (self.lines_["validation_score"],) = self.score_ax_.plot(
                score_epochs,
                scores,
                **{
                    "label": f"Validation {self.score_name.lower()}",
                    "color": "C2",
                    "linestyle": "--",
                    **(score_kw or {}),
                },
            )
            self.score_ax_.set_ylabel(self.score_name)
            handles.append(self.lines_["validation_score"])

        self.best_iteration_line_ = None
        if self.best_iteration is not None:
            self.best_iteration_line_ = ax.axvline(
                self.best_iteration,
                **{
                    "label": f"Kept epoch ({self.best_iteration})",
                    "color": "0.4",
                    "linestyle": ":",
                    **(best_iteration_kw or {}),
                },
            )
            handles.append(self.best_iteration_line_)

        ax.legend(handles=handles, loc="best")
        title = name if name is not None else self.name
        if title is not None:
            ax.set_title(title)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @staticmethod
    def _aligned_epochs(n_values, n_epochs):
        """Epoch numbers of a curve that covers the last ``n_values`` epochs."""
        if n_values > n_epochs:
            raise ValueError(
                f"A validation curve has {n_values} values but loss_curve only "
                f"{n_epochs}: they must come from the same fit."
            )
        return np.arange(n_epochs - n_values + 1, n_epochs + 1)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        ax=None,
        name=None,
        loss_kw=None,
        validation_loss_kw=None,
        score_kw=None,
        best_iteration_kw=None,
    ):
        """Plot the curves of a fitted MLPClassifier or MLPRegressor.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~skreg.MLPClassifier` or
            :class:`~skreg.MLPRegressor` (or scikit-learn's, whose
            ``validation_scores_`` are its accuracy or R^2), a fitted
            :class:`~sklearn.pipeline.Pipeline` ending with one, a fitted
            search (e.g. :class:`~sklearn.model_selection.GridSearchCV`)
            whose ``best_estimator_`` is one of those, or a fitted
            :class:`~sklearn.compose.TransformedTargetRegressor` around one.
            The curves are labelled by the ``scoring`` and ``solver`` of the
            fit, not by later ``set_params``.

        ax : matplotlib Axes, default=None
            Axes to draw on. If None, a new figure and axes are created.

        name : str, default=None
            Name of the display (its ``name``), shown as the title of the
            plot; defaults to the estimator's class name.

        loss_kw : dict, default=None
            Keyword arguments of ``ax.plot`` for the training objective.

        validation_loss_kw : dict, default=None
            Keyword arguments of ``ax.plot`` for the validation loss.

        score_kw : dict, default=None
            Keyword arguments of ``ax.plot`` for the validation score.

        best_iteration_kw : dict, default=None
            Keyword arguments of ``ax.axvline`` for the kept epoch.

        Returns
        -------
        display : LossCurveDisplay
            The display, holding the drawn artists.
        """
        _import_pyplot("LossCurveDisplay.from_estimator")
        final = _final_estimator(estimator)
        _check_has_curves(final)
        score_name, xlabel = _curve_settings(final)
        display = cls(
            loss_curve=final.loss_curve_,
            validation_loss_curve=getattr(final, "validation_loss_curve_", None),
            validation_scores=getattr(final, "validation_scores_", None),
            best_iteration=getattr(final, "best_iteration_", None),
            score_name=score_name,
            name=type(final).__name__ if name is None else name,
            xlabel=xlabel,
        )
        return display.plot(
            ax=ax,
            loss_kw=loss_kw,
            validation_loss_kw=validation_loss_kw,
            score_kw=score_kw,
            best_iteration_kw=best_iteration_kw,
        )


def _check_has_curves(estimator):
    """A fitted network with ``loss_curve_``, or an error saying what is not."""
    try:
        check_is_fitted(estimator, "loss_curve_")
    except NotFittedError as exc:
        try:
            check_is_fitted(estimator)
        except NotFittedError:
            raise NotFittedError(
                f"This {type(estimator).__name__} instance is not fitted yet (it "
                "has no loss_curve_). Call 'fit' before "
                "LossCurveDisplay.from_estimator."
            ) from exc
        raise TypeError(
            f"LossCurveDisplay.from_estimator needs a fitted estimator with a "
            f"loss_curve_: an MLP (skreg's, or scikit-learn's with solver 'adam' "
            f"or 'sgd'), a Pipeline ending with one, a search whose "
            f"best_estimator_ is one, or a TransformedTargetRegressor around one; "
            f"the fitted {type(estimator).__name__} has no loss_curve_."
        ) from exc
