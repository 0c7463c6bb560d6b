"""Administration of an organization's teams: create, rename, delete (after typing the team's
name: its projects go with it), add and remove members, move a project into a team or out of
one. Every form carries the CSRF token; every change is the API's: the same ``store`` calls and
schemas, and ``permissions.check(..., "manage")`` (a viewer is refused, 403; another
organization's teams and projects are not there, 404)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from .. import dashboard, schemas, store
from ..api.deps import DB
from ..models import Organization, Project, Team, User
from ..permissions import Principal, check
from . import session

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[session.Visitor, Depends(session.signed_in)]
Csrf = Annotated[str, Form()]


def valid(model: type[schemas.In], **fields: Any) -> Any:
    """The form's fields through the API's schema; a bad one is a 400 saying which and why."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the form"
        raise ValueError(f"{where}: {first['msg']}") from None


def managed(db: Session, who: Principal, organization_id: int) -> Organization:
    org = store.get(db, Organization, organization_id)
    check(who, "manage", org.id)
    return org


def team_of(db: Session, org: Organization, team_id: int) -> Team:
    team = store.get(db, Team, team_id)
    if team.organization_id != org.id:
        raise store.NotFoundError()  # another organization's: not there
    return team


def teams_data(db: Session, who: Principal, organization_id: int) -> dict[str, Any]:
    org = managed(db, who, organization_id)
    projects = dashboard.projects_of(db, org.id)
    return {
        "page": "teams-admin",
        "organization": {"id": org.id, "name": org.name},
        "teams": [
            {
                "id": t.id,
                "name": t.name,
                "description": t.description,
                "members": [
                    {"user_id": u.id, "email": u.email} for u in store.team_members(db, t.id)
                ],
                "projects": [{"id": p.id, "name": p.name} for p in projects if p.team_id == t.id],
            }
            for t in dashboard.teams_of(db, org.id)
        ],
        "members": [
            {"user_id": u.id, "email": u.email, "role": m.role}
            for m, u in store.memberships(db, org.id)
        ],
        "projects": [{"id": p.id, "name": p.name, "team_id": p.team_id} for p in projects],
    }


def _back(org: Organization) -> RedirectResponse:
    return RedirectResponse(f"/org/{org.id}/admin/teams", status_code=303)


@router.get("/org/{organization_id}/admin/teams")
def teams(
    request: Request, organization_id: int, db: DB, who: SignedIn, format: str | None = None
) -> Response:
    from .routes import page

    return page(
        request, who, "teams_admin.html", teams_data(db, who.principal, organization_id), format
    )


@router.post("/org/{organization_id}/admin/teams")
def create_team(
    organization_id: int,
    db: DB,
    who: SignedIn,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    csrf: Csrf = "",
) -> Response:
    session.check_csrf(who, csrf)
    org = managed(db, who.principal, organization_id)
    body = valid(schemas.TeamIn, organization_id=org.id, name=name, description=description)
    store.create_team(db, org.id, body.name, body.description)
    return _back(org)


@router.post("/org/{organization_id}/admin/teams/{team_id}/rename")
def rename_team(
    organization_id: int,
    team_id: int,
    db: DB,
    who: SignedIn,
    name: Annotated[str, Form()] = "",
    csrf: Csrf = "",
) -> Response:
    session.check_csrf(who, csrf)
    org = managed(db, who.principal, organization_id)
    team = team_of(db, org, team_id)
    body = valid(schemas.Rename, name=name)
    store.check_rename(db, team, body.name)
    store.update_fields(team, {"name": body.name})
    return _back(org)


@router.post("/org/{organization_id}/admin/teams/{team_id}/delete")
def delete_team(
    organization_id: int,
    team_id: int,
    db: DB,
    who: SignedIn,
    confirm: Annotated[str, Form()] = "",
    csrf: Csrf = "",
) -> Response:
    """Deletes the team with its projects (and their runs): only once its name is typed."""
    session.check_csrf(who, csrf)
    org = managed(db, who.principal, organization_id)
    team = team_of(db, org, team_id)
    if confirm.strip() != team.name:
        raise ValueError(
            f"to delete team {team.name!r} (and its projects, with their runs), type its name in "
            "the confirmation field: nothing was deleted"
        )
    store.remove(db, team)
    return _back(org)


@router.post("/org/{organization_id}/admin/teams/{team_id}/members")
def add_member(
    organization_id: int,
    team_id: int,
    db: DB,
    who: SignedIn,
    user_id: Annotated[int, Form()],
    csrf: Csrf = "",
) -> Response:
    """Add one of the organization's members (store refuses anyone else)."""
    session.check_csrf(who, csrf)
    org = managed(db, who.principal, organization_id)
    store.add_team_member(db, team_of(db, org, team_id), user_id)
    return _back(org)


@router.post("/org/{organization_id}/admin/teams/{team_id}/members/{user_id}/remove")
def remove_member(
    organization_id: int, team_id: int, user_id: int, db: DB, who: SignedIn, csrf: Csrf = ""
) -> Response:
    session.check_csrf(who, csrf)
    org = managed(db, who.principal, organization_id)
    store.get(db, User, user_id)
    store.remove_team_member(db, team_of(db, org, team_id).id, user_id)
    return _back(org)


@router.post("/org/{organization_id}/admin/projects/{project_id}/team")
def move_project(
    organization_id: int,
    project_id: int,
    db: DB,
    who: SignedIn,
    team_id: Annotated[str, Form()] = "",
    csrf: Csrf = "",
) -> Response:
    """Put a project in a team (``team_id``), or in none (empty)."""
    session.check_csrf(who, csrf)
    org = managed(db, who.principal, organization_id)
    project = store.get(db, Project, project_id)
    if project.organization_id != org.id:
        raise store.NotFoundError()
    if team_id.strip() and not team_id.strip().isdigit():
        raise ValueError(f"team_id={team_id!r}: choose a team, or none")
    project.team_id = team_of(db, org, int(team_id)).id if team_id.strip() else None
    return _back(org)
