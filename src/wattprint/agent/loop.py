"""The agent: a machine-mode tracker measuring the node, and a pass over /proc each interval."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from ..meters.procfs import cpu_busy_total, meminfo_kib
from ..units import J_PER_KWH
from .exporter import ConsumerCollector
from .ledger import UNATTRIBUTED, Key, Ledger
from .scan import RETAIN_PASSES, Scanner


class Agent:
    """``step()`` once per interval (``run()`` does it until stopped)."""

    def __init__(
        self, per: str, options: dict[str, Any], port: int, root: Path | None = None
    ) -> None:
        from ..tracker import Tracker

        self.root = root or Path(os.environ.get("WATTPRINT_ROOT", "/"))
        self.per = per
        self.port = port
        self.scanner = Scanner(self.root, per)
        self.ledger = Ledger(RETAIN_PASSES)
        self.lock = threading.Lock()
        self.processes = 0
        self.scan_s = 0.0
        self.tracker = Tracker(**{**options, "prometheus_port": port, "tracking_mode": "machine"})
        self._collector: ConsumerCollector | None = None
        self._last: dict[str, float] = {}
        self._t = 0.0
        self._busy: float | None = None
        self._idle_w: dict[str, float] = {}
        self._gpu_seen: dict[str, int] = {}
        self._gpu_last: dict[str, float] = {}

    def start(self) -> Agent:
        from ..meters.base import ProbeContext
        from ..meters.cpu_model import machine_model
        from ..sinks import prometheus

        prometheus._serve(self.port)  # a taken port fails here, before anything runs
        self.tracker.start()
        _, curve = machine_model(ProbeContext(root=self.root))
        self._idle_w = {c: curve.component(c, 0.0)[0] for c in ("cpu", "platform")}
        self._collector = ConsumerCollector(self)
        prometheus._registry.register(self._collector)
        self._last = self._node_joules()
        self._t = time.monotonic()
        stat = cpu_busy_total(self.root)
        self._busy = stat[0] if stat else None
        self.scanner.scan()  # the baseline: what ran before the agent is nobody's here
        return self

    def stop(self) -> None:
        from ..sinks import prometheus

        if self._collector is not None:
            prometheus._registry.unregister(self._collector)
            self._collector = None
        self.tracker.stop()

    def _node_joules(self) -> dict[str, float]:
        r = self.tracker.peek()
        out: dict[str, float] = {}
        if r is None:
            return out
        for name, comp in (*r.components.items(), ("platform", r.platform)):
            if comp is not None and comp.energy_kwh is not None:
                out[name] = comp.energy_kwh * J_PER_KWH
                self.ledger.methods.setdefault(name, comp.method)
        return out

    def step(self) -> None:
        started = time.process_time()
        now_j = self._node_joules()
        now = time.monotonic()
        dt, self._t = now - self._t, now
        stat = cpu_busy_total(self.root)
        busy_ticks = 0.0
        if stat is not None and self._busy is not None:
            busy_ticks = max(0.0, stat[0] - self._busy)
        self._busy = stat[0] if stat else self._busy
        found = self.scanner.scan()
        mem_total = meminfo_kib(self.root).get("MemTotal", 0) * 1024
        deltas = {c: now_j[c] - self._last.get(c, 0.0) for c in now_j}
        self._last = now_j
        gpu = self._gpu_weights()
        with self.lock:
            ledger = self.ledger
            for component, d_e in deltas.items():
                method = ledger.methods.get(component, "")
                if component in ("cpu", "platform"):
                    ledger.split(
                        component,
                        method,
                        d_e,
                        found.ticks,
                        busy_ticks,
                        self._idle_w.get(component, 0.0) * dt,
                    )
                elif component == "ram":
                    ledger.split(component, method, d_e, found.rss, float(mem_total))
                elif component == "gpu":
                    self._split_gpu(d_e, method, gpu)
            ledger.retire(set(found.rss))
            self.processes = found.processes
            self.scan_s = time.process_time() - started

    # -- GPUs: NVML's per-process figures ------------------------------------------------------

    def _gpu_meters(self) -> list[Any]:
        run = getattr(self.tracker, "_run", None)
        comp = run.components.get("gpu") if run is not None else None
        return [m for m in (comp.meters if comp else []) if hasattr(m, "device_energies")]

    def _gpu_weights(self) -> list[tuple[float, dict[Key, float] | None]]:
        """Per GPU: (its energy since the last step, weights per consumer; None: nobody on it)."""
        out = []
        for meter in self._gpu_meters():
            adapter = getattr(meter, "_adapter", None)
            for g, e, _, _ in meter.device_energies():
                d_e = e - self._gpu_last.get(g.uuid, 0.0)
                self._gpu_last[g.uuid] = e
                try:
                    procs = adapter.compute_processes(g.handle)
                    samples = adapter.process_utilization(g.handle, self._gpu_seen.get(g.uuid, 0))
                except Exception:  # no per-process figures on this GPU: unattributed
                    out.append((d_e, {}))
                    continue
                if samples:
                    self._gpu_seen[g.uuid] = max(ts for _, _, ts in samples)
                out.append((d_e, self._gpu_split(procs, samples)))
        return out

    def _gpu_split(
        self, procs: list[tuple[int, int | None]], samples: list[tuple[int, float, int]]
    ) -> dict[Key, float] | None:
        if not procs:
            return None
        by_pid: dict[int, float] = {}
        for pid, util, _ in samples:
            by_pid[pid] = by_pid.get(pid, 0.0) + util
        if sum(by_pid.values()) <= 0:
            by_pid = {pid: float(mem or 1) for pid, mem in procs}
        weights: dict[Key, float] = {}
        for pid, w in by_pid.items():
            proc = self.scanner.procs.get(pid)
            key = proc.key if proc is not None else UNATTRIBUTED
            weights[key] = weights.get(key, 0.0) + w
        return weights

    def _split_gpu(self, d_e: float, method: str, per_gpu: list[Any]) -> None:
        ledger = self.ledger
        if not per_gpu:
            ledger.split("gpu", method, d_e, {}, 0.0)
            return
        for energy, weights in per_gpu:
            if weights is None:
                ledger.split("gpu", method, energy, {}, 0.0, idle_j=energy)
            else:
                ledger.split("gpu", method, energy, weights, 0.0)

    def run(self, interval_s: float, stop: threading.Event, duration_s: float | None) -> None:
        started = time.monotonic()
        while not stop.wait(interval_s):
            self.step()
            if duration_s is not None and time.monotonic() - started >= duration_s:
                break
