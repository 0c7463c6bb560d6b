"""Intensity for a place and a time, and emissions per interval in the tracker."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta, timezone

import pytest

from tests.fakes.fakeclock import Clock
from wattprint import Tracker
from wattprint import tracker as tracker_module
from wattprint.carbon import grid as ci
from wattprint.carbon import live, tables
from wattprint.carbon.location import Location
from wattprint.carbon.providers import LiveIntensity

JAN_UTC = datetime(2026, 1, 15, 11, 30, tzinfo=timezone.utc)  # GB is on UTC in January


def test_hourly_profile_is_used_for_the_local_hour():
    profile = tables.hourly_profile("GB")
    assert profile is not None
    it = ci.intensity(Location(zone="GB"), JAN_UTC)
    assert it.kind == ci.HOURLY and it.value == profile.at(1, 11)
    summer = datetime(2026, 7, 15, 11, 30, tzinfo=timezone.utc)  # BST: 12:30 local
    assert ci.intensity(Location(zone="GB"), summer).value == profile.at(7, 12)


def test_a_stretch_across_an_hour_uses_both_hours():
    profile = tables.hourly_profile("GB")
    timeline = ci.Timeline(Location(zone="GB"))
    t0 = JAN_UTC.timestamp()  # 11:30
    value, low, high = timeline.mean(t0, t0 + 3600)  # to 12:30
    expected = (profile.at(1, 11) + profile.at(1, 12)) / 2
    assert value == pytest.approx(expected)
    assert profile.at(1, 11) != profile.at(1, 12)  # else the test proves nothing
    quarter, _, _ = timeline.mean(t0 + 1200, t0 + 2400)  # 11:50 to 12:10
    assert quarter == pytest.approx(expected)


def test_chain_falls_back_from_zone_to_country_to_world():
    no_profile = next(z for z in tables.zones() if tables.hourly_profile(z.key) is None)
    it = ci.intensity(Location(zone=no_profile.key), JAN_UTC)
    assert it.kind == ci.ZONE and it.value == no_profile.intensity_g_per_kwh
    country = next(
        c for c in ci.countries.all_countries() if tables.zone_for_country(c.iso3) is None
    )
    it = ci.intensity(Location(country=country.iso3), JAN_UTC)
    assert it.kind == ci.COUNTRY and it.value == country.intensity_g_per_kwh
    world = ci.intensity(Location(), JAN_UTC)
    assert world.kind == ci.WORLD and world.low < world.value < world.high


def test_gcp_region_uses_googles_own_figure():
    region = next(r for r in tables.cloud_regions("gcp") if r.provider_intensity_g_per_kwh)
    loc = Location(cloud_provider="gcp", cloud_region=region.region, country=region.country)
    annual = ci.annual(loc)
    assert annual.kind == ci.PROVIDER and annual.value == region.provider_intensity_g_per_kwh


def test_at_must_be_timezone_aware():
    with pytest.raises(ValueError, match="timezone-aware"):
        ci.intensity(Location(country="FRA"), datetime(2026, 1, 1, 12))


def test_tracker_emissions_across_an_hour_boundary(machine, monkeypatch):
    clock = Clock(JAN_UTC.timestamp())
    monkeypatch.setattr(tracker_module.time, "time", clock)
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=0)
    profile = tables.hourly_profile("GB")
    tracker = Tracker(zone="GB", interval_s=3600).start()
    clock.t += 1800  # to 12:00
    machine.set_energy("intel-rapl:0", 3_600_000_000)  # 1 Wh in the first half hour
    tracker.flush()
    clock.t += 1800  # to 12:30
    machine.set_energy("intel-rapl:0", 2 * 3_600_000_000)  # 1 Wh in the second
    r = tracker.stop()
    cpu_kwh = r.cpu.energy_kwh
    assert cpu_kwh == pytest.approx(0.002)
    ram_kwh = r.ram.energy_kwh
    # The modelled RAM power is constant: half its energy in each hour.
    expected_g = 0.001 * profile.at(1, 11) + 0.001 * profile.at(1, 12)
    expected_g += ram_kwh / 2 * (profile.at(1, 11) + profile.at(1, 12))
    assert r.emissions_kg * 1000 == pytest.approx(expected_g, rel=1e-3)
    assert r.intensity.kind == "hourly-profile" and r.intensity.zone == "GB"
    assert r.location.zone == "GB"


def test_marginal_emissions_beside_average(machine):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=0)
    tracker = Tracker(country="IND").start()
    machine.set_energy("intel-rapl:0", 36_000_000_000)  # 10 Wh
    r = tracker.stop()
    factor = tables.marginal("IND")
    assert factor is not None and r.marginal is not None
    assert r.emissions_marginal_kg == pytest.approx(r.energy_kwh * factor.g_per_kwh / 1000)
    row = next(csv.DictReader(open("emissions.csv")))
    assert float(row["emissions_marginal_kg"]) == pytest.approx(r.emissions_marginal_kg)
    assert row["marginal_source"] == r.marginal.source
    assert factor.source in row["marginal_source"] and "(2021)" in row["marginal_source"]


def test_cloud_region_brings_pue_and_water(machine):
    region = next(r for r in tables.cloud_regions("aws") if r.pue and r.wue_l_per_kwh)
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=0)
    tracker = Tracker(cloud_provider="aws", cloud_region=region.region).start()
    machine.set_energy("intel-rapl:0", 36_000_000_000)
    r = tracker.stop()
    assert r.pue == region.pue and "aws" in r.pue_source
    it_kwh = r.cpu.energy_kwh + r.ram.energy_kwh
    assert r.energy_kwh == pytest.approx(it_kwh * region.pue)
    assert r.water_l == pytest.approx(it_kwh * region.wue_l_per_kwh)
    assert r.location.country == region.country
    row = next(csv.DictReader(open("emissions.csv")))
    assert row["on_cloud"] == "Y" and row["cloud_region"] == region.region
    assert float(row["wue"]) == region.wue_l_per_kwh


def test_explicit_pue_beats_the_providers(machine):
    region = next(r for r in tables.cloud_regions("aws") if r.pue)
    r = Tracker(cloud_provider="aws", cloud_region=region.region, pue=1.4).start().stop()
    assert r.pue == 1.4 and r.pue_source == "setting pue"


def test_on_premises_water_is_unknown_not_zero(machine):
    r = Tracker(country="FRA").start().stop()
    assert r.water_l is None and r.pue == 1.0
    row = next(csv.DictReader(open("emissions.csv")))
    assert row["water_consumed"] == "" and row["wue"] == ""


def live_value(value: float, when: datetime, kind: str = "average") -> LiveIntensity:
    return LiveIntensity(
        value_g_per_kwh=value,
        datetime=when,
        kind=kind,
        basis="lifecycle",
        zone="FR",
        source="Fake provider",
        estimated=False,
    )


def test_live_feed_gives_fresh_values_only_and_survives_failures():
    said: list[str] = []
    now = datetime.now(timezone.utc)
    feed = live.LiveFeed(
        lambda: live_value(123.0, now),
        zone="FR",
        source="Fake",
        kind="average",
        warn=lambda k, m: said.append(m),
    )
    assert feed.ready.wait(5)
    assert feed.value_at(now.timestamp()).value == 123.0
    assert feed.value_at((now + timedelta(hours=3)).timestamp()) is None
    feed.close()

    def broken():
        raise RuntimeError("HTTP 503")

    failing = live.LiveFeed(
        broken, zone="FR", source="Fake", kind="average", warn=lambda k, m: said.append(m)
    )
    assert failing.ready.wait(5)
    assert failing.value_at(now.timestamp()) is None and "503" in failing.error
    assert any("offline figure" in m for m in said)
    failing.close()


def test_tracker_uses_a_live_feed_when_asked(machine, monkeypatch):
    now = datetime.now(timezone.utc)

    def fake_open(settings, location, warn):
        feed = live.LiveFeed(
            lambda: live_value(99.0, now), zone="FR", source="Fake", kind="average", warn=warn
        )
        feed.ready.wait(5)
        return feed

    monkeypatch.setattr(live, "open_feed", fake_open)
    r = Tracker(country="FRA", live_provider="ukgrid").start().stop()
    assert r.intensity.kind == "live" and r.intensity.value == pytest.approx(99.0)
    assert "Fake" in r.intensity.source


def test_a_failing_live_provider_is_said_in_the_record(machine, monkeypatch):
    def broken():
        raise RuntimeError("HTTP 503 from the provider")

    def fake_open(settings, location, warn):
        feed = live.LiveFeed(broken, zone="GB", source="Fake", kind="average", warn=warn)
        feed.ready.wait(5)
        return feed

    monkeypatch.setattr(live, "open_feed", fake_open)
    r = Tracker(country="FRA", live_provider="ukgrid").start().stop()
    assert r.intensity.kind != "live"
    assert any("unavailable" in n and "503" in n for n in r.notes)


def test_live_provider_settings_are_checked(machine):
    with pytest.raises(ValueError, match="electricitymaps_token"):
        Tracker(live_provider="electricitymaps")
    with pytest.raises(ValueError, match="watttime_username"):
        Tracker(live_provider="watttime")
    with pytest.raises(ValueError, match="live_provider must be one of"):
        Tracker(live_provider="carbon-oracle")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cloud_provider": "aws", "cloud_region": "us-east-42"}, "us-east-42"),
        ({"zone": "XX-NOWHERE"}, "XX-NOWHERE"),
        ({"country": "FRA", "zone": "DE"}, "DE"),
    ],
)
def test_a_location_that_names_nothing_fails_at_construction(machine, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Tracker(**kwargs)
