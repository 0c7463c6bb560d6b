"""``wattprint report --by run`` says which run each id is (project, experiment, start,
location), and ``--by experiment`` keeps two projects' experiments of the same name apart."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattprint.cli import app
from wattprint.records import COLUMNS

runner = CliRunner()

BASE = {
    "duration": "600", "emissions": "0.01", "energy_consumed": "0.05", "cpu_energy": "0.04",
    "gpu_energy": "0", "ram_energy": "0.01", "on_cloud": "N", "pue": "1.0", "status": "finished",
    "wattprint_version": "0.1.0", "country_iso_code": "FRA", "country_name": "France",
    "intensity_zone": "FR",
}  # fmt: skip


def write_runs(path: Path, runs: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        for row in runs:
            writer.writerow({**BASE, **row})
    return path


@pytest.fixture
def two_projects(tmp_path: Path) -> Path:
    return write_runs(
        tmp_path / "emissions.csv",
        [
            {
                "run_id": "run-a1",
                "project_name": "vision",
                "experiment_name": "baseline",
                "timestamp": "2026-02-01T10:10:00+00:00",
                "started_at": "2026-02-01T10:00:00+00:00",
            },
            {
                "run_id": "run-b1",
                "project_name": "speech",
                "experiment_name": "baseline",
                "timestamp": "2026-02-02T12:00:00+00:00",
                "emissions": "0.03",
                "on_cloud": "Y",
                "cloud_provider": "aws",
                "cloud_region": "eu-west-3",
            },
            {
                "run_id": "run-b2",
                "project_name": "speech",
                "experiment_name": "large",
                "timestamp": "2026-02-03T08:00:00+02:00",
                "country_iso_code": "DEU",
                "country_name": "Germany",
                "intensity_zone": "DE",
            },
        ],
    )


def report_json(*args: str) -> dict:
    result = runner.invoke(app, ["report", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_by_experiment_keeps_projects_apart(two_projects):
    data = report_json(str(two_projects), "--by", "experiment")
    groups = {g["group"]: g for g in data["groups"]}
    assert set(groups) == {"speech / baseline", "speech / large", "vision / baseline"}
    vision = groups["vision / baseline"]
    assert (vision["project"], vision["experiment"], vision["runs"]) == ("vision", "baseline", 1)
    assert vision["emissions"]["kg"] == pytest.approx(0.01)
    assert groups["speech / baseline"]["emissions"]["kg"] == pytest.approx(0.03)


def test_by_run_says_project_experiment_start_and_location(two_projects):
    data = report_json(str(two_projects), "--by", "run")
    groups = {g["group"]: g for g in data["groups"]}
    a1, b1, b2 = groups["run-a1"], groups["run-b1"], groups["run-b2"]
    assert (a1["project"], a1["experiment"]) == ("vision", "baseline")
    assert a1["start"] == "2026-02-01 10:00:00"  # its started_at
    assert b1["start"] == "2026-02-02 11:50:00"  # no started_at: the end less its 600 s
    assert b2["start"] == "2026-02-03 05:50:00"  # in UTC
    assert a1["locations"] == ["FR · France"]
    assert b1["locations"] == ["aws eu-west-3 · FR · France"]
    assert b2["locations"] == ["DE · Germany"]


def test_by_run_terminal_table_shows_them(two_projects):
    result = runner.invoke(
        app, ["report", str(two_projects), "--by", "run"], env={"COLUMNS": "160"}
    )
    assert result.exit_code == 0, result.output
    runs = result.stdout.split("Runs", 1)[1]
    line = next(x for x in runs.splitlines() if "run-b2" in x)
    for text in ("speech", "large", "2026-02-03 05:50:00", "DE · Germany"):
        assert text in line


def test_a_group_of_several_projects_names_none(two_projects):
    data = report_json(str(two_projects), "--by", "day")
    assert all(g["project"] is not None for g in data["groups"])  # one run a day
    total = data["total"]
    assert total["project"] is None and total["experiment"] is None
    assert total["start"] == "2026-02-01 10:00:00"


def test_by_run_html_page_names_each_run(two_projects, tmp_path):
    out = tmp_path / "runs.html"
    result = runner.invoke(app, ["report", str(two_projects), "--by", "run", "--html", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    runs = page[page.index("<h2>Runs</h2>") : page.index("<h2>Totals by run</h2>")]
    row = runs[runs.index("<td class=text>run-b2</td>") :].split("</tr>")[0]
    cells = [c.split(">", 1)[1] for c in row.split("</td>") if ">" in c]
    assert cells == ["run-b2", "speech", "large", "2026-02-03 05:50:00", "DE · Germany", "finished"]
