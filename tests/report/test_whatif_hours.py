"""The same job started at each hour of the next day, on its zone's typical day: the run page's
"had it started at another hour" chart (``report.whatif.start_hours``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from wattprint.carbon import tables
from wattprint.carbon.location import Location
from wattprint.report.whatif import start_hours, time_option

UTC = timezone.utc


def test_each_hour_is_the_typical_days_mean_over_the_job():
    asked = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)  # 19:00 on 30 June in Los Angeles
    hours = start_hours(Location(zone="US-CAL-CISO"), 2.0, 1.0, asked)
    assert [h["start"] for h in hours] == [asked + timedelta(hours=k) for k in range(24)]
    profile = tables.hourly_profile("US-CAL-CISO")
    for h in hours:
        local = h["start"].astimezone(ZoneInfo("America/Los_Angeles"))
        assert h["intensity_g_per_kwh"] == pytest.approx(profile.at(local.month, local.hour))
        assert h["emissions_kg"] == pytest.approx(2.0 * h["intensity_g_per_kwh"] / 1000)
        assert h["emissions_low_kg"] <= h["emissions_kg"] <= h["emissions_high_kg"]


def test_the_first_hour_is_at_once_and_none_beats_the_cleanest_start():
    asked = datetime(2024, 7, 1, 2, 0, tzinfo=UTC)
    where = Location(zone="US-CAL-CISO")
    hours = start_hours(where, 2.0, 2.0, asked)
    best = time_option(where, 2.0, 2.0, asked)
    assert hours[0]["intensity_g_per_kwh"] == pytest.approx(best.intensity_at_once)
    assert min(h["intensity_g_per_kwh"] for h in hours) >= best.intensity - 1e-9


def test_no_hours_without_a_profile_energy_or_duration():
    asked = datetime(2024, 7, 1, tzinfo=UTC)
    assert start_hours(Location(zone="FR"), 1.0, 1.0, asked) is None
    assert start_hours(Location(zone="GB"), 0.0, 1.0, asked) is None
    assert start_hours(Location(zone="GB"), 1.0, 0.0, asked) is None
