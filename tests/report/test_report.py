"""``wattprint report``: wattprint's and CodeCarbon's emissions.csv, last row per run, groups,
--since, --by day, JSON, equivalents and the cloud what-if."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fakes.fakesys import cpu_stat
from wattprint import Tracker
from wattprint.cli import app
from wattprint.records import CODECARBON_COLUMNS
from wattprint.report.equivalents import equivalents, factors
from wattprint.report.whatif import region_options

runner = CliRunner()


def report(*args: str) -> dict:
    result = runner.invoke(app, ["report", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def last_rows(path: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for row in rows(path):
        out[row["run_id"]] = row  # the file is in time order
    return out


@pytest.fixture
def wattprint_csv(machine, tmp_path: Path) -> Path:
    out = tmp_path / "wp"
    busy = 1000
    for project, flush in (("alpha", True), ("alpha", False), ("beta", False)):
        tracker = Tracker(
            project_name=project,
            experiment_name=f"{project}-exp",
            country="FRA",
            output_dir=out,
            interval_s=60,
        ).start()
        busy += 500
        machine.write("/proc/stat", cpu_stat(busy, 9000 + busy))
        time.sleep(0.02)
        if flush:
            tracker.flush()
            busy += 500
            machine.write("/proc/stat", cpu_stat(busy, 9000 + busy))
            time.sleep(0.02)
        tracker.stop()
    return out / "emissions.csv"


CC_ROW = {
    "timestamp": "2024-03-01T10:00:00", "project_name": "gamma", "run_id": "cc-1",
    "experiment_id": "exp-cc", "duration": "100", "emissions": "0.01", "emissions_rate": "1e-4",
    "cpu_power": "40", "gpu_power": "0", "ram_power": "10", "cpu_energy": "0.02",
    "gpu_energy": "0", "ram_energy": "0.005", "energy_consumed": "0.025", "water_consumed": "0",
    "country_name": "United States", "country_iso_code": "USA", "region": "virginia",
    "cloud_provider": "", "cloud_region": "", "os": "Linux", "python_version": "3.11",
    "codecarbon_version": "3.0.1", "cpu_count": "8", "cpu_model": "x", "gpu_count": "0",
    "gpu_model": "", "longitude": "", "latitude": "", "ram_total_size": "16",
    "tracking_mode": "machine", "cpu_utilization_percent": "50",
    "gpu_utilization_percent": "0", "ram_utilization_percent": "30", "ram_used_gb": "4",
    "on_cloud": "N", "pue": "1.0", "wue": "0",
}  # fmt: skip


@pytest.fixture
def codecarbon_csv(tmp_path: Path) -> Path:
    path = tmp_path / "cc" / "emissions.csv"
    path.parent.mkdir()
    first = dict(
        CC_ROW,
        timestamp="2024-03-01T09:00:00",
        emissions="0.004",
        cpu_energy="0.01",
        ram_energy="0.002",
        energy_consumed="0.012",
        duration="40",
    )
    cloud = dict(
        CC_ROW,
        run_id="cc-2",
        timestamp="2024-03-05T12:00:00",
        on_cloud="Y",
        cloud_provider="aws",
        cloud_region="us-east-1",
        emissions="0.2",
        energy_consumed="0.5",
        cpu_energy="0.4",
        ram_energy="0.1",
        pue="1.0",
    )
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CODECARBON_COLUMNS)
        writer.writeheader()
        for row in (first, CC_ROW, cloud):
            writer.writerow(row)
    return path


OLD_HEADER = (
    "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,"
    "ram_power,cpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,"
    "region,cloud_provider,cloud_region,os,python_version,cpu_count,cpu_model,"
    "longitude,latitude,ram_total_size,tracking_mode,on_cloud"
)


@pytest.fixture
def old_codecarbon_csv(tmp_path: Path) -> Path:
    path = tmp_path / "old" / "emissions.csv"
    path.parent.mkdir()
    path.write_text(
        OLD_HEADER + "\n"
        "2022-06-01T08:00:00,gamma,old-1,50,0.003,6e-5,30,5,0.008,0.002,0.01,Germany,DEU,,,,"
        "Linux,3.9,4,y,,,8,machine,N\n"
    )
    return path


def test_wattprint_groups_sum_the_last_row_of_each_run(wattprint_csv):
    all_rows = rows(wattprint_csv)
    assert [r["status"] for r in all_rows].count("running") == 1  # one flush row
    last = last_rows(wattprint_csv)
    assert len(last) == 3 and all(r["status"] == "finished" for r in last.values())
    data = report(str(wattprint_csv))
    groups = {g["group"]: g for g in data["groups"]}
    assert set(groups) == {"alpha", "beta"}
    alpha = [r for r in last.values() if r["project_name"] == "alpha"]
    g = groups["alpha"]
    assert g["runs"] == 2 and g["statuses"] == {"finished": 2}
    assert g["emissions"]["kg"] == pytest.approx(sum(float(r["emissions"]) for r in alpha))
    assert g["energy"]["cpu"]["kwh"] == pytest.approx(sum(float(r["cpu_energy"]) for r in alpha))
    assert g["energy"]["total"]["kwh"] == pytest.approx(
        sum(float(r["energy_consumed"]) for r in alpha)
    )
    assert g["emissions"]["low_kg"] == pytest.approx(
        sum(float(r["emissions_low_kg"]) for r in alpha)
    )
    assert g["emissions"]["low_kg"] <= g["emissions"]["kg"] <= g["emissions"]["high_kg"]
    # the flush row is not counted: summing every row would give more
    every = sum(float(r["emissions"]) for r in all_rows if r["project_name"] == "alpha")
    assert every > g["emissions"]["kg"]
    assert g["methods"]["cpu"] == ["cpu-model"]
    assert g["intensity"]["g_per_kwh"] == pytest.approx(
        float(alpha[0]["intensity_g_per_kwh"]), rel=1e-6
    )
    assert g["intensity"]["kinds"] == ["zone-annual"]
    assert g["country"] == "FRA" and data["total"]["runs"] == 3


def test_folder_argument_and_by_experiment(wattprint_csv):
    data = report(str(wattprint_csv.parent), "--by", "experiment")
    assert data["files"] == [str(wattprint_csv)]  # not emissions_tasks.csv
    assert [g["group"] for g in data["groups"]] == ["alpha / alpha-exp", "beta / beta-exp"]
    runs = report(str(wattprint_csv), "--by", "run")
    assert len(runs["groups"]) == 3 and all(g["runs"] == 1 for g in runs["groups"])


def test_default_file_is_emissions_csv_in_the_working_directory(wattprint_csv, monkeypatch):
    monkeypatch.chdir(wattprint_csv.parent)
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 0, result.output
    assert "alpha" in result.stdout and "beta" in result.stdout and "CO2eq" in result.stdout


def test_codecarbon_rows_last_per_run_no_bounds_since_and_by_day(codecarbon_csv):
    data = report(str(codecarbon_csv))
    (g,) = data["groups"]
    assert g["group"] == "gamma" and g["runs"] == 2
    assert g["emissions"]["kg"] == pytest.approx(0.01 + 0.2)  # not the 0.004 flush-like row
    assert g["duration_s"] == pytest.approx(200)
    assert g["emissions"]["low_kg"] is None and g["emissions"]["bounds"].startswith("no bounds")
    assert g["intensity"]["g_per_kwh"] == pytest.approx(210 / 0.525)
    assert g["sources"] == {"codecarbon": 2}
    by_exp = report(str(codecarbon_csv), "--by", "experiment")
    assert [x["group"] for x in by_exp["groups"]] == ["gamma / exp-cc"]
    days = report(str(codecarbon_csv), "--by", "day")
    assert [(x["group"], x["runs"]) for x in days["groups"]] == [
        ("2024-03-01", 1),
        ("2024-03-05", 1),
    ]
    since = report(str(codecarbon_csv), "--since", "2024-03-02")
    assert since["since"] == "2024-03-02"
    assert since["total"]["runs"] == 1 and since["total"]["emissions"]["kg"] == pytest.approx(0.2)
    none = report(str(codecarbon_csv), "--since", "2025-01-01")
    assert none["groups"] == [] and none["total"] is None


def test_older_codecarbon_header_leaves_missing_columns_unknown(old_codecarbon_csv, codecarbon_csv):
    data = report(str(old_codecarbon_csv), str(codecarbon_csv))
    (g,) = data["groups"]
    assert g["runs"] == 3
    assert g["energy"]["gpu"]["unknown_runs"] == 1  # the old file has no gpu_energy column
    assert g["energy"]["gpu"]["kwh"] == pytest.approx(0.0)  # the known ones: 0 and 0
    assert g["energy"]["cpu"]["kwh"] == pytest.approx(0.008 + 0.02 + 0.4)
    old = report(str(old_codecarbon_csv))
    assert old["groups"][0]["energy"]["gpu"] == {"kwh": None, "unknown_runs": 1}
    assert old["groups"][0]["machine"]["energy_kwh"] is None
    # the car figure follows the country: Germany is in the EU
    assert old["groups"][0]["equivalents"][0]["label"] == "distance by car (EU)"


def test_mixed_wattprint_and_codecarbon_say_no_bounds(wattprint_csv, codecarbon_csv):
    data = report(str(wattprint_csv), str(codecarbon_csv))
    assert data["total"]["runs"] == 5
    assert data["total"]["emissions"]["low_kg"] is None
    assert "2 CodeCarbon" in data["total"]["emissions"]["bounds"]


def test_equivalents_are_kg_over_the_factor_and_car_follows_the_country():
    table = factors()
    for f in table.values():
        assert f.grams_co2e > 0 and f.source and f.year and f.license
    us = equivalents(2.0, "USA")
    assert us[0].label == "distance by car (US)"
    assert us[0].amount == pytest.approx(2000 / table["car_us"].grams_co2e)
    fr = equivalents(2.0, "FRA")
    assert fr[0].amount == pytest.approx(2000 / 106.8) and fr[0].note.count("EU car") == 0
    other = equivalents(2.0, "IND")
    assert other[0].label == "distance by car (EU)" and "IND" in other[0].note
    assert equivalents(2.0, None)[0].note.startswith("EU car figure used for an unknown")
    by_label = {e.label: e for e in fr}
    assert by_label["video streaming"].amount == pytest.approx(2000 / 36)
    assert by_label["flight share (economy)"].unit == "passenger-km"
    assert {"smartphone", "day"} <= {e.unit for e in fr}


def test_report_equivalents_match_the_group_emissions(codecarbon_csv):
    g = report(str(codecarbon_csv))["groups"][0]
    assert g["country"] == "USA"
    car = g["equivalents"][0]
    assert car["label"] == "distance by car (US)"
    assert car["amount"] == pytest.approx(g["emissions"]["kg"] * 1000 / car["factor_g"])


def test_cloud_runs_get_the_lowest_carbon_region_of_their_provider(codecarbon_csv):
    g = report(str(codecarbon_csv))["groups"][0]
    (o,) = g["elsewhere"]
    best = region_options("aws", 0.5)[0]
    assert o["provider"] == "aws" and o["runs"] == 1 and o["regions"] == ["us-east-1"]
    assert o["best_region"] == best.region and o["kg"] == pytest.approx(best.emissions_kg)
    assert o["actual_kg"] == pytest.approx(0.2) and o["kg"] < o["actual_kg"]
    result = runner.invoke(app, ["report", str(codecarbon_csv)])
    assert result.exit_code == 0 and best.region in result.stdout


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("a,b,c\n1,2,3\n", "neither a wattprint nor a CodeCarbon"),
        ("timestamp,project_name,run_id,duration,emissions\nyesterday,p,r,1,1\n", "ISO"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "emissions.csv"
    if content is not None:
        path.write_text(content)
    result = runner.invoke(app, ["report", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("wattprint: ")


def test_bad_options_exit_2(codecarbon_csv):
    for args in (["--since", "March"], ["--by", "week"]):
        result = runner.invoke(app, ["report", str(codecarbon_csv), *args])
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
