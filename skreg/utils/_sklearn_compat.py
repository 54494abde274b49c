"""The one place that imports private scikit-learn names.

If scikit-learn moves them, only this file changes.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
)
from sklearn.utils.validation import _check_sample_weight

try:  # scikit-learn >= 1.9: the callback API (set_callbacks, ProgressBar, ...)
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # older: the estimators have no set_callbacks

    class CallbackSupportMixin:
        """Stand-in without callbacks, for scikit-learn < 1.9."""


__all__ = [
    "CallbackSupportMixin",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "_check_sample_weight",
    "_fit_context",
]
