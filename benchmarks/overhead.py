#!/usr/bin/env python3
"""How much wattprint costs the program it measures, side by side with CodeCarbon.

Every figure is taken in a fresh child process, repeated ``--repeats`` times, and reported as the
median with its interquartile range. The tools take turns (a, b, then b, a on the next repeat) so
that a noisy shared machine affects both alike. Figures:

1. import time: ``time.perf_counter()`` around the import inside the child (no interpreter start
   noise); also the child's wall time minus that of ``python -c pass``, and the cumulative
   ``-X importtime`` of the modules the import loaded.
2. import + construct + first ``start()``: ``perf_counter()`` from before the import to after
   ``start()`` returns.
3. background CPU: the tracker samples every ``--interval`` s (and, in a second child, every 1 s)
   while the main thread sleeps ``--duration`` s; the process CPU time over that window, minus
   that of an idle child, divided by the samples the tracker actually took.
4. peak memory: ``ru_maxrss`` at the end of the child minus that of an idle child of the same
   interpreter.

Run ``python benchmarks/overhead.py --help``; benchmarks/README.md explains each figure.
This script uses the standard library only; the children import only the tool they measure.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CODECARBON_VERSION = "3.3.2"
TOOLS = ("wattprint", "codecarbon")
SETTLE_S = 0.5  # quiet time between the last child being ready and the window opening

# Environment variables that would change what a child measures; removed from every child.
STRIPPED_ENV = (
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONPROFILEIMPORTTIME",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONTRACEMALLOC",
    "PYTHONDEVMODE",
    "PYTHONMALLOC",
    "PYTHONWARNINGS",
    "PYTHONVERBOSE",
    "PYTHONINSPECT",
)
# Any HTTP(S) request a child might make goes to a closed local port and fails at once.
NO_NETWORK = "http://127.0.0.1:9"

# The program every child runs: ``python -c CHILD tool mode out_dir interval duration``.
# It prints ``@@RESULT {...}`` (a Python literal; no json import to skew memory) at the end,
# and, for the background modes, ``@@READY`` before waiting for "go" on stdin.
CHILD = r"""
import sys, time
try:
    import resource
except ImportError:
    resource = None
tool, mode, out = sys.argv[1], sys.argv[2], sys.argv[3]
interval, duration = float(sys.argv[4]), float(sys.argv[5])
pc = time.perf_counter
res = {}

def peak_mib():
    # VmHWM: this process's own peak. ru_maxrss is not: on Linux a child's ru_maxrss starts at
    # the peak of the parent it was forked from (the benchmark, tens of MiB), hiding small costs.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    if resource is None:
        return None
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1048576 if sys.platform == "darwin" else r / 1024

def mark(name):
    sys.stderr.write("@@MARK " + name + "\n")
    sys.stderr.flush()

if mode == "pass":
    t0 = pc(); t1 = pc()
    res["import_s"] = t1 - t0
elif mode == "pkg":
    if tool == "wattprint":
        t0 = pc(); import wattprint; t1 = pc()
    else:
        t0 = pc(); import codecarbon; t1 = pc()
    res["import_s"] = t1 - t0
elif mode == "api":
    if tool == "wattprint":
        t0 = pc(); from wattprint import Tracker; t1 = pc()
    else:
        t0 = pc(); from codecarbon import OfflineEmissionsTracker; t1 = pc()
    res["import_s"] = t1 - t0
elif mode == "importtime":
    mark("pkg")
    if tool == "wattprint":
        import wattprint
        mark("api")
        from wattprint import Tracker
    else:
        import codecarbon
        mark("api")
        from codecarbon import OfflineEmissionsTracker
    mark("end")
elif mode == "start":
    if tool == "wattprint":
        t0 = pc()
        from wattprint import Tracker
        t1 = pc()
        tracker = Tracker(project_name="bench", country="FRA", output_dir=out)
        t2 = pc()
        tracker.start()
        t3 = pc()
    else:
        t0 = pc()
        from codecarbon import OfflineEmissionsTracker
        t1 = pc()
        tracker = OfflineEmissionsTracker(
            country_iso_code="FRA", output_dir=out, save_to_file=True, log_level="error"
        )
        t2 = pc()
        tracker.start()
        t3 = pc()
    tracker.stop()
    t4 = pc()
    res.update(import_s=t1 - t0, construct_s=t2 - t1, start_s=t3 - t2, total_s=t3 - t0,
               stop_s=t4 - t3)
