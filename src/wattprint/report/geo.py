"""The world map's data: geometry shipped with the package, each country's and sub-national
zone's annual grid intensity, and where runs ran. The HTML report and the team server's
dashboard both draw it.

The countries are ``data/world_110m.json``: Natural Earth 1:110m countries (public domain) as
TopoJSON from world-atlas (ISC license), with ISO 3166-1 alpha-3 ids (``tools/build_geo.py``).
plotly.js looks a topology up in ``window.PlotlyGeoAssets.topojson`` under the name it would
otherwise fetch from its CDN (``TOPOJSON_NAME``), so a page that puts it there fetches nothing.

The sub-national zones drawn are ``SUBNATIONAL_FILES``: GeoJSON whose feature ids are zone keys
(the US states, from the Census Bureau's public-domain boundaries: ``tools/build_us_states.py``;
the Canadian provinces and territories and Australian states, from Natural Earth's public-domain
1:50m admin-1 boundaries: ``tools/build_admin1.py``). plotly.js takes such a GeoJSON as a
trace's ``geojson``; the pages put it in place of the name ``GEOJSON_NAME`` before drawing, so
it is never fetched either. Other sub-national zones of the tables (US balancing authorities,
Brazil's grid regions, small islands) are shown by their country.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
#: plotly.js's name for a world map at 1:110m (``scope`` "world", ``resolution`` 110).
TOPOJSON_NAME = "world_110m"
#: The name a map trace gives its sub-national GeoJSON, for the page to put the shapes in place.
GEOJSON_NAME = "wattprint-subnational"
#: The sub-national shapes shipped (GeoJSON, feature ids = zone keys), and what they are.
SUBNATIONAL_FILES = ("us_states.json", "ca_au_provinces.json")
#: What the map draws at which level, and whose shapes: said under every map.
MAP_NOTE = (
    "Drawn below country level: US states, by EPA eGRID2023's state figures (direct emissions "
    "of combustion, so lower than the lifecycle figures of the countries around them); "
    "Canadian provinces and territories and Australian states, by Electricity Maps' yearly "
    "figures. Other sub-national zones of the tables (US balancing authorities, Brazil's grid "
    "regions and others) are shown by their country. Map: Natural Earth (public domain) via "
    "world-atlas (ISC license); US states: US Census Bureau cartographic boundaries (public "
    "domain); Canadian provinces and Australian states: Made with Natural Earth (public "
    "domain); shipped with wattprint."
)


@functools.cache
def world_topology() -> dict[str, Any]:
    """The shipped TopoJSON (objects ``countries``, with ISO-3 ids, and ``land``)."""
    return json.loads((DATA / "world_110m.json").read_text("utf-8"))


@functools.cache
def subnational_geojson() -> dict[str, Any]:
    """Every shipped sub-national shape as one FeatureCollection (ids: zone keys), with the
    notices of the files it joins."""
    features: list[dict[str, Any]] = []
    notices = []
    for name in SUBNATIONAL_FILES:
        collection = json.loads((DATA / name).read_text("utf-8"))
        features += collection["features"]
        notices.append(collection["license"])
    return {"type": "FeatureCollection", "license": "; ".join(notices), "features": features}


def mapped_countries() -> set[str]:
    return {g["id"] for g in world_topology()["objects"]["countries"]["geometries"] if "id" in g}


def country_intensities() -> list[dict[str, Any]]:
    """Each mapped country's annual grid intensity: the Electricity Maps country zone the
    tracker uses for it, else Ember's country figure; with its year and source."""
    from ..carbon import countries, tables

    out = []
    ember = {c.iso3: c for c in countries.all_countries()}
    for iso3 in sorted(mapped_countries()):
        zone = tables.zone_for_country(iso3)
        if zone is not None:
            out.append(
                {
                    "iso3": iso3,
                    "name": zone.name,
                    "g_per_kwh": zone.intensity_g_per_kwh,
                    "year": zone.year,
                    "source": zone.source.split(";")[0],
                }
            )
        elif iso3 in ember:
            c = ember[iso3]
            out.append(
                {
                    "iso3": iso3,
                    "name": c.name,
                    "g_per_kwh": c.intensity_g_per_kwh,
                    "year": c.year,
                    "source": c.source,
                }
            )
    return out


