"""CPU energy where there is no counter: the SPECpower-calibrated model over utilization.

The model (``wattprint.estimate``) splits a machine's wall power into CPU, RAM and platform;
this meter integrates its CPU part over the utilization read from /proc/stat.
"""

from __future__ import annotations

from typing import Any

from ..hardware import CpuSpec, normalise_cpu
from ..hardware import find_cpu as _find_cpu
from .base import Probe, ProbeContext
from .load import LoadMeter
from .procfs import cpu_info, total_memory_gb

# The table and the matching live in ``wattprint.hardware``; these names stay for callers.
CpuRow = CpuSpec
normalise = normalise_cpu


def find_cpu(brand: str) -> CpuSpec | None:
    """The table row for a brand string, or None. A near miss never matches another part.

    Generic names without a model number ("AMD EPYC Processor", "Common KVM processor") are
    unknown by construction, and so is a part the table has no TDP for.
    """
    spec = _find_cpu(brand)
    return spec if spec is not None and spec.tdp_w else None


def machine_model(ctx: ProbeContext) -> Any:
    """The calibrated power model for this machine (CPU table row, sockets, threads, RAM)."""
    from ..estimate import machine_curve
    from ..estimate.vm import guest_curve

    info = cpu_info(ctx.root)
    memory_gb = total_memory_gb(ctx.root)
    if ctx.cpu_model:  # the user names the real CPU (a cloud VM's, from its instance type)
        info = info._replace(model=ctx.cpu_model)
    brand = info.model or "unknown"
    curve = guest_curve(brand, info.threads, memory_gb, info.virtual)
    if curve is None:
        curve = machine_curve(brand, info.sockets, info.threads, memory_gb)
    return info, curve


def probe(ctx: ProbeContext) -> list[Probe]:
    info, curve = machine_model(ctx)
    row = curve.cpu_row
    notes: tuple[str, ...] = ()
    if row is None:
        from ..hardware import is_generic_cpu

        what = (
            "names no model (a VM's generic CPU)"
            if is_generic_cpu(info.model)
            else ("is not in wattprint's CPU table")
        )
        ctx.warn(
            f"cpu-unknown:{info.model}",
            f"CPU {info.model!r} {what}: estimating its power from {info.threads} threads, "
            "with wider bounds. If you know the real CPU (a cloud instance type names it), "
            "set cpu_model, e.g. WATTPRINT_CPU_MODEL='Intel Xeon Platinum 8375C' or "
            "cpu_model = ... in .wattprint.ini; if you know its power, set cpu_power_w.",
        )
        notes = (
            f"CPU {info.model!r} {what}: estimated from {info.threads} threads with wider "
            "bounds; set cpu_model (or cpu_power_w) to name it",
        )
    devices = (f"{row.model} x {info.sockets}" if row else f"unknown CPU, {info.threads} threads",)
    if ctx.cpu_model:
        devices = (f"{devices[0]} (cpu_model set by the user)",)
    meter = LoadMeter(ctx, "cpu", "cpu-model", lambda u: curve.component("cpu", u), devices)
    basis = curve.at(1.0).cpu_basis
    return [
        Probe(
            "cpu-model",
            "cpu",
            True,
            f"estimate from utilization: {basis}",
            None,
            meter,
            notes=notes,
        )
    ]
