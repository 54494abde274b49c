"""skreg: scikit-learn compatible neural networks built for generalization."""

from ._classes import MLPClassifier, MLPRegressor
from ._display import LossCurveDisplay
from ._preprocessing import SmoothClippedRobustScaler

__version__ = "0.1.0.dev0"

__all__ = [
    "LossCurveDisplay",
    "MLPClassifier",
    "MLPRegressor",
    "SmoothClippedRobustScaler",
    "__version__",
]