elif mode in ("idle", "bg"):
    if mode == "idle":
        def count():
            return 0
    elif tool == "wattprint":
        import os
        from wattprint import Tracker
        tracker = Tracker(project_name="bench", country="FRA", interval_s=interval,
                          output_dir=out)
        tracker.start()
        # "<run_id>.running.jsonl" while the run goes on.
        journal = os.path.join(out, ".wattprint", str(tracker.run_id) + ".running.jsonl")

        def count():
            with open(journal, encoding="utf-8") as f:
                return sum('"type":"interval"' in line for line in f)
    else:
        from codecarbon import OfflineEmissionsTracker
        from codecarbon.emissions_tracker import BaseEmissionsTracker
        calls = {"measure": 0, "monitor": 0}
        measure = BaseEmissionsTracker._measure_power_and_energy
        monitor = BaseEmissionsTracker._monitor_power

        def counted_measure(self, *a, **k):
            calls["measure"] += 1
            return measure(self, *a, **k)

        def counted_monitor(self, *a, **k):
            calls["monitor"] += 1
            return monitor(self, *a, **k)

        BaseEmissionsTracker._measure_power_and_energy = counted_measure
        BaseEmissionsTracker._monitor_power = counted_monitor
        tracker = OfflineEmissionsTracker(
            country_iso_code="FRA", output_dir=out, save_to_file=True, log_level="error",
            measure_power_secs=interval,
        )
        tracker.start()

        def count():
            return calls["measure"]
    print("@@READY", flush=True)
    sys.stdin.readline()
    n0 = count()
    c0, w0 = time.process_time(), pc()
    time.sleep(duration)
    c1, w1 = time.process_time(), pc()
    n1 = count()
    if mode == "bg":
        tracker.stop()
        if tool == "codecarbon":
            res["monitor_calls"] = calls["monitor"]
    res.update(cpu_s=c1 - c0, window_s=w1 - w0, samples=n1 - n0)
elif mode == "probe":
    if tool == "wattprint":
        import wattprint as m
    else:
        import codecarbon as m
    res.update(version=getattr(m, "__version__", "?"), file=m.__file__, python=sys.version)
