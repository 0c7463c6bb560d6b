"""NVIDIA GPUs through NVML: the total-energy counter where the GPU has one, power sampling if not.

Every NVML call goes through :class:`NvmlAdapter`, which the tests replace (``load_adapter``).
``pynvml`` is imported only when the adapter is initialised, never by ``import wattprint``.

What is not NVML-specific (the energy bookkeeping, the meter around it) lives in
:mod:`.tracks` and :mod:`.gpu` and is shared with the AMD meter.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .base import MeterError, Probe, ProbeContext
from .gpu import COMPONENT, Gpu, GpuMeter, LibraryUnavailable, probe_gpus, unusable
from .gpu import POLL_INTERVAL_S as POLL_INTERVAL_S
from .gpu import UNKNOWN_LIMIT_W as UNKNOWN_LIMIT_W
from .tracks import CounterTrack, PowerTrack

NAME = "nvml"
#: Present wherever the NVIDIA kernel driver is usable, containers included.
DRIVER_PATHS = ("/dev/nvidiactl", "/proc/driver/nvidia")
METHOD_COUNTER = "nvml-counter"
METHOD_POWER = "nvml-power"

#: NVML documents power readings as accurate to within +/-5 % of the current draw. The energy
#: counter integrates the same sensor, so it gets the same relative bound.
NVML_REL_ACCURACY = 0.05


# --------------------------------------------------------------------------------------------
# Errors


class NvmlError(Exception):
    """An NVML call failed (the catch-all)."""


class NvmlUnavailable(LibraryUnavailable, NvmlError):
    """NVML cannot be used at all: library missing, driver not loaded, init failed."""


class NotSupported(NvmlError):
    """This GPU or driver does not support the call (e.g. no energy counter before Volta)."""


class NvmlNotFound(NvmlError):
    """No such device (bad index or UUID)."""


# --------------------------------------------------------------------------------------------
# Adapter


class NvmlAdapter:
    """The only place that talks to pynvml; maps its errors to the small set above."""

    def __init__(self) -> None:
        self._nv: Any = None

    def init(self) -> None:
        if sys.platform == "linux" and not any(os.path.exists(p) for p in DRIVER_PATHS):
            # Importing pynvml alone costs ~18 ms (ctypes.util): not worth it without a driver.
            raise NvmlUnavailable(
                "no NVIDIA driver (neither /dev/nvidiactl nor /proc/driver/nvidia)"
            )
        try:
            import pynvml  # lazy: importing wattprint must not load NVML
        except ImportError as e:
            raise NvmlUnavailable(
                "pynvml not importable: the nvidia-ml-py package is not installed",
                fix="pip install nvidia-ml-py",
            ) from e
        self._nv = pynvml
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as e:
            mapped = self._map(e)
            if not isinstance(mapped, NvmlUnavailable):
                mapped = NvmlUnavailable(f"NVML init failed: {e}")
            raise mapped from e
        except Exception as e:  # ctypes/OS trouble while loading the library
            raise NvmlUnavailable(f"NVML init failed: {e}") from e

    def shutdown(self) -> None:
        if self._nv is None:
            return
        try:
            self._nv.nvmlShutdown()
        except self._nv.NVMLError:
            pass

    def _map(self, e: Exception) -> NvmlError:
        nv = self._nv
        code = getattr(e, "value", None)
        if code == nv.NVML_ERROR_LIBRARY_NOT_FOUND:
            return NvmlUnavailable("NVML library not found: no NVIDIA driver")
        if code == nv.NVML_ERROR_DRIVER_NOT_LOADED:
            return NvmlUnavailable(
                "NVIDIA driver not loaded",
                fix="load the nvidia kernel module (nvidia-smi must work)",
            )
        if code == nv.NVML_ERROR_LIB_RM_VERSION_MISMATCH:
            return NvmlUnavailable(
                "NVML library and NVIDIA kernel driver versions differ",
                fix="reboot, or reload the nvidia kernel module, after a driver update",
            )
        if code == nv.NVML_ERROR_UNINITIALIZED:
            return NvmlUnavailable("NVML is not initialised")
        if code in (nv.NVML_ERROR_NOT_SUPPORTED, nv.NVML_ERROR_FUNCTION_NOT_FOUND):
            return NotSupported(str(e))
        if code in (nv.NVML_ERROR_NOT_FOUND, nv.NVML_ERROR_INVALID_ARGUMENT):
            return NvmlNotFound(str(e))
        return NvmlError(str(e))

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except self._nv.NVMLError as e:
            raise self._map(e) from e

    def device_count(self) -> int:
        return int(self._call(self._nv.nvmlDeviceGetCount))

    def handle_by_index(self, index: int) -> Any:
        return self._call(self._nv.nvmlDeviceGetHandleByIndex, index)

    def handle_by_uuid(self, uuid: str) -> Any:
        """Works for GPU-... and MIG-... UUIDs."""
        return self._call(self._nv.nvmlDeviceGetHandleByUUID, uuid)

    def uuid(self, handle: Any) -> str:
        return _text(self._call(self._nv.nvmlDeviceGetUUID, handle))

    def name(self, handle: Any) -> str:
        return _text(self._call(self._nv.nvmlDeviceGetName, handle))

    def is_mig_device(self, handle: Any) -> bool:
        value = self._call(self._nv.nvmlDeviceIsMigDeviceHandle, handle)
        return bool(getattr(value, "value", value))  # pynvml returns a ctypes c_uint

    def parent_of_mig(self, handle: Any) -> Any:
        return self._call(self._nv.nvmlDeviceGetDeviceHandleFromMigDeviceHandle, handle)

    def mig_devices(self, handle: Any) -> list[Any]:
        """The MIG device handles of a GPU ([] when MIG is off or unsupported)."""
        try:
            slots = int(self._call(self._nv.nvmlDeviceGetMaxMigDeviceCount, handle))
        except NvmlError:
            return []
        found = []
        for i in range(slots):
            try:
                found.append(self._call(self._nv.nvmlDeviceGetMigDeviceHandleByIndex, handle, i))
            except NvmlError:
                continue  # empty slot
        return found

    def total_energy_mj(self, handle: Any) -> int:
        """Energy since the driver was loaded, in mJ (Volta and newer; else NotSupported)."""
        return int(self._call(self._nv.nvmlDeviceGetTotalEnergyConsumption, handle))

    def power_mw(self, handle: Any) -> int:
        return int(self._call(self._nv.nvmlDeviceGetPowerUsage, handle))

    def power_limit_mw(self, handle: Any) -> int:
        return int(self._call(self._nv.nvmlDeviceGetEnforcedPowerLimit, handle))

    def utilization_gpu_percent(self, handle: Any) -> float:
        return float(self._call(self._nv.nvmlDeviceGetUtilizationRates, handle).gpu)

    def compute_processes(self, handle: Any) -> list[tuple[int, int | None]]:
        """(pid, GPU memory in bytes or None) of the processes computing on the GPU now."""
        procs = self._call(self._nv.nvmlDeviceGetComputeRunningProcesses, handle)
        return [(int(p.pid), _bytes(getattr(p, "usedGpuMemory", None))) for p in procs]

    def process_utilization(self, handle: Any, since_us: int) -> list[tuple[int, float, int]]:
        """(pid, SM utilization %, sample time in us) of per-process samples after ``since_us``.
        NVML answers NotFound when no process ran since then: that is no samples."""
        try:
            samples = self._call(self._nv.nvmlDeviceGetProcessUtilization, handle, since_us)
        except NvmlNotFound:
            return []
        return [(int(s.pid), float(s.smUtil), int(s.timeStamp)) for s in samples]


def _bytes(value: Any) -> int | None:
    # NVML reports NVML_VALUE_NOT_AVAILABLE (2**64 - 1) where the driver cannot tell (WDDM, MIG).
    return None if value is None or int(value) >= 2**63 else int(value)


def _text(value: str | bytes) -> str:
    # Old pynvml versions return bytes.
    return value.decode() if isinstance(value, bytes) else value


def load_adapter() -> NvmlAdapter:
    """The adapter ``probe`` uses; tests replace this function."""
    return NvmlAdapter()


# --------------------------------------------------------------------------------------------
# Inventory and selection


@dataclass(frozen=True)
class GpuInfo(Gpu):
    """One physical GPU as NVML enumerates it."""


@dataclass
class Selection:
    """What a list of GPU ids resolved to."""

    gpus: list[GpuInfo]
    unmatched: list[str]  # entries that matched nothing (and, for CUDA, those after them)
    mig: list[tuple[str, GpuInfo]]  # (MIG UUID, parent) for each MIG entry
    why: dict[str, str]  # entry -> why it matched nothing


def inventory(adapter: NvmlAdapter) -> list[GpuInfo]:
    gpus = []
    for i in range(adapter.device_count()):
        h = adapter.handle_by_index(i)
        gpus.append(GpuInfo(i, adapter.uuid(h), adapter.name(h), h))
    return gpus


class _Resolver:
    def __init__(self, adapter: NvmlAdapter, gpus: Sequence[GpuInfo]) -> None:
        self.adapter = adapter
        self.gpus = gpus
        self._migs: list[tuple[str, GpuInfo]] | None = None

    def mig_uuids(self) -> list[tuple[str, GpuInfo]]:
        if self._migs is None:  # enumerated only when a MIG prefix needs it
            self._migs = []
            for g in self.gpus:
                for mh in self.adapter.mig_devices(g.handle):
                    try:
                        self._migs.append((self.adapter.uuid(mh), g))
                    except NvmlError:
                        continue
        return self._migs

    def by_uuid(self, uuid: str) -> GpuInfo | None:
        for g in self.gpus:
            if g.uuid.lower() == uuid.lower():
                return g
        return None

    def resolve(self, entry: str) -> tuple[GpuInfo, str | None] | str:
        """(GPU, MIG UUID or None), or why the entry matches nothing."""
        if entry.isdigit():
            i = int(entry)
            for g in self.gpus:
                if g.index == i:
                    return g, None
            return f"no GPU with index {i}"
        low = entry.lower()
        if low.startswith("gpu-"):
            hits = [g for g in self.gpus if g.uuid.lower().startswith(low)]
            if len(hits) == 1:
                return hits[0], None
            return "ambiguous UUID prefix" if hits else "no GPU with this UUID"
        if low.startswith("mig-"):
            return self._resolve_mig(entry)
        return "not an index, GPU-... or MIG-... UUID"

    def _resolve_mig(self, entry: str) -> tuple[GpuInfo, str | None] | str:
        adapter = self.adapter
        try:
            h = adapter.handle_by_uuid(entry)
            if adapter.is_mig_device(h):
                parent = self.by_uuid(adapter.uuid(adapter.parent_of_mig(h)))
                if parent is not None:
                    return parent, adapter.uuid(h)
        except NvmlError:
            pass  # not a full UUID: try it as a prefix
        low = entry.lower()
        hits = [(u, g) for u, g in self.mig_uuids() if u.lower().startswith(low)]
        if len(hits) == 1:
            return hits[0][1], hits[0][0]
        if hits:
            return "ambiguous MIG UUID prefix"
        if low.startswith("mig-gpu-"):  # old form MIG-GPU-<gpu uuid>/<gi>/<ci>
            gpu_part = entry[4:].split("/")[0].lower()
            parents = [g for g in self.gpus if g.uuid.lower().startswith(gpu_part)]
            if len(parents) == 1:
                return parents[0], entry
        return "no MIG device with this UUID"


def select(
    entries: Sequence[str], adapter: NvmlAdapter, gpus: Sequence[GpuInfo], *, cuda: bool
) -> Selection:
    """Resolve GPU ids. With ``cuda``, CUDA_VISIBLE_DEVICES rules: stop at the first bad entry."""
    resolver = _Resolver(adapter, gpus)
    chosen: list[GpuInfo] = []
    unmatched: list[str] = []
    mig: list[tuple[str, GpuInfo]] = []
    why: dict[str, str] = {}
    for n, raw in enumerate(entries):
        entry = str(raw).strip()
        got = resolver.resolve(entry)
        if isinstance(got, str):
            why[entry] = got
            if cuda:
                unmatched.extend(str(e).strip() for e in entries[n:])
                break
            unmatched.append(entry)
            continue
        gpu, mig_uuid = got
        if mig_uuid is not None:
            mig.append((mig_uuid, gpu))
        if gpu not in chosen:  # a GPU named twice (or via two MIG slices) counts once
            chosen.append(gpu)
    return Selection(chosen, unmatched, mig, why)


def _split_env(value: str) -> list[str]:
    value = value.strip()
    if value in ("", "-1"):
        return []
    return value.split(",")


# --------------------------------------------------------------------------------------------
# Meter


class NvidiaMeter(GpuMeter[GpuInfo]):
    """Energy of a set of NVIDIA GPUs since the meter was opened."""

    _adapter: NvmlAdapter
    _error = NvmlError
    _key = NAME
    _method_counter = METHOD_COUNTER
    _method_power = METHOD_POWER

    def _energy_j(self, handle: Any) -> float:
        return self._adapter.total_energy_mj(handle) / 1000.0

    def _power_w(self, handle: Any) -> float:
        return self._adapter.power_mw(handle) / 1000.0

    def _power_limit_w(self, handle: Any) -> float:
        return self._adapter.power_limit_mw(handle) / 1000.0

    def _open_all(self) -> None:
        for g in self._gpus:
            self._open(g)

    def _open(self, g: GpuInfo) -> None:
        limit_w = self._limit_w(g)
        try:
            joules = self._energy_j(g.handle)
            self._counters.append(
                (g, CounterTrack(NVML_REL_ACCURACY, limit_w, joules, self._clock()))
            )
            return
        except NotSupported:
            pass  # pre-Volta: no counter, sample power instead (the method says so)
        except NvmlError as e:
            self._counter_unreadable(g, e)
        try:
            p = self._power_w(g.handle)
        except NvmlError as e:
            raise MeterError(f"{g.describe()}: neither energy nor power readable: {e}") from e
        self._powers.append((g, PowerTrack(NVML_REL_ACCURACY, limit_w, p, self._clock())))


# --------------------------------------------------------------------------------------------
# Probe


def probe(ctx: ProbeContext, *, clock: Callable[[], float] = time.monotonic) -> list[Probe]:
    """Find the NVIDIA GPUs to measure and open a meter on them."""
    return probe_gpus(
        NAME,
        load_adapter,
        lambda adapter: _probe_open(adapter, ctx, clock),
        error=NvmlError,
        library="NVML",
        vendor="NVIDIA",
        fix=_SELECT_FIX,
        count=lambda adapter: adapter.device_count(),
    )


_SELECT_FIX = (
    "choose GPUs by index or UUID with gpu_ids=('0', 'GPU-...') or CUDA_VISIBLE_DEVICES=0,1"
)


def _probe_open(adapter: NvmlAdapter, ctx: ProbeContext, clock: Callable[[], float]) -> list[Probe]:
    gpus = inventory(adapter)
    if not gpus:
        return unusable(NAME, "NVML is loaded but found no NVIDIA GPU", None)

    if ctx.gpu_ids is not None:
        entries: list[str] = [str(e) for e in ctx.gpu_ids]
        source = f"gpu_ids={tuple(ctx.gpu_ids)!r}"
        cuda = False
    elif "CUDA_VISIBLE_DEVICES" in ctx.env:
        value = ctx.env["CUDA_VISIBLE_DEVICES"]
        entries = _split_env(value)
        source = f"CUDA_VISIBLE_DEVICES={value!r}"
        cuda = True
    else:
        entries = [str(g.index) for g in gpus]
        source = "all GPUs"
        cuda = False

    sel = select(entries, adapter, gpus, cuda=cuda)
    existing = ", ".join(f"GPU {g.index} ({g.uuid})" for g in gpus)
    if not sel.gpus:
        if entries:
            reason = f"the GPU selection {source} matches none of the GPUs here: {existing}"
        else:
            reason = f"the GPU selection {source} hides every GPU; GPUs here: {existing}"
        if sel.why:
            reason += " (" + "; ".join(f"{e!r}: {w}" for e, w in sel.why.items()) + ")"
        ctx.warn("nvml-selection-empty", f"No NVIDIA GPU measured: {reason}. {_SELECT_FIX}.")
        return unusable(NAME, reason, _SELECT_FIX, present=True)

    notes: tuple[str, ...] = ()
    if sel.unmatched:
        if cuda:
            msg = (
                f"{source}: entry {sel.unmatched[0]!r} matches no GPU "
                f"({sel.why.get(sel.unmatched[0], 'invalid')}); as CUDA does, it and every "
                f"entry after it are ignored ({', '.join(sel.unmatched)}). GPUs here: {existing}"
            )
        else:
            msg = (
                f"{source}: {', '.join(repr(e) for e in sel.unmatched)} match no GPU and are "
                f"ignored. GPUs here: {existing}"
            )
        ctx.warn("nvml-selection-unmatched", msg)
        notes = (msg,)

    if cuda and any(e.strip().isdigit() for e in entries):
        models = {g.name for g in gpus}
        if len(models) > 1 and ctx.env.get("CUDA_DEVICE_ORDER") != "PCI_BUS_ID":
            # CUDA orders mixed GPUs fastest first by default, NVML by PCI bus: indices may differ.
            ctx.warn(
                "nvml-cuda-device-order",
                f"{source} uses indices on a machine with different GPU models; CUDA numbers them "
                "fastest first unless CUDA_DEVICE_ORDER=PCI_BUS_ID, NVML by PCI bus, so the "
                "measured GPUs may not be the ones used. Set CUDA_DEVICE_ORDER=PCI_BUS_ID or use "
                "GPU UUIDs.",
            )

    if sel.mig:
        slices = ", ".join(f"{u} on GPU {g.index}" for u, g in sel.mig)
        ctx.warn(
            "nvml-mig-shared",
            f"MIG devices selected ({slices}): NVML has no per-slice energy, so the whole "
            "parent GPU is measured (once), an energy shared with its other slices.",
        )

    meter = NvidiaMeter(adapter, sel.gpus, clock=clock, warn=ctx.warn)
    how = {
        METHOD_COUNTER: "energy counter",
        METHOD_POWER: "power sampled every second",
    }.get(meter.method, "energy counter where available, power sampling elsewhere")
    reason = f"{meter.gpu_count} NVIDIA GPU(s) via NVML ({how}): " + "; ".join(meter.devices)
    return [
        Probe(name=NAME, component=COMPONENT, usable=True, reason=reason, meter=meter, notes=notes)
    ]
