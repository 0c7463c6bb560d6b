"""What a run page shows besides its power and totals: its tasks, its embodied/LLM/SCI figures,
its grid's energy mix, and the what-ifs (the same energy in the provider's other regions or on
other grids, and started at another hour of its zone's typical day). Each comes from the
report's own function on the run's newest row (``summaries.report_run``), as ``wattprint
report`` computes it for a CSV."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.orm import Session

from ... import records
from .. import dashboard, summaries
from . import collection, figures

#: A task row's figures the page lists: key -> record column.
TASK_FIGURES = (("duration_s", "duration"), ("energy_kwh", "energy_consumed"),
                ("energy_low_kwh", "energy_low_kwh"), ("energy_high_kwh", "energy_high_kwh"),
                ("emissions_kg", "emissions"), ("emissions_low_kg", "emissions_low_kg"),
                ("emissions_high_kg", "emissions_high_kg"))  # fmt: skip


def report_row(row: dict[str, Any], source: str) -> Any:
    """The report's Run of a stored row (the record's columns only)."""
    values = {c: row.get(c) for c in records.COLUMNS}
    return summaries.report_run(values, 0, "codecarbon" if source == "codecarbon" else None)


def tasks(db: Session, run_id: int, source: str) -> list[dict[str, Any]]:
    """The run's task rows, each with its figures by the report's rules (unknown is None)."""
    out = []
    for row in dashboard.task_rows(db, run_id):
        task = report_row(dict(row, run_id=row.get("run_id") or "task"), source)
        item = {
            "name": row["task_name"],
            "status": task.text("status") or "unknown",
            "timestamp": task.text("timestamp"),
        }
        item.update({key: task.num(column) for key, column in TASK_FIGURES})
        out.append(item)
    return out


def _start(run: Any) -> datetime | None:
    """The run's start as an aware UTC time (a naive one, CodeCarbon's, taken as UTC)."""
    try:
        start = run.start
    except (ValueError, OverflowError):
        return None
    if start is None:
        return None
    if start.tzinfo is None:
        return start.replace(tzinfo=timezone.utc)
    return start.astimezone(timezone.utc)


def _minute(moment: datetime) -> str:
    """An aware time as "2026-03-03 09:00" in UTC (plotly.js reads it as a date)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def at_another_hour(run: Any) -> dict[str, Any] | None:
    """The run's energy started at each hour of the day after its start on its zone's typical
    day, and the cleanest start within 24 h (``report.whatif``); None where its zone has no
    hourly profile or its energy or duration is unknown."""
    from ...carbon import tables
    from ...carbon.location import Location
    from ...report.whatif import start_hours, time_option

    zone = run.text("intensity_zone")
    energy, duration, start = run.num("energy_consumed"), run.num("duration"), _start(run)
    if not zone or tables.hourly_profile(zone) is None or start is None:
        return None
    if not energy or not duration:
        return None
    where = Location(zone=zone)
    hours = start_hours(where, energy, duration / 3600.0, start)
    best = time_option(where, energy, duration / 3600.0, start)
    if not hours or best is None:
        return None
    text = [dict(h, start=_minute(h["start"])) for h in hours]
    return {
        "zone": best.zone,
        "started": _minute(start),
        "hours": text,
        "best_start": _minute(best.start),
        "intensity_at_once_g_per_kwh": best.intensity_at_once,
        "best_intensity_g_per_kwh": best.intensity,
        "saving_kg": best.saving_kg,
        "saving_pct": best.saving_pct,
        "how": "the run's energy over its duration, started at each hour on its zone's typical "
        "day (hourly profile); the typical day, not the day it ran",
    }


def elsewhere(run: Any) -> list[dict[str, Any]]:
    """The report's region comparison of the run: its provider's other regions (cloud), else
    reference grids; each block with its chart."""
    from ...report import charts as report_charts
    from ...report.summary import compare_regions

    out = []
    for i, block in enumerate(compare_regions([run])):
        if block["kind"] == "cloud":
            title = f"Had it run in another {block['provider']} region (kg CO2eq)"
        else:
            title = "The same energy on other grids (kg CO2eq)"
        chart = figures.wrapped(
            f"chart-elsewhere-{i}", title, report_charts.regions(block), wide=True
        )
        out.append({"block": block, "chart": chart})
    return out


def mix(run: Any) -> dict[str, Any]:
    from ...report.mix import runs_mix, zone_of

    zone = zone_of(run.text("intensity_zone"), run.text("country_iso_code").upper())
    return runs_mix([(zone, run.num("energy_consumed"))])


def extras(db: Session, run_id: int, source: str, row: dict[str, Any]) -> dict[str, Any]:
    """The run page's extra sections and their charts (``charts``)."""
    from ...report.footprint import summarise_footprint

    found = tasks(db, run_id, source)
    if not row:
        return {
            "tasks": found,
            "footprint": None,
            "mix": None,
            "elsewhere": [],
            "at_another_hour": None,
            "charts": [],
        }
    run = report_row(row, source)
    regions = elsewhere(run)
    hours = at_another_hour(run)
    grid = mix(run)
    charts = [collection.mix_chart(grid)] + [r["chart"] for r in regions]
    if hours is not None:
        charts.append(figures.start_hours(hours["hours"], hours["started"]))
    return {
        "tasks": found,
        "footprint": summarise_footprint([run]),
        "mix": grid,
        "elsewhere": [r["block"] for r in regions],
        "at_another_hour": hours,
        "charts": [c for c in charts if c is not None],
    }
