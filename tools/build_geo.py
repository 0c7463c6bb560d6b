"""Build the world map's geometry that the HTML report (and the team server's dashboard) ship:
``src/wattprint/report/data/world_110m.json``.

Input: world-atlas 2.0.2's ``countries-110m.json`` (Natural Earth 1:110m admin-0 countries,
public domain, as TopoJSON by Mike Bostock under the ISC license), kept in
``../shared/data/world-atlas/``. The output is the same topology with each country's ISO 3166-1
numeric id replaced by its alpha-3 code (what plotly.js's ``locationmode="ISO-3"`` matches, and
what wattprint's records hold) and its name kept; a shape without a numeric code (Kosovo,
Northern Cyprus, Somaliland) keeps no id and is drawn as land only. The arcs are copied as they
are. plotly.js reads the result from ``window.PlotlyGeoAssets`` under the name it would
otherwise fetch from its CDN (``world_110m``), so the page never fetches it.

    python tools/build_geo.py [--shared ../shared/data] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

try:  # run as a script (python tools/build_geo.py) or imported as tools.build_geo
    from tools import shipped
except ImportError:  # pragma: no cover - the script's own folder is on sys.path instead
    import shipped  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "data"
SOURCE = "world-atlas/countries-110m.json"
TARGET = "src/wattprint/report/data/world_110m.json"
NOTICE = (
    "Natural Earth 1:110m admin-0 countries (public domain) via world-atlas 2.0.2, "
    "Copyright 2013-2019 Michael Bostock, ISC license; ids recoded to ISO 3166-1 alpha-3 by "
    "wattprint's tools/build_geo.py"
)


def alpha3_by_numeric() -> dict[str, str]:
    import pycountry  # a build-time dependency (installed with the test extra)

    return {c.numeric: c.alpha_3 for c in pycountry.countries}


def build(shared: Path) -> str:
    """The shipped file's text, from the raw topology under ``shared``."""
    raw = json.loads((shared / SOURCE).read_text("utf-8"))
    codes = alpha3_by_numeric()
    geometries = []
    for geometry in raw["objects"]["countries"]["geometries"]:
        out: dict[str, Any] = {"type": geometry["type"], "arcs": geometry["arcs"]}
        code = codes.get(str(geometry.get("id", "")))
        if code:
            out["id"] = code
        out["properties"] = {"name": geometry.get("properties", {}).get("name", "")}
        geometries.append(out)
    topology = {
        "type": "Topology",
        "license": NOTICE,
        "bbox": raw["bbox"],
        "transform": raw["transform"],
        "objects": {
            "countries": {"type": "GeometryCollection", "geometries": geometries},
            "land": raw["objects"]["land"],
        },
        "arcs": raw["arcs"],
    }
    return json.dumps(topology, separators=(",", ":"), sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped file differs")
    args = parser.parse_args(argv)
    if not (args.shared / SOURCE).is_file():
        parser.error(f"{args.shared / SOURCE} not found; pass --shared PATH to the raw data")
    text = build(args.shared)
    return shipped.write_or_check(REPO, TARGET, text, args.check)


if __name__ == "__main__":
    sys.exit(main())
