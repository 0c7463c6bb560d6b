"""A stand-in for the NVML adapter (``wattprint.meters.nvidia``'s ``NvmlAdapter``): the one fake
for the meter's own tests and for tests of the tracker as a whole.

It implements the adapter methods the NVIDIA meter calls, over GPUs whose counters, power and
failures the test sets by hand between calls. A GPU's handle is its ``FakeGpu``; a MIG device's
is ``("mig", parent FakeGpu, MIG UUID)``, and reading one raises: a meter reads the parent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wattprint.meters import nvidia


@dataclass
class FakeGpu:
    uuid: str
    name: str = "NVIDIA H100 80GB HBM3"
    energy_mj: int | None = 1_000_000  # None: no total-energy counter (pre-Volta)
    power_mw: int = 100_000
    limit_mw: int = 700_000
    util: float = 50.0
    migs: list[str] = field(default_factory=list)
    # Per-process figures: (pid, GPU memory bytes or None) computing now, and utilization
    # samples (pid, SM %, timestamp in us) as nvmlDeviceGetProcessUtilization gives them.
    processes: list[tuple[int, int | None]] = field(default_factory=list)
    samples: list[tuple[int, float, int]] = field(default_factory=list)
    fail: bool = False  # every read raises a plain NvmlError (a lost GPU)
    power_fails: bool = False  # only power reads raise


class FakeNvml:
    """``migs`` (MIG UUID -> index of its parent GPU) adds MIG devices beside each GPU's own
    ``FakeGpu.migs``; ``init_error`` is what ``init()`` raises (a missing or broken driver)."""

    def __init__(
        self,
        gpus: list[FakeGpu],
        migs: dict[str, int] | None = None,
        init_error: Exception | None = None,
    ) -> None:
        self.gpus = gpus
        self.migs = dict(migs or {})
        self.init_error = init_error
        self.shutdowns = 0

    def _mig_uuids(self, gpu: FakeGpu) -> list[str]:
        extra = [m for m, i in self.migs.items() if 0 <= i < len(self.gpus) and self.gpus[i] is gpu]
        return [*gpu.migs, *extra]

    def _read(self, handle: object) -> FakeGpu:
        assert isinstance(handle, FakeGpu), "meters must read the parent GPU, never a MIG handle"
        if handle.fail:
            raise nvidia.NvmlError("GPU is lost")
        return handle

    def init(self) -> None:
        if self.init_error is not None:
            raise self.init_error

    def shutdown(self) -> None:
        self.shutdowns += 1

    def device_count(self) -> int:
        return len(self.gpus)

    def handle_by_index(self, index: int) -> FakeGpu:
        if not 0 <= index < len(self.gpus):
            raise nvidia.NvmlNotFound(f"no GPU {index}")
        return self.gpus[index]

    def handle_by_uuid(self, uuid: str) -> object:
        for gpu in self.gpus:
            if gpu.uuid == uuid:
                return gpu
            if uuid in self._mig_uuids(gpu):
                return ("mig", gpu, uuid)
        raise nvidia.NvmlNotFound(uuid)

    def uuid(self, handle: object) -> str:
        return handle[2] if isinstance(handle, tuple) else handle.uuid  # type: ignore[union-attr]

    def name(self, handle: object) -> str:
        return handle[1].name if isinstance(handle, tuple) else handle.name  # type: ignore[union-attr]

    def is_mig_device(self, handle: object) -> bool:
        return isinstance(handle, tuple)

    def parent_of_mig(self, handle: object) -> FakeGpu:
        return handle[1]  # type: ignore[index]

    def mig_devices(self, handle: FakeGpu) -> list[object]:
        return [("mig", handle, m) for m in self._mig_uuids(handle)]

    def total_energy_mj(self, handle: FakeGpu) -> int:
        gpu = self._read(handle)
        if gpu.energy_mj is None:
            raise nvidia.NotSupported("no energy counter on this GPU")
        return gpu.energy_mj

    def power_mw(self, handle: FakeGpu) -> int:
        gpu = self._read(handle)
        if gpu.power_fails:
            raise nvidia.NvmlError("power unreadable")
        return gpu.power_mw

    def power_limit_mw(self, handle: FakeGpu) -> int:
        return self._read(handle).limit_mw

    def utilization_gpu_percent(self, handle: FakeGpu) -> float:
        return self._read(handle).util

    def compute_processes(self, handle: FakeGpu) -> list[tuple[int, int | None]]:
        return list(handle.processes)

    def process_utilization(self, handle: FakeGpu, since_us: int) -> list[tuple[int, float, int]]:
        return [s for s in handle.samples if s[2] > since_us]


class NoNvml(FakeNvml):
    """A machine without the NVIDIA driver."""

    def __init__(self) -> None:
        super().__init__([])

    def init(self) -> None:
        raise nvidia.NvmlUnavailable("NVML library not found: no NVIDIA driver")
