"""Electricity Maps (https://www.electricitymaps.com): average grid intensity by zone.

API v3, with the token in an ``auth-token`` header:

* ``GET carbon-intensity/latest?zone=FR`` answers one object: ``zone``, ``carbonIntensity``
  (gCO2eq/kWh), ``datetime`` (start of the hour), ``updatedAt``, ``emissionFactorType``
  (``lifecycle`` by default, or ``direct``), ``isEstimated``, ``estimationMethod``,
  ``temporalGranularity``;
* ``GET carbon-intensity/history?zone=FR`` answers ``{"zone": ..., "history": [<as above>, ...]}``
  for the last 24 hours (available on the free tier);
* ``GET carbon-intensity/past-range?zone=FR&start=...&end=...`` answers
  ``{"zone": ..., "data": [<as above>, ...]}`` for older ranges, at most 10 days of hourly data
  per request (a paid endpoint);
* ``GET carbon-intensity/forecast?zone=FR`` answers ``{"zone": ..., "forecast": [{"carbonIntensity",
  "datetime"}, ...], "updatedAt": ...}``: the next hours (24 by default; a paid endpoint).

The value is a consumption-based average ("average"), lifecycle unless ``emission_factor_type``
asks for ``direct``. ``history()`` uses ``/history`` when the range lies within the last 23 hours
and ``/past-range`` otherwise.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from . import LiveIntensity, ProviderError
from .http import Clock, LiveClient, Sleep, Transport, chunks, iso_z, number, parse_time

NAME = "Electricity Maps"
DEFAULT_BASE_URL = "https://api.electricitymap.org/v3"
TOKEN_ENV = "WATTPRINT_ELECTRICITYMAPS_TOKEN"
EMISSION_FACTOR_TYPES = ("lifecycle", "direct")
# /history covers the last 24 hours; keep an hour's margin for the provider's own lag.
HISTORY_WINDOW_S = 23 * 3600.0
PAST_RANGE_CHUNK = timedelta(days=10)
GRANULARITY_S = {"5_minutes": 300.0, "15_minutes": 900.0, "hourly": 3600.0, "daily": 86400.0}

HINTS = {
    401: f"the token was refused: check {TOKEN_ENV}",
    403: "the token's plan does not include this endpoint or zone (past-range and most zones "
    "need a paid plan): check it at https://portal.electricitymaps.com",
    404: "unknown zone or endpoint: check the zone name (the list is at "
    "https://api.electricitymap.org/v3/zones)",
}


class ElectricityMapsClient(LiveClient):
    """Live average intensity from Electricity Maps for zones such as ``FR``, ``US-CAL-CISO``."""

    name = NAME

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout_s: float = 5.0,
        emission_factor_type: str = "lifecycle",
        disable_estimations: bool = False,
        latest_ttl_s: float = 300.0,
        history_ttl_s: float = 24 * 3600.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        max_total_s: float = 15.0,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
    ) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ValueError(
                f"Electricity Maps needs an API token: get one at "
                f"https://portal.electricitymaps.com and set {TOKEN_ENV}"
            )
        if emission_factor_type not in EMISSION_FACTOR_TYPES:
            raise ValueError(
                f"emission_factor_type must be one of {', '.join(EMISSION_FACTOR_TYPES)}, "
                f"got {emission_factor_type!r}"
            )
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
        self._token = token.strip()
        self.emission_factor_type = emission_factor_type
        self.disable_estimations = bool(disable_estimations)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **kwargs: Any
    ) -> ElectricityMapsClient:
        """A client with the token from ``WATTPRINT_ELECTRICITYMAPS_TOKEN``."""
        env = os.environ if environ is None else environ
        return cls(env.get(TOKEN_ENV, ""), **kwargs)

    def __repr__(self) -> str:  # never show the token
        return f"ElectricityMapsClient(base_url={self.transport.base_url!r})"

    # -- fetches -----------------------------------------------------------------------------------

    def _get(self, endpoint: str, params: dict[str, Any], what: str) -> Any:
        query = {
            **params,
            "emissionFactorType": self.emission_factor_type,
            "disableEstimations": "true" if self.disable_estimations else None,
        }
        return self.transport.get_json(endpoint, query, {"auth-token": self._token}, what=what)

    def _fetch_latest(self, zone: str) -> LiveIntensity:
        what = f"latest intensity for {zone}"
        payload = self._get("carbon-intensity/latest", {"zone": zone}, what)
        point = self._point(payload, zone, "v3/carbon-intensity/latest", what)
        if point is None:
            raise ProviderError(
                f"{NAME}: no carbon intensity for {zone} right now (carbonIntensity is null): "
                "the zone may have no live data; use another zone or the offline tables",
                provider=NAME,
            )
        return point

    def _fetch_range(self, zone: str, start: datetime, end: datetime) -> list[LiveIntensity]:
        if start.timestamp() >= self._clock() - HISTORY_WINDOW_S:
            what = f"history for {zone}"
            payload = self._get("carbon-intensity/history", {"zone": zone}, what)
            return self._points(payload, "history", zone, "v3/carbon-intensity/history", what)
        out: list[LiveIntensity] = []
        for low, high in chunks(start, end, PAST_RANGE_CHUNK):
            what = f"intensity for {zone} from {iso_z(low)} to {iso_z(high)}"
            params = {"zone": zone, "start": iso_z(low), "end": iso_z(high)}
            payload = self._get("carbon-intensity/past-range", params, what)
            out += self._points(payload, "data", zone, "v3/carbon-intensity/past-range", what)
        return out

    def _fetch_forecast(self, zone: str) -> list[LiveIntensity]:
        what = f"forecast for {zone}"
        payload = self._get("carbon-intensity/forecast", {"zone": zone}, what)
        points = self._points(payload, "forecast", zone, "v3/carbon-intensity/forecast", what)
        if not points:
            raise ProviderError(
                f"{NAME}: the forecast for {zone} held no value: the zone may have no forecast; "
                "use another zone or the offline tables",
                provider=NAME,
            )
        return [replace(p, estimated=True) for p in points]  # a forecast is an estimate

    # -- parsing -----------------------------------------------------------------------------------

    def _points(
        self, payload: Any, field: str, zone: str, endpoint: str, what: str
    ) -> list[LiveIntensity]:
        items = payload.get(field) if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise self.transport.unexpected(what, payload, f"no {field!r} list")
        out = []
        for item in items:
            point = self._point(item, str(payload.get("zone") or zone), endpoint, what)
            if point is not None:  # a gap in the provider's data stays a gap
                out.append(point)
        return out

    def _point(self, item: Any, zone: str, endpoint: str, what: str) -> LiveIntensity | None:
        if not isinstance(item, dict):
            raise self.transport.unexpected(what, item, "not an object")
        if "carbonIntensity" not in item:
            raise self.transport.unexpected(what, item, "no carbonIntensity")
        try:
            value = number(item["carbonIntensity"])
            moment = parse_time(item.get("datetime"))
        except ValueError as err:
            raise self.transport.unexpected(what, item, str(err)) from None
        if value is None:
            return None
        estimated = item.get("isEstimated")
        source = f"{NAME} {endpoint}"
        method = item.get("estimationMethod")
        if estimated and isinstance(method, str) and method:
            source += f" (estimated: {method})"
        basis = item.get("emissionFactorType")
        granularity = item.get("temporalGranularity")
        return LiveIntensity(
            value_g_per_kwh=value,
            datetime=moment,
            kind="average",
            basis=basis if basis in EMISSION_FACTOR_TYPES else self.emission_factor_type,
            zone=str(item.get("zone") or zone),
            source=source,
            estimated=estimated if isinstance(estimated, bool) else None,
            period_s=3600.0 if granularity is None else GRANULARITY_S.get(granularity),
        )
