"""The organization home, live: every run in progress with its current power, sent again as
server-sent events whenever it changes (like the run page's feed in ``routes``).

A run's figures here are its newest: the latest interval's (cumulative energy and emissions,
power over that interval) where it is newer than the run's latest row and has them, else the
row's. A run not heard from for a while (``STALE_AFTER_S``) is listed as such, not as live: a
process that died leaves its run "running" for good. Nothing is kept between requests: each
poll reads the database, so any worker serves any stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy.orm import Session

from .. import closing, dashboard, store
from ..api import common
from ..api.deps import DB
from ..db import transaction
from ..models import Organization, Run, utcnow
from ..permissions import Principal, check, may
from ..store import RunFilter
from . import session

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[session.Visitor, Depends(session.signed_in)]

POLL_S = 1.0  # how often a stream looks for changes
STREAM_S = 30.0  # a stream ends after this; the browser reconnects (``retry``)
MAX_RUNS = 100  # the runs in progress a page lists (the most recent)
#: A run silent for longer than ``closing.stale_after_s`` is shown as not heard from (its
#: process may have died without saying so), not as live. Its stored status stays as the run
#: last said until a user closes it (``closing``), or ``wattprint server close-stale`` does.
STALE_AFTER_S = closing.STALE_AFTER_S
STALE_INTERVALS = closing.STALE_INTERVALS
stale_after_s = closing.stale_after_s


def _when(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def in_progress(
    db: Session, organization_id: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    """The organization's runs in progress, newest first, with their current power (W per
    component and in all; None where unknown, never zero) and when they were last heard from
    (``now``: naive UTC, by default the clock's)."""
    running = dashboard.runs_list(
        db, RunFilter(organization_id=organization_id, status="running"), MAX_RUNS
    )
    latest = dashboard.latest_intervals(db, [r.id for r in running])
    now = now or utcnow()
    return [
        {**_live_run(run, latest.get(run.id)), **heard(run.last_seen, now, latest.get(run.id))}
        for run in running
    ]


def heard(last_seen: datetime | None, now: datetime, interval: Any = None) -> dict[str, Any]:
    """Whether a run still counts as live (``stale``: not heard from for longer than
    ``stale_after_s`` of its newest interval), and a line that says since when. Whole minutes:
    the text changes at most once a minute, so a stream does not resend the list each poll."""
    if last_seen is None:
        return {"stale": True, "heard": "never heard from"}
    silent_s = max(0.0, (now - last_seen).total_seconds())
    stale = silent_s > stale_after_s(getattr(interval, "interval_s", None))
    if stale:
        since = last_seen.strftime("%Y-%m-%d %H:%M")
        return {"stale": True, "heard": f"not heard from since {since} UTC ({_ago(silent_s)})"}
    return {"stale": False, "heard": f"last heard {_ago(silent_s)}"}


def _ago(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute ago"
    if minutes < 120:
        return f"{minutes} min ago"
    hours = minutes // 60
    return f"{hours} h ago" if hours < 48 else f"{hours // 24} days ago"


def _live_run(run: Run, interval: Any) -> dict[str, Any]:
    power = None
    figures = {
        "duration_s": run.duration_s,  # type: ignore[attr-defined]
        "energy_kwh": run.energy_kwh,  # type: ignore[attr-defined]
        "emissions_kg": run.emissions_kg,  # type: ignore[attr-defined]
    }
    fresher = interval is not None and (
        run.last_at is None or (interval.at is not None and interval.at >= run.last_at)
    )
    if interval is not None:
        power = {part: getattr(interval, c) for part, c in dashboard.POWER_COLUMNS.items()}
    if fresher:
        newer = {
            "duration_s": interval.duration,
            "energy_kwh": interval.energy_consumed,
            "emissions_kg": interval.emissions,
        }
        figures.update({k: v for k, v in newer.items() if v is not None})
    known = [w for w in (power or {}).values() if w is not None]
    return {
        "id": run.id,
        "run_id": run.client_run_id,
        "name": run.name,
        "status": run.status,
        "project_id": run.project_id,
        "started_at": _when(run.started_at),
        **figures,
        "power_w": power,
        "power_total_w": sum(known) if known else None,
        "power_at": _when(interval.at) if interval is not None else None,
        "last_seen": _when(run.last_seen),
    }


def closing_of(db: Session, who: Principal | None, run: Run) -> dict[str, Any]:
    """What the run page says of closing the run: the note of a run the server closed (while
    it applies), and whether this visitor may close it now (running, silent long enough, and
    they may write its project: the one permission check)."""
    out: dict[str, Any] = {"note": closing.note_of(run), "may_close": False}
    if run.status != "running" or who is None:
        return out
    silent_s = (utcnow() - run.last_seen).total_seconds() if run.last_seen else None
    if silent_s is not None and silent_s <= closing.silence_needed(db, run):
        return out
    organization_id, project_id = store.where_is(db, run)
    out["may_close"] = may(who, "write", organization_id, project_id)
    return out


@router.post("/run/{run_id}/close")
def close_run(
    request: Request, run_id: int, db: DB, who: SignedIn, csrf: Annotated[str, Form()] = ""
) -> Response:
    """The run page's "mark as interrupted": as ``POST /api/v1/runs/{id}/close``."""
    session.check_csrf(who, csrf)
    run = store.get(db, Run, run_id)
    common.allowed(db, who.principal, "write", run)  # type: ignore[arg-type]
    closing.close(db, run, closing.silence_needed(db, run))
    return RedirectResponse(f"/run/{run.id}", status_code=303)


def _readable(db: Session, who: session.Visitor, organization_id: int) -> int:
    org = store.get(db, Organization, organization_id)
    check(who.principal, "read", org.id)  # type: ignore[arg-type]
    return org.id


@router.get("/org/{organization_id}/events")
async def organization_events(request: Request, organization_id: int, who: SignedIn) -> Response:
    """Server-sent events: ``runs`` (the runs in progress, as the page lists them) at once and
    whenever they change."""
    factory = request.app.state.sessions
    with transaction(factory) as db:
        _readable(db, who, organization_id)  # the permission check, before any byte is sent

    def fetch() -> str:
        with transaction(factory) as db:
            return json.dumps({"runs": in_progress(db, organization_id)})

    async def events() -> AsyncIterator[str]:
        yield "retry: 1000\n\n"
        sent, number, waited = None, 0, 0.0
        while waited < STREAM_S:
            current = await asyncio.to_thread(fetch)
            if current != sent:
                number += 1
                yield f"id: {number}\nevent: runs\ndata: {current}\n\n"
                sent = current
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_S)
            waited += POLL_S

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
