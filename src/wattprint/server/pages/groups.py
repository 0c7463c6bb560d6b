"""The team, experiment and organization-map pages' data (the project page's is in ``data``,
built the same way by ``collection.runs_page``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .. import dashboard, store
from ..models import Experiment, Organization, Project, Team
from ..permissions import NotFoundError, Principal, check
from ..store import RunFilter
from . import collection
from .data import _period, _run_brief, _water, _when


def team(
    db: Session,
    who: Principal,
    team_id: int,
    period: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
) -> dict[str, Any]:
    found = store.get(db, Team, team_id)
    check(who, "read", found.organization_id)
    period = _period(period)
    f = RunFilter(team_id=found.id, since=since, until=until)
    projects = dashboard.projects_of_team(db, found.id)
    names = {p.id: p.name for p in projects}
    experiments = collection.experiments_for(db, list(names))
    query = collection.page_query(period, since, until)
    runs, newest, pages = collection.listed_runs(db, f, before, query)
    values = collection.runs_page(db, f, period, experiments, newest, names)
    return {
        "page": "team",
        "team": {
            "id": found.id,
            "name": found.name,
            "description": found.description,
            "organization_id": found.organization_id,
        },
        "projects": [{"id": p.id, "name": p.name} for p in projects],
        "period": period,
        "range": {"since": _when(since), "until": _when(until)},
        "water": _water(values["totals"]),
        "runs": [dict(_run_brief(r), project=names.get(r.project_id, "")) for r in runs],
        "runs_pages": pages,
        "exports": collection.exports(f"/team/{found.id}", since, until),
        **values,
    }


def experiment(
    db: Session,
    who: Principal | None,
    experiment_id: int,
    period: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before: int | None = None,
) -> dict[str, Any]:
    """An experiment's page; ``who`` None: an anonymous visitor (public projects only)."""
    found = store.get(db, Experiment, experiment_id)
    proj = store.get(db, Project, found.project_id)
    if who is None:
        if not proj.public:
            raise NotFoundError()
    else:
        check(who, "read", proj.organization_id, proj.id)
    period = _period(period)
    f = RunFilter(experiment_id=found.id, since=since, until=until)
    query = collection.page_query(period, since, until)
    runs, newest, pages = collection.listed_runs(db, f, before, query)
    values = collection.runs_page(db, f, period, [], newest)
    return {
        "page": "experiment",
        "experiment": {"id": found.id, "name": found.name, "description": found.description},
        "project": {"id": proj.id, "name": proj.name, "organization_id": proj.organization_id},
        "period": period,
        "range": {"since": _when(since), "until": _when(until)},
        "water": _water(values["totals"]),
        "runs": [_run_brief(r) for r in runs],
        "runs_pages": pages,
        # Exports need a session: a public page's visitors see the page only.
        "exports": None
        if who is None
        else collection.exports(f"/experiment/{found.id}", since, until),
        **values,
    }


def organization_map(db: Session, who: Principal, organization_id: int) -> dict[str, Any]:
    """The world map of grid intensity with the organization's runs marked, and their grids'
    energy mix."""
    org = store.get(db, Organization, organization_id)
    check(who, "read", org.id)
    from .. import summaries

    rows = summaries.compare(db, RunFilter(organization_id=org.id))
    seen = collection.where_and_mix(rows)
    charts = [collection.map_chart(rows, seen["places"]), collection.mix_chart(seen["mix"])]
    return {
        "page": "map",
        "organization": {"id": org.id, "name": org.name},
        "runs": len(rows),
        "places": seen["places"],
        "mix": seen["mix"],
        "charts": [c for c in charts if c is not None],
        "map": charts[0] is not None,
    }
