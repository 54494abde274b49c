"""Every example runs, in its reduced size, so that none can rot."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(example, tmp_path):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "SKREG_EXAMPLE_QUICK": "1",
        "SKREG_EXAMPLE_OUTPUT_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(example)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    if example.name.startswith("plot_"):
        assert list(tmp_path.glob("*.png")), f"{example.name} saved no figure"


def test_there_are_examples():
    assert any(path.name == "quickstart.py" for path in EXAMPLES)
