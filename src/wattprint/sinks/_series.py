"""What the metric sinks (Prometheus, OpenTelemetry) and the record sinks (logger, webhook) say.

One vocabulary for both metric sinks: each quantity below has a Prometheus name and an
OpenTelemetry name that an OTLP-to-Prometheus bridge turns into the same Prometheus name
(``wattprint.energy`` in ``J``, monotonic -> ``wattprint_energy_joules_total``).

Honest numbers: every energy series carries its ``method``; bounds are separate series
(``..._low_...``/``..._high_...``) so that ``sum()`` over a metric never mixes an estimate with
its bounds. A component whose energy is unknown (None) has no energy series at all, never a 0.
Component energy is what the component drew (no PUE); emissions include the PUE, as the CSV.

Labels (Prometheus) / attributes (OpenTelemetry), the same names in both: every series has
``project``, ``experiment``, ``run`` (the run id) and ``zone`` (the grid zone of the intensity);
component series add ``component`` (cpu, gpu, ram, platform) and ``method``; intensity series
add ``kind`` and ``source``; task series add ``task``; ``run_info`` (always 1) adds
``run_name``, ``status``, ``location_source``, ``<component>_method`` and ``version``. An empty
label is an unknown value.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ..units import J_PER_KWH

MAX_TASKS = 100  # ended tasks a metric sink shows per run, the latest ones


@dataclass(frozen=True)
class Quantity:
    prometheus: str  # full Prometheus name
    otel: str  # OpenTelemetry instrument name
    unit: str  # UCUM unit for OpenTelemetry
    counter: bool  # monotonic cumulative (Prometheus counter, OTel observable counter)
    help: str


def _q(name: str, unit_word: str, unit: str, counter: bool, help: str) -> Quantity:
    suffix = f"_{unit_word}" if unit_word else ""
    total = "_total" if counter else ""
    return Quantity(
        prometheus=f"wattprint_{name}{suffix}{total}",
        otel="wattprint." + name.replace("_", "."),
        unit=unit,
        counter=counter,
        help=help,
    )


#: Every quantity the metric sinks export, keyed by a short name.
QUANTITIES: dict[str, Quantity] = {
    "energy": _q("energy", "joules", "J", True,
                 "Energy a component used since the run started (no PUE), by method"),
    "energy_low": _q("energy_low", "joules", "J", True,
                     "Lower bound of wattprint_energy_joules_total"),
    "energy_high": _q("energy_high", "joules", "J", True,
                      "Upper bound of wattprint_energy_joules_total"),
    "power": _q("power", "watts", "W", False,
                "A component's average power over the last sampling interval"),
    "emissions": _q("emissions", "grams", "g", True,
                    "CO2eq of CPU + GPU + RAM (x PUE) since the run started"),
    "emissions_low": _q("emissions_low", "grams", "g", True,
                        "Lower bound of wattprint_emissions_grams_total"),
    "emissions_high": _q("emissions_high", "grams", "g", True,
                         "Upper bound of wattprint_emissions_grams_total"),
    "machine_emissions": _q("machine_emissions", "grams", "g", True,
                            "CO2eq of the whole machine (platform estimate included, x PUE)"),
    "machine_emissions_low": _q("machine_emissions_low", "grams", "g", True,
                                "Lower bound of wattprint_machine_emissions_grams_total"),
    "machine_emissions_high": _q("machine_emissions_high", "grams", "g", True,
                                 "Upper bound of wattprint_machine_emissions_grams_total"),
    "intensity": _q("intensity", "grams_per_kwh", "g/kWh", False,
                    "The run's effective carbon intensity of electricity"),
    "intensity_low": _q("intensity_low", "grams_per_kwh", "g/kWh", False,
                        "Lower bound of wattprint_intensity_grams_per_kwh"),
    "intensity_high": _q("intensity_high", "grams_per_kwh", "g/kWh", False,
                         "Upper bound of wattprint_intensity_grams_per_kwh"),
    "run_duration": _q("run_duration", "seconds", "s", False, "Time since the run started"),
    "run_info": _q("run_info", "", "", False,
                   "Always 1: the run's status, name and how each component is measured"),
    "task_energy": _q("task_energy", "joules", "J", False,
                      "Energy a component used during an ended task (no PUE), by method"),
    "task_emissions": _q("task_emissions", "grams", "g", False,
                         "CO2eq of an ended task (CPU + GPU + RAM, x PUE)"),
    "task_duration": _q("task_duration", "seconds", "s", False, "How long an ended task took"),
}  # fmt: skip

#: Labels of every run series, in this order; component series add COMPONENT_LABELS.
RUN_LABELS = ("project", "experiment", "run", "zone")
COMPONENT_LABELS = ("component", "method")
INTENSITY_LABELS = ("kind", "source")
INFO_LABELS = (
    "run_name",
    "status",
    "location_source",
    "cpu_method",
    "gpu_method",
    "ram_method",
    "platform_method",
    "version",
)
TASK_LABELS = ("task",)

#: The labels each quantity has, beyond RUN_LABELS.
EXTRA_LABELS: dict[str, tuple[str, ...]] = {
    "energy": COMPONENT_LABELS,
    "energy_low": COMPONENT_LABELS,
    "energy_high": COMPONENT_LABELS,
    "power": COMPONENT_LABELS,
    "intensity": INTENSITY_LABELS,
    "intensity_low": INTENSITY_LABELS,
    "intensity_high": INTENSITY_LABELS,
    "run_info": INFO_LABELS,
    "task_energy": TASK_LABELS + COMPONENT_LABELS,
    "task_emissions": TASK_LABELS,
    "task_duration": TASK_LABELS,
}

Sample = tuple[str, dict[str, str], float]  # quantity key, labels, value


def labels_of(key: str) -> tuple[str, ...]:
    return RUN_LABELS + EXTRA_LABELS.get(key, ())


def components(result: Any) -> dict[str, Any]:
    """cpu, gpu, ram and, where the power model estimates it, platform."""
    parts = dict(result.components)
    if result.platform is not None:
        parts["platform"] = result.platform
    return parts


def run_labels(result: Any) -> dict[str, str]:
    return {
        "project": result.project_name or "",
        "experiment": result.experiment_name or "",
        "run": result.run_id,
        "zone": result.intensity.zone or "",
    }


def _ok(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def samples(result: Any, power_w: dict[str, float] | None = None) -> list[Sample]:
    """The metric samples of one result: a run's (cumulative) or an ended task's.

    ``power_w`` is the last interval's power per component; without it, the mean over the run.
    """
    base = run_labels(result)
    out: list[Sample] = []
    parts = components(result)
    if result.task_name is not None:
        task = {**base, "task": result.task_name}
        for name, c in parts.items():
            if _ok(c.energy_kwh):
                labels = {**task, "component": name, "method": c.method}
                out.append(("task_energy", labels, c.energy_kwh * J_PER_KWH))
        if _ok(result.emissions_kg):
            out.append(("task_emissions", task, result.emissions_kg * 1000.0))
        out.append(("task_duration", task, float(result.duration_s)))
        return out
    for name, c in parts.items():
        labels = {**base, "component": name, "method": c.method}
        for key, kwh in (
            ("energy", c.energy_kwh),
            ("energy_low", c.low_kwh),
            ("energy_high", c.high_kwh),
        ):
            if _ok(c.energy_kwh) and _ok(kwh):
                out.append((key, labels, kwh * J_PER_KWH))
        power = (power_w or {}).get(name, c.power_w)
        if _ok(c.energy_kwh) and _ok(power):
            out.append(("power", labels, power))
    for key, kg in (
        ("emissions", result.emissions_kg),
        ("emissions_low", result.emissions_low_kg),
        ("emissions_high", result.emissions_high_kg),
        ("machine_emissions", result.machine_emissions_kg),
        ("machine_emissions_low", result.machine_emissions_low_kg),
        ("machine_emissions_high", result.machine_emissions_high_kg),
    ):
        if _ok(kg):
            out.append((key, base, kg * 1000.0))
    it = result.intensity
    it_labels = {**base, "kind": it.kind or "", "source": it.source or ""}
    for key, value in (
        ("intensity", it.value),
        ("intensity_low", it.low),
        ("intensity_high", it.high),
    ):
        if _ok(value):
            out.append((key, it_labels, float(value)))
    out.append(("run_duration", base, float(result.duration_s)))
    from .._version import __version__

    info = {
        **base,
        "run_name": result.run_name or "",
        "status": result.status,
        "location_source": result.location.source or "",
        "cpu_method": result.cpu.method,
        "gpu_method": result.gpu.method,
        "ram_method": result.ram.method,
        "platform_method": result.platform.method if result.platform is not None else "none",
        "version": __version__,
    }
    out.append(("run_info", info, 1.0))
    return out


class PowerTracker:
    """A component's power over the last stretch between two results of the same run."""

    def __init__(self) -> None:
        self._last: tuple[float, dict[str, float]] | None = None
        self.power_w: dict[str, float] = {}

    def see(self, result: Any) -> dict[str, float]:
        if result.task_name is not None:
            return self.power_w
        now = float(result.duration_s)
        energies = {
            n: c.energy_kwh * J_PER_KWH for n, c in components(result).items() if _ok(c.energy_kwh)
        }
        last = self._last
        if last is None:
            self.power_w = {
                n: c.power_w
                for n, c in components(result).items()
                if _ok(c.power_w) and n in energies
            }
        elif now - last[0] > 1e-3:
            dt = now - last[0]
            self.power_w = {
                n: max(0.0, (e - last[1][n]) / dt) for n, e in energies.items() if n in last[1]
            }
        else:
            return self.power_w
        self._last = (now, energies)
        return self.power_w


