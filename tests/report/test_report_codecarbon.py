"""``wattprint report`` on files written by the real ``codecarbon`` package (3.3.2).

One subprocess runs CodeCarbon, offline, the way people use it: a run that flushes (two rows, one
run), a run in task mode (which also writes CodeCarbon's tasks file beside the CSV), a cloud run;
in a second folder, a run with ``on_csv_write="update"`` (the whole file rewritten by pandas);
and, in a third, the same kind of run through ``wattprint.compat.codecarbon``. The report must
count each run once, with its last row, and total what CodeCarbon wrote.

CodeCarbon 2.x headers (fewer columns) are written by hand from the headers those versions wrote.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.report.test_report import last_rows, report, rows
from wattprint.cli import app
from wattprint.records import CODECARBON_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()

SCRIPT = """
import time
from codecarbon import OfflineEmissionsTracker
from wattprint.compat.codecarbon import OfflineEmissionsTracker as CompatTracker

def work(seconds=0.1):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass

# append/: the default mode
t = OfflineEmissionsTracker(project_name="alpha", country_iso_code="FRA", experiment_id="exp-a",
                            output_dir="append")
t.start(); work(); t.flush(); work(); t.stop()
t = OfflineEmissionsTracker(project_name="beta", country_iso_code="DEU", output_dir="append")
t.start_task("load"); work(); t.stop_task(); t.start_task("fit"); work(); t.stop_task(); t.stop()
t = OfflineEmissionsTracker(project_name="cloud", cloud_provider="gcp",
                            cloud_region="europe-west1", output_dir="append")
t.start(); work(); t.stop()

# update/: on_csv_write="update" rewrites the file with pandas
t = OfflineEmissionsTracker(project_name="gamma", country_iso_code="FRA", output_dir="update")
t.start(); work(); t.stop()
t = OfflineEmissionsTracker(project_name="gamma", country_iso_code="FRA", output_dir="update",
                            on_csv_write="update")
t.start(); work(); t.flush(); work(); t.stop()

