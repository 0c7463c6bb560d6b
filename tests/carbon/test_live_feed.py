"""Which live provider ``open_feed`` starts for a location, against local stand-ins for the
providers' APIs, and the one-hour window in which a live value is used."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from tests.fakes.fakeproviders import FakeApi
from wattprint.carbon import live
from wattprint.carbon.location import Location
from wattprint.carbon.providers import LiveIntensity, electricitymaps, ukgrid, watttime

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture
def api(monkeypatch):
    server = FakeApi().start()
    for module, cls in (
        (electricitymaps, "ElectricityMapsClient"),
        (ukgrid, "UKGridClient"),
        (watttime, "WattTimeClient"),
    ):
        real = getattr(module, cls)
        monkeypatch.setattr(module, cls, functools.partial(real, base_url=server.base_url))
    yield server
    server.stop()


def settings(provider: str | None) -> SimpleNamespace:
    return SimpleNamespace(
        live_provider=provider,
        electricitymaps_token="em-token",
        watttime_username="u",
        watttime_password="p",
    )


def em_latest(zone: str, value: float) -> dict:
    when = NOW.strftime("%Y-%m-%dT%H:00:00.000Z")
    return {
        "zone": zone,
        "carbonIntensity": value,
        "datetime": when,
        "updatedAt": when,
        "createdAt": when,
        "emissionFactorType": "lifecycle",
        "isEstimated": False,
        "estimationMethod": None,
    }


def uk_now(value: float) -> dict:
    start = NOW.replace(minute=0, second=0)
    period = {"from": start.strftime("%Y-%m-%dT%H:%MZ"),
              "to": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%MZ"),
              "intensity": {"forecast": value, "actual": value, "index": "low"}}  # fmt: skip
    return {"data": [period]}


class Said:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def __call__(self, key: str, message: str) -> None:
        self.keys.append(key)


def opened(provider: str | None, location: Location, said: Said) -> live.LiveFeed | None:
    feed = live.open_feed(settings(provider), location, warn=said)
    if feed is not None:
        assert feed.ready.wait(10)
    return feed


def test_electricitymaps_asks_for_the_zone(machine, api):
    api.add("/carbon-intensity/latest", em_latest("FR", 33.0))
    said = Said()
    feed = opened("electricitymaps", Location(country="FRA", zone="FR", source="explicit"), said)
    assert feed is not None and (feed.zone, feed.kind) == ("FR", "average")
    assert feed.error is None, feed.error
    assert feed.value_at(NOW.timestamp()).value == 33.0
    assert api.requests("/carbon-intensity/latest")[0].query["zone"] == "FR"
    assert api.requests("/carbon-intensity/latest")[0].headers["auth-token"] == "em-token"
    feed.close()


def test_electricitymaps_uses_the_country_for_a_us_state(machine, api):
    api.add("/carbon-intensity/latest", em_latest("US", 400.0))
    state = Location(country="USA", zone="US-STATE-CA", source="explicit")
    feed = opened("electricitymaps", state, Said())
    assert feed is not None and feed.zone == "US"
    assert api.requests("/carbon-intensity/latest")[0].query["zone"] == "US"
    feed.close()


def test_electricitymaps_without_a_location_is_said_not_started(machine, api):
    said = Said()
    assert opened("electricitymaps", Location(source="world-average"), said) is None
    assert said.keys == ["live:no-zone"] and api.count() == 0


def test_ukgrid_in_great_britain_only(machine, api):
    api.add("/intensity", uk_now(150.0))
    feed = opened("ukgrid", Location(country="GBR", zone="GB", source="explicit"), Said())
    assert feed is not None and feed.zone == "GB" and feed.error is None, feed and feed.error
    assert feed.value_at(NOW.timestamp()).value == 150.0
    feed.close()
    said = Said()
    assert opened("ukgrid", Location(country="FRA", zone="FR", source="explicit"), said) is None
    assert said.keys == ["live:ukgrid"] and api.count("/intensity") == 1


def test_watttime_needs_coordinates(machine, api):
    said = Said()
    assert opened("watttime", Location(country="FRA", source="explicit"), said) is None
    assert said.keys == ["live:watttime"] and api.count() == 0
    feed = live.open_feed(
        settings("watttime"),
        Location(country="USA", latitude=37.77, longitude=-122.42, source="explicit"),
        warn=Said(),
    )
    assert feed is not None and (feed.zone, feed.kind) == ("37.77,-122.42", "marginal")
    feed.close()


def test_no_provider_no_feed(machine, api):
    assert opened(None, Location(country="FRA", zone="FR", source="explicit"), Said()) is None
    assert api.count() == 0


def _feed_with_value_at(when: datetime) -> live.LiveFeed:
    value = LiveIntensity(
        value_g_per_kwh=50.0,
        datetime=when,
        kind="average",
        basis="lifecycle",
        zone="FR",
        source="Fake",
        estimated=False,
    )
    feed = live.LiveFeed(lambda: value, zone="FR", source="Fake", kind="average", warn=Said())
    assert feed.ready.wait(5)
    return feed


@pytest.mark.parametrize(
    ("age_s", "used"),
    [(0, True), (3599, True), (3600, True), (3601, False), (-3599, True), (-3601, False)],
)
def test_a_live_value_is_used_for_one_hour_either_side(age_s, used):
    feed = _feed_with_value_at(NOW)
    it = feed.value_at(NOW.timestamp() + age_s)
    assert (it is not None) == used
    if used:
        assert it.value == 50.0 and it.kind == "live"
    feed.close()