res["peak_mib"] = peak_mib()
print("@@RESULT " + repr(res), flush=True)
"""


# -- running children ---------------------------------------------------------------------------


@dataclass
class Tool:
    name: str
    python: str
    env: dict[str, str]
    version: str = "?"
    where: str = ""


@dataclass
class Outcome:
    result: dict[str, Any] | None
    wall_s: float
    stderr: str
    error: str | None = None


@dataclass
class Bench:
    tools: list[Tool]
    root: Path
    duration_s: float
    interval_s: float
    verbose: bool = False
    seq: int = 0
    failures: list[str] = field(default_factory=list)

    def _dir(self, tag: str) -> Path:
        self.seq += 1
        d = self.root / f"{self.seq:05d}-{tag}"
        d.mkdir()
        return d

    def _argv(self, tool: Tool, mode: str, out: Path, interval: float, x: list[str]) -> list[str]:
        return [
            tool.python,
            *x,
            "-c",
            CHILD,
            tool.name,
            mode,
            str(out),
            str(interval),
            str(self.duration_s),
        ]

    def run(self, tool: Tool, mode: str, importtime: bool = False) -> Outcome:
        """One child, start to finish; its wall time includes interpreter start and exit."""
        out = self._dir(f"{tool.name}-{mode}")
        env = dict(tool.env, WATTPRINT_USER_CONFIG=str(out / "no-user-config.ini"))
        x = ["-X", "importtime"] if importtime else []
        argv = self._argv(tool, mode, out, self.interval_s, x)
        err_path = out / "stderr.txt"
        with open(err_path, "w") as err:
            t0 = time.perf_counter()
            proc = subprocess.run(
                argv,
                cwd=out,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                timeout=300,
            )
            wall = time.perf_counter() - t0
        stderr = err_path.read_text(errors="replace")
        return self._outcome(tool, mode, proc.returncode, proc.stdout, stderr, wall)

    def _outcome(
        self, tool: Tool, mode: str, rc: int | None, stdout: str, stderr: str, wall: float
    ) -> Outcome:
        result = None
        for line in stdout.splitlines():
            if line.startswith("@@RESULT "):
                result = ast.literal_eval(line[len("@@RESULT ") :])
        error = None
        if rc != 0 or result is None:
            tail = "\n    ".join(stderr.strip().splitlines()[-6:])
            error = f"{tool.name} {mode}: exit status {rc}, no result\n    {tail}"
            self.failures.append(error)
            print(f"  ! {error}", file=sys.stderr)
        return Outcome(result, wall, stderr, error)

    def run_together(self, jobs: list[tuple[Tool, str, float]]) -> list[Outcome]:
        """Background children: all set up, then all measure the same window, then all stop.

        Each child starts its tracker, says ``@@READY`` and waits; once every child is ready (and
        SETTLE_S has passed, so no one's start-up burst overlaps the window) each gets "go",
        sleeps ``duration_s`` and reports its process CPU time over that window.
        """
        procs = []
        for tool, mode, interval in jobs:
            out = self._dir(f"{tool.name}-{mode}-{interval:g}")
            env = dict(tool.env, WATTPRINT_USER_CONFIG=str(out / "no-user-config.ini"))
            err = open(out / "stderr.txt", "w")  # closed below
            proc = subprocess.Popen(
                self._argv(tool, mode, out, interval, []),
                cwd=out,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
            lines: queue.Queue[str | None] = queue.Queue()
            reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
            reader.start()
            procs.append((tool, mode, proc, err, out, lines, reader, time.perf_counter()))
        stdout: dict[int, list[str]] = {i: [] for i in range(len(procs))}
        deadline = time.monotonic() + 300
        for i, (_, _, proc, *_rest) in enumerate(procs):
            lines = procs[i][5]
            while True:
                try:
                    line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    proc.kill()
                    break
                if line is None:
                    break
                stdout[i].append(line)
                if line.startswith("@@READY"):
                    break
        time.sleep(SETTLE_S)
        for _, _, proc, *_rest in procs:
            try:
                proc.stdin.write("go\n")
                proc.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
        outcomes = []
        for i, (tool, mode, proc, err, out, lines, reader, t0) in enumerate(procs):
            try:
                rc = proc.wait(timeout=self.duration_s + 300)
            except subprocess.TimeoutExpired:
                proc.kill()
                rc = proc.wait()
            wall = time.perf_counter() - t0
            reader.join(timeout=10)
            while True:
                try:
                    line = lines.get_nowait()
                except queue.Empty:
                    break
                if line is not None:
                    stdout[i].append(line)
            err.close()
            stderr = (out / "stderr.txt").read_text(errors="replace")
            outcomes.append(self._outcome(tool, mode, rc, "".join(stdout[i]), stderr, wall))
        return outcomes


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def importtime_split(stderr: str) -> dict[str, Any]:
    """Cumulative -X importtime (ms) of the top-level imports between the child's markers."""
    section = None
    totals = {"pkg": 0.0, "api": 0.0}
    selfs: list[tuple[float, str]] = []
    for line in stderr.splitlines():
        if line.startswith("@@MARK "):
            section = line.split()[1]
            continue
        if section not in totals or not line.startswith("import time:"):
            continue
        parts = line.split("|")
        if len(parts) < 3 or not parts[1].strip().isdigit():
            continue  # the header line
        self_us, cum_us, name = int(parts[0].split(":")[1]), int(parts[1]), parts[2]
        level = (len(name) - len(name.lstrip()) - 1) // 2
        if level == 0:
            totals[section] += cum_us / 1000
        selfs.append((self_us / 1000, name.strip()))
    selfs.sort(reverse=True)
    return {"pkg_ms": totals["pkg"], "api_ms": totals["pkg"] + totals["api"], "top": selfs[:12]}


# -- statistics and the table -------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, float] | None:
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    if len(vals) == 1:
        q1 = q3 = vals[0]
    else:
        q1, _, q3 = statistics.quantiles(vals, n=4, method="inclusive")
    return {"median": statistics.median(vals), "q1": q1, "q3": q3, "n": len(vals)}


def fmt(x: float) -> str:
    a = abs(x)
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def cell(s: dict[str, float] | None, unit: str) -> str:
    if s is None:
        return "n/a"
    unit = f" {unit}" if unit else ""
    return f"{fmt(s['median'])}{unit} ({fmt(s['q1'])}–{fmt(s['q3'])})"


# metric key, label, unit, goal for wattprint (None: no goal)
ROWS: list[tuple[str, str, str, float | None]] = [
    ("import_pkg", "import time, `import <pkg>` (in-process)", "ms", 20.0),
    ("import_api", "import time, public API¹ (in-process)", "ms", 20.0),
    ("import_pkg_wall", "import time, `import <pkg>` (child wall − `python -c pass`)", "ms", None),
    ("import_api_wall", "import time, public API¹ (child wall − `python -c pass`)", "ms", None),
    ("importtime_api", "import time, public API¹ (`-X importtime` cumulative)", "ms", None),
    ("start_total", "import + construct + first start()", "ms", 60.0),
    ("start_construct", "  of which: constructor", "ms", None),
    ("start_start", "  of which: start()", "ms", None),
    ("stop", "stop() after that start (not a goal)", "ms", None),
    ("bg_ms_per_sample", "background CPU per sample, interval {iv} s", "ms", 0.5),
    ("bg_samples", "samples taken in the {d} s window, interval {iv} s", "", None),
    ("bg_ms_per_sample_1s", "background CPU per sample, interval 1 s", "ms", None),
    ("bg_pct_1s", "background CPU at a 1 s interval (% of one core)", "%", 0.05),
    ("mem_peak", "peak RSS after {d} s sampling + stop() − idle child", "MiB", 10.0),
    ("mem_start", "peak RSS after import + start() + stop() − `python -c pass`", "MiB", None),
]

PUBLISHED = (
    "Published CodeCarbon figures for reference: import ~100–155 ms, construct + start "
    "1.7–1.9 s, 2.3–5.6 ms of CPU per sample, +75 MiB."
)


def table(stats: dict[str, dict[str, Any]], tools: list[str], d: float, iv: float) -> str:
    head = ["metric", *tools]
    if "codecarbon" in tools:
        head.append("ratio (codecarbon ÷ wattprint)")
    head.append("wattprint goal")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, label, unit, goal in ROWS:
        row = [label.format(d=f"{d:g}", iv=f"{iv:g}")]
        for t in tools:
            row.append(cell(stats[t].get(key), unit))
        if "codecarbon" in tools:
            w, c = stats["wattprint"].get(key), stats["codecarbon"].get(key)
            ok = w and c and w["median"] > 0 and key != "bg_samples"
            row.append(f"×{c['median'] / w['median']:.1f}" if ok else "")
        if goal is None:
            row.append("")
        else:
            w = stats["wattprint"].get(key)
            verdict = "n/a" if w is None else ("PASS" if w["median"] <= goal else "FAIL")
            row.append(f"≤ {goal:g} {unit}: **{verdict}**")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


# -- the benchmark ------------------------------------------------------------------------------


def child_env(extra_pythonpath: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in STRIPPED_ENV and not k.startswith(("WATTPRINT_", "CODECARBON_"))
    }
    for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        env[k] = NO_NETWORK
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    if extra_pythonpath:
        old = os.environ.get("PYTHONPATH")
        env["PYTHONPATH"] = extra_pythonpath + (os.pathsep + old if old else "")
    return env


def venv_python(folder: Path) -> Path:
    if os.name == "nt":
        return folder / "Scripts" / "python.exe"
    return folder / "bin" / "python"


def setup_codecarbon(folder: Path) -> str:
    python = venv_python(folder)
    if not python.exists():
        print(f"creating a virtual environment in {folder}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    check = subprocess.run(
        [str(python), "-c", "import codecarbon; print(codecarbon.__version__)"],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0 or check.stdout.strip() != CODECARBON_VERSION:
        print(f"installing codecarbon=={CODECARBON_VERSION} into {folder}", file=sys.stderr)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"codecarbon=={CODECARBON_VERSION}"],
            check=True,
        )
    return str(python)


