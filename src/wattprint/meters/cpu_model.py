"""CPU energy where there is no counter: utilization times a power curve.

Interim model, kept behind ``cpu_power`` so that the calibrated model (validated on SPECpower)
replaces it in one change. The curve is linear in utilization, so the mean power over an interval
is the power at the interval's mean utilization, and reading /proc/stat at the interval's edges is
exact for the model: no polling needed.
"""

from __future__ import annotations

import csv
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .base import Probe, ProbeContext, Reading
from .procfs import cpu_busy_total, cpu_info

# Share of TDP drawn at idle and the bounds around the curve. Deliberately wide: this model is
# not calibrated (SPECpower systems idle at 15-40 % of their full-load power, and TDP is a
# thermal design figure, not a measured draw).
IDLE_SHARE = 0.3
KNOWN_LOW, KNOWN_HIGH = 0.5, 1.5
# Unknown CPU: a per-thread figure (server parts draw roughly 2-10 W per hardware thread at
# full load), with bounds wide enough to hold that whole range.
UNKNOWN_W_PER_THREAD = 4.0
UNKNOWN_LOW, UNKNOWN_HIGH = 0.25, 2.5

_NOISE = re.compile(
    r"\((?:r|tm|c)\)|®|™|\bcpu\b|\bprocessor\b|\b\d+-core\b|@.*$|\bwith radeon.*$|\bw/ radeon.*$"
)


def normalise(name: str) -> str:
    """Lower-case brand string without trademarks, frequency and filler words."""
    return " ".join(_NOISE.sub(" ", name.lower()).split())


def _numbers(normalised: str) -> frozenset[str]:
    return frozenset(t for t in normalised.split() if any(ch.isdigit() for ch in t))


@dataclass(frozen=True)
class CpuRow:
    model: str
    tdp_w: float
    source: str


def _table_text() -> str:
    # Not cached: the table is read once per tracker start, and keeping its ~650 KB (or a
    # lower-cased copy) alive would be most of the tracker's memory.
    return (Path(__file__).parent / "data" / "cpu_tdp.csv").read_text("utf-8")


def _rows_mentioning(token: str) -> list[CpuRow]:
    # Parsing and normalising all ~5000 rows costs ~30 ms, too much for a tracker's start;
    # only the few lines that contain the model number are parsed.
    text = _table_text()
    rows = []
    for match in re.finditer(re.escape(token), text, re.IGNORECASE):
        begin = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.end())
        if begin == 0:
            continue  # the header
        line = text[begin : len(text) if end == -1 else end]
        row = next(csv.reader([line]))
        try:
            cpu = CpuRow(row[0], float(row[1]), row[2])
        except (IndexError, ValueError):
            continue
        if not rows or rows[-1] != cpu:  # a token twice on one line
            rows.append(cpu)
    return rows


def find_cpu(brand: str) -> CpuRow | None:
    """The table row for a brand string, or None. A near miss never matches another part.

    Generic names without a model number ("AMD EPYC Processor", "Common KVM processor") are
    unknown by construction.
    """
    key = normalise(brand)
    numbers = _numbers(key)
    if not numbers:
        return None
    candidates = _rows_mentioning(max(numbers, key=len))
    for row in candidates:
        if normalise(row.model) == key:
            return row
    # Same model numbers and the same family word (xeon, epyc, core, ryzen, ...): one part.
    words = set(key.split()) - numbers
    same = []
    for row in candidates:
        row_key = normalise(row.model)
        row_numbers = _numbers(row_key)
        if row_numbers == numbers and words & (set(row_key.split()) - row_numbers):
            same.append(row)
    tdps = {c.tdp_w for c in same}
    return same[0] if len(tdps) == 1 else None


@dataclass(frozen=True)
class CpuPower:
    watts: float
    low_w: float
    high_w: float
    basis: str  # what the figure rests on, for the record and for detect()


