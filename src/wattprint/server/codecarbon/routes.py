"""The paths CodeCarbon 3.x's ``ApiClient`` calls, with its bodies (codecarbon/core/schemas.py).

Its emissions are deltas since the previous call; each is stored as a cumulative row (as
CodeCarbon's own CSV writes them, and as wattprint's rows are), labelled as coming from
CodeCarbon: no methods, no bounds (unknown, never zero).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict

from ... import records
from .. import store
from ..api.common import allowed
from ..api.deps import DB, Who
from ..models import Experiment, Organization, Project
from ..permissions import check
from . import ingest as cc_ingest

router = APIRouter(tags=["codecarbon"], include_in_schema=False)


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")  # newer clients may send more


class ExperimentCreate(Body):
    name: str
    description: str = ""
    project_id: str
    on_cloud: bool = False
    timestamp: str | None = None
    country_name: str | None = None
    country_iso_code: str | None = None
    region: str | None = None
    cloud_provider: str | None = None
    cloud_region: str | None = None


class RunCreate(Body):
    experiment_id: str
    timestamp: str | None = None
    os: str | None = None
    python_version: str | None = None
    codecarbon_version: str | None = None
    cpu_count: int | None = None
    cpu_model: str | None = None
    gpu_count: int | None = None
    gpu_model: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    region: str | None = None
    provider: str | None = None
    ram_total_size: float | None = None
    tracking_mode: str | None = None


class EmissionCreate(Body):
    run_id: str
    timestamp: str
    duration: float
    emissions_sum: float | None = None
    emissions_rate: float | None = None
    cpu_power: float | None = None
    gpu_power: float | None = None
    ram_power: float | None = None
    cpu_energy: float | None = None
    gpu_energy: float | None = None
    ram_energy: float | None = None
    energy_consumed: float | None = None
    cpu_utilization_percent: float | None = None
    gpu_utilization_percent: float | None = None
    ram_utilization_percent: float | None = None
    wue: float | None = None


def _id(value: str, what: str) -> int:
    if not str(value).strip().isdigit() or len(str(value).strip()) > 18:
        raise HTTPException(404, f"no {what} {value!r} on this server")
    return int(value)


def _organization(o: Organization) -> dict[str, Any]:
    return {"id": str(o.id), "name": o.name, "description": o.description}


def _project(p: Project) -> dict[str, Any]:
    return {
        "id": str(p.id),
        "name": p.name,
        "description": p.description,
        "organization_id": str(p.organization_id),
    }


def _experiment(e: Experiment) -> dict[str, Any]:
    extra = e.codecarbon or {}
    return {
        "id": str(e.id),
        "name": e.name,
        "description": e.description,
        "project_id": str(e.project_id),
        "timestamp": e.created_at.isoformat(),
        "on_cloud": bool(extra.get("on_cloud")),
        **{
            k: extra.get(k)
            for k in (
                "country_name",
                "country_iso_code",
                "region",
                "cloud_provider",
                "cloud_region",
            )
        },
    }


@router.get("/auth/check")
def auth_check(who: Who) -> dict[str, Any]:
    return {"user_id": who.user_id, "project_id": who.token_project_id}


@router.get("/organizations")
def organizations(db: DB, who: Who) -> list[dict[str, Any]]:
    if who.is_token:
        return [_organization(store.get(db, Organization, who.token_organization_id))]
    found = store.organizations(db, who.visible_organizations(), None, store.MAX_PAGE)
    return [_organization(o) for o in found.items]


@router.get("/organizations/{organization_id}")
def organization(organization_id: str, db: DB, who: Who) -> dict[str, Any]:
    org = store.get(db, Organization, _id(organization_id, "organization"))
    if who.is_token:
        if org.id != who.token_organization_id:
            raise store.NotFoundError()
    else:
        check(who, "read", org.id)
    return _organization(org)


@router.get("/organizations/{organization_id}/projects")
def organization_projects(organization_id: str, db: DB, who: Who) -> list[dict[str, Any]]:
    org = store.get(db, Organization, _id(organization_id, "organization"))
    if who.is_token:
        if org.id != who.token_organization_id:
            raise store.NotFoundError()
        return [_project(store.get(db, Project, who.token_project_id))]
    check(who, "read", org.id)
    found = store.projects(db, None, org.id, None, None, store.MAX_PAGE)
    return [_project(p) for p in found.items]


@router.get("/projects/{project_id}")
def project(project_id: str, db: DB, who: Who) -> dict[str, Any]:
    found = store.get(db, Project, _id(project_id, "project"))
    allowed(db, who, "describe", found)
    return _project(found)


@router.get("/projects/{project_id}/experiments")
def project_experiments(project_id: str, db: DB, who: Who) -> list[dict[str, Any]]:
    found = store.get(db, Project, _id(project_id, "project"))
    allowed(db, who, "describe", found)
    return [_experiment(e) for e in store.experiments(db, found.id, None, store.MAX_PAGE).items]


@router.post("/experiments", status_code=201)
def create_experiment(body: ExperimentCreate, db: DB, who: Who) -> dict[str, Any]:
    found = store.get(db, Project, _id(body.project_id, "project"))
    if who.is_token:
        allowed(db, who, "ingest", found)
    else:
        allowed(db, who, "write", found)
    extra = body.model_dump(exclude={"name", "description", "project_id", "timestamp"})
    existing = {e.name: e for e in store.experiments(db, found.id, None, store.MAX_PAGE).items}
    if body.name in existing:  # CodeCarbon's client makes its experiment at every start
        return _experiment(existing[body.name])
    return _experiment(store.create_experiment(db, found.id, body.name, body.description, extra))


@router.get("/experiments/{experiment_id}")
def experiment(experiment_id: str, db: DB, who: Who) -> dict[str, Any]:
    found = store.get(db, Experiment, _id(experiment_id, "experiment"))
    allowed(db, who, "describe", found)
    return _experiment(found)


@router.post("/runs", status_code=201)
def create_run(body: RunCreate, db: DB, who: Who) -> dict[str, Any]:
    found = store.get(db, Experiment, _id(body.experiment_id, "experiment"))
    allowed(db, who, "ingest" if who.is_token else "write", found)
    run = cc_ingest.create_run(db, found, body.model_dump())
    return {"id": str(run.id), **body.model_dump()}


@router.post("/emissions", status_code=201)
def add_emission(body: EmissionCreate, db: DB, who: Who) -> dict[str, Any]:
    run = store.get(db, store.Run, _id(body.run_id, "run"))
    allowed(db, who, "ingest" if who.is_token else "write", run)
    row = cc_ingest.add_emission(db, run, body.model_dump())
    return {"id": row["key"], **{k: row.get(k) for k in records.CODECARBON_COLUMNS}}
