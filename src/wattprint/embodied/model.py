"""What making a machine emitted (kgCO2e), with bounds, method and source.

Three ways, best first:

* ``ccf-instance``: a cloud instance type Cloud Carbon Footprint lists: its share of its host
  (CCF's host total times the instance's vCPUs over the host's), from the table.
* ``boavizta-components``: a machine whose CPU wattprint knows, costed part by part with
  Boavizta's component model: CPUs by die area (cores x die area per core) plus a base per
  chip, RAM by die area (GB / density) plus a base per module, one SSD, motherboard, power
  supplies by mass, a rack case and assembly, plus each GPU. The parts nothing on the machine
  reports (storage, power supplies, modules) take Boavizta's default server configuration,
  and its ranges give the bounds.
* ``boavizta-archetype``: anything else, as Boavizta's medium compute server (between its low
  and high platforms), scaled to the vCPUs seen on a virtual machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from . import table

MODULE_GB = (32.0, 128.0, 16.0)  # RAM per module: default, fewest modules, most modules
SSD_GB = (1000.0, 100.0, 5000.0)  # Boavizta's default SSD: default, min, max
PSU_KG = (2.99, 1.0, 5.0)  # per power supply, two of them
PSU_UNITS = 2
ARCHETYPE = "platform_compute_medium"
ARCHETYPE_LOW, ARCHETYPE_HIGH = "platform_compute_low", "platform_compute_high"
ARCHETYPE_THREADS = 2 * 24 * 2  # its CPUs x cores x threads, for a VM's share


@dataclass(frozen=True)
class Estimate:
    kg: float
    low_kg: float
    high_kg: float
    method: str
    source: str
    detail: str = ""
    warnings: tuple[str, ...] = field(default=())

    def per_hour(self, lifetime_years: float) -> dict[str, float | str]:
        """The rate a run is charged, spread evenly over the hardware's lifetime."""
        from . import HOURS_PER_YEAR

        hours = lifetime_years * HOURS_PER_YEAR
        return {
            "kg_per_h": self.kg / hours,
            "low_kg_per_h": self.low_kg / hours,
            "high_kg_per_h": self.high_kg / hours,
            "method": self.method,
            "source": self.source,
            "detail": f"{self.detail}; {self.kg:.0f} kgCO2e over {lifetime_years:g} years",
        }


def server_kg(
    cpus: float,
    cores_per_cpu: float,
    die_mm2_per_core: float,
    ram_gb: float,
    ram_modules: float,
    ram_density: float,
    ssd_units: float,
    ssd_gb: float,
    ssd_density: float,
    hdd_units: float,
    psu_units: float,
    psu_kg: float,
) -> float:
    """Boavizta's component model for one rack server without GPUs, in kgCO2e."""
    f = table.factor
    cpu = cpus * (cores_per_cpu * die_mm2_per_core * f("cpu_die") + f("cpu_base"))
    ram = ram_gb / ram_density * f("ram_die") + ram_modules * f("ram_base")
    ssd = ssd_units * (ssd_gb / ssd_density * f("ssd_die") + f("ssd_base")) if ssd_units else 0.0
    chassis = f("motherboard") + psu_units * psu_kg * f("power_supply") + f("case_rack")
    return cpu + ram + ssd + hdd_units * f("hdd") + chassis + f("assembly")


def _machine_kg(cpus: int, cores: int, ram_gb: float) -> tuple[float, float, float]:
    die = table.get("factor", "cpu_die_per_core")
    ram = table.get("factor", "ram_density")
    ssd = table.get("factor", "ssd_density")
    assert die and ram and ssd
    picks = (
        (die.value, ram.value, ssd.value, 0),  # default
        (die.low, ram.high, ssd.high, 1),  # low: small dies, dense memory, small parts
        (die.high, ram.low, ssd.low, 2),
    )
    out = []
    for die_mm2, ram_density, ssd_density, i in picks:
        modules = max(1, math.ceil(ram_gb / MODULE_GB[i]))
        out.append(
            server_kg(
                cpus,
                cores,
                die_mm2,
                ram_gb,
                modules,
                ram_density,
                1,
                SSD_GB[i],
                ssd_density,
                0,
                PSU_UNITS,
                PSU_KG[i],
            )
        )
    return out[0], out[1], out[2]


def find_gpu_row(name: str) -> table.Row | None:
    """The table's GPU that ``name`` (as NVML or amdsmi says it) is, or None."""
    from ..hardware import gpu_key

    want = gpu_key(name)
    best, best_score = None, -1
    for row in table.of_kind("gpu"):
        if row.key == "DEFAULT":
            continue
        key = gpu_key(row.key)
        if key.words != want.words:
            continue
        same_form = bool(key.form) and key.form[:3] == want.form[:3]  # "sxm" is "sxm5"
        # NVML names an SXM board by its memory ("H100 80GB HBM3") and a PCIe one "PCIe".
        hbm_board = not want.form and want.memory_type.startswith("hbm") and key.form == "sxm"
        score = 2 * (same_form or hbm_board) + (key.memory_gb == want.memory_gb)
        if score > best_score:
            best, best_score = row, score
    return best


