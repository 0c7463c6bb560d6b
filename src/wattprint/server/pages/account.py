"""The signed-in user's personal access tokens (for the API and the command line): create (the
value is shown on that answer only), list with their last use, revoke. The API's rules: a user
sees and revokes their own tokens only (another's is not there, 404); sign-in sessions are not
listed. Every form carries the CSRF token."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from .. import schemas, store
from ..api.deps import DB
from ..models import PersonalToken
from ..permissions import require_user
from . import session
from .render import render
from .teams_admin import valid

router = APIRouter(include_in_schema=False)
SignedIn = Annotated[session.Visitor, Depends(session.signed_in)]


def _when(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def tokens_data(db: Session, user_id: int) -> dict[str, Any]:
    return {
        "page": "personal-tokens",
        "tokens": [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "created_at": _when(t.created_at),
                "last_used": _when(t.last_used),
                "expires_at": _when(t.expires_at),
                "revoked": t.revoked_at is not None,
            }
            for t in store.personal_tokens(db, user_id)
        ],
        "new_token": None,
    }


@router.get("/account/tokens")
def tokens(request: Request, db: DB, who: SignedIn, format: str | None = None) -> Response:
    from .routes import page

    user_id = require_user(who.principal)  # type: ignore[arg-type]
    return page(request, who, "personal_tokens.html", tokens_data(db, user_id), format)


@router.post("/account/tokens")
def create_token(
    request: Request,
    db: DB,
    who: SignedIn,
    name: Annotated[str, Form()] = "",
    expires_days: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """The token is in this answer only (stored as a hash), and the answer is not cached."""
    session.check_csrf(who, csrf)
    user_id = require_user(who.principal)  # type: ignore[arg-type]
    body = valid(schemas.PersonalTokenIn, name=name, expires_days=expires_days.strip() or None)
    if not body.name or body.name == session.SESSION_TOKEN_NAME:
        raise ValueError(
            f"name {body.name!r}: give the token a name of its own, to know it again in this list"
        )
    lifetime = timedelta(days=body.expires_days) if body.expires_days else None
    _row, token = store.create_personal_token(db, user_id, body.name, lifetime)
    values = tokens_data(db, user_id)
    values["new_token"] = token
    response = render(request, "personal_tokens.html", who, values, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int, db: DB, who: SignedIn, csrf: Annotated[str, Form()] = ""
) -> Response:
    session.check_csrf(who, csrf)
    row = store.get(db, PersonalToken, token_id)
    if row.user_id != require_user(who.principal):  # type: ignore[arg-type]
        raise store.NotFoundError()  # someone else's: not there
    store.revoke(db, row)
    return RedirectResponse("/account/tokens", status_code=303)
