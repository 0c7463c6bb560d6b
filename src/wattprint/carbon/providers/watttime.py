"""WattTime (https://watttime.org): marginal emissions (MOER) by grid region, API v3.

* ``GET /login`` with HTTP basic auth answers ``{"token": "<JWT>"}``, valid 30 minutes; every
  other request sends ``Authorization: Bearer <token>``. The token is kept, renewed before it
  expires, and renewed once more if a request is refused with 401.
* ``GET /v3/forecast?region=CAISO_NORTH&signal_type=co2_moer&horizon_hours=0`` answers
  ``{"data": [{"point_time", "value"}], "meta": {"region", "signal_type", "units",
  "generated_at", "data_point_period_seconds", "model": {"date"}, ...}}``: ``latest()`` is its
  first point (WattTime's documented way to get the current MOER; a forecast, so ``estimated``);
  ``forecast()`` asks ``horizon_hours=24`` for the next day in five-minute points.
* ``GET /v3/historical?region=...&signal_type=co2_moer&start=...&end=...`` answers the same
  shape, at most 32 days per request (fetched 30 days at a time).
* ``GET /v3/region-from-loc?latitude=...&longitude=...&signal_type=co2_moer`` answers
  ``{"region", "region_full_name", "signal_type"}``.

Units: ``co2_moer`` is in pounds of CO2 per MWh (``meta.units == "lbs_co2_per_mwh"``), so
g/kWh = lbs/MWh x 453.592 g/lb / 1000 kWh/MWh = lbs/MWh x 0.453592. The MOER is the combustion
CO2 rate of the generators that respond to a change in load: kind ``marginal``, basis ``direct``.
Outside ``CAISO_NORTH`` the forecast and historical endpoints need a paid plan.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from . import LiveIntensity, ProviderError
from .http import Clock, LiveClient, Sleep, Transport, TTLCache, chunks, number, parse_time

NAME = "WattTime"
DEFAULT_BASE_URL = "https://api.watttime.org"
USERNAME_ENV = "WATTPRINT_WATTTIME_USERNAME"
PASSWORD_ENV = "WATTPRINT_WATTTIME_PASSWORD"
SIGNAL = "co2_moer"
LBS_PER_MWH_IN_G_PER_KWH = 0.453592
# Units meta.units may name, with the factor to g/kWh; absent means the documented lbs/MWh.
UNITS = {
    "lbs_co2_per_mwh": LBS_PER_MWH_IN_G_PER_KWH,
    "lbs_per_mwh": LBS_PER_MWH_IN_G_PER_KWH,
    "kg_co2_per_mwh": 1.0,
    "g_co2_per_kwh": 1.0,
}
TOKEN_LIFETIME_S = 30 * 60.0
TOKEN_MARGIN_S = 5 * 60.0  # log in again this long before the token would expire
HISTORICAL_CHUNK = timedelta(days=30)
REGION_TTL_S = 24 * 3600.0
FORECAST_HOURS = 24  # the documented default horizon of /v3/forecast (at most 72)

HINTS = {
    401: f"the token was refused even after a fresh login: check {USERNAME_ENV} and "
    f"{PASSWORD_ENV}, and that the account is active",
    403: "this account's plan does not cover the region or endpoint (without a subscription "
    "only CAISO_NORTH is available): check the region or the plan",
    404: "unknown region or endpoint: check the region name (region_from_loc() finds it)",
}
LOGIN_HINTS = {
    401: f"the username or password was refused: check {USERNAME_ENV} and {PASSWORD_ENV}",
    403: f"the account was refused: check {USERNAME_ENV} and {PASSWORD_ENV}",
}


class WattTimeClient(LiveClient):
    """Live marginal intensity (co2_moer) from WattTime for regions such as ``CAISO_NORTH``."""

    name = NAME

    def __init__(
        self,
        username: str,
        password: str,
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
        if not username or not password:
            raise ValueError(
                f"WattTime needs a username and password: register at https://watttime.org and "
                f"set {USERNAME_ENV} and {PASSWORD_ENV}"
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
        credentials = f"{username}:{password}".encode()
        self._basic = "Basic " + base64.b64encode(credentials).decode("ascii")
        self._username = username
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock = threading.Lock()
        self._regions = TTLCache(clock)
        self.logins = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> WattTimeClient:
        """A client with the credentials in ``WATTPRINT_WATTTIME_USERNAME`` / ``_PASSWORD``."""
        env = os.environ if environ is None else environ
        return cls(env.get(USERNAME_ENV, ""), env.get(PASSWORD_ENV, ""), **kwargs)

    def __repr__(self) -> str:  # never show the password or the token
        return f"WattTimeClient(username={self._username!r}, base_url={self.transport.base_url!r})"

    # -- authentication ----------------------------------------------------------------------------

    def _bearer(self, renew: bool = False, refused: str | None = None) -> str:
        with self._token_lock:
            if renew and self._token == refused:
                self._token = None
            if self._token is None or self._clock() >= self._token_until:
                payload = self.transport.get_json(
                    "login", headers={"Authorization": self._basic}, what="login", hints=LOGIN_HINTS
                )
                token = payload.get("token") if isinstance(payload, dict) else None
                if not isinstance(token, str) or not token:
                    raise self.transport.unexpected("login", payload, "no token")
                self.logins += 1
                self._token = token
                self._token_until = self._clock() + TOKEN_LIFETIME_S - TOKEN_MARGIN_S
            return self._token

    def _get(self, endpoint: str, params: dict[str, Any], what: str) -> Any:
        """GET with the bearer token; on 401 log in again once and retry once."""
        token = self._bearer()
        try:
            return self.transport.get_json(
                endpoint, params, {"Authorization": f"Bearer {token}"}, what=what
            )
        except ProviderError as err:
            if err.status != 401:
                raise
        token = self._bearer(renew=True, refused=token)
        return self.transport.get_json(
            endpoint, params, {"Authorization": f"Bearer {token}"}, what=what
        )

    # -- public extras -----------------------------------------------------------------------------

    def region_from_loc(self, latitude: float, longitude: float) -> str:
        """The WattTime region (e.g. ``CAISO_NORTH``) for a point, cached for a day."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValueError(f"not a latitude/longitude: {latitude}, {longitude}")
        key = (round(latitude, 4), round(longitude, 4))
        cached = self._regions.get(key)
        if cached is not None:
            return cached
        what = f"region for {key[0]}, {key[1]}"
        params = {"latitude": key[0], "longitude": key[1], "signal_type": SIGNAL}
        payload = self._get("v3/region-from-loc", params, what)
        region = payload.get("region") if isinstance(payload, dict) else None
        if not isinstance(region, str) or not region:
            raise self.transport.unexpected(what, payload, "no region")
        self._regions.put(key, region, REGION_TTL_S)
        return region

    # -- fetches -----------------------------------------------------------------------------------

    def _fetch_latest(self, region: str) -> LiveIntensity:
        what = f"latest MOER for {region}"
        params = {"region": region, "signal_type": SIGNAL, "horizon_hours": 0}
        payload = self._get("v3/forecast", params, what)
        points = self._points(payload, region, "v3/forecast", what, estimated=True)
        if not points:
            raise ProviderError(
                f"{NAME}: the forecast for {region} held no data point: try again later or use "
                "the offline tables",
                provider=NAME,
            )
        return min(points, key=lambda p: p.datetime)

    def _fetch_forecast(self, region: str) -> list[LiveIntensity]:
        what = f"MOER forecast for {region}"
        params = {"region": region, "signal_type": SIGNAL, "horizon_hours": FORECAST_HOURS}
        payload = self._get("v3/forecast", params, what)
        points = self._points(payload, region, "v3/forecast", what, estimated=True)
        if not points:
            raise ProviderError(
                f"{NAME}: the forecast for {region} held no data point: try again later or use "
                "the offline tables",
                provider=NAME,
            )
        return points

    def _fetch_range(self, region: str, start: datetime, end: datetime) -> list[LiveIntensity]:
        out: list[LiveIntensity] = []
        for low, high in chunks(start, end, HISTORICAL_CHUNK):
            what = f"MOER for {region} from {low.isoformat()} to {high.isoformat()}"
            params = {
                "region": region,
                "signal_type": SIGNAL,
                "start": low.isoformat(),
                "end": high.isoformat(),
            }
            payload = self._get("v3/historical", params, what)
            out += self._points(payload, region, "v3/historical", what, estimated=None)
        return out

    # -- parsing -----------------------------------------------------------------------------------

    def _points(
        self, payload: Any, region: str, endpoint: str, what: str, *, estimated: bool | None
    ) -> list[LiveIntensity]:
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            raise self.transport.unexpected(what, payload, "no 'data' list")
        meta = payload.get("meta") if isinstance(payload.get("meta"), dict) else {}
        units = meta.get("units")
        if units is None:
            factor = LBS_PER_MWH_IN_G_PER_KWH
        elif units in UNITS:
            factor = UNITS[units]
        else:
            raise self.transport.unexpected(what, payload, f"units {units!r}, not lbs_co2_per_mwh")
        signal = meta.get("signal_type")
        if signal is not None and signal != SIGNAL:
            raise self.transport.unexpected(what, payload, f"signal_type {signal!r}")
        period = meta.get("data_point_period_seconds")
        period_s = float(period) if isinstance(period, (int, float)) and period > 0 else 300.0
        zone = meta.get("region") if isinstance(meta.get("region"), str) else region
        model = meta.get("model")
        version = model.get("date") if isinstance(model, dict) else None
        source = f"{NAME} {endpoint} ({SIGNAL}" + (f", model {version})" if version else ")")
        out = []
        for item in payload["data"]:
            try:
                if not isinstance(item, dict):
                    raise ValueError("a data point that is not an object")
                value = number(item.get("value"))
                moment = parse_time(item.get("point_time"))
            except ValueError as err:
                raise self.transport.unexpected(what, item, str(err)) from None
            if value is None:
                continue
            out.append(
                LiveIntensity(
                    value_g_per_kwh=value * factor,
                    datetime=moment,
                    kind="marginal",
                    basis="direct",
                    zone=zone,
                    source=source,
                    estimated=estimated,
                    period_s=period_s,
                )
            )
        return out
