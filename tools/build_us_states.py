"""Build the US states' geometry that the map draws over the countries:
``src/wattprint/report/data/us_states.json``.

Input: the US Census Bureau's cartographic boundary file ``cb_2016_us_state_500k`` (public
domain), as PyPI ``plotly-geo`` 1.0.0 (MIT) ships it, read with ``pyshp`` (MIT); both are
build-time only (the ``build`` extra). The output is a small GeoJSON FeatureCollection whose
feature ids are wattprint's zone keys (``US-STATE-CA``), one feature for each ``US-STATE-``
zone of ``carbon/data/zones.csv`` (the 50 states and DC; the territories have no state zone).

How it is made small (~300,000 points in, a few thousand out):

- Borders are simplified once, not once per state: a point where the set of states a border
  belongs to changes is kept (an anchor), and Douglas–Peucker simplifies each stretch between
  anchors. Two neighbours share the same stretch, so they get the same line and no gap opens.
- Islands smaller than ``MIN_AREA_DEG2`` are dropped (a state's largest ring always stays), and
  so are holes: at world scale a lake inside a state is not seen.
- Coordinates are rounded to ``DIGITS`` decimals (about 1 km). Exterior rings run clockwise, as
  d3-geo (plotly.js's projection) reads them.

``tools/build_admin1.py`` (Canadian provinces, Australian states) simplifies with these same
functions and settings.

    python tools/build_us_states.py [--check]
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

try:  # run as a script (python tools/build_us_states.py) or imported as tools.build_us_states
    from tools import shipped
except ImportError:  # pragma: no cover - the script's own folder is on sys.path instead
    import shipped  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[1]
TARGET = "src/wattprint/report/data/us_states.json"
ZONES = REPO / "src/wattprint/carbon/data/zones.csv"
SHAPEFILE = "cb_2016_us_state_500k"
ZONE_PREFIX = "US-STATE-"
TOLERANCE_DEG = 0.04  # Douglas–Peucker's distance: ~4 km, under a pixel at world scale
MIN_AREA_DEG2 = 0.02  # islands smaller than ~200 km2 go
DIGITS = 2
NOTICE = (
    "US states: US Census Bureau cartographic boundary file cb_2016_us_state_500k (public "
    "domain), via plotly-geo 1.0.0 (MIT); simplified and keyed by wattprint zone "
    "(US-STATE-XX) by wattprint's tools/build_us_states.py"
)

Point = tuple[float, float]


def shapefile_path() -> Path:
    """The shapefile's path (without extension) inside the installed ``plotly-geo``."""
    from importlib import resources

    folder = Path(str(resources.files("_plotly_geo").joinpath("package_data")))
    return folder / SHAPEFILE


def state_zones() -> dict[str, str]:
    """Two-letter state code -> its zone's name, for each ``US-STATE-`` zone in zones.csv."""
    with ZONES.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        r["zone"][len(ZONE_PREFIX) :]: r["name"] for r in rows if r["zone"].startswith(ZONE_PREFIX)
    }


def read_states(path: Path) -> dict[str, list[list[Point]]]:
    """State code -> its rings, as the shapefile has them."""
    import shapefile  # pyshp: build-time only

    out: dict[str, list[list[Point]]] = {}
    with shapefile.Reader(str(path)) as reader:
        code_at = [f[0] for f in reader.fields[1:]].index("STUSPS")
        for shape_record in reader.iterShapeRecords():
            shape = shape_record.shape
            bounds = [*shape.parts, len(shape.points)]
            rings = [
                [(float(x), float(y)) for x, y in shape.points[a:b]]
                for a, b in zip(bounds, bounds[1:], strict=False)
            ]
            out[shape_record.record[code_at]] = rings
    return out


