from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException

from .. import ingest, schemas
from ..permissions import check
from .deps import DB, Who

router = APIRouter(tags=["ingest"])
MAX_BATCH = 5000


Envelopes = Annotated[
    Any,
    Body(description="[{type: 'wattprint.record', version: 1, key, record}, "
                     "{type: 'wattprint.interval', version: 1, key, interval}, ...] or one"),
]  # fmt: skip


@router.post("/records", response_model=schemas.IngestOut)
def post_records(db: DB, who: Who, body: Envelopes):
    """A batch of the tracker's envelopes for the token's project, idempotent by key: each item
    is created, a duplicate (already stored), or rejected with the reason; the rest are kept."""
    if not who.is_token:
        raise HTTPException(403, "send records with a project token that has the ingest scope")
    check(who, "ingest", who.token_organization_id, who.token_project_id)
    if isinstance(body, str | bytes):  # JSON sent without its content type
        try:
            body = json.loads(body)
        except ValueError:
            raise HTTPException(
                400, "the body is not JSON: send a JSON array of envelopes"
            ) from None
    items = body if isinstance(body, list) else [body]
    if not isinstance(body, list | dict):
        raise HTTPException(400, "the body must be an envelope or a JSON array of envelopes")
    if len(items) > MAX_BATCH:
        raise HTTPException(413, f"{len(items)} envelopes: send at most {MAX_BATCH} at a time")
    return ingest.ingest(db, who.token_project_id, items)
