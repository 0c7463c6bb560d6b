from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from .. import schemas, store
from ..models import Experiment, Project
from . import common
from .deps import DB, Cursor, Limit, Since, Until, Who

router = APIRouter(prefix="/experiments", tags=["experiments"])


@router.get("", response_model=schemas.Page)
def list_experiments(project_id: int, db: DB, who: Who, cursor: Cursor = None, limit: Limit = 100):
    common.allowed(db, who, "read", store.get(db, Project, project_id))
    found = store.experiments(db, project_id, cursor, limit)
    items = [schemas.ExperimentOut.model_validate(e) for e in found.items]
    return schemas.Page(items=items, next_cursor=found.next_cursor)


@router.post("", response_model=schemas.ExperimentOut, status_code=201)
def create_experiment(body: schemas.ExperimentIn, db: DB, who: Who):
    common.allowed(db, who, "write", store.get(db, Project, body.project_id))
    return store.create_experiment(db, body.project_id, body.name, body.description)


@router.get("/{experiment_id}", response_model=schemas.ExperimentOut)
def get_experiment(experiment_id: int, db: DB, who: Who):
    experiment = store.get(db, Experiment, experiment_id)
    common.allowed(db, who, "read", experiment)
    return experiment


@router.patch("/{experiment_id}", response_model=schemas.ExperimentOut)
def update_experiment(experiment_id: int, body: schemas.Rename, db: DB, who: Who):
    experiment = store.get(db, Experiment, experiment_id)
    common.allowed(db, who, "write", experiment)
    store.check_rename(db, experiment, body.name)
    store.update_fields(experiment, body.model_dump())
    return experiment


@router.delete("/{experiment_id}", status_code=204)
def delete_experiment(experiment_id: int, db: DB, who: Who) -> None:
    """Deletes the experiment with its runs and their emissions."""
    experiment = store.get(db, Experiment, experiment_id)
    common.allowed(db, who, "write", experiment)
    store.remove(db, experiment)


@router.get("/{experiment_id}/summary")
def experiment_summary(
    experiment_id: int,
    db: DB,
    who: Who,
    by: str | None = None,
    status: str | None = None,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    experiment = store.get(db, Experiment, experiment_id)
    common.allowed(db, who, "read", experiment)
    f = common.filtered(store.RunFilter(experiment_id=experiment.id), status, since, until)
    return common.summary(db, f, by)


@router.get("/{experiment_id}/export")
def experiment_export(
    experiment_id: int,
    request: Request,
    db: DB,
    who: Who,
    format: str = "csv",
    status: str | None = None,
    since: Since = None,
    until: Until = None,
):
    experiment = store.get(db, Experiment, experiment_id)
    common.allowed(db, who, "read", experiment)
    f = common.filtered(store.RunFilter(experiment_id=experiment.id), status, since, until)
    return common.export(request, f, format, f"experiment-{experiment_id}")
