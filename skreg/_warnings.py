"""Warnings attributed to the user's line, however deep inside skreg they arise."""

import os
import sys
import warnings

import sklearn

# frames in these directories are skipped (Python 3.12's ``skip_file_prefixes``)
_INTERNAL = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.dirname(os.path.abspath(sklearn.__file__)) + os.sep,
)


def warn(message, category=UserWarning):
    """``warnings.warn`` with the stack level of the first caller outside skreg
    and scikit-learn, so that the warning names the user's ``fit`` line."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_INTERNAL):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
