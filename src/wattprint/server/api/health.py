from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ... import __version__
from .. import migrate
from .deps import DB

router = APIRouter(tags=["health"])


@router.get("/health")
def health(db: DB) -> JSONResponse:
    """200 once the database answers and its schema is this version's; 503 otherwise."""
    try:
        db.execute(text("SELECT 1"))
        schema = migrate.current(db.get_bind())
    except SQLAlchemyError as exc:
        return JSONResponse(
            {"status": "database unavailable", "error": type(exc).__name__}, status_code=503
        )
    ready = schema == migrate.head()
    return JSONResponse(
        {"status": "ok" if ready else "migrating", "version": __version__, "schema": schema},
        status_code=200 if ready else 503,
    )
