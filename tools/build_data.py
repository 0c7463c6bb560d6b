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

``src/wattprint/meters/data/cpu_tdp.csv``
    CPU model name to thermal design power in watts, from CodeCarbon's ``cpu_power.csv``
    (scraped from Intel ARK and AMD product pages). An interim table.

``src/wattprint/carbon/data/DATA_LICENSES.md``
    Sources, licenses and required attribution for the tables above.

Adding a table: write a ``build_<name>(shared) -> Table`` function and add it to ``BUILDERS``.
The license notes are written last from the tables built before them.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared" / "data"

CARBON_DATA = "src/wattprint/carbon/data"
METERS_DATA = "src/wattprint/meters/data"

# Versions of the upstream packages the raw files were copied from (see shared/data/SOURCES.md).
CO2JS_VERSION = "0.19.0"
CODECARBON_VERSION = "3.3.2"


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
    return "\n".join(lines)


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
        place = LEGACY_SUCCESSORS.get(name, name)
        seen = set()
        while place not in zone_tab and place in links and place not in seen:
            seen.add(place)
            place = links[place]
        country = zone_tab.get(place)
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
# cpu_tdp.csv

CPU_SOURCE = f"Intel ARK / AMD product pages via CodeCarbon {CODECARBON_VERSION} cpu_power.csv"
CPU_LICENSE = "MIT (CodeCarbon compilation); vendor figures"
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def clean_model(name: str) -> str:
    """Strip whitespace, drop zero-width characters and collapse runs of spaces (NBSP too)."""
    return " ".join(name.translate(_INVISIBLE).split())


def build_cpu_tdp(shared: Path) -> Table:
    rows = read_csv(require(shared, "codecarbon/hardware/cpu_power.csv"))
    kept: dict[str, float] = {}
    cleaned = 0
    bad: list[str] = []
    duplicates = 0
    conflicts: list[str] = []
    for row in rows:
        raw = row["Name"]
        model = clean_model(raw)
        cleaned += model != raw
        tdp_text = (row["TDP"] or "").strip()
        if not model or not re.fullmatch(r"\d+(\.\d+)?", tdp_text) or float(tdp_text) <= 0:
            bad.append(f"{model!r}={tdp_text!r}")
            continue
        tdp = float(tdp_text)
        if model in kept:
            duplicates += 1
            if kept[model] != tdp:
                conflicts.append(f"{model}: kept {trimmed(kept[model])}, dropped {trimmed(tdp)}")
            continue
        kept[model] = tdp
    body = [
        (model, trimmed(tdp), CPU_SOURCE, CPU_LICENSE)
        for model, tdp in sorted(kept.items(), key=lambda kv: (kv[0].casefold(), kv[0]))
    ]
    folded: dict[str, list[str]] = {}
    for model in kept:
        folded.setdefault(model.casefold(), []).append(model)
    notes = [
        f"{len(rows)} rows read; {cleaned} names had stray whitespace or zero-width characters",
        f"dropped {len(bad)} rows without a positive numeric TDP: {', '.join(bad)}",
        f"{duplicates} duplicate names after cleaning, {len(conflicts)} with a different TDP"
        + (f": {'; '.join(conflicts)}" if conflicts else ""),
    ]
    case_only = [" / ".join(v) for v in folded.values() if len(v) > 1]
    if case_only:
        notes.append(f"names that differ only in case (both kept): {'; '.join(case_only)}")
    text = csv_text(("model", "tdp_w", "source", "license"), body)
    return Table(f"{METERS_DATA}/cpu_tdp.csv", text, len(body), notes)


# ------------------------------------------------------------------------------------------
# DATA_LICENSES.md


def build_data_licenses(shared: Path, tables: dict[str, Table]) -> Table:
    countries = tables[f"{CARBON_DATA}/countries.csv"]
    timezones = tables[f"{CARBON_DATA}/timezones.csv"]
    cpus = tables[f"{METERS_DATA}/cpu_tdp.csv"]
    release, _, _ = read_tzdata_zi(shared)
    years = sorted({int(r["year"]) for r in csv.DictReader(io.StringIO(countries.text))})
    codecarbon_notice = "\n".join(
        line
        for line in require(shared, "codecarbon/LICENSE").read_text("utf-8").splitlines()
        if line.startswith("Copyright")
    )
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

## meters/data/cpu_tdp.csv

CPU model name to thermal design power (TDP) in watts. {cpus.rows} rows. An interim table.

- **Source:** CodeCarbon {CODECARBON_VERSION}, `codecarbon/data/hardware/cpu_power.csv`, compiled
  by CodeCarbon from Intel ARK and AMD product pages. TDP figures are the vendors'
  specifications.
- **License:** MIT (the CodeCarbon compilation). The vendors' web terms apply to their pages;
  the figures are facts and are reproduced as such.
- **Attribution to give:** the MIT notice below, kept with any copy of the table.

```
{codecarbon_notice}

Permission is hereby granted, free of charge, to any person obtaining a copy
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
SOFTWARE.
```
"""
    return Table(f"{CARBON_DATA}/DATA_LICENSES.md", text)


# ------------------------------------------------------------------------------------------
# driver

BUILDERS: list[Callable[[Path], Table]] = [build_countries, build_timezones, build_cpu_tdp]


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
