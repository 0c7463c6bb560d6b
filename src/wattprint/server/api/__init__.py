"""The JSON API under /api/v1: one thin router per resource; the work is in the modules above."""

from __future__ import annotations

from fastapi import APIRouter


def router() -> APIRouter:
    from . import auth, experiments, health, organizations, projects, records, runs, teams, tokens

    api = APIRouter(prefix="/api/v1")
    # records first: routes are matched in order, and ingest is the request that comes most.
    for module in (
        records,
        health,
        auth,
        organizations,
        teams,
        projects,
        experiments,
        runs,
        tokens,
    ):
        api.include_router(module.router)
    return api
