"""Power the user gives (settings ``cpu_power_w``, ``ram_power_w``, ``gpu_power_w``).

A user's figure wins over every meter: the user knows something detection cannot (a wall
meter, a datasheet, a cloud instance's real hardware). It is labelled ``user`` in the method
columns, with the bounds the user gave or ``config.USER_POWER_REL_BOUND``. A range
``IDLE..MAX`` follows utilization: the machine's CPU load for the CPU and RAM (as the models
do), the GPUs' own utilization where a GPU meter reports it; where nothing reports it, the
value is the middle of the range and the bounds span the whole range.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .base import Meter, Probe, ProbeContext, Reading, utilization_percent

METHOD = "user"
SETTINGS = {"cpu": "cpu_power_w", "ram": "ram_power_w", "gpu": "gpu_power_w"}


def user_power(settings: Any) -> dict[str, Any]:
    """Component -> PowerOverride for each power setting given."""
    from ..config import power_override

    out = {}
    for component, name in SETTINGS.items():
        text = getattr(settings, name, None)
        if text:
            out[component] = power_override(text)
    return out


def probe(ctx: ProbeContext, component: str, replaced: list[Meter]) -> Probe:
    """The user's meter for ``component``; ``replaced`` are the meters detection chose (a GPU
    meter still reports utilization for a range; the others are closed)."""
    override = ctx.power[component]
    name = SETTINGS[component]
    devices = (f"{name}={override.text()} (user)",)
    if component == "gpu":
        meter: Meter = UserGpuMeter(override, replaced, devices)
    else:
        from .load import LoadMeter

        for m in replaced:
            m.close()
        meter = LoadMeter(ctx, component, METHOD, override.at, devices)
    what = "fixed" if override.idle_w == override.full_w else "by utilization"
    reason = f"the user's figure {name}={override.text()} W ({what})"
    return Probe(METHOD, component, True, reason, None, meter)


class UserGpuMeter:
    """The user's GPU power, integrated over time at the GPU meters' utilization."""

    component = "gpu"
    method = METHOD

    def __init__(
        self,
        override: Any,
        inner: list[Meter],
        devices: tuple[str, ...],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._override = override
        self._inner = inner
        self.devices = devices
        self.gpu_count = sum(getattr(m, "gpu_count", 0) for m in inner)
        self.gpu_models = tuple(g for m in inner for g in getattr(m, "gpu_models", ()))
        ranged = override.idle_w != override.full_w
        self.poll_interval_s: float | None = 1.0 if ranged and inner else None
        self._clock = clock
        self._t = clock()
        self._util = self._utilization()
        self._energy = self._low = self._high = 0.0

    def _utilization(self) -> float | None:
        values = [u for u in (utilization_percent(m) for m in self._inner) if u is not None]
        return sum(values) / len(values) / 100 if values else None

    def utilization_percent(self) -> float | None:
        return None if self._util is None else 100 * self._util

    def poll(self) -> None:
        now = self._clock()
        watts, low, high = self._override.at(self._util)  # held since the last sample
        dt = max(0.0, now - self._t)
        self._energy += watts * dt
        self._low += low * dt
        self._high += high * dt
        self._t = now
        self._util = self._utilization()

    def read(self) -> Reading:
        self.poll()
        return Reading(self._energy, self._low, self._high, METHOD)

    def close(self) -> None:
        for m in self._inner:
            m.close()
