"""``--crosscheck``: compares the country intensities with the OWID-derived copies in other
projects' data (prints, writes nothing)."""

from __future__ import annotations

import json
from pathlib import Path

from .cloud import cloud_region_rows
from .common import CO2JS_VERSION, CODECARBON_VERSION, read_csv, require, year_span
from .countries import WORLD, country_intensities
from .hourly import hourly_profiles
from .zones import zone_table_rows


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
