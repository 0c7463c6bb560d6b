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

from .base import MeterError, Probe, ProbeContext, Reading, Warn
from .nvidia import POLL_INTERVAL_S, UNKNOWN_LIMIT_W
from .tracks import CounterTrack, Cumulative, PowerTrack, combined_method

NAME = "amdsmi"
COMPONENT = "gpu"
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


class AmdSmiUnavailable(AmdSmiError):
    """amdsmi cannot be used: not installed, library missing, init failed."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


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
class AmdGpu:
    """One GPU as amdsmi enumerates it."""

    index: int
    uuid: str
    name: str
    handle: Any

    def describe(self) -> str:
        return f"GPU {self.index}: {self.name} ({self.uuid})"


def _no_warn(key: str, message: str) -> None:
    return None


class _Pending:
    """A counter not yet seen to move, with the GPU idle at 0 W when the meter opened."""

    __slots__ = ("gpu", "track", "t_open", "start_uj")

    def __init__(self, gpu: AmdGpu, track: CounterTrack, t_open: float, start_uj: float) -> None:
        self.gpu = gpu
        self.track = track
        self.t_open = t_open
        self.start_uj = start_uj


class AmdMeter:
    """Energy of a set of AMD GPUs since the meter was opened."""

    component = COMPONENT

    def __init__(
        self,
        adapter: AmdSmiAdapter,
        gpus: Sequence[AmdGpu],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        warn: Warn = _no_warn,
        settle_s: float = SETTLE_S,
    ) -> None:
        self._adapter = adapter
        self._clock = clock
        self._warn = warn
        self._warned: set[str] = set()
        self._closed = False
        self._gpus = tuple(gpus)
        self._limits: dict[int, float] = {}
        self._counters: list[tuple[AmdGpu, CounterTrack]] = []
        self._powers: list[tuple[AmdGpu, PowerTrack]] = []
        self._pending: list[_Pending] = []
        self._open(sleep, settle_s)
        self.devices = tuple(g.describe() for g in self._gpus)
        self.gpu_count = len(self._gpus)
        self.gpu_models = tuple(g.name for g in self._gpus)
        # Unconfirmed counters are checked on the first poll, so ask to be polled then too.
        self.poll_interval_s: float | None = (
            POLL_INTERVAL_S if self._powers or self._pending else None
        )
        self._set_method()
        self._total = Cumulative()

    def _set_method(self) -> None:
        self.method = combined_method(
            METHOD_COUNTER, METHOD_POWER, len(self._counters), len(self._powers)
        )
        self._method_gap = self.method + "+gap"

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._warn(key, message)

    def _power(self, g: AmdGpu) -> float:
        try:
            return self._adapter.power_w(g.handle)
        except AmdSmiError as e:
            raise MeterError(f"GPU {g.index} ({g.uuid}): power read failed: {e}") from e

    def _open(self, sleep: Callable[[float], None], settle_s: float) -> None:
        a = self._adapter
        first: dict[int, float] = {}
        for g in self._gpus:
            try:
                self._limits[g.index] = a.power_limit_w(g.handle)
            except AmdSmiError:
                self._limits[g.index] = UNKNOWN_LIMIT_W
            try:
                first[g.index] = a.energy_uj(g.handle)
            except NotSupported:
                pass  # power sampling, labelled by the method
            except AmdSmiError as e:
                self._warn_once(
                    f"amdsmi-counter-unreadable:{g.uuid}",
                    f"{g.describe()}: energy counter unreadable ({e}); sampling power instead",
                )
        if first:
            sleep(settle_s)  # once for all GPUs
        for g in self._gpus:
            limit = self._limits[g.index]
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
                self._warn_once(
                    f"amdsmi-counter-stuck:{g.uuid}",
                    f"{g.describe()}: the energy counter did not advance while the GPU drew "
                    f"{p:.0f} W; sampling power instead (amdsmi-power)",
                )
                self._powers.append((g, PowerTrack(AMD_REL_ACCURACY, limit, p, t)))
            else:
                p = self._power(g)
                self._powers.append((g, PowerTrack(AMD_REL_ACCURACY, limit, p, self._clock())))

    def poll(self) -> None:
        now = self._clock()
        if self._pending:
            self._check_pending(now)
        failed: MeterError | None = None
        for g, track in self._powers:
            try:
                p = self._adapter.power_w(g.handle)
            except AmdSmiError as e:
                failed = failed or MeterError(f"GPU {g.index} ({g.uuid}): power read failed: {e}")
                continue
            track.sample(p, self._clock())
        if failed is not None:
            raise failed

    def _check_pending(self, now: float) -> None:
        for pend in list(self._pending):
            g = pend.gpu
            try:
                raw = self._adapter.energy_uj(g.handle)
            except AmdSmiError as e:
                raise MeterError(f"GPU {g.index} ({g.uuid}): energy read failed: {e}") from e
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
            self._warn_once(
                f"amdsmi-counter-stuck:{g.uuid}",
                f"{g.describe()}: the energy counter did not advance while the GPU drew "
                f"{p:.0f} W; sampling power instead (amdsmi-power)",
            )

    def read(self) -> Reading:
        a = self._adapter
        now = self._clock()
        if self._pending:
            self._check_pending(now)
        failed: MeterError | None = None
        energy = low = high = gap_s = 0.0
        gap = False
        for g, c in self._counters:
            try:
                raw = a.energy_uj(g.handle)
            except AmdSmiError as e:
                failed = failed or MeterError(f"GPU {g.index} ({g.uuid}): energy read failed: {e}")
                continue
            if c.update(raw * 1e-6, now):
                self._counter_went_back(g, c)
            energy += c.energy
            low += c.low
            high += c.high
            gap_s += c.gap_s
            gap = gap or c.had_gap
        if failed is not None:
            raise failed
        for _, p in self._powers:
            p.settle(now)
            energy += p.energy
            low += p.low
            high += p.high
            gap_s += p.gap_s + p.tail_gap_s
            gap = gap or p.had_gap or p.tail_gap_s > 0.0
        return self._total.reading(
            energy, low, high, gap_s, self._method_gap if gap else self.method
        )

    def _counter_went_back(self, g: AmdGpu, c: CounterTrack) -> None:
        try:
            power_w: float | None = self._adapter.power_w(g.handle)
        except AmdSmiError:
            power_w = None
        c.add_gap(c.reset_dt, power_w)
        self._warn_once(
            f"amdsmi-counter-reset:{g.uuid}",
            f"{g.describe()}: the energy counter went backwards (driver reload or GPU reset); "
            f"{c.reset_dt:.1f} s estimated from power and labelled as a gap",
        )

    def utilization_percent(self) -> float | None:
        """Mean GFX activity over the measured GPUs, as amdsmi reports it now."""
        total = 0.0
        n = 0
        for g in self._gpus:
            try:
                total += self._adapter.utilization_gpu_percent(g.handle)
            except AmdSmiError:
                continue
            n += 1
        return total / n if n else None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._adapter.shutdown()


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
    try:
        adapter = load_adapter()
        adapter.init()
    except AmdSmiUnavailable as e:
        return _unusable(str(e), e.fix)
    except AmdSmiError as e:
        return _unusable(f"amdsmi init failed: {e}", None)
    try:
        result = _probe_open(adapter, ctx, clock, sleep)
    except (AmdSmiError, MeterError) as e:
        result = _unusable(
            f"AMD GPUs could not be read: {e}", _SELECT_FIX, present=_has_gpus(adapter)
        )
    if not result[0].usable:
        adapter.shutdown()
    return result


def _unusable(reason: str, fix: str | None, *, present: bool = False) -> list[Probe]:
    # present: GPUs are there but not measured, so the record says "unmeasured", not zero.
    return [
        Probe(
            name=NAME,
            component=COMPONENT,
            usable=False,
            reason=reason,
            fix=fix,
            present=present,
        )
    ]


def _probe_open(
    adapter: AmdSmiAdapter,
    ctx: ProbeContext,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> list[Probe]:
    handles = adapter.handles()
    if not handles:
        return _unusable("amdsmi is loaded but found no AMD GPU", None)
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
        return _unusable(reason, _SELECT_FIX, present=True)
    if bad:
        ctx.warn(
            "amdsmi-selection-unmatched",
            f"GPU ids that match no GPU (indices only) are ignored: {', '.join(bad)}. "
            f"GPUs here: {existing}",
        )

    meter = AmdMeter(adapter, chosen, clock=clock, sleep=sleep, warn=ctx.warn)
    reason = f"{meter.gpu_count} AMD GPU(s) via amdsmi ({meter.method}): " + "; ".join(
        meter.devices
    )
    return [Probe(name=NAME, component=COMPONENT, usable=True, reason=reason, meter=meter)]


def _has_gpus(adapter: Any) -> bool:
    try:
        return len(adapter.handles()) > 0
    except AmdSmiError:
        return False