def one_repeat(bench: Bench, order: list[Tool], raw: dict[str, dict[str, list]], mode: str):
    def add(tool: Tool, key: str, value: float | None) -> None:
        raw[tool.name].setdefault(key, []).append(value)

    base: dict[str, Outcome] = {}
    for tool in order:
        base[tool.name] = bench.run(tool, "pass")
    for kind in ("pkg", "api"):
        for tool in order:
            o = bench.run(tool, kind)
            b = base[tool.name]
            if o.result:
                add(tool, f"import_{kind}", o.result["import_s"] * 1000)
                if b.result:
                    add(tool, f"import_{kind}_wall", (o.wall_s - b.wall_s) * 1000)
    for tool in order:
        o = bench.run(tool, "importtime", importtime=True)
        if o.result:
            split = importtime_split(o.stderr)
            add(tool, "importtime_pkg", split["pkg_ms"])
            add(tool, "importtime_api", split["api_ms"])
            raw[tool.name]["_importtime_top"] = split["top"]
    for tool in order:
        o = bench.run(tool, "start")
        b = base[tool.name]
        if o.result:
            r = o.result
            add(tool, "start_total", r["total_s"] * 1000)
            add(tool, "start_import", r["import_s"] * 1000)
            add(tool, "start_construct", r["construct_s"] * 1000)
            add(tool, "start_start", r["start_s"] * 1000)
            add(tool, "stop", r["stop_s"] * 1000)
            if b.result and r["peak_mib"] is not None:
                add(tool, "mem_start", r["peak_mib"] - b.result["peak_mib"])

    jobs = []
    for tool in order:
        jobs += [(tool, "idle", bench.interval_s), (tool, "bg", bench.interval_s)]
        jobs.append((tool, "bg", 1.0))
    if mode == "together":
        outcomes = bench.run_together(jobs)
    else:
        outcomes = [bench.run_together([job])[0] for job in jobs]
    for i, tool in enumerate(order):
        idle, fast, slow = outcomes[3 * i : 3 * i + 3]
        if not (idle.result and fast.result and slow.result):
            continue
        idle_cpu = idle.result["cpu_s"] / idle.result["window_s"]  # CPU s per s of window
        for key, o in (("", fast), ("_1s", slow)):
            r = o.result
            cpu = r["cpu_s"] - idle_cpu * r["window_s"]
            add(tool, f"bg_samples{key}", r["samples"])
            add(tool, f"bg_cpu_s{key}", cpu)
            if r["samples"]:
                add(tool, f"bg_ms_per_sample{key}", cpu / r["samples"] * 1000)
            if key == "_1s":
                add(tool, "bg_pct_1s", 100 * cpu / r["window_s"])
            if "monitor_calls" in r:
                add(tool, f"bg_monitor_calls{key}", r["monitor_calls"])
        if fast.result["peak_mib"] is not None:
            add(tool, "mem_peak", fast.result["peak_mib"] - idle.result["peak_mib"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--wattprint-python",
        help="interpreter with wattprint (default: this one, "
        "with <repo>/src first on PYTHONPATH so the checkout is measured)",
    )
    cc = p.add_mutually_exclusive_group()
    cc.add_argument("--codecarbon-python", help="interpreter with codecarbon installed")
    cc.add_argument(
        "--setup-codecarbon",
        metavar="DIR",
        type=Path,
        help=f"create a venv in DIR with codecarbon=={CODECARBON_VERSION} "
        "(reuses it if already there) and compare against it",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=15,
        help="fresh children per figure and tool (default: %(default)s)",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds the main thread sleeps while the tracker samples (default: %(default)s)",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=0.1,
        help="sampling interval (s) of the per-sample CPU figure (default: %(default)s)",
    )
    p.add_argument(
        "--background",
        choices=("together", "sequential"),
        default="together",
        help="run a repeat's background children side by side, all measuring the same "
        "window (default), or one after another",
    )
    p.add_argument("--json", type=Path, metavar="OUT", help="write raw values and summary here")
    p.add_argument("--keep", action="store_true", help="keep the children's output folders")
    args = p.parse_args(argv)
    if args.repeats < 1 or args.duration <= 0 or args.interval <= 0:
        p.error("--repeats, --duration and --interval must be positive")

    if args.wattprint_python:
        wp = Tool("wattprint", args.wattprint_python, child_env(None))
    else:
        wp = Tool("wattprint", sys.executable, child_env(str(REPO / "src")))
    tools = [wp]
    cc_python = args.codecarbon_python
    if args.setup_codecarbon:
        cc_python = setup_codecarbon(args.setup_codecarbon.resolve())
    if cc_python:
        tools.append(Tool("codecarbon", cc_python, child_env(None)))
    else:
        print(
            "no --codecarbon-python or --setup-codecarbon: CodeCarbon columns omitted",
            file=sys.stderr,
        )

    root = Path(tempfile.mkdtemp(prefix="wattprint-overhead-"))
    bench = Bench(tools, root, args.duration, args.interval)
    started = time.time()
    try:
        for tool in tools:
            o = bench.run(tool, "probe")
            if not o.result:
                print(f"cannot import {tool.name} with {tool.python}", file=sys.stderr)
                return 2
            tool.version, tool.where = o.result["version"], o.result["file"]
            print(f"{tool.name} {tool.version} from {tool.where} ({tool.python})", file=sys.stderr)
        if Path.home().joinpath(".codecarbon.config").exists() and cc_python:
            print(
                "note: ~/.codecarbon.config exists and applies to the CodeCarbon children",
                file=sys.stderr,
            )
        # Warm-up, not counted: byte-code caches written, files in the page cache.
        for tool in tools:
            for mode in ("pkg", "api", "start"):
                bench.run(tool, mode)
        raw: dict[str, dict[str, list]] = {t.name: {} for t in tools}
        for r in range(args.repeats):
            order = tools if r % 2 == 0 else tools[::-1]
            print(
                f"repeat {r + 1}/{args.repeats} ({time.time() - started:.0f} s so far)",
                file=sys.stderr,
            )
            one_repeat(bench, order, raw, args.background)
    finally:
        if args.keep:
            print(f"children's folders kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    elapsed = time.time() - started

    names = [t.name for t in tools]
    stats = {t: {k: summary(v) for k, v in raw[t].items() if not k.startswith("_")} for t in names}
    print()
    print(f"## wattprint overhead: {args.repeats} repeats, median (interquartile range)\n")
    print(table(stats, names, args.duration, args.interval))
    print()
    print(
        "¹ public API: `from wattprint import Tracker`; "
        "`from codecarbon import OfflineEmissionsTracker`."
    )
    for t in tools:
        print(f"- {t.name} {t.version}: `{t.python}` ({t.where})")
    print(
        f"- {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"background children run {args.background}; {elapsed:.0f} s in all."
    )
    if "codecarbon" in names:
        s = stats["codecarbon"]
        mon = s.get("bg_monitor_calls")
        if mon:
            print(
                f"- CodeCarbon also runs a 1 s power-monitor timer besides its measurement timer "
                f"({fmt(mon['median'])} calls in the {args.duration:g} s window); its cost is "
                f"in its CPU figures."
            )
        print(f"- {PUBLISHED}")
    else:
        print("- CodeCarbon not measured (give --codecarbon-python or --setup-codecarbon).")
    if bench.failures:
        print(f"- {len(bench.failures)} child run(s) failed and are left out (details on stderr).")
    for t in names:
        top = raw[t].get("_importtime_top")
        if top:
            slowest = ", ".join(f"{name} {ms:.1f} ms" for ms, name in top[:10])
            print(
                f"\nLargest self import times for {t}'s public API (`-X importtime`, "
                f"last repeat): {slowest}"
            )

    if args.json:
        goals = {key: goal for key, _, _, goal in ROWS if goal is not None}
        verdicts = {
            key: (stats["wattprint"].get(key) or {}).get("median", float("inf")) <= goal
            for key, goal in goals.items()
        }
        doc = {
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "tools": {
                t.name: {"python": t.python, "version": t.version, "file": t.where} for t in tools
            },
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
            "elapsed_s": elapsed,
            "summary": stats,
            "raw": raw,
            "goals": goals,
            "wattprint_meets_goal": verdicts,
            "failures": bench.failures,
        }
        args.json.write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    return 1 if bench.failures and not any(raw[n] for n in names) else 0


if __name__ == "__main__":
    sys.exit(main())
