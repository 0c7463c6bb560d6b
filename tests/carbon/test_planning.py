"""Planning over synthetic forecasts with known optima, waiting on a fake clock, the shifted record.

No test here sleeps for real: ``wait_for`` and ``wait_command`` take the FakeClock's sleep.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

import wattprint
from tests.fakes.fakeproviders import FakeClock
from wattprint.aware import carbon_aware
from wattprint.carbon.forecasts import Forecast, ForecastPoint
from wattprint.carbon.grid import zone_key
from wattprint.carbon.planning import parse_duration, plan, shift_info, wait_for
from wattprint.carbon.shift import ShiftInfo, saving_kg
from wattprint.cli import app
from wattprint.cli.plan import PlanOptions, wait_command

UTC = timezone.utc
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def hourly(values: list[float], start: datetime = T0, zone: str = "TEST", spread: float = 0.0):
    """A forecast of one value per hour from ``start``; bounds value -/+ spread."""
    points = tuple(
        ForecastPoint(
            start + timedelta(hours=i), start + timedelta(hours=i + 1), v, v - spread, v + spread
        )
        for i, v in enumerate(values)
    )
    return Forecast(zone, points, "typical-day", "average", "synthetic")


def fixed(f: Forecast):
    return lambda location, start, end: f


# -- the optimum -----------------------------------------------------------------------------------


def test_the_known_optimum_is_found():
    f = hourly([500, 400, 100, 90, 110, 400, 500, 500])
    p = plan("3h", within="5h", places=["DE"], now=T0, forecaster=fixed(f))
    assert p.best.start == T0 + timedelta(hours=2)
    assert p.best.intensity == pytest.approx(100.0)
    assert p.now.start == T0 and p.now.intensity == pytest.approx(1000 / 3)
    assert p.saving_g_per_kwh == pytest.approx(1000 / 3 - 100)
    assert p.ranked_by == "intensity" and p.saving_kg is None
    assert any("ranked by intensity alone" in n for n in p.notes)


def test_ties_go_to_the_earliest_start():
    f = hourly([300, 100, 300, 100, 300, 300])
    p = plan("1h", within="4h", places=["DE"], now=T0, forecaster=fixed(f))
    assert p.best.start == T0 + timedelta(hours=1)
    assert p.options[0].start == T0 + timedelta(hours=3)  # the tie comes next


def test_the_optimum_is_exact_between_period_boundaries():
    # Random half-hourly forecasts, asked at an odd minute: the plan's optimum equals a
    # minute-by-minute scan of every start.
    rng = random.Random(7)
    asked = T0 + timedelta(minutes=17)
    for _ in range(20):
        values = [rng.uniform(50, 500) for _ in range(30)]
        points = tuple(
            ForecastPoint(
                T0 + timedelta(minutes=30 * i), T0 + timedelta(minutes=30 * (i + 1)), v, v, v
            )
            for i, v in enumerate(values)
        )
        f = Forecast("TEST", points, "provider-forecast", "average", "synthetic")
        duration = timedelta(minutes=rng.choice([20, 45, 90, 150]))
        p = plan(duration, within="10h", places=["DE"], now=asked, forecaster=fixed(f))
        scan = min(
            f.mean(asked + timedelta(minutes=m), asked + timedelta(minutes=m) + duration)[0]
            for m in range(0, 601)
        )
        assert p.best.intensity <= scan + 1e-9


def test_energy_gives_emissions_and_a_saving_with_bounds():
    f = hourly([400, 400, 100, 100], spread=50)
    p = plan("1h", within="3h", places=["DE"], now=T0, power_w=2000, forecaster=fixed(f))
    assert p.energy_kwh == pytest.approx(2.0) and p.ranked_by == "emissions"
    assert p.best.emissions_kg == pytest.approx(0.2)
    assert p.now.emissions_kg == pytest.approx(0.8)
    kg, low, high = p.saving_kg
    assert kg == pytest.approx(0.6)
    assert (low, high) == pytest.approx((0.4, 0.8))  # (350 - 150) and (450 - 50) g/kWh x 2 kWh


def test_energy_and_power_together_are_refused():
    with pytest.raises(ValueError, match="not both"):
        plan("1h", places=["DE"], now=T0, energy_kwh=1, power_w=100)


def test_a_deadline_shorter_than_the_job_is_refused():
    with pytest.raises(ValueError, match="takes 3 h but the deadline .* 2 h away"):
        plan("3h", deadline=T0 + timedelta(hours=2), places=["DE"], now=T0)


def test_the_deadline_bounds_the_end_of_the_job():
    f = hourly([300, 300, 200, 300, 300, 10, 10])
    p = plan(
        "2h",
        within="24h",
        deadline=T0 + timedelta(hours=5),
        places=["DE"],
        now=T0,
        forecaster=fixed(f),
    )
    assert p.best.end <= T0 + timedelta(hours=5)
    assert p.latest_start == T0 + timedelta(hours=3)
    assert p.best.start == T0 + timedelta(hours=1)  # 300+200 beats 200+300 by coming first


def test_a_naive_deadline_is_refused():
    with pytest.raises(ValueError, match="UTC offset"):
        plan("1h", deadline=datetime(2024, 5, 2), places=["DE"], now=T0)


def test_a_window_across_midnight_and_a_dst_change():
    # Berlin falls back at 01:00 UTC on 27 October 2024: local 02:00 happens twice. The grid is
    # cleanest at local 02:00, so a 2 h job runs through both of them, from 00:00 UTC.
    berlin = ZoneInfo("Europe/Berlin")
    asked = datetime(2024, 10, 26, 20, 0, tzinfo=UTC)  # 22:00 local, before midnight
    points = []
    for i in range(14):
        start = asked + timedelta(hours=i)
        v = 50.0 if start.astimezone(berlin).hour == 2 else 300.0
        points.append(ForecastPoint(start, start + timedelta(hours=1), v, v, v))
    f = Forecast("DE", tuple(points), "typical-day", "average", "synthetic")
    p = plan("2h", within="10h", zone="DE", now=asked, forecaster=fixed(f))
    assert p.best.start == datetime(2024, 10, 27, 0, 0, tzinfo=UTC)
    assert p.best.intensity == pytest.approx(50.0)


def test_the_real_typical_day_across_a_dst_change_plans_without_gaps():
    asked = datetime(2024, 3, 30, 20, 0, tzinfo=UTC)  # Berlin springs forward that night
    p = plan("3h", within="12h", zone="DE", now=asked)
    f = p.forecasts["DE"]
    assert all(a.end == b.start for a, b in zip(f.points, f.points[1:], strict=False))
    assert f.start == asked and f.end == asked + timedelta(hours=15)


def test_regions_with_unknown_ones_left_out_and_said():
    by_zone = {
        "DE": hourly([400] * 6, zone="DE"),
        "GB": hourly([300, 300, 100, 100, 300, 300], zone="GB"),
    }

    def forecaster(location, start, end):
        return by_zone[zone_key(location)]

    p = plan(
        "2h",
        within="4h",
        cloud="aws",
        regions=["eu-central-1", "nowhere-9", "eu-west-2"],
        now=T0,
        energy_kwh=1.0,
        forecaster=forecaster,
    )
    assert p.best.place == "aws eu-west-2" and p.best.start == T0 + timedelta(hours=2)
    assert p.now.place == "aws eu-central-1"  # the first region given
    assert any("nowhere-9" in n for n in p.notes)
    with pytest.raises(ValueError, match="none of the regions"):
        plan("2h", cloud="aws", regions=["nowhere-9"], now=T0, forecaster=forecaster)
    with pytest.raises(ValueError, match="regions need the cloud provider"):
        plan("2h", regions=["eu-west-2"], now=T0)


def test_with_energy_each_cloud_regions_pue_counts():
    # The same forecast in both: gcp europe-west4 (PUE 1.07) beats europe-west3 (1.1) on
    # emissions; by intensity alone they tie and the first listed wins.
    flat = hourly([200.0] * 6)
    regions = ["europe-west3", "europe-west4"]
    by_emissions = plan(
        "1h",
        within="2h",
        cloud="gcp",
        regions=regions,
        now=T0,
        energy_kwh=10,
        forecaster=fixed(flat),
    )
    assert by_emissions.best.place == "gcp europe-west4"
    assert by_emissions.best.emissions_kg == pytest.approx(10 * 1.07 * 0.2)
    assert by_emissions.saving_kg[0] == pytest.approx(10 * (1.1 - 1.07) * 0.2)
    assert any("PUE 1.07" in n for n in by_emissions.notes)
    by_intensity = plan(
        "1h", within="2h", cloud="gcp", regions=regions, now=T0, forecaster=fixed(flat)
    )
    assert by_intensity.best.place == "gcp europe-west3"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3h", 10800), ("90m", 5400), ("1h30m", 5400), ("2d", 172800), ("45s", 45), (60, 60)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["3", "h", "3 hours", "-1h", "0h", ""])
def test_parse_duration_refuses(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


# -- waiting ---------------------------------------------------------------------------------------


def test_wait_sleeps_until_the_window_on_the_injected_clock():
    clock = FakeClock(T0)
    p = plan(
        "1h", within="6h", places=["DE"], now=T0, forecaster=fixed(hourly([300] * 5 + [50, 50]))
    )
    outcome = wait_for(p, clock=clock, sleep=clock.sleep)
    assert outcome.reason == "window" and outcome.started_at == T0 + timedelta(hours=5)
    assert sum(clock.waits) == 5 * 3600 and max(clock.waits) <= 60


def test_wait_ends_early_when_the_intensity_falls_below_the_threshold():
    clock = FakeClock(T0)
    p = plan(
        "1h",
        within="6h",
        places=["DE"],
        now=T0,
        forecaster=fixed(hourly([300, 300, 90, 300, 300, 50, 50])),
    )
    outcome = wait_for(p, below=100, clock=clock, sleep=clock.sleep)
    assert outcome.reason == "threshold" and outcome.started_at == T0 + timedelta(hours=2)


def test_the_shift_info_and_the_saving():
    p = plan(
        "1h",
        within="3h",
        places=["DE"],
        now=T0,
        forecaster=fixed(hourly([400, 300, 100, 100], spread=20)),
    )
    clock = FakeClock(T0)
    info = shift_info(p, wait_for(p, clock=clock, sleep=clock.sleep))
    assert info.shifted_from == "2024-05-01T12:00:00+00:00"
    assert info.shifted_to == "2024-05-01T14:00:00+00:00"
    assert (info.intensity_from, info.intensity_to) == (400.0, 100.0)
    assert saving_kg(info, 2.0) == pytest.approx((0.6, 0.52, 0.68))  # (380-120, 420-80) x 2
    assert saving_kg(info, None) is None


def test_carbon_aware_waits_then_calls_the_function():
    clock = FakeClock(datetime(2024, 7, 1, 2, 0, tzinfo=UTC))  # 19:00 in California
    calls = []

    @carbon_aware(duration="2h", within="24h", zone="US-CAL-CISO", clock=clock, sleep=clock.sleep)
    def job(x):
        calls.append((clock(), x))
        return x * 2

    assert job(21) == 42
    started = datetime.fromtimestamp(calls[0][0], UTC).astimezone(ZoneInfo("America/Los_Angeles"))
    assert 9 <= started.hour <= 15  # solar hours, not the evening peak it was asked in
    assert sum(clock.waits) > 0
    with pytest.raises(ValueError, match="duration"):
        carbon_aware(duration="soon")


def test_carbon_aware_with_track_writes_a_shifted_record(machine, tmp_path):
    clock = FakeClock(datetime(2024, 7, 1, 2, 0, tzinfo=UTC))

    @carbon_aware(
        duration="1h",
        within="24h",
        zone="US-CAL-CISO",
        track=True,
        clock=clock,
        sleep=clock.sleep,
        output_dir=str(tmp_path),
        project_name="nightly",
    )
    def job():
        return "done"

    assert job() == "done"
    (row,) = rows(tmp_path / "emissions.csv")
    assert row["project_name"] == "nightly" and row["intensity_zone"] == "US-CAL-CISO"
    assert row["shifted_from"] == "2024-07-01T02:00:00+00:00"
    assert datetime.fromisoformat(row["shifted_to"]) == datetime.fromtimestamp(clock(), UTC)


def test_public_api_names():
    assert wattprint.plan is plan and wattprint.carbon_aware is carbon_aware


# -- wattprint wait and the shifted record ---------------------------------------------------------


def rows(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_wait_command_runs_the_command_tracked_with_the_shift_in_its_record(machine, tmp_path):
    # 19:00 in California on 1 July: the typical day's cleanest 1 h is hours away.
    clock = FakeClock(datetime(2024, 7, 1, 2, 0, tzinfo=UTC))
    out = tmp_path / "out"
    options = PlanOptions("1h", "24h", zone="US-CAL-CISO", power_w=100)
    messages = []

    class Err:
        def write(self, text):
            messages.append(text)

        def flush(self):
            pass

    code = wait_command(
        options,
        [sys.executable, "-c", "pass"],
        {"output_dir": str(out), "zone": "US-CAL-CISO", "project_name": "shifted"},
        clock=clock,
        sleep=clock.sleep,
        err=Err(),
    )
    assert code == 0
    text = "".join(messages)
    assert "waiting for" in text and "Ctrl-C" in text and "starting at" in text
    (row,) = rows(out / "emissions.csv")
    assert row["shifted_from"] == "2024-07-01T02:00:00+00:00"
    shifted_to = datetime.fromisoformat(row["shifted_to"])
    assert shifted_to == datetime.fromtimestamp(clock(), UTC)
    assert float(row["shift_intensity_to_g_per_kwh"]) < float(row["shift_intensity_from_g_per_kwh"])
    energy = float(row["energy_consumed"])
    expected = (
        energy
        * (
            float(row["shift_intensity_from_g_per_kwh"])
            - float(row["shift_intensity_to_g_per_kwh"])
        )
        / 1000
    )
    assert float(row["shift_saving_kg"]) == pytest.approx(expected)
    assert float(row["shift_saving_low_kg"]) <= float(row["shift_saving_kg"])
    assert float(row["shift_saving_kg"]) <= float(row["shift_saving_high_kg"])
    assert "typical-day US-CAL-CISO" in row["shift_source"]


def test_on_a_terminal_the_wait_counts_down(machine, tmp_path):
    clock = FakeClock(datetime(2024, 7, 1, 2, 0, tzinfo=UTC))
    written = []

    class Terminal:
        def write(self, text):
            written.append(text)

        def flush(self):
            pass

        def isatty(self):
            return True

    code = wait_command(
        PlanOptions("1h", "24h", zone="US-CAL-CISO"), ["true"], {"output_dir": str(tmp_path)},
        clock=clock, sleep=clock.sleep, run=lambda *a, **k: 0, err=Terminal(),
    )  # fmt: skip
    assert code == 0
    countdown = [t for t in written if t.startswith("\r") and "left until" in t]
    assert len(countdown) == len(clock.waits) > 1
    assert countdown[-1].startswith("\r  0 h 01 min left")


def test_ctrl_c_while_waiting_runs_nothing(machine, tmp_path):
    clock = FakeClock(datetime(2024, 7, 1, 2, 0, tzinfo=UTC))

    def interrupted(seconds):
        raise KeyboardInterrupt

    ran = []
    code = wait_command(
        PlanOptions("1h", "24h", zone="US-CAL-CISO"), ["true"], {"output_dir": str(tmp_path)},
        clock=clock, sleep=interrupted, run=lambda *a, **k: ran.append(a) or 0,
        err=open(tmp_path / "err.txt", "w"),
    )  # fmt: skip
    assert code == 130 and ran == []
    assert not (tmp_path / "emissions.csv").exists()


def test_an_unshifted_run_has_empty_shift_columns(machine):
    with wattprint.Tracker(country="FRA"):
        pass
    (row,) = rows("emissions.csv")
    assert row["shifted_from"] == "" and row["shift_saving_kg"] == ""


def test_the_shift_survives_recovery_from_the_journal(machine):
    from pathlib import Path

    from wattprint import results
    from wattprint.records import to_row

    info = ShiftInfo(
        "2024-07-01T02:00:00+00:00",
        "2024-07-01T18:00:00+00:00",
        300.0,
        250.0,
        350.0,
        100.0,
        60.0,
        140.0,
        "synthetic",
    )
    tracker = wattprint.Tracker(country="FRA")
    tracker.shift = info
    with tracker:
        pass
    result = tracker.result
    assert result.shift == info
    # A killed run is rebuilt from its journal's first line: the shift must be in it.
    first = (Path(".wattprint") / f"{result.run_id}.jsonl").read_text().splitlines()[0]
    assert results.build_result(json.loads(first), None, "interrupted").shift == info
    row = to_row(result, "x")
    assert row["shifted_to"] == "2024-07-01T18:00:00+00:00"
    assert row["shift_saving_kg"] == pytest.approx(result.energy_kwh * 200.0 / 1000)
    assert row["shift_saving_low_kg"] == pytest.approx(result.energy_kwh * 110.0 / 1000)
    assert row["shift_saving_high_kg"] == pytest.approx(result.energy_kwh * 290.0 / 1000)


# -- the command line ------------------------------------------------------------------------------


def test_plan_command_json(machine):
    result = CliRunner().invoke(
        app, ["plan", "--duration", "3h", "--zone", "DE", "--energy-kwh", "5", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ranked_by"] == "emissions" and data["energy_kwh"] == 5
    assert data["best"]["intensity_g_per_kwh"] <= data["now"]["intensity_g_per_kwh"]
    assert data["forecasts"]["DE"]["kind"] == "typical-day"
    assert len(data["options"]) == 3


def test_plan_command_text_and_errors(machine):
    runner = CliRunner()
    result = runner.invoke(app, ["plan", "--duration", "2h", "--zone", "US-CAL-CISO"])
    assert result.exit_code == 0 and "Best start for a 2 h job" in result.output
    assert "ranked by intensity alone" in result.output
    bad = runner.invoke(app, ["plan", "--duration", "2 hours", "--zone", "DE"])
    assert bad.exit_code == 2 and "is not a duration" in bad.output
    late = runner.invoke(
        app, ["plan", "--duration", "2h", "--zone", "DE", "--deadline", "2001-01-01T00:00Z"]
    )
    assert late.exit_code == 2 and "already past" in late.output


def test_wait_command_line_runs_at_once_where_timing_changes_nothing(machine, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "wait",
            "--duration",
            "1h",
            "--zone",
            "FR",
            "--output-dir",
            str(out),
            "--",
            sys.executable,
            "-c",
            "pass",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "no hourly data for FR" in result.output
    (row,) = rows(out / "emissions.csv")
    assert row["status"] == "finished" and row["intensity_zone"] == "FR"
    waited = datetime.fromisoformat(row["shifted_to"]) - datetime.fromisoformat(row["shifted_from"])
    assert timedelta(0) <= waited <= timedelta(seconds=2)  # no wait: it started at once
    assert float(row["shift_saving_kg"]) == 0.0
    missing = CliRunner().invoke(app, ["wait", "--zone", "FR", "--", "true"])
    assert missing.exit_code == 2 and "--duration" in missing.output


def test_planning_loads_nothing_heavy():
    from tests.core.test_import import HEAVY, modules_after

    loaded = modules_after("import wattprint; wattprint.plan; wattprint.carbon_aware")
    assert "wattprint.carbon.planning" in loaded
    assert not loaded & set(HEAVY)
