"""Summaries and exports, the same at every level of the hierarchy."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import StreamingResponse

from ... import records
from .. import store, summaries
from ..permissions import Principal, check
from .deps import naive_utc


def summary(db: Any, f: store.RunFilter, by: str | None) -> dict[str, Any]:
    try:
        return summaries.summary(db, f, by)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


def filtered(f: store.RunFilter, status: str | None, since: Any, until: Any) -> store.RunFilter:
    from dataclasses import replace

    return replace(f, status=status, since=naive_utc(since), until=naive_utc(until))


def export(request: Request, f: store.RunFilter, fmt: str, name: str) -> StreamingResponse:
    """The runs' rows with the columns of emissions.csv, streamed (a session of its own: the
    request's is closed before the body is sent)."""
    if fmt not in ("csv", "json"):
        raise HTTPException(400, f"format={fmt!r}: use csv or json")
    columns = records.COLUMNS
    factory = request.app.state.sessions

    def rows() -> Iterator[Any]:
        with factory() as db:
            yield from store.emission_rows(db, f, columns)

    def as_csv() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for n, row in enumerate(rows(), start=1):
            writer.writerow("" if v is None else v for v in row)
            if n % 1000 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    def as_json() -> Iterator[str]:
        yield "["
        for n, row in enumerate(rows()):
            yield ("," if n else "") + json.dumps(dict(zip(columns, row, strict=True)))
        yield "]"

    media = "text/csv" if fmt == "csv" else "application/json"
    return StreamingResponse(
        as_csv() if fmt == "csv" else as_json(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def allowed(db: Any, who: Principal, action: str, obj: Any) -> None:
    organization_id, project_id = store.where_is(db, obj)
    check(who, action, organization_id, project_id)
