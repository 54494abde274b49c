"""Suite-wide settings."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """Run BLAS on one thread: the tests' small networks train faster that way
    on a loaded machine, and results do not depend on the thread count."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield
