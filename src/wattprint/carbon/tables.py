"""The shipped grid-zone, cloud-region, hourly-profile, marginal and time-zone tables.

Built by ``tools/build_data.py`` into ``carbon/data/``; each row carries its unit, year, source
and license (see ``carbon/data/DATA_LICENSES.md``). Nothing is read at import: a table is parsed
the first time a function here needs it (about a millisecond each) and kept for the process.
The hourly table is larger, so only the rows of the zone asked for are parsed.
"""

from __future__ import annotations

import csv
import functools
import math
import re
from pathlib import Path
from typing import NamedTuple

# Read from the package folder: importlib.resources alone would add ~4 ms to the import.
DATA = Path(__file__).parent / "data"

# Zone levels (the ``level`` column of zones.csv).
COUNTRY = "country"
COUNTRY_AGGREGATE = "country-aggregate"  # a country that also has sub-zones
SUBNATIONAL = "subnational"
US_STATE = "us-state"  # eGRID state rows, keys US-STATE-XX


def _rows(name: str) -> list[dict[str, str]]:
    text = (DATA / name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _float(text: str) -> float | None:
    return float(text) if text else None


def _int(text: str) -> int | None:
    return int(text) if text else None


# ------------------------------------------------------------------------------------------
# zones


class Zone(NamedTuple):
    key: str
    name: str
    country: str  # ISO 3166-1 alpha-3
    intensity_g_per_kwh: float
    year: int
    basis: str  # lifecycle (Electricity Maps) or direct (eGRID)
    kind: str  # average
    tz: str  # IANA time zone, "" when unknown
    latitude: float | None  # the zone's centre
    longitude: float | None
    source: str
    license: str
    level: str = COUNTRY  # country, country-aggregate, subnational or us-state
    unit: str = "gCO2e/kWh"


@functools.cache
def _zones() -> dict[str, Zone]:
    table = {}
    for row in _rows("zones.csv"):
        z = Zone(
            key=row["zone"],
            name=row["name"],
            country=row["country_iso3"],
            intensity_g_per_kwh=float(row["intensity_g_per_kwh"]),
            year=int(row["year"]),
            basis=row["basis"],
            kind=row["kind"],
            tz=row["tz"],
            latitude=_float(row["latitude"]),
            longitude=_float(row["longitude"]),
            source=row["source"],
            license=row["license"],
            level=row["level"],
            unit=row["unit"],
        )
        table[z.key.upper()] = z
    return table


def zone(key: str) -> Zone | None:
    """The zone with this key (``FR``, ``us-cal-ciso``, ``US-STATE-CA``), in any case."""
    return _zones().get(key.strip().upper())


def zones() -> list[Zone]:
    """Every zone, sorted by key."""
    return list(_zones().values())


@functools.cache
def _country_zones() -> dict[str, Zone]:
    return {
        z.country: z
        for z in _zones().values()
        if z.level in (COUNTRY, COUNTRY_AGGREGATE) and len(z.key) == 2
    }


def zone_for_country(iso3: str) -> Zone | None:
    """The Electricity Maps zone whose key is the country's ISO2 code (``FRA`` -> ``FR``,
    ``USA`` -> ``US``, the whole-country aggregate), or None if the country has none."""
    return _country_zones().get(iso3.strip().upper())


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


@functools.cache
def _located_zones() -> tuple[Zone, ...]:
    return tuple(
        z
        for z in _zones().values()
        if z.latitude is not None
        and z.longitude is not None
        and z.level not in (COUNTRY_AGGREGATE, US_STATE)
    )


def nearest_zone(latitude: float, longitude: float) -> Zone | None:
    """The zone whose centre point is nearest (great-circle distance) to the coordinates.

    An approximation: zones are polygons, not points, so near a border, or for a large zone
    next to a small one, the nearest centre can belong to the neighbour. Whole-country
    aggregates that also have sub-zones, and US states (no centre), are not candidates.
    Use it for coordinates the user gave explicitly; it is not a geolocation.
    """
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        raise ValueError(
            f"({latitude}, {longitude}) are not coordinates: latitude must be within -90..90 "
            "and longitude within -180..180 degrees"
        )
    best: Zone | None = None
    best_km = math.inf
    for z in _located_zones():
        km = _haversine_km(latitude, longitude, z.latitude, z.longitude)  # type: ignore[arg-type]
        if km < best_km:
            best, best_km = z, km
    return best


# ------------------------------------------------------------------------------------------
# cloud regions

_PROVIDER_ALIASES = {
    "aws": "aws",
    "amazon": "aws",
    "amazon web services": "aws",
    "amazon aws": "aws",
    "ec2": "aws",
    "azure": "azure",
    "microsoft": "azure",
    "microsoft azure": "azure",
    "msft": "azure",
    "gcp": "gcp",
    "google": "gcp",
    "google cloud": "gcp",
    "google cloud platform": "gcp",
    "gce": "gcp",
    "ovh": "ovh",
    "ovhcloud": "ovh",
    "ovh cloud": "ovh",
    "scaleway": "scaleway",
    "scw": "scaleway",
    "alibaba": "alibaba",
    "alibaba cloud": "alibaba",
    "aliyun": "alibaba",
    "ali": "alibaba",
    "oracle": "oracle",
    "oracle cloud": "oracle",
    "oci": "oracle",
    "hlrs": "hlrs",
    "itenos": "itenos",
}


def normalise_provider(name: str) -> str | None:
    """A provider name as people write it (``AWS``, ``Amazon``, ``Google``, ``Microsoft``,
    ``OVHcloud``) -> wattprint's key (``aws``, ``gcp``, ``azure``, ``ovh``), or None."""
    folded = " ".join(re.sub(r"[-_.]", " ", name.casefold()).split())
    return _PROVIDER_ALIASES.get(folded) or _PROVIDER_ALIASES.get(folded.replace(" ", ""))


class CloudRegion(NamedTuple):
    provider: str
    region: str
    city: str
    country: str  # ISO 3166-1 alpha-3
    latitude: float | None
    longitude: float | None
    zone: str  # a key of zones.csv, "" when unknown
    pue: float | None
    wue_l_per_kwh: float | None
    provider_intensity_g_per_kwh: float | None  # the provider's own figure (GCP only)
    provider_cfe_pct: float | None
    provider_year: int | None
    source: str
    license: str
    aliases: tuple[str, ...] = ()


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


@functools.cache
def _cloud() -> tuple[tuple[CloudRegion, ...], dict[tuple[str, str], CloudRegion]]:
    regions = []
    for row in _rows("cloud_regions.csv"):
        regions.append(
            CloudRegion(
                provider=row["provider"],
                region=row["region"],
                city=row["city"],
                country=row["country_iso3"],
                latitude=_float(row["latitude"]),
                longitude=_float(row["longitude"]),
                zone=row["zone"],
                pue=_float(row["pue"]),
                wue_l_per_kwh=_float(row["wue_l_per_kwh"]),
                provider_intensity_g_per_kwh=_float(row["provider_intensity_g_per_kwh"]),
                provider_cfe_pct=_float(row["provider_cfe_pct"]),
                provider_year=_int(row["provider_year"]),
                source=row["source"],
                license=row["license"],
                aliases=tuple(row["aliases"].split()),
            )
        )
    index: dict[tuple[str, str], CloudRegion] = {}
    for r in regions:  # exact codes and aliases first
        for code in (r.region, *r.aliases):
            index.setdefault((r.provider, code.casefold()), r)
    squashed: dict[tuple[str, str], list[CloudRegion]] = {}
    for r in regions:  # then "East US" -> eastus, "US_EAST_1" -> us-east-1, when unambiguous
        for code in (r.region, *r.aliases):
            squashed.setdefault((r.provider, _squash(code)), []).append(r)
    for key, found in squashed.items():
        if len({id(r) for r in found}) == 1:
            index.setdefault(key, found[0])
    return tuple(regions), index


def cloud_region(provider: str, region: str) -> CloudRegion | None:
    """The region of a provider (``("aws", "us-east-1")``, ``("Azure", "East US")``), matched
    without regard to case, spaces, dashes or underscores; None if unknown."""
    key = normalise_provider(provider)
    if key is None:
        return None
    _, index = _cloud()
    return index.get((key, region.strip().casefold())) or index.get((key, _squash(region)))


def cloud_regions(provider: str | None = None) -> list[CloudRegion]:
    """Every region, or a provider's (any spelling ``normalise_provider`` accepts)."""
    regions, _ = _cloud()
    if provider is None:
        return list(regions)
    key = normalise_provider(provider)
    return [r for r in regions if r.provider == key]


@functools.cache
def _providers() -> dict[str, tuple[float | None, float | None, str]]:
    return {
        row["provider"]: (_float(row["pue"]), _float(row["wue_l_per_kwh"]), row["source"])
        for row in _rows("cloud_providers.csv")
    }


def provider_defaults(provider: str) -> tuple[float | None, float | None, str]:
    """(PUE, WUE in L/kWh, source) for a provider's fleet, for a region the table lacks;
    ``(None, None, "")`` for a provider with no published figure or an unknown one."""
    key = normalise_provider(provider)
    return _providers().get(key or "", (None, None, ""))


def cloud_pue(provider: str, region: str | None) -> tuple[float, str] | None:
    """(PUE, source) of a cloud region: the region's published figure, else its provider's
    fleet figure; None for an unknown provider or one with no published figure.

    The one PUE rule for cloud places. A tracker puts the ``pue`` setting and the site file
    before it and on-premises 1.0 after it (``carbon.context``); comparisons of places use it
    alone (``carbon.planning``, ``report.whatif``).
    """
    key = normalise_provider(provider)
    if key is None:
        return None
    found = cloud_region(key, region or "")
    if found is not None and found.pue is not None:
        return found.pue, f"{key} {found.region}: {found.source}"
    fleet, _, source = provider_defaults(key)
    if fleet is not None:
        return fleet, f"{key} default: {source}"
    return None


# ------------------------------------------------------------------------------------------
# hourly profiles


class HourlyProfile(NamedTuple):
    zone: str
    tz: str  # the IANA time zone the hours are in
    values: tuple[tuple[float | None, ...], ...]  # [month - 1][local hour] in g/kWh
    years: str
    basis: str
    source: str
    license: str
    estimated_pct: float = 0.0  # share of the hours behind the profile that were estimated
    # The 10th and 90th percentiles of the hours behind each mean, [month - 1][local hour]:
    # how far a single day strays from the typical one. None in a table built without them.
    p10: tuple[tuple[float | None, ...], ...] | None = None
    p90: tuple[tuple[float | None, ...], ...] | None = None

    def at(self, month: int, hour: int) -> float | None:
        """Mean intensity for a month (1-12) at a local hour of day (0-23)."""
        if not (1 <= month <= 12 and 0 <= hour <= 23):
            raise ValueError(f"month must be 1-12 and hour 0-23, not {month} and {hour}")
        return self.values[month - 1][hour]

    def spread(self, month: int, hour: int) -> tuple[float, float] | None:
        """(10th, 90th percentile) of the hours behind ``at(month, hour)``, or None."""
        self.at(month, hour)  # the same checks
        if self.p10 is None or self.p90 is None:
            return None
        low, high = self.p10[month - 1][hour], self.p90[month - 1][hour]
        return None if low is None or high is None else (low, high)


@functools.cache
def _hourly_lines() -> tuple[list[str], dict[str, list[str]]]:
    """The header, and zone -> the raw lines of its 12 month rows (24 local-hour means, p10s
    and p90s each). Kept as text (~100 KB) and parsed per zone when asked for: the parsed rows
    of every zone would hold ~1.5 MB for the life of the process."""
    lines = (DATA / "hourly_profiles.csv").read_text("utf-8").splitlines()
    header = next(csv.reader(lines[:1]))
    blocks: dict[str, list[str]] = {}
    for line in lines[1:]:
        zone = line.split(",", 1)[0] if not line.startswith('"') else next(csv.reader([line]))[0]
        blocks.setdefault(zone.upper(), []).append(line)
    return header, blocks


def _hourly_rows(key: str) -> list[dict[str, str]]:
    """A zone's month rows as dicts (empty for a zone without a profile)."""
    header, blocks = _hourly_lines()
    lines = blocks.get(key) or []
    return [dict(zip(header, fields, strict=False)) for fields in csv.reader(lines)]


def hourly_zones() -> list[str]:
    """The zones that have an hourly profile."""
    return sorted(_hourly_lines()[1])


_HOURS = tuple(f"h{h:02d}" for h in range(24))
_P10S = tuple(f"p10_h{h:02d}" for h in range(24))
_P90S = tuple(f"p90_h{h:02d}" for h in range(24))


@functools.cache
def _hourly(key: str) -> HourlyProfile | None:
    rows = _hourly_rows(key)
    if not rows:
        return None
    grid: list[tuple[float | None, ...]] = [(None,) * 24] * 12
    p10, p90 = list(grid), list(grid)
    spread = "p10_h00" in rows[0]
    samples = estimated = 0.0
    for row in rows:
        month = int(row["month"]) - 1
        grid[month] = tuple(float(row[k]) for k in _HOURS)
        if spread:
            p10[month] = tuple(float(row[k]) for k in _P10S)
            p90[month] = tuple(float(row[k]) for k in _P90S)
        n = int(row["samples"])
        samples += n
        estimated += n * float(row["estimated_pct"]) / 100
    first = rows[0]
    return HourlyProfile(
        zone=first["zone"],
        tz=first["tz"],
        values=tuple(grid),
        years=first["years"],
        basis=first["basis"],
        source=first["source"],
        license=first["license"],
        estimated_pct=round(100 * estimated / samples, 1) if samples else 0.0,
        p10=tuple(p10) if spread else None,
        p90=tuple(p90) if spread else None,
    )


def hourly_means(key: str) -> tuple[float, float, float] | None:
    """The means over a zone's month x hour cells of its profile, of their 10th and of their
    90th percentiles (what its hour-to-hour spread is made of), without building the profile:
    the typical spread needs them for every zone at each start. None without a profile, its
    percentiles or a cell."""
    header, blocks = _hourly_lines()
    lines = blocks.get(key)
    if not lines or "p10_h00" not in header:
        return None
    at = {name: i for i, name in enumerate(header)}
    columns = [(at[h], at[l10], at[h90]) for h, l10, h90 in zip(_HOURS, _P10S, _P90S, strict=True)]
    month_at = at["month"]
    by_month = {int(fields[month_at]): fields for fields in csv.reader(lines)}  # the last wins
    value = low = high = 0.0
    n = 0
    for month in sorted(m for m in by_month if 1 <= m <= 12):
        fields = by_month[month]
        for h, l10, h90 in columns:
            value += float(fields[h])
            low += float(fields[l10])
            high += float(fields[h90])
            n += 1
    return (value / n, low / n, high / n) if n else None


def hourly_profile(zone: str) -> HourlyProfile | None:
    """The month x local-hour profile of a zone (``GB``, ``us-cal-ciso``), or None."""
    return _hourly(zone.strip().upper())


# ------------------------------------------------------------------------------------------
# marginal factors


class MarginalFactor(NamedTuple):
    country: str  # ISO 3166-1 alpha-3
    g_per_kwh: float  # operating margin, direct CO2
    year: int
    source: str
    license: str
    basis: str = "direct"
    unit: str = "gCO2/kWh"


@functools.cache
def _marginal() -> dict[str, MarginalFactor]:
    return {
        row["iso3"]: MarginalFactor(
            country=row["iso3"],
            g_per_kwh=float(row["operating_margin_g_per_kwh"]),
            year=int(row["year"]),
            source=row["source"],
            license=row["license"],
            basis=row["basis"],
            unit=row["unit"],
        )
        for row in _rows("marginal.csv")
    }


def marginal(iso3: str) -> MarginalFactor | None:
    """The operating-margin factor of a country (ISO3, any case), or None."""
    return _marginal().get(iso3.strip().upper())


# ------------------------------------------------------------------------------------------
# time zone -> zone


@functools.cache
def _tz_zones() -> tuple[dict[str, str], dict[str, str]]:
    exact = {row["tz_name"]: row["zone"] for row in _rows("timezone_zones.csv")}
    return exact, {name.casefold(): z for name, z in exact.items()}


def zone_for_timezone(tz_name: str) -> str | None:
    """The grid zone an IANA time zone's principal city lies in (``Australia/Sydney`` ->
    ``AU-NSW``), only where the country has several zones and the city pins one; else None.

    The city says where the city is, not where the machine is: ``America/New_York`` covers
    the whole US east coast. Treat the answer as a hint, weaker than a cloud region or
    coordinates.
    """
    exact, folded = _tz_zones()
    name = tz_name.strip()
    return exact.get(name) or folded.get(name.casefold())
