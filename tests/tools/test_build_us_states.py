"""tools/build_us_states.py: the US states' shapes the map draws, and the file the package ships."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("shapefile", reason="pyshp: the build extra (pip install 'wattprint[build]')")
pytest.importorskip("_plotly_geo", reason="plotly-geo: the build extra")

import tools.build_us_states as tool  # noqa: E402
from wattprint.carbon import tables  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def shipped() -> dict:
    return json.loads((REPO / tool.TARGET).read_text("utf-8"))


def test_the_tool_reproduces_the_shipped_file():
    assert tool.build() == (REPO / tool.TARGET).read_text("utf-8")
    assert tool.main(["--check"]) == 0


def test_check_says_stale_and_writes_nothing(tmp_path, monkeypatch, capsys):
    target = tmp_path / tool.TARGET
    target.parent.mkdir(parents=True)
    target.write_text("{}\n", "utf-8")
    monkeypatch.setattr(tool, "REPO", tmp_path)
    assert tool.main(["--check"]) == 1
    assert "stale" in capsys.readouterr().out and target.read_text("utf-8") == "{}\n"
    assert tool.main([]) == 0 and target.read_text("utf-8") == tool.build()


def test_every_state_zone_has_a_small_closed_clockwise_shape():
    data = shipped()
    assert (REPO / tool.TARGET).stat().st_size < 150_000
    assert "Census" in data["license"] and "public domain" in data["license"]
    zones = {z.key for z in tables.zones() if z.key.startswith("US-STATE-")}
    assert {f["id"] for f in data["features"]} == zones and len(zones) == 51
    for feature in data["features"]:
        assert feature["properties"]["name"] == tables.zone(feature["id"]).name
        for polygon in feature["geometry"]["coordinates"]:
            (ring,) = polygon  # exteriors only
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert tool.signed_area([tuple(p) for p in ring[:-1]]) < 0, feature["id"]
            assert all(-180 <= x <= 180 and 15 <= y <= 72 for x, y in ring), feature["id"]


def test_neighbours_share_their_simplified_border():
    """Borders are simplified once for both sides: Colorado and Utah meet along the same
    points (a straight border keeps its two corners), and so do Nevada and California along
    the diagonal with its bends."""
    points = {
        f["id"]: {tuple(p) for poly in f["geometry"]["coordinates"] for p in poly[0]}
        for f in shipped()["features"]
    }
    assert len(points["US-STATE-CO"] & points["US-STATE-UT"]) >= 2
    assert len(points["US-STATE-CA"] & points["US-STATE-NV"]) >= 3


def test_douglas_peucker_keeps_what_departs_from_the_line():
    wiggle = [(float(x), 0.001 * (x % 2)) for x in range(11)]
    assert tool.douglas_peucker(wiggle, 0.01) == [(0.0, 0.0), (10.0, 0.0)]
    spike = [(0.0, 0.0), (1.0, 0.0), (2.0, 1.0), (3.0, 0.0), (4.0, 0.0)]
    assert tool.douglas_peucker(spike, 0.1) == [(0.0, 0.0), (1.0, 0.0), (2.0, 1.0), (3.0, 0.0),
                                                (4.0, 0.0)]  # fmt: skip
    assert tool.douglas_peucker(spike, 2.0) == [(0.0, 0.0), (4.0, 0.0)]
