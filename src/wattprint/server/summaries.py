"""Summaries of stored runs: totals with bounds, by component, by day/week/month, location,
intensity source, experiment, project, team or status; and runs compared.

``summary`` and ``grouped`` add up in SQL (``rollup``: GROUP BY over each run's running total,
fast however many emissions and runs there are). The report's own summariser, on Run objects
built from each run's newest row (``reference_summary``, ``reference_grouped``), is the
reference they are tested against, and what answers where SQL cannot say (``rollup.NotInSql``).
A run that has sent only intervals so far counts by its newest interval (``in_progress_runs``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import records
from . import rollup
from .models import Project, Run
from .runrows import run_rows
from .store import RunFilter
from .values import parse_time

PERIODS = ("day", "week", "month")
GROUPINGS = PERIODS + ("location", "intensity_source", "experiment", "project", "team", "status")
#: What the dashboard's pages also group by: each run's experiment on this server (its id as the
#: label), one group per experiment a page compares (``experiment`` groups by what the rows say).
PAGE_GROUPINGS = ("experiment_pk",)
#: Each part's bound columns (low, high).
_PART_BOUNDS = {
    part: (f"{prefix}_low_kwh", f"{prefix}_high_kwh")
    for part, prefix in (
        ("cpu", "cpu_energy"),
        ("gpu", "gpu_energy"),
        ("ram", "ram_energy"),
        ("platform", "platform_energy"),
    )
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    return repr(value) if type(value) is float else str(value)


def report_run(row: dict[str, Any], order: int, kind: str | None = None) -> Any:
    """The report's Run for one stored row. The report's ``Run(row, file=, kind=, order=)``
    takes a row of column -> value from any source; its older form took the CSV's text and the
    parsed fields, which this still builds where that is the one installed."""
    from ..report.summary import Run as ReportRun

    if _takes_a_row(ReportRun):
        return ReportRun(row, file="server", kind=kind, order=order)
    text = {name: _text(value) for name, value in row.items()}
    if kind is None:
        # As the report tells files apart: wattprint's rows carry its version and a status.
        kind = "wattprint" if text.get("wattprint_version") and text.get("status") else "codecarbon"
    stamp = parse_time(text["timestamp"]) if text.get("timestamp") else datetime.min
    return ReportRun(text.get("run_id", ""), "server", kind, stamp, text, order)


@cache
def _takes_a_row(cls: type) -> bool:
    import inspect

    return next(iter(inspect.signature(cls).parameters)) == "row"


#: The columns of a run's row that the report's ``run_row`` reads (a test holds it to them):
#: runs compared read these, not the record's hundred and more.
COMPARED = ("run_id", "timestamp", "wattprint_version", "project_name", "experiment_name",
            "experiment_id", "run_name", "intensity_zone", "country_iso_code", "country_name",
            "region", "latitude", "longitude", "on_cloud", "cloud_provider", "cloud_region",
            "status", "duration", "started_at", "energy_consumed", "energy_low_kwh",
            "energy_high_kwh", "emissions", "emissions_low_kg", "emissions_high_kg",
            "cpu_energy", "gpu_energy", "ram_energy", "platform_energy_kwh")  # fmt: skip


def stored_runs(
    session: Session, f: RunFilter, columns: Sequence[str] = records.COLUMNS
) -> list[tuple[dict[str, Any], Any]]:
    """({"id", "in_progress"}, the report's Run of its newest row) for every run the filter
    selects, oldest run first; a run with no row yet by its newest interval (in progress).
    ``columns``: the row's columns the Run is given (all the record's by default)."""
    rows = run_rows(f, columns, lateral=session.get_bind().dialect.name == "postgresql")
    query = select(rows).order_by(rows.c.run_pk)
    out = []
    for order, found in enumerate(session.execute(query)):
        values = found._mapping
        in_progress = bool(values["from_interval"])
        kind = (
            "wattprint"
            if in_progress
            else ("codecarbon" if values["source"] == "codecarbon" else None)
        )
        row = {name: values[name] for name in columns}
        info = {"id": values["run_pk"], "in_progress": in_progress}
        out.append((info, report_run(row, order, kind)))
    return out


def _bounds(runs: Sequence[Any], low: str, high: str) -> tuple[float | None, float | None]:
    """The sums of the runs' bounds, or (None, None) where any run lacks one."""
    lows = [r.num(low) for r in runs]
    highs = [r.num(high) for r in runs]
    if not runs or any(v is None for v in lows + highs):
        return None, None
    return sum(lows), sum(highs)  # type: ignore[arg-type]


