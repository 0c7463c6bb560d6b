"""``carbon/data/zones.csv``: annual intensity per Electricity Maps zone plus eGRID's US states."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .common import (
    CARBON_DATA,
    CO2JS_VERSION,
    CODECARBON_VERSION,
    FACTS,
    Table,
    csv_text,
    require,
    trimmed,
)
from .countries import country_intensities
from .zone_sources import (
    EM_CONTRIB,
    EM_LICENSE,
    INTENSITY_UNIT,
    canonical_tz,
    iso3_by_iso2,
    read_em_yearly,
    read_zone_tab_places,
    read_zones_meta,
)

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
