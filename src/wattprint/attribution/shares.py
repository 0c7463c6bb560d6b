"""The share of the machine's energy that belongs to a process tree or a job, interval by interval.

For each component the interval's machine energy ``E`` splits into an idle part ``I`` (the
power model's idle power for that component over the interval, never more than ``E``) and the
rest, the part that work drew. ``idle_policy`` says who pays for ``I``:

- ``proportional``: everything is split by use: the job pays ``E x use``.
- ``allocated`` (the default under a scheduler): the job pays its use of the working part and
  the idle power of what it holds: ``(E - I) x use + I x held``.
- ``none``: the job pays only its use of the working part: ``(E - I) x use``; idle power is
  nobody's.

``use``: CPU and platform, the job's CPU time over the machine's busy CPU time in the interval;
RAM, its resident memory over the memory in use (``proportional``) or installed (otherwise).
``held``: CPU and platform, allocated CPUs over the machine's CPUs; RAM, the larger of its
resident and allocated memory over the installed memory.

Bounds: the machine's bounds scaled by the share, widened by ``USE_REL_ERROR`` on the working
part, because a CPU second does not cost the same in every program (vector units, memory
stalls): CPU time is a fair split of energy, not a measurement of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

from ..meters.base import Reading
from ..meters.procfs import cpu_busy_total, meminfo_kib
from .procs import CLK_TCK

IDLE_POLICIES = ("allocated", "proportional", "none")
USE_REL_ERROR = 0.10
SHARED_COMPONENTS = ("cpu", "ram", "platform")

Usage = Callable[[], tuple[float | None, int | None]]  # cumulative CPU s, resident bytes now


class Interval(NamedTuple):
    dt: float
    cpu_use: float  # job CPU time / machine busy CPU time, in [0, 1]
    ram_use: float
    cpu_held: float
    ram_held: float


class Shares:
    """Per-update shares, computed once per tracker update and reused by every component.

    ``shared`` is the meters' per-update dict (the tracker empties it before each update): the
    first wrapped meter read in an update computes the interval, the others find it there.
    """

    def __init__(
        self,
        root: Path,
        usage: Usage,
        policy: str,
        cpus_held: float,
        machine_cpus: int,
        memory_held: int | None,
        shared: dict[str, Any] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root, self.usage_fn, self.policy = root, usage, policy
        self.cpu_held = max(0.0, min(1.0, cpus_held / max(1, machine_cpus)))
        self.memory_held = memory_held
        self.shared = shared
        self._clock = clock
        self._t = clock()
        self._stat = self._read_stat()
        cpu, _ = usage()
        self._cpu = cpu or 0.0
        self._carry = 0.0  # job CPU time found late (a new child): charged when there is room
        self.cpu_s = 0.0  # the job's CPU seconds over the run
        self.last = Interval(0.0, 0.0, 0.0, self.cpu_held, 0.0)

    def _read_stat(self) -> tuple[float, float] | None:
        if self.shared is not None and "stat" in self.shared:
            return self.shared["stat"]
        stat = cpu_busy_total(self.root)
        if self.shared is not None:
            self.shared["stat"] = stat  # LoadMeter's key: one /proc/stat read per update
        return stat

    def current(self) -> Interval:
        if self.shared is not None and "shares" in self.shared:
            return self.shared["shares"]
        now = self._clock()
        stat = self._read_stat()
        cpu, rss = self.usage_fn()
        busy_s = 0.0
        if stat is not None and self._stat is not None:
            busy_s = (stat[0] - self._stat[0]) / CLK_TCK
        mine = self._carry
        if cpu is not None:
            mine += max(0.0, cpu - self._cpu)
            self._cpu = max(self._cpu, cpu)
        used = min(mine, busy_s) if busy_s > 0 else 0.0
        self._carry = mine - used
        self.cpu_s += used
        cpu_use = used / busy_s if busy_s > 0 else 0.0
        ram_use, ram_held = self._memory(rss)
        interval = Interval(max(0.0, now - self._t), cpu_use, ram_use, self.cpu_held, ram_held)
        self._t, self._stat, self.last = now, stat or self._stat, interval
        if self.shared is not None:
            self.shared["shares"] = interval
        return interval

    def _memory(self, rss: int | None) -> tuple[float, float]:
        mem = meminfo_kib(self.root)
        total = mem.get("MemTotal", 0) * 1024
        if rss is None or total <= 0:
            return 0.0, 0.0
        used = total - mem.get("MemAvailable", 0) * 1024
        use = rss / used if self.policy == "proportional" and used > 0 else rss / total
        held = max(rss, self.memory_held or 0) / total
        return min(1.0, use), min(1.0, held)


class ShareMeter:
    """A machine meter whose readings are charged to the job by ``Shares``, interval by interval."""

    poll_interval_s: float | None

    def __init__(self, inner: Any, shares: Shares, idle_w: float) -> None:
        self.inner = inner
        self.component = inner.component
        self.devices = inner.devices
        self.poll_interval_s = inner.poll_interval_s
        self.method = f"{inner.method}+share"
        self.shares = shares
        self.idle_w = max(0.0, idle_w)
        self._last = (0.0, 0.0, 0.0)
        self.machine_j = 0.0  # the machine's energy over the run, for the record's share
        self.energy = self.low = self.high = 0.0

    def __getattr__(self, name: str) -> Any:  # gpu_count, last_ticks, ... from the inner meter
        return getattr(self.inner, name)

    def _shares_of(self, iv: Interval) -> tuple[float, float]:
        if self.component == "ram":
            return iv.ram_use, iv.ram_held
        return iv.cpu_use, iv.cpu_held

    def read(self) -> Reading:
        r = self.inner.read()
        iv = self.shares.current()
        d_e, d_low, d_high = (
            r.energy_j - self._last[0],
            r.low_j - self._last[1],
            r.high_j - self._last[2],
        )
        self._last = (r.energy_j, r.low_j, r.high_j)
        if d_e > 0:
            use, held = self._shares_of(iv)
            idle = min(d_e, self.idle_w * iv.dt)
            work = d_e - idle
            policy = self.shares.policy
            if policy == "proportional":
                work, idle_part = d_e, 0.0
            elif policy == "allocated":
                idle_part = idle * held
            else:
                idle_part = 0.0
            part = work * use + idle_part
            frac_low = (work * use * (1 - USE_REL_ERROR) + idle_part) / d_e
            frac_high = (work * use * (1 + USE_REL_ERROR) + idle_part) / d_e
            self.machine_j += d_e
            self.energy += part
            self.low += max(0.0, d_low) * min(1.0, frac_low)
            self.high += max(0.0, d_high) * min(1.0, frac_high)
        self.high = max(self.high, self.energy)
        self.low = min(self.low, self.energy)
        return Reading(self.energy, self.low, self.high, self.method, r.gap_s)

    def poll(self) -> None:
        self.inner.poll()

    def close(self) -> None:
        self.inner.close()

    @property
    def share(self) -> float | None:
        """The run's effective share so far: charged energy over the machine's."""
        return self.energy / self.machine_j if self.machine_j > 0 else None
