"""``carbon/data/countries.csv``: Ember's annual lifecycle intensity per country (via co2.js),
with ISO codes, plus the world row."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .common import CARBON_DATA, CO2JS_VERSION, Table, csv_text, fixed, read_csv, require
from .timezones import read_iso3166

COUNTRIES_SOURCE = (
    f"Ember Yearly Electricity Data via co2.js {CO2JS_VERSION} (average-intensities.json)"
)
COUNTRIES_LICENSE = "CC BY-SA 4.0"
COUNTRIES_UNIT = "gCO2e/kWh"
COUNTRIES_BASIS = "lifecycle"
COUNTRIES_KIND = "average"
WORLD = ("WLD", "", "World")  # iso3, iso2, name for Ember's "World" entry


def read_ember(shared: Path) -> dict[str, dict]:
    """co2.js average-intensities.json: key (ISO3 or aggregate name) -> entry."""
    with require(shared, "co2js/average-intensities.json").open(encoding="utf-8") as fh:
        return json.load(fh)


def iso2_by_iso3(shared: Path) -> tuple[dict[str, str], list[str]]:
    """ISO3 -> ISO2 from co2.js's countries.csv, with notes on conflicting rows.

    The fixture has a few ISO3 codes on two rows; where they disagree, the row that carries
    an Ember name wins (``CYM``: ``KY`` from "Cayman Islands (the)", not ``CY``, Cyprus's code).
    """
    rows = read_csv(require(shared, "co2js/countries.csv"))
    candidates: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        iso3 = row["country_code_iso_3"].strip()
        if iso3 and row["country_code_iso_2"].strip():
            candidates.setdefault(iso3, []).append(row)
    mapping: dict[str, str] = {}
    notes: list[str] = []
    for iso3, group in sorted(candidates.items()):
        codes = sorted({r["country_code_iso_2"].strip() for r in group})
        if len(codes) == 1:
            mapping[iso3] = codes[0]
            continue
        named = [r for r in group if r["ember_country_name"].strip()]
        chosen = (named or group)[0]["country_code_iso_2"].strip()
        mapping[iso3] = chosen
        notes.append(
            f"countries.csv fixture gives {iso3} the ISO2 codes {', '.join(codes)}; "
            f"kept {chosen} (the row with an Ember name)"
        )
    return mapping, notes


def country_intensities(shared: Path) -> tuple[list[dict], list[str]]:
    """The rows of countries.csv as dicts (value still a float), plus build notes."""
    ember = read_ember(shared)
    iso2_map, notes = iso2_by_iso3(shared)
    rows: list[dict] = []
    skipped_aggregates: list[str] = []
    missing_iso2: list[str] = []
    dropped: list[str] = []
    for key, entry in ember.items():
        iso3 = entry["country_code"].strip()
        value = float(entry["emissions_intensity_gco2_per_kwh"])
        if iso3:
            if not re.fullmatch(r"[A-Z]{3}", iso3) or iso3 != key:
                raise ValueError(f"unexpected country code {iso3!r} under key {key!r}")
            iso2 = iso2_map.get(iso3, "")
            if not iso2:
                missing_iso2.append(iso3)
            row = {"iso3": iso3, "iso2": iso2, "name": entry["country_or_region"].strip()}
        elif entry["country_or_region"] == "World":
            row = dict(zip(("iso3", "iso2", "name"), WORLD, strict=True))
        else:
            skipped_aggregates.append(key)
            continue
        if value <= 0:
            dropped.append(f"{row['iso3']} ({row['name']}, {entry['year']}: {value:g})")
            continue
        row.update(value=value, year=int(entry["year"]))
        rows.append(row)
    if not any(r["iso3"] == WORLD[0] for r in rows):
        raise ValueError("average-intensities.json has no World entry")
    rows.sort(key=lambda r: r["iso3"])
    notes.append(
        f"skipped {len(skipped_aggregates)} Ember aggregates: "
        + ", ".join(sorted(skipped_aggregates))
    )
    notes.append(
        f"{len(missing_iso2)} countries have no ISO2 in co2.js countries.csv"
        + (f": {', '.join(sorted(missing_iso2))}" if missing_iso2 else "")
    )
    if dropped:
        notes.append(
            "dropped non-positive intensities (impossible on a lifecycle basis): "
            + ", ".join(dropped)
        )
    notes.extend(check_iso2(shared, rows))
    return rows, notes


def check_iso2(shared: Path, rows: list[dict]) -> list[str]:
    """Notes on ISO2 codes that are not in ISO 3166 (per tzdata's iso3166.tab) or repeat."""
    iso3166 = read_iso3166(shared)
    notes = []
    unknown = [f"{r['iso2']} ({r['name']})" for r in rows if r["iso2"] and r["iso2"] not in iso3166]
    if unknown:
        notes.append(f"ISO2 codes not in iso3166.tab (user-assigned): {', '.join(unknown)}")
    seen: dict[str, str] = {}
    for r in rows:
        if r["iso2"] and r["iso2"] in seen:
            notes.append(f"ISO2 {r['iso2']} used by both {seen[r['iso2']]} and {r['iso3']}")
        seen.setdefault(r["iso2"], r["iso3"])
    return notes


def build_countries(shared: Path) -> Table:
    rows, notes = country_intensities(shared)
    header = (
        "iso3",
        "iso2",
        "name",
        "intensity_g_per_kwh",
        "unit",
        "year",
        "basis",
        "kind",
        "source",
        "license",
    )
    body = [
        (
            r["iso3"],
            r["iso2"],
            r["name"],
            fixed(r["value"]),
            COUNTRIES_UNIT,
            str(r["year"]),
            COUNTRIES_BASIS,
            COUNTRIES_KIND,
            COUNTRIES_SOURCE,
            COUNTRIES_LICENSE,
        )
        for r in rows
    ]
    years: dict[int, int] = {}
    for r in rows:
        years[r["year"]] = years.get(r["year"], 0) + 1
    notes.append(
        "rows per year: " + ", ".join(f"{y}: {n}" for y, n in sorted(years.items(), reverse=True))
    )
    return Table(f"{CARBON_DATA}/countries.csv", csv_text(header, body), len(body), notes)
