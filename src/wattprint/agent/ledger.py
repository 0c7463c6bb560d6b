"""Each interval's energy, split among consumers, ``idle`` and ``unattributed``.

Per component and interval, with ``E`` the node's measured energy:

- CPU and platform: ``idle`` gets the power model's idle power over the interval (never more
  than ``E``); the rest goes to consumers by CPU ticks, over the larger of the machine's busy
  ticks and the consumers' sum; ``unattributed`` gets what no process accounts for (interrupts,
  processes that came and went between two passes and whose parent did not reap them).
- RAM: consumers by resident memory over the larger of installed memory and their sum;
  ``idle`` gets the memory nobody holds.
- GPU: per GPU, the processes NVML lists, by SM utilization samples (else GPU memory); a GPU
  nobody computes on is ``idle``; processes NVML lists but /proc does not (another pid
  namespace) are ``unattributed``.

By construction consumers + idle + unattributed == E, interval by interval.
"""

from __future__ import annotations

from collections.abc import Mapping

Key = tuple[str, ...]
IDLE: Key = ("idle", "", "", "", "", "", "")
UNATTRIBUTED: Key = ("unattributed", "", "", "", "", "", "")
EXITED: Key = ("exited", "", "", "", "", "", "")


class Ledger:
    def __init__(self, retain_passes: int) -> None:
        self.retain = retain_passes
        self.energy: dict[tuple[Key, str], float] = {}
        self.methods: dict[str, str] = {}
        self.node: dict[str, float] = {}
        self._absent: dict[Key, int] = {}

    def _add(self, key: Key, component: str, joules: float) -> None:
        if joules > 0:
            self.energy[(key, component)] = self.energy.get((key, component), 0.0) + joules

    def split(
        self,
        component: str,
        method: str,
        energy_j: float,
        weights: Mapping[Key, float],
        capacity: float,
        idle_j: float = 0.0,
    ) -> None:
        """Charge ``energy_j``: ``idle_j`` to idle, the rest by ``weights`` over
        ``max(capacity, sum)``; what the weights leave goes to ``rest`` (idle for memory,
        unattributed for time)."""
        if energy_j <= 0:
            return
        self.methods[component] = method
        self.node[component] = self.node.get(component, 0.0) + energy_j
        idle_j = min(max(0.0, idle_j), energy_j)
        self._add(IDLE, component, idle_j)
        work = energy_j - idle_j
        total = sum(weights.values())
        denominator = max(capacity, total)
        if denominator <= 0:
            self._add(UNATTRIBUTED, component, work)
            return
        charged = 0.0
        for key, weight in weights.items():
            part = work * weight / denominator
            self._add(key, component, part)
            charged += part
        rest = IDLE if component == "ram" else UNATTRIBUTED
        self._add(rest, component, work - charged)

    def retire(self, alive: set[Key]) -> None:
        """Fold series of consumers gone for ``retain`` passes into ``exited``."""
        fixed = {IDLE, UNATTRIBUTED, EXITED}
        consumers = {key for key, _ in self.energy} - fixed
        for key in consumers:
            if key in alive:
                self._absent.pop(key, None)
                continue
            self._absent[key] = self._absent.get(key, 0) + 1
            if self._absent[key] > self.retain:
                del self._absent[key]
                for k, component in [e for e in self.energy if e[0] == key]:
                    self._add(EXITED, component, self.energy.pop((k, component)))
