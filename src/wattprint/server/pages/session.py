"""The dashboard's sessions: a sign-in token (the API's, ``store.create_personal_token``) kept in
an HttpOnly, SameSite=Strict cookie, and a CSRF token on every form.

The CSRF token is an HMAC of the session's token: the server keeps nothing between requests, and
another site can neither read the cookie nor compute the token. Before sign-in, the form's token
is a random value in a cookie of its own (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import HTTPException, Request, Response
from sqlalchemy.orm import Session

from .. import dashboard, security, store
from ..db import transaction
from ..permissions import Principal

COOKIE = "wattprint_session"
PRE_COOKIE = "wattprint_signin"  # the sign-in form's CSRF value
SESSION_TOKEN_NAME = "sign-in"  # hidden from the personal tokens list, like the API's


class SignInNeeded(Exception):
    """A page that needs a signed-in user was asked for without one: go to the sign-in page."""


@dataclass(frozen=True)
class Visitor:
    """Who is looking: a principal (None: nobody signed in) and the form token for their forms."""

    principal: Principal | None
    csrf: str
    email: str = ""

    @property
    def signed_in(self) -> bool:
        return self.principal is not None


def csrf_for(secret: str) -> str:
    return hmac.new(secret.encode(), b"wattprint-dashboard-csrf", hashlib.sha256).hexdigest()


def visitor(request: Request) -> Visitor:
    """The signed-in user of the request's cookie, or an anonymous visitor."""
    token = request.cookies.get(COOKIE)
    if token:
        with transaction(request.app.state.sessions) as db:
            found = store.principal_for(db, token)
            if found is not None and found.user_id is not None:
                email = store.get(db, store.User, found.user_id).email
                return Visitor(found, csrf_for(token), email)
    pre = request.cookies.get(PRE_COOKIE) or ""
    return Visitor(None, csrf_for(pre) if pre else "")


def signed_in(request: Request) -> Visitor:
    found = visitor(request)
    if not found.signed_in:
        raise SignInNeeded()
    return found


def check_csrf(who: Visitor, sent: str | None) -> None:
    """Refuse a form whose token is missing or not this session's (403, never a change)."""
    if not who.csrf or not sent or not hmac.compare_digest(who.csrf, sent):
        raise HTTPException(
            403,
            "the form's security token is missing or out of date: reload the page and try again",
        )


def new_pre_value() -> tuple[str, str]:
    """A fresh random value for the sign-in form's cookie, and the form's CSRF token."""
    value = secrets.token_urlsafe(24)
    return value, csrf_for(value)


def set_pre(response: Response, value: str, secure: bool) -> None:
    _set(response, PRE_COOKIE, value, secure, max_age=3600)


def _set(response: Response, name: str, value: str, secure: bool, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, samesite="strict", secure=secure, path="/"
    )


def limiter_keys(request: Request, email: str) -> tuple[str, str]:
    """The same keys as the API's sign-in: the two share one limit."""
    return f"email:{email.strip().lower()}", f"ip:{request.client.host if request.client else ''}"


def sign_in(request: Request, db: Session, email: str, password: str) -> str:
    """A session token for these credentials; ValueError says why not (rate limit included)."""
    limiter: security.LoginLimiter = request.app.state.login_limiter
    keys = limiter_keys(request, email)
    wait = limiter.retry_after(*keys)
    if wait > 0:
        raise ValueError(f"too many failed sign-ins: try again in {wait:.0f} s")
    user = store.user_by_email(db, email)
    ok = (
        security.verify_password(user.password_hash, password)
        if user
        else security.verify_unknown_user(password)
    )
    if not ok or user is None:
        limiter.failed(*keys)
        raise ValueError("wrong e-mail or password")
    limiter.succeeded(*keys)
    hours = request.app.state.settings.session_hours
    _row, token = store.create_personal_token(
        db, user.id, SESSION_TOKEN_NAME, timedelta(hours=hours)
    )
    return token


def start(response: Response, token: str, request: Request) -> None:
    hours = request.app.state.settings.session_hours
    _set(response, COOKIE, token, request.url.scheme == "https", max_age=int(hours * 3600))
    response.delete_cookie(PRE_COOKIE, path="/")


def end(request: Request, response: Response, db: Session) -> None:
    """Revoke the session's token (a stolen cookie dies with it) and clear the cookie."""
    token = request.cookies.get(COOKIE)
    parts = security.split_token(token) if token else None
    if token and parts:
        for row in dashboard.personal_tokens_by_prefix(db, parts[1]):
            if security.hash_matches(row.hash, token):
                store.revoke(db, row)
    response.delete_cookie(COOKIE, path="/")
