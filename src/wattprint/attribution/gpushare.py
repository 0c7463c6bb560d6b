"""A job's share of GPUs that other processes compute on too, from NVML's per-process figures.

Per GPU and per interval: the processes computing on it (``nvmlDeviceGetComputeRunningProcesses``)
and their SM utilization samples (``nvmlDeviceGetProcessUtilization``). The job's share is its
part of the summed SM utilization; where no samples came, its part of the GPU memory in use.

What per-process utilization cannot tell: how much power a kernel draws while it runs (a
tensor-core GEMM and a memory-bound copy both count as "busy"), nor the idle power between
kernels. So the bounds span the utilization share and the memory share, widened by
``SHARE_REL_ERROR``: a labelled share, not a measurement.

A GPU with no compute process on it is charged whole (the job selected it and holds it idle),
or not at all under ``idle_policy="none"``. NVML's pids are the host's: in a container with its
own pid namespace no process matches, and the share is 0 with a warning.
"""

from __future__ import annotations

from typing import Any

from ..meters.base import Reading

SHARE_REL_ERROR = 0.25


class GpuShareMeter:
    component = "gpu"

    def __init__(self, inner: Any, att: Any, warn: Any) -> None:
        self.inner = inner
        self.devices = inner.devices
        self.poll_interval_s = inner.poll_interval_s
        self.method = f"{inner.method}+share"
        self._adapter = inner._adapter
        self._att = att
        self._warn = warn
        self._last: dict[str, tuple[float, float, float]] = {}
        self._seen_us: dict[str, int] = {}
        self.energy = self.low = self.high = self.machine_j = 0.0

    def __getattr__(self, name: str) -> Any:  # gpu_count, gpu_models, utilization_percent
        return getattr(self.inner, name)

    def share(self, handle: Any, uuid: str) -> tuple[float, float, float]:
        """(low, value, high) of the job's share of one GPU over the interval since the last."""
        procs = self._adapter.compute_processes(handle)
        if not procs:
            return (0.0, 0.0, 0.0) if self._att.idle_policy == "none" else (1.0, 1.0, 1.0)
        member = self._att.is_member
        mine = {pid for pid, _ in procs if member(pid)}
        if len(mine) == len(procs):
            return 1.0, 1.0, 1.0
        memory = [(pid, m) for pid, m in procs if m is not None]
        total_mem = sum(m for _, m in memory)
        mem_share = sum(m for p, m in memory if p in mine) / total_mem if total_mem else None
        samples = self._adapter.process_utilization(handle, self._seen_us.get(uuid, 0))
        if samples:
            self._seen_us[uuid] = max(ts for _, _, ts in samples)
        total_util = sum(u for _, u, _ in samples)
        util_share = (
            sum(u for p, u, _ in samples if p in mine) / total_util if total_util > 0 else None
        )
        known = [s for s in (util_share, mem_share) if s is not None]
        if not known:  # neither figure: anything from nothing to all of it
            return 0.0, len(mine) / len(procs), 1.0
        value = known[0]
        low = min(known) * (1.0 - SHARE_REL_ERROR)
        high = min(1.0, max(known) * (1.0 + SHARE_REL_ERROR))
        return low, value, high

    def read(self) -> Reading:
        r = self.inner.read()
        for g, e, lo, hi in self.inner.device_energies():
            before = self._last.get(g.uuid, (0.0, 0.0, 0.0))
            self._last[g.uuid] = (e, lo, hi)
            d_e = e - before[0]
            if d_e <= 0:
                continue
            s_low, s_value, s_high = self.share(g.handle, g.uuid)
            self.machine_j += d_e
            self.energy += d_e * s_value
            self.low += max(0.0, lo - before[1]) * s_low
            self.high += max(0.0, hi - before[2]) * s_high
        self.low = min(self.low, self.energy)
        self.high = max(self.high, self.energy)
        return Reading(self.energy, self.low, self.high, self.method, r.gap_s)

    def poll(self) -> None:
        self.inner.poll()

    def close(self) -> None:
        self.inner.close()
