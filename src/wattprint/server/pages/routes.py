"""The dashboard's pages: each renders its data function's dict, or returns it as JSON with
``?format=json``. Sign in and out, the first-run page, exports and the badge."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import (
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from .. import store
from ..api import common
from ..api.deps import DB, naive_utc
from ..db import transaction
from ..models import Project, Run
from ..permissions import NotFoundError, check
from . import data, live, session
from .render import render

router = APIRouter(include_in_schema=False)
Seen = Annotated[session.Visitor, Depends(session.visitor)]
SignedIn = Annotated[session.Visitor, Depends(session.signed_in)]


def page(
    request: Request, who: session.Visitor, template: str, values: dict[str, Any], fmt: str | None
) -> Response:
    if fmt == "json":
        return JSONResponse(values)
    if fmt not in (None, "html"):
        raise ValueError(f"format={fmt!r}: use html or json")
    return render(request, template, who, values)


def _day(value: str, name: str) -> datetime | None:
    """A date range's end from a form (empty: none); a bad one is a 400 that says so."""
    if not value.strip():
        return None
    try:
        return naive_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise ValueError(f"{name}={value!r}: use a date such as 2026-03-01") from None


@router.get("/")
def home(request: Request, db: DB, who: Seen) -> Response:
    if store.user_count(db) == 0:
        return render(request, "first_run.html", who, {"page": "first-run"})
    if not who.signed_in:
        return RedirectResponse("/signin", status_code=303)
    values = data.organizations(db, who.principal)
    if len(values["organizations"]) == 1:
        return RedirectResponse(f"/org/{values['organizations'][0]['id']}", status_code=303)
    return render(request, "organizations.html", who, values)


@router.get("/signin")
def signin_form(request: Request, db: DB, who: Seen) -> Response:
    if store.user_count(db) == 0:
        return RedirectResponse("/", status_code=303)
    value, csrf = session.new_pre_value()
    response = render(request, "signin.html", who, {"page": "signin", "error": ""}, csrf=csrf)
    session.set_pre(response, value, request.url.scheme == "https")
    return response


@router.post("/signin")
def signin(
    request: Request,
    db: DB,
    who: Seen,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    session.check_csrf(who, csrf)
    try:
        token = session.sign_in(request, db, email, password)
    except ValueError as exc:
        status = 429 if "too many" in str(exc) else 401
        return render(
            request, "signin.html", who, {"page": "signin", "error": str(exc)}, status_code=status
        )
    response = RedirectResponse("/", status_code=303)
    session.start(response, token, request)
    return response


@router.post("/signout")
def signout(request: Request, db: DB, who: SignedIn, csrf: Annotated[str, Form()] = "") -> Response:
    session.check_csrf(who, csrf)
    response = RedirectResponse("/signin", status_code=303)
    session.end(request, response, db)
    return response


@router.get("/org/{organization_id}")
def organization(
    request: Request,
    organization_id: int,
    db: DB,
    who: SignedIn,
    period: str | None = None,
    since: str = "",
    until: str = "",
    format: str | None = None,
) -> Response:
    values = data.organization(
        db, who.principal, organization_id, period, _day(since, "since"), _day(until, "until")
    )
    return page(request, who, "organization.html", values, format)


@router.get("/project/{project_id}")
def project(
    request: Request,
    project_id: int,
    db: DB,
    who: Seen,
    period: str | None = None,
    since: str = "",
    until: str = "",
    before: int | None = None,
    format: str | None = None,
) -> Response:
    values = data.project(
        db, who.principal, project_id, period, _day(since, "since"), _day(until, "until"), before
    )
    return page(request, who, "project.html", values, format)


@router.get("/run/{run_id}")
def run(request: Request, run_id: int, db: DB, who: Seen, format: str | None = None) -> Response:
    values = data.run(db, who.principal, run_id)
    values["closing"] = live.closing_of(db, who.principal, store.get(db, Run, run_id))
    return page(request, who, "run.html", values, format)


@router.get("/project/{project_id}/export.{fmt}")
def export(
    project_id: int,
    fmt: str,
    request: Request,
    db: DB,
    who: SignedIn,
    since: str = "",
    until: str = "",
) -> Response:
    """The API's export of the project's rows (in the page's date range, where it has one),
    for the signed-in user's session."""
    proj = store.get(db, Project, project_id)
    common.allowed(db, who.principal, "read", proj)
    f = common.filtered(
        store.RunFilter(project_id=proj.id), None, _day(since, "since"), _day(until, "until")
    )
    return common.export(request, f, fmt, f"project-{proj.id}")


# -- live ----------------------------------------------------------------------------------------

POLL_S = 1.0  # how often a live page's stream looks for new intervals
STREAM_S = 30.0  # a stream ends after this; the browser reconnects with Last-Event-ID


@router.get("/run/{run_id}/events")
async def run_events(request: Request, run_id: int, who: Seen, after: int = 0) -> Response:
    """Server-sent events: each new interval of the run, read from the database (the app keeps
    nothing between requests, so any worker can serve the stream and its reconnection)."""
    factory = request.app.state.sessions
    with transaction(factory) as db:
        data.run(db, who.principal, run_id, after=2**62)  # the permission check, no points
    last = int(request.headers.get("last-event-id") or after or 0)

    def fetch(after_id: int) -> tuple[dict[str, Any], str]:
        with transaction(factory) as db:
            points = data.dashboard.intervals_after(db, run_id, after_id)
            status = store.get(db, Run, run_id).status
            return data.power_series(points), status

    async def events() -> AsyncIterator[str]:
        nonlocal last
        yield "retry: 1000\n\n"
        waited = 0.0
        while waited < STREAM_S:
            series, status = await asyncio.to_thread(fetch, last)
            if series["last_interval_id"] is not None:
                last = series["last_interval_id"]
                yield f"id: {last}\nevent: intervals\ndata: {json.dumps(series)}\n\n"
            if status != "running":
                yield f"event: ended\ndata: {json.dumps({'status': status})}\n\n"
                return
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_S)
            waited += POLL_S

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


# -- the badge -----------------------------------------------------------------------------------


@router.get("/badge/projects/{project_id}.svg")
def badge(project_id: int, db: DB, who: Seen) -> Response:
    """ "CO2eq 12.3 kg" for READMEs: anyone's for a public project, else its readers' only."""
    from .badge import svg

    proj = store.get(db, Project, project_id)
    if not proj.public:
        if who.principal is None:
            raise NotFoundError()
        check(who.principal, "read", proj.organization_id, proj.id)
    values = data.project(db, who.principal if not proj.public else None, project_id)
    return Response(
        svg(values["totals"]["emissions_kg"]),
        media_type="image/svg+xml",
        headers={"Cache-Control": "max-age=300"},
    )
