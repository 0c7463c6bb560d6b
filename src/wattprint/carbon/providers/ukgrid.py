"""The GB Carbon Intensity API (NESO, formerly National Grid ESO): https://carbonintensity.org.uk

No key. Half-hourly values in gCO2/kWh, every time in UTC (``2018-01-20T12:00Z``):

* national, zone ``GB``: ``GET /intensity`` (the current half hour) and
  ``GET /intensity/{from}/{to}``, each ``{"data": [{"from", "to", "intensity": {"forecast",
  "actual", "index"}}]}``; ``actual`` (the estimated outturn) is null until the half hour is
  over, so the value is ``actual`` where present, else ``forecast``, and ``source`` says which;
* regional, zone ``GB-<regionid>`` (1-17: the 14 DNO regions, then England, Scotland, Wales) or
  ``GB-<outward postcode>`` (``GB-RG10``): ``GET /regional/regionid/{id}`` and
  ``GET /regional/postcode/{outward}`` answer ``{"data": [{"regionid", "dnoregion", "shortname",
  "data": [{"from", "to", "intensity": {"forecast", "index"}, "generationmix": [...]}]}]}``;
  ``GET /regional/intensity/{from}/{to}/regionid/{id}`` (or ``/postcode/{outward}``) answers the
  same with ``data`` a single object. Regional values are forecasts only.
* forecasts, 48 hours from a half hour: ``GET /intensity/{from}/fw48h`` (national) and
  ``GET /regional/intensity/{from}/fw48h/regionid/{id}`` (or ``/postcode/{outward}``), in the
  same shapes as the ranges above.

The API's methodology counts "CO2 emissions related to electricity generation only" (power
stations and interconnector imports, no upstream or lifecycle emissions): basis ``direct``.
It is an average over the generation mix: kind ``average``.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any

from . import LiveIntensity, ProviderError
from .http import Clock, LiveClient, Sleep, Transport, chunks, number, parse_time

NAME = "GB Carbon Intensity API"
DEFAULT_BASE_URL = "https://api.carbonintensity.org.uk"
RANGE_CHUNK = timedelta(days=14)  # the API limits a range to 14 days (regional) or 30 (national)
REGION_IDS = range(1, 18)
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_ZONES_HELP = "use 'GB', 'GB-<region id 1-17>' (e.g. 'GB-13' for London) or 'GB-<outward postcode>'"

HINTS = {
    400: f"the request was rejected: check the zone ({_ZONES_HELP}) and the dates",
    404: f"not found: check the zone ({_ZONES_HELP})",
}


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


class UKGridClient(LiveClient):
    """Live GB grid intensity, national (``GB``) or regional (``GB-13``, ``GB-RG10``)."""

    name = NAME

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 5.0,
        latest_ttl_s: float = 300.0,
        history_ttl_s: float = 24 * 3600.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        max_total_s: float = 15.0,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
    ) -> None:
        transport = Transport(
            NAME,
            base_url,
            timeout_s=timeout_s,
            retries=retries,
            backoff_s=backoff_s,
            max_total_s=max_total_s,
            clock=clock,
            sleep=sleep,
            hints=HINTS,
        )
        super().__init__(
            transport, latest_ttl_s=latest_ttl_s, history_ttl_s=history_ttl_s, clock=clock
        )

    def __repr__(self) -> str:
        return f"UKGridClient(base_url={self.transport.base_url!r})"

    def _zone(self, zone: str) -> tuple[str, str]:
        """("national", "") | ("regionid", "13") | ("postcode", "RG10")."""
        text = super()._zone(zone).upper()
        if text == "GB":
            return ("national", "")
        rest = text[3:].strip() if text.startswith("GB-") else ""
        if rest.isdigit() and int(rest) in REGION_IDS:
            return ("regionid", str(int(rest)))
        outward = rest.split()[0] if rest else ""
        if _OUTWARD.match(outward):
            return ("postcode", outward)
        raise ProviderError(f"{NAME}: {zone!r} is not a GB zone: {_ZONES_HELP}", provider=NAME)

    # -- fetches -----------------------------------------------------------------------------------

    def _fetch_latest(self, key: tuple[str, str]) -> LiveIntensity:
        scope, arg = key
        what = f"latest intensity for {_label(key)}"
        if scope == "national":
            endpoint = "intensity"
            periods = self._national(self.transport.get_json(endpoint, what=what), what)
            zone = "GB"
        else:
            endpoint = f"regional/{scope}/{arg}"
            payload = self.transport.get_json(endpoint, what=what)
            zone, periods = self._regional(payload, key, what)
        points = [p for p in (self._point(x, zone, endpoint, what) for x in periods) if p]
        if not points:
            raise ProviderError(
                f"{NAME}: no intensity for {_label(key)} right now (the answer held no value): "
                "try again later or use the offline tables",
                provider=NAME,
            )
        return points[0]

    def _fetch_range(
        self, key: tuple[str, str], start: datetime, end: datetime
    ) -> list[LiveIntensity]:
        scope, arg = key
        out: list[LiveIntensity] = []
        for low, high in chunks(start, end, RANGE_CHUNK):
            what = f"intensity for {_label(key)} from {_time(low)} to {_time(high)}"
            if scope == "national":
                endpoint = f"intensity/{_time(low)}/{_time(high)}"
                periods = self._national(self.transport.get_json(endpoint, what=what), what)
                zone = "GB"
                name = "/intensity/{from}/{to}"
            else:
                endpoint = f"regional/intensity/{_time(low)}/{_time(high)}/{scope}/{arg}"
                payload = self.transport.get_json(endpoint, what=what)
                zone, periods = self._regional(payload, key, what)
                name = f"/regional/intensity/{{from}}/{{to}}/{scope}/{arg}"
            out += [p for p in (self._point(x, zone, name, what) for x in periods) if p]
        return out

    def _fetch_forecast(self, key: tuple[str, str]) -> list[LiveIntensity]:
        """The next 48 hours from the current half hour (``.../{from}/fw48h``)."""
        scope, arg = key
        now = self._now()
        start = now.replace(minute=30 if now.minute >= 30 else 0, second=0, microsecond=0)
        what = f"48 h forecast for {_label(key)}"
        if scope == "national":
            endpoint = f"intensity/{_time(start)}/fw48h"
            periods = self._national(self.transport.get_json(endpoint, what=what), what)
            zone, name = "GB", "/intensity/{from}/fw48h"
        else:
            endpoint = f"regional/intensity/{_time(start)}/fw48h/{scope}/{arg}"
            payload = self.transport.get_json(endpoint, what=what)
            zone, periods = self._regional(payload, key, what)
            name = f"/regional/intensity/{{from}}/fw48h/{scope}/{arg}"
        points = [p for p in (self._point(x, zone, name, what) for x in periods) if p]
        if not points:
            raise ProviderError(
                f"{NAME}: the forecast for {_label(key)} held no value: try again later or use "
                "the offline tables",
                provider=NAME,
            )
        return points

    # -- parsing -----------------------------------------------------------------------------------

    def _national(self, payload: Any, what: str) -> list[Any]:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise self.transport.unexpected(what, payload, "no 'data' list")
        return data

    def _regional(self, payload: Any, key: tuple[str, str], what: str) -> tuple[str, list[Any]]:
        data = payload.get("data") if isinstance(payload, dict) else None
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            raise self.transport.unexpected(what, payload, "no region with a 'data' list")
        region = data.get("regionid")
        if isinstance(region, int) and not isinstance(region, bool):
            zone = f"GB-{region}"
        else:
            zone = f"GB-{key[1]}"
        return zone, data["data"]

    def _point(self, period: Any, zone: str, endpoint: str, what: str) -> LiveIntensity | None:
        try:
            if not isinstance(period, dict) or not isinstance(period.get("intensity"), dict):
                raise ValueError("a period without an 'intensity' object")
            start = parse_time(period.get("from"))
            stop = parse_time(period["to"]) if period.get("to") is not None else None
            actual = number(period["intensity"].get("actual"))
            forecast = number(period["intensity"].get("forecast"))
        except (ValueError, KeyError) as err:
            raise self.transport.unexpected(what, period, str(err)) from None
        value, which = (actual, "actual") if actual is not None else (forecast, "forecast")
        if value is None:
            return None
        endpoint = endpoint if endpoint.startswith("/") else f"/{endpoint}"
        return LiveIntensity(
            value_g_per_kwh=value,
            datetime=start,
            kind="average",
            basis="direct",
            zone=zone,
            source=f"{NAME} {endpoint} ({which})",
            estimated=which == "forecast",
            period_s=(stop - start).total_seconds() if stop and stop > start else None,
        )


def _label(key: tuple[str, str]) -> str:
    scope, arg = key
    return {"national": "GB", "regionid": f"GB region {arg}"}.get(scope, f"GB postcode {arg}")
