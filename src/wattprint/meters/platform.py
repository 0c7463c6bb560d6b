"""The rest of the machine: board, fans, storage and power-supply losses.

Nothing measures it, so it is always the power model's estimate (calibrated on SPECpower wall
power), over the machine's CPU utilization like the CPU model. It is reported as its own
component and in the machine totals, never in CodeCarbon's ``energy_consumed``.
"""

from __future__ import annotations

from .base import Probe, ProbeContext


def probe(ctx: ProbeContext) -> list[Probe]:
    from .cpu_model import machine_model
    from .load import LoadMeter

    _, curve = machine_model(ctx)
    if not curve.platform_estimated:  # a figure not known is not 0 W: the record says None
        reason = curve.at(1.0).platform_basis  # "not estimated: ..."
        return [Probe("platform-model", "platform", False, reason, present=True)]
    meter = LoadMeter(
        ctx,
        "platform",
        "platform-model",
        lambda u: curve.component("platform", u),
        ("board, fans, storage, power supply",),
    )
    idle, full = curve.component("platform", 0.0)[0], curve.component("platform", 1.0)[0]
    reason = (
        f"estimate: {idle:.0f} W idle to {full:.0f} W at full load ({curve.at(1.0).platform_basis})"
    )
    return [Probe("platform-model", "platform", True, reason, None, meter)]
