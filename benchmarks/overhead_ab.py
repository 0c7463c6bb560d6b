#!/usr/bin/env python3
"""wattprint against wattprint: the start path and peak memory of two source trees, side by side.

For a change that should not cost (or should win back) start time or memory: run main's tree
and a branch's in the same command, alternated (a, b, then b, a), so that a noisy shared machine
weighs on both alike. Each figure comes from a fresh child running ``overhead.py``'s child
program, with the tree put first on ``PYTHONPATH``:

- start, total, construct: wall ``perf_counter()`` around ``start()``, from before the import
  to after ``start()``, around the constructor (as in overhead.py);
- CPU start, CPU total: the same with ``process_time()``, which a loaded machine disturbs less;
- peak RSS: ``VmHWM`` after import + start + stop minus ``python -c pass``, and after
  ``--duration`` s of sampling + stop minus an idle child (overhead.py's goal: <= 10 MiB).

    git archive main src | tar -x -C /tmp/main   # a checkout of the other tree
    python benchmarks/overhead_ab.py --repeats 7 --duration 3 /tmp/main/src src

Medians, the ratio b/a, and the load average before and after. Standard library only.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIGURES = (
    "start_ms",
    "total_ms",
    "construct_ms",
    "cpu_start_ms",
    "cpu_total_ms",
    "rss_start_mib",
    "rss_sampling_mib",
)


def _overhead() -> object:
    spec = importlib.util.spec_from_file_location("overhead", HERE / "overhead.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["overhead"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _child(ov: object, src: str, mode: str, duration: float, cpu: bool = False) -> dict:
    program = ov.CHILD  # type: ignore[attr-defined]
    if cpu:
        program = program.replace("pc = time.perf_counter", "pc = time.process_time")
    out = tempfile.mkdtemp(prefix="wattprint-ab-")
    env = {k: v for k, v in os.environ.items() if k not in ov.STRIPPED_ENV}  # type: ignore[attr-defined]
    env.update(
        PYTHONPATH=src,
        WATTPRINT_USER_CONFIG=os.path.join(out, "none.ini"),
        HTTP_PROXY=ov.NO_NETWORK,
        HTTPS_PROXY=ov.NO_NETWORK,
    )  # type: ignore[attr-defined]
    argv = [sys.executable, "-c", program, "wattprint", mode, out, "0.1", str(duration)]
    done = subprocess.run(
        argv, cwd=out, env=env, input="go\n", capture_output=True, text=True, timeout=300
    )
    for line in done.stdout.splitlines():
        if line.startswith("@@RESULT "):
            return ast.literal_eval(line[len("@@RESULT ") :])
    raise SystemExit(f"{src} {mode}: no result\n{done.stderr[-2000:]}")


def one(ov: object, src: str, duration: float) -> dict[str, float]:
    bare = _child(ov, src, "pass", duration)
    wall = _child(ov, src, "start", duration)
    cpu = _child(ov, src, "start", duration, cpu=True)
    idle = _child(ov, src, "idle", duration)
    sampling = _child(ov, src, "bg", duration)
    return {
        "start_ms": wall["start_s"] * 1e3,
        "total_ms": wall["total_s"] * 1e3,
        "construct_ms": wall["construct_s"] * 1e3,
        "cpu_start_ms": cpu["start_s"] * 1e3,
        "cpu_total_ms": cpu["total_s"] * 1e3,
        "rss_start_mib": wall["peak_mib"] - bare["peak_mib"],
        "rss_sampling_mib": sampling["peak_mib"] - idle["peak_mib"],
    }


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", help="the first tree's src folder (e.g. main's)")
    p.add_argument("b", help="the second tree's src folder (e.g. this branch's)")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--duration", type=float, default=3.0, help="seconds of sampling (RSS)")
    args = p.parse_args()
    ov = _overhead()
    trees = {"a": str(Path(args.a).resolve()), "b": str(Path(args.b).resolve())}
    load_before = _load()
    values: dict[str, dict[str, list[float]]] = {t: {f: [] for f in FIGURES} for t in trees}
    for i in range(args.repeats):
        for t in ("a", "b") if i % 2 == 0 else ("b", "a"):
            for name, value in one(ov, trees[t], args.duration).items():
                values[t][name].append(value)
    load_after = _load()
    print(
        f"a = {trees['a']}\nb = {trees['b']}\n{args.repeats} repeats, alternated; "
        f"load average before {load_before}, after {load_after}"
    )
    print(f"{'':18s} {'a':>9s} {'b':>9s} {'b/a':>6s}")
    for name in FIGURES:
        a = statistics.median(values["a"][name])
        b = statistics.median(values["b"][name])
        print(f"{name:18s} {a:9.2f} {b:9.2f} {b / a if a else float('nan'):6.2f}")


if __name__ == "__main__":
    main()
