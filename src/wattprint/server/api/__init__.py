"""The JSON API under /api/v1: one thin router per resource; the work is in the modules above."""

from __future__ import annotations

from fastapi import APIRouter


def router() -> APIRouter:
    from . import auth, experiments, health, organizations, projects, records, runs, teams, tokens

    api = APIRouter(prefix="/api/v1")
    for module in (health, auth, organizations, teams, projects, experiments, runs, records,
                   tokens):  # fmt: skip
        api.include_router(module.router)
    return api