def cpu_power(row: CpuRow | None, sockets: int, threads: int, load: float) -> CpuPower:
    """Power of the machine's CPUs at utilization ``load`` in [0, 1]."""
    load = min(1.0, max(0.0, load))
    curve = IDLE_SHARE + (1.0 - IDLE_SHARE) * load
    if row is not None:
        watts = sockets * row.tdp_w * curve
        return CpuPower(
            watts, watts * KNOWN_LOW, watts * KNOWN_HIGH, f"TDP {row.tdp_w:g} W x {sockets}"
        )
    watts = threads * UNKNOWN_W_PER_THREAD * curve
    return CpuPower(
        watts,
        watts * UNKNOWN_LOW,
        watts * UNKNOWN_HIGH,
        f"unknown CPU: {UNKNOWN_W_PER_THREAD:g} W per thread x {threads}",
    )


class CpuModelMeter:
    component = "cpu"
    method = "cpu-model"
    poll_interval_s: float | None = None

    def __init__(
        self,
        ctx: ProbeContext,
        row: CpuRow | None,
        sockets: int,
        threads: int,
        clock=time.monotonic,
    ) -> None:
        self._ctx = ctx
        self._row = row
        self._sockets = sockets
        self._threads = threads
        self._clock = clock
        self._process = None
        if ctx.tracking_mode == "process":
            import psutil

            self._process = psutil.Process(ctx.pid)
        self.devices = (f"{row.model} x {sockets}" if row else f"unknown CPU, {threads} threads",)
        self._energy = self._low = self._high = 0.0
        idle, full = (cpu_power(row, sockets, threads, u) for u in (0.0, 1.0))
        self._idle_w, self._slope_w = idle.watts, full.watts - idle.watts
        self._rel_low, self._rel_high = full.low_w / full.watts, full.high_w / full.watts
        self._t = clock()
        self._machine = cpu_busy_total(ctx.root)
        self._own = self._process_seconds()
        self.load = 0.0

    def _process_seconds(self) -> float:
        if self._process is None:
            return 0.0
        try:
            t = self._process.cpu_times()
            total = t.user + t.system + t.children_user + t.children_system
            for child in self._process.children(recursive=True):
                try:
                    c = child.cpu_times()
                    total += c.user + c.system
                except Exception:  # the child exited between listing and reading
                    pass
            return total
        except Exception:
            return self._own

    def _advance(self) -> None:
        now = self._clock()
        dt = now - self._t
        if dt <= 0:
            return
        machine = cpu_busy_total(self._ctx.root)
        share = 1.0
        if machine is not None and self._machine is not None:
            busy = machine[0] - self._machine[0]
            total = machine[1] - self._machine[1]
            load = busy / total if total > 0 else self.load
            if self._process is not None:
                own = self._process_seconds()
                ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
                busy_s = busy / ticks
                share = min(1.0, max(0.0, (own - self._own) / busy_s)) if busy_s > 0 else 0.0
                self._own = own
        else:
            import psutil  # no /proc: ask the OS through psutil

            load = psutil.cpu_percent(None) / 100.0
        self.load = load
        # cpu_power inlined: the curve is linear, so two numbers fixed at open describe it.
        watts = self._idle_w + self._slope_w * min(1.0, max(0.0, load))
        joules = watts * dt * share
        self._energy += joules
        self._low += joules * self._rel_low
        self._high += joules * self._rel_high
        self._t, self._machine = now, machine

    @property
    def last_ticks(self) -> tuple[float, float] | None:
        """/proc/stat (busy, total) as of the last read, for the tracker to reuse."""
        return self._machine

    def read(self) -> Reading:
        self._advance()
        return Reading(self._energy, self._low, self._high, self.method)

    def poll(self) -> None:
        return None

    def close(self) -> None:
        return None


def probe(ctx: ProbeContext) -> list[Probe]:
    info = cpu_info(ctx.root)
    row = find_cpu(info.model)
    if row is None:
        ctx.warn(
            f"cpu-unknown:{info.model}",
            f"CPU model {info.model!r} is not in wattprint's CPU power table: estimating "
            f"{UNKNOWN_W_PER_THREAD:g} W per thread at full load for {info.threads} threads, with "
            "wide bounds. Please report the model string so it can be added.",
        )
    meter = CpuModelMeter(ctx, row, info.sockets, info.threads)
    reason = f"estimate from utilization and {meter.devices[0]}" + (
        f" (TDP {row.tdp_w:g} W, {row.source})" if row else ""
    )
    return [Probe("cpu-model", "cpu", True, reason, None, meter)]
