#!/usr/bin/env python3
"""What the table lookups cost: each carbon table's first load, the CPU/GPU lookups in a fresh
process (import included), and loading the power model.

These were wall-clock assertions in the tests (< 10 ms, < 20 ms, < 5 ms), which a loaded runner
breaks; here they are figures. Each is the best of ``--repeats`` (noise on a shared machine only
adds time) and the median. Run with an interpreter that has wattprint installed:

    .venv/bin/python benchmarks/lookups.py [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

COLD_LOOKUP = """
import json, time
t0 = time.perf_counter()
from wattprint import hardware
t1 = time.perf_counter()
cpu = hardware.find_cpu("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz")
t2 = time.perf_counter()
gpu = hardware.find_gpu("NVIDIA H100 80GB HBM3")
t3 = time.perf_counter()
assert cpu is not None and gpu is not None
print(json.dumps({"import hardware": t1 - t0, "find_cpu (cold)": t2 - t1,
                  "find_gpu (cold)": t3 - t2}))
"""


def _timed(call: Callable[[], object], reset: Callable[[], None], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        reset()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def table_loads(repeats: int) -> dict[str, list[float]]:
    from wattprint.carbon import tables

    def reset(loader: str) -> Callable[[], None]:
        def clear() -> None:
            getattr(tables, loader).cache_clear()
            tables._hourly.cache_clear()

        return clear

    calls = {
        "_zones": lambda: tables.zone("FR"),
        "_cloud": lambda: tables.cloud_region("aws", "us-east-1"),
        "_hourly_rows": lambda: tables.hourly_profile("GB"),
        "_marginal": lambda: tables.marginal("IND"),
        "_tz_zones": lambda: tables.zone_for_timezone("Australia/Sydney"),
    }
    return {f"carbon table {k}": _timed(c, reset(k), repeats) for k, c in calls.items()}


def model_load(repeats: int) -> dict[str, list[float]]:
    from wattprint.estimate import load_model

    return {"power model load": _timed(load_model, load_model.cache_clear, repeats)}


def cold_lookups(repeats: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", COLD_LOOKUP], capture_output=True, text=True, check=True
        )
        for name, seconds in json.loads(done.stdout).items():
            out.setdefault(name, []).append(seconds)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", help="also write the figures (seconds) to this file")
    args = parser.parse_args()
    figures = {
        **table_loads(args.repeats),
        **model_load(args.repeats),
        **cold_lookups(args.repeats),
    }
    print(f"{'what':32} {'best ms':>9} {'median ms':>10}")
    for name, times in figures.items():
        print(f"{name:32} {min(times) * 1000:9.2f} {statistics.median(times) * 1000:10.2f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=2)


if __name__ == "__main__":
    main()