def signed_area(ring: Sequence[Point]) -> float:
    """Shoelace area in degrees squared: positive when the ring runs counter-clockwise."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(ring, [*ring[1:], ring[0]], strict=True):
        total += x1 * y2 - x2 * y1
    return total / 2


def douglas_peucker(points: Sequence[Point], tolerance: float) -> list[Point]:
    """The points of a line that keep it within ``tolerance`` of the original (ends kept)."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        far, far_d = -1, tolerance
        for i in range(first + 1, last):
            d = _distance(points[i], points[first], points[last])
            if d > far_d:
                far, far_d = i, d
        if far >= 0:
            keep[far] = True
            stack += [(first, far), (far, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def _distance(p: Point, a: Point, b: Point) -> float:
    """Distance from ``p`` to the segment ``a``-``b`` (planar, in degrees)."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    cx, cy = ax + t * dx, ay + t * dy
    return float(((px - cx) ** 2 + (py - cy) ** 2) ** 0.5)


def owners_of_points(states: dict[str, list[list[Point]]]) -> dict[Point, frozenset[str]]:
    """Each point -> the states whose rings pass through it (a shared border's points have two)."""
    owners: dict[Point, set[str]] = {}
    for code, rings in states.items():
        for ring in rings:
            for point in ring:
                owners.setdefault(point, set()).add(code)
    return {p: frozenset(s) for p, s in owners.items()}


def simplify_ring(
    ring: list[Point], owners: dict[Point, frozenset[str]], tolerance: float
) -> list[Point]:
    """The ring simplified between its anchors (where the states it borders change)."""
    points = ring[:-1] if ring[0] == ring[-1] else ring
    n = len(points)
    anchors = [
        i
        for i in range(n)
        if owners[points[i]] != owners[points[i - 1]]
        or owners[points[i]] != owners[points[(i + 1) % n]]
    ]
    if not anchors:
        anchors = [0, n // 2]  # an island: two fixed points are enough to start from
    out: list[Point] = []
    for k, start in enumerate(anchors):
        end = anchors[(k + 1) % len(anchors)]
        stretch = points[start : end + 1] if end > start else [*points[start:], *points[: end + 1]]
        out += douglas_peucker(stretch, tolerance)[:-1]
    return out


def state_polygons(
    rings: list[list[Point]], owners: dict[Point, frozenset[str]]
) -> list[list[list[float]]]:
    """A state's exterior rings, simplified, rounded and clockwise; islands and holes dropped."""
    exteriors = [r for r in rings if signed_area(r) < 0]  # shapefiles run exteriors clockwise
    biggest = max(exteriors, key=lambda r: -signed_area(r))
    polygons = []
    for ring in exteriors:
        if ring is not biggest and -signed_area(ring) < MIN_AREA_DEG2:
            continue
        simple = simplify_ring(ring, owners, TOLERANCE_DEG)
        rounded = _dedupe([(round(x, DIGITS), round(y, DIGITS)) for x, y in simple])
        if len(rounded) < 3 or signed_area(rounded) == 0:
            continue
        if signed_area(rounded) > 0:
            rounded.reverse()
        polygons.append([[x, y] for x, y in [*rounded, rounded[0]]])
    return polygons


def _dedupe(points: list[Point]) -> list[Point]:
    out: list[Point] = []
    for p in points:
        if not out or out[-1] != p:
            out.append(p)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


@functools.cache
def build(shapefile: Path | None = None) -> str:
    """The shipped file's text."""
    states = read_states(shapefile or shapefile_path())
    names = state_zones()
    missing = sorted(set(names) - set(states))
    if missing:
        raise SystemExit(f"no shape for zones {', '.join(ZONE_PREFIX + m for m in missing)}")
    owners = owners_of_points(states)
    features: list[dict[str, Any]] = []
    for code in sorted(names):
        polygons = state_polygons(states[code], owners)
        features.append(
            {
                "type": "Feature",
                "id": ZONE_PREFIX + code,
                "properties": {"name": names[code]},
                "geometry": {"type": "MultiPolygon", "coordinates": [[p] for p in polygons]},
            }
        )
    collection = {"type": "FeatureCollection", "license": NOTICE, "features": features}
    return json.dumps(collection, separators=(",", ":"), sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped file differs")
    args = parser.parse_args(argv)
    try:
        text = build()
    except ImportError as e:
        parser.error(f"{e}: pip install 'wattprint[build]' (plotly-geo and pyshp)")
    return shipped.write_or_check(REPO, TARGET, text, args.check, size=True)


if __name__ == "__main__":
    sys.exit(main())
