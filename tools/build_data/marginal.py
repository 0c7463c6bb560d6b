"""``carbon/data/marginal.csv``: operating-margin factor per country (UNFCCC/IFI 2021, via
co2.js)."""

from __future__ import annotations

import json
from pathlib import Path

from .common import CARBON_DATA, CO2JS_VERSION, Table, csv_text, require, trimmed

MARGINAL_FILE = "co2js/marginal-intensities-2021.json"
MARGINAL_FIELD = "Operating Margin Grid Emission"
MARGINAL_SOURCE = (
    f"UNFCCC/IFI Harmonized Grid Emission Factors v3.1 (2021) via co2.js {CO2JS_VERSION}"
)
MARGINAL_LICENSE = "CC BY-SA 4.0"
# Entries co2.js joined to another place's ISO codes; their factor is not that place's.
MARGINAL_MISJOINED = {
    "Canary Islands (Spain)": "part of Spain, joined to the Cayman Islands' KY/CYM",
}


def build_marginal(shared: Path) -> Table:
    with require(shared, MARGINAL_FILE).open(encoding="utf-8") as fh:
        data = json.load(fh)
    kept: dict[str, float] = {}
    skipped = []
    parts = []
    zeros = []
    for name, entry in sorted(data.items()):
        iso3 = entry["country_code_iso_3"].strip()
        if name in MARGINAL_MISJOINED:
            parts.append(f"{name} ({iso3}: {MARGINAL_MISJOINED[name]})")
            continue
        if not iso3:
            skipped.append(name)
            continue
        if iso3 in kept:
            raise ValueError(f"{MARGINAL_FILE}: {iso3} appears twice")
        value = float(entry[MARGINAL_FIELD])
        if value == 0:
            zeros.append(iso3)
        kept[iso3] = value
    body = [
        (
            iso3,
            trimmed(value),
            "gCO2/kWh",
            "2021",
            "direct",
            "marginal",
            MARGINAL_SOURCE,
            MARGINAL_LICENSE,
        )
        for iso3, value in sorted(kept.items())
    ]
    notes = [
        f"{len(body)} countries; skipped entries without ISO3: {', '.join(skipped) or '-'}",
        f"skipped entries joined to the wrong ISO code: {', '.join(parts) or '-'}",
        f"operating margin 0 (no fossil plant on the margin): {', '.join(zeros) or '-'}",
    ]
    header = (
        "iso3",
        "operating_margin_g_per_kwh",
        "unit",
        "year",
        "basis",
        "kind",
        "source",
        "license",
    )
    return Table(f"{CARBON_DATA}/marginal.csv", csv_text(header, body), len(body), notes)
