"""Where the code runs, and how we know.

:func:`locate` resolves a :class:`Location`; the first step that answers wins:

1. **explicit settings** (``source="explicit"``): ``country``, ``region``, ``zone``,
   ``cloud_provider`` + ``cloud_region``, ``latitude`` + ``longitude``. The most specific wins
   (zone > region > cloud region > coordinates > country); values that name different countries
   raise ``ValueError``, as does any value wattprint does not know.
2. **cloud detection** (``"cloud-env"``, ``"cloud-metadata"``): the environment variables managed
   runtimes set (always, offline), then, opt-in (``cloud_metadata=True``), the instance metadata
   services (network, 300 ms in all). A provider found without a region is recorded
   (``cloud_provider``, and in ``detail``) while the country comes from the next steps.
3. **the site file** (``"site-file"``), see :mod:`wattprint.carbon.site`.
4. **the machine's timezone** (``"timezone"``): the one country it belongs to, and the grid zone
   where the timezone pins one inside a country with several (Australia/Sydney -> AU-NSW). For a
   single-zone country (Europe/Paris) ``zone`` stays None: the country is the zone, and the
   intensity layer uses the country's figure. Never from UTC, GMT or ``Etc/*``.
5. **IP geolocation** (``"ip-geolocation"``), opt-in (``ip_geolocation=True``), one HTTPS GET of
   at most 1 s, see :mod:`wattprint.carbon.geoip`. A failure falls through, said in ``detail``.
6. **the world average** (``"world-average"``): no country.

Only steps 2 (metadata) and 5 touch the network, only when asked, and only in the thread that
calls :func:`locate` (the tracker calls it from ``start()``, never from its sampling thread).
"""

from __future__ import annotations

import csv
import functools
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import countries
from .regions import close_matches, iso2_of, resolve_region, resolve_zone

# The value type and the names of its sources live in .types, which records import alone.
from .types import (  # noqa: F401  (re-exported: location.EXPLICIT, location.Location, ...)
    CLOUD_ENV,
    CLOUD_METADATA,
    EXPLICIT,
    IP,
    SITE,
    TIMEZONE,
    WORLD,
    Location,
)

if TYPE_CHECKING:
    from .tables import CloudRegion, Zone

# -- timezones -----------------------------------------------------------------------------------

_NO_COUNTRY_TZ = ("UTC", "GMT", "UCT", "Universal", "Zulu", "Greenwich", "GMT0", "GMT+0", "GMT-0")


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
    if tz_name in _NO_COUNTRY_TZ or tz_name.startswith("Etc/"):
        return None
    iso2 = _timezones().get(tz_name)
    country = countries.find(iso2) if iso2 else None
    return country.iso3 if country else None


def zone_of_timezone(tz_name: str, iso3: str) -> str | None:
    """The sub-national zone a timezone pins inside ``iso3`` (Australia/Sydney -> AU-NSW)."""
    from . import tables

    key = tables.zone_for_timezone(tz_name)
    found = tables.zone(key) if key else None
    if found is None or found.country != iso3 or found.key.upper() == iso2_of(iso3).upper():
        return None
    return found.key


# -- cloud regions -------------------------------------------------------------------------------


def _provider(name: str) -> str:
    from . import tables

    found = tables.normalise_provider(name.strip())
    if found is None:
        known = sorted({r.provider for r in tables.cloud_regions()})
        raise ValueError(
            f"cloud_provider {name!r} is not one wattprint knows (allowed: {', '.join(known)})"
        )
    return found


def resolve_cloud(provider: str | None, region: str) -> CloudRegion:
    """The table row for a cloud region; ValueError listing valid regions if unknown."""
    from . import tables

    text = region.strip()
    if provider:
        canonical = _provider(provider)
        found = tables.cloud_region(canonical, text)
        if found is not None:
            return found
        regions = sorted(r.region for r in tables.cloud_regions(canonical))
        close = close_matches(text.lower(), regions)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        shown = ", ".join(regions[:6]) + (
            f", ... ({len(regions)} in all)" if len(regions) > 6 else ""
        )
        raise ValueError(
            f"cloud_region {region!r} is not a {canonical} region wattprint knows; "
            f"{hint}valid {canonical} regions: {shown}"
        )
    rows = [r for r in tables.cloud_regions() if r.region.lower() == text.lower()]
    if len(rows) == 1:
        return rows[0]
    if len(rows) > 1:
        providers = ", ".join(sorted(r.provider for r in rows))
        raise ValueError(
            f"cloud_region {region!r} exists at several providers ({providers}): "
            "set cloud_provider too"
        )
    close = close_matches(text.lower(), sorted({r.region for r in tables.cloud_regions()}))
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(
        f"cloud_region {region!r} is not a region wattprint knows; set "
        f"cloud_provider (aws, gcp, azure, ...) and cloud_region{hint}"
    )


