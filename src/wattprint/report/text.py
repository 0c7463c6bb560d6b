"""A run's (or a task's) result as text for a terminal or a log: ``str(result)``.

The record itself (``wattprint.records``) is data only; this is how a person reads it.
"""

from __future__ import annotations

from .. import units
from ..footprint import render_lines as footprint_lines
from ..records import RunResult
from ..units import energy_text, mass_text


def render_text(r: RunResult) -> str:
    what = f"task {r.task_name!r} of run" if r.task_name else "run"
    took = units.duration(r.duration_s)
    lines = [f"wattprint {what} {r.run_id} ({r.project_name}): {r.status}, {took}"]
    for name, c in r.components.items():
        power = f"{units.power(c.power_w)} avg" if c.power_w is not None else ""
        bounds = (
            f"[{energy_text(c.low_kwh)} - {energy_text(c.high_kwh)}]"
            if c.energy_kwh is not None and c.low_kwh is not None and c.high_kwh is not None
            else ""
        )
        lines.append(
            f"  {name:<6}{energy_text(c.energy_kwh):>12}  {bounds:<30} {power:>12}  {c.method}"
        )
        if c.note:
            lines.append(f"        note: {c.note}")
    if r.platform is not None:
        c = r.platform
        bounds = (
            f"[{energy_text(c.low_kwh)} - {energy_text(c.high_kwh)}]"
            if c.low_kwh is not None and c.high_kwh is not None
            else ""
        )
        power = f"{units.power(c.power_w)} avg" if c.power_w is not None else ""
        lines.append(
            f"  {'platf.':<6}{energy_text(c.energy_kwh):>12}  {bounds:<30} {power:>12}  {c.method}"
        )
    pue = f" (with PUE {r.pue:g})" if r.pue != 1 else ""
    lines.append(
        f"  total {energy_text(r.energy_kwh):>12}  "
        f"[{energy_text(r.energy_low_kwh)} - {energy_text(r.energy_high_kwh)}]{pue}"
    )
    it = r.intensity
    year = f" {it.year}" if it.year else ""
    lines.append(
        f"  CO2eq {mass_text(r.emissions_kg):>12}  [{mass_text(r.emissions_low_kg)} - "
        f"{mass_text(r.emissions_high_kg)}] at {units.intensity(it.value)} "
        f"({it.zone}{year}, {it.kind}; "
        f"location: {r.location.source})"
    )
    lines.append(f"        intensity source: {it.source}")
    if r.emissions_marginal_kg is not None and r.marginal is not None:
        lines.append(
            f"  marginal CO2eq {mass_text(r.emissions_marginal_kg)} at "
            f"{units.intensity(r.marginal.value)} "
            f"({r.marginal.source})"
        )
    if r.water_l is not None:
        lines.append(
            f"  water {units.number(r.water_l)} L (WUE {r.wue_l_per_kwh:g} L/kWh, {r.wue_source})"
        )
    if r.pue != 1 or "default" not in r.pue_source:
        lines.append(f"  PUE {r.pue:g}: {r.pue_source}")
    lines.extend(footprint_lines(r))
    for note in r.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines)
