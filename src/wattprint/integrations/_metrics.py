"""What a result logs, the same in every framework: the metrics (cumulative since training
began, unknown values left out, never 0) and the model-card text (source, location, hardware).

No framework is imported here: :mod:`.mlflow` and the callbacks' shared :mod:`._common` both use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..units import J_PER_KWH

if TYPE_CHECKING:
    from ..records import Machine, RunResult

PREFIX = "wattprint/"

#: The metric names (before the prefix), the same in every framework.
METRICS: dict[str, str] = {
    "energy_kwh": "energy of CPU + GPU + RAM since training began, x PUE (CodeCarbon's total)",
    "energy_low_kwh": "its lower bound",
    "energy_high_kwh": "its upper bound",
    "energy_cpu_kwh": "CPU energy (absent when not measured)",
    "energy_gpu_kwh": "GPU energy (absent when not measured or no GPU)",
    "energy_ram_kwh": "RAM energy (absent when not measured)",
    "power_w": "mean power since training began: energy_kwh over the elapsed time",
    "emissions_kg": "CO2eq emitted since training began, in kg",
    "emissions_low_kg": "its lower bound",
    "emissions_high_kg": "its upper bound",
}


def metrics(result: RunResult, prefix: str = PREFIX) -> dict[str, float]:
    """The metrics of a (cumulative) result, by prefixed name; unknown values are left out."""
    values: dict[str, float | None] = {
        "energy_kwh": result.energy_kwh,
        "energy_low_kwh": result.energy_low_kwh,
        "energy_high_kwh": result.energy_high_kwh,
    }
    for name, component in result.components.items():
        if component.method != "none":  # "none": the machine has no such device
            values[f"energy_{name}_kwh"] = component.energy_kwh
    if result.duration_s > 0:
        values["power_w"] = result.energy_kwh * J_PER_KWH / result.duration_s
    values["emissions_kg"] = result.emissions_kg
    values["emissions_low_kg"] = result.emissions_low_kg
    values["emissions_high_kg"] = result.emissions_high_kg
    return {f"{prefix}{k}": float(v) for k, v in values.items() if v is not None}


# -- model-card metadata ------------------------------------------------------------------------


def co2_eq_emissions(result: RunResult, training_type: str | None = None) -> dict[str, Any] | None:
    """The Hugging Face Hub's ``co2_eq_emissions`` model-card metadata for a result.

    As the Hub documents it (https://huggingface.co/docs/hub/model-cards-co2): ``emissions``
    in grams of CO2eq, ``source``, ``training_type`` ("pre-training" or "fine-tuning", left out
    when not known), ``geographical_location`` and ``hardware_used``. None when no emissions
    could be computed.
    """
    if result.emissions_kg is None:
        return None
    data: dict[str, Any] = {"emissions": result.emissions_kg * 1000.0, "source": source(result)}
    if training_type:
        data["training_type"] = training_type
    data["geographical_location"] = location_text(result)
    data["hardware_used"] = hardware_text(result.machine)
    return data


def source(result: RunResult) -> str:
    """``wattprint 0.1.0 (cpu: rapl, ram: ram-model; intensity: FR 2024 zone-annual)``."""
    methods = ", ".join(
        f"{name}: {c.method}" for name, c in result.components.items() if c.method != "none"
    )
    it = result.intensity
    intensity = " ".join(str(x) for x in (it.zone, it.year, it.kind) if x)
    return f"wattprint {__version__} ({methods}; intensity: {intensity})"


def location_text(result: RunResult) -> str:
    """Where the run was, as precisely as known, and how that was decided.

    ``california, United States (grid zone US-CAL-CISO; location: explicit)``,
    ``France (aws eu-west-3; location: cloud-env)``, ``unknown (location: world-average)``.
    """
    loc = result.location
    place = ", ".join(x for x in (loc.region, loc.country_name or loc.country) if x) or "unknown"
    extra = []
    if loc.cloud_provider:
        extra.append(" ".join(x for x in (loc.cloud_provider, loc.cloud_region) if x))
    if loc.zone and loc.zone not in (loc.region, loc.country):
        extra.append(f"grid zone {loc.zone}")
    extra.append(f"location: {loc.source}")
    return f"{place} ({'; '.join(extra)})"


def hardware_text(machine: Machine) -> str:
    """``AMD EPYC 7763 64-Core Processor (4 threads), 2 x NVIDIA H100 80GB HBM3``."""
    parts = []
    if machine.cpu_model:
        threads = f" ({machine.cpu_count} threads)" if machine.cpu_count else ""
        parts.append(f"{machine.cpu_model}{threads}")
    if machine.gpu_model:
        parts.append(machine.gpu_model)
    elif machine.gpu_count:
        parts.append(f"{machine.gpu_count} GPU(s)")
    return ", ".join(parts) or "unknown"