def _country_of(code: str | None) -> str | None:
    found = countries.find(code) if code else None
    return found.iso3 if found is not None and found.iso3 != countries.WORLD else None


# -- coordinates ---------------------------------------------------------------------------------


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 12742.0 * math.asin(min(1.0, math.sqrt(a)))


def nearest_zone(latitude: float, longitude: float, country: str | None = None) -> Zone | None:
    """The zone whose centre is nearest, within ``country`` if given (approximate: by centre).

    As ``tables.nearest_zone``: a whole-country aggregate that has sub-zones, and the US states
    (no centre), are not candidates; a country with no located zone gives its country zone.
    """
    from . import tables

    if country is None:
        return tables.nearest_zone(latitude, longitude)
    skip = (getattr(tables, "COUNTRY_AGGREGATE", None), getattr(tables, "US_STATE", None))
    best = None
    best_km = math.inf
    for z in tables.zones():
        if z.country != country or z.latitude is None or z.longitude is None:
            continue
        if getattr(z, "level", None) in skip:
            continue
        km = _distance_km(latitude, longitude, z.latitude, z.longitude)
        if km < best_km:
            best, best_km = z, km
    return best if best is not None else tables.zone_for_country(country)


def _coordinates(latitude: Any, longitude: Any, what: str = "") -> tuple[float, float] | None:
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        raise ValueError(f"{what}latitude and longitude go together: set both or neither")
    out = []
    for name, value, limit in (("latitude", latitude, 90.0), ("longitude", longitude, 180.0)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{what}{name} {value!r} is not a number") from None
        if not math.isfinite(number) or not -limit <= number <= limit:
            raise ValueError(f"{what}{name} {value!r} is out of range (-{limit:g} to {limit:g})")
        out.append(number)
    return out[0], out[1]


# -- step 1: explicit settings -------------------------------------------------------------------


def _explicit(
    country: str | None,
    region: str | None,
    zone: str | None,
    cloud_provider: str | None,
    cloud_region: str | None,
    latitude: Any,
    longitude: Any,
) -> Location | None:
    iso3 = None
    if country is not None and str(country).strip():
        try:
            iso3 = countries.lookup(str(country).strip()).iso3
        except ValueError as exc:
            raise ValueError(f"country {country!r} {exc}") from None
    by_zone = resolve_zone(zone) if zone is not None and str(zone).strip() else None
    cloud = provider = None
    if cloud_region is not None and str(cloud_region).strip():
        cloud = resolve_cloud(cloud_provider, str(cloud_region))
        provider = cloud.provider
    elif cloud_provider is not None and str(cloud_provider).strip():
        provider = _provider(str(cloud_provider))  # recorded; a provider alone is no location
    coords = _coordinates(latitude, longitude)

    claims: list[tuple[str, str]] = []  # (what said it, ISO-3)
    if iso3:
        claims.append((f"country {iso3}", iso3))
    if by_zone is not None:
        claims.append((f"zone {by_zone.key}", by_zone.country))
    if cloud is not None and _country_of(cloud.country):
        claims.append(
            (f"cloud region {cloud.provider}:{cloud.region}", _country_of(cloud.country) or "")
        )
    hint_country = claims[0][1] if claims else None
    by_region = None
    if region is not None and str(region).strip():
        by_region = resolve_region(str(region), hint_country)
        claims.append((f"region {region!r} ({by_region.key})", by_region.country))
    if len({c for _, c in claims}) > 1:
        said = [what if what == f"country {c}" else f"{what} is in {c}" for what, c in claims]
        raise ValueError(
            f"the location settings contradict each other: {', but '.join(said)}; "
            "set only one of them, or ones that agree"
        )
    if not claims and coords is None:
        return None

    parts: list[str] = []
    chosen = by_zone or by_region
    if by_zone is not None:
        parts.append(f"zone {by_zone.key}")
    if by_region is not None:
        parts.append(f"region {region!r} -> zone {by_region.key}")
    if cloud is not None:
        parts.append(f"cloud region {cloud.provider}:{cloud.region} ({cloud.city})")
        if chosen is None and cloud.zone:
            chosen = resolve_zone(cloud.zone)
    country_iso3 = claims[0][1] if claims else None
    lat = lon = None
    if coords is not None:
        lat, lon = coords
        if chosen is None:
            near = nearest_zone(lat, lon, country_iso3)
            if near is not None:
                chosen = near
                country_iso3 = country_iso3 or near.country
                within = f" in {country_iso3}" if claims else ""
                parts.append(
                    f"{lat:g}, {lon:g} -> nearest zone{within} {near.key} "
                    "(approximate: by zone centre)"
                )
            else:
                parts.append(f"{lat:g}, {lon:g}: no zone near")
    elif cloud is not None:
        lat, lon = cloud.latitude, cloud.longitude
    if iso3 and not parts:
        parts.append(f"country {iso3}")
    return Location(
        country=country_iso3,
        region=str(region).strip() if region is not None and str(region).strip() else None,
        zone=chosen.key if chosen is not None else None,
        cloud_provider=provider,
        cloud_region=cloud.region if cloud is not None else None,
        latitude=lat,
        longitude=lon,
        source=EXPLICIT,
        detail="; ".join(parts) or None,
    )


# -- locate --------------------------------------------------------------------------------------


def _join(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None


def locate(
    country: str | None = None,
    region: str | None = None,
    zone: str | None = None,
    cloud_provider: str | None = None,
    cloud_region: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    *,
    cloud_metadata: bool = False,
    ip_geolocation: bool = False,
    site_file: str | os.PathLike[str] | None = None,
    root: Path | None = None,
    env: Mapping[str, str] | None = None,
    metadata_endpoints: Mapping[str, str] | None = None,
    geoip_url: str | None = None,
) -> Location:
    """Resolve where this machine is: explicit > cloud > site file > timezone > IP > world.

    Explicit values that are unknown or contradict each other raise ``ValueError`` saying what
    is allowed; so does a named site file that is missing or wrong. Nothing else raises.

    Network I/O happens only when asked: ``cloud_metadata=True`` queries the instance metadata
    services (AWS, GCP, Azure) concurrently within 300 ms in all; ``ip_geolocation=True`` makes
    one HTTPS request of at most 1 s (``geoip_url``, default GeoJS). Both run in the calling
    thread's time (worker threads joined within those budgets): call ``locate()`` from set-up
    code, as the tracker does from ``start()``, never from a sampling loop.
    ``metadata_endpoints`` ({"aws"|"gcp"|"azure": base URL}) and ``geoip_url`` exist for tests
    and private mirrors; ``root`` and ``env`` default to ``$WATTPRINT_ROOT`` and ``os.environ``.
    """
    from . import cloud, site, tables

    env = os.environ if env is None else env
    found = _explicit(country, region, zone, cloud_provider, cloud_region, latitude, longitude)
    if found is not None:
        return found
    notes: list[str] = []
    provider = _provider(cloud_provider) if cloud_provider and cloud_provider.strip() else None

    # 2. cloud: environment, then (opt-in) instance metadata.
    hint = cloud.from_env(env)
    if hint is not None and provider is not None and hint.provider != provider:
        notes.append(f"ignored {hint.detail}: cloud_provider is set to {provider}")
        hint = None
    if cloud_metadata and (hint is None or hint.region is None):
        endpoints = dict(
            cloud.DEFAULT_ENDPOINTS if metadata_endpoints is None else metadata_endpoints
        )
        wanted = provider or (hint.provider if hint is not None else None)
        if wanted is not None:
            endpoints = {k: v for k, v in endpoints.items() if k == wanted}
        answer = cloud.from_metadata(endpoints)
        if answer is not None:
            hint = answer
        else:
            notes.append(
                f"no instance metadata service answered within "
                f"{cloud.METADATA_BUDGET_S * 1000:.0f} ms"
            )
    carried: dict[str, Any] = {"cloud_provider": provider}
    if hint is not None:
        row = tables.cloud_region(hint.provider, hint.region) if hint.region else None
        if row is not None:
            return Location(
                country=_country_of(row.country),
                zone=row.zone or None,
                cloud_provider=row.provider,
                cloud_region=row.region,
                latitude=row.latitude,
                longitude=row.longitude,
                source=CLOUD_METADATA if hint.via == "metadata" else CLOUD_ENV,
                detail=hint.detail,
            )
        carried = {"cloud_provider": hint.provider, "cloud_region": hint.region}
        if hint.region:
            notes.append(f"{hint.detail}, a region wattprint has no data for")
        else:
            notes.append(hint.detail)
    note = _join(*notes)

    # 3. the site file.
    where = site.find(site_file, root=root, env=env)
    if where is not None and where.has_location:
        key = where.zone
        if key is None and where.latitude is not None and where.longitude is not None:
            near = nearest_zone(where.latitude, where.longitude, where.country)
            key = near.key if near is not None else None
            iso3 = where.country or (near.country if near is not None else None)
        else:
            iso3 = where.country
        return Location(
            country=iso3,
            region=where.region,
            zone=key,
            latitude=where.latitude,
            longitude=where.longitude,
            source=SITE,
            detail=_join(where.label, note),
            **carried,
        )

    # 4. the machine's timezone.
    tz = machine_timezone(root, env)
    iso3 = country_of_timezone(tz) if tz else None
    if iso3:
        return Location(
            country=iso3,
            zone=zone_of_timezone(tz or "", iso3),
            source=TIMEZONE,
            detail=_join(tz, note),
            **carried,
        )

    # 5. IP geolocation (opt-in).
    if ip_geolocation:
        from . import geoip

        try:
            got = geoip.lookup(geoip_url)
        except geoip.GeoIPError as exc:
            note = _join(note, f"IP geolocation failed: {exc}")
        else:
            key = None
            if got.latitude is not None and got.longitude is not None:
                near = nearest_zone(got.latitude, got.longitude, got.country)
                key = (
                    near.key
                    if near is not None and near.key.upper() != iso2_of(got.country)
                    else None
                )
            return Location(
                country=got.country,
                zone=key,
                latitude=got.latitude,
                longitude=got.longitude,
                source=IP,
                detail=_join(f"IP geolocation via {got.url}", tz, note),
                **carried,
            )

    # 6. nowhere: the world average.
    return Location(source=WORLD, detail=_join(tz, note), **carried)


def describe_assumption(location: Location) -> str | None:
    """One sentence on what was assumed and how to state it, for locations not set explicitly
    or detected on a cloud; None for those (``explicit``, ``cloud-env``, ``cloud-metadata``)."""
    if location.source in (EXPLICIT, CLOUD_ENV, CLOUD_METADATA):
        return None
    code = location.country or "FRA"
    key = location.zone or "US-CAL-CISO"
    fix = (
        f'set country="{code}" (or WATTPRINT_COUNTRY={code}; ISO-3, ISO-2 or name), or a '
        f'grid zone with zone="{key}" (WATTPRINT_ZONE={key})'
    )
    where = f"{location.country_name or location.country} ({location.country})"
    if location.zone:
        where += f", grid zone {location.zone}"
    detail = f" ({location.detail})" if location.detail else ""
    if location.source == SITE:
        return f"Location from the site file{detail}: {where}. If this run is elsewhere, {fix}."
    if location.source == TIMEZONE:
        how = f"from the machine's timezone{detail}"
    elif location.source == IP:
        how = f"from the public IP address{detail}, which shows the network exit, not the machine"
    else:
        why = f" ({location.detail})" if location.detail else ""
        return (
            f"No location set and none found{why}: using the world average, the widest "
            f"uncertainty there is. To use the right grid, {fix}."
        )
    return f"No location set: assumed {where} {how}. If the code runs elsewhere, {fix}."
