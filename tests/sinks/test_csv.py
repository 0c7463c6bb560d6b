"""emissions.csv: CodeCarbon's 38 columns first, and nobody's file is ever damaged."""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from wattprint import Tracker
from wattprint.records import COLUMNS, TASK_COLUMNS

# CodeCarbon 3.x's output columns, in its order, as its documentation lists them.
CODECARBON_3 = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,"
    "gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,"
    "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
    "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
    "ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,"
    "ram_utilization_percent,ram_used_gb,on_cloud,pue,wue"
).split(",")

OURS = ["status", "cpu_method", "gpu_method", "ram_method", "energy_low_kwh", "energy_high_kwh",
        "emissions_low_kg", "emissions_high_kg", "intensity_g_per_kwh", "intensity_source",
        "intensity_year", "location_source", "wattprint_version"]  # fmt: skip


def header(path: str) -> list[str]:
    with open(path, newline="") as f:
        return next(csv.reader(f))


def test_header_starts_with_codecarbons_38_columns_then_ours(machine):
    tracker = Tracker(country="FRA").start()
    with tracker.task("t"):
        pass
    tracker.stop()
    names = header("emissions.csv")
    assert len(CODECARBON_3) == 38
    assert names[:38] == CODECARBON_3
    assert set(OURS) <= set(names[38:])
    assert names == list(COLUMNS) and header("emissions_tasks.csv") == list(TASK_COLUMNS)
    assert TASK_COLUMNS[-1] == "task_name"


def test_units_are_codecarbons(machine):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=0)
    tracker = Tracker(country="FRA").start()
    machine.set_energy("intel-rapl:0", 3_600_000_000)  # 3600 J = 1 Wh
    tracker.stop()
    row = next(csv.DictReader(open("emissions.csv")))
    assert float(row["cpu_energy"]) == 0.001  # kWh
    energy = float(row["energy_consumed"])  # kWh: cpu + ram here
    assert energy == float(row["cpu_energy"]) + float(row["ram_energy"])
    intensity = float(row["intensity_g_per_kwh"])
    assert abs(float(row["emissions"]) - energy * intensity / 1000) < 1e-12  # kg
    assert float(row["ram_total_size"]) == 15.259  # GiB, as CodeCarbon (16 000 000 kB)
    assert row["country_iso_code"] == "FRA" and row["country_name"] == "France"
    assert row["intensity_year"] and row["intensity_zone"] == "FR" and row["wattprint_version"]
    assert row["on_cloud"] == "N" and row["tracking_mode"] == "machine"


def test_file_with_another_header_is_left_untouched(machine, caplog):
    theirs = "timestamp,project_name,run_id,emissions\n2024-01-01T00:00:00,old,abc,0.1\n"
    Path("emissions.csv").write_text(theirs)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        Tracker(country="FRA").start().stop()
        Tracker(country="FRA").start().stop()
    assert Path("emissions.csv").read_text() == theirs
    assert header("emissions_wattprint.csv") == list(COLUMNS)
    assert len(list(csv.DictReader(open("emissions_wattprint.csv")))) == 2
    said = [m for m in caplog.messages if "left untouched" in m]
    assert len(said) == 1 and "emissions_wattprint.csv" in said[0]


def test_codecarbons_own_file_is_left_untouched(machine):
    theirs = ",".join(CODECARBON_3) + "\n" + ",".join(["x"] * 38) + "\n"
    Path("emissions.csv").write_text(theirs)
    Tracker(country="FRA").start().stop()
    assert Path("emissions.csv").read_text() == theirs
    assert Path("emissions_wattprint.csv").exists()


def test_rows_are_appended_to_our_own_file(machine):
    for _ in range(3):
        Tracker(country="FRA").start().stop()
    assert len(list(csv.DictReader(open("emissions.csv")))) == 3
    assert not Path("emissions_wattprint.csv").exists()
