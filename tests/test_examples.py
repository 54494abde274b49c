"""Every example runs, in its reduced size, so that none can rot; the examples'
dataset loader finds PMLB's files, or says which bundled stand-in it used."""

import gzip
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
# files starting with "_" are helpers of the examples, not examples
EXAMPLES = sorted(p for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.slow  # each example runs in a fresh interpreter
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_example_runs(example, tmp_path):
    env = {
        **os.environ,
        "MPLBACKEND": "Agg",
        "SKREG_EXAMPLE_QUICK": "1",
        "SKREG_EXAMPLE_OUTPUT_DIR": str(tmp_path),
        # HistGradientBoosting's OpenMP threads spin-wait: on cores shared with
        # other work a 450-row fit took minutes instead of a second
        "OMP_NUM_THREADS": "1",
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
    # no warning or traceback reaches the user of a quick run
    assert "Traceback" not in result.stderr
    assert "Warning" not in result.stderr, result.stderr[-3000:]
    assert result.stdout.strip(), f"{example.name} printed nothing"
    if example.name.startswith("plot_") or example.name == "partial_fit_memmap.py":
        figures = list(tmp_path.glob("*.png"))
        assert figures, f"{example.name} saved no figure"
        assert f"figure saved to {figures[0]}" in result.stdout


def _datasets_module():
    spec = importlib.util.spec_from_file_location(
        "_datasets", EXAMPLES_DIR / "_datasets.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_examples_read_pmlb_files_from_the_data_directory(tmp_path, monkeypatch):
    datasets = _datasets_module()
    folder = tmp_path / "spambase"
    folder.mkdir()
    with gzip.open(folder / "spambase.tsv.gz", "wt") as f:
        f.write("a\tb\ttarget\n1.5\t2\t0\n3\t4.25\t1\n5\t6\t1\n")
    monkeypatch.setattr(datasets, "PMLB_DIR", tmp_path)
    X, y, source = datasets.load_dataset("spambase")
    np.testing.assert_array_equal(X, [[1.5, 2], [3, 4.25], [5, 6]])
    np.testing.assert_array_equal(y, [0, 1, 1])
    assert source == f"PMLB spambase, read from {folder / 'spambase.tsv.gz'}"


@pytest.mark.parametrize(
    ("name", "stand_in", "n_rows"),
    [("spambase", "breast cancer", 569), ("letter", "digits", 1797)],
)
def test_examples_fall_back_to_bundled_data_and_say_so(
    tmp_path, monkeypatch, name, stand_in, n_rows
):
    """Without the files and without a network: a bundled dataset, in one line."""
    datasets = _datasets_module()
    monkeypatch.setattr(datasets, "PMLB_DIR", tmp_path / "nowhere")
    calls = []

    def offline(name, cache):
        calls.append(name)
        raise OSError("no network")

    monkeypatch.setattr(datasets, "_from_pmlb", offline)
    monkeypatch.setattr(datasets, "_from_openml", offline)
    X, y, source = datasets.load_dataset(name)
    assert calls == [name, name]  # both downloads were tried
    assert X.shape[0] == len(y) == n_rows
    assert "\n" not in source
    assert f"{name} is not in {tmp_path / 'nowhere'}" in source
    assert f"bundled {stand_in} data instead" in source
    assert "pip install pmlb" in source


def test_examples_data_directory_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SKREG_DATA_DIR", str(tmp_path))
    assert _datasets_module().PMLB_DIR == tmp_path


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
