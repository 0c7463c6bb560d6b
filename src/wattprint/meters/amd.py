"""AMD GPUs through the amdsmi Python package (ROCm): energy counter if it advances, else power.

Every amdsmi call goes through :class:`AmdSmiAdapter`, which the tests replace
(``load_adapter``). ``amdsmi`` is imported only when the adapter is initialised.

Some drivers return an energy counter that never moves within a process (seen on MI100/MI210),
so a counter is only trusted once it has been seen to advance: at open (two reads ~50 ms apart)
or, for a GPU idle at 0 W then, at the first poll or read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .base import Probe, ProbeContext, Warn
from .gpu import COMPONENT, Gpu, GpuMeter, LibraryUnavailable, no_warn, probe_gpus, unusable
from .gpu import POLL_INTERVAL_S as POLL_INTERVAL_S
from .gpu import UNKNOWN_LIMIT_W as UNKNOWN_LIMIT_W
from .tracks import CounterTrack, PowerTrack

NAME = "amdsmi"
METHOD_COUNTER = "amdsmi-counter"
METHOD_POWER = "amdsmi-power"

#: Assumption: AMD publishes no accuracy figure for its SMU power/energy telemetry. We assume
#: +/-10 % (twice what NVIDIA documents for NVML) until measurements say otherwise.
AMD_REL_ACCURACY = 0.10
#: How long to wait between the two counter reads that check the counter advances.
SETTLE_S = 0.05

# amdsmi status codes (amdsmi.h) used when the module does not export them.
_STATUS_NOT_SUPPORTED = 2
_STATUS_NOT_YET_IMPLEMENTED = 3


class AmdSmiError(Exception):
    """An amdsmi call failed (the catch-all)."""


class AmdSmiUnavailable(LibraryUnavailable, AmdSmiError):
    """amdsmi cannot be used: not installed, library missing, init failed."""


class NotSupported(AmdSmiError):
    """This GPU or driver does not support the call."""


class AmdSmiAdapter:
    """The only place that talks to amdsmi; maps its errors to the small set above."""

    def __init__(self) -> None:
        self._smi: Any = None
        self._not_supported: tuple[int, ...] = (_STATUS_NOT_SUPPORTED, _STATUS_NOT_YET_IMPLEMENTED)

    def init(self) -> None:
        try:
            import amdsmi  # lazy: rarely installed, and it loads a native library
        except ImportError as e:
            raise AmdSmiUnavailable(
                "amdsmi not installed (ROCm)",
                fix="install the amdsmi Python package that matches your ROCm version",
            ) from e
        except Exception as e:  # the package is there but its native library is not
            raise AmdSmiUnavailable(f"amdsmi could not load the AMD SMI library: {e}") from e
        self._smi = amdsmi
        wrapper = getattr(amdsmi, "amdsmi_wrapper", None)
        if wrapper is not None:
            self._not_supported = (
                getattr(wrapper, "AMDSMI_STATUS_NOT_SUPPORTED", _STATUS_NOT_SUPPORTED),
                getattr(wrapper, "AMDSMI_STATUS_NOT_YET_IMPLEMENTED", _STATUS_NOT_YET_IMPLEMENTED),
            )
        flags = getattr(amdsmi, "AmdSmiInitFlags", None)
        try:
            if flags is not None and hasattr(flags, "INIT_AMD_GPUS"):
                amdsmi.amdsmi_init(flags.INIT_AMD_GPUS)
            else:
                amdsmi.amdsmi_init()
        except Exception as e:
            raise AmdSmiUnavailable(
                f"amdsmi init failed: {e}", fix="check that the amdgpu driver is loaded"
            ) from e

    def shutdown(self) -> None:
        if self._smi is None:
            return
        try:
            self._smi.amdsmi_shut_down()
        except Exception:
            pass

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as e:
            if getattr(e, "err_code", None) in self._not_supported:
                raise NotSupported(str(e)) from e
            raise AmdSmiError(str(e) or type(e).__name__) from e

    def handles(self) -> list[Any]:
        return list(self._call(self._smi.amdsmi_get_processor_handles))

    def uuid(self, handle: Any) -> str:
        return str(self._call(self._smi.amdsmi_get_gpu_device_uuid, handle))

    def name(self, handle: Any) -> str:
        try:
            name = self._call(self._smi.amdsmi_get_gpu_asic_info, handle).get("market_name")
        except AmdSmiError:
            name = None
        if not name or name == "N/A":
            try:
                name = self._call(self._smi.amdsmi_get_gpu_board_info, handle).get("product_name")
            except AmdSmiError:
                name = None
        return str(name) if name and name != "N/A" else "AMD GPU"

    def energy_uj(self, handle: Any) -> float:
        """Accumulated energy in microjoules (counter ticks x resolution)."""
        info = self._call(self._smi.amdsmi_get_energy_count, handle)
        ticks = info.get("energy_accumulator", info.get("power"))  # "power" before ROCm 6.1
        resolution = info.get("counter_resolution")
        if not isinstance(ticks, (int, float)) or not isinstance(resolution, (int, float)):
            raise NotSupported(f"no energy counter in {info!r}")
        return float(ticks) * float(resolution)

    def power_w(self, handle: Any) -> float:
        info = self._call(self._smi.amdsmi_get_power_info, handle)
        # Field names changed across ROCm releases; unsupported fields read "N/A".
        for key in ("socket_power", "current_socket_power", "average_socket_power"):
            value = info.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
        raise NotSupported(f"no socket power in {info!r}")

    def power_limit_w(self, handle: Any) -> float:
        info = self._call(self._smi.amdsmi_get_power_cap_info, handle)
        cap = info.get("power_cap")
        if not isinstance(cap, (int, float)) or cap <= 0:
            raise NotSupported(f"no power cap in {info!r}")
        return float(cap) / 1e6  # microwatts

    def utilization_gpu_percent(self, handle: Any) -> float:
        value = self._call(self._smi.amdsmi_get_gpu_activity, handle).get("gfx_activity")
        if not isinstance(value, (int, float)):
            raise NotSupported(f"no gfx activity: {value!r}")
        return float(value)


def load_adapter() -> AmdSmiAdapter:
    """The adapter ``probe`` uses; tests replace this function."""
    return AmdSmiAdapter()


@dataclass(frozen=True)
class AmdGpu(Gpu):
    """One GPU as amdsmi enumerates it."""


class _Pending:
    """A counter not yet seen to move, with the GPU idle at 0 W when the meter opened."""

    __slots__ = ("gpu", "track", "t_open", "start_uj")

    def __init__(self, gpu: AmdGpu, track: CounterTrack, t_open: float, start_uj: float) -> None:
        self.gpu = gpu
        self.track = track
        self.t_open = t_open
        self.start_uj = start_uj


class AmdMeter(GpuMeter[AmdGpu]):
    """Energy of a set of AMD GPUs since the meter was opened."""

    _adapter: AmdSmiAdapter
    _error = AmdSmiError
    _key = NAME
    _method_counter = METHOD_COUNTER
    _method_power = METHOD_POWER

    def __init__(
        self,
        adapter: AmdSmiAdapter,
        gpus: Sequence[AmdGpu],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        warn: Warn = no_warn,
        settle_s: float = SETTLE_S,
    ) -> None:
        # Set before the base constructor, which opens the GPUs with them.
        self._sleep = sleep
        self._settle_s = settle_s
        self._pending: list[_Pending] = []
        super().__init__(adapter, gpus, clock=clock, warn=warn)

    def _energy_j(self, handle: Any) -> float:
        return self._adapter.energy_uj(handle) * 1e-6

    def _power_w(self, handle: Any) -> float:
        return self._adapter.power_w(handle)

    def _power_limit_w(self, handle: Any) -> float:
        return self._adapter.power_limit_w(handle)

    def _wants_polls(self) -> bool:
        # Unconfirmed counters are checked on the first poll, so ask to be polled then too.
        return bool(self._powers or self._pending)

    def _power(self, g: AmdGpu) -> float:
        try:
            return self._power_w(g.handle)
        except AmdSmiError as e:
            raise self._read_failed(g, "power", e) from e

    def _open_all(self) -> None:
        a = self._adapter
        limits: dict[int, float] = {}
        first: dict[int, float] = {}
        for g in self._gpus:
            limits[g.index] = self._limit_w(g)
            try:
                first[g.index] = a.energy_uj(g.handle)
            except NotSupported:
                pass  # power sampling, labelled by the method
            except AmdSmiError as e:
                self._counter_unreadable(g, e)
        if first:
            self._sleep(self._settle_s)  # once for all GPUs
        for g in self._gpus:
            limit = limits[g.index]
            if g.index in first:
                try:
                    second = a.energy_uj(g.handle)
                except AmdSmiError:
                    second = None
                t = self._clock()
                if second is not None and second > first[g.index]:
                    track = CounterTrack(AMD_REL_ACCURACY, limit, second * 1e-6, t)
                    self._counters.append((g, track))
                    continue
                p = self._power(g)
                if second is not None and second == first[g.index] and p <= 0.0:
                    # Idle at 0 W: a still counter proves nothing yet; decide on first poll.
                    track = CounterTrack(AMD_REL_ACCURACY, limit, second * 1e-6, t)
                    self._counters.append((g, track))
                    self._pending.append(_Pending(g, track, t, second))
                    continue
                self._counter_stuck(g, p)
                self._powers.append((g, PowerTrack(AMD_REL_ACCURACY, limit, p, t)))
            else:
                p = self._power(g)
                self._powers.append((g, PowerTrack(AMD_REL_ACCURACY, limit, p, self._clock())))

    def _counter_stuck(self, g: AmdGpu, p: float) -> None:
        self._warn_once(
            f"{NAME}-counter-stuck:{g.uuid}",
            f"{g.describe()}: the energy counter did not advance while the GPU drew "
            f"{p:.0f} W; sampling power instead (amdsmi-power)",
        )

    def poll(self) -> None:
        self._catch_up(self._clock())
        super().poll()

    def _catch_up(self, now: float) -> None:
        if self._pending:
            self._check_pending(now)

    def _check_pending(self, now: float) -> None:
        for pend in list(self._pending):
            g = pend.gpu
            try:
                raw = self._adapter.energy_uj(g.handle)
            except AmdSmiError as e:
                raise self._read_failed(g, "energy", e) from e
            if raw != pend.start_uj:
                self._pending.remove(pend)  # it moved: a working counter
                continue
            p = self._power(g)
            if p <= 0.0:
                continue  # still idle at 0 W: still undecided, and 0 J is right so far
            self._pending.remove(pend)
            self._counters = [(cg, ct) for cg, ct in self._counters if cg is not g]
            # Power rose from 0 W since open; integrate from there (the sampling term and,
            # past MAX_SAMPLE_GAP_S, a labelled gap cover not knowing when it rose).
            track = PowerTrack(AMD_REL_ACCURACY, pend.track.limit_w, 0.0, pend.t_open)
            track.sample(p, now)
            self._powers.append((g, track))
            self._set_method()
            self._counter_stuck(g, p)


# --------------------------------------------------------------------------------------------
# Selection and probe

_SELECT_FIX = "choose GPUs by index with gpu_ids=('0', '1') or ROCR_VISIBLE_DEVICES=0,1"


def _apply(
    visible: list[AmdGpu], entries: Sequence[str], source: str, bad: list[str]
) -> list[AmdGpu]:
    """Pick ``entries`` (indices into ``visible``); collect the ones that match nothing."""
    chosen: list[AmdGpu] = []
    for raw in entries:
        entry = str(raw).strip()
        if entry.isdigit() and int(entry) < len(visible):
            gpu = visible[int(entry)]
            if gpu not in chosen:
                chosen.append(gpu)
        else:
            bad.append(f"{source}: {entry!r}")
    return chosen


def _env_list(value: str) -> list[str] | None:
    # An empty variable is treated as unset; "-1" hides every GPU, as with CUDA.
    value = value.strip()
    if value == "":
        return None
    if value == "-1":
        return []
    return value.split(",")


def probe(
    ctx: ProbeContext,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Probe]:
    """Find the AMD GPUs to measure and open a meter on them."""
    return probe_gpus(
        NAME,
        load_adapter,
        lambda adapter: _probe_open(adapter, ctx, clock, sleep),
        error=AmdSmiError,
        library="amdsmi",
        vendor="AMD",
        fix=_SELECT_FIX,
        count=lambda adapter: len(adapter.handles()),
    )


def _probe_open(
    adapter: AmdSmiAdapter,
    ctx: ProbeContext,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> list[Probe]:
    handles = adapter.handles()
    if not handles:
        return unusable(NAME, "amdsmi is loaded but found no AMD GPU", None)
    gpus = [AmdGpu(i, adapter.uuid(h), adapter.name(h), h) for i, h in enumerate(handles)]

    bad: list[str] = []
    sources: list[str] = []
    if ctx.gpu_ids is not None:
        sources.append(f"gpu_ids={tuple(ctx.gpu_ids)!r}")
        chosen = _apply(gpus, ctx.gpu_ids, "gpu_ids", bad)
    else:
        # HIP numbers the GPUs that ROCR_VISIBLE_DEVICES leaves visible, so apply in that order.
        chosen = gpus
        for var in ("ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES"):
            if var not in ctx.env:
                continue
            entries = _env_list(ctx.env[var])
            if entries is None:
                continue
            sources.append(f"{var}={ctx.env[var]!r}")
            chosen = _apply(chosen, entries, var, bad)
    source = ", ".join(sources) or "all GPUs"
    existing = ", ".join(f"GPU {g.index} ({g.uuid})" for g in gpus)

    if not chosen:
        reason = f"the GPU selection {source} matches none of the GPUs here: {existing}"
        ctx.warn("amdsmi-selection-empty", f"No AMD GPU measured: {reason}. {_SELECT_FIX}.")
        return unusable(NAME, reason, _SELECT_FIX, present=True)
    notes: tuple[str, ...] = ()
    if bad:
        unmatched = f"GPU ids that match no GPU (indices only) are ignored: {', '.join(bad)}"
        notes = (f"AMD {unmatched}",)
        ctx.warn("amdsmi-selection-unmatched", f"{unmatched}. GPUs here: {existing}")

    meter = AmdMeter(adapter, chosen, clock=clock, sleep=sleep, warn=ctx.warn)
    reason = f"{meter.gpu_count} AMD GPU(s) via amdsmi ({meter.method}): " + "; ".join(
        meter.devices
    )
    return [
        Probe(name=NAME, component=COMPONENT, usable=True, reason=reason, meter=meter, notes=notes)
    ]
