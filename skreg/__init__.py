"""skreg: scikit-learn compatible neural networks built for generalization."""

from ._classes import MLPClassifier, MLPRegressor
from ._cv import MLPClassifierCV, MLPRegressorCV
from ._display import LossCurveDisplay
from ._preprocessing import SmoothClippedRobustScaler
from ._tabular import TabularMLPClassifier, TabularMLPRegressor

__version__ = "0.1.0.dev0"

__all__ = [
    "LossCurveDisplay",
    "MLPClassifier",
    "MLPClassifierCV",
    "MLPRegressor",
    "MLPRegressorCV",
    "SmoothClippedRobustScaler",
    "TabularMLPClassifier",
    "TabularMLPRegressor",
    "__version__",
]
