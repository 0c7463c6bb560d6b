"""The report's figures read as short decimals in the terminal and the HTML page, and its
table fits 80 columns without breaking a word."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.report.test_report import CC_ROW
from wattprint.records import CODECARBON_COLUMNS

BIN = Path(sys.executable).parent / "wattprint"
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "wattprint"]
EXPONENT = re.compile(r"\d[eE][+-]?\d")


@pytest.fixture
def small_runs(tmp_path: Path) -> Path:
    """A long project name, and a run of a few joules (the figures of the issue: 1.04e+03 J,
    3.96e-07 smartphone, 1.47e-06 day)."""
    path = tmp_path / "emissions.csv"
    tiny = dict(
        CC_ROW,
        run_id="cc-2",
        project_name="tiny",
        emissions="3.37e-5",
        energy_consumed="0.000289",
        cpu_energy="0.00028",
        ram_energy="0.000009",
    )
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CODECARBON_COLUMNS)
        writer.writeheader()
        writer.writerow(dict(CC_ROW, project_name="bert-finetune-large"))
        writer.writerow(tiny)
    return path


def test_the_terminal_report_at_80_columns(small_runs):
    done = subprocess.run(
        [*COMMAND, "report", str(small_runs)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), done.stdout
    assert not EXPONENT.search(done.stdout), done.stdout
    # Each row of the table is whole on one line: its name and every figure unbroken.
    (big,) = [line for line in lines if line.startswith("bert-finetune-large ")]
    assert big.split()[1:] == [
        "1",
        "1.7",
        "min",
        "20",
        "Wh",
        "0",
        "J",
        "5",
        "Wh",
        "25",
        "Wh",
        "10",
        "g",
        "400",
    ]
    (tiny,) = [line for line in lines if line.startswith("tiny ")]
    assert "1040 J" in tiny and "33.7 mg" in tiny
    assert "smartphone manufacture: 1 in 8500 smartphones" in " ".join(lines)  # 10.03 g


def test_the_html_report_has_no_exponents(small_runs, tmp_path):
    pytest.importorskip("plotly")
    out = tmp_path / "r.html"
    done = subprocess.run(
        [*COMMAND, "report", str(small_runs), "--html", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    body = page[page.index("<body>") : page.index('<script type="application/json"')]
    assert not EXPONENT.search(body), EXPONENT.search(body)
    assert ">1 in 8500 smartphones</td>" in body and "<td>1040 J</td>" in body
