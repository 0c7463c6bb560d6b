"""Signing in (a bearer token for a user), the user themself, and their personal tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request

from .. import schemas, security, store
from ..models import PersonalToken
from ..permissions import require_user
from .deps import DB, Who

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=schemas.AccessToken)
def sign_in(body: schemas.Login, request: Request, db: DB) -> schemas.AccessToken:
    """E-mail and password for a bearer token (``Authorization: Bearer <access_token>``)."""
    limiter: security.LoginLimiter = request.app.state.login_limiter
    keys = (
        f"email:{body.email.strip().lower()}",
        f"ip:{request.client.host if request.client else ''}",
    )
    wait = limiter.retry_after(*keys)
    if wait > 0:
        raise HTTPException(
            429,
            f"too many failed sign-ins: try again in {wait:.0f} s",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = store.user_by_email(db, body.email)
    ok = (
        security.verify_password(user.password_hash, body.password)
        if user
        else security.verify_unknown_user(body.password)
    )
    if not ok or user is None:
        limiter.failed(*keys)
        raise HTTPException(401, "wrong e-mail or password")
    limiter.succeeded(*keys)
    hours = request.app.state.settings.session_hours
    row, token = store.create_personal_token(db, user.id, "sign-in", timedelta(hours=hours))
    return schemas.AccessToken(access_token=token, expires_at=row.expires_at)


@router.get("/users/me", response_model=schemas.UserOut)
def me(db: DB, who: Who):
    return store.get(db, store.User, require_user(who))


@router.get("/users/me/tokens", response_model=list[schemas.PersonalTokenOut])
def my_tokens(db: DB, who: Who):
    return store.personal_tokens(db, require_user(who))


@router.post("/users/me/tokens", response_model=schemas.NewTokenOut, status_code=201)
def new_token(body: schemas.PersonalTokenIn, db: DB, who: Who) -> schemas.NewTokenOut:
    """A personal access token for scripts and the command line: shown this once."""
    lifetime = timedelta(days=body.expires_days) if body.expires_days else None
    row, token = store.create_personal_token(db, require_user(who), body.name, lifetime)
    details = schemas.PersonalTokenOut.model_validate(row).model_dump(mode="json")
    return schemas.NewTokenOut(token=token, details=details)


@router.delete("/users/me/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, db: DB, who: Who) -> None:
    row = store.get(db, PersonalToken, token_id)
    if row.user_id != require_user(who):
        raise store.NotFoundError()
    store.revoke(db, row)
