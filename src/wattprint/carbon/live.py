"""Live intensity, fetched by a thread of its own so the sampling thread never waits on a network.

Opt-in (``live_provider``). The feed asks its provider for the latest value at start and every
few minutes; the sampling thread only reads the value it holds. A value older than an hour is
not used, and a provider that fails leaves the offline figure in place, said once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .grid import LIVE, Intensity
from .location import Location

REFRESH_S = 300.0
MAX_AGE_S = 3600.0


class LiveFeed:
    def __init__(
        self,
        fetch: Callable[[], Any],
        *,
        zone: str,
        source: str,
        kind: str,
        warn: Callable[[str, str], Any],
        refresh_s: float = REFRESH_S,
        max_age_s: float = MAX_AGE_S,
    ) -> None:
        self.zone, self.source, self.kind = zone, source, kind
        self.error: str | None = None
        self._fetch, self._warn = fetch, warn
        self._refresh_s, self._max_age_s = refresh_s, max_age_s
        self._latest: Any = None
        self._converted: tuple[Any, Intensity] | None = None
        self._stop = threading.Event()
        self.ready = threading.Event()  # set after the first attempt, whatever its outcome
        self._thread = threading.Thread(target=self._run, name="wattprint-live", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self._latest = self._fetch()
                self.error = None
            except Exception as exc:  # a provider error must never reach the user's program
                self.error = str(exc)
                self._warn(
                    f"live:{self.source}",
                    f"live intensity from {self.source} unavailable ({exc}); "
                    "the offline figure is used until it answers",
                )
            self.ready.set()
            if self._stop.wait(self._refresh_s):
                return

    def value_at(self, t: float) -> Intensity | None:
        """The live value if it is fresh for time ``t`` (epoch seconds), else None."""
        latest = self._latest
        if latest is None or abs(t - latest.datetime.timestamp()) > self._max_age_s:
            return None
        if self._converted is None or self._converted[0] is not latest:
            v = latest.value_g_per_kwh
            when = latest.datetime.isoformat(timespec="minutes")
            it = Intensity(
                v,
                v,
                v,
                LIVE,
                latest.zone,
                latest.datetime.year,
                f"{latest.source} at {when}",
                latest.basis,
                None,
            )
            self._converted = (latest, it)
        return self._converted[1]

    def close(self) -> None:
        self._stop.set()


def _coordinates(location: Location) -> tuple[float, float] | None:
    from . import tables

    if location.latitude is not None and location.longitude is not None:
        return location.latitude, location.longitude
    if location.cloud_provider and location.cloud_region:
        region = tables.cloud_region(location.cloud_provider, location.cloud_region)
        if region is not None and region.latitude is not None and region.longitude is not None:
            return region.latitude, region.longitude
    zone = tables.zone(location.zone) if location.zone else None
    if zone is not None and zone.latitude is not None and zone.longitude is not None:
        return zone.latitude, zone.longitude
    return None


def open_feed(
    settings: Any, location: Location, warn: Callable[[str, str], Any]
) -> LiveFeed | None:
    """Start the feed the settings ask for, or say once why there is none for this location."""
    from . import countries
    from .grid import zone_key
    from .providers import electricitymaps, ukgrid, watttime

    name = settings.live_provider
    if name == "electricitymaps":
        key = zone_key(location)
        if key is None or key.startswith("US-STATE-"):  # eGRID states are not EM zones
            key = countries.find(location.country).iso2 if location.country else None
        if not key:
            warn(
                "live:no-zone",
                "live_provider=electricitymaps needs a location: set country or zone",
            )
            return None
        client = electricitymaps.ElectricityMapsClient(settings.electricitymaps_token)
        return LiveFeed(
            lambda: client.latest(key),
            zone=key,
            source="Electricity Maps",
            kind="average",
            warn=warn,
        )
    if name == "ukgrid":
        if location.country != "GBR":
            warn("live:ukgrid", "live_provider=ukgrid covers Great Britain only; not used here")
            return None
        client = ukgrid.UKGridClient()
        return LiveFeed(
            lambda: client.latest("GB"),
            zone="GB",
            source="Carbon Intensity API (NESO)",
            kind="average",
            warn=warn,
        )
    if name == "watttime":
        where = _coordinates(location)
        if where is None:
            warn(
                "live:watttime", "live_provider=watttime needs coordinates: set latitude/longitude"
            )
            return None
        client = watttime.WattTimeClient(settings.watttime_username, settings.watttime_password)

        def fetch() -> Any:
            return client.latest(client.region_from_loc(*where))

        return LiveFeed(
            fetch,
            zone=f"{where[0]:.2f},{where[1]:.2f}",
            source="WattTime",
            kind="marginal",
            warn=warn,
        )
    return None
