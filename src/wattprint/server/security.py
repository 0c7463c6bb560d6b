"""Secrets: Argon2 password hashes, and tokens stored as hashes behind a short lookup prefix.

A token is ``wpt_<prefix>_<secret>`` (a project's) or ``wpp_<prefix>_<secret>`` (a person's).
It is shown once, when made; the database keeps its prefix (to find the row) and the SHA-256 of
the whole token. 256 random bits need no slow hash, and ingest checks a token on every batch.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass

PROJECT_TOKEN = "wpt"
PERSONAL_TOKEN = "wpp"


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the e-mail is unknown, so that the answer takes as long.
_DUMMY_HASH: list[str] = []


def verify_unknown_user(password: str) -> bool:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(hash_password(secrets.token_hex(8)))
    verify_password(_DUMMY_HASH[0], password)
    return False


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once
    prefix: str
    hash: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(kind: str) -> NewToken:
    prefix = secrets.token_hex(4)
    token = f"{kind}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewToken(token, prefix, token_hash(token))


def split_token(token: str) -> tuple[str, str] | None:
    """(kind, prefix) of a well-formed token; None otherwise."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] not in (PROJECT_TOKEN, PERSONAL_TOKEN) or len(parts[1]) != 8:
        return None
    return parts[0], parts[1]


def hash_matches(stored: str, token: str) -> bool:
    return hmac.compare_digest(stored, token_hash(token))


class LoginLimiter:
    """At most ``attempts`` failed sign-ins per key (e-mail, client address) per ``window_s``.

    Kept in the worker's memory: with N workers a client gets at most N times as many tries,
    which still stops guessing; a shared store is not worth a dependency here.
    """

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures

    def retry_after(self, *keys: str) -> float:
        """Seconds until another attempt is allowed; 0 if one is allowed now."""
        now = time.monotonic()
        with self._lock:
            waits = []
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.attempts:
                    waits.append(failures[0] + self.window_s - now)
            return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
