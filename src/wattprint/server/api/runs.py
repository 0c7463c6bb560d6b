from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from ... import records
from .. import schemas, store, summaries
from ..models import Experiment, Organization, Project, Run, Team
from . import common
from .deps import DB, Cursor, Limit, Since, Until, Who

router = APIRouter(prefix="/runs", tags=["runs"])


def _scope(
    db: Any,
    who: Any,
    organization_id: int | None,
    team_id: int | None,
    project_id: int | None,
    experiment_id: int | None,
) -> store.RunFilter:
    """The filter of a list: whatever is named is checked; nothing named means every run the
    principal may read."""
    for model, id_ in (
        (Organization, organization_id),
        (Team, team_id),
        (Project, project_id),
        (Experiment, experiment_id),
    ):
        if id_ is not None:
            common.allowed(db, who, "read", store.get(db, model, id_))
    visible = who.visible_organizations()
    if who.is_token and project_id is None:
        project_id = who.token_project_id if "read" in who.scopes else -1
    return store.RunFilter(
        organization_ids=None if visible is None else sorted(visible),
        organization_id=organization_id,
        team_id=team_id,
        project_id=project_id,
        experiment_id=experiment_id,
    )


@router.get("", response_model=schemas.Page)
def list_runs(
    db: DB,
    who: Who,
    organization_id: int | None = None,
    team_id: int | None = None,
    project_id: int | None = None,
    experiment_id: int | None = None,
    status: str | None = None,
    since: Since = None,
    until: Until = None,
    cursor: Cursor = None,
    limit: Limit = 100,
):
    """Runs, newest first, filtered by place in the hierarchy, status and date range."""
    f = _scope(db, who, organization_id, team_id, project_id, experiment_id)
    found = store.runs(db, common.filtered(f, status, since, until), cursor, limit)
    items = [schemas.RunOut.model_validate(r) for r in found.items]
    return schemas.Page(items=items, next_cursor=found.next_cursor)


@router.get("/compare")
def compare_runs(db: DB, who: Who, ids: str = Query(description="run ids, comma-separated")):
    """Runs side by side: duration, energy and emissions with bounds, energy by part."""
    try:
        run_ids = [int(i) for i in ids.split(",") if i.strip()]
    except ValueError:
        raise HTTPException(400, f"ids={ids!r}: give run ids separated by commas") from None
    if not run_ids or len(run_ids) > store.MAX_PAGE:
        raise HTTPException(400, f"give 1 to {store.MAX_PAGE} run ids")
    for run_id in run_ids:
        common.allowed(db, who, "read", store.get(db, Run, run_id))
    return {"runs": summaries.compare(db, store.RunFilter(run_ids=run_ids))}


@router.get("/{run_id}", response_model=schemas.RunOut)
def get_run(run_id: int, db: DB, who: Who):
    run = store.get(db, Run, run_id)
    common.allowed(db, who, "read", run)
    return run


@router.patch("/{run_id}", response_model=schemas.RunOut)
def update_run(run_id: int, body: schemas.RunPatch, db: DB, who: Who):
    run = store.get(db, Run, run_id)
    common.allowed(db, who, "write", run)
    if body.experiment_id is not None:
        experiment = db.get(Experiment, body.experiment_id)
        if experiment is None or experiment.project_id != run.project_id:
            raise store.ConflictError(f"experiment {body.experiment_id} is not in this project")
    store.update_fields(run, body.model_dump())
    return run


@router.delete("/{run_id}", status_code=204)
def delete_run(run_id: int, db: DB, who: Who) -> None:
    """Deletes the run and its emissions and intervals."""
    run = store.get(db, Run, run_id)
    common.allowed(db, who, "write", run)
    store.remove(db, run)


@router.post("/{run_id}/close")
def close_run(run_id: int, db: DB, who: Who) -> dict[str, Any]:
    """Mark a run left "running" by a process that died as ``interrupted``, with a note saying
    so and when it was last heard from (409 if it is not running, or was heard from lately).
    For whoever may write its project; a row it sends later sets its status again."""
    from .. import closing

    run = store.get(db, Run, run_id)
    common.allowed(db, who, "write", run)
    text = closing.close(db, run, closing.silence_needed(db, run))
    return {"run": schemas.RunOut.model_validate(run).model_dump(mode="json"), "note": text}


@router.get("/{run_id}/emissions", response_model=schemas.Page)
def run_emissions(run_id: int, db: DB, who: Who, cursor: Cursor = None, limit: Limit = 100):
    """The rows the run sent, as sent (every column of the record), oldest first."""
    run = store.get(db, Run, run_id)
    common.allowed(db, who, "read", run)
    found = store.emissions(db, run.id, cursor, limit)
    items = [
        dict({c: getattr(e, c) for c in records.TASK_COLUMNS}, key=e.key, origin=e.origin)
        for e in found.items
    ]
    return schemas.Page(items=items, next_cursor=found.next_cursor)


@router.get("/{run_id}/intervals", response_model=schemas.Page)
def run_intervals(run_id: int, db: DB, who: Who, cursor: Cursor = None, limit: Limit = 500):
    """The run's sampling intervals (power per component over time), oldest first."""
    run = store.get(db, Run, run_id)
    common.allowed(db, who, "read", run)
    found = store.intervals(db, run.id, cursor, limit)
    items = [
        dict({c: getattr(i, c) for c in records.INTERVAL_COLUMNS}, key=i.key) for i in found.items
    ]
    return schemas.Page(items=items, next_cursor=found.next_cursor)


@router.get("/{run_id}/summary")
def run_summary(run_id: int, db: DB, who: Who) -> dict[str, Any]:
    run = store.get(db, Run, run_id)
    common.allowed(db, who, "read", run)
    return common.summary(db, store.RunFilter(run_ids=[run.id]), None)


@router.get("/{run_id}/export")
def run_export(run_id: int, request: Request, db: DB, who: Who, format: str = "csv"):
    run = store.get(db, Run, run_id)
    common.allowed(db, who, "read", run)
    return common.export(request, store.RunFilter(run_ids=[run.id]), format, f"run-{run_id}")
