"""The server's settings, read the way every wattprint setting is (``wattprint.config``):
defaults < user config file < project config file < ``WATTPRINT_SERVER_*`` environment <
the command's options. In the files and ``wattprint config`` they are ``server_<name>``."""

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


def setting_name(field: str) -> str:
    """The name of a ServerSettings field among wattprint's settings: server_<field>."""
    return f"server_{field}"


def load_settings(
    env: Mapping[str, str] | None = None, *, cwd: Path | None = None, **given: Any
) -> ServerSettings:
    """The settings from every layer; ``given`` (the command's options, None: not given) win.
    A bad value raises ValueError naming the setting, where it came from and what is allowed."""
    from ..config import parse_value, read_layers

    env = os.environ if env is None else env
    layers = list(read_layers(env, Path.cwd() if cwd is None else cwd))
    unknown = sorted(set(given) - {f.name for f in fields(ServerSettings)})
    if unknown:
        raise TypeError(f"unknown server setting(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for origin, layer in layers:
        for f in fields(ServerSettings):
            name = setting_name(f.name)
            if name in layer:
                values[f.name] = parse_value(name, layer[name], origin)
    for field, raw in given.items():
        if raw is not None:
            values[field] = parse_value(setting_name(field), raw, f"--{field.replace('_', '-')}")
    return replace(ServerSettings(), **{k: v for k, v in values.items() if v is not None})


def as_environment(settings: ServerSettings) -> dict[str, str]:
    """``settings`` as ``WATTPRINT_SERVER_*`` variables: how ``wattprint server`` hands what it
    resolved (options included) to its workers, which read their settings again."""
    out = {}
    for f in fields(ServerSettings):
        value = getattr(settings, f.name)
        if f.name == "database_url":
            value = settings.url
        out[ENV_PREFIX + f.name.upper()] = (
            ",".join(value) if isinstance(value, tuple) else str(value)
        )
    return out
