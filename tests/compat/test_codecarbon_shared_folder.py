"""A folder shared with CodeCarbon: nothing a user recorded disappears without a line saying so.

CodeCarbon (the real 3.3.2, offline, in a subprocess) renames a wattprint emissions.csv to
emissions.csv.bak when it writes into the same folder; wattprint then steps around CodeCarbon's
file. Each run must still be found, and wattprint must say where its rows went.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattprint.cli import app
from wattprint.records import CODECARBON_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

SCRIPT = """
import sys
from codecarbon import OfflineEmissionsTracker
from wattprint import Tracker

first = Tracker(project_name="wp-1", country="FRA", output_dir="shared").start().stop()
cc = OfflineEmissionsTracker(project_name="cc", country_iso_code="FRA", output_dir="shared")
cc.start(); cc.stop()
second = Tracker(project_name="wp-2", country="FRA", output_dir="shared")
second.start(); second.stop()
print(second.csv_path.name)
"""


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    pytest.importorskip("codecarbon")
    folder = tmp_path_factory.mktemp("shared-with-codecarbon")
    (folder / "shared").mkdir()
    (folder / "script.py").write_text(SCRIPT)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WATTPRINT_") and not k.lower().startswith("codecarbon_")
    }
    env.update(
        HOME=str(folder / "home"), XDG_CONFIG_HOME=str(folder / "xdg"), PYTHONPATH=str(ROOT / "src")
    )
    done = subprocess.run(
        [sys.executable, "script.py"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return folder / "shared", done.stdout.strip().splitlines()[-1]


def test_codecarbon_set_wattprints_file_aside_and_wattprint_says_where_rows_went(shared):
    folder, second_file = shared
    assert (folder / "emissions.csv.bak").is_file()  # wattprint's first run, renamed
    with open(folder / "emissions.csv", newline="") as f:
        assert next(csv.reader(f)) == list(CODECARBON_COLUMNS)
    assert second_file == "emissions_wattprint.csv" and (folder / second_file).is_file()


def test_report_on_the_folder_reads_codecarbons_backup_and_says_so(shared, caplog):
    folder, _ = shared
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        result = runner.invoke(app, ["report", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    total = json.loads(result.stdout)["total"]
    assert total["runs"] == 3  # wp-1 (in the .bak), cc, wp-2
    assert total["sources"] == {"wattprint": 2, "codecarbon": 1}
    assert any("emissions.csv.bak" in m and "read too" in m for m in caplog.messages)


def test_a_backup_that_is_not_an_emissions_csv_is_skipped_with_a_line(tmp_path, caplog):
    (tmp_path / "emissions.csv.bak").write_text("name,size\nx,1\n")
    with open(tmp_path / "emissions.csv", "w", newline="") as f:
        csv.writer(f).writerow(CODECARBON_COLUMNS)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        runner.invoke(app, ["report", str(tmp_path), "--json"])
    assert any("emissions.csv.bak" in m and "skipped" in m for m in caplog.messages)


def test_run_names_the_file_its_rows_went_to(machine, tmp_path):
    with open("emissions.csv", "w", newline="") as f:  # CodeCarbon's file, in the way
        csv.writer(f).writerow(CODECARBON_COLUMNS)
    result = runner.invoke(app, ["run", "--country", "FRA", "--", sys.executable, "-c", "pass"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "rows in ./emissions_wattprint.csv" in said
    assert "rows in ./emissions.csv" not in said
