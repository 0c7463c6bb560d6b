"""Administration pages: an organization's members and roles; a project's tokens (made, shown
once, revoked, last used) and whether its page is public. Every form carries the CSRF token and
every change goes through ``permissions.check`` ("manage")."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from .. import store
from ..api.deps import DB
from ..models import ROLES, Organization, Project, ProjectToken
from ..permissions import Principal, check
from . import session
from .render import render

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[session.Visitor, Depends(session.signed_in)]


def members_data(db: Session, who: Principal, organization_id: int) -> dict[str, Any]:
    org = store.get(db, Organization, organization_id)
    check(who, "manage", org.id)
    return {
        "page": "organization-admin",
        "organization": {"id": org.id, "name": org.name},
        "roles": list(ROLES),
        "members": [
            {"user_id": u.id, "email": u.email, "role": m.role}
            for m, u in store.memberships(db, org.id)
        ],
    }


def tokens_data(db: Session, who: Principal, project_id: int) -> dict[str, Any]:
    proj = store.get(db, Project, project_id)
    check(who, "manage", proj.organization_id, proj.id)
    return {
        "page": "project-admin",
        "project": {
            "id": proj.id,
            "name": proj.name,
            "public": proj.public,
            "organization_id": proj.organization_id,
        },
        "tokens": [
            {
                "id": t.id,
                "name": t.name,
                "scopes": t.scopes,
                "prefix": t.prefix,
                "created_at": t.created_at.isoformat(timespec="seconds"),
                "last_used": t.last_used.isoformat(timespec="seconds") if t.last_used else None,
                "revoked": t.revoked_at is not None,
            }
            for t in store.project_tokens(db, proj.id)
        ],
        "new_token": None,
    }


@router.get("/org/{organization_id}/admin")
def members(
    request: Request, organization_id: int, db: DB, who: SignedIn, format: str | None = None
) -> Response:
    from .routes import page

    return page(
        request, who, "org_admin.html", members_data(db, who.principal, organization_id), format
    )


@router.post("/org/{organization_id}/admin/members")
def set_member(
    organization_id: int,
    db: DB,
    who: SignedIn,
    email: Annotated[str, Form()],
    role: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
    remove: Annotated[str, Form()] = "",
) -> Response:
    session.check_csrf(who, csrf)
    org = store.get(db, Organization, organization_id)
    check(who.principal, "manage", org.id)
    user = store.user_by_email(db, email)
    if user is None:
        raise ValueError(f"no user {email!r}: create one with `wattprint server user add EMAIL`")
    current = {u.id: m.role for m, u in store.memberships(db, org.id)}.get(user.id)
    if "owner" in (role, current):
        check(who.principal, "own", org.id)  # as the API: owners make and unmake owners
    if remove:
        store.remove_membership(db, org.id, user.id)
    else:
        if role not in ROLES:
            raise ValueError(f"role {role!r}: use one of {', '.join(ROLES)}")
        store.set_membership(db, org.id, user.id, role)
    return RedirectResponse(f"/org/{org.id}/admin", status_code=303)


@router.get("/project/{project_id}/admin")
def tokens(
    request: Request, project_id: int, db: DB, who: SignedIn, format: str | None = None
) -> Response:
    from .routes import page

    return page(
        request, who, "project_admin.html", tokens_data(db, who.principal, project_id), format
    )


@router.post("/project/{project_id}/admin/tokens")
def create_token(
    request: Request,
    project_id: int,
    db: DB,
    who: SignedIn,
    name: Annotated[str, Form()] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The token is shown on this answer only (never stored in clear)."""
    session.check_csrf(who, csrf)
    tokens_data(db, who.principal, project_id)  # the permission check
    _row, token = store.create_project_token(db, project_id, name, scopes or ["ingest"])
    values = tokens_data(db, who.principal, project_id)
    values["new_token"] = token
    response = render(request, "project_admin.html", who, values, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/project/{project_id}/admin/tokens/{token_id}/revoke")
def revoke_token(
    project_id: int, token_id: int, db: DB, who: SignedIn, csrf: Annotated[str, Form()] = ""
) -> Response:
    session.check_csrf(who, csrf)
    tokens_data(db, who.principal, project_id)  # the permission check
    row = store.get(db, ProjectToken, token_id)
    if row.project_id != project_id:
        raise store.NotFoundError()
    store.revoke(db, row)
    return RedirectResponse(f"/project/{project_id}/admin", status_code=303)


@router.post("/project/{project_id}/admin/public")
def set_public(
    project_id: int,
    db: DB,
    who: SignedIn,
    public: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    session.check_csrf(who, csrf)
    proj = store.get(db, Project, project_id)
    check(who.principal, "manage", proj.organization_id, proj.id)
    proj.public = public == "on"
    return RedirectResponse(f"/project/{project_id}/admin", status_code=303)