# compat/: the same kind of run measured by wattprint
t = CompatTracker(project_name="alpha", country_iso_code="FRA", output_dir="compat")
t.start(); work(); t.flush(); work(); t.stop()
"""


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("codecarbon-files")
    for name in ("append", "update", "compat", "home"):
        (folder / name).mkdir()
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
    return folder


def test_the_files_are_codecarbons(produced):
    path = produced / "append" / "emissions.csv"
    with open(path, newline="") as f:
        assert next(csv.reader(f)) == list(CODECARBON_COLUMNS)
    all_rows = rows(path)
    assert len(all_rows) == 4 and len(last_rows(path)) == 3  # alpha flushed once
    assert all(r["codecarbon_version"] == "3.3.2" for r in all_rows)
    tasks = sorted(p.name for p in (produced / "append").glob("emissions_*.csv"))
    assert len(tasks) == 1 and tasks[0].startswith("emissions_base_")


def test_report_counts_each_codecarbon_run_once_with_its_last_row(produced):
    path = produced / "append" / "emissions.csv"
    last = last_rows(path)
    data = report(str(path))
    total = data["total"]
    assert total["runs"] == 3
    assert total["sources"] == {"codecarbon": 3}
    assert total["emissions"]["kg"] == pytest.approx(
        sum(float(r["emissions"]) for r in last.values())
    )
    assert total["energy"]["total"]["kwh"] == pytest.approx(
        sum(float(r["energy_consumed"]) for r in last.values())
    )
    for c in ("cpu", "gpu", "ram"):
        assert total["energy"][c]["kwh"] == pytest.approx(
            sum(float(r[f"{c}_energy"]) for r in last.values())
        )
        assert total["energy"][c]["unknown_runs"] == 0
    assert total["duration_s"] == pytest.approx(sum(float(r["duration"]) for r in last.values()))
    every = sum(float(r["emissions"]) for r in rows(path))
    assert every > total["emissions"]["kg"]  # the flush row is not counted twice
    # CodeCarbon states no bounds, methods or intensity source: said, not invented.
    assert total["emissions"]["low_kg"] is None
    assert total["emissions"]["bounds"].startswith("no bounds")
    assert total["methods"]["cpu"] == ["codecarbon (not stated)"]
    assert total["intensity"]["sources"] == ["codecarbon (not stated)"]

    groups = {g["group"]: g for g in data["groups"]}
    assert set(groups) == {"alpha", "beta", "cloud"}
    alpha = next(r for r in last.values() if r["project_name"] == "alpha")
    assert groups["alpha"]["emissions"]["kg"] == pytest.approx(float(alpha["emissions"]))
    assert groups["alpha"]["intensity"]["g_per_kwh"] == pytest.approx(
        float(alpha["emissions"]) * 1000 / float(alpha["energy_consumed"])
    )
    assert groups["alpha"]["country"] == "FRA" and groups["beta"]["country"] == "DEU"


def test_report_groups_codecarbon_runs_by_experiment_run_and_day(produced):
    path = produced / "append" / "emissions.csv"
    last = last_rows(path)
    by_exp = report(str(path), "--by", "experiment")
    experiments = defaultdict(int)
    for r in last.values():  # an experiment belongs to its project
        experiments[f"{r['project_name']} / {r['experiment_id']}"] += 1
    assert {g["group"]: g["runs"] for g in by_exp["groups"]} == dict(experiments)
    assert "alpha / exp-a" in experiments
    by_run = report(str(path), "--by", "run")
    assert sorted(g["group"] for g in by_run["groups"]) == sorted(last)
    by_day = report(str(path), "--by", "day")
    days = {r["timestamp"][:10] for r in last.values()}  # CodeCarbon's naive local time
    assert {g["group"] for g in by_day["groups"]} == days
    day = min(days)
    assert report(str(path), "--since", day)["total"]["runs"] == 3
    assert report(str(path), "--since", "2999-01-01")["total"] is None


def test_report_cloud_what_if_on_a_codecarbon_cloud_run(produced):
    path = produced / "append" / "emissions.csv"
    cloud_row = next(r for r in last_rows(path).values() if r["project_name"] == "cloud")
    assert (cloud_row["on_cloud"], cloud_row["cloud_provider"]) == ("Y", "gcp")
    data = report(str(path))
    (cloud,) = [g for g in data["groups"] if g["group"] == "cloud"]
    (option,) = cloud["elsewhere"]
    assert option["provider"] == "gcp" and option["regions"] == ["europe-west1"]
    assert option["actual_kg"] == pytest.approx(float(cloud_row["emissions"]))
    assert option["kg"] <= option["actual_kg"]


def test_report_renders_a_codecarbon_file_as_a_table(produced):
    result = runner.invoke(app, ["report", str(produced / "append" / "emissions.csv")])
    assert result.exit_code == 0, result.output
    for word in ("alpha", "beta", "cloud", "CO2eq", "How it was obtained"):
        assert word in result.stdout


def test_report_on_a_file_rewritten_by_on_csv_write_update(produced):
    path = produced / "update" / "emissions.csv"
    last = last_rows(path)
    assert len(last) == 2 and len(rows(path)) == 2  # "update" kept one row per run
    data = report(str(path))
    assert data["total"]["runs"] == 2
    assert data["total"]["emissions"]["kg"] == pytest.approx(
        sum(float(r["emissions"]) for r in last.values())
    )


def test_report_on_codecarbon_and_compat_files_together(produced):
    cc = produced / "append" / "emissions.csv"
    wp = produced / "compat" / "emissions.csv"
    wp_last = last_rows(wp)
    assert len(wp_last) == 1 and [r["status"] for r in rows(wp)] == ["running", "finished"]
    data = report(str(cc), str(wp))
    assert data["total"]["runs"] == 4
    assert data["total"]["sources"] == {"codecarbon": 3, "wattprint": 1}
    (alpha,) = [g for g in data["groups"] if g["group"] == "alpha"]
    assert alpha["runs"] == 2 and alpha["sources"] == {"codecarbon": 1, "wattprint": 1}
    expected = sum(float(r["emissions"]) for r in (*last_rows(cc).values(), *wp_last.values()))
    assert data["total"]["emissions"]["kg"] == pytest.approx(expected)


def test_codecarbons_tasks_file_named_alone_is_refused_clearly(produced):
    (tasks,) = (produced / "append").glob("emissions_base_*.csv")
    result = runner.invoke(app, ["report", str(tasks)])
    assert result.exit_code == 2
    assert "tasks file" in result.output


def test_report_on_a_codecarbon_output_folder_with_its_tasks_file(produced):
    data = report(str(produced / "append"))
    assert data["files"] == [str(produced / "append" / "emissions.csv")]
    assert data["total"]["runs"] == 3


# CodeCarbon 2.x wrote fewer columns; these are the headers those versions wrote.
HEADER_2_0 = (
    "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
    "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,"
    "region,cloud_provider,cloud_region,os,python_version,cpu_count,cpu_model,gpu_count,"
    "gpu_model,longitude,latitude,ram_total_size,tracking_mode,on_cloud"
)
HEADER_2_3 = (
    "timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,gpu_power,"
    "ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,country_iso_code,"
    "region,cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,"
    "cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,on_cloud,pue"
)
CODECARBON_2_TASKS = (
    "task_name,timestamp,project_name,run_id,duration,emissions,emissions_rate,cpu_power,"
    "gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,country_name,"
    "country_iso_code,region,cloud_provider,cloud_region,os,python_version,codecarbon_version,"
    "cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,ram_total_size,tracking_mode,"
    "on_cloud"
)


def test_report_on_codecarbon_2_headers(tmp_path):
    old = tmp_path / "v2.0.csv"
    old.write_text(
        HEADER_2_0 + "\n"
        "2022-11-26T10:32:27,codecarbon,cc2e23fa-52a8-4ea3-a4dc-f039451bcdc4,0.871,4.1e-07,"
        "4.7e-07,7.5,0.0,3.0,1.8e-06,0.0,7.2e-07,2.5e-06,France,FRA,,,,Linux,3.9.13,4,"
        "Intel(R) Core(TM) i7-8565U CPU @ 1.80GHz,,,,,7.7,machine,N\n"
    )
    newer = tmp_path / "v2.3.csv"
    newer.write_text(
        HEADER_2_3 + "\n"
        "2024-04-13T21:30:53,3CABTP,2012a217-6530-46c0-b1d2-9c3929fb2397,1.32,1.5e-06,1.1e-06,"
        "42.5,0.0,5.8,1.5e-05,0.0,2.1e-06,1.7e-05,Canada,CAN,quebec,,,Windows-10,3.11.5,2.3.4,"
        "8,AMD Ryzen 7,1,1 x NVIDIA GeForce RTX 3060,-71.2,46.8,15.4,machine,N,1.0\n"
        "2024-04-13T21:31:10,3CABTP,2012a217-6530-46c0-b1d2-9c3929fb2397,18.0,2.0e-05,1.1e-06,"
        "42.5,9.0,5.8,2.1e-04,4.5e-05,2.9e-05,2.8e-04,Canada,CAN,quebec,,,Windows-10,3.11.5,"
        "2.3.4,8,AMD Ryzen 7,1,1 x NVIDIA GeForce RTX 3060,-71.2,46.8,15.4,machine,N,1.0\n"
    )
    data = report(str(old), str(newer))
    assert data["total"]["runs"] == 2
    assert data["total"]["emissions"]["kg"] == pytest.approx(4.1e-07 + 2.0e-05)
    assert data["total"]["energy"]["gpu"]["kwh"] == pytest.approx(4.5e-05)
    assert data["total"]["energy"]["gpu"]["unknown_runs"] == 0
    by_exp = report(str(old), "--by", "experiment")
    assert [g["group"] for g in by_exp["groups"]] == ["codecarbon / (none)"]  # no experiment_id
    tasks = tmp_path / "emissions_base_2012a217.csv"
    tasks.write_text(CODECARBON_2_TASKS + "\n")
    refused = runner.invoke(app, ["report", str(tasks)])
    assert refused.exit_code == 2 and "tasks file" in refused.output
