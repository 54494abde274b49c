"""scikit-learn's estimator checks over a matrix of configurations.

Expected failures are listed per configuration with the reason; each one is
due to training randomness the check cannot allow for (or, for float32
training, to rounding finer than the check's tolerance), never to a
deterministic configuration in float64.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skreg import MLPClassifier, MLPRegressor

SAMPLE_WEIGHT_CHECKS = (
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
)

RANDOM_PER_ROW = (
    "{} draws its randomness per row, so a row repeated k times gets k "
    "independent draws where a row of weight k gets one: fitting with weights "
    "cannot equal fitting on repeated rows."
)
RANDOM_SPLIT = (
    "the validation split is drawn over rows: repeated copies of a row fall on "
    "both sides of the split, while a weighted row falls on one side."
)
FLOAT32 = (
    "float32 training sums the weighted and the repeated rows in a different "
    "order; after 200 epochs predictions agree to ~1e-6, while the check "
    "demands rtol=1e-7, below float32 resolution. The same configuration in "
    "float64 (dtype='auto' on this data) passes."
)

COMMON = [
    {},
    {"solver": "lbfgs"},
    {"solver": "sgd"},
    {"l1_ratio": 0.5},
    {"l1_ratio": 1.0, "alpha": 1e-3},
    {"dtype": "float64"},
    {"batch_norm": True},
    {"max_norm": 1.0},
    {"batch_norm": True, "solver": "lbfgs"},
]
STOCHASTIC = {
    "dropout": ({"dropout": 0.2}, RANDOM_PER_ROW.format("dropout")),
    "input_dropout": ({"input_dropout": 0.1}, RANDOM_PER_ROW.format("input dropout")),
    "dropconnect": ({"dropconnect": 0.2}, RANDOM_PER_ROW.format("DropConnect")),
    "input_noise": ({"input_noise": 0.1}, RANDOM_PER_ROW.format("input noise")),
    "early_stopping": ({"early_stopping": True}, RANDOM_SPLIT),
    "float32": ({"dtype": "float32"}, FLOAT32),
    "everything": (
        {
            "dropout": 0.1,
            "input_dropout": 0.05,
            "dropconnect": 0.1,
            "batch_norm": True,
            "max_norm": 2.0,
            "input_noise": 0.05,
            "early_stopping": True,
            "l1_ratio": 0.5,
        },
        RANDOM_PER_ROW.format("dropout, DropConnect and noise"),
    ),
}


def _instances():
    for Estimator in (MLPClassifier, MLPRegressor):
        for params in COMMON:
            yield Estimator(**params)
        for params, _ in STOCHASTIC.values():
            yield Estimator(**params)
    yield MLPClassifier(class_weight="balanced")
    yield MLPClassifier(class_weight="balanced", solver="lbfgs")


def _expected_failed_checks(estimator):
    params = {
        key: value
        for key, value in estimator.get_params().items()
        if value != type(estimator)().get_params()[key]
    }
    for stochastic_params, reason in STOCHASTIC.values():
        if params == stochastic_params:
            return dict.fromkeys(SAMPLE_WEIGHT_CHECKS, reason)
    return {}


@parametrize_with_checks(
    list(_instances()), expected_failed_checks=_expected_failed_checks
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