def _water(runs: Sequence[Any]) -> dict[str, Any]:
    """Litres where the runs say them, and how many do not (unknown, never zero)."""
    from ..report.summary import _sum_known

    litres, unknown = _sum_known([r.num("water_consumed") for r in runs])
    return {"litres": litres, "unknown_runs": unknown}


def totals(key: str, runs: Sequence[Any], in_progress: int = 0) -> dict[str, Any]:
    """The report's summary of a group, with the flat figures the API promises beside it;
    ``in_progress``: how many of the runs are known only by their intervals so far."""
    from ..report.summary import summarise_group

    summary = summarise_group(key, list(runs))
    energy_low, energy_high = _bounds(runs, "energy_low_kwh", "energy_high_kwh")
    components = {}
    for part, (low_column, high_column) in _PART_BOUNDS.items():
        low, high = _bounds(runs, low_column, high_column)
        energy = summary["energy"][part]
        components[part] = {"kwh": energy["kwh"], "low_kwh": low, "high_kwh": high,
                            "unknown_runs": energy["unknown_runs"],
                            "methods": summary["methods"].get(part)}  # fmt: skip
    emissions = summary["emissions"]
    return {
        "group": key,
        "runs": summary["runs"],
        "in_progress_runs": in_progress,
        "duration_s": summary["duration_s"],
        "energy_kwh": summary["energy"]["total"]["kwh"],
        "energy_low_kwh": energy_low,
        "energy_high_kwh": energy_high,
        "energy_unknown_runs": summary["energy"]["total"]["unknown_runs"],
        "emissions_kg": emissions["kg"],
        "emissions_low_kg": emissions["low_kg"],
        "emissions_high_kg": emissions["high_kg"],
        "emissions_unknown_runs": emissions["unknown_runs"],
        "bounds": emissions["bounds"],
        "by_component": components,
        "statuses": summary["statuses"],
        "sources": summary["sources"],
        "intensity": summary["intensity"],
        "machine": summary["machine"],
        "country": summary["country"],
        "equivalents": summary["equivalents"],
        "elsewhere": summary["elsewhere"],
        "water": _water(runs),
        "footprint": summary["footprint"],
    }


def _period(kind: str) -> Callable[[Any], str]:
    return lambda run: rollup.period_of(run.timestamp.date(), kind)  # the date as written


def _grouper(session: Session, by: str, pairs: list[tuple[dict[str, Any], Any]]):
    if by in PERIODS:
        key = _period(by)
        return lambda run, _r: key(run)
    if by == "location":
        columns = ("country_iso_code", "region", "cloud_provider", "cloud_region")
        return lambda run, _r: " / ".join(p for p in map(run.text, columns) if p) or "unknown"
    if by == "intensity_source":
        return lambda run, _r: (
            run.text("intensity_source")
            or ("codecarbon (not stated)" if run.kind == "codecarbon" else "unknown")
        )
    if by == "status":
        return lambda run, _r: run.text("status") or "unknown"
    ids = [r["id"] for r, _ in pairs]
    if by == "experiment":
        return lambda run, _r: run.experiment
    if by == "experiment_pk":
        experiments = _experiments_of(session, ids)
        return lambda _run, r: str(experiments[r["id"]])
    names = _project_names(session, ids, by)
    return lambda _run, r: names.get(r["id"], "(none)")


