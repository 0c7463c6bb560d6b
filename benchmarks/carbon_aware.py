"""How much does `wattprint plan` save, planning from a typical day it learned a year earlier?

For every zone with hourly data in ../shared/data (Electricity Maps hourly CSVs via
sustain-cluster; ODbL 1.0), a month x local-hour profile is built from 2023 alone, the way
tools/build_data.py builds the shipped one (mean, 10th and 90th percentile). Jobs of 1, 4 and 8 h
are then "submitted" at random hours of 2024 and scored on 2024's actual hours:

* at once: the job starts when submitted (the random start);
* plan: the start `wattprint.plan` picks within 24 h from the 2023 profile;
* oracle: the best start within the same 24 h, knowing 2024's actual hours.

Per zone and job length it prints the median saving of `plan` against starting at once (in % of
the intensity at once), the share of the oracle's saving that `plan` reaches (sum of plan's
savings / sum of the oracle's), and how often the actual saving fell within plan's bounds.

    .venv/bin/python benchmarks/carbon_aware.py [--shared ../shared/data] [--samples 300]
        [--seed 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from wattprint.carbon import tables  # noqa: E402
from wattprint.carbon.forecasts import profile_forecast  # noqa: E402
from wattprint.carbon.planning import plan  # noqa: E402

UTC = timezone.utc
HOURLY_DIR = "sustain-cluster/data/carbon_intensity"
LCA = "Carbon Intensity gCO₂eq/kWh (LCA)"
JOB_HOURS = (1, 4, 8)
WITHIN_H = 24


def read_zone(folder: Path) -> tuple[str, dict[int, dict[datetime, float]]]:
    """(zone id, {year: {UTC hour: g/kWh}}) from a zone's hourly files."""
    zone = ""
    years: dict[int, dict[datetime, float]] = {}
    for path in sorted(folder.glob("*/*_hourly.csv")):
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                zone = row["Zone Id"].strip()
                stamp = datetime.fromisoformat(row["Datetime (UTC)"]).replace(tzinfo=UTC)
                years.setdefault(stamp.year, {})[stamp] = float(row[LCA])
    return zone, years


def profile_from(hours: dict[datetime, float], zone: str, tz_name: str) -> tables.HourlyProfile:
    """A month x local-hour profile (mean, p10, p90) from one year of hours."""
    tz = ZoneInfo(tz_name)
    cells: dict[tuple[int, int], list[float]] = {}
    for stamp, value in hours.items():
        local = stamp.astimezone(tz)
        cells.setdefault((local.month, local.hour), []).append(value)

    def grid(stat) -> tuple[tuple[float | None, ...], ...]:
        return tuple(
            tuple(stat(cells[(m, h)]) if (m, h) in cells else None for h in range(24))
            for m in range(1, 13)
        )

    def p10(v):
        return statistics.quantiles(v, n=10, method="inclusive")[0] if len(v) > 1 else v[0]

    def p90(v):
        return statistics.quantiles(v, n=10, method="inclusive")[-1] if len(v) > 1 else v[0]

    return tables.HourlyProfile(
        zone,
        tz_name,
        grid(statistics.fmean),
        "2023",
        "lifecycle",
        "2023 hours only (benchmark)",
        "ODbL 1.0",
        0.0,
        grid(p10),
        grid(p90),
    )


def actual_mean(hours: dict[datetime, float], start: datetime, length: int) -> float | None:
    """Mean actual intensity over [start, start + length h); the data's hours are UTC hours, and
    a start at a half hour (India's local hours) takes half of each neighbour."""
    end = start + timedelta(hours=length)
    hour = start.replace(minute=0, second=0, microsecond=0)
    total = 0.0
    while hour < end:
        value = hours.get(hour)
        if value is None:
            return None
        overlap = (min(end, hour + timedelta(hours=1)) - max(start, hour)).total_seconds()
        total += value * overlap
        hour += timedelta(hours=1)
    return total / (length * 3600.0)


