"""``carbon/data/hourly_profiles.csv``: mean intensity per zone, month and local hour, with
the 10th/90th percentiles of the hours behind each mean."""

from __future__ import annotations

import csv
from datetime import datetime, timezone
from pathlib import Path

from .common import CARBON_DATA, Table, csv_text, decile_bounds, fixed, year_span
from .zone_sources import EM_LICENSE, canonical_tz, read_zones_meta

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


def build_hourly_profiles(shared: Path) -> Table:
    # One row per zone and month with the 24 local hours as columns: the same facts as a row
    # per hour, in a tenth of the bytes (the tracker reads this at start). The p10/p90 columns
    # are the spread of the hours behind each mean: the bounds of a typical-day forecast.
    profiles, notes = hourly_profiles(shared)
    hours = tuple(f"h{hour:02d}" for hour in range(24))
    p10 = tuple(f"p10_h{hour:02d}" for hour in range(24))
    p90 = tuple(f"p90_h{hour:02d}" for hour in range(24))
    header = (
        "zone",
        "month",
        *hours,
        *p10,
        *p90,
        "unit",
        "samples",
        "estimated_pct",
        "years",
        "tz",
        "basis",
        "source",
        "license",
    )
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
                )
            )
        notes.append(
            f"{zone} ({p['tz']}, {years}): {total} samples, {100 * estimated_all / total:.0f}% "
            f"estimated; hourly means {min(means):.1f}-{max(means):.1f} g/kWh"
        )
    return Table(f"{CARBON_DATA}/hourly_profiles.csv", csv_text(header, body), len(body), notes)
