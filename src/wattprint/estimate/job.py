"""A job's estimate without running it: what a machine draws (CPU, RAM, platform, GPUs), what
the job emits for its hours where it runs, its share of the hardware's embodied emissions, and
where or when it would emit less.

    from wattprint.estimate.job import Job, compute

    data = compute(Job(cpu="AMD EPYC 7763", memory_gb=512, hours=10, country="FRA"))
    data["emissions"]["kg"], data["emissions"]["low_kg"], data["emissions"]["high_kg"]

``compute`` raises :class:`JobError` (a ``ValueError``) for options that do not describe a
machine, with what to add. ``wattprint estimate`` prints its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Job:
    cpu: str | None = None
    sockets: int | None = None
    threads: int | None = None
    memory_gb: float | None = None
    load: float = 1.0
    gpu: str | None = None
    gpus: int | None = None
    gpu_load: float = 1.0
    hours: float = 1.0
    country: str | None = None
    cloud: str | None = None
    region: str | None = None
    instance: str | None = None  # cloud instance type, for its embodied emissions
    lifetime_years: float = 4.0


class JobError(ValueError):
    """Options that do not describe a machine; the message says what to add."""


@dataclass(frozen=True)
class Part:
    name: str
    watts: float | None  # None: not estimated (the platform of an unknown CPU)
    low_w: float | None
    high_w: float | None
    how: str
    count: int = 1  # devices in the part (GPUs of one model)


def _this_machine() -> tuple[str, int, int, float, list[str], bool]:
    """Brand string, sockets, threads, memory GB, GPU names of this machine, and if a VM."""
    from ..meters import nvidia
    from ..meters.base import ProbeContext
    from ..meters.procfs import cpu_info, total_memory_gb

    ctx = ProbeContext()
    info = cpu_info(ctx.root)
    names: list[str] = []
    for probe in nvidia.probe(ctx):
        if probe.meter is not None:
            names.extend(getattr(probe.meter, "gpu_models", ()))
            probe.meter.close()
    return info.model, info.sockets, info.threads, total_memory_gb(ctx.root), names, info.virtual


def _gpu_parts(job: Job, names: list[str]) -> list[Part]:
    """One part per GPU model, for all the GPUs of that model: the cost does not grow with
    their number."""
    from collections import Counter

    from ..hardware import find_gpu

    if job.gpu:
        counts = {job.gpu: job.gpus if job.gpus is not None else 1}
    elif job.gpus is not None:
        raise JobError("--gpus needs --gpu MODEL (e.g. --gpu 'H100 SXM')")
    else:
        counts = dict(Counter(names))
    parts = []
    for name, n in counts.items():
        if n == 0:
            continue
        spec = find_gpu(name)
        if spec is None or spec.tdp_w is None:
            raise JobError(f"GPU {name!r} is not in wattprint's GPU table; name another model")
        # Between the GPU's idle draw and its board limit: utilization says little more than
        # that (a "100 %" busy GPU draws anywhere from half its limit to all of it).
        idle = spec.idle_w if spec.idle_w is not None else 0.1 * spec.tdp_w
        watts = idle + (spec.tdp_w - idle) * job.gpu_load
        how = f"{spec.model}: idle {idle:g} W to TDP {spec.tdp_w:g} W ({spec.source})"
        parts.append(Part("gpu", n * watts, n * idle, n * spec.tdp_w, how, n))
    return parts


def compute(job: Job) -> dict[str, Any]:
    """Everything ``wattprint estimate`` prints, as plain data (JSON-able)."""
    from ..hardware import find_cpu
    from ..report.whatif import region_options
    from .model import machine_power
    from .vm import guest_curve

    gpu_names: list[str] = []
    virtual = False
    if job.cpu is None:
        brand, sockets, threads, memory_gb, gpu_names, virtual = _this_machine()
        sockets = job.sockets or sockets
        threads = job.threads or threads
        memory_gb = job.memory_gb if job.memory_gb is not None else memory_gb
        described = "this machine"
        curve = guest_curve(brand, threads, memory_gb, virtual)
    else:
        brand, sockets = job.cpu, job.sockets or 1
        spec = find_cpu(brand)
        threads = job.threads or (spec.threads * sockets if spec and spec.threads else None)
        if threads is None:
            raise JobError(f"CPU {brand!r} is unknown to wattprint: give --threads N")
        if job.memory_gb is None:
            raise JobError("give --memory-gb N with --cpu (installed RAM of the machine)")
        memory_gb = job.memory_gb
        described = "the machine described"
        curve = None
    if curve is not None:  # a VM with a generic CPU: its share of a host
        power = curve.at(job.load)
    else:
        power = machine_power(brand, sockets, threads, memory_gb, job.load)
    parts = [
        Part("cpu", power.cpu_w, power.cpu_low_w, power.cpu_high_w, power.cpu_basis),
        Part("ram", power.ram_w, power.ram_low_w, power.ram_high_w, power.ram_basis),
        Part("platform", power.platform_w, power.platform_low_w, power.platform_high_w,
             power.platform_basis),
    ]  # fmt: skip
    parts += _gpu_parts(job, gpu_names)
    # The CPU+RAM+platform bounds come from the model as a whole (its residuals), not from
    # adding the parts' bounds, which would double-count their shared error.
    host_low, host_high = power.machine_low_w, power.machine_high_w
    gpu = [p for p in parts if p.name == "gpu"]
    machine = Part(
        "machine",
        power.machine_w + sum(p.watts for p in gpu),
        host_low + sum(p.low_w for p in gpu),
        host_high + sum(p.high_w for p in gpu),
        power.method,
    )
    if job.cloud and not job.region:
        raise JobError("--cloud needs --region (the provider's region code, e.g. us-east-1)")
    location, intensity, pue, pue_source = _where(job)
    it_kwh = machine.watts * job.hours / 1000
    energy = {
        "it_kwh": it_kwh,
        "low_kwh": machine.low_w * job.hours / 1000,
        "high_kwh": machine.high_w * job.hours / 1000,
        "pue": pue,
        "pue_source": pue_source,
        "facility_kwh": it_kwh * pue,
    }
    grams = it_kwh * pue * intensity.value
    emissions = {
        "kg": grams / 1000,
        "low_kg": energy["low_kwh"] * pue * intensity.low / 1000,
        "high_kg": energy["high_kwh"] * pue * intensity.high / 1000,
        "intensity_g_per_kwh": intensity.value,
        "intensity_kind": intensity.kind,
        "intensity_zone": intensity.zone,
        "intensity_year": intensity.year,
        "intensity_source": intensity.source,
        "location_source": location.source,
        "location_detail": location.detail,
    }
    elsewhere = []
    if location.cloud_provider:
        for option in region_options(location.cloud_provider, it_kwh)[:5]:
            elsewhere.append(
                {
                    "region": option.region,
                    "label": option.label,
                    "pue": option.pue,
                    "intensity_g_per_kwh": option.intensity.value,
                    "intensity_kind": option.intensity.kind,
                    "kg": option.emissions_kg,
                }
            )
    return {
        "at_another_time": _another_time(location, it_kwh * pue, job.hours),
        "machine": {
            "described": described,
            "cpu": brand,
            "sockets": sockets,
            "threads": threads,
            "memory_gb": memory_gb,
            "load": job.load,
            "gpu_count": sum(p.count for p in gpu),
            "gpu_models": {p.how.split(":")[0]: p.count for p in gpu},
            "gpu_load": job.gpu_load,
            "notes": list(power.notes),
        },
        "power_w": {
            p.name: {"value": p.watts, "low": p.low_w, "high": p.high_w, "how": p.how}
            for p in [*parts[:3], *_summed_gpus(gpu), machine]
        },
        "hours": job.hours,
        "energy": energy,
        "emissions": emissions,
        "elsewhere": elsewhere,
        "embodied": _embodied(job, brand, sockets, threads, memory_gb, gpu, virtual),
    }


def _embodied(
    job: Job,
    brand: str,
    sockets: int,
    threads: int,
    memory_gb: float,
    gpus: list[Part],
    virtual: bool,
) -> dict[str, Any]:
    """The job's share of the hardware's embodied emissions: the whole machine for its hours."""
    from ..embodied.model import estimate

    names = {p.how.split(":")[0]: p.count for p in gpus}  # a model's count, not a list of them
    found = estimate(
        brand,
        sockets,
        threads,
        memory_gb,
        names,
        virtual=virtual,
        cloud_provider=job.cloud,
        instance_type=job.instance,
    )
    rate = found.per_hour(job.lifetime_years)
    return {
        "kg": rate["kg_per_h"] * job.hours,
        "low_kg": rate["low_kg_per_h"] * job.hours,
        "high_kg": rate["high_kg_per_h"] * job.hours,
        "hardware_kg": found.kg,
        "lifetime_years": job.lifetime_years,
        "method": found.method,
        "source": found.source,
        "detail": found.detail,
        "notes": list(found.warnings),
    }


def _where(job: Job) -> tuple[Any, Any, float, str]:
    """Location, intensity, PUE and its source, by the settings every command uses (files,
    WATTPRINT_*, a site file) with --country/--cloud/--region in place of their location. An
    estimate is for no particular hour: the annual figure, or the intensity setting."""
    from ..carbon.context import setup
    from ..config import load_settings_with

    settings = load_settings_with(
        {"country": job.country, "cloud_provider": job.cloud, "cloud_region": job.region}
    )
    carbon = setup(settings)
    try:
        # The PUE's origin in short ("aws us-east-1", "setting pue"); `detect` gives the source.
        pue_source = carbon.pue_source.split(":")[0]
        return carbon.location, carbon.timeline.base, carbon.pue, pue_source
    finally:
        carbon.close()


def _another_time(location: Any, kwh: float, hours: float) -> dict[str, Any] | None:
    """The job started at its zone's cleanest typical-day time within 24 h, where there is one."""
    from datetime import datetime, timezone

    from ..report.whatif import time_option

    option = time_option(location, kwh, hours, datetime.now(timezone.utc))
    if option is None:
        return None
    return {
        "zone": option.zone,
        "start": option.start.isoformat(timespec="minutes"),
        "intensity_at_once_g_per_kwh": option.intensity_at_once,
        "intensity_g_per_kwh": option.intensity,
        "low": option.low,
        "high": option.high,
        "saving_kg": option.saving_kg,
        "saving_pct": option.saving_pct,
        "how": "typical day (hourly profile) of the zone, now vs the cleanest start within 24 h",
    }


def _summed_gpus(gpus: list[Part]) -> list[Part]:
    if not gpus:
        return []
    return [
        Part(
            "gpu",
            sum(p.watts for p in gpus),
            sum(p.low_w for p in gpus),
            sum(p.high_w for p in gpus),
            "; ".join(f"{p.count} x {p.how}" for p in gpus),
            sum(p.count for p in gpus),
        )
    ]
