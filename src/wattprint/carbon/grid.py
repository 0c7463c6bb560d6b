"""Grams of CO2e per kWh for a place and a time, and where the number came from.

For a location and a time the first source that answers wins:

1. a live provider (opt-in; fetched off the sampling thread, see ``live.py``);
2. the hourly profile of the location's grid zone for that month and local hour;
3. the cloud provider's own figure for the region (Google publishes one per GCP region);
4. the zone's annual average;
5. the country's annual average;
6. the world average, bounded by the 5th-95th percentile of countries.

A ``Timeline`` answers the same question for every stretch of a run, splitting a stretch at the
hour boundaries of the zone's local time, so a run that crosses an hour uses both hours.

Bounds. A figure for one hour is known to within how much hours vary, and an average is only
as sure as its sources agree:

* an hourly profile's value: the 10th to 90th percentile of the hours behind that month and
  local hour (``HourlyProfile.spread``);
* an annual average applied to any hour: the zone's own hour-to-hour spread over the year
  (the mean 10th and 90th percentiles of its profile over the mean), or, for a zone without a
  profile, the median of that spread over the zones that have one; around the lowest and the
  highest of the independent figures for the place (Electricity Maps' zone, Ember's country,
  the cloud provider's own), so that their disagreement is inside the bounds too;
* the world average: the 5th to 95th percentile of countries; an explicit setting: exact.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime, timedelta, timezone

from . import countries, tables
from .location import Location, locate
from .types import Intensity

#: ``Intensity.kind`` values, most specific first.
LIVE = "live"
HOURLY = "hourly-profile"
PROVIDER = "provider-annual"
ZONE = "zone-annual"
COUNTRY = "country-annual"
WORLD = "world-average"
EXPLICIT = "explicit"


@functools.cache
def _world() -> Intensity:
    # Not knowing where we are is the widest uncertainty there is: bound the world average by
    # the 5th and 95th percentiles of the country intensities in the same table.
    row = countries.world()
    values = sorted(c.intensity_g_per_kwh for c in countries.all_countries())
    low = values[int(0.05 * (len(values) - 1))]
    high = values[int(0.95 * (len(values) - 1))]
    return Intensity(
        value=row.intensity_g_per_kwh,
        low=min(low, row.intensity_g_per_kwh),
        high=max(high, row.intensity_g_per_kwh),
        kind=WORLD,
        zone="WORLD",
        year=row.year,
        source=f"{row.source}; bounds: 5th-95th percentile of countries",
        basis=row.basis,
        license=row.license,
    )


def explicit(value: float, zone: str = "") -> Intensity:
    return Intensity(value, value, value, EXPLICIT, zone, None, "setting intensity_g_per_kwh")


@functools.cache
def _zone_spread(key: str) -> tuple[float, float] | None:
    """(low, high) ratios of a zone's hours to its annual mean: the mean 10th and 90th
    percentiles of its hourly profile over the profile's mean. None without a profile."""
    means = tables.hourly_means(key)
    if means is None or means[0] <= 0:
        return None
    mean, low, high = means
    return min(low / mean, 1.0), max(high / mean, 1.0)


