"""The energy mix of a grid zone: its renewable and carbon-free shares, from the yearly tables.

``carbon/data/zone_mix.csv`` (built by ``tools/build_data.py`` from Electricity Maps' yearly
figures) gives each zone's renewable share and carbon-free share (renewables and nuclear) of the
electricity consumed there. The HTML report shows them for the runs' zones, and the team server's
dashboard for a run's zone: both call ``zone_mix`` and ``runs_mix``. A zone the table does not
have has no mix (said, never 0 %).
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable
from typing import Any, NamedTuple

from ..carbon.tables import DATA


class ZoneMix(NamedTuple):
    zone: str
    renewable_pct: float
    carbon_free_pct: float
    year: int
    source: str
    license: str


@functools.cache
def _table() -> dict[str, ZoneMix]:
    rows = csv.DictReader((DATA / "zone_mix.csv").read_text("utf-8").splitlines())
    return {
        r["zone"]: ZoneMix(
            r["zone"],
            float(r["renewable_pct"]),
            float(r["carbon_free_pct"]),
            int(r["year"]),
            r["source"],
            r["license"],
        )
        for r in rows
    }


def zone_mix(zone: str) -> ZoneMix | None:
    """The zone's mix (``FR``, ``US-CAL-CISO``), or None when the table has no such zone."""
    return _table().get(zone.strip())


def zone_of(zone: str, country_iso3: str) -> str:
    """The zone a run's mix is read for: its intensity zone, else its country's zone (CodeCarbon
    rows name only a country); "" when neither is known."""
    from ..carbon.tables import zone_for_country

    if zone.strip():
        return zone.strip()
    found = zone_for_country(country_iso3) if country_iso3.strip() else None
    return found.key if found else ""


def runs_mix(runs: Iterable[tuple[str, float | None]]) -> dict[str, Any]:
    """The mix of the zones that ``(zone, energy_kwh)`` pairs ran in: per zone its runs, energy
    and shares, and the energy-weighted shares over the runs whose zone has a mix and whose
    energy is known."""
    from ..carbon.tables import zone as zone_row

    per: dict[str, dict[str, Any]] = {}
    for key, kwh in runs:
        entry = per.setdefault(
            key or "", {"zone": key or "", "runs": 0, "energy_kwh": 0.0, "energy_unknown_runs": 0}
        )
        entry["runs"] += 1
        if kwh is None:
            entry["energy_unknown_runs"] += 1
        else:
            entry["energy_kwh"] += kwh
    zones = []
    weighted = {"renewable": 0.0, "carbon_free": 0.0, "kwh": 0.0}
    for key in sorted(per):
        entry = per[key]
        mix = zone_mix(key) if key else None
        found = zone_row(key) if key else None
        entry["name"] = found.name if found else (key or "unknown place")
        if mix is None:
            entry.update(
                renewable_pct=None,
                carbon_free_pct=None,
                year=None,
                source="",
                license="",
                note="no mix for this zone in the tables"
                if key
                else "the runs do not say where they ran",
            )
        else:
            entry.update(
                renewable_pct=mix.renewable_pct,
                carbon_free_pct=mix.carbon_free_pct,
                year=mix.year,
                source=mix.source,
                license=mix.license,
                note="",
            )
            weighted["renewable"] += mix.renewable_pct * entry["energy_kwh"]
            weighted["carbon_free"] += mix.carbon_free_pct * entry["energy_kwh"]
            weighted["kwh"] += entry["energy_kwh"]
        zones.append(entry)
    kwh = weighted["kwh"]
    return {
        "zones": zones,
        "renewable_pct": weighted["renewable"] / kwh if kwh > 0 else None,
        "carbon_free_pct": weighted["carbon_free"] / kwh if kwh > 0 else None,
        "energy_kwh": kwh,
    }
