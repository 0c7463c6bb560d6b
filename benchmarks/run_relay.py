"""What `wattprint run`'s terminal relay costs a command that prints: the same command on a
pseudo-terminal, alone and under `wattprint run`, and how long `wattprint run -- true` takes.

    .venv/bin/python benchmarks/run_relay.py [--lines 200000] [--repeats 5]

Needs only the standard library and wattprint installed in the interpreter that runs it.
Prints the median wall time of each case; the difference with and without the relay is what
copying the output through wattprint costs (plus wattprint's own start, given by `true`).
"""

from __future__ import annotations

import argparse
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time


def on_pty(args: list[str]) -> float:
    """Wall time of ``args`` with stdin, stdout and stderr on a fresh pseudo-terminal whose
    output is read as fast as it comes."""
    master, slave = os.openpty()
    started = time.perf_counter()
    proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                if not os.read(master, 1 << 16):
                    break
            except OSError:
                break
        elif proc.poll() is not None:
            break
    proc.wait()
    took = time.perf_counter() - started
    os.close(master)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    opts = parser.parse_args()
    child = [sys.executable, "-c", f"for i in range({opts.lines}): print('line', i, 'x' * 60)"]
    out = tempfile.mkdtemp(prefix="wattprint-relay-")
    wrapped = [sys.executable, "-m", "wattprint", "run", "--country", "FRA", "--output-dir", out]
    cases = {
        "alone": child,
        "under wattprint run": [*wrapped, "--", *child],
        "wattprint run -- true": [*wrapped, "--", "true"],
    }
    for name, args in cases.items():
        times = [on_pty(args) for _ in range(opts.repeats)]
        print(
            f"{name:<24} median {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}, n={len(times)})"
        )
    print(f"{opts.lines} lines of 72 bytes; rows in {out}")


if __name__ == "__main__":
    main()
