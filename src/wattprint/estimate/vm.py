"""A virtual machine is a slice of a host, not a small server of its own.

A VM shows a handful of vCPUs and a generic CPU name ("AMD EPYC Processor", "Common KVM
processor"). Read literally, the SPECpower fit would describe a whole physical machine with
that few threads, i.e. an old, inefficient one, and charge a 2-vCPU VM like a 2008 server
(~200 W). Instead the guest gets its share of a host: the host's CPU and platform power in
proportion to its vCPUs, the host's RAM power in proportion to its memory.

The host is unknown, so it is taken from a range of current two-socket hosts (64 to 256
threads, 4 GB per thread); the value is the middle host's, and the bounds span the lowest
low and the highest high over the range. Per-thread power is nearly the same across that range
(the fit gives ~0.6-0.9 W idle and ~4.1-4.6 W at full load per thread), so the host size
matters less than it seems.
"""

from __future__ import annotations

from typing import Any

from .model import METHOD, NOT_ESTIMATED, PowerEstimate, machine_curve

HOSTS = (64, 128, 192, 256)  # threads of a two-socket host
TYPICAL_HOST = 128
GB_PER_THREAD = 4.0
SHARE_COMPONENTS = {"cpu": "threads", "platform": "threads", "ram": "memory"}
STEPS = 20


class VmCurve:
    """Like ``MachineCurve``, for a guest of ``threads`` vCPUs and ``memory_gb`` of RAM."""

    model = "vm-share"
    cpu_row = None
    # The hosts are unknown CPUs: their fit counts the board and power supply in the CPU.
    platform_estimated = False

    def __init__(self, threads: int, memory_gb: float) -> None:
        self.threads, self.memory_gb = threads, memory_gb
        self._hosts = {h: machine_curve("unknown", 2, h, h * GB_PER_THREAD) for h in HOSTS}
        self._table: dict[tuple[str, int], tuple[float, float, float]] = {}
        share = f"{threads} of a ~{TYPICAL_HOST}-thread host's"
        self.bases = {
            "cpu": f"VM share: {share} CPU (SPECpower fit, threads)",
            "ram": f"VM share: {memory_gb:.1f} GB of the host's RAM power (SPECpower fit)",
            "platform": "not estimated: the VM's share of its host's board and power supply "
            "is in its CPU figure (SPECpower fit, threads)",
        }
        self.notes = (
            "virtual machine with a generic CPU: its power is its share of an unknown host "
            f"(64-256 threads), by vCPUs ({threads}) and memory ({memory_gb:.1f} GB)",
        )

    def _share(self, name: str, host_threads: int) -> float:
        if SHARE_COMPONENTS[name] == "threads":
            return min(1.0, self.threads / host_threads)
        return min(1.0, self.memory_gb / (host_threads * GB_PER_THREAD))

    def component(self, name: str, load: float) -> tuple[float, float, float] | None:
        if name == "platform":
            return None  # see platform_estimated
        # Four host curves per call: tabulated in 5 % steps and interpolated, since the tracker
        # asks on every update. A step is computed when first needed: a run's load visits few.
        u = min(1.0, max(0.0, load)) * STEPS
        i = min(int(u), STEPS - 1)
        t = u - i
        a, b = self._step(name, i), self._step(name, i + 1)
        return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)

    def _step(self, name: str, i: int) -> tuple[float, float, float]:
        key = (name, i)
        found = self._table.get(key)
        if found is None:
            found = self._table[key] = self._exact(name, i / STEPS)
        return found

    def _exact(self, name: str, load: float) -> tuple[float, float, float]:
        value = lows = highs = None
        for host, curve in self._hosts.items():
            watts, low, high = curve.component(name, load)
            share = self._share(name, host)
            if host == TYPICAL_HOST:
                value = watts * share
            lows = low * share if lows is None else min(lows, low * share)
            highs = high * share if highs is None else max(highs, high * share)
        assert value is not None and lows is not None and highs is not None
        return value, min(lows, value), max(highs, value)

    def at(self, load: float) -> PowerEstimate:
        u = min(1.0, max(0.0, float(load)))
        cpu, ram = (self.component(name, u) for name in ("cpu", "ram"))
        assert cpu is not None and ram is not None
        return PowerEstimate(
            machine_w=cpu[0] + ram[0],
            machine_low_w=cpu[1] + ram[1],
            machine_high_w=cpu[2] + ram[2],
            cpu_w=cpu[0], cpu_low_w=cpu[1], cpu_high_w=cpu[2],
            ram_w=ram[0], ram_low_w=ram[1], ram_high_w=ram[2],
            platform_w=None, platform_low_w=None, platform_high_w=None,
            load=u,
            method=METHOD,
            model=self.model,
            cpu_row=None,
            cpu_basis=self.bases["cpu"],
            ram_basis=self.bases["ram"],
            platform_basis=self.bases["platform"],
            notes=(*self.notes, NOT_ESTIMATED),
        )  # fmt: skip


def guest_curve(cpu_model: str, threads: int, memory_gb: float, virtual: bool) -> Any:
    """The curve to use for a machine: a VM share for a guest with a generic or unknown CPU,
    else the machine's own SPECpower curve."""
    from .model import resolve_cpu

    row, _ = resolve_cpu(cpu_model)
    if virtual and row is None:
        return VmCurve(threads, memory_gb)
    return None
