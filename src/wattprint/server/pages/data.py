"""One data function per page: what the page shows, as JSON-ready dicts. The same dict is the
page's ``?format=json`` answer and the ``page-data`` block its charts are drawn from (as Datasette
does), so a test reads the charts' numbers without pixels. Every figure comes from ``summaries``
(the report's summariser) or ``dashboard``'s queries; permission checks go through
``permissions.check``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .. import dashboard, store, summaries
from ..models import Organization, Project, Run
from ..permissions import NotFoundError, Principal, check, may
from ..store import RunFilter
from . import live

PERIODS = summaries.PERIODS
PARTS = ("cpu", "gpu", "ram", "platform")


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _run_brief(run: Any) -> dict[str, Any]:
    """A run (a Run, or a row of ``dashboard.BRIEF``) as a page lists it."""
    return {
        "id": run.id,
        "run_id": run.client_run_id,
        "name": run.name,
        "status": run.status,
        "source": run.source,
        "started_at": _when(run.started_at),
        "last_at": _when(run.last_at),
        "duration_s": run.duration_s,
        "energy_kwh": run.energy_kwh,  # type: ignore[attr-defined]
        "emissions_kg": run.emissions_kg,  # type: ignore[attr-defined]
        "emissions_low_kg": run.emissions_low_kg,  # type: ignore[attr-defined]
        "emissions_high_kg": run.emissions_high_kg,  # type: ignore[attr-defined]
        "project_id": run.project_id,
    }


def _water(totals: dict[str, Any]) -> dict[str, Any]:
    """Water where the runs say it and how many do not (unknown, never zero): the summary's,
    of every run the page's filter selects, not only of the runs it lists."""
    return totals["water"]


def _over_time(grouped: dict[str, Any], period: str) -> dict[str, Any]:
    groups = grouped.get("groups", [])
    return {
        "id": "chart-over-time",
        "title": f"Emissions by {period} (kg CO2eq)",
        "traces": [
            {
                "type": "bar",
                "name": "emissions (kg)",
                "x": [g["group"] for g in groups],
                "y": [g["emissions_kg"] for g in groups],
                "error_y": _error_bars(groups),
            }
        ],
        "layout": {"xaxis": {"title": {"text": period}}, "yaxis": {"title": {"text": "kg"}}},
    }


def _error_bars(groups: list[dict[str, Any]]) -> dict[str, Any]:
    """The bounds as asymmetric error bars, where every group has them."""
    if not groups or any(g["emissions_low_kg"] is None for g in groups):
        return {"visible": False}
    return {
        "type": "data",
        "symmetric": False,
        "visible": True,
        "array": [g["emissions_high_kg"] - g["emissions_kg"] for g in groups],
        "arrayminus": [g["emissions_kg"] - g["emissions_low_kg"] for g in groups],
    }


def _breakdown(chart_id: str, title: str, grouped: dict[str, Any]) -> dict[str, Any]:
    groups = grouped.get("groups", [])
    return {
        "id": chart_id,
        "title": title,
        "traces": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "emissions (kg)",
                "y": [g["group"] for g in groups],
                "x": [g["emissions_kg"] for g in groups],
            }
        ],
        "layout": {"xaxis": {"title": {"text": "kg CO2eq"}}},
    }


def _energy_by(chart_id: str, title: str, grouped: dict[str, Any]) -> dict[str, Any]:
    groups = grouped.get("groups", [])
    return {
        "id": chart_id,
        "title": title,
        "traces": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "energy (kWh)",
                "y": [g["group"] for g in groups],
                "x": [g["energy_kwh"] for g in groups],
            }
        ],
        "layout": {"xaxis": {"title": {"text": "kWh"}}},
    }


def _components(total: dict[str, Any]) -> dict[str, Any]:
    parts = total["by_component"]
    return {
        "id": "chart-components",
        "title": "Energy by component (kWh)",
        "traces": [
            {
                "type": "bar",
                "name": "energy (kWh)",
                "x": list(PARTS),
                "y": [parts[p]["kwh"] for p in PARTS],
            }
        ],
        "layout": {"yaxis": {"title": {"text": "kWh"}}},
    }


def _period(period: str | None) -> str:
    if period is None:
        return "day"
    if period not in PERIODS:
        raise ValueError(f"period={period!r}: use one of {', '.join(PERIODS)}")
    return period


# -- pages ---------------------------------------------------------------------------------------


def organizations(db: Session, who: Principal) -> dict[str, Any]:
    found = dashboard.organizations(db, who.visible_organizations())
    return {"page": "organizations", "organizations": [{"id": o.id, "name": o.name} for o in found]}


