"""The site (cluster) file: where an administrator writes down where the machines are.

One INI file per machine or shared file system, found at the first of:

1. the ``site_file`` argument (a setting);
2. ``$WATTPRINT_SITE_CONFIG``;
3. ``<root>/etc/wattprint/site.ini`` (``root`` is ``$WATTPRINT_ROOT``, default ``/``).

Example::

    [site]
    name = Jean Zay
    country = FRA
    zone = FR
    latitude = 48.71
    longitude = 2.17
    pue = 1.25
    # intensity_g_per_kwh = 60   (the site's own contract figure, if it has one)

Every key is optional. ``country``/``zone``/``region``/``latitude``/``longitude`` say where the
machines are (used by :func:`wattprint.carbon.location.locate` after explicit settings and cloud
detection); ``pue`` and ``intensity_g_per_kwh`` are facts about the site that the tracker may use.
A file that is named (argument or variable) but missing, or a bad value, raises ``ValueError``
naming the file and the key: an administrator's typo must not silently become a guess.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SECTION = "site"
ENV_VAR = "WATTPRINT_SITE_CONFIG"
DEFAULT_PATH = "etc/wattprint/site.ini"  # under the machine root
KEYS = ("name", "country", "zone", "region", "latitude", "longitude", "pue", "intensity_g_per_kwh")


@dataclass(frozen=True)
class Site:
    """A checked site file: ``country`` is ISO-3, ``zone`` a known zone key, in canonical case."""

    path: Path
    name: str | None = None
    country: str | None = None
    zone: str | None = None  # the zone key, from ``zone`` or resolved from ``region``
    region: str | None = None  # as written
    latitude: float | None = None
    longitude: float | None = None
    pue: float | None = None
    intensity_g_per_kwh: float | None = None

    @property
    def has_location(self) -> bool:
        return bool(self.country or self.zone or self.latitude is not None)

    @property
    def label(self) -> str:
        return f"{self.path} ({self.name})" if self.name else str(self.path)


def path_for(
    site_file: str | os.PathLike[str] | None = None,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Path, bool]:
    """The site file to read and whether it was named (True) or is the default location."""
    env = os.environ if env is None else env
    if site_file:
        return Path(site_file).expanduser(), True
    named = env.get(ENV_VAR, "").strip()
    if named:
        return Path(named).expanduser(), True
    root = Path(env.get("WATTPRINT_ROOT", "/")) if root is None else Path(root)
    return root / DEFAULT_PATH, False


def find(
    site_file: str | os.PathLike[str] | None = None,
    *,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Site | None:
    """The site file in effect, checked; None when none is named and the default is absent."""
    path, named = path_for(site_file, root, env)
    if not named and not path.is_file():
        return None
    return read(path)


def _bad(path: Path, key: str, message: str) -> ValueError:
    return ValueError(f"site file {path}: [{SECTION}] {key}: {message}")


def _number(path: Path, key: str, text: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad(path, key, f"{text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise _bad(path, key, f"{text} is out of range: allowed {low:g} to {high:g}")
    return value


def read(path: str | os.PathLike[str]) -> Site:
    """Read and check one site file; ``ValueError`` naming the file and key if anything is off."""
    import configparser

    from . import countries, tables
    from .regions import resolve_region

    path = Path(path)
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"))
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise ValueError(f"site file {path} cannot be read: {exc.strerror or exc}") from None
    except configparser.Error as exc:
        raise ValueError(f"site file {path} is not a valid INI file: {exc}") from None
    if not parser.has_section(SECTION):
        raise ValueError(f"site file {path} has no [{SECTION}] section (keys: {', '.join(KEYS)})")
    raw = {k: v.strip() for k, v in parser.items(SECTION) if v is not None and v.strip()}
    for key in parser.options(SECTION):
        if key not in KEYS:
            import difflib

            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise _bad(path, key, f"unknown key (allowed: {', '.join(KEYS)}){hint}")

    country = zone = None
    if "country" in raw:
        try:
            country = countries.lookup(raw["country"]).iso3
        except ValueError as exc:
            raise _bad(path, "country", f"{raw['country']!r} {exc}") from None
    if "zone" in raw:
        found = tables.zone(raw["zone"])
        if found is None:
            raise _bad(
                path,
                "zone",
                f"{raw['zone']!r} is not a grid zone wattprint knows "
                "(e.g. FR, DE, US-CAL-CISO, CA-ON, AU-NSW)",
            )
        zone = found
    if "region" in raw:
        try:
            resolved = resolve_region(raw["region"], country)
        except ValueError as exc:
            raise _bad(path, "region", str(exc)) from None
        if zone is None:
            zone = resolved
        elif zone.country != resolved.country:
            raise _bad(
                path,
                "region",
                f"{raw['region']!r} is in {resolved.country}, but zone "
                f"{zone.key} is in {zone.country}",
            )
    if zone is not None:
        if country is not None and zone.country != country:
            raise _bad(path, "zone", f"{zone.key} is in {zone.country}, not in country {country}")
        country = zone.country

    lat = lon = None
    if ("latitude" in raw) != ("longitude" in raw):
        missing = "longitude" if "latitude" in raw else "latitude"
        raise _bad(path, missing, "latitude and longitude go together: set both or neither")
    if "latitude" in raw:
        lat = _number(path, "latitude", raw["latitude"], -90.0, 90.0)
        lon = _number(path, "longitude", raw["longitude"], -180.0, 180.0)
    pue = _number(path, "pue", raw["pue"], 1.0, 5.0) if "pue" in raw else None
    value = raw.get("intensity_g_per_kwh")
    intensity = _number(path, "intensity_g_per_kwh", value, 0.0, 2000.0) if value else None
    return Site(
        path=path,
        name=raw.get("name"),
        country=country,
        zone=zone.key if zone is not None else None,
        region=raw.get("region"),
        latitude=lat,
        longitude=lon,
        pue=pue,
        intensity_g_per_kwh=intensity,
    )
