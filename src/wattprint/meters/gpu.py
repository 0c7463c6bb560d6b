"""What the NVIDIA and AMD meters share: one GPU's identity, the meter around the tracks, probing.

:class:`GpuMeter` holds everything but the vendor's calls and its choice, per GPU, between an
energy counter and power sampling; a subclass supplies those through a few small hooks.
:func:`probe_gpus` is the part of a probe that does not depend on how GPUs are selected.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from .base import MeterError, Probe, Reading, Warn
from .tracks import CounterTrack, Cumulative, PowerTrack, combined_method

COMPONENT = "gpu"
#: How often power-sampled GPUs must be polled.
POLL_INTERVAL_S = 1.0
#: Used as the high bound's power when a GPU will not tell its power limit: above the board power
#: of any shipping GPU, so it only widens the bound.
UNKNOWN_LIMIT_W = 1500.0


@dataclass(frozen=True)
class Gpu:
    """One GPU as the vendor library enumerates it."""

    index: int
    uuid: str
    name: str
    handle: Any

    def describe(self) -> str:
        return f"GPU {self.index}: {self.name} ({self.uuid})"


G = TypeVar("G", bound=Gpu)


class LibraryUnavailable(Exception):
    """The vendor library cannot be used at all (vendors subclass it with their own error)."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


def no_warn(key: str, message: str) -> None:
    return None


class GpuMeter(Generic[G]):
    """Energy of a set of GPUs since the meter was opened.

    A subclass sets the class attributes below, implements the ``_energy_j``/``_power_w``/
    ``_power_limit_w`` readings, and fills ``_counters`` and ``_powers`` in ``_open_all``.
    """

    component = COMPONENT
    # Left unset here so that a vendor which forgets one fails at once, not by catching too much.
    #: The vendor's catch-all error: a read that raises it is a failed read, not a crash.
    _error: type[Exception]
    #: Prefix of the warning keys ("nvml" gives "nvml-counter-reset:<uuid>").
    _key: str
    _method_counter: str
    _method_power: str

    def __init__(
        self,
        adapter: Any,
        gpus: Sequence[G],
        *,
        clock: Callable[[], float] = time.monotonic,
        warn: Warn = no_warn,
    ) -> None:
        self._adapter = adapter
        self._clock = clock
        self._warn = warn
        self._warned: set[str] = set()
        self._closed = False
        self._gpus = tuple(gpus)
        self._counters: list[tuple[G, CounterTrack]] = []
        self._powers: list[tuple[G, PowerTrack]] = []
        self._open_all()
        self.devices = tuple(g.describe() for g in self._gpus)
        self.gpu_count = len(self._gpus)
        self.gpu_models = tuple(g.name for g in self._gpus)
        self.poll_interval_s: float | None = POLL_INTERVAL_S if self._wants_polls() else None
        self._set_method()
        self._total = Cumulative()

    # -- vendor hooks

    def _open_all(self) -> None:
        raise NotImplementedError

    def _energy_j(self, handle: Any) -> float:
        raise NotImplementedError

    def _power_w(self, handle: Any) -> float:
        raise NotImplementedError

    def _power_limit_w(self, handle: Any) -> float:
        raise NotImplementedError

    def _wants_polls(self) -> bool:
        return bool(self._powers)

    def _catch_up(self, now: float) -> None:
        """Settle what must be decided before a read counts anything (AMD's unproven counters)."""

    # -- shared

    def _set_method(self) -> None:
        # Called again by a subclass that moves a GPU from its counter to power sampling.
        self.method = combined_method(
            self._method_counter, self._method_power, len(self._counters), len(self._powers)
        )
        self._method_gap = self.method + "+gap"

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._warn(key, message)

    def _read_failed(self, g: G, what: str, e: Exception) -> MeterError:
        return MeterError(f"GPU {g.index} ({g.uuid}): {what} read failed: {e}")

    def _limit_w(self, g: G) -> float:
        try:
            return self._power_limit_w(g.handle)
        except self._error:
            return UNKNOWN_LIMIT_W

    def _counter_unreadable(self, g: G, e: Exception) -> None:
        self._warn_once(
            f"{self._key}-counter-unreadable:{g.uuid}",
            f"{g.describe()}: energy counter unreadable ({e}); sampling power instead",
        )

    def poll(self) -> None:
        """Sample the power of GPUs without a counter (counters need no polling)."""
        failed: MeterError | None = None
        for g, track in self._powers:
            try:
                p = self._power_w(g.handle)
            except self._error as e:
                failed = failed or self._read_failed(g, "power", e)
                continue
            track.sample(p, self._clock())
        if failed is not None:
            raise failed

    def read(self) -> Reading:
        now = self._clock()
        self._catch_up(now)
        failed: MeterError | None = None
        energy = low = high = gap_s = 0.0
        gap = False
        for g, c in self._counters:
            try:
                raw_j = self._energy_j(g.handle)
            except self._error as e:
                failed = failed or self._read_failed(g, "energy", e)
                continue
            if c.update(raw_j, now):
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

    def device_energies(self) -> list[tuple[G, float, float, float]]:
        """Per GPU (energy, low, high) in J as of the last read: a job's share is per GPU."""
        out = [(g, c.energy, c.low, c.high) for g, c in self._counters]
        out.extend((g, p.energy, p.low, p.high) for g, p in self._powers)
        return out

    def _counter_went_back(self, g: G, c: CounterTrack) -> None:
        try:
            power_w: float | None = self._power_w(g.handle)
        except self._error:
            power_w = None
        c.add_gap(c.reset_dt, power_w)
        self._warn_once(
            f"{self._key}-counter-reset:{g.uuid}",
            f"{g.describe()}: the energy counter went backwards (driver reload or GPU reset); "
            f"{c.reset_dt:.1f} s estimated from power and labelled as a gap",
        )

    def utilization_percent(self) -> float | None:
        """Mean utilization over the measured GPUs, as the vendor library reports it now."""
        total = 0.0
        n = 0
        for g in self._gpus:
            try:
                total += self._adapter.utilization_gpu_percent(g.handle)
            except self._error:
                continue
            n += 1
        return total / n if n else None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._adapter.shutdown()


