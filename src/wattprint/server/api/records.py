from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from .. import ingest, schemas
from ..db import transaction
from ..permissions import check
from .deps import bearer, principal_of

router = APIRouter(tags=["ingest"])
MAX_BATCH = 5000
MAX_BYTES = 64 * 2**20


def _loads(raw: bytes) -> Any:
    """orjson where it can read the body (about three times quicker than json at a hundred
    columns a row); json for what only json reads (NaN, Infinity, lone surrogates), so that the
    server takes exactly what it took before."""
    import orjson

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def _dumps(answer: dict[str, Any]) -> bytes:
    """orjson for the answer; json (ASCII, escapes) where a rejected item's key is text orjson
    refuses to write (a lone surrogate sent as \\ud800 is echoed back as it came)."""
    import orjson

    try:
        return orjson.dumps(answer)
    except TypeError:
        return json.dumps(answer).encode()


_BODY = {
    "requestBody": {
        "required": True,
        "description": "[{type: 'wattprint.record', version: 1, key, record}, "
        "{type: 'wattprint.interval', version: 1, key, interval}, ...] or one envelope",
        "content": {"application/json": {"schema": {"type": ["array", "object"]}}},
    }
}


@router.post("/records", response_model=schemas.IngestOut, openapi_extra=_BODY)
async def post_records(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_token: Annotated[str | None, Header()] = None,
) -> Response:
    """A batch of the tracker's envelopes for the token's project, idempotent by key: each item
    is created, a duplicate (already stored), or rejected with the reason; the rest are kept."""
    raw = await request.body()
    # The token, the body and the batch in one trip to a worker thread: each trip (a sync
    # dependency is one) costs a thread hand-off at every batch.
    answer = await run_in_threadpool(
        _post, request.app.state, bearer(authorization, x_api_token), raw
    )
    return Response(answer, media_type="application/json")


def _post(state: Any, token: str | None, raw: bytes) -> bytes:
    """The token checked, the body read, the batch stored; the per-item answer as JSON."""
    who = principal_of(state.sessions, token)
    if not who.is_token:
        raise HTTPException(403, "send records with a project token that has the ingest scope")
    check(who, "ingest", who.token_organization_id, who.token_project_id)
    if len(raw) > MAX_BYTES:
        raise HTTPException(413, f"the body is over {MAX_BYTES // 2**20} MiB: send smaller batches")
    try:
        body = _loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "the body is not JSON: send a JSON array of envelopes") from None
    if not isinstance(body, list | dict):
        raise HTTPException(400, "the body must be an envelope or a JSON array of envelopes")
    items = body if isinstance(body, list) else [body]
    if len(items) > MAX_BATCH:
        raise HTTPException(413, f"{len(items)} envelopes: send at most {MAX_BATCH} at a time")
    for attempt in range(1, ATTEMPTS + 1):
        try:
            # A transaction of its own, taken one at a time where the database has one writer
            # (SQLite): batches queue on a lock here rather than poll SQLite's busy timeout.
            with state.write_lock, transaction(state.sessions) as db:
                return _dumps(ingest.ingest(db, who.token_project_id, items))
        except DBAPIError as exc:
            if attempt == ATTEMPTS or not _may_retry(exc):
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


#: PostgreSQL aborts one of two transactions that wait on each other (two batches updating
#: runs of a day that has summary cells, in opposite orders) or that it cannot serialise: the
#: batch is whole again after the rollback and idempotent by key, so it is tried again.
RETRIED = ("40P01", "40001")  # deadlock detected, serialization failure
ATTEMPTS = 3


def _may_retry(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) in RETRIED
