from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .. import schemas, store
from ..models import Organization, Project
from ..permissions import check
from . import common
from .deps import DB, Cursor, Limit, Since, Until, Who

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("", response_model=schemas.Page)
def list_projects(
    db: DB,
    who: Who,
    organization_id: int | None = None,
    team_id: int | None = None,
    cursor: Cursor = None,
    limit: Limit = 100,
):
    visible = who.visible_organizations()
    found = store.projects(db, visible, organization_id, team_id, cursor, limit)
    items = [
        schemas.ProjectOut.model_validate(p)
        for p in found.items
        if not who.is_token or p.id == who.token_project_id
    ]
    return schemas.Page(items=items, next_cursor=found.next_cursor)


@router.post("", response_model=schemas.ProjectOut, status_code=201)
def create_project(body: schemas.ProjectIn, db: DB, who: Who):
    """A new project, with an experiment named "default" for runs that name none."""
    check(who, "write", store.get(db, Organization, body.organization_id).id)
    return store.create_project(db, body.organization_id, body.name, body.description, body.team_id)


@router.get("/{project_id}", response_model=schemas.ProjectOut)
def get_project(project_id: int, db: DB, who: Who):
    project = store.get(db, Project, project_id)
    common.allowed(db, who, "read", project)
    return project


@router.patch("/{project_id}", response_model=schemas.ProjectOut)
def update_project(project_id: int, body: schemas.ProjectPatch, db: DB, who: Who):
    project = store.get(db, Project, project_id)
    common.allowed(db, who, "write", project)
    if body.team_id is not None and body.team_id != project.team_id:
        # Which team a project is in decides who may write it: the organization's managers say.
        common.allowed(db, who, "manage", project)
    store.check_rename(db, project, body.name)
    if body.team_id is not None:
        team = db.get(store.Team, body.team_id)
        if team is None or team.organization_id != project.organization_id:
            raise store.ConflictError(f"team {body.team_id} is not one of this organization's")
    store.update_fields(project, body.model_dump())
    return project


@router.delete("/{project_id}", status_code=204)
def delete_project(project_id: int, db: DB, who: Who) -> None:
    """Deletes the project with its experiments, runs, emissions and tokens."""
    project = store.get(db, Project, project_id)
    common.allowed(db, who, "manage", project)
    store.remove(db, project)


@router.get("/{project_id}/summary")
def project_summary(
    project_id: int,
    db: DB,
    who: Who,
    by: str | None = None,
    status: str | None = None,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    """Totals with bounds (null where any run lacks them), by component; with ``by``, groups."""
    project = store.get(db, Project, project_id)
    common.allowed(db, who, "read", project)
    f = common.filtered(store.RunFilter(project_id=project.id), status, since, until)
    return common.summary(db, f, by)


@router.get("/{project_id}/export")
def project_export(
    project_id: int,
    request: Request,
    db: DB,
    who: Who,
    format: str = "csv",
    status: str | None = None,
    since: Since = None,
    until: Until = None,
):
    """The project's rows with the columns of emissions.csv (``format=csv`` or ``json``)."""
    project = store.get(db, Project, project_id)
    common.allowed(db, who, "read", project)
    f = common.filtered(store.RunFilter(project_id=project.id), status, since, until)
    return common.export(request, f, format, f"project-{project_id}")


@router.get("/{project_id}/tokens", response_model=list[schemas.ProjectTokenOut])
def list_tokens(project_id: int, db: DB, who: Who):
    project = store.get(db, Project, project_id)
    common.allowed(db, who, "manage", project)
    return store.project_tokens(db, project.id)


@router.post("/{project_id}/tokens", response_model=schemas.NewTokenOut, status_code=201)
def create_token(project_id: int, body: schemas.ProjectTokenIn, db: DB, who: Who):
    """A project token (scopes ``ingest`` and/or ``read``): its value is shown this once."""
    project = store.get(db, Project, project_id)
    common.allowed(db, who, "manage", project)
    row, token = store.create_project_token(db, project.id, body.name, body.scopes)
    details = schemas.ProjectTokenOut.model_validate(row).model_dump(mode="json")
    return schemas.NewTokenOut(token=token, details=details)