def subnational_intensities() -> list[dict[str, Any]]:
    """Each drawn sub-national zone's annual intensity from the zone table (a shape whose zone
    the table lacks is left undrawn), with its year, source and basis."""
    from ..carbon import tables

    out = []
    for feature in subnational_geojson()["features"]:
        zone = tables.zone(feature["id"])
        if zone is None:
            continue
        out.append(
            {
                "zone": zone.key,
                "name": zone.name,
                "g_per_kwh": zone.intensity_g_per_kwh,
                "year": zone.year,
                "basis": zone.basis,
                "source": zone.source.split(";")[0],
            }
        )
    return out


@functools.cache
def shape_centres() -> dict[str, tuple[float, float]]:
    """Zone key -> (latitude, longitude) of the centre of its largest drawn polygon, for the
    zones the table gives no centre (the US states)."""
    out = {}
    for feature in subnational_geojson()["features"]:
        rings = [polygon[0] for polygon in feature["geometry"]["coordinates"]]
        ring = max(rings, key=lambda r: abs(_area(r)))
        out[feature["id"].upper()] = _centroid(ring)
    return out


def _area(ring: list[list[float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False)) / 2


def _centroid(ring: list[list[float]]) -> tuple[float, float]:
    """The area centroid of a closed ring, as (latitude, longitude)."""
    area = _area(ring)
    cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        cross = x1 * y2 - x2 * y1
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return round(cy / (6 * area), 4), round(cx / (6 * area), 4)


def place_of(row: dict[str, Any]) -> tuple[float, float, str] | None:
    """Where to mark a run (``run_row``'s fields): its own coordinates, else its cloud region's,
    else its grid zone's centre, else its country's zone centre; with what the point is."""
    from ..carbon import tables

    lat, lon = row.get("latitude"), row.get("longitude")
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        return lat, lon, "the run's coordinates"
    if row.get("cloud_provider") and row.get("cloud_region"):
        region = tables.cloud_region(row["cloud_provider"], row["cloud_region"])
        if region is not None and region.latitude is not None and region.longitude is not None:
            return region.latitude, region.longitude, f"{region.provider} {region.region}"
    zone = tables.zone(row["zone"]) if row.get("zone") else None
    if zone is not None and zone.latitude is None and zone.key.upper() in shape_centres():
        lat, lon = shape_centres()[zone.key.upper()]
        return lat, lon, f"centre of zone {zone.key}"
    if zone is None and row.get("country"):
        zone = tables.zone_for_country(row["country"])
    if zone is not None and zone.latitude is not None and zone.longitude is not None:
        return zone.latitude, zone.longitude, f"centre of zone {zone.key}"
    return None


def run_places(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The runs grouped by the point they are marked at, with their energy and emissions; and
    how many runs have no known place (not marked, said)."""
    points: dict[tuple[float, float], dict[str, Any]] = {}
    unplaced = 0
    for row in rows:
        place = place_of(row)
        if place is None:
            unplaced += 1
            continue
        lat, lon, what = place
        point = points.setdefault(
            (round(lat, 3), round(lon, 3)),
            {
                "latitude": lat,
                "longitude": lon,
                "what": what,
                "locations": set(),
                "runs": 0,
                "energy_kwh": 0.0,
                "emissions_kg": 0.0,
                "emissions_unknown_runs": 0,
            },
        )
        point["runs"] += 1
        point["locations"].add(row.get("location") or "")
        point["energy_kwh"] += row.get("energy_kwh") or 0.0
        if row.get("emissions_kg") is None:
            point["emissions_unknown_runs"] += 1
        else:
            point["emissions_kg"] += row["emissions_kg"]
    out = []
    for point in points.values():
        point["locations"] = sorted(x for x in point["locations"] if x)
        out.append(point)
    out.sort(key=lambda p: (-p["emissions_kg"], p["latitude"], p["longitude"]))
    return {"points": out, "unplaced_runs": unplaced}
