"""Live intensity clients against a local server that answers in the providers' documented formats.

Nothing here reaches the network: every client points at 127.0.0.1, and a guard refuses any other
connection. Sleeps go to a fake clock, which records them, so backoff costs no time.
"""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.fakes.fakeproviders import FakeApi, FakeClock, Reply
from wattprint._version import __version__
from wattprint.carbon.providers import LiveIntensity, ProviderError
from wattprint.carbon.providers.electricitymaps import ElectricityMapsClient
from wattprint.carbon.providers.http import TTLCache, parse_time
from wattprint.carbon.providers.ukgrid import UKGridClient
from wattprint.carbon.providers.watttime import WattTimeClient

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 10, tzinfo=UTC)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to anything but this machine fails the test; proxies are bypassed."""
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


def quick(clock: FakeClock, api: FakeApi, **kwargs: Any) -> dict[str, Any]:
    """Constructor arguments for a client of the fake server, on the fake clock."""
    assert urlsplit(api.base_url).hostname in LOOPBACK
    return {"base_url": api.base_url, "clock": clock, "sleep": clock.sleep, **kwargs}


# -- documented response bodies --------------------------------------------------------------------


def em_point(value: Any, when: str, *, estimated: bool = False, **extra: Any) -> dict:
    return {
        "zone": "FR",
        "carbonIntensity": value,
        "datetime": when,
        "updatedAt": "2024-05-01T11:58:12.123Z",
        "createdAt": "2024-04-28T12:01:03.456Z",
        "emissionFactorType": "lifecycle",
        "isEstimated": estimated,
        "estimationMethod": "TIME_SLICER_AVERAGE" if estimated else None,
        **extra,
    }


EM_LATEST = em_point(32, "2024-05-01T12:00:00.000Z", estimated=True, temporalGranularity="hourly")


def uk_period(start: str, stop: str, forecast: Any, actual: Any = None) -> dict:
    period = {"from": start, "to": stop, "intensity": {"forecast": forecast, "index": "low"}}
    if actual != "absent":
        period["intensity"]["actual"] = actual
    return period


UK_NOW = {"data": [uk_period("2024-05-01T12:00Z", "2024-05-01T12:30Z", 120, 117)]}


def uk_region(regionid: int, periods: list, **extra: Any) -> dict:
    return {
        "regionid": regionid,
        "dnoregion": "UKPN London",
        "shortname": "London",
        **extra,
        "data": [{**p, "generationmix": [{"fuel": "gas", "perc": 40.0}]} for p in periods],
    }


def wt_body(points: list[tuple[str, Any]], **meta: Any) -> dict:
    return {
        "data": [{"point_time": t, "value": v} for t, v in points],
        "meta": {
            "data_point_period_seconds": 300,
            "region": "CAISO_NORTH",
            "signal_type": "co2_moer",
            "model": {"date": "2023-03-01"},
            "units": "lbs_co2_per_mwh",
            "warnings": [],
            "generated_at": "2024-05-01T12:05:00+00:00",
            **meta,
        },
    }


WT_NOW = wt_body([("2024-05-01T12:05:00+00:00", 1000.0), ("2024-05-01T12:10:00+00:00", 900.0)])


# -- one description per provider, for the behaviours they share -----------------------------------


@dataclass
class Case:
    name: str
    make: Callable[..., Any]
    path: str  # where latest() asks
    ok: dict
    zone: str
    value: float

    def build(self, api: FakeApi, clock: FakeClock, **kwargs: Any) -> Any:
        if self.name == "watttime":
            api.add("/login", {"token": "tok-1"})
        return self.make(**quick(clock, api, **kwargs))


CASES = [
    Case(
        "electricitymaps",
        lambda **kw: ElectricityMapsClient("em-token", **kw),
        "/carbon-intensity/latest",
        EM_LATEST,
        "FR",
        32.0,
    ),
    Case("ukgrid", lambda **kw: UKGridClient(**kw), "/intensity", UK_NOW, "GB", 117.0),
    Case(
        "watttime",
        lambda **kw: WattTimeClient("ada", "s3cret", **kw),
        "/v3/forecast",
        WT_NOW,
        "CAISO_NORTH",
        453.592,
    ),
]


@pytest.fixture(params=CASES, ids=lambda c: c.name)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


def test_latest_parses_value_and_aware_utc_time(api, clock, case):
    api.add(case.path, case.ok)
    value = case.build(api, clock).latest(case.zone)
    assert isinstance(value, LiveIntensity)
    assert value.value_g_per_kwh == pytest.approx(case.value)
    assert value.datetime.tzinfo is not None and value.datetime.utcoffset() == timedelta(0)
    assert value.zone == case.zone
    assert value.source  # says who said it
    assert api.requests(case.path)[0].headers["user-agent"] == f"wattprint/{__version__}"


def test_latest_is_cached_until_the_ttl_runs_out(api, clock, case):
    api.add(case.path, case.ok)
    client = case.build(api, clock)
    first = client.latest(case.zone)
    assert client.latest(case.zone) == first
    clock.advance(299)
    client.latest(case.zone)
    assert api.count(case.path) == 1
    clock.advance(2)  # past the five minutes
    client.latest(case.zone)
    assert api.count(case.path) == 2


def test_rate_limited_then_success_backs_off_exponentially(api, clock, case):
    api.add(case.path, Reply(429), Reply(429), Reply(body=case.ok))
    value = case.build(api, clock).latest(case.zone)
    assert value.value_g_per_kwh == pytest.approx(case.value)
    assert clock.waits == [0.5, 1.0]
    assert api.count(case.path) == 3


def test_retry_after_is_honoured(api, clock, case):
    api.add(case.path, Reply(429, headers={"Retry-After": "3"}), Reply(body=case.ok))
    case.build(api, clock).latest(case.zone)
    assert clock.waits == [3.0]


def test_retry_after_past_the_budget_gives_up_at_once(api, clock, case):
    api.add(case.path, Reply(429, {"message": "slow down"}, {"Retry-After": "60"}))
    with pytest.raises(ProviderError, match="rate limit") as caught:
        case.build(api, clock, max_total_s=15).latest(case.zone)
    assert "60 s" in str(caught.value) and caught.value.status == 429
    assert clock.waits == []
    assert api.count(case.path) == 1


def test_server_error_then_success(api, clock, case):
    api.add(case.path, Reply(503, "busy"), Reply(body=case.ok))
    value = case.build(api, clock).latest(case.zone)
    assert value.value_g_per_kwh == pytest.approx(case.value)
    assert clock.waits == [0.5]


def test_request_timeout_answer_is_tried_again_like_the_spool_does(api, clock, case):
    api.add(case.path, Reply(408, "too slow"), Reply(body=case.ok))
    value = case.build(api, clock).latest(case.zone)
    assert value.value_g_per_kwh == pytest.approx(case.value)
    assert clock.waits == [0.5] and api.count(case.path) == 2


def test_persistent_server_error_is_a_provider_error(api, clock, case):
    api.add(case.path, Reply(500, "<h1>Internal Server Error</h1>"))
    with pytest.raises(ProviderError, match=r"HTTP 500.*gave up after 4 attempt") as caught:
        case.build(api, clock).latest(case.zone)
    assert caught.value.status == 500
    assert clock.waits == [0.5, 1.0, 2.0]
    assert api.count(case.path) == 4


def test_total_time_is_capped(api, clock, case):
    api.add(case.path, Reply(502))
    with pytest.raises(ProviderError, match="gave up after 2 attempt"):
        case.build(api, clock, backoff_s=4, max_total_s=5).latest(case.zone)
    assert clock.waits == [4.0]  # the next wait, 8 s, would pass the 5 s budget


def test_timeout_is_retried_then_a_provider_error(api, clock, case):
    api.add(case.path, Reply(body=case.ok, delay_s=0.5))
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"no answer within 0\.1 s.*gave up after 2"):
        case.build(api, clock, timeout_s=0.1, retries=1).latest(case.zone)
    assert time.monotonic() - started < 0.45  # neither attempt waited for the slow answer
    assert clock.waits == [0.5]
    assert api.count(case.path) == 2


@pytest.mark.parametrize("body", ["<html>Bad gateway, try later</html>", "x" * 1000, "{"])
def test_a_body_that_is_not_json_is_a_provider_error(api, clock, case, body):
    api.add(case.path, Reply(200, body))
    with pytest.raises(ProviderError, match="unexpected response") as caught:
        case.build(api, clock).latest(case.zone)
    message = str(caught.value)
    assert "first 200 chars" in message and body[:20] in message
    assert "x" * 201 not in message
    assert api.count(case.path) == 1  # a malformed answer is not retried


def test_json_of_the_wrong_shape_is_a_provider_error(api, clock, case):
    api.add(case.path, {"unexpected": [1, 2, 3]})
    with pytest.raises(ProviderError, match="unexpected response.*unexpected"):
        case.build(api, clock).latest(case.zone)


@pytest.mark.parametrize("status", [400, 404])
def test_client_errors_are_not_retried(api, clock, case, status):
    api.add(case.path, Reply(status, {"error": "No data for zone"}))
    with pytest.raises(ProviderError, match=f"HTTP {status}.*No data for zone") as caught:
        case.build(api, clock).latest(case.zone)
    assert caught.value.status == status
    assert api.count(case.path) == 1 and clock.waits == []


def test_unreachable_server_is_a_provider_error(clock, case):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kwargs = {"base_url": f"http://127.0.0.1:{port}", "clock": clock, "sleep": clock.sleep}
    with pytest.raises(ProviderError, match="could not reach 127.0.0.1"):
        case.make(**kwargs).latest(case.zone)


# -- Electricity Maps ------------------------------------------------------------------------------


def em(api: FakeApi, clock: FakeClock, **kwargs: Any) -> ElectricityMapsClient:
    return ElectricityMapsClient("em-token", **quick(clock, api, **kwargs))


def test_em_latest_fields_and_request(api, clock):
    api.add("/carbon-intensity/latest", EM_LATEST)
    value = em(api, clock).latest("FR")
    assert value == LiveIntensity(
        value_g_per_kwh=32.0,
        datetime=datetime(2024, 5, 1, 12, tzinfo=UTC),
        kind="average",
        basis="lifecycle",
        zone="FR",
        source="Electricity Maps v3/carbon-intensity/latest (estimated: TIME_SLICER_AVERAGE)",
        estimated=True,
        period_s=3600.0,
    )
    seen = api.requests("/carbon-intensity/latest")[0]
    assert seen.headers["auth-token"] == "em-token"
    assert seen.query == {"zone": "FR", "emissionFactorType": "lifecycle"}


def test_em_direct_emission_factors_are_asked_for_and_reported(api, clock):
    api.add("/carbon-intensity/latest", {**EM_LATEST, "emissionFactorType": "direct"})
    value = em(api, clock, emission_factor_type="direct").latest("FR")
    assert value.basis == "direct"
    assert api.requests()[0].query["emissionFactorType"] == "direct"


def test_em_refused_token_says_which_setting_to_check(api, clock):
    api.add("/carbon-intensity/latest", Reply(401, {"message": "Invalid auth-token"}))
    with pytest.raises(ProviderError, match="WATTPRINT_ELECTRICITYMAPS_TOKEN") as caught:
        em(api, clock).latest("FR")
    assert caught.value.status == 401 and caught.value.provider == "Electricity Maps"
    assert "em-token" not in str(caught.value)
    assert api.count() == 1 and clock.waits == []  # a refused token is not retried


def test_em_null_intensity_is_no_value_not_zero(api, clock):
    api.add("/carbon-intensity/latest", {**EM_LATEST, "carbonIntensity": None})
    with pytest.raises(ProviderError, match="no carbon intensity for FR"):
        em(api, clock).latest("FR")


def test_em_needs_a_token():
    with pytest.raises(ValueError, match="WATTPRINT_ELECTRICITYMAPS_TOKEN"):
        ElectricityMapsClient("")
    client = ElectricityMapsClient.from_env({"WATTPRINT_ELECTRICITYMAPS_TOKEN": "abc"})
    assert "abc" not in repr(client)


def em_history(hours: range, gap: int | None = None) -> dict:
    points = [
        em_point(None if h == gap else 40 + h, f"2024-05-01T{h:02d}:00:00.000Z") for h in hours
    ]
    return {"zone": "FR", "history": points}


def test_em_recent_history_uses_history_and_caches_by_hour(api, clock):
    api.add("/carbon-intensity/history", em_history(range(0, 13), gap=7))
    client = em(api, clock)
    start, end = datetime(2024, 5, 1, 5, 30, tzinfo=UTC), datetime(2024, 5, 1, 9, tzinfo=UTC)
    got = client.history("FR", start, end)
    # The 05:00 hour overlaps 05:30; 07:00 was null at the provider and stays a gap.
    assert [p.datetime.hour for p in got] == [5, 6, 8]
    assert [p.value_g_per_kwh for p in got] == [45.0, 46.0, 48.0]
    assert all(p.source == "Electricity Maps v3/carbon-intensity/history" for p in got)
    assert client.history("FR", start, end) == got
    assert client.history("FR", start + timedelta(hours=1), end) == got[1:]
    assert api.count() == 1


def test_em_recent_hours_are_refetched_sooner_than_settled_ones(api, clock):
    api.add("/carbon-intensity/history", em_history(range(0, 13)))
    client = em(api, clock)
    client.history("FR", datetime(2024, 5, 1, 8, tzinfo=UTC), datetime(2024, 5, 1, 12, tzinfo=UTC))
    clock.advance(301)
    client.history("FR", datetime(2024, 5, 1, 8, tzinfo=UTC), datetime(2024, 5, 1, 10, tzinfo=UTC))
    assert api.count() == 1  # 08:00 and 09:00 ended over two hours ago: settled
    client.history("FR", datetime(2024, 5, 1, 10, tzinfo=UTC), datetime(2024, 5, 1, 12, tzinfo=UTC))
    assert api.count() == 2  # 10:00 and 11:00 may still be revised


def test_em_older_history_uses_past_range_ten_days_at_a_time(api, clock):
    api.add(
        "/carbon-intensity/past-range",
        {"zone": "FR", "data": [em_point(55, "2024-04-01T00:00:00.000Z")]},
        {"zone": "FR", "data": [em_point(66, "2024-04-14T23:00:00.000Z")]},
    )
    start, end = datetime(2024, 4, 1, tzinfo=UTC), datetime(2024, 4, 15, tzinfo=UTC)
    got = em(api, clock).history("FR", start, end)
    assert [p.value_g_per_kwh for p in got] == [55.0, 66.0]
    queries = [s.query for s in api.requests("/carbon-intensity/past-range")]
    assert [(q["start"], q["end"]) for q in queries] == [
        ("2024-04-01T00:00:00Z", "2024-04-11T00:00:00Z"),
        ("2024-04-11T00:00:00Z", "2024-04-15T00:00:00Z"),
    ]
    assert "past-range" in got[0].source


def test_history_wants_aware_datetimes(api, clock):
    with pytest.raises(ValueError, match="timezone-aware"):
        em(api, clock).history("FR", datetime(2024, 5, 1), datetime(2024, 5, 1, 1))
    assert em(api, clock).history("FR", NOW, NOW) == []
    assert api.count() == 0


# -- GB Carbon Intensity API -----------------------------------------------------------------------


def uk(api: FakeApi, clock: FakeClock, **kwargs: Any) -> UKGridClient:
    return UKGridClient(**quick(clock, api, **kwargs))


def test_uk_national_uses_actual_when_present(api, clock):
    api.add("/intensity", UK_NOW)
    value = uk(api, clock).latest("GB")
    assert value == LiveIntensity(
        value_g_per_kwh=117.0,
        datetime=datetime(2024, 5, 1, 12, tzinfo=UTC),
        kind="average",
        basis="direct",
        zone="GB",
        source="GB Carbon Intensity API /intensity (actual)",
        estimated=False,
        period_s=1800.0,
    )


@pytest.mark.parametrize("actual", [None, "absent"])
def test_uk_national_falls_back_to_the_forecast_and_says_so(api, clock, actual):
    api.add(
        "/intensity", {"data": [uk_period("2024-05-01T12:00Z", "2024-05-01T12:30Z", 130, actual)]}
    )
    value = uk(api, clock).latest("gb")
    assert value.value_g_per_kwh == 130.0
    assert value.source.endswith("(forecast)") and value.estimated is True


def test_uk_region_by_id(api, clock):
    periods = [uk_period("2024-05-01T12:00Z", "2024-05-01T12:30Z", 98, "absent")]
    api.add("/regional/regionid/13", {"data": [uk_region(13, periods)]})
    value = uk(api, clock).latest("GB-13")
    assert (value.zone, value.value_g_per_kwh, value.estimated) == ("GB-13", 98.0, True)
    assert value.source == "GB Carbon Intensity API /regional/regionid/13 (forecast)"


def test_uk_region_by_outward_postcode(api, clock):
    periods = [uk_period("2024-05-01T12:00Z", "2024-05-01T12:30Z", 87, "absent")]
    api.add("/regional/postcode/RG10", {"data": [uk_region(12, periods, postcode="RG10")]})
    value = uk(api, clock).latest("GB-rg10 1AA")
    assert (value.zone, value.value_g_per_kwh) == ("GB-12", 87.0)


@pytest.mark.parametrize("zone", ["FR", "GB-99", "GB-", "GB-12345", ""])
def test_uk_unknown_zone_is_refused_without_a_request(api, clock, zone):
    with pytest.raises(ProviderError, match="GB-<region id 1-17>|no zone"):
        uk(api, clock).latest(zone)
    assert api.count() == 0


def test_uk_national_history(api, clock):
    periods = [
        uk_period(
            f"2024-05-01T{h:02d}:{m:02d}Z",
            f"2024-05-01T{h + (m == 30):02d}:{(m + 30) % 60:02d}Z",
            100 + h,
            90 + h,
        )
        for h in (8, 9, 10)
        for m in (0, 30)
    ]
    api.add("/intensity/2024-05-01T09:00Z/2024-05-01T11:00Z", {"data": periods})
    start, end = datetime(2024, 5, 1, 9, 45, tzinfo=UTC), datetime(2024, 5, 1, 10, 40, tzinfo=UTC)
    got = uk(api, clock).history("GB", start, end)
    # 09:30-10:00, 10:00-10:30 and 10:30-11:00 overlap 09:45-10:40; the 08:xx spill is dropped.
    assert [p.datetime.strftime("%H:%M") for p in got] == ["09:30", "10:00", "10:30"]
    assert [p.value_g_per_kwh for p in got] == [99.0, 100.0, 100.0]
    assert api.count() == 1


def test_uk_regional_history_answers_one_object(api, clock):
    periods = [uk_period("2024-05-01T09:00Z", "2024-05-01T09:30Z", 70, "absent")]
    path = "/regional/intensity/2024-05-01T09:00Z/2024-05-01T10:00Z/regionid/13"
    api.add(path, {"data": uk_region(13, periods)})
    start, end = datetime(2024, 5, 1, 9, tzinfo=UTC), datetime(2024, 5, 1, 10, tzinfo=UTC)
    (point,) = uk(api, clock).history("GB-13", start, end)
    assert (point.zone, point.value_g_per_kwh, point.estimated) == ("GB-13", 70.0, True)


# -- WattTime --------------------------------------------------------------------------------------


def wt(api: FakeApi, clock: FakeClock, *tokens: str, **kwargs: Any) -> WattTimeClient:
    api.add("/login", *[{"token": t} for t in tokens or ("tok-1",)])
    return WattTimeClient("ada", "s3cret", **quick(clock, api, **kwargs))


def test_wt_logs_in_with_basic_auth_and_converts_pounds_per_mwh(api, clock):
    api.add("/v3/forecast", WT_NOW)
    value = wt(api, clock).latest("CAISO_NORTH")
    assert value == LiveIntensity(
        value_g_per_kwh=pytest.approx(1000.0 * 0.453592),
        datetime=datetime(2024, 5, 1, 12, 5, tzinfo=UTC),
        kind="marginal",
        basis="direct",
        zone="CAISO_NORTH",
        source="WattTime v3/forecast (co2_moer, model 2023-03-01)",
        estimated=True,
        period_s=300.0,
    )
    (login,) = api.requests("/login")
    assert login.headers["authorization"] == "Basic " + base64.b64encode(b"ada:s3cret").decode()
    (forecast,) = api.requests("/v3/forecast")
    assert forecast.headers["authorization"] == "Bearer tok-1"
    assert forecast.query == {
        "region": "CAISO_NORTH",
        "signal_type": "co2_moer",
        "horizon_hours": "0",
    }


def test_wt_token_is_kept_and_renewed_before_it_expires(api, clock):
    api.add("/v3/forecast", WT_NOW)
    client = wt(api, clock, "tok-1", "tok-2")
    client.latest("CAISO_NORTH")
    client.latest("PJM_NJ")
    assert client.logins == 1
    clock.advance(26 * 60)  # tokens last 30 minutes; renewed with 5 to spare
    client.latest("MISO_INDIANAPOLIS")
    assert client.logins == 2
    assert api.requests("/v3/forecast")[-1].headers["authorization"] == "Bearer tok-2"


def test_wt_refused_token_is_renewed_once(api, clock):
    api.add("/v3/forecast", Reply(401, {"error": "expired"}), Reply(body=WT_NOW))
    client = wt(api, clock, "tok-1", "tok-2")
    assert client.latest("CAISO_NORTH").value_g_per_kwh == pytest.approx(453.592)
    auth = [s.headers["authorization"] for s in api.requests("/v3/forecast")]
    assert auth == ["Bearer tok-1", "Bearer tok-2"]
    assert client.logins == 2 and clock.waits == []


def test_wt_refused_twice_is_a_provider_error_naming_the_settings(api, clock):
    api.add("/v3/forecast", Reply(401))
    client = wt(api, clock, "tok-1", "tok-2", "tok-3")
    with pytest.raises(ProviderError, match="WATTPRINT_WATTTIME_USERNAME") as caught:
        client.latest("CAISO_NORTH")
    assert caught.value.status == 401
    assert client.logins == 2 and api.count("/v3/forecast") == 2
    assert "s3cret" not in str(caught.value)


def test_wt_refused_login(api, clock):
    client = wt(api, clock)
    api.add("/login", Reply(401, "Unauthorized"))
    with pytest.raises(ProviderError, match="username or password was refused"):
        client.latest("CAISO_NORTH")
    assert api.count("/v3/forecast") == 0 and api.count("/login") == 1


def test_wt_login_without_a_token(api, clock):
    client = wt(api, clock)
    api.add("/login", {"message": "hello"})
    with pytest.raises(ProviderError, match="unexpected response for login"):
        client.latest("CAISO_NORTH")


def test_wt_plan_without_the_region(api, clock):
    api.add("/v3/forecast", Reply(403, {"error": "no access to PJM_NJ"}))
    with pytest.raises(ProviderError, match="only CAISO_NORTH"):
        wt(api, clock).latest("PJM_NJ")


def test_wt_historical(api, clock):
    points = [(f"2024-05-01T09:{m:02d}:00+00:00", 800.0 + m) for m in range(0, 60, 5)]
    api.add("/v3/historical", wt_body(list(reversed(points))))
    start, end = datetime(2024, 5, 1, 9, 20, tzinfo=UTC), datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    got = wt(api, clock).history("CAISO_NORTH", start, end)
    assert [p.datetime.minute for p in got] == [20, 25]  # sorted, 5-minute periods
    assert got[0].value_g_per_kwh == pytest.approx(820.0 * 0.453592)
    assert got[0].estimated is None and got[0].source.startswith("WattTime v3/historical")
    (seen,) = api.requests("/v3/historical")
    assert (seen.query["start"], seen.query["end"]) == (
        "2024-05-01T09:00:00+00:00",
        "2024-05-01T10:00:00+00:00",
    )


def test_wt_unknown_units_are_refused(api, clock):
    api.add("/v3/forecast", {**WT_NOW, "meta": {**WT_NOW["meta"], "units": "percentile"}})
    with pytest.raises(ProviderError, match="percentile"):
        wt(api, clock).latest("CAISO_NORTH")


def test_wt_region_from_location_is_cached(api, clock):
    api.add(
        "/v3/region-from-loc",
        {
            "region": "CAISO_NORTH",
            "region_full_name": "California ISO Northern",
            "signal_type": "co2_moer",
        },
    )
    client = wt(api, clock)
    assert client.region_from_loc(37.77, -122.42) == "CAISO_NORTH"
    assert client.region_from_loc(37.77, -122.42) == "CAISO_NORTH"
    (seen,) = api.requests("/v3/region-from-loc")
    assert seen.query == {"latitude": "37.77", "longitude": "-122.42", "signal_type": "co2_moer"}


def test_wt_needs_credentials():
    with pytest.raises(ValueError, match="WATTPRINT_WATTTIME_PASSWORD"):
        WattTimeClient.from_env({"WATTPRINT_WATTTIME_USERNAME": "ada"})
    assert "pw" not in repr(WattTimeClient("ada", "pw"))


# -- helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-05-21T00:00:00.000Z", datetime(2019, 5, 21, tzinfo=UTC)),
        ("2018-01-20T12:30Z", datetime(2018, 1, 20, 12, 30, tzinfo=UTC)),
        ("2022-07-15T02:00:00+02:00", datetime(2022, 7, 15, tzinfo=UTC)),
        ("2022-07-15T00:05:00", datetime(2022, 7, 15, 0, 5, tzinfo=UTC)),
    ],
)
def test_parse_time(text, expected):
    parsed = parse_time(text)
    assert parsed == expected and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("bad", [None, 17, "yesterday", ""])
def test_parse_time_refuses(bad):
    with pytest.raises(ValueError):
        parse_time(bad)


def test_ttl_cache_expires_and_stays_bounded():
    clock = FakeClock(NOW)
    cache = TTLCache(clock, max_entries=3)
    cache.put("a", 1, 10)
    clock.advance(11)
    assert cache.get("a") is None
    for key in "bcde":
        cache.put(key, key, 100)
    assert len(cache) == 3 and cache.get("b") is None and cache.get("e") == "e"
