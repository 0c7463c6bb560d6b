"""The team, experiment and map pages, and the exports of what the team, experiment and run
pages show (the API's export, for the signed-in user's session)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import store
from ..api import common
from ..api.deps import DB
from ..models import Experiment, Run, Team
from . import groups
from .routes import Seen, SignedIn, _day, page

router = APIRouter(include_in_schema=False)


@router.get("/team/{team_id}")
def team(
    request: Request,
    team_id: int,
    db: DB,
    who: SignedIn,
    period: str | None = None,
    since: str = "",
    until: str = "",
    before: int | None = None,
    format: str | None = None,
) -> Response:
    values = groups.team(
        db, who.principal, team_id, period, _day(since, "since"), _day(until, "until"), before
    )
    return page(request, who, "team.html", values, format)


@router.get("/experiment/{experiment_id}")
def experiment(
    request: Request,
    experiment_id: int,
    db: DB,
    who: Seen,
    period: str | None = None,
    since: str = "",
    until: str = "",
    before: int | None = None,
    format: str | None = None,
) -> Response:
    values = groups.experiment(
        db, who.principal, experiment_id, period, _day(since, "since"), _day(until, "until"), before
    )
    return page(request, who, "experiment.html", values, format)


@router.get("/org/{organization_id}/map")
def organization_map(
    request: Request, organization_id: int, db: DB, who: SignedIn, format: str | None = None
) -> Response:
    values = groups.organization_map(db, who.principal, organization_id)
    return page(request, who, "map.html", values, format)


def _export(
    request: Request,
    db: Any,
    who: SignedIn,
    obj: Any,
    f: store.RunFilter,
    fmt: str,
    name: str,
    since: str,
    until: str,
) -> Response:
    common.allowed(db, who.principal, "read", obj)
    ranged = common.filtered(f, None, _day(since, "since"), _day(until, "until"))
    return common.export(request, ranged, fmt, name)


@router.get("/team/{team_id}/export.{fmt}")
def team_export(
    team_id: int,
    fmt: str,
    request: Request,
    db: DB,
    who: SignedIn,
    since: str = "",
    until: str = "",
) -> Response:
    found = store.get(db, Team, team_id)
    return _export(
        request,
        db,
        who,
        found,
        store.RunFilter(team_id=found.id),
        fmt,
        f"team-{found.id}",
        since,
        until,
    )


@router.get("/experiment/{experiment_id}/export.{fmt}")
def experiment_export(
    experiment_id: int,
    fmt: str,
    request: Request,
    db: DB,
    who: SignedIn,
    since: str = "",
    until: str = "",
) -> Response:
    found = store.get(db, Experiment, experiment_id)
    return _export(
        request,
        db,
        who,
        found,
        store.RunFilter(experiment_id=found.id),
        fmt,
        f"experiment-{found.id}",
        since,
        until,
    )


@router.get("/run/{run_id}/export.{fmt}")
def run_export(run_id: int, fmt: str, request: Request, db: DB, who: SignedIn) -> Response:
    found = store.get(db, Run, run_id)
    return _export(
        request, db, who, found, store.RunFilter(run_ids=[found.id]), fmt, f"run-{found.id}", "", ""
    )