def score_zone(
    zone: str, years: dict[int, dict[datetime, float]], samples: int, rng: random.Random
) -> dict[str, dict[str, float]]:
    own = tables.hourly_profile(zone)
    if own is None:
        raise SystemExit(f"{zone}: not in wattprint's hourly table; rebuild the tables first")
    profile = profile_from(years[2023], zone, own.tz)
    actual = years[2024]
    starts = sorted(actual)
    last = starts[-1] - timedelta(hours=WITHIN_H + max(JOB_HOURS))
    pool = [s for s in starts if s <= last]
    picks = [rng.choice(pool) for _ in range(samples)]

    def forecaster(location, start, end):
        return profile_forecast(profile, start, end)

    out = {}
    for length in JOB_HOURS:
        savings, plan_gain, oracle_gain, inside, shared = [], 0.0, 0.0, 0, 0
        for start in picks:
            at_once = actual_mean(actual, start, length)
            chosen = plan(
                f"{length}h",
                within=f"{WITHIN_H}h",
                places=[zone],
                now=start,
                energy_kwh=1.0,
                forecaster=forecaster,
            )
            planned = actual_mean(actual, chosen.best.start, length)
            candidates = [
                actual_mean(actual, start + timedelta(hours=k), length) for k in range(WITHIN_H + 1)
            ]
            oracle = min(c for c in candidates if c is not None)
            if at_once is None or planned is None:
                continue
            savings.append(100.0 * (at_once - planned) / at_once)
            plan_gain += at_once - planned
            oracle_gain += at_once - oracle
            _, low, high = chosen.saving_kg  # per kWh: kg = g/kWh / 1000
            inside += low * 1000 - 1e-9 <= at_once - planned <= high * 1000 + 1e-9
            # What bounds pairing low with low (a shared daily deviation) would have given.
            b, n = chosen.best, chosen.now
            shared += (
                min(n.low - b.low, n.high - b.high) - 1e-9
                <= at_once - planned
                <= max(n.low - b.low, n.high - b.high) + 1e-9
            )
        out[f"{length}h"] = {
            "median_saving_pct": statistics.median(savings),
            "mean_saving_pct": statistics.fmean(savings),
            "share_of_oracle_pct": 100.0 * plan_gain / oracle_gain if oracle_gain else 0.0,
            "oracle_mean_saving_g_per_kwh": oracle_gain / len(savings),
            "plan_mean_saving_g_per_kwh": plan_gain / len(savings),
            "within_bounds_pct": 100.0 * inside / len(savings),
            "within_shared_deviation_bounds_pct": 100.0 * shared / len(savings),
            "jobs": len(savings),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--samples", type=int, default=300, help="random jobs per zone")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    root = args.shared / HOURLY_DIR
    if not root.is_dir():
        parser.error(f"no hourly data at {root}: pass --shared PATH (the raw public data)")
    rng = random.Random(args.seed)
    started = time.monotonic()
    results = {}
    header = f"{'zone':<13}" + "".join(
        f"{f'{h}h median':>11}{'of oracle':>10}{'in bounds':>10}" for h in JOB_HOURS
    )
    print(
        f"{args.samples} jobs per zone submitted at random 2024 hours; plan within {WITHIN_H} h "
        "from a 2023 typical day, scored on 2024's actual hours"
    )
    print(header)
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        zone, years = read_zone(folder)
        if 2023 not in years or 2024 not in years:
            continue
        results[zone] = score_zone(zone, years, args.samples, rng)
        cells = "".join(
            f"{r['median_saving_pct']:>10.1f}%{r['share_of_oracle_pct']:>9.0f}%"
            f"{r['within_bounds_pct']:>9.0f}%"
            for r in results[zone].values()
        )
        print(f"{zone:<13}{cells}", flush=True)
    summary = {}
    for length in JOB_HOURS:
        key = f"{length}h"
        summary[key] = {
            "median_of_zone_medians_pct": statistics.median(
                r[key]["median_saving_pct"] for r in results.values()
            ),
            "median_share_of_oracle_pct": statistics.median(
                r[key]["share_of_oracle_pct"] for r in results.values()
            ),
        }
        print(
            f"{key}: median over zones of the median saving "
            f"{summary[key]['median_of_zone_medians_pct']:.1f}%, median share of the oracle's "
            f"saving {summary[key]['median_share_of_oracle_pct']:.0f}%"
        )
    print(f"({time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"zones": results, "summary": summary}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
