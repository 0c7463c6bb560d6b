from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from .. import ingest, schemas
from ..db import transaction
from ..permissions import check
from .deps import Who

router = APIRouter(tags=["ingest"])
MAX_BATCH = 5000
MAX_BYTES = 64 * 2**20


async def envelopes(request: Request) -> Any:
    """The body as JSON, read here rather than declared: validating a batch of a hundred rows
    of a hundred columns as ``Any`` through the framework costs more than storing it."""
    raw = await request.body()
    if len(raw) > MAX_BYTES:
        raise HTTPException(413, f"the body is over {MAX_BYTES // 2**20} MiB: send smaller batches")
    try:
        return _loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(400, "the body is not JSON: send a JSON array of envelopes") from None


def _loads(raw: bytes) -> Any:
    """orjson where it can read the body (about three times quicker than json at a hundred
    columns a row); json for what only json reads (NaN, Infinity, lone surrogates), so that the
    server takes exactly what it took before."""
    import orjson

    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


_BODY = {
    "requestBody": {
        "required": True,
        "description": "[{type: 'wattprint.record', version: 1, key, record}, "
        "{type: 'wattprint.interval', version: 1, key, interval}, ...] or one envelope",
        "content": {"application/json": {"schema": {"type": ["array", "object"]}}},
    }
}


@router.post("/records", response_model=schemas.IngestOut, openapi_extra=_BODY)
def post_records(
    request: Request, who: Who, body: Annotated[Any, Depends(envelopes)]
) -> JSONResponse:
    """A batch of the tracker's envelopes for the token's project, idempotent by key: each item
    is created, a duplicate (already stored), or rejected with the reason; the rest are kept."""
    if not who.is_token:
        raise HTTPException(403, "send records with a project token that has the ingest scope")
    check(who, "ingest", who.token_organization_id, who.token_project_id)
    if not isinstance(body, list | dict):
        raise HTTPException(400, "the body must be an envelope or a JSON array of envelopes")
    items = body if isinstance(body, list) else [body]
    if len(items) > MAX_BATCH:
        raise HTTPException(413, f"{len(items)} envelopes: send at most {MAX_BATCH} at a time")
    # A transaction of its own, taken one at a time where the database has one writer (SQLite):
    # batches queue on a lock here rather than poll SQLite's busy timeout.
    with request.app.state.write_lock, transaction(request.app.state.sessions) as db:
        return JSONResponse(ingest.ingest(db, who.token_project_id, items))
