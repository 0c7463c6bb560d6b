"""RAM energy where there is no DRAM counter: installed capacity times a watts-per-GB figure.

0.3725 W/GB is the reference value of Green Algorithms (Lannelongue et al., 2021, CC BY 4.0),
taken from DDR3/DDR4 measurements. DIMM power depends on generation, rank and traffic, so the
bounds are wide: half to double. Refresh and idle draw do not depend on how much memory is
used, so machine mode counts all installed memory; process mode counts the process tree's
resident share of it.
"""

from __future__ import annotations

import time

from .base import Probe, ProbeContext, Reading
from .procfs import meminfo_kib

W_PER_GB = 0.3725
LOW, HIGH = 0.5, 2.0


class RamModelMeter:
    component = "ram"
    method = "ram-model"
    poll_interval_s: float | None = None

    def __init__(self, ctx: ProbeContext, total_gb: float, clock=time.monotonic) -> None:
        self._clock = clock
        self._total_gb = total_gb
        self._process = None
        if ctx.tracking_mode == "process":
            import psutil

            self._process = psutil.Process(ctx.pid)
        self.devices = (f"{total_gb:.1f} GB installed",)
        self._energy = 0.0
        self._t = clock()

    def _share(self) -> float:
        if self._process is None or self._total_gb <= 0:
            return 1.0
        try:
            rss = self._process.memory_info().rss
            for child in self._process.children(recursive=True):
                try:
                    rss += child.memory_info().rss
                except Exception:  # the child exited meanwhile
                    pass
        except Exception:
            return 1.0
        return min(1.0, rss / (self._total_gb * 1e9))

    def read(self) -> Reading:
        now = self._clock()
        self._energy += W_PER_GB * self._total_gb * self._share() * max(0.0, now - self._t)
        self._t = now
        return Reading(self._energy, self._energy * LOW, self._energy * HIGH, self.method)

    def poll(self) -> None:
        return None

    def close(self) -> None:
        return None


def total_memory_gb(ctx: ProbeContext) -> float:
    kib = meminfo_kib(ctx.root).get("MemTotal")
    if kib is not None:
        return kib * 1024 / 1e9
    import psutil

    return psutil.virtual_memory().total / 1e9


def probe(ctx: ProbeContext) -> list[Probe]:
    gb = total_memory_gb(ctx)
    meter = RamModelMeter(ctx, gb)
    reason = f"estimate: {gb:.1f} GB x {W_PER_GB} W/GB (Green Algorithms reference value)"
    return [Probe("ram-model", "ram", True, reason, None, meter)]
