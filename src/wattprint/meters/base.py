"""What every meter promises: cumulative joules, how they were obtained, and how sure we are.

A meter is opened once per run. ``read()`` returns the energy used since it was opened, so any
interval's energy is the difference of two reads, and a task is measured by reads at its edges
without disturbing the run. Meters that have a hardware counter read it directly; meters that
integrate a power figure, or whose counter wraps, say how often they must be ``poll()``-ed
(``poll_interval_s``: 1 s for power sampling; for a wrapping counter, well inside one wrap), and the
sampling thread polls them at least that often. A read in between integrates up to the present.

Meters must be cheap to read (they are on the hot path) and must not import anything from the
carbon layer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

#: Components a meter can measure. "platform" is the rest of the machine (board, fans,
#: storage, power-supply losses): nothing measures it, so it is always a model.
COMPONENTS = ("cpu", "gpu", "ram", "platform")
#: The components CodeCarbon counts in ``energy_consumed``; the machine adds the platform.
IT_COMPONENTS = ("cpu", "gpu", "ram")


class Reading(NamedTuple):
    """Cumulative energy since the meter was opened.

    ``low_j <= energy_j <= high_j`` always holds. ``gap_s`` is the cumulative time for which the
    source could not say what happened (a counter reset, a failed read); that time is covered by
    an estimate inside the bounds and named in ``method``.
    """

    energy_j: float
    low_j: float
    high_j: float
    method: str
    gap_s: float = 0.0


@runtime_checkable
class Meter(Protocol):
    """One source of joules for one component (it may cover several devices)."""

    component: str  # one of COMPONENTS
    method: str  # e.g. "rapl", "nvml-counter", "nvml-power", "cpu-model", "ram-model"
    poll_interval_s: float | None  # poll at least this often; None: reads alone are exact
    devices: tuple[str, ...]  # human-readable descriptions of what is measured

    def read(self) -> Reading:
        """Energy since the meter was opened. Called from any thread (the tracker serialises)."""
        ...

    def poll(self) -> None:
        """Bring internal state up to now (integrate power, catch a wrap). Cheap; may be a no-op."""
        ...

    def close(self) -> None: ...


def utilization_percent(meter: Meter) -> float | None:
    """Mean utilization of the meter's devices since the last call, where the meter knows it."""
    fn = getattr(meter, "utilization_percent", None)
    return fn() if fn is not None else None


class Probe(NamedTuple):
    """What one attempt to measure one component found: a meter, or why there is none."""

    name: str  # "rapl", "nvml", "amdsmi", "cpu-model", "ram-model"
    component: str
    usable: bool
    reason: str  # what was found, or why it is not usable
    fix: str | None = None  # the one thing the user can do about it
    meter: Meter | None = None
    # The hardware is there but cannot be measured (GPUs exist, the selection matched none):
    # the record then says "unmeasured", never a zero.
    present: bool = False
    # What the record must say about a usable source (a mirrored zone ignored, a selected GPU
    # that matched nothing): a CSV alone then tells what was measured.
    notes: tuple[str, ...] = ()


Warn = Callable[[str, str], None]  # warn(key, message): said once per key per process


def _silent(key: str, message: str) -> None:
    return None


@dataclass
class ProbeContext:
    """Everything a probe needs to know about the machine and the user's choices.

    ``root`` is where ``/proc`` and ``/sys`` are read from: ``/`` on a real machine, a fake tree
    in the tests (``WATTPRINT_ROOT``).
    """

    root: Path = field(default_factory=lambda: Path(os.environ.get("WATTPRINT_ROOT", "/")))
    # The user's GPU selection; None: CUDA_VISIBLE_DEVICES, else all GPUs.
    gpu_ids: tuple[str, ...] | None = None
    tracking_mode: str = "machine"  # "machine" or "process"
    # What the user knows (settings cpu_model, cpu_power_w, ...): the CPU's real model, and
    # per component a power figure (config.PowerOverride) that wins over every meter.
    cpu_model: str | None = None
    power: Mapping[str, Any] = field(default_factory=dict)
    pid: int = field(default_factory=os.getpid)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    warn: Warn = _silent
    # Readings shared by the meters within one update (the tracker empties it before each).
    shared: dict[str, Any] | None = None

    def path(self, absolute: str) -> Path:
        """Map an absolute machine path ("/sys/class/powercap") under ``root``."""
        return self.root / absolute.lstrip("/")


def scaled(energy_j: float, rel_low: float, rel_high: float) -> tuple[float, float]:
    """Bounds for an energy known to within -rel_low / +rel_high of its value."""
    return energy_j * (1.0 - rel_low), energy_j * (1.0 + rel_high)


class MeterError(Exception):
    """A meter could not be read. The tracker marks the component and carries on."""
