"""``carbon/data/zone_mix.csv``: each Electricity Maps zone's renewable and carbon-free share."""

from __future__ import annotations

from pathlib import Path

from .common import CARBON_DATA, CO2JS_VERSION, Table, csv_text, trimmed
from .zone_sources import EM_LICENSE, read_em_yearly

ZONE_MIX_COLUMNS = ("zone", "renewable_pct", "carbon_free_pct", "unit", "year", "source", "license")


def zone_mix_rows(shared: Path) -> tuple[list[tuple[str, ...]], list[str]]:
    """Each Electricity Maps zone's renewable and carbon-free shares of the electricity it
    consumes, from the latest year that has both: what the HTML report and the dashboard show
    as a zone's energy mix. A share the source leaves out is left out, never taken as 0."""
    years = read_em_yearly(shared)
    body = []
    missing = []
    for key in sorted(set().union(*years.values())):
        found = None
        for year in sorted((y for y, data in years.items() if key in data), reverse=True):
            entry = years[year][key]
            shares = [entry.get(name) or {} for name in ("renewableEnergy", "carbonFreeEnergy")]
            values = [x.get("value") for x in shares]
            if all(isinstance(v, (int, float)) and 0 <= v <= 100 for v in values) and all(
                x.get("unit") == "%" for x in shares
            ):
                found = (year, values)
                break
        if found is None:
            missing.append(key)
            continue
        year, (renewable, carbon_free) = found
        body.append(
            (
                key,
                trimmed(float(renewable), 1),
                trimmed(float(carbon_free), 1),
                "%",
                str(year),
                f"Electricity Maps yearly {year} via co2.js {CO2JS_VERSION}",
                EM_LICENSE,
            )
        )
    notes = [f"{len(body)} zones with both shares; without: {', '.join(missing) or '-'}"]
    return body, notes


def build_zone_mix(shared: Path) -> Table:
    body, notes = zone_mix_rows(shared)
    return Table(f"{CARBON_DATA}/zone_mix.csv", csv_text(ZONE_MIX_COLUMNS, body), len(body), notes)
