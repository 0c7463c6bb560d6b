"""An intensity used for one hour is uncertain: its bounds say how much, and reach emissions."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

import wattprint
from wattprint.carbon import countries, grid, tables
from wattprint.carbon.location import locate


def test_an_annual_figure_has_bounds_that_hold_both_sources():
    it = grid.annual(locate(country="FRA"))
    ember = countries.lookup("FRA").intensity_g_per_kwh
    assert it.kind == grid.ZONE and it.value == tables.zone("FR").intensity_g_per_kwh
    assert it.low < it.value < it.high
    assert it.high > ember  # Electricity Maps and Ember disagree: both are inside
    low_ratio, high_ratio = grid.typical_spread()  # France has no hourly profile
    assert 0 < low_ratio < 1 < high_ratio
    assert it.low == pytest.approx(min(it.value, ember) * low_ratio)
    assert it.high == pytest.approx(max(it.value, ember) * high_ratio)


def test_a_zone_with_a_profile_uses_its_own_hourly_spread():
    de = grid.annual(locate(country="DEU"))
    fr = grid.annual(locate(country="FRA"))
    # Germany's wind and solar swing its hours far more than the typical zone's.
    low_ratio, high_ratio = grid.typical_spread()
    assert de.low < de.value * low_ratio and de.high > de.value * high_ratio
    assert de.high / de.value > fr.high / max(fr.value, countries.lookup("FRA").intensity_g_per_kwh)


def test_an_hourly_value_is_bounded_by_that_hours_percentiles():
    at = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)  # 14:00 in Berlin
    it = grid.intensity(locate(country="DEU"), at)
    p10, p90 = tables.hourly_profile("DE").spread(6, 14)
    assert it.kind == grid.HOURLY
    assert (it.low, it.high) == (p10, p90) and p10 < it.value < p90


def test_an_explicit_intensity_stays_exact():
    it = grid.explicit(100.0)
    assert it.low == it.value == it.high


def test_intensity_bounds_reach_the_emissions_bounds(machine):
    # Exact power (bounds of 0 %): the emissions' bounds are the intensity's alone.
    tracker = wattprint.Tracker(country="FRA", cpu_power_w="10+-0%", ram_power_w="5+-0%")
    tracker.start()
    time.sleep(0.15)
    r = tracker.stop()
    it = grid.annual(locate(country="FRA"))
    assert r.energy_low_kwh == pytest.approx(r.energy_kwh) == pytest.approx(r.energy_high_kwh)
    assert r.emissions_low_kg / r.emissions_kg == pytest.approx(it.low / it.value)
    assert r.emissions_high_kg / r.emissions_kg == pytest.approx(it.high / it.value)
    assert (r.intensity.low, r.intensity.high) == pytest.approx((it.low, it.high))
