from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .. import schemas, store
from ..models import Organization
from ..permissions import ForbiddenError, check, require_user
from . import common
from .deps import DB, Cursor, Limit, Since, Until, Who

router = APIRouter(prefix="/organizations", tags=["organizations"])


@router.get("", response_model=schemas.Page)
def list_organizations(db: DB, who: Who, cursor: Cursor = None, limit: Limit = 100):
    found = store.organizations(db, who.visible_organizations(), cursor, limit)
    items = [schemas.OrganizationOut.model_validate(o) for o in found.items]
    return schemas.Page(items=items, next_cursor=found.next_cursor)


@router.post("", response_model=schemas.OrganizationOut, status_code=201)
def create_organization(body: schemas.OrganizationIn, db: DB, who: Who):
    """A new organization, with its creator as owner."""
    return store.create_organization(db, body.name, body.description, require_user(who))


@router.get("/{organization_id}", response_model=schemas.OrganizationOut)
def get_organization(organization_id: int, db: DB, who: Who):
    org = store.get(db, Organization, organization_id)
    check(who, "read", org.id)
    return org


@router.patch("/{organization_id}", response_model=schemas.OrganizationOut)
def update_organization(organization_id: int, body: schemas.Rename, db: DB, who: Who):
    org = store.get(db, Organization, organization_id)
    check(who, "manage", org.id)
    store.check_rename(db, org, body.name)
    store.update_fields(org, body.model_dump())
    return org


@router.delete("/{organization_id}", status_code=204)
def delete_organization(organization_id: int, db: DB, who: Who) -> None:
    """Deletes the organization and everything in it."""
    org = store.get(db, Organization, organization_id)
    check(who, "own", org.id)
    store.remove(db, org)


@router.get("/{organization_id}/summary")
def organization_summary(
    organization_id: int,
    db: DB,
    who: Who,
    by: str | None = None,
    status: str | None = None,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    check(who, "read", store.get(db, Organization, organization_id).id)
    f = common.filtered(store.RunFilter(organization_id=organization_id), status, since, until)
    return common.summary(db, f, by)


@router.get("/{organization_id}/export")
def organization_export(
    organization_id: int,
    request: Request,
    db: DB,
    who: Who,
    format: str = "csv",
    status: str | None = None,
    since: Since = None,
    until: Until = None,
):
    check(who, "read", store.get(db, Organization, organization_id).id)
    f = common.filtered(store.RunFilter(organization_id=organization_id), status, since, until)
    return common.export(request, f, format, f"organization-{organization_id}")


@router.get("/{organization_id}/members", response_model=list[schemas.MemberOut])
def list_members(organization_id: int, db: DB, who: Who):
    check(who, "read", store.get(db, Organization, organization_id).id)
    return [
        schemas.MemberOut(user_id=u.id, email=u.email, role=m.role)
        for m, u in store.memberships(db, organization_id)
    ]


@router.post("/{organization_id}/members", response_model=schemas.MemberOut, status_code=201)
def add_member(organization_id: int, body: schemas.MemberIn, db: DB, who: Who):
    """Add a user (who must exist: ``wattprint server user add``) with a role, or change it."""
    check(
        who,
        "own" if body.role == "owner" else "manage",
        store.get(db, Organization, organization_id).id,
    )
    user = store.user_by_email(db, body.email)
    if user is None:
        raise store.ConflictError(
            f"no user {body.email!r}: create one with `wattprint server user add {body.email}`"
        )
    store.set_membership(db, organization_id, user.id, body.role)
    return schemas.MemberOut(user_id=user.id, email=user.email, role=body.role)


@router.patch("/{organization_id}/members/{user_id}", response_model=schemas.MemberOut)
def change_role(organization_id: int, user_id: int, body: schemas.MemberPatch, db: DB, who: Who):
    check(who, "manage", store.get(db, Organization, organization_id).id)
    current = {u.id: m.role for m, u in store.memberships(db, organization_id)}
    if user_id not in current:
        raise store.NotFoundError()
    if "owner" in (body.role, current[user_id]):
        check(who, "own", organization_id)
    store.set_membership(db, organization_id, user_id, body.role)
    user = store.get(db, store.User, user_id)
    return schemas.MemberOut(user_id=user.id, email=user.email, role=body.role)


@router.delete("/{organization_id}/members/{user_id}", status_code=204)
def remove_member(organization_id: int, user_id: int, db: DB, who: Who) -> None:
    check(who, "read", store.get(db, Organization, organization_id).id)
    current = {u.id: m.role for m, u in store.memberships(db, organization_id)}
    if who.user_id != user_id:  # anyone may leave; removing others takes a manager
        check(who, "manage", organization_id)
        if current.get(user_id) == "owner":
            check(who, "own", organization_id)
    elif who.user_id not in current:
        raise ForbiddenError("you are not a member of this organization")  # an administrator
    store.remove_membership(db, organization_id, user_id)
