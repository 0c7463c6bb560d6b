""" "At another time" beside "in another region": estimate and report, where a zone has hours."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from wattprint import Tracker
from wattprint.carbon import tables
from wattprint.carbon.location import Location
from wattprint.cli import app
from wattprint.report.whatif import runs_at_another_time, time_option

UTC = timezone.utc
runner = CliRunner()


def test_time_option_moves_a_californian_evening_job_into_the_sun():
    asked = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)  # 19:00 on 30 June in Los Angeles
    option = time_option(Location(zone="US-CAL-CISO"), 2.0, 2.0, asked)
    assert option is not None and option.zone == "US-CAL-CISO"
    assert 8 <= option.start.astimezone(ZoneInfo("America/Los_Angeles")).hour <= 15
    profile = tables.hourly_profile("US-CAL-CISO")
    assert option.intensity_at_once == pytest.approx((profile.at(6, 19) + profile.at(6, 20)) / 2)
    assert option.saving_kg == pytest.approx(
        2.0 * (option.intensity_at_once - option.intensity) / 1000
    )
    assert option.saving_pct > 20


def test_no_time_option_without_an_hourly_profile():
    assert time_option(Location(zone="FR"), 1.0, 1.0, datetime(2024, 7, 1, tzinfo=UTC)) is None


def test_runs_at_another_time_counts_only_zones_with_hours():
    start = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
    found = runs_at_another_time(
        [("US-CAL-CISO", start, 3600.0, 1.0), ("FR", start, 3600.0, 1.0), ("DE", start, 0.0, 1.0)]
    )
    assert found is not None and found["runs"] == 1 and found["zones"] == ["US-CAL-CISO"]
    assert found["saving_kg"] > 0
    assert runs_at_another_time([("FR", start, 3600.0, 1.0)]) is None


def test_estimate_says_what_another_time_would_save(machine):
    args = ["estimate", "--cpu", "AMD EPYC 9654", "--memory-gb", "256", "--hours", "2", "--json"]
    data = json.loads(runner.invoke(app, [*args, "--cloud", "aws", "--region", "us-west-1"]).stdout)
    t = data["at_another_time"]
    assert t["zone"] == "US-CAL-CISO" and t["saving_kg"] >= 0
    assert t["intensity_g_per_kwh"] <= t["intensity_at_once_g_per_kwh"]
    france = json.loads(runner.invoke(app, [*args, "--country", "FRA"]).stdout)
    assert france["at_another_time"] is None


def test_report_groups_say_what_another_time_would_have_saved(machine, tmp_path):
    out = tmp_path / "wp"
    for project in ("de", "fr"):
        zone = {"de": "DE", "fr": "FR"}[project]
        with Tracker(project_name=project, zone=zone, output_dir=out, interval_s=60):
            pass
    result = runner.invoke(app, ["report", str(out / "emissions.csv"), "--json"])
    assert result.exit_code == 0, result.output
    groups = {g["group"]: g for g in json.loads(result.stdout)["groups"]}
    assert groups["de"]["at_another_time"]["zones"] == ["DE"]
    assert groups["de"]["at_another_time"]["runs"] == 1
    assert groups["fr"]["at_another_time"] is None
