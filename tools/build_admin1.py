"""Build the Canadian provinces' and Australian states' geometry that the map draws over the
countries: ``src/wattprint/report/data/ca_au_provinces.json``.

Input: Natural Earth 1:50m admin-1 states and provinces (public domain; "Made with Natural
Earth", naturalearthdata.com) as GeoJSON (``ne_50m_admin_1_states_provinces.json``, as
github.com/martynafford/natural-earth-geojson publishes it under ``50m/cultural/``), given by
``--source``. Its features carry ``iso_3166_2`` codes (``CA-AB``, ``AU-NSW``) that are
wattprint's zone keys; one feature is written for each ``CA-``/``AU-`` zone of
``carbon/data/zones.csv`` that has a shape. The island zones (``AU-TAS-FI``, ``AU-TAS-KI``,
``AU-WA-RI``) have none and are shown by the state around them; the Australian Capital
Territory and Jervis Bay are no zones (their grid is New South Wales's) and are not written.
Brazil stays a country: its zones are grid regions, not the states Natural Earth draws.

The simplification is ``tools/build_us_states.py``'s (shared borders simplified once, small
islands and holes dropped, coordinates rounded, exteriors clockwise), with the same settings.

    python tools/build_admin1.py [--source PATH] [--check]
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import sys
from pathlib import Path
from typing import Any

try:  # run as a script (python tools/build_admin1.py) or imported as tools.build_admin1
    from tools import build_us_states as simplify
    from tools import shipped
except ImportError:  # pragma: no cover - the script's own folder is on sys.path instead
    import build_us_states as simplify  # type: ignore[no-redef]
    import shipped  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[1]
TARGET = "src/wattprint/report/data/ca_au_provinces.json"
ZONES = REPO / "src/wattprint/carbon/data/zones.csv"
DEFAULT_SOURCE = REPO.parent / "shared/data/natural-earth/ne_50m_admin_1_states_provinces.json"
COUNTRIES = {"CAN": "CA-", "AUS": "AU-"}  # Natural Earth's adm0_a3 -> the zone keys' prefix
NOTICE = (
    "Canadian provinces and Australian states: Natural Earth 1:50m admin-1 states and "
    "provinces (public domain, Made with Natural Earth); simplified and keyed by wattprint "
    "zone (CA-XX, AU-XX) by wattprint's tools/build_admin1.py"
)

Point = tuple[float, float]


def province_zones() -> dict[str, str]:
    """Zone key -> its name, for each Canadian and Australian zone in zones.csv."""
    with ZONES.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    prefixes = tuple(COUNTRIES.values())
    return {r["zone"]: r["name"] for r in rows if r["zone"].startswith(prefixes)}


def read_provinces(path: Path) -> dict[str, list[list[Point]]]:
    """ISO 3166-2 code -> its exterior rings, clockwise (holes dropped), for every admin-1
    feature of Canada and Australia (zones or not: their borders anchor the neighbours')."""
    try:
        collection = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise SystemExit(
            f"{path}: no such file; give Natural Earth's ne_50m_admin_1_states_provinces.json "
            "(GeoJSON) with --source"
        ) from None
    out: dict[str, list[list[Point]]] = {}
    for feature in collection["features"]:
        properties = feature["properties"]
        if properties.get("adm0_a3") not in COUNTRIES:
            continue
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        rings = []
        for polygon in polygons:
            ring = [(float(x), float(y)) for x, y in polygon[0]]
            if simplify.signed_area(ring) > 0:
                ring.reverse()
            rings.append(ring)
        out.setdefault(properties["iso_3166_2"], []).extend(rings)
    return out


@functools.cache
def build(source: Path = DEFAULT_SOURCE) -> str:
    """The shipped file's text."""
    provinces = read_provinces(source)
    names = province_zones()
    owners = simplify.owners_of_points(provinces)
    features: list[dict[str, Any]] = []
    for key in sorted(set(names) & set(provinces)):
        polygons = simplify.state_polygons(provinces[key], owners)
        features.append(
            {
                "type": "Feature",
                "id": key,
                "properties": {"name": names[key]},
                "geometry": {"type": "MultiPolygon", "coordinates": [[p] for p in polygons]},
            }
        )
    collection = {"type": "FeatureCollection", "license": NOTICE, "features": features}
    return json.dumps(collection, separators=(",", ":"), sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE,
        help="Natural Earth's ne_50m_admin_1_states_provinces.json (default: %(default)s)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped file differs")
    args = parser.parse_args(argv)
    text = build(args.source)
    return shipped.write_or_check(REPO, TARGET, text, args.check, size=True)


if __name__ == "__main__":
    sys.exit(main())
