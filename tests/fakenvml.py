"""A stand-in for the NVML adapter, for tests of the tracker as a whole.

It implements the adapter methods the NVIDIA meter calls, over GPUs whose counters and power
the test sets by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wattprint.meters import nvidia


@dataclass
class FakeGpu:
    uuid: str
    name: str = "NVIDIA H100 80GB HBM3"
    energy_mj: int | None = 1_000_000  # None: no total-energy counter
    power_mw: int = 100_000
    limit_mw: int = 700_000
    util: float = 50.0
    migs: list[str] = field(default_factory=list)
    # Per-process figures: (pid, GPU memory bytes or None) computing now, and utilization
    # samples (pid, SM %, timestamp in us) as nvmlDeviceGetProcessUtilization gives them.
    processes: list[tuple[int, int | None]] = field(default_factory=list)
    samples: list[tuple[int, float, int]] = field(default_factory=list)


class FakeNvml:
    def __init__(self, gpus: list[FakeGpu]) -> None:
        self.gpus = gpus
        self.shutdowns = 0

    def init(self) -> None:
        return None

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
            if uuid in gpu.migs:
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
        return [("mig", handle, m) for m in handle.migs]

    def total_energy_mj(self, handle: FakeGpu) -> int:
        if handle.energy_mj is None:
            raise nvidia.NotSupported("no energy counter on this GPU")
        return handle.energy_mj

    def power_mw(self, handle: FakeGpu) -> int:
        return handle.power_mw

    def power_limit_mw(self, handle: FakeGpu) -> int:
        return handle.limit_mw

    def utilization_gpu_percent(self, handle: FakeGpu) -> float:
        return handle.util

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
