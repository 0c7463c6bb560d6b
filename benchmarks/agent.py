"""What the host agent (``wattprint monitor --per ...``) costs, beside plain ``monitor``.

With N sleeping processes spawned on the node (default: 100 and 1,000), it measures on this
machine's real /proc:

- per interval, the CPU time of one agent step (read the meters, one pass over /proc, the
  split), against one plain monitor tick (read the meters);
- per scrape, the CPU time of serving /metrics (the scrape runs in this process, so the figure
  includes the client side of one local HTTP request; it is an upper bound);
- the share of one core both take at a 5 s interval (step CPU / 5 s).

    .venv/bin/python benchmarks/agent.py [--counts 100 1000] [--steps 20] [--per process]

Figures are medians over ``--steps`` steps (CPU time of the whole process, ``time.process_time``,
so the sampler thread's own work is included). Nothing here is asserted by the tests.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu(fn, repeats: int) -> float:
    """Median CPU seconds of ``fn``."""
    samples = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        samples.append(time.process_time() - t)
    return statistics.median(samples)


def measure(count: int, steps: int, per: str) -> dict[str, float]:
    from wattprint.agent.loop import Agent
    from wattprint.tracker import Tracker

    sleepers = [subprocess.Popen(["sleep", "600"]) for _ in range(count)]
    try:
        time.sleep(0.5)
        options = {"country": "FRA", "interval_s": 3600, "save_csv": False, "log_level": "error"}
        plain = Tracker(**options).start()
        tick = _cpu(plain.peek, steps)
        plain.stop()
        port = _free_port()
        agent = Agent(per, options, port).start()
        try:
            step = _cpu(agent.step, steps)
            url = f"http://127.0.0.1:{port}/metrics"
            scrape = _cpu(lambda: urllib.request.urlopen(url, timeout=10).read(), steps)
            processes = agent.processes
        finally:
            agent.stop()
    finally:
        for p in sleepers:
            p.kill()
        for p in sleepers:
            p.wait()
    return {
        "spawned": count,
        "processes_seen": processes,
        "monitor_tick_ms": tick * 1e3,
        "agent_step_ms": step * 1e3,
        "scrape_ms": scrape * 1e3,
        "monitor_core_percent_at_5s": 100 * tick / 5.0,
        "agent_core_percent_at_5s": 100 * step / 5.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--per", default="process")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    rows = [measure(n, args.steps, args.per) for n in args.counts]
    head = (
        "spawned",
        "seen",
        "monitor tick ms",
        "agent step ms",
        "scrape ms",
        "monitor % core @5s",
        "agent % core @5s",
    )
    print(" | ".join(head))
    for r in rows:
        figures = ("monitor_tick_ms", "agent_step_ms", "scrape_ms")
        shares = ("monitor_core_percent_at_5s", "agent_core_percent_at_5s")
        cells = [
            r["spawned"],
            r["processes_seen"],
            *(f"{r[k]:.2f}" for k in figures),
            *(f"{r[k]:.3f}" for k in shares),
        ]
        print(" | ".join(str(c) for c in cells))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
