"""``carbon/data/timezone_zones.csv``: IANA time zone to the grid zone its principal city lies
in, for countries with several zones (point in polygon, computed here)."""

from __future__ import annotations

from pathlib import Path

from .common import CARBON_DATA, FACTS, Table, csv_text
from .timezones import read_tzdata_zi, resolve_place, timezone_countries
from .zone_sources import (
    EM_CONTRIB,
    ZonePolygons,
    read_em_yearly,
    read_zone_tab_places,
    read_zones_meta,
)

# Link names for a place other than their target's principal city (tz merged zones that
# share a clock since 1970): the target's zone would be the wrong place, so they get no row.
LINKS_TO_OTHER_PLACES = {
    "America/Coral_Harbour": "Coral Harbour, Nunavut; target Atikokan, Ontario",
    "America/Montreal": "Montreal, Quebec; target Toronto, Ontario",
    "America/Rainy_River": "Rainy River, Ontario; target Winnipeg, Manitoba",
    "America/Shiprock": "Shiprock, New Mexico; target Denver, Colorado",
    "America/Yellowknife": "Yellowknife, Northwest Territories; target Edmonton, Alberta",
    "Australia/Currie": "Currie, King Island (its own zone); target Hobart",
    "Europe/Belfast": "Belfast, Northern Ireland (its own zone); target London",
    "Navajo": "the Navajo Nation (AZ, NM, UT); target Denver, Colorado",
}
TZ_SNAP_KM = 25  # a coastal city the simplified polygons leave offshore (Toronto) still counts
TZ_ZONE_SOURCE = (
    "IANA tz {release} zone.tab principal-city coordinates in an Electricity Maps zone polygon "
    f"({EM_CONTRIB} geo/world.geojson)"
)


def build_timezone_zones(shared: Path) -> Table:
    release, names, _ = timezone_countries(shared)
    _, _, links = read_tzdata_zi(shared)
    places = read_zone_tab_places(shared)
    em_keys = set().union(*read_em_yearly(shared).values())
    meta = read_zones_meta(shared)
    polygons = ZonePolygons(shared)
    # Countries with more than one zone that has an intensity (aggregates not counted).
    zones_per_country: dict[str, set[str]] = {}
    for key in em_keys:
        info = meta.get(key)
        if info and info["sub_zone_names"]:
            continue
        country = info["country"] if info else key.split("-")[0]
        zones_per_country.setdefault(country, set()).add(key)
    multi = {c for c, keys in zones_per_country.items() if len(keys) > 1}
    tz_per_country: dict[str, int] = {}
    for iso2, _, _ in places.values():
        tz_per_country[iso2] = tz_per_country.get(iso2, 0) + 1
    pinned: dict[str, str] = {}
    snapped: list[str] = []
    misses: dict[str, list[str]] = {"none": [], "several": [], "no intensity": [], "other": []}
    for place in sorted(places):
        iso2, lat, lon = places[place]
        if iso2 not in multi:
            continue
        found = polygons.containing(lon, lat)
        if not found:
            near = polygons.nearby(lon, lat, TZ_SNAP_KM)
            zones_near = sorted({(k, c) for _, k, c in near})
            if len(zones_near) == 1:
                found = zones_near
                snapped.append(f"{place} ({near[0][1]}, {near[0][0]:.1f} km)")
            elif near:
                misses["several"].append(f"{place} (near {'/'.join(k for k, _ in zones_near)})")
                continue
            else:
                misses["none"].append(place)
                continue
        if len(found) > 1:
            misses["several"].append(f"{place} ({'/'.join(k for k, _ in found)})")
        elif found[0][1] != iso2:
            misses["other"].append(f"{place} ({found[0][0]})")
        elif found[0][0] not in em_keys:
            misses["no intensity"].append(f"{place} ({found[0][0]})")
        else:
            pinned[place] = found[0][0]
    # A timezone pins a zone only where no other zone of the country keeps the same clock:
    # Australia/Sydney is New South Wales, but America/New_York is a dozen balancing areas
    # and Europe/Rome all of Italy's zones. The principal city alone would be a guess.
    clocks: dict[tuple[str, str], int] = {}
    for key in em_keys:
        info = meta.get(key)
        if info and not info["sub_zone_names"] and info["timezone"]:
            clock = (info["country"], resolve_place(info["timezone"], places, links))
            clocks[clock] = clocks.get(clock, 0) + 1
    shared_clock = []
    for place, key in sorted(pinned.items()):
        info = meta.get(key)
        clock = (info["country"], resolve_place(info["timezone"], places, links)) if info else None
        if clock is None or clocks.get(clock, 0) != 1:
            shared_clock.append(f"{place} ({key})")
            del pinned[place]
    misses["clock shared with other zones"] = shared_clock
    source = TZ_ZONE_SOURCE.format(release=release)
    body = []
    for name in sorted(names):
        place = resolve_place(name, places, links)
        if place in pinned and name not in LINKS_TO_OTHER_PLACES:
            iso2 = places[place][0]
            body.append((name, pinned[place], iso2, str(tz_per_country[iso2]), source, FACTS))
    header = ("tz_name", "zone", "iso2", "country_timezones", "source", "license")
    for name in LINKS_TO_OTHER_PLACES:
        if name not in links:
            raise ValueError(f"LINKS_TO_OTHER_PLACES: {name} is no longer a link")
    notes = [
        f"{len(multi)} countries with several zones; {len(pinned)} zone.tab entries pinned, "
        f"{len(body) - len(pinned)} link names follow them; left out (another place): "
        + ", ".join(sorted(LINKS_TO_OTHER_PLACES)),
        f"principal city just outside one zone's (simplified) polygon, within {TZ_SNAP_KM} km: "
        + (", ".join(snapped) or "-"),
        f"principal city in no polygon nor near one: {', '.join(misses['none']) or '-'}",
        f"in or near several polygons: {', '.join(misses['several']) or '-'}",
        f"in another country's polygon: {', '.join(misses['other']) or '-'}",
        f"in a zone without an intensity: {', '.join(misses['no intensity']) or '-'}",
    ]
    return Table(f"{CARBON_DATA}/timezone_zones.csv", csv_text(header, body), len(body), notes)
