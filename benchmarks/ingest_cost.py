"""What one ingest batch costs in the server's process, without HTTP: steady on a busy machine.

    .venv/bin/python benchmarks/ingest_cost.py                         # CPU µs a record
    .venv/bin/python benchmarks/ingest_cost.py --instructions          # under valgrind
    .venv/bin/python benchmarks/ingest_cost.py --instructions --src /tmp/base/src  # another tree

Batches of 100 record envelopes (benchmarks/server.py's rows, a new run each) go through the
ingest route's own function (`api.records._post`: token, JSON, checks, rows, run totals,
commit) on a fresh SQLite database. Plain: the thread's CPU time per record, the median of
several rounds. ``--instructions``: the same under valgrind's callgrind, twice with a
different number of batches; the difference per batch is the instructions one batch executes,
the same from run to run whatever else the machine does (CPU time on a shared machine swings
by half; the hash seed is fixed, which random seeds would sway by a few percent). The
database's own work in the kernel (the WAL's writes) is not counted there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WARM = 3


def batches(src: Path, count: int, size: int) -> None:
    """``count`` batches (after WARM unmeasured ones) through ``src``'s route; prints the
    thread CPU µs a record of each round of 10."""
    sys.path.insert(0, str(src))
    from wattprint.server import db  # first: server.py puts this checkout's src on the path
    from wattprint.server.api import records as route

    sys.path.insert(1, str(ROOT / "benchmarks"))
    import server as bench  # benchmarks/server.py: its rows and its database set-up

    assert Path(db.__file__).is_relative_to(src), f"{db.__file__} is not from {src}"

    url = f"sqlite:///{tempfile.mkdtemp()}/ingest.sqlite3"
    _, token = bench.setup(url)
    engine = db.make_engine(url)

    class State:
        sessions = db.session_factory(engine)
        write_lock = db.write_lock(engine)

    bodies = [json.dumps(bench.envelopes(0, b, size, "cost")).encode() for b in range(30)]
    bodies = bodies[: WARM + count]
    for body in bodies[:WARM]:
        route._post(State, token, body)
    times = []
    for start in range(WARM, len(bodies), 10):
        began = time.thread_time()
        for body in bodies[start : start + 10]:
            route._post(State, token, body)
        times.append((time.thread_time() - began) / (len(bodies[start : start + 10]) * size))
    print(json.dumps({"cpu_us_per_record": [round(t * 1e6, 1) for t in times]}))


def instructions(src: Path, size: int, few: int = 1, many: int = 4) -> float:
    """Instructions one batch executes: callgrind's totals with ``many`` and ``few`` batches."""
    totals = []
    for count in (few, many):
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
             __file__, "--run", str(count), "--src", str(src), "--batch-size", str(size)],
            capture_output=True, text=True, check=True,
            # str hashes seeded alike: dicts and sets then take the same steps in each run
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        found = re.search(r"Collected : (\d+)", done.stderr)
        if found is None:
            raise RuntimeError(f"no total from valgrind: {done.stderr[-500:]}")
        totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) / (many - few)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", default=str(ROOT / "src"), help="the src folder to measure")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--instructions", action="store_true", help="count them (valgrind)")
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)  # one measured process
    args = parser.parse_args()
    src = Path(args.src)
    if args.run is not None:
        batches(src, args.run, args.batch_size)
    elif args.instructions:
        per_batch = instructions(src, args.batch_size)
        print(f"{src}: {per_batch / 1e6:.1f} M instructions a batch of {args.batch_size}")
    else:
        out = subprocess.run(
            [sys.executable, __file__, "--run", "20", "--src", str(src)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        rounds = json.loads(out.stdout.splitlines()[-1])["cpu_us_per_record"]
        print(
            f"{src}: {statistics.median(rounds):.0f} µs of CPU a record (rounds {rounds}; "
            f"load average {os.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    main()
