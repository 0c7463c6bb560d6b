"""What routes ask for: a session (one transaction per request), who is asking, page sizes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from .. import store
from ..db import transaction
from ..permissions import Principal


def session(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as s, s.begin():
        yield s


#: The request's transaction, committed before the answer is sent (scope "function"): with
#: FastAPI's default for a dependency with yield it would end after the response, and a client
#: reading right after a write's answer (a browser following sign-in's redirect) missed it.
DB = Annotated[Session, Depends(session, scope="function")]


def bearer(authorization: str | None, api_token: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return api_token.strip() if api_token else None  # CodeCarbon's client sends x-api-token


def principal(
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
    x_api_token: Annotated[str | None, Header()] = None,
) -> Principal:
    """Who the bearer token is. In a transaction of its own, committed at once: its write (the
    token's last use, once a minute) must not hold SQLite's lock for the whole request."""
    return principal_of(request.app.state.sessions, bearer(authorization, x_api_token))


def principal_of(sessions: sessionmaker[Session], token: str | None) -> Principal:
    """Who ``token`` is, read from the database now (a revoked token is refused at once), or
    401. In a transaction of its own (see ``principal``)."""
    found = None
    if token:
        with transaction(sessions) as db:
            found = store.principal_for(db, token)
    if found is None:
        raise HTTPException(
            401,
            "a valid token is needed: 'Authorization: Bearer <token>' (sign in with "
            "POST /api/v1/auth/token, or use a project token)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


Who = Annotated[Principal, Depends(principal)]
Cursor = Annotated[str | None, Query(description="from the previous page's next_cursor")]
Limit = Annotated[int, Query(ge=1, le=store.MAX_PAGE)]
Since = Annotated[datetime | None, Query(description="runs whose latest row is at or after")]
Until = Annotated[datetime | None, Query(description="runs whose latest row is before")]


def naive_utc(value: datetime | None) -> datetime | None:
    from datetime import timezone

    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)
