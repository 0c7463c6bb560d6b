"""A stand-in for the amdsmi adapter (``wattprint.meters.amd``'s ``AmdSmiAdapter``), and a
``sleep`` that lets time pass on a fake clock while the GPUs' counters move."""

from __future__ import annotations

from tests.fakes.fakeclock import Clock
from wattprint.meters import amd

MI300X = "AMD Instinct MI300X"


class FakeAmdGpu:
    def __init__(
        self,
        uuid: str,
        *,
        power_w: float = 200.0,
        energy_uj: float | None = 1e12,
        counter_moves: bool = True,
        limit_w: float = 750.0,
        util: float = 40.0,
    ) -> None:
        self.uuid = uuid
        self.power_w = power_w
        self.energy_uj = energy_uj  # None: no counter on this GPU
        self.counter_moves = counter_moves  # False: the counter is stuck, as on some drivers
        self.limit_w = limit_w
        self.util = util
        self.fail = False


class FakeAmd:
    """Stands in for AmdSmiAdapter. Handles are GPU indices."""

    def __init__(self, gpus: list[FakeAmdGpu]) -> None:
        self.gpus = gpus
        self.shutdowns = 0

    def _gpu(self, h: int) -> FakeAmdGpu:
        g = self.gpus[h]
        if g.fail:
            raise amd.AmdSmiError("device busy")
        return g

    def init(self) -> None:
        pass

    def shutdown(self) -> None:
        self.shutdowns += 1

    def handles(self) -> list[int]:
        return list(range(len(self.gpus)))

    def uuid(self, h: int) -> str:
        return self.gpus[h].uuid

    def name(self, h: int) -> str:
        return MI300X

    def energy_uj(self, h: int) -> float:
        g = self._gpu(h)
        if g.energy_uj is None:
            raise amd.NotSupported("no counter")
        return g.energy_uj

    def power_w(self, h: int) -> float:
        return self._gpu(h).power_w

    def power_limit_w(self, h: int) -> float:
        return self._gpu(h).limit_w

    def utilization_gpu_percent(self, h: int) -> float:
        return self._gpu(h).util


class Sleep:
    """Lets time pass: the clock moves and moving counters accumulate power x time."""

    def __init__(self, fake: FakeAmd, clock: Clock) -> None:
        self.fake = fake
        self.clock = clock
        self.calls: list[float] = []

    def __call__(self, dt: float) -> None:
        self.calls.append(dt)
        self.clock.t += dt
        for g in self.fake.gpus:
            if g.energy_uj is not None and g.counter_moves:
                g.energy_uj += g.power_w * dt * 1e6
