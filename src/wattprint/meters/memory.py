"""RAM energy where there is no DRAM counter: the power model's RAM part over utilization.

The SPECpower-calibrated model (``wattprint.estimate``) gives RAM power per GB for the CPU's
generation, at idle and at full load; in process mode, as for the CPU, the process tree's
share of busy CPU time is counted.
"""

from __future__ import annotations

from .base import Probe, ProbeContext
from .procfs import total_memory_gb


def probe(ctx: ProbeContext) -> list[Probe]:
    from .cpu_model import machine_model
    from .load import LoadMeter

    _, curve = machine_model(ctx)
    gb = total_memory_gb(ctx.root)
    meter = LoadMeter(
        ctx, "ram", "ram-model", lambda u: curve.component("ram", u), (f"{gb:.1f} GB installed",)
    )
    reason = f"estimate: {curve.at(1.0).ram_basis}"
    return [Probe("ram-model", "ram", True, reason, None, meter)]
