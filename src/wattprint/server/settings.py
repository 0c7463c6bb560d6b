"""The server's settings: defaults < ``WATTPRINT_SERVER_*`` environment < command-line options."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "WATTPRINT_SERVER_"


@dataclass(frozen=True)
class ServerSettings:
    database_url: str = ""  # "": SQLite in the user's data folder (default_database_url)
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Failed sign-ins allowed per e-mail address and per client address in login_window_s.
    login_attempts: int = 10
    login_window_s: float = 300.0
    # How long a bearer token from POST /api/v1/auth/token stays valid.
    session_hours: float = 12.0
    cors_origins: tuple[str, ...] = ()  # none: CORS off

    @property
    def url(self) -> str:
        return self.database_url or default_database_url()


def default_database_url() -> str:
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("wattprint", appauthor=False))
    return f"sqlite:///{folder / 'server.sqlite3'}"


def _convert(name: str, raw: str, kind: Any) -> Any:
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a number") from None
    if name == "cors_origins":
        return tuple(o.strip() for o in raw.split(",") if o.strip())
    return raw


def load_settings(env: Mapping[str, str] | None = None, **given: Any) -> ServerSettings:
    """Defaults, then ``WATTPRINT_SERVER_<NAME>`` variables, then ``given`` (None: not given)."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for f in fields(ServerSettings):
        raw = env.get(ENV_PREFIX + f.name.upper())
        if raw not in (None, ""):
            values[f.name] = _convert(f.name, raw, f.type)
    values.update({k: v for k, v in given.items() if v is not None})
    settings = replace(ServerSettings(), **values)
    if not 1 <= settings.port <= 65535:
        raise ValueError(f"port {settings.port}: use 1 to 65535")
    if settings.workers < 1:
        raise ValueError(f"workers {settings.workers}: use 1 or more")
    return settings
