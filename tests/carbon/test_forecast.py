"""Forecasts: the offline typical day, and each provider's forecast against a local server.

The server answers in the formats the providers document (the GB Carbon Intensity API's fw48h,
Electricity Maps' /v3/carbon-intensity/forecast, WattTime's /v3/forecast); a guard refuses any
connection that is not to this machine, and sleeps go to a fake clock.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fakes.fakeproviders import FakeApi, FakeClock, Reply
from wattprint.carbon import forecasts, tables
from wattprint.carbon.forecasts import forecast
from wattprint.carbon.location import Location
from wattprint.carbon.providers import ProviderError
from wattprint.carbon.providers.electricitymaps import ElectricityMapsClient
from wattprint.carbon.providers.ukgrid import UKGridClient
from wattprint.carbon.providers.watttime import WattTimeClient

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 10, tzinfo=UTC)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.create_connection

    def guarded(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        assert address[0] in LOOPBACK, f"a test tried to reach {address}"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def api():
    server = FakeApi().start()
    assert urlsplit(server.base_url).hostname in LOOPBACK
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


# -- documented bodies -----------------------------------------------------------------------------


def uk_periods(values: list[float], start: str = "2024-05-01T12:00Z") -> list[dict]:
    first = datetime.fromisoformat(start.replace("Z", "+00:00"))
    out = []
    for i, v in enumerate(values):
        a, b = first + timedelta(minutes=30 * i), first + timedelta(minutes=30 * (i + 1))
        out.append(
            {
                "from": a.strftime("%Y-%m-%dT%H:%MZ"),
                "to": b.strftime("%Y-%m-%dT%H:%MZ"),
                "intensity": {"forecast": v, "actual": None, "index": "moderate"},
            }
        )
    return out


UK_FW48H = {"data": uk_periods([200, 180, 90, 80])}
UK_REGIONAL_FW48H = {
    "data": {
        "regionid": 13,
        "dnoregion": "UKPN London",
        "shortname": "London",
        "data": [
            {**p, "generationmix": [{"fuel": "wind", "perc": 50.0}]} for p in uk_periods([150, 60])
        ],
    }
}
EM_FORECAST = {
    "zone": "DE",
    "forecast": [
        {"carbonIntensity": 300, "datetime": "2024-05-01T12:00:00.000Z"},
        {"carbonIntensity": 250, "datetime": "2024-05-01T13:00:00.000Z"},
        {"carbonIntensity": 120, "datetime": "2024-05-01T14:00:00.000Z"},
    ],
    "updatedAt": "2024-05-01T11:55:00.000Z",
}
WT_FORECAST = {
    "data": [
        {"point_time": "2024-05-01T12:10:00+00:00", "value": 1000.0},
        {"point_time": "2024-05-01T12:15:00+00:00", "value": 500.0},
    ],
    "meta": {
        "data_point_period_seconds": 300,
        "region": "CAISO_NORTH",
        "signal_type": "co2_moer",
        "model": {"date": "2023-03-01"},
        "units": "lbs_co2_per_mwh",
        "generated_at": "2024-05-01T12:10:00+00:00",
        "generated_at_period_seconds": 300,
    },
}


@dataclass
class Case:
    name: str
    make: Callable[..., Any]
    path: str
    ok: dict
    zone: str
    first: float  # g/kWh of the first point
    period_s: float

    def build(self, api: FakeApi, clock: FakeClock, **kwargs: Any) -> Any:
        if self.name == "watttime":
            api.add("/login", {"token": "tok-1"})
        args = {"base_url": api.base_url, "clock": clock, "sleep": clock.sleep, **kwargs}
        return self.make(**args)


CASES = [
    Case("ukgrid", lambda **kw: UKGridClient(**kw), "/intensity/2024-05-01T12:00Z/fw48h",
         UK_FW48H, "GB", 200.0, 1800.0),
    Case("ukgrid-regional", lambda **kw: UKGridClient(**kw),
         "/regional/intensity/2024-05-01T12:00Z/fw48h/regionid/13", UK_REGIONAL_FW48H, "GB-13",
         150.0, 1800.0),
    Case("electricitymaps", lambda **kw: ElectricityMapsClient("em-token", **kw),
         "/carbon-intensity/forecast", EM_FORECAST, "DE", 300.0, 3600.0),
    Case("watttime", lambda **kw: WattTimeClient("ada", "s3cret", **kw), "/v3/forecast",
         WT_FORECAST, "CAISO_NORTH", 1000.0 * 0.453592, 300.0),
]  # fmt: skip


@pytest.fixture(params=CASES, ids=lambda c: c.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


def test_forecast_parses_the_documented_format(api, clock, case):
    api.add(case.path, case.ok)
    points = case.build(api, clock).forecast(case.zone)
    assert points[0].value_g_per_kwh == pytest.approx(case.first)
    assert points[0].period_s == case.period_s
    assert all(p.estimated for p in points)  # a forecast is never a measurement
    assert [p.datetime for p in points] == sorted(p.datetime for p in points)
    assert points[0].source and points[0].zone == case.zone


def test_forecast_is_cached_like_a_latest_value(api, clock, case):
    api.add(case.path, case.ok)
    client = case.build(api, clock)
    client.forecast(case.zone)
    client.forecast(case.zone)
    assert api.count(case.path) == 1
    clock.advance(301)
    client.forecast(case.zone)
    assert api.count(case.path) == 2


def test_forecast_refused_credentials_are_a_provider_error(api, clock, case):
    api.add(case.path, Reply(401, {"error": "Unauthorized"}))
    with pytest.raises(ProviderError, match="HTTP 401") as caught:
        case.build(api, clock).forecast(case.zone)
    assert caught.value.status == 401
    assert clock.waits == []  # a refusal is not retried


def test_forecast_rate_limited_backs_off_then_answers(api, clock, case):
    api.add(case.path, Reply(429, headers={"Retry-After": "3"}), Reply(body=case.ok))
    points = case.build(api, clock).forecast(case.zone)
    assert points[0].value_g_per_kwh == pytest.approx(case.first)
    assert clock.waits == [3.0]


def test_forecast_server_error_gives_up_after_the_retries(api, clock, case):
    api.add(case.path, Reply(503, "busy"))
    with pytest.raises(ProviderError, match=r"HTTP 503.*gave up after 4 attempt"):
        case.build(api, clock).forecast(case.zone)
    assert clock.waits == [0.5, 1.0, 2.0]


def test_forecast_timeout_is_a_provider_error(api, clock, case):
    api.add(case.path, Reply(body=case.ok, delay_s=0.5))
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"no answer within 0\.1 s"):
        case.build(api, clock, timeout_s=0.1, retries=1).forecast(case.zone)
    assert time.monotonic() - started < 0.45


@pytest.mark.parametrize("body", ["<html>oops</html>", {"data": "nope"}, {"forecast": [{"x": 1}]}])
def test_forecast_malformed_body_is_a_provider_error(api, clock, case, body):
    api.add(case.path, Reply(200, body))
    with pytest.raises(ProviderError, match="unexpected response"):
        case.build(api, clock).forecast(case.zone)


# -- forecast(): offline and merged ----------------------------------------------------------------


def test_offline_forecast_is_the_typical_day_with_its_spread():
    start = datetime(2024, 7, 1, 0, 0, tzinfo=UTC)
    f = forecast("US-CAL-CISO", start, start + timedelta(hours=24))
    profile = tables.hourly_profile("US-CAL-CISO")
    assert f.kind == forecasts.TYPICAL_DAY and f.zone == "US-CAL-CISO" and f.signal == "average"
    assert "typical-day estimate" in f.notes[0]
    assert len(f.points) == 24
    # 20:00 UTC is 13:00 in Los Angeles (PDT, UTC-7) in July.
    point = f.at(datetime(2024, 7, 1, 20, 30, tzinfo=UTC))
    assert point is not None and point.value == profile.at(7, 13)
    assert (point.low, point.high) == profile.spread(7, 13)
    assert point.low < point.value < point.high


def test_offline_forecast_follows_local_hours_across_a_dst_change():
    # Europe/Berlin springs forward at 01:00 UTC on 31 March 2024: local 02:00 never happens.
    start = datetime(2024, 3, 30, 23, 0, tzinfo=UTC)
    f = forecast("DE", start, start + timedelta(hours=4))
    profile = tables.hourly_profile("DE")
    hours = [p.start.astimezone(forecasts.UTC) for p in f.points]
    assert hours == [start + timedelta(hours=i) for i in range(4)]
    assert [p.value for p in f.points] == [profile.at(3, h) for h in (0, 1, 3, 4)]


def test_offline_forecast_of_a_zone_without_hourly_data_is_flat_and_says_so():
    start = datetime(2024, 7, 1, tzinfo=UTC)
    f = forecast("FR", start, start + timedelta(hours=10))
    assert f.kind == forecasts.ANNUAL and f.flat
    assert "no hourly data" in f.notes[0]


def test_forecast_refuses_naive_or_empty_windows():
    with pytest.raises(ValueError, match="timezone-aware"):
        forecast("DE", datetime(2024, 1, 1), datetime(2024, 1, 2, tzinfo=UTC))
    with pytest.raises(ValueError, match="must end after"):
        forecast("DE", NOW, NOW)
    with pytest.raises(ValueError, match="unknown forecast provider"):
        forecast("DE", NOW, NOW + timedelta(hours=1), provider="nope")


def test_provider_forecast_fills_past_its_horizon_with_the_typical_day(api, clock):
    api.add("/intensity/2024-05-01T12:00Z/fw48h", UK_FW48H)
    client = UKGridClient(base_url=api.base_url, clock=clock, sleep=clock.sleep)
    start = NOW
    f = forecast(
        Location(country="GBR", zone="GB"),
        start,
        start + timedelta(hours=4),
        provider="ukgrid",
        client=client,
    )
    assert f.kind == forecasts.PROVIDER_FORECAST and f.signal == "average"
    assert f.points[0].start == start and f.points[0].value == 200.0  # clipped to the window
    provider_points = [p for p in f.points if p.kind == forecasts.PROVIDER_FORECAST]
    assert [p.value for p in provider_points] == [200.0, 180.0, 90.0, 80.0]
    assert provider_points[-1].end == datetime(2024, 5, 1, 14, 0, tzinfo=UTC)
    assert f.points[-1].kind == forecasts.TYPICAL_DAY and f.end == start + timedelta(hours=4)
    assert any("horizon" in n for n in f.notes) and any("no uncertainty" in n for n in f.notes)


def test_a_failing_provider_leaves_the_typical_day_and_says_why(api, clock):
    api.add("/intensity/2024-05-01T12:00Z/fw48h", Reply(500))
    client = UKGridClient(base_url=api.base_url, clock=clock, sleep=clock.sleep, retries=0)
    f = forecast("GB", NOW, NOW + timedelta(hours=3), provider="ukgrid", client=client)
    assert f.kind == forecasts.TYPICAL_DAY
    assert any("HTTP 500" in n and "typical day" in n for n in f.notes)


def test_ukgrid_forecast_outside_great_britain_is_refused():
    with pytest.raises(ValueError, match="Great Britain only"):
        forecast("DE", NOW, NOW + timedelta(hours=1), provider="ukgrid", client=object())


def test_watttime_forecast_is_marginal_and_says_so(api, clock):
    api.add("/login", {"token": "tok-1"})
    api.add(
        "/v3/region-from-loc",
        {"region": "CAISO_NORTH", "region_full_name": "x", "signal_type": "co2_moer"},
    )
    api.add("/v3/forecast", WT_FORECAST)
    client = WattTimeClient("ada", "s3cret", base_url=api.base_url, clock=clock, sleep=clock.sleep)
    f = forecast("US-CAL-CISO", NOW, NOW + timedelta(hours=1), provider="watttime", client=client)
    assert f.signal == "marginal" and any("marginal" in n for n in f.notes)
    assert f.points[0].value == pytest.approx(453.592)
    # Averages are not mixed into a marginal series: it ends with the provider's data.
    assert all(p.kind == forecasts.PROVIDER_FORECAST for p in f.points)
    assert f.end == datetime(2024, 5, 1, 12, 20, tzinfo=UTC)
    assert any("later windows are not considered" in n for n in f.notes)
    assert api.requests("/v3/forecast")[0].query["horizon_hours"] == "24"


def test_wait_with_a_provider_and_a_threshold_asks_through_the_cache(
    api, clock, machine, monkeypatch
):
    from wattprint.cli.plan import PlanOptions, wait_command

    # From 12:00: 300 for an hour, 90 from 13:00, 50 from 14:00 (the best 1 h window).
    body = {"data": uk_periods([300, 300, 90, 90, 50, 50, 300, 300])}
    for minutes in range(0, 24 * 60, 30):  # the API is asked from the current half hour
        moment = datetime(2024, 5, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minutes)
        api.add(f"/intensity/{moment.strftime('%Y-%m-%dT%H:%MZ')}/fw48h", body)
    client = UKGridClient(base_url=api.base_url, clock=clock, sleep=clock.sleep)
    monkeypatch.setattr(forecasts, "make_client", lambda provider, settings=None: client)
    started = []
    code = wait_command(
        PlanOptions("1h", "6h", zone="GB", provider="ukgrid"), ["true"], {},
        below=100, clock=clock, sleep=clock.sleep,
        run=lambda command, options, as_json, tracker: started.append(tracker.shift) or 0,
        err=open("err.txt", "w"),
    )  # fmt: skip
    assert code == 0
    (shift,) = started
    assert shift.shifted_to == "2024-05-01T13:00:00+00:00"  # below 100 before the 14:00 window
    assert "intensity fell below" in shift.source and shift.intensity_to == 90.0
    # Polled each minute for 50 minutes, but a forecast is cached five minutes.
    assert 2 <= api.count() <= 50 // 5 + 2


def test_the_carbon_package_exports_forecast():
    import wattprint.carbon as carbon

    assert carbon.forecast is forecast and carbon.Forecast is forecasts.Forecast


def test_a_gap_in_a_forecast_has_no_mean():
    a = forecasts.ForecastPoint(NOW, NOW + timedelta(hours=1), 100, 100, 100)
    b = forecasts.ForecastPoint(NOW + timedelta(hours=2), NOW + timedelta(hours=3), 100, 100, 100)
    f = forecasts.Forecast("X", (a, b), forecasts.PROVIDER_FORECAST, "marginal", "test")
    assert f.mean(NOW, NOW + timedelta(hours=1)) == (100, 100, 100)
    assert f.mean(NOW, NOW + timedelta(hours=3)) is None  # not 66.7
