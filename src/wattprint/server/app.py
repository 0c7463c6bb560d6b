"""The application: ``create_app(settings)`` builds it; nothing is made at import time."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, StatementError

from .. import __version__
from .settings import ServerSettings

log = logging.getLogger("wattprint.server")


def create_app(settings: ServerSettings, *, migrate_schema: bool = False) -> FastAPI:
    """The app on ``settings.url``; with ``migrate_schema``, the schema is brought up to date
    first (``wattprint server`` does it once before starting its workers)."""
    from . import api, codecarbon, db, docs, migrate, pages, security

    engine = db.make_engine(settings.url)
    if migrate_schema:
        migrate.upgrade(engine)
    else:
        migrate.check_not_newer(engine)
    app = FastAPI(
        title="wattprint team server",
        version=__version__,
        description="Runs, emissions and their summaries for an organization's teams.",
        docs_url=None,  # docs.mount serves them without a CDN
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = db.session_factory(engine)
    app.state.write_lock = db.write_lock(engine)
    app.state.login_limiter = security.LoginLimiter(
        settings.login_attempts, settings.login_window_s
    )
    app.include_router(api.router())
    docs.mount(app)
    codecarbon.mount(app)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["*"],
            allow_headers=["*"],
        )
    _errors(app)
    pages.mount(app)  # after _errors: its error pages wrap the API's answers
    return app


def _errors(app: FastAPI) -> None:
    """What the user can fix is a 4xx that says what; only our own faults are 5xx."""
    from .permissions import ForbiddenError, NotFoundError
    from .store import ConflictError

    def answer(status: int, detail: Any) -> JSONResponse:
        return JSONResponse({"detail": detail}, status_code=status)

    @app.exception_handler(NotFoundError)
    def not_found(_r: Request, _e: NotFoundError) -> JSONResponse:
        return answer(404, "not found")

    @app.exception_handler(ForbiddenError)
    def forbidden(_r: Request, e: ForbiddenError) -> JSONResponse:
        return answer(403, str(e) or "not allowed")

    @app.exception_handler(ConflictError)
    def conflict(_r: Request, e: ConflictError) -> JSONResponse:
        return answer(409, str(e))

    @app.exception_handler(IntegrityError)
    def integrity(_r: Request, e: IntegrityError) -> JSONResponse:
        log.info("refused a write that breaks a constraint: %s", e.orig)
        return answer(
            409,
            "that conflicts with what is stored (a name taken, or a reference "
            "to something that does not exist)",
        )

    def out_of_range(_r: Request, _e: Exception) -> JSONResponse:
        return answer(
            400,
            "a value the database cannot store: a number out of range (ids are "
            "64-bit integers) or text with a NUL character",
        )

    app.add_exception_handler(OverflowError, out_of_range)
    app.add_exception_handler(DataError, out_of_range)  # PostgreSQL: numeric value out of range

    @app.exception_handler(StatementError)
    def statement(request: Request, e: StatementError) -> JSONResponse:
        if isinstance(e.orig, OverflowError):  # SQLite: Python int too large for INTEGER
            return out_of_range(request, e)
        raise e

    @app.exception_handler(ValueError)
    def bad_value(_r: Request, e: ValueError) -> JSONResponse:
        return answer(400, str(e))

    @app.exception_handler(RequestValidationError)
    def invalid(_r: Request, e: RequestValidationError) -> JSONResponse:
        errors = [
            {"where": ".".join(str(p) for p in err.get("loc", ())), "problem": err["msg"]}
            for err in e.errors()
        ]
        return answer(422, errors)


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory`` and each of ``wattprint server``'s workers: the settings from
    ``WATTPRINT_SERVER_*`` (the command has migrated the schema already)."""
    from .settings import load_settings

    return create_app(load_settings())