class RunState:
    """The latest figures of one run, shared by the thread that writes them and the readers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.result: Any = None
        self.power: dict[str, float] = {}
        self.tasks: OrderedDict[str, Any] = OrderedDict()
        self.closed_at: float | None = None
        self.source: Any = None  # the tracker's snapshot(), while the run goes on
        self._power = PowerTracker()
        self._rows: list[Sample] | None = None  # samples() as last computed

    def refresh(self) -> None:
        """Take the run's latest figures from the tracker, if it is still running."""
        source = self.source
        if source is None:
            return
        result = source()
        if result is not None and result is not self.result:
            self.see(result)

    def see(self, result: Any) -> None:
        if result.task_name is None and result.status != "running":
            self.source = None  # the final row: nothing newer will come
        with self.lock:
            self._rows = None
            if result.task_name is not None:
                self.tasks.pop(result.task_name, None)
                self.tasks[result.task_name] = result
                while len(self.tasks) > MAX_TASKS:
                    self.tasks.popitem(last=False)
            else:
                self.power = dict(self._power.see(result))
                self.result = result

    def samples(self) -> list[Sample]:
        """The run's samples and those of its ended tasks, as of the run's last interval."""
        self.refresh()
        with self.lock:
            if self._rows is not None:
                return self._rows
            result, power, tasks = self.result, self.power, list(self.tasks.values())
        rows = samples(result, power) if result is not None else []
        for task in tasks:
            rows.extend(samples(task))
        with self.lock:
            if result is self.result and len(tasks) == len(self.tasks):
                self._rows = rows
        return rows
