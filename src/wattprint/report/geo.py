"""The world map's data: country geometry shipped with the package, each country's annual grid
intensity, and where runs ran. The HTML report and the team server's dashboard both draw it.

The geometry is ``data/world_110m.json``: Natural Earth 1:110m countries (public domain) as
TopoJSON from world-atlas (ISC license), with ISO 3166-1 alpha-3 ids (``tools/build_geo.py``).
plotly.js looks a topology up in ``window.PlotlyGeoAssets.topojson`` under the name it would
otherwise fetch from its CDN (``TOPOJSON_NAME``), so a page that puts it there fetches nothing.
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


@functools.cache
def world_topology() -> dict[str, Any]:
    """The shipped TopoJSON (objects ``countries``, with ISO-3 ids, and ``land``)."""
    return json.loads((DATA / "world_110m.json").read_text("utf-8"))


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
