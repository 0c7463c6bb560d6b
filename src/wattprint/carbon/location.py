"""Where the code runs, and how we know.

This is the minimum the measuring core needs: an explicit country, else the country implied by
the machine's timezone, else nowhere (the world average). Cloud regions, sub-national zones and
site files come with the full carbon layer; the resolution order here is already the one it will
keep, so records written now stay comparable.
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from . import countries

#: How the location was decided, as written in records (``location_source``).
EXPLICIT = "explicit"
TIMEZONE = "timezone"
WORLD = "world-average"


@dataclass(frozen=True)
class Location:
    """A place to look an intensity up for. ``country`` is ISO 3166 alpha-3 once resolved."""

    country: str | None = None
    region: str | None = None
    zone: str | None = None
    cloud_provider: str | None = None
    cloud_region: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    source: str = EXPLICIT
    detail: str | None = None  # e.g. the timezone name the country came from

    @property
    def country_name(self) -> str | None:
        found = countries.find(self.country) if self.country else None
        return found.name if found else None


@functools.cache
def _timezones() -> dict[str, str]:
    text = (countries.DATA / "timezones.csv").read_text("utf-8")
    return {row["tz_name"]: row["iso2"] for row in csv.DictReader(text.splitlines())}


def machine_timezone(root: Path | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The IANA name of the machine's timezone, read without running any program."""
    env = os.environ if env is None else env
    root = Path(env.get("WATTPRINT_ROOT", "/")) if root is None else root
    tz = env.get("TZ", "").lstrip(":")
    if "/" in tz and not tz.startswith("/"):
        return tz
    try:
        name = (root / "etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    try:
        target = os.readlink(root / "etc/localtime")
    except OSError:
        return None
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else None


def country_of_timezone(tz_name: str) -> str | None:
    """ISO-3 of the one country a timezone belongs to; None for UTC, Etc/* and unknown names."""
    iso2 = _timezones().get(tz_name)
    country = countries.find(iso2) if iso2 else None
    return country.iso3 if country else None


def locate(
    country: str | None = None,
    region: str | None = None,
    cloud_provider: str | None = None,
    cloud_region: str | None = None,
    *,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Location:
    """Resolve where this machine is: explicit settings > timezone > world."""
    extra = {"region": region, "cloud_provider": cloud_provider, "cloud_region": cloud_region}
    if country:
        return Location(country=countries.lookup(country).iso3, source=EXPLICIT, **extra)
    tz = machine_timezone(root, env)
    iso3 = country_of_timezone(tz) if tz else None
    if iso3:
        return Location(country=iso3, source=TIMEZONE, detail=tz, **extra)
    return Location(source=WORLD, detail=tz, **extra)