@functools.cache
def typical_spread() -> tuple[float, float]:
    """The median of ``_zone_spread`` over the zones with a profile: the hour-to-hour spread
    assumed for a zone that has none."""
    spreads = [s for s in (_zone_spread(k) for k in tables.hourly_zones()) if s is not None]
    if not spreads:
        return 1.0, 1.0
    lows, highs = sorted(s[0] for s in spreads), sorted(s[1] for s in spreads)
    return lows[len(lows) // 2], highs[len(highs) // 2]


def _annual_bounds(value: float, key: str | None, others: list[float]) -> tuple[float, float]:
    """Bounds of an annual figure used for one hour (see the module's docstring)."""
    low_ratio, high_ratio = (_zone_spread(key.upper()) if key else None) or typical_spread()
    figures = [value, *others]
    return min(figures) * low_ratio, max(figures) * high_ratio


def _country_figure(iso3: str | None) -> list[float]:
    """Ember's figure for a country (the independent source beside Electricity Maps)."""
    if not iso3:
        return []
    row = countries.find(iso3)
    return [row.intensity_g_per_kwh] if row is not None and row.iso3 == iso3 else []


def _annual(
    value: float,
    kind: str,
    zone: str,
    year: int | None,
    source: str,
    basis: str | None,
    license: str | None,
    *,
    key: str | None,
    others: list[float],
) -> Intensity:
    low, high = _annual_bounds(value, key, others)
    return Intensity(
        value, min(low, value), max(high, value), kind, zone, year, source, basis, license
    )


def _exact(
    value: float,
    kind: str,
    zone: str,
    year: int | None,
    source: str,
    basis: str | None,
    license: str | None,
) -> Intensity:
    return Intensity(value, value, value, kind, zone, year, source, basis, license)


def zone_key(location: Location) -> str | None:
    """The grid zone a location draws from: explicit, its cloud region's, or its country's."""
    if location.zone:
        return location.zone
    if location.cloud_provider and location.cloud_region:
        region = tables.cloud_region(location.cloud_provider, location.cloud_region)
        if region is not None and region.zone:
            return region.zone
    if location.country:
        found = tables.zone_for_country(location.country)
        if found is not None:
            return found.key
    return None


def annual(location: Location) -> Intensity:
    """The best annual figure for a location (steps 3 to 6 of the chain)."""
    key = zone_key(location)
    zone = tables.zone(key) if key else None
    if location.cloud_provider and location.cloud_region:
        region = tables.cloud_region(location.cloud_provider, location.cloud_region)
        if region is not None and region.provider_intensity_g_per_kwh is not None:
            # Only Google publishes this per region (google-region-carbon-info, Apache-2.0).
            return _annual(
                region.provider_intensity_g_per_kwh,
                PROVIDER,
                f"{region.provider}:{region.region}",
                region.provider_year,
                f"{region.provider} published grid intensity for {region.region} "
                f"({region.provider_year}, google-region-carbon-info)",
                None,
                "Apache-2.0",
                key=key,
                others=[zone.intensity_g_per_kwh] if zone is not None else [],
            )
    if zone is not None:
        # Ember's country figure is the same place only for a whole-country zone.
        whole = zone.level in (tables.COUNTRY, tables.COUNTRY_AGGREGATE)
        return _annual(
            zone.intensity_g_per_kwh,
            ZONE,
            zone.key,
            zone.year,
            zone.source,
            zone.basis,
            zone.license,
            key=zone.key,
            others=_country_figure(zone.country) if whole else [],
        )
    if location.country:
        row = countries.lookup(location.country)
        return _annual(
            row.intensity_g_per_kwh,
            COUNTRY,
            row.iso3,
            row.year,
            row.source,
            row.basis,
            row.license,
            key=None,
            others=[],
        )
    return _world()


def marginal(location: Location) -> Intensity | None:
    """The country's operating-margin factor, where there is one: what one more kWh emits."""
    if not location.country:
        return None
    row = tables.marginal(location.country)
    if row is None:
        return None
    return _exact(row.g_per_kwh, "marginal", row.country, row.year, row.source, None, row.license)


def _zoneinfo(name: str):  # -> ZoneInfo | None
    if not name:
        return None
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except Exception:  # no tz database on this system: the hourly profile cannot be placed
        return None


class Timeline:
    """The intensity of one location over time: ``at(t)`` and ``mean(t0, t1)``, t in epoch s.

    Cheap to ask on the sampling thread: the value for the current local hour is cached until
    the hour ends; a live value is only read from ``live`` (fetched by its own thread).
    """

    def __init__(self, location: Location, override: float | None = None, live=None) -> None:
        self.location = location
        self.live = live
        self._override = (
            explicit(override, location.country or "") if override is not None else None
        )
        self.base = self._override or annual(location)
        key = zone_key(location)
        profile = tables.hourly_profile(key) if key and self._override is None else None
        self._tz = _zoneinfo(profile.tz) if profile else None
        self._profile = profile if self._tz is not None else None
        self._from = self._until = -math.inf
        self._cached = self.base
        self.kinds: set[str] = set()

    def sources(self) -> dict[str, Intensity]:
        """Each kind of value this timeline can give, with its provenance (for the journal)."""
        out = {self.base.kind: self.base}
        profile = self._profile
        if profile is not None:
            out[HOURLY] = _exact(
                0.0,
                HOURLY,
                profile.zone,
                None,
                f"{profile.source} ({profile.years}), by month and local hour",
                profile.basis,
                profile.license,
            )
        if self.live is not None and self.live.kind == "average":
            out[LIVE] = _exact(0.0, LIVE, self.live.zone, None, self.live.source, None, None)
        return out

    def _hour(self, t: float) -> Intensity:
        if self._from <= t < self._until:
            return self._cached
        profile, tz = self._profile, self._tz
        try:
            local = datetime.fromtimestamp(t, tz)
            start = local.replace(minute=0, second=0, microsecond=0)
            self._from = start.timestamp()
            self._until = (start + timedelta(hours=1)).timestamp()
        except (OverflowError, ValueError, OSError):  # years 1 and 9999: the calendar's edges
            self._from, self._until = t, t + 3600.0
            self._cached = self.base
            return self.base
        value = profile.at(local.month, local.hour)
        if value is None:
            self._cached = self.base
        else:
            spread = profile.spread(local.month, local.hour)
            if spread is None:  # a table built without percentiles: the typical zone's spread
                ratios = typical_spread()
                spread = (value * ratios[0], value * ratios[1])
            self._cached = Intensity(
                value,
                min(spread[0], value),
                max(spread[1], value),
                HOURLY,
                profile.zone,
                None,
                f"{profile.source} ({profile.years}), month {local.month} hour {local.hour} local",
                profile.basis,
                profile.license,
            )
        return self._cached

    def at(self, t: float) -> Intensity:
        if self._override is not None:
            return self._override
        if self.live is not None and self.live.kind == "average":
            value = self.live.value_at(t)
            if value is not None:
                return value
        if self._profile is not None:
            return self._hour(t)
        return self.base

    def mean(self, t0: float, t1: float) -> tuple[float, float, float]:
        """Time-weighted mean (value, low, high) over [t0, t1], split at hour boundaries."""
        if t1 <= t0:
            it = self.at(t1)
            self.kinds.add(it.kind)
            return it.value, it.low, it.high
        total = low = high = 0.0
        t = t0
        while t < t1:
            it = self.at(t)
            self.kinds.add(it.kind)
            # The profile's value holds until the local hour ends; anything else for the rest.
            end = min(t1, self._until) if self._profile is not None and it.kind != LIVE else t1
            span = end - t
            total += it.value * span
            low += it.low * span
            high += it.high * span
            t = end
        span = t1 - t0
        return total / span, low / span, high / span


def intensity(location: Location | None = None, at: datetime | None = None) -> Intensity:
    """The intensity for ``location`` (default: this machine) at ``at`` (default: now).

    ``at`` must be timezone-aware. Offline: hourly profile > provider > zone > country > world.
    """
    location = locate() if location is None else location
    if at is None:
        at = datetime.now(timezone.utc)
    elif at.tzinfo is None:
        raise ValueError("at must be timezone-aware, e.g. datetime.now(timezone.utc)")
    return Timeline(location).at(at.timestamp())


def assumption(location: Location, used: Intensity) -> str | None:
    """The one warning to give when the location was assumed, with the figure used and the fix."""
    from .location import describe_assumption

    said = describe_assumption(location)
    if said is None:
        return None
    bounds = f", bounds {used.low:g}-{used.high:g}" if used.low != used.high else ""
    return f"{said} Intensity used: {used.value:g} gCO2e/kWh ({used.kind}{bounds})."
