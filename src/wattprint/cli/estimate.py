"""``wattprint estimate``: prints what :func:`wattprint.estimate.job.compute` says a machine draws,
what a job emits, and where it would emit less."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# The estimate itself lives in wattprint.estimate.job, for the server and notebooks too; this
# module parses nothing and computes nothing: it prints.
from ..estimate.job import Job, JobError, compute

__all__ = ["Job", "JobError", "compute", "run"]


def _render(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    from .. import units

    console = Console()
    m = data["machine"]
    gpus = f", {m['gpu_count']} GPU(s) at {m['gpu_load']:.0%}" if m["gpu_count"] else ""
    console.print(
        f"[bold]{m['described'].capitalize()}[/]: {m['cpu'] or 'unknown CPU'} x {m['sockets']}, "
        f"{m['threads']} threads, {m['memory_gb']:.0f} GB, CPU at {m['load']:.0%}{gpus}"
    )
    table = Table(title="Power", title_justify="left")
    for column in ("component", "power", "low", "high", "how"):
        figure = column in ("power", "low", "high")
        table.add_column(column, justify="right" if figure else "left", no_wrap=figure)
    for name, p in data["power_w"].items():
        style = "bold" if name == "machine" else None
        # A part not estimated (None) shows as such, never as 0.
        shown = ["-" if p[k] is None else units.power(p[k]) for k in ("value", "low", "high")]
        table.add_row(name, *shown, p["how"], style=style)
    console.print(table)
    e, c = data["energy"], data["emissions"]
    console.print(
        f"[bold]{units.duration(data['hours'] * 3600)}[/]: {units.energy(e['it_kwh'])} "
        f"[{units.energy(e['low_kwh'])} - {units.energy(e['high_kwh'])}] x PUE {e['pue']:g} "
        f"({e['pue_source']}) = {units.energy(e['facility_kwh'])}"
    )
    console.print(
        f"[bold]CO2eq[/]: {units.mass(c['kg'])} [{units.mass(c['low_kg'])} - "
        f"{units.mass(c['high_kg'])}] at {units.intensity(c['intensity_g_per_kwh'])} "
        f"({c['intensity_zone']}, {c['intensity_kind']}; "
        f"location: {c['location_source']})"
    )
    b = data["embodied"]
    console.print(
        f"[bold]Embodied[/] (not in CO2eq above): {b['kg']:.3g} kg [{b['low_kg']:.3g}-"
        f"{b['high_kg']:.3g}]: {b['hardware_kg']:.0f} kg of hardware over "
        f"{b['lifetime_years']:g} years ({b['method']}: {b['detail']})"
    )
    for note in m["notes"] + b["notes"]:
        console.print(f"[yellow]note[/]: {note}")
    t = data.get("at_another_time")
    if t:
        console.print(
            f"[bold]At another time[/]: from {t['start']} (the cleanest start within 24 h on a "
            f"typical {t['zone']} day) {units.intensity(t['intensity_g_per_kwh'])} instead of "
            f"{units.number(t['intensity_at_once_g_per_kwh'])} now: saves "
            f"{units.mass(t['saving_kg'])} "
            f"({t['saving_pct']:.0f} %); `wattprint plan` for details"
        )
    if data["elsewhere"]:
        table = Table(
            title="The same job in the provider's lowest-carbon regions", title_justify="left"
        )
        for column in ("region", "PUE", "g/kWh", "CO2eq", "vs here"):
            table.add_column(column, justify="left" if column == "region" else "right")
        for o in data["elsewhere"]:
            ratio = o["kg"] / c["kg"] if c["kg"] else 0
            table.add_row(
                o["label"],
                f"{o['pue']:g}",
                units.number(o["intensity_g_per_kwh"]),
                units.mass(o["kg"]),
                f"{ratio:.0%}",
            )
        console.print(table)


def run(job: Job, as_json: bool = False) -> int:
    """Print the estimate; the exit code (2 for options that do not describe a machine)."""
    os.environ.setdefault("WATTPRINT_LOG_LEVEL", "warning")
    try:
        data = compute(job)
    except ValueError as exc:
        print(f"wattprint estimate: {exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        _render(data)
    return 0