def _project_names(session: Session, run_ids: list[int], by: str) -> dict[int, str]:
    from .models import Team

    if not run_ids:
        return {}
    if by == "project":
        query = select(Run.id, Project.name).join(Project, Project.id == Run.project_id)
    else:
        query = (
            select(Run.id, Team.name)
            .join(Project, Project.id == Run.project_id)
            .join(Team, Team.id == Project.team_id)
        )
    return dict(session.execute(query.where(Run.id.in_(run_ids))).all())


def _experiments_of(session: Session, run_ids: list[int]) -> dict[int, int]:
    if not run_ids:
        return {}
    return dict(session.execute(select(Run.id, Run.experiment_id).where(Run.id.in_(run_ids))).all())


def _check(bys: Sequence[str], pages: bool = False) -> None:
    """A ValueError naming the first grouping that is not one (``pages``: the pages' too)."""
    known = GROUPINGS + PAGE_GROUPINGS if pages else GROUPINGS
    bad = [by for by in bys if by not in known]
    if bad:
        raise ValueError(f"by={bad[0]!r}: use one of {', '.join(GROUPINGS)}")


def summary(session: Session, f: RunFilter, by: str | None = None) -> dict[str, Any]:
    """Totals of the runs the filter selects; with ``by``, also one group per day, week, month,
    location, intensity source, experiment, project, team or status."""
    _check([by] if by is not None else [])
    together = grouped(session, f, [by] if by is not None else [])
    groupings = together.pop("groupings")
    if by is not None:
        together["by"] = by
        together["groups"] = groupings[by]
    return together


def grouped(session: Session, f: RunFilter, bys: Sequence[str]) -> dict[str, Any]:
    """Totals once, and groups by each of ``bys`` (as ``summary`` makes them): one call for a
    dashboard page's several charts (and the pages' own groupings, ``PAGE_GROUPINGS``)."""
    _check(bys, pages=True)
    try:
        return rollup.summarise(session, f, bys)
    except rollup.NotInSql:
        return reference_grouped(session, f, bys)


def _groups(session: Session, by: str, pairs: list[tuple[dict[str, Any], Any]]):
    key = _grouper(session, by, pairs)
    groups: dict[str, list[tuple[dict[str, Any], Any]]] = defaultdict(list)
    for info, run in pairs:
        groups[key(run, info)].append((info, run))
    return [_compact(_totals(k, v)) for k, v in sorted(groups.items())]


def _totals(key: str, pairs: list[tuple[dict[str, Any], Any]]) -> dict[str, Any]:
    in_progress = sum(1 for info, _ in pairs if info["in_progress"])
    return totals(key, [run for _, run in pairs], in_progress)


def reference_summary(session: Session, f: RunFilter, by: str | None = None) -> dict[str, Any]:
    """``summary`` by the report's summariser on each run (what the SQL is tested against)."""
    _check([by] if by is not None else [])
    pairs = stored_runs(session, f)
    out = _totals("total", pairs)
    if by is not None:
        out["by"] = by
        out["groups"] = _groups(session, by, pairs)
    return out


def reference_grouped(session: Session, f: RunFilter, bys: Sequence[str]) -> dict[str, Any]:
    """``grouped`` by the report's summariser on each run."""
    _check(bys, pages=True)
    pairs = stored_runs(session, f)
    out = _totals("total", pairs)
    out["groupings"] = {by: _groups(session, by, pairs) for by in bys}
    return out


def _compact(group: dict[str, Any]) -> dict[str, Any]:
    """A group without the long parts (equivalents, other regions) the total already has."""
    return {k: v for k, v in group.items() if k not in ("equivalents", "elsewhere", "machine")}


def compare(session: Session, f: RunFilter) -> list[dict[str, Any]]:
    """Runs side by side, each with the same figures as a summary (``in_progress``: known only
    by its intervals so far)."""
    from ..report.summary import run_row

    return [
        dict(run_row(run, run.experiment), id=info["id"], in_progress=info["in_progress"])
        for info, run in stored_runs(session, f, COMPARED)
    ]