# --------------------------------------------------------------------------------------------
# Probing


class Adapter(Protocol):
    def init(self) -> None: ...

    def shutdown(self) -> None: ...


A = TypeVar("A", bound=Adapter)


def probe_gpus(
    name: str,
    load_adapter: Callable[[], A],
    open_meter: Callable[[A], list[Probe]],
    *,
    error: type[Exception],
    library: str,
    vendor: str,
    fix: str,
    count: Callable[[A], int],
) -> list[Probe]:
    """Initialise the vendor library and run ``open_meter``, turning its failures into a Probe.

    ``error`` is the vendor's catch-all error, ``count`` counts the GPUs there (whether or not
    selected), ``fix`` is said when the GPUs are there but could not be read.
    """
    try:
        adapter = load_adapter()
        adapter.init()
    except LibraryUnavailable as e:
        return unusable(name, str(e), e.fix)
    except error as e:
        return unusable(name, f"{library} init failed: {e}", None)
    try:
        result = open_meter(adapter)
    except (error, MeterError) as e:
        try:
            present = count(adapter) > 0
        except error:
            present = False
        result = unusable(name, f"{vendor} GPUs could not be read: {e}", fix, present=present)
    if not result[0].usable:
        adapter.shutdown()  # a usable probe's meter owns the library until it is closed
    return result


def unusable(name: str, reason: str, fix: str | None, *, present: bool = False) -> list[Probe]:
    # present: GPUs are there but not measured, so the record says "unmeasured", not zero.
    return [
        Probe(
            name=name,
            component=COMPONENT,
            usable=False,
            reason=reason,
            fix=fix,
            present=present,
        )
    ]
