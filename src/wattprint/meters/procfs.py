"""Facts about the machine read straight from /proc, without running any program.

Everything takes the ``root`` that ``ProbeContext`` carries, so tests can point it at a fake tree.
On a system without /proc (macOS, Windows) the callers fall back to psutil.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple


class CpuInfo(NamedTuple):
    model: str  # the brand string, "" if the kernel gives none
    sockets: int
    threads: int
    virtual: bool = False  # the kernel runs under a hypervisor (the "hypervisor" CPU flag)


def cpu_info(root: Path) -> CpuInfo:
    try:
        text = (root / "proc/cpuinfo").read_text(errors="replace")
    except OSError:
        import platform

        return CpuInfo(platform.processor(), 1, os.cpu_count() or 1)
    model = ""
    virtual = False
    packages: set[str] = set()
    threads = 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "processor":
            threads += 1
        elif key == "model name" and not model:
            model = value.strip()
        elif key == "physical id":
            packages.add(value.strip())
        elif key == "flags" and not virtual:
            virtual = " hypervisor" in f" {value} "
        elif key in ("Model", "Hardware") and not model:  # ARM boards name the SoC here
            model = value.strip()
    threads = max(1, threads or (os.cpu_count() or 1))
    return CpuInfo(model, max(1, len(packages)), threads, virtual)


_STAT_FD: int | None = None  # /proc/stat of the real machine, kept open: one pread per sample


def _first_line(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 512).split(b"\n", 1)[0]
    finally:
        os.close(fd)


def _stat_line(root: Path) -> bytes:
    """The first line of /proc/stat. On the real machine the file stays open and each read is
    one pread at offset 0 (the kernel regenerates it): this runs on every sample."""
    global _STAT_FD
    path = root / "proc/stat"
    if str(root) != "/":
        return _first_line(path)
    if _STAT_FD is None:
        _STAT_FD = os.open(path, os.O_RDONLY)
    try:
        return os.pread(_STAT_FD, 512, 0).split(b"\n", 1)[0]
    except OSError:  # closed behind our back (a daemonising fork): open it again
        _STAT_FD = None
        return _first_line(path)


def cpu_busy_total(root: Path) -> tuple[float, float] | None:
    """Machine-wide (busy, total) CPU time in clock ticks from the first line of /proc/stat.

    Steal time (the 8th field) is time a VM's vCPU was ready but its host ran someone else: it
    is neither this machine's work nor idle, so it counts in the elapsed total, not as busy.
    """
    try:
        line = _stat_line(root)
    except OSError:
        return None
    fields = line.split()
    if not fields or fields[0] != b"cpu":
        return None
    values = [float(v) for v in fields[1:9]]  # user nice system idle iowait irq softirq steal
    total = sum(values)
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)
    steal = values[7] if len(values) > 7 else 0.0
    return total - idle - steal, total


def meminfo_kib(root: Path) -> dict[str, int]:
    """MemTotal and MemAvailable in KiB (empty if /proc/meminfo is missing)."""
    out: dict[str, int] = {}
    try:
        with open(root / "proc/meminfo", "rb") as f:
            for raw in f:
                key, _, rest = raw.partition(b":")
                if key in (b"MemTotal", b"MemAvailable"):
                    out[key.decode()] = int(rest.split()[0])
                    if len(out) == 2:
                        break
    except OSError:
        pass
    return out


def total_memory_gb(root: Path) -> float:
    """Installed RAM in GB (10^9 bytes): /proc/meminfo's MemTotal, else psutil's figure."""
    kib = meminfo_kib(root).get("MemTotal")
    if kib is not None:
        return kib * 1024 / 1e9
    import psutil

    return psutil.virtual_memory().total / 1e9
