"""Suite-wide settings."""

import os

import pytest
from hypothesis import settings
from threadpoolctl import threadpool_limits

# Hypothesis: "ci" draws the same examples on every run (derandomize), so a
# failure in CI repeats on the next run and on a developer's machine with
# HYPOTHESIS_PROFILE=ci; locally the default profile explores new examples
# each run. CI services set CI (GitHub Actions, GitLab, ...), and .ci/run does.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """Run BLAS on one thread: the tests' small networks train faster that way
    on a loaded machine, and results do not depend on the thread count."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