def _gpus(models: list[str] | dict[str, int]) -> tuple[float, float, float, list[str], list[str]]:
    """The GPUs' embodied total: per model once, times its count (a million GPUs cost one
    lookup)."""
    from collections import Counter

    counts = dict(models) if isinstance(models, dict) else Counter(models)
    kg = low = high = 0.0
    named, warnings = [], []
    default = table.get("gpu", "DEFAULT")
    assert default is not None
    for name, n in counts.items():
        if n <= 0:
            continue
        row = find_gpu_row(name)
        if row is None:
            row = default
            warnings.append(
                f"embodied: no embodied figure for GPU {name!r}; Boavizta's default GPU "
                f"({default.value:.0f} kgCO2e, bounds {default.low:.0f}-{default.high:.0f}) is used"
            )
        kg, low, high = kg + n * row.value, low + n * row.low, high + n * row.high
        named.append(f"{n} x {row.key}" if n > 1 else row.key)
    return kg, low, high, named, warnings


def cloud_instance(provider: str, instance_type: str) -> Estimate | None:
    row = table.get("cloud", f"{provider.lower()}:{instance_type}")
    if row is None:
        return None
    return Estimate(
        row.value,
        row.low,
        row.high,
        "ccf-instance",
        row.source,
        f"{provider.lower()} {instance_type}: {row.detail}",
    )


def archetype(vm_threads: int | None = None, why: str = "") -> Estimate:
    mid, low, high = (table.get("server", k) for k in (ARCHETYPE, ARCHETYPE_LOW, ARCHETYPE_HIGH))
    assert mid and low and high
    share = 1.0 if not vm_threads else min(1.0, vm_threads / ARCHETYPE_THREADS)
    detail = f"Boavizta {ARCHETYPE}"
    if share < 1.0:
        detail += f" x {vm_threads}/{ARCHETYPE_THREADS} threads (a virtual machine's share)"
    warning = (
        f"embodied: {why}; embodied emissions are Boavizta's medium compute server "
        f"({mid.value:.0f} kgCO2e, bounds {low.low:.0f}-{high.high:.0f})"
        + (f" times this VM's {vm_threads} of {ARCHETYPE_THREADS} threads" if share < 1 else "")
        + ". Set cloud_instance_type on a cloud VM for Cloud Carbon Footprint's figure."
    )
    return Estimate(
        mid.value * share,
        low.low * share,
        high.high * share,
        "boavizta-archetype",
        mid.source,
        detail,
        (warning,),
    )


def estimate(
    cpu_model: str,
    sockets: int,
    threads: int,
    ram_gb: float,
    gpu_models: list[str] | dict[str, int],
    virtual: bool = False,
    cloud_provider: str | None = None,
    instance_type: str | None = None,
) -> Estimate:
    """The machine's embodied emissions, by the best of the three ways above (the GPUs seen are
    added to a machine costed part by part or as the archetype; a cloud instance's figure has
    its own)."""
    if instance_type:
        found = cloud_instance(cloud_provider or "", instance_type) if cloud_provider else None
        if found is not None:
            return found
        if cloud_provider:
            why = f"cloud instance {cloud_provider}:{instance_type} is not in CCF's list"
        else:
            why = f"cloud_instance_type {instance_type} needs cloud_provider (aws, azure, gcp)"
        return _with_gpus(archetype(threads, why), gpu_models)
    if virtual:
        return _with_gpus(
            archetype(threads, "this is a virtual machine and its host is unknown"), gpu_models
        )
    from ..hardware import find_cpu

    spec = find_cpu(cpu_model) if cpu_model else None
    if spec is None or not spec.cores:
        # Not the model string again: the power model's warning has already said it.
        why = "the CPU is not in wattprint's CPU table" if cpu_model else "the CPU has no name"
        return _with_gpus(archetype(None, why), gpu_models)
    mid, low, high = _machine_kg(max(1, sockets), spec.cores, ram_gb)
    source = table.get("factor", "cpu_die")
    assert source is not None
    detail = f"{max(1, sockets)} x {spec.model} ({spec.cores} cores), {ram_gb:.0f} GB RAM"
    return _with_gpus(
        Estimate(mid, low, high, "boavizta-components", source.source, detail), gpu_models
    )


def _with_gpus(base: Estimate, gpu_models: list[str] | dict[str, int]) -> Estimate:
    kg, low, high, named, warnings = _gpus(gpu_models)
    if not named:
        return base
    return Estimate(
        base.kg + kg,
        base.low_kg + low,
        base.high_kg + high,
        base.method,
        base.source,
        f"{base.detail}, GPUs: {', '.join(named)}",
        base.warnings + tuple(warnings),
    )
