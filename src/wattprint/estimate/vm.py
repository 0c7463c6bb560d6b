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

    def __init__(self, threads: int, memory_gb: float, host_cpu: Any = None) -> None:
        self.threads, self.memory_gb = threads, memory_gb
        self._table: dict[tuple[str, int], tuple[float, float, float]] = {}
        if host_cpu is not None:  # a named CPU: a two-socket host of it (known TDP, generation)
            self._known_host(host_cpu)
            return
        self._hosts = {h: machine_curve("unknown", 2, h, h * GB_PER_THREAD) for h in HOSTS}
        self._typical = TYPICAL_HOST
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

    def _known_host(self, row: Any) -> None:
        threads = self.threads
        host = 2 * (row.threads or threads)
        self._hosts = {host: machine_curve(row.model, 2, host, host * GB_PER_THREAD)}
        self._typical = host
        self.cpu_row = row
        self.platform_estimated = self._hosts[host].platform_estimated
        share = f"{threads} of a {host}-thread 2 x {row.model} host's"
        self.bases = {
            "cpu": f"VM share: {share} CPU (TDP {row.tdp_w:g} W; SPECpower fit)",
            "ram": f"VM share: {self.memory_gb:.1f} GB of the host's RAM power (SPECpower fit)",
            "platform": f"VM share: {share} board and power supply (SPECpower fit)",
        }
        self.notes = (
            f"virtual machine on {row.model}: its power is its share of a two-socket host, by "
            f"vCPUs ({threads}) and memory ({self.memory_gb:.1f} GB)",
        )

    def _share(self, name: str, host_threads: int) -> float:
        if SHARE_COMPONENTS[name] == "threads":
            return min(1.0, self.threads / host_threads)
        return min(1.0, self.memory_gb / (host_threads * GB_PER_THREAD))

    def component(self, name: str, load: float) -> tuple[float, float, float] | None:
        if name == "platform" and not self.platform_estimated:
            return None
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
            if host == self._typical:
                value = watts * share
            lows = low * share if lows is None else min(lows, low * share)
            highs = high * share if highs is None else max(highs, high * share)
        assert value is not None and lows is not None and highs is not None
        return value, min(lows, value), max(highs, value)

    def at(self, load: float) -> PowerEstimate:
        u = min(1.0, max(0.0, float(load)))
        cpu, ram, platform = (self.component(name, u) for name in ("cpu", "ram", "platform"))
        assert cpu is not None and ram is not None
        p = platform or (None, None, None)
        rest = platform or (0.0, 0.0, 0.0)
        return PowerEstimate(
            machine_w=cpu[0] + ram[0] + rest[0],
            machine_low_w=cpu[1] + ram[1] + rest[1],
            machine_high_w=cpu[2] + ram[2] + rest[2],
            cpu_w=cpu[0],
            cpu_low_w=cpu[1],
            cpu_high_w=cpu[2],
            ram_w=ram[0],
            ram_low_w=ram[1],
            ram_high_w=ram[2],
            platform_w=p[0],
            platform_low_w=p[1],
            platform_high_w=p[2],
            load=u,
            method=METHOD,
            model=self.model,
            cpu_row=self.cpu_row,
            cpu_basis=self.bases["cpu"],
            ram_basis=self.bases["ram"],
            platform_basis=self.bases["platform"],
            notes=self.notes if platform else (*self.notes, NOT_ESTIMATED),
        )


def guest_curve(cpu_model: str, threads: int, memory_gb: float, virtual: bool) -> Any:
    """The curve for a virtual machine: its share of a host (of its CPU where the CPU table
    knows it, else of an unknown one); None for a physical machine (its own SPECpower curve)."""
    from .model import resolve_cpu

    row, _ = resolve_cpu(cpu_model)
    if not virtual:
        return None
    # A VM with a named CPU is a share of a host of that CPU, not a whole server with a
    # handful of threads drawing the part's full TDP.
    return VmCurve(threads, memory_gb, row)
