"""Summaries of stored runs, by the report's own summariser (one set of rules: unknown is never
zero; bounds only when every run has them), on Run objects built from each run's newest row.

A run's newest row is its running total (``runs.last_emission_id``), so a summary reads one row
per run, never the emissions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import records
from .models import Emission, Project, Run
from .store import RunFilter, runs_query
from .values import parse_time

PERIODS = ("day", "week", "month")
GROUPINGS = PERIODS + ("location", "intensity_source", "experiment", "project", "team", "status")
_COLUMNS = [Emission.__table__.c[name] for name in records.COLUMNS]
#: Each part's bound columns (low, high).
_PART_BOUNDS = {part: (f"{prefix}_low_kwh", f"{prefix}_high_kwh") for part, prefix in
                (("cpu", "cpu_energy"), ("gpu", "gpu_energy"), ("ram", "ram_energy"),
                 ("platform", "platform_energy"))}  # fmt: skip


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


def stored_runs(session: Session, f: RunFilter) -> list[tuple[Run, Any]]:
    """(run, the report's Run of its newest row) for every run the filter selects that has a row,
    oldest run first."""
    runs = runs_query(f).subquery()
    query = (
        select(runs.c.id, runs.c.source, *_COLUMNS)
        .join(Emission, Emission.id == runs.c.last_emission_id)
        .order_by(runs.c.id)
    )
    out = []
    for order, (run_id, source, *values) in enumerate(session.execute(query)):
        kind = "codecarbon" if source == "codecarbon" else None
        row = dict(zip(records.COLUMNS, values, strict=True))
        out.append(({"id": run_id}, report_run(row, order, kind)))
    return out


def _bounds(runs: Sequence[Any], low: str, high: str) -> tuple[float | None, float | None]:
    """The sums of the runs' bounds, or (None, None) where any run lacks one."""
    lows = [r.num(low) for r in runs]
    highs = [r.num(high) for r in runs]
    if not runs or any(v is None for v in lows + highs):
        return None, None
    return sum(lows), sum(highs)  # type: ignore[arg-type]


def totals(key: str, runs: Sequence[Any]) -> dict[str, Any]:
    """The report's summary of a group, with the flat figures the API promises beside it."""
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
    }


def _period(kind: str) -> Callable[[Any], str]:
    def key(run: Any) -> str:
        day = run.timestamp.date()  # as the report groups by day: the date as written
        if kind == "day":
            return day.isoformat()
        if kind == "week":
            return (day - timedelta(days=day.weekday())).isoformat()  # the week's Monday
        return day.strftime("%Y-%m")

    return key


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
    names = _project_names(session, ids, by)
    return lambda _run, r: names.get(r["id"], "(none)")


def _project_names(session: Session, run_ids: list[int], by: str) -> dict[int, str]:
    from .models import Team

    if not run_ids:
        return {}
    if by == "project":
        query = select(Run.id, Project.name).join(Project, Project.id == Run.project_id)
    else:
        query = (select(Run.id, Team.name).join(Project, Project.id == Run.project_id)
                 .join(Team, Team.id == Project.team_id))  # fmt: skip
    return dict(session.execute(query.where(Run.id.in_(run_ids))).all())


def summary(session: Session, f: RunFilter, by: str | None = None) -> dict[str, Any]:
    """Totals of the runs the filter selects; with ``by``, also one group per day, week, month,
    location, intensity source, experiment, project, team or status."""
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"by={by!r}: use one of {', '.join(GROUPINGS)}")
    pairs = stored_runs(session, f)
    runs = [run for _, run in pairs]
    out = totals("total", runs)
    if by is not None:
        key = _grouper(session, by, pairs)
        groups: dict[str, list[Any]] = defaultdict(list)
        for row, run in pairs:
            groups[key(run, row)].append(run)
        out["by"] = by
        out["groups"] = [_compact(totals(k, v)) for k, v in sorted(groups.items())]
    return out


def _compact(group: dict[str, Any]) -> dict[str, Any]:
    """A group without the long parts (equivalents, other regions) the total already has."""
    return {k: v for k, v in group.items() if k not in ("equivalents", "elsewhere", "machine")}


def compare(session: Session, f: RunFilter) -> list[dict[str, Any]]:
    """Runs side by side, each with the same figures as a summary."""
    from ..report.summary import run_row

    return [
        dict(run_row(run, run.experiment), id=row["id"]) for row, run in stored_runs(session, f)
    ]


def grouped(session: Session, f: RunFilter, bys: Sequence[str]) -> dict[str, Any]:
    """Totals once, and groups by each of ``bys`` (as ``summary`` makes them): one read of the
    runs for a dashboard page's several charts."""
    bad = [by for by in bys if by not in GROUPINGS]
    if bad:
        raise ValueError(f"by={bad[0]!r}: use one of {', '.join(GROUPINGS)}")
    pairs = stored_runs(session, f)
    out = totals("total", [run for _, run in pairs])
    out["groupings"] = {}
    for by in bys:
        key = _grouper(session, by, pairs)
        groups: dict[str, list[Any]] = defaultdict(list)
        for row, run in pairs:
            groups[key(run, row)].append(run)
        out["groupings"][by] = [_compact(totals(k, v)) for k, v in sorted(groups.items())]
    return out
