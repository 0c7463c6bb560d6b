"""Energy from a power curve over the machine's CPU utilization, where nothing counts joules.

The power model's value is linear in utilization between its idle and full-load points, so the
mean power over an interval is the power at the interval's mean utilization: reading /proc/stat
at the interval's edges is exact for the value, and nothing needs polling. (The bounds widen
between the two measured points; using the mean load for them is an approximation.)
In process mode the energy is the process tree's share of the machine's busy CPU time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from .base import ProbeContext, Reading
from .procfs import cpu_busy_total

PowerAt = Callable[[float], tuple[float, float, float]]  # load -> (watts, low, high)


class LoadMeter:
    poll_interval_s: float | None = None

    def __init__(
        self,
        ctx: ProbeContext,
        component: str,
        method: str,
        power_at: PowerAt,
        devices: tuple[str, ...],
        clock=time.monotonic,
    ) -> None:
        self.component, self.method, self.devices = component, method, devices
        self.power_at = power_at
        self._ctx = ctx
        self._clock = clock
        self._process = None
        if ctx.tracking_mode == "process":
            import psutil

            self._process = psutil.Process(ctx.pid)
        self._energy = self._low = self._high = 0.0
        self._t = clock()
        self._machine = cpu_busy_total(ctx.root)
        self._own = self._process_seconds()
        self.load = 0.0

    def _shared(self, key: str, read: Callable[[], Any]) -> Any:
        # The CPU, RAM and platform meters read the same counters one after the other on every
        # update: one read serves all three. The tracker empties ``ctx.shared`` before each
        # update; without a tracker (None) nothing is shared.
        shared = self._ctx.shared
        if shared is None:
            return read()
        if key not in shared:
            shared[key] = read()
        return shared[key]

    def _read_stat(self) -> tuple[float, float] | None:
        return cpu_busy_total(self._ctx.root)

    def _process_seconds(self) -> float:
        if self._process is None:
            return 0.0
        return self._shared("process", self._read_process_seconds)

    def _read_process_seconds(self) -> float:
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
        machine = self._shared("stat", self._read_stat)
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
        watts, low, high = self.power_at(load)
        seconds = dt * share
        self._energy += watts * seconds
        self._low += low * seconds
        self._high += high * seconds
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
