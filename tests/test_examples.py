"""Every example runs, in its reduced size, so that none can rot."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


# examples that read a dataset from ../shared/data beside the repository
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "pmlb"
NEEDS_DATA = {
    "plot_pipeline_grid_search.py": SHARED / "spambase" / "spambase.tsv.gz",
    "partial_fit_memmap.py": SHARED / "letter" / "letter.tsv.gz",
}


@pytest.mark.slow  # each example runs in a fresh interpreter
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(example, tmp_path):
    needed = NEEDS_DATA.get(example.name)
    if needed is not None and not needed.exists():
        pytest.skip(f"{example.name} needs {needed}, not on this machine")
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
        # only a guard against a hung example, far above any run time under
        # load: pass or fail must not depend on the machine's speed
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    if example.name.startswith("plot_"):
        assert list(tmp_path.glob("*.png")), f"{example.name} saved no figure"


def test_there_are_examples():
    assert any(path.name == "quickstart.py" for path in EXAMPLES)


def test_readme_quick_start_commands_match_the_project():
    """The README's two commands use real extras and scripts; CI runs the second."""
    root = Path(__file__).resolve().parents[1]
    block = re.search(
        r"## Quick start.*?```bash\n(.*?)```", (root / "README.md").read_text(), re.S
    )
    commands = block.group(1).strip().splitlines()
    assert commands == [
        'python3 -m pip install ".[examples]" && python3 examples/quickstart.py',
        'python3 -m pip install ".[test]" && python3 -m pytest',
    ]
    # tomllib needs Python 3.11; the extras are one "name = [...]" line each
    pyproject = (root / "pyproject.toml").read_text()
    for extra in ("examples", "test"):
        assert re.search(rf"^{extra} = \[", pyproject, re.M), extra
    assert (root / "examples" / "quickstart.py").is_file()
    ci = (root / ".ci" / "run").read_text()
    # the README's test command, word for word
    assert commands[1] in ci.splitlines()
