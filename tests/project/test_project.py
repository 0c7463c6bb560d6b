"""The project's own promises: CI runs the README's test command, and the code is lint-clean."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_quick_start_is_two_commands_and_ci_runs_the_test_one():
    commands = quick_start_commands()
    assert len(commands) == 2
    install_and_run, test = commands
    assert "pip install ." in install_and_run and "examples/quickstart.py" in install_and_run
    assert (ROOT / "examples" / "quickstart.py").is_file()
    assert "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (ROOT / ".venv/bin/ruff").exists(),
    reason="ruff is installed by the test extra",
)
def test_code_is_ruff_clean():
    ruff = shutil.which("ruff") or str(ROOT / ".venv/bin/ruff")
    dirs = [d for d in ("src", "tests", "tools", "benchmarks", "examples") if (ROOT / d).is_dir()]
    done = subprocess.run([ruff, "check", *dirs], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_quickstart_example_runs_and_reports(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "quickstart.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "WATTPRINT_COUNTRY": "FRA",
            "WATTPRINT_ROOT": "/",
            "PYTHONPATH": str(ROOT / "src"),
        },
    )
    assert done.returncode == 0, done.stderr
    assert "fitted y = 3.00 x + -1.00" in done.stdout and "CO2eq" in done.stdout
    assert (tmp_path / "emissions.csv").is_file() and (tmp_path / "emissions_tasks.csv").is_file()
