"""Readers the grid-zone tables share: Electricity Maps' yearly figures and zone metadata,
``zone.tab`` places, canonical time zone names and the zone polygons."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path

from .common import read_csv, require
from .countries import iso2_by_iso3
from .timezones import read_tzdata_zi, read_zone_tab, resolve_place

EM_LICENSE = "ODbL 1.0"
EM_CONTRIB = "electricitymaps-contrib"  # the AGPL-3.0 repository facts are taken from
INTENSITY_UNIT = "gCO2e/kWh"

# ISO 3166-1 codes the co2.js fixture lacks, for zones Electricity Maps has there.
EXTRA_ISO3 = {"AX": "ALA", "GS": "SGS"}  # Åland Islands, South Georgia & South Sandwich Is.


def read_em_yearly(shared: Path) -> dict[int, dict[str, dict]]:
    """co2.js's Electricity Maps yearly files: year -> zone key -> entry."""
    folder = shared / "co2js" / "electricity-maps"
    files = sorted(folder.glob("yearly_*.json"))
    if not files:
        raise FileNotFoundError(f"no yearly_*.json under {folder}")
    years: dict[int, dict[str, dict]] = {}
    for path in files:
        year = int(path.stem.split("_")[1])
        with path.open(encoding="utf-8") as fh:
            years[year] = json.load(fh)
    return years


def read_zones_meta(shared: Path) -> dict[str, dict[str, str]]:
    """derived/electricitymaps_zones_meta.csv: zone key -> row (country, timezone, centre)."""
    rows = read_csv(require(shared, "derived/electricitymaps_zones_meta.csv"))
    return {row["zone_key"]: row for row in rows}


def iso3_by_iso2(shared: Path) -> dict[str, str]:
    """ISO2 -> ISO3, the reverse of ``iso2_by_iso3`` (whose conflicts it inherits resolved)."""
    mapping, _ = iso2_by_iso3(shared)
    reverse: dict[str, str] = {}
    for iso3, iso2 in sorted(mapping.items()):
        if iso2 in reverse:
            raise ValueError(f"ISO2 {iso2} maps to both {reverse[iso2]} and {iso3}")
        reverse[iso2] = iso3
    for iso2, iso3 in EXTRA_ISO3.items():
        reverse.setdefault(iso2, iso3)
    return reverse


def parse_iso6709(text: str) -> tuple[float, float]:
    """zone.tab coordinates (``+4852+00220``, ``+404251-0740023``) -> (latitude, longitude)."""
    match = re.fullmatch(r"([+-]\d{4}(?:\d{2})?)([+-]\d{5}(?:\d{2})?)", text)
    if not match:
        raise ValueError(f"not ISO 6709 coordinates: {text!r}")

    def degrees(part: str, width: int) -> float:
        sign = -1.0 if part[0] == "-" else 1.0
        digits = part[1:]
        value = int(digits[:width]) + int(digits[width : width + 2]) / 60
        if len(digits) > width + 2:
            value += int(digits[width + 2 :]) / 3600
        return sign * value

    return degrees(match.group(1), 2), degrees(match.group(2), 3)


def read_zone_tab_places(shared: Path) -> dict[str, tuple[str, float, float]]:
    """zone.tab: tz name -> (ISO2, latitude, longitude of the zone's principal city)."""
    places = {}
    for line in require(shared, "tzdata/zoneinfo/zone.tab").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            lat, lon = parse_iso6709(fields[1])
            places[fields[2]] = (fields[0], lat, lon)
    return places


def canonical_tz(shared: Path) -> Callable[[str], str]:
    """A function mapping a tz name to the ``zone.tab`` name it stands for (``US/Pacific`` ->
    ``America/Los_Angeles``); names with no place (``UTC``) come back unchanged."""
    _, _, links = read_tzdata_zi(shared)
    zone_tab = read_zone_tab(shared)

    def resolve(name: str) -> str:
        if not name:
            return ""
        place = resolve_place(name, zone_tab, links)
        return place if place in zone_tab else name

    return resolve


class ZonePolygons:
    """Electricity Maps zone polygons (``geo/world.geojson``) for point-in-polygon lookups.

    Used by the build only, to compute facts (which zone a city or a data centre lies in);
    no polygon is shipped.
    """

    def __init__(self, shared: Path) -> None:
        with require(shared, "electricitymaps-contrib/geo/world.geojson").open(
            encoding="utf-8"
        ) as fh:
            features = json.load(fh)["features"]
        self.zones: list[tuple[str, str, tuple[float, float, float, float], list]] = []
        for feature in features:
            props = feature["properties"]
            geometry = feature["geometry"]
            if geometry["type"] == "Polygon":
                polygons = [geometry["coordinates"]]
            elif geometry["type"] == "MultiPolygon":
                polygons = geometry["coordinates"]
            else:
                raise ValueError(f"unexpected geometry {geometry['type']} for {props}")
            rings = [ring for polygon in polygons for ring in polygon]
            lons = [pt[0] for ring in rings for pt in ring]
            lats = [pt[1] for ring in rings for pt in ring]
            bbox = (min(lons), min(lats), max(lons), max(lats))
            self.zones.append((props["zoneName"], props["countryKey"], bbox, rings))

    @staticmethod
    def _inside(lon: float, lat: float, rings: list) -> bool:
        """Even-odd rule over every ring, so holes and islands both count right."""
        inside = False
        for ring in rings:
            n = len(ring)
            for i in range(n):
                x1, y1 = ring[i][0], ring[i][1]
                x2, y2 = ring[(i + 1) % n][0], ring[(i + 1) % n][1]
                if (y1 > lat) != (y2 > lat):
                    x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
                    if lon < x_cross:
                        inside = not inside
        return inside

    def nearby(self, lon: float, lat: float, km: float) -> list[tuple[float, str, str]]:
        """(distance in km, zone key, country ISO2) of polygons whose boundary lies within
        ``km`` of the point, nearest first (equirectangular approximation, fine at this range).
        """
        kx = 111.32 * math.cos(math.radians(lat))
        ky = 110.57
        dlat = km / ky
        dlon = km / max(kx, 1.0)
        found = []
        for key, country, (x0, y0, x1, y1), rings in self.zones:
            if not (x0 - dlon <= lon <= x1 + dlon and y0 - dlat <= lat <= y1 + dlat):
                continue
            best = math.inf
            for ring in rings:
                n = len(ring)
                for i in range(n):
                    ax, ay = (ring[i][0] - lon) * kx, (ring[i][1] - lat) * ky
                    bx, by = (ring[(i + 1) % n][0] - lon) * kx, (ring[(i + 1) % n][1] - lat) * ky
                    dx, dy = bx - ax, by - ay
                    length2 = dx * dx + dy * dy
                    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
                    best = min(best, math.hypot(ax + t * dx, ay + t * dy))
            if best <= km:
                found.append((best, key, country))
        return sorted(found)

    def containing(self, lon: float, lat: float) -> list[tuple[str, str]]:
        """(zone key, country ISO2) of every polygon that contains the point."""
        found = []
        for key, country, (x0, y0, x1, y1), rings in self.zones:
            if x0 <= lon <= x1 and y0 <= lat <= y1 and self._inside(lon, lat, rings):
                found.append((key, country))
        return sorted(found)
