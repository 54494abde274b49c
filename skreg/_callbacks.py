"""scikit-learn's callback API (``sklearn.callback``, scikit-learn >= 1.9).

As in :class:`~sklearn.linear_model.LogisticRegression` (its lbfgs
iterations), ``fit`` is the root task of the estimator and each epoch one
subtask, so that :class:`~sklearn.callback.ProgressBar` draws a bar whose
steps are epochs, nested under the bars of a search or pipeline the
estimator runs in; :class:`~sklearn.callback.ScoringMonitor` scores, at the
end of each epoch, a copy of the estimator holding that epoch's weights; and
a callback whose ``on_fit_task_end`` returns True stops training after that
epoch. With lbfgs the fit is one task without subtasks (scipy runs its
iterations). Estimators without callbacks, and scikit-learn without
``sklearn.callback``, skip all of it.
"""

# attributes the callback machinery sets on the estimator during fit; a fit
# that raises must not roll them back, or the callbacks are never torn down
CALLBACK_STATE = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


class FitCallbacks:
    """The callback contexts of one ``fit`` or ``partial_fit`` call.

    Parameters
    ----------
    estimator : BaseMLP
    context : sklearn.callback.CallbackContext
        The estimator's root context, its fit task begun.
    X, y : arrays
        The training data as validated (the rows callbacks score on).
    metadata : dict or None
        ``{"sample_weight": ...}`` when weights were passed.
    fitted_attributes : callable
        ``fitted_attributes(network)``: the fitted attributes that make a copy
        of the estimator predict with ``network``'s current weights.
    """

    def __init__(self, estimator, context, X, y, metadata, fitted_attributes):
        self.estimator, self.context = estimator, context
        self.X, self.y, self.metadata = X, y, metadata
        self.fitted_attributes = fitted_attributes
        self._epoch = None

    @classmethod
    def begin_fit(cls, estimator, X, y, sample_weight, max_epochs, fitted_attributes):
        """Begin the fit task, or return None when no callback is set (or
        scikit-learn has no callback API)."""
        if not getattr(estimator, "_skl_callbacks", None):
            return None
        context = estimator._init_callback_context(max_subtasks=max_epochs)
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        context.call_on_fit_task_begin(estimator=estimator, X=X, y=y, metadata=metadata)
        return cls(estimator, context, X, y, metadata, fitted_attributes)

    def begin_epoch(self):
        self._epoch = self.context.subcontext(task_name="epoch")
        self._epoch.call_on_fit_task_begin(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata
        )

    def end_epoch(self, network):
        """End the epoch begun last; True if a callback asks to stop.

        ``network`` None ends an epoch that did not complete (divergence,
        Ctrl-C): nothing to score, as LogisticRegression's last empty task.
        """
        epoch, self._epoch = self._epoch, None
        if epoch is None:
            return False
        if network is None:
            return epoch.call_on_fit_task_end(estimator=self.estimator)
        return epoch.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            # evaluated only if a callback asks for fitted_estimator
            reconstruction_attributes=lambda: self.fitted_attributes(network),
        )

    def end_fit(self):
        """End the fit task: the estimator itself is now fitted."""
        self.end_epoch(None)
        self.context.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes={},
        )
