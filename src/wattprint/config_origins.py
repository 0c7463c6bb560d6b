"""Where each effective setting comes from, for ``wattprint config``.

Apart from ``config`` so that a tracker, which only needs the merged settings, does not pay for
building these classes at every start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import (
    NAMES,
    SECRETS,
    Settings,
    check_together,
    parse_value,
    project_config_path,
    read_layers,
    user_config_path,
)


@dataclass(frozen=True)
class Source:
    """Where one setting's effective value comes from."""

    name: str
    value: Any  # parsed; the default when unset, or when the winning value is invalid
    origin: str  # "default", "user config PATH", "project config PATH", "environment WATTPRINT_X"
    raw: Any = None  # as written in that layer; None for a default
    overridden: tuple[str, ...] = ()  # lower layers that set it too, lowest first
    error: str | None = None  # why the winning value is invalid

    @property
    def secret(self) -> bool:
        return self.name in SECRETS


@dataclass(frozen=True)
class Explanation:
    sources: dict[str, Source]  # every setting, in NAMES order
    problems: tuple[str, ...]  # what would make load_settings raise, one line each
    user_file: Path
    project_file: Path | None  # the nearest .wattprint.ini, if any


def explain(
    arguments: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Explanation:
    """Each setting's effective value and where it comes from, read the way ``load_settings``
    reads them; never raises for a bad file or value, it lists them in ``problems``."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    problems: list[str] = []
    layers = read_layers(env, cwd, problems)
    given = {k: v for k, v in (arguments or {}).items() if v is not None and k in NAMES}
    layers.append(("argument", given))
    defaults = Settings()
    sources: dict[str, Source] = {}
    for name in NAMES:
        found = [(origin, layer[name]) for origin, layer in layers if name in layer]
        if not found:
            sources[name] = Source(name, getattr(defaults, name), "default")
            continue
        origins = [
            f"environment WATTPRINT_{name.upper()}" if origin == "environment" else origin
            for origin, _ in found
        ]
        value, error = getattr(defaults, name), None
        for origin, raw in found:  # load_settings checks overridden values too
            try:
                value, error = parse_value(name, raw, origin), None
            except ValueError as exc:
                value, error = getattr(defaults, name), str(exc)
                problems.append(error)
        sources[name] = Source(name, value, origins[-1], raw, tuple(origins[:-1]), error)
    if not problems:
        try:
            check_together(Settings(**{n: s.value for n, s in sources.items()}))
        except ValueError as exc:
            problems.append(str(exc))
    return Explanation(sources, tuple(problems), user_config_path(env), project_config_path(cwd))
