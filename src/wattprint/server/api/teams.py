from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .. import schemas, store
from ..models import Organization, Team
from ..permissions import check
from . import common
from .deps import DB, Cursor, Limit, Since, Until, Who

router = APIRouter(prefix="/teams", tags=["teams"])


@router.get("", response_model=schemas.Page)
def list_teams(organization_id: int, db: DB, who: Who, cursor: Cursor = None, limit: Limit = 100):
    check(who, "read", store.get(db, Organization, organization_id).id)
    found = store.teams(db, organization_id, cursor, limit)
    items = [schemas.TeamOut.model_validate(t) for t in found.items]
    return schemas.Page(items=items, next_cursor=found.next_cursor)


@router.post("", response_model=schemas.TeamOut, status_code=201)
def create_team(body: schemas.TeamIn, db: DB, who: Who):
    check(who, "manage", store.get(db, Organization, body.organization_id).id)
    return store.create_team(db, body.organization_id, body.name, body.description)


@router.get("/{team_id}", response_model=schemas.TeamOut)
def get_team(team_id: int, db: DB, who: Who):
    team = store.get(db, Team, team_id)
    common.allowed(db, who, "read", team)
    return team


@router.patch("/{team_id}", response_model=schemas.TeamOut)
def update_team(team_id: int, body: schemas.Rename, db: DB, who: Who):
    team = store.get(db, Team, team_id)
    common.allowed(db, who, "manage", team)
    store.check_rename(db, team, body.name)
    store.update_fields(team, body.model_dump())
    return team


@router.delete("/{team_id}", status_code=204)
def delete_team(team_id: int, db: DB, who: Who) -> None:
    """Deletes the team and its projects, with their experiments, runs and emissions."""
    team = store.get(db, Team, team_id)
    common.allowed(db, who, "manage", team)
    store.remove(db, team)


@router.get("/{team_id}/members", response_model=list[schemas.UserOut])
def list_team_members(team_id: int, db: DB, who: Who):
    team = store.get(db, Team, team_id)
    common.allowed(db, who, "read", team)
    return store.team_members(db, team.id)


@router.post("/{team_id}/members", status_code=201)
def add_team_member(team_id: int, body: schemas.TeamMemberIn, db: DB, who: Who) -> dict:
    team = store.get(db, Team, team_id)
    common.allowed(db, who, "manage", team)
    store.add_team_member(db, team, body.user_id)
    return {"team_id": team.id, "user_id": body.user_id}


@router.delete("/{team_id}/members/{user_id}", status_code=204)
def remove_team_member(team_id: int, user_id: int, db: DB, who: Who) -> None:
    team = store.get(db, Team, team_id)
    common.allowed(db, who, "manage", team)
    store.remove_team_member(db, team.id, user_id)


@router.get("/{team_id}/summary")
def team_summary(
    team_id: int,
    db: DB,
    who: Who,
    by: str | None = None,
    status: str | None = None,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    team = store.get(db, Team, team_id)
    common.allowed(db, who, "read", team)
    f = common.filtered(store.RunFilter(team_id=team.id), status, since, until)
    return common.summary(db, f, by)


@router.get("/{team_id}/export")
def team_export(
    team_id: int,
    request: Request,
    db: DB,
    who: Who,
    format: str = "csv",
    status: str | None = None,
    since: Since = None,
    until: Until = None,
):
    team = store.get(db, Team, team_id)
    common.allowed(db, who, "read", team)
    f = common.filtered(store.RunFilter(team_id=team.id), status, since, until)
    return common.export(request, f, format, f"team-{team_id}")
