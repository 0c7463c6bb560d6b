"""Grams of CO2e per kWh for a location, with where the number came from.

The measuring core uses the annual country average; the full carbon layer adds zones, hourly
profiles and live providers behind this same function.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from . import countries
from .location import Location, locate


@dataclass(frozen=True)
class Intensity:
    """``value`` in gCO2e/kWh with ``low <= value <= high``."""

    value: float
    low: float
    high: float
    kind: str  # "annual-average", "explicit", ...
    zone: str  # ISO-3 country, "WORLD", or the zone the value is for
    year: int | None
    source: str
    basis: str | None = None  # lifecycle or direct, where the source says
    license: str | None = None


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
        kind="annual-average",
        zone="WORLD",
        year=row.year,
        source=f"{row.source}; bounds: 5th-95th percentile of countries",
        basis=row.basis,
        license=row.license,
    )


def explicit(value: float, zone: str = "") -> Intensity:
    return Intensity(value, value, value, "explicit", zone, None, "setting intensity_g_per_kwh")


def intensity(location: Location | None = None, at: datetime | None = None) -> Intensity:
    """The intensity for ``location`` (default: this machine) at ``at`` (default: now)."""
    location = locate() if location is None else location
    if location.country:
        row = countries.lookup(location.country)
        return Intensity(
            value=row.intensity_g_per_kwh,
            low=row.intensity_g_per_kwh,
            high=row.intensity_g_per_kwh,
            kind="annual-average",
            zone=row.iso3,
            year=row.year,
            source=row.source,
            basis=row.basis,
            license=row.license,
        )
    return _world()


def assumption(location: Location, used: Intensity) -> str | None:
    """The one warning to give when the location was not set, with the fix; None if it was."""
    fix = 'set it with Tracker(country="FRA") or WATTPRINT_COUNTRY=FRA (ISO-3, ISO-2 or name)'
    if location.source == "timezone":
        return (
            f"No location set: assumed {location.country_name} ({location.country}) from the "
            f"machine's timezone {location.detail}, {used.value:g} gCO2e/kWh ({used.year}). "
            f"If the code runs elsewhere, {fix}."
        )
    if location.source == "world-average":
        why = (
            f"the timezone {location.detail!r} names no country"
            if location.detail
            else ("the machine's timezone is unknown")
        )
        return (
            f"No location set and {why}: using the world average {used.value:g} gCO2e/kWh "
            f"(bounds {used.low:g}-{used.high:g}). To get the right figure, {fix}."
        )
    return None
