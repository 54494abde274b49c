"""skreg: scikit-learn compatible neural networks built for generalization."""

from ._classes import MLPClassifier, MLPRegressor

__version__ = "0.1.0.dev0"

__all__ = ["MLPClassifier", "MLPRegressor", "__version__"]
