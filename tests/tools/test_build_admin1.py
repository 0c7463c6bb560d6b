"""tools/build_admin1.py: the Canadian provinces' and Australian states' shapes the map draws,
and the file the package ships."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import tools.build_admin1 as tool
import tools.build_us_states as us
from wattprint.carbon import tables
from wattprint.report import geo

REPO = Path(__file__).resolve().parents[2]
#: The raw Natural Earth file is not committed: the --check test runs where it is.
SOURCE = Path(os.environ.get("WATTPRINT_NE_ADMIN1", tool.DEFAULT_SOURCE))
ISLANDS = {"AU-TAS-FI", "AU-TAS-KI", "AU-WA-RI"}  # zones inside a state, not drawn on their own


def shipped() -> dict:
    return json.loads((REPO / tool.TARGET).read_text("utf-8"))


@pytest.mark.skipif(
    not SOURCE.is_file(),
    reason=f"raw Natural Earth admin-1 GeoJSON not at {SOURCE} (set WATTPRINT_NE_ADMIN1)",
)
def test_the_tool_reproduces_the_shipped_file():
    assert tool.build(SOURCE) == (REPO / tool.TARGET).read_text("utf-8")
    assert tool.main(["--check", "--source", str(SOURCE)]) == 0


def test_every_province_zone_has_a_small_closed_clockwise_shape():
    data = shipped()
    assert "Natural Earth" in data["license"] and "public domain" in data["license"]
    zones = {z.key for z in tables.zones() if z.key.startswith(("CA-", "AU-"))}
    ids = {f["id"] for f in data["features"]}
    assert ids == zones - ISLANDS and len(ids) == 13 + 7
    for feature in data["features"]:
        assert feature["properties"]["name"] == tables.zone(feature["id"]).name
        south, north = (-45, -9) if feature["id"].startswith("AU-") else (41, 84)
        for polygon in feature["geometry"]["coordinates"]:
            (ring,) = polygon  # exteriors only
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert us.signed_area([tuple(p) for p in ring[:-1]]) < 0, feature["id"]
            assert all(-180 <= x <= 180 and south <= y <= north for x, y in ring), feature["id"]


def test_the_shipped_shapes_stay_small():
    sizes = {name: (geo.DATA / name).stat().st_size for name in geo.SUBNATIONAL_FILES}
    assert set(sizes) == {"us_states.json", "ca_au_provinces.json"}
    assert sizes["ca_au_provinces.json"] < 100_000 and sum(sizes.values()) < 200_000


def test_neighbours_share_their_simplified_border():
    points = {
        f["id"]: {tuple(p) for poly in f["geometry"]["coordinates"] for p in poly[0]}
        for f in shipped()["features"]
    }
    assert len(points["CA-AB"] & points["CA-SK"]) >= 2
    assert len(points["AU-NSW"] & points["AU-VIC"]) >= 3


def _inside(point: tuple[float, float], ring: list[list[float]]) -> bool:
    """Whether (longitude, latitude) is inside the closed ring (even-odd crossings)."""
    x, y = point
    crossings = 0
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            crossings += 1
    return crossings % 2 == 1


def test_a_run_marked_at_its_zone_centre_is_inside_the_zone_drawn():
    """A run placed by its zone is marked at the zone table's centre: that point falls inside
    the province drawn. Prince Edward Island's centre (Electricity Maps') lies just off its
    north shore, outside Natural Earth's unsimplified island too."""
    outside = set()
    for feature in shipped()["features"]:
        zone = tables.zone(feature["id"])
        centre = (zone.longitude, zone.latitude)
        polygons = feature["geometry"]["coordinates"]
        if not any(_inside(centre, polygon[0]) for polygon in polygons):
            outside.add(zone.key)
    assert outside == {"CA-PE"}


def _province(code: str, adm0: str, ring: list[list[float]], kind: str = "Polygon") -> dict:
    coordinates = [[ring]] if kind == "MultiPolygon" else [ring]
    return {
        "type": "Feature",
        "properties": {"iso_3166_2": code, "adm0_a3": adm0},
        "geometry": {"type": kind, "coordinates": coordinates},
    }


def test_a_source_is_read_keyed_by_zone_and_written_clockwise(tmp_path, monkeypatch, capsys):
    """Counter-clockwise exteriors (GeoJSON's order) come out clockwise; features of other
    countries and of no zone (the ACT) are left out; --check says stale and writes nothing."""
    source = tmp_path / "admin1.json"
    square = [[-110.0, 49.0], [-100.0, 49.0], [-100.0, 60.0], [-110.0, 60.0], [-110.0, 49.0]]
    act = [[149.0, -35.9], [149.4, -35.9], [149.2, -35.1], [149.0, -35.9]]
    sao_paulo = [[-50.0, -20.0], [-45.0, -20.0], [-47.0, -23.0], [-50.0, -20.0]]
    features = [
        _province("CA-SK", "CAN", square, "MultiPolygon"),
        _province("AU-ACT", "AUS", act),  # no zone: drawn as part of New South Wales
        _province("BR-SP", "BRA", sao_paulo),  # Brazil's zones are grid regions, not states
    ]
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    data = json.loads(tool.build(source))
    (feature,) = data["features"]
    assert feature["id"] == "CA-SK" and feature["properties"]["name"] == "Saskatchewan"
    ((ring,),) = feature["geometry"]["coordinates"]
    assert sorted(map(tuple, ring[:-1])) == sorted(map(tuple, square[:-1]))
    assert us.signed_area([tuple(p) for p in ring[:-1]]) < 0

    target = tmp_path / tool.TARGET
    target.parent.mkdir(parents=True)
    target.write_text("{}\n", "utf-8")
    monkeypatch.setattr(tool, "REPO", tmp_path)
    assert tool.main(["--check", "--source", str(source)]) == 1
    assert "stale" in capsys.readouterr().out and target.read_text("utf-8") == "{}\n"
    assert tool.main(["--source", str(source)]) == 0
    assert target.read_text("utf-8") == tool.build(source)


def test_a_missing_source_says_what_to_give(tmp_path):
    with pytest.raises(SystemExit, match="--source"):
        tool.main(["--source", str(tmp_path / "absent.json")])