def organization(
    db: Session,
    who: Principal,
    organization_id: int,
    period: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    org = store.get(db, Organization, organization_id)
    check(who, "read", org.id)
    period = _period(period)
    f = RunFilter(organization_id=org.id, since=since, until=until)
    all_of = summaries.grouped(db, f, (period, "team", "project", "location"))
    total = {k: v for k, v in all_of.items() if k != "groupings"}
    over_time, by_team, by_project, by_location = (
        {"groups": all_of["groupings"][by]} for by in (period, "team", "project", "location")
    )
    return {
        "page": "organization",
        "organization": {"id": org.id, "name": org.name},
        "period": period,
        "range": {"since": _when(since), "until": _when(until)},
        "totals": total,
        "water": _water(total),
        "projects": [
            {"id": p.id, "name": p.name, "team_id": p.team_id}
            for p in dashboard.projects_of(db, org.id)
        ],
        "teams": [{"id": t.id, "name": t.name} for t in dashboard.teams_of(db, org.id)],
        "in_progress": live.in_progress(db, org.id),  # the live stream sends it again
        "biggest_runs": [_run_brief(r) for r in dashboard.biggest_runs(db, f)],
        "may_manage": may(who, "manage", org.id),
        "charts": [
            _over_time(over_time, period),
            _breakdown("chart-teams", "Emissions by team (kg CO2eq)", by_team),
            _breakdown("chart-projects", "Emissions by project (kg CO2eq)", by_project),
            _energy_by("chart-locations", "Where the energy was used (kWh)", by_location),
        ],
    }


def project(
    db: Session,
    who: Principal | None,
    project_id: int,
    period: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
) -> dict[str, Any]:
    """A project's page; ``who`` None: an anonymous visitor, who sees only public projects;
    ``before``: its table lists the runs older than that run."""
    proj = store.get(db, Project, project_id)
    if who is None:
        if not proj.public:
            raise NotFoundError()
    else:
        check(who, "read", proj.organization_id, proj.id)
    period = _period(period)
    f = RunFilter(project_id=proj.id, since=since, until=until)
    experiments = dashboard.experiment_names(db, proj.id)
    from . import collection

    query = collection.page_query(period, since, until)
    runs, newest, pages = collection.listed_runs(db, f, before, query)
    values = collection.runs_page(db, f, period, collection.experiments_for(db, [proj.id]), newest)
    return {
        "page": "project",
        "project": {
            "id": proj.id,
            "name": proj.name,
            "organization_id": proj.organization_id,
            "public": proj.public,
            "description": proj.description,
            "team_id": proj.team_id,
        },
        "period": period,
        "range": {"since": _when(since), "until": _when(until)},
        "water": _water(values["totals"]),
        "runs": [
            dict(_run_brief(r), experiment=experiments.get(r.experiment_id, "")) for r in runs
        ],
        "runs_pages": pages,
        "may_manage": who is not None and may(who, "manage", proj.organization_id, proj.id),
        # Exports need a session: a public page's visitors see the page only.
        "exports": None if who is None else collection.exports(f"/project/{proj.id}", since, until),
        **values,
    }


# The provenance a run page shows for each figure: label -> record column.
PROVENANCE = (
    ("CPU method", "cpu_method"), ("GPU method", "gpu_method"), ("RAM method", "ram_method"),
    ("platform method", "platform_method"),
    ("intensity (g/kWh)", "intensity_g_per_kwh"),
    ("intensity low (g/kWh)", "intensity_low_g_per_kwh"),
    ("intensity high (g/kWh)", "intensity_high_g_per_kwh"),
    ("intensity source", "intensity_source"), ("intensity year", "intensity_year"),
    ("intensity zone", "intensity_zone"), ("intensity kind", "intensity_kind"),
    ("location decided by", "location_source"), ("location detail", "location_detail"),
    ("country", "country_name"), ("region", "region"), ("cloud provider", "cloud_provider"),
    ("cloud region", "cloud_region"), ("CPU model", "cpu_model"), ("GPU model", "gpu_model"),
    ("OS", "os"), ("Python", "python_version"), ("wattprint", "wattprint_version"),
)  # fmt: skip


def run(db: Session, who: Principal | None, run_id: int, after: int = 0) -> dict[str, Any]:
    the_run = store.get(db, Run, run_id)
    proj = store.get(db, Project, the_run.project_id)
    if who is None:
        if not proj.public:
            raise NotFoundError()
    else:
        check(who, "read", proj.organization_id, proj.id)
    total = summaries.summary(db, RunFilter(run_ids=[the_run.id]))
    row = dashboard.newest_row(db, the_run) or {}
    points = dashboard.intervals_after(db, the_run.id, after)
    from .runextras import extras

    more = extras(db, the_run.id, the_run.source, row) if after == 0 else {"charts": []}
    return {
        "page": "run",
        "run": _run_brief(the_run),
        "project": {"id": proj.id, "name": proj.name},
        "experiment": _experiment(db, the_run.experiment_id),
        "live": the_run.status == "running",
        "totals": total,
        "provenance": [
            {"label": label, "column": column, "value": row.get(column)}
            for label, column in PROVENANCE
        ],
        "last_interval_id": points[-1].id if points else after,
        "exports": None
        if who is None
        else {f: f"/run/{the_run.id}/export.{f}" for f in ("csv", "json")},
        **{k: v for k, v in more.items() if k != "charts"},
        "charts": [power_chart(points), _components(total), *more["charts"]],
    }


def _experiment(db: Session, experiment_id: int) -> dict[str, Any]:
    from ..models import Experiment

    found = store.get(db, Experiment, experiment_id)
    return {"id": found.id, "name": found.name}


def power_series(points: list[Any]) -> dict[str, Any]:
    """Times and power per component of some intervals (what the live stream sends too)."""
    return {
        "x": [p.timestamp for p in points],
        "y": {part: [getattr(p, c) for p in points] for part, c in dashboard.POWER_COLUMNS.items()},
        "last_interval_id": points[-1].id if points else None,
    }


def power_chart(points: list[Any]) -> dict[str, Any]:
    series = power_series(points)
    return {
        "id": "chart-power",
        "title": "Power per component (W)",
        "traces": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": part,
                "x": series["x"],
                "y": series["y"][part],
            }
            for part in dashboard.POWER_COLUMNS
        ],
        "layout": {"yaxis": {"title": {"text": "W"}}},
    }
