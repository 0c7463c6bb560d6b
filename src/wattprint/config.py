"""Settings, from defaults < user file < project file < WATTPRINT_* environment < arguments.

Files are INI (stdlib, Python 3.10 has no tomllib) with a ``[wattprint]`` section:

* user file: ``$WATTPRINT_USER_CONFIG``, else ``$XDG_CONFIG_HOME/wattprint/config.ini``
  (``~/.config/wattprint/config.ini``);
* project file: the nearest ``.wattprint.ini`` in the current directory or its parents.

Every value is checked once, when the tracker is built: a bad one raises ``ValueError`` naming the
setting, where it came from and what is allowed, before anything is measured.
"""

from __future__ import annotations

import configparser
import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
#: The shortest sampling interval: each sample reads every meter and appends a journal line, so
#: shorter intervals cost CPU and disk without measuring more (counters are exact over any
#: interval, and power-sampled GPUs are polled once a second whatever the interval).
MIN_INTERVAL_S = 0.05
#: The longest text a setting may hold (PATH_MAX on Linux): longer is a mistake, not a name.
MAX_TEXT = 4096
#: How much of a bad value an error message shows.
SHOWN_CHARS = 60
LIVE_PROVIDERS = ("electricitymaps", "ukgrid", "watttime")
TRACKING_MODES = ("machine", "process", "job")
IDLE_POLICIES = ("allocated", "proportional", "none")
SYNC_GPU = ("auto", "on", "off")
PROJECT_FILE = ".wattprint.ini"
DEFAULT_OUTPUT_FILE = "emissions.csv"


@dataclass(frozen=True)
class Settings:
    project_name: str = "wattprint"
    experiment_name: str | None = None
    run_name: str | None = None
    output_dir: str = "."
    output_file: str = DEFAULT_OUTPUT_FILE  # the runs' CSV; relative to output_dir or absolute
    interval_s: float = 10.0
    gpu_ids: tuple[str, ...] | None = None
    country: str | None = None
    region: str | None = None
    cloud_provider: str | None = None
    cloud_region: str | None = None
    zone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    intensity_g_per_kwh: float | None = None
    # None: the site file's, else the cloud region's or its provider's (carbon.context), else 1.0
    pue: float | None = None
    wue: float | None = None  # litres per kWh; None: the cloud provider's figure, else 0
    log_level: str = "warning"
    save_csv: bool = True
    tracking_mode: str = "machine"
    # What the user knows about the hardware (see PowerOverride): each wins over detection and
    # is labelled "user" in the record's method columns.
    cpu_model: str | None = None
    cpu_power_w: str | None = None
    ram_power_w: str | None = None
    gpu_power_w: str | None = None
    # Shared machines (wattprint.attribution): who pays for idle power in process/job mode
    # (None: "allocated" under a scheduler, else "proportional"), and whether task and run
    # edges wait for GPU work in flight (Tracker(sync_gpu=fn) takes a function too).
    idle_policy: str | None = None
    sync_gpu: str = "auto"
    # Network features, all off by default (offline first).
    cloud_metadata: bool = False
    ip_geolocation: bool = False
    live_provider: str | None = None
    electricitymaps_token: str | None = field(default=None, repr=False)
    watttime_username: str | None = None
    watttime_password: str | None = field(default=None, repr=False)
    # Sinks besides the CSV: each is off until its setting is given (see wattprint.sinks).
    prometheus_port: int | None = None
    prometheus_pushgateway: str | None = None
    otel_endpoint: str | None = None
    log_records: bool = False
    logger_name: str = "wattprint.records"
    webhook_url: str | None = None
    webhook_token: str | None = field(default=None, repr=False)
    # The team server (wattprint server): every row and interval, through a spool.
    server_url: str | None = None
    server_token: str | None = field(default=None, repr=False)
    # The rest of the footprint (wattprint.embodied, wattprint.llm): the hardware's embodied
    # emissions spread over its lifetime, the SCI's functional unit, LLM API calls (opt-in).
    hardware_lifetime_years: float = 4.0
    cloud_instance_type: str | None = None  # e.g. m5.large: its share of its host's embodied
    functional_unit: str | None = None  # e.g. "1000 inferences": what one unit of work is
    functional_units: float | None = None  # how many such units the run does (or add_units)
    track_llm_calls: bool = False
    # The team server itself (`wattprint server`, its options win): where it listens, its
    # database (None: SQLite in the user's data folder), its workers, sign-in and CORS rules.
    server_host: str = "127.0.0.1"
    server_port: int = 8000
    server_database_url: str | None = field(default=None, repr=False)
    server_workers: int = 1
    server_login_attempts: int = 10  # failed sign-ins per e-mail and per client address ...
    server_login_window_s: float = 300.0  # ... in this many seconds
    server_session_hours: float = 12.0  # how long a token from POST /api/v1/auth/token lasts
    server_cors_origins: tuple[str, ...] = ()  # none: CORS off

    def public(self) -> dict[str, Any]:
        """The settings without secrets, for records and journals."""
        values = dataclasses.asdict(self)
        for secret in SECRETS:
            values.pop(secret, None)
        for name, hide in REDACTED.items():
            values[name] = hide(values[name])
        return values


NAMES = tuple(f.name for f in dataclasses.fields(Settings))
#: The team server's own settings (`wattprint server`); a tracker takes the others.
SERVER_SETTINGS = tuple(
    n for n in NAMES if n.startswith("server_") and n not in ("server_url", "server_token")
)
TRACKER_NAMES = tuple(n for n in NAMES if n not in SERVER_SETTINGS)
SECRETS = ("electricitymaps_token", "watttime_password", "webhook_token", "server_token")


def without_password(value: Any) -> Any:
    """A URL (``scheme://user:password@host/...``) with its password as ***; else as it is."""
    if not isinstance(value, str):
        return value
    import re

    return re.sub(r"^([^:/]+://[^:/@]*:).*@", r"\1***@", value)


#: Settings shown only with a part hidden: a database URL may carry its password.
REDACTED: dict[str, Callable[[Any], Any]] = {"server_database_url": without_password}


def _text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    return text


def _name(name: str, value: Any) -> str:
    text = _text(name, value)
    if text is None:
        raise ValueError("must not be empty")
    return text


def _number(low: float, high: float, *, low_open: bool = False) -> Callable[[str, Any], float]:
    def parse(name: str, value: Any) -> float:
        try:
            number = math.nan if isinstance(value, bool) else float(value)
        except (TypeError, ValueError, OverflowError):  # 10**400 overflows a float
            number = math.nan
        ok = (
            math.isfinite(number)
            and number <= high
            and (number > low if low_open else number >= low)
        )
        if not ok:
            bound = f"> {low:g}" if low_open else f">= {low:g}"
            raise ValueError(f"must be a number {bound} and <= {high:g}")
        return number

    return parse


def _optional_number(low: float, high: float) -> Callable[[str, Any], float | None]:
    inner = _number(low, high)

    def parse(name: str, value: Any) -> float | None:
        empty = value is None or (isinstance(value, str) and not value.strip())
        return None if empty else inner(name, value)

    return parse


def _boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value) if isinstance(value, int) and value in (0, 1) else value
    text = text.strip().lower() if isinstance(text, str) else None
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false (also accepted: 1/0, yes/no, on/off)")


def _choice(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def parse(name: str, value: Any) -> str:
        text = value.strip().lower() if isinstance(value, str) else None
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse


def _optional_choice(choices: tuple[str, ...]) -> Callable[[str, Any], str | None]:
    inner = _choice(choices)

    def parse(name: str, value: Any) -> str | None:
        empty = value is None or (isinstance(value, str) and not value.strip())
        return None if empty else inner(name, value)

    return parse


def _gpu_ids(name: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        items = [str(value)]
    elif isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    elif isinstance(value, (list, tuple)) and all(
        isinstance(part, str) or (isinstance(part, int) and 0 <= part < 10**6) for part in value
    ):
        items = [str(part).strip() for part in value]
    else:
        raise ValueError("must be GPU indices or UUIDs: a list like [0, 1] or a string '0,1'")
    items = [item for item in items if item]
    for item in items:
        if not (item.isdigit() or item.startswith(("GPU-", "MIG-"))):
            raise ValueError(
                f"has {item!r}: each entry must be an index (0), a GPU UUID (GPU-...) "
                "or a MIG UUID (MIG-...)"
            )
    return tuple(items)


def _port(name: str, value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = 0
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 5:
        number = int(value)
    if not 1 <= number <= 65535:
        raise ValueError("must be a TCP port number, 1-65535")
    return number


def _url(name: str, value: Any) -> str | None:
    text = _text(name, value)
    if text is None:
        return None
    from urllib.parse import urlsplit

    allowed = "must be an http:// or https:// URL with a host, e.g. http://localhost:9091"
    if any(c.isspace() or not c.isprintable() for c in text):
        raise ValueError(f"{allowed}; it has spaces or control characters")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(allowed) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(allowed)
    return text


def _file_name(name: str, value: Any) -> str:
    text = _name(name, value)
    if text.endswith(("/", os.sep)) or os.path.basename(text) in ("", ".", ".."):
        raise ValueError("must name a file (e.g. emissions.csv or /data/runs.csv), not a folder")
    return text


#: The bounds of a user's power figure given without its own: +-10 % of the value. A wattage
#: from a datasheet or a wall meter is rarely better known than that.
USER_POWER_REL_BOUND = 0.10
#: The most power one setting may give: a rack of GPUs, not a typo in kW.
MAX_POWER_W = 100_000.0


class PowerOverride(NamedTuple):
    """A power the user gives: ``W`` (fixed) or ``IDLE..MAX`` (linear in utilization), each
    optionally with ``+-D`` (watts) or ``+-P%`` for its bounds; USER_POWER_REL_BOUND if none."""

    idle_w: float
    full_w: float
    plus_minus_w: float | None = None  # absolute half-width, or
    plus_minus_rel: float | None = None  # relative half-width

    def at(self, load: float | None) -> tuple[float, float, float]:
        """(watts, low, high) at utilization ``load`` (0-1); None: not known, so the value is
        the middle of the range and the bounds span it."""
        if load is None:
            value = (self.idle_w + self.full_w) / 2
            low, _ = self._bounds(min(self.idle_w, self.full_w))
            _, high = self._bounds(max(self.idle_w, self.full_w))
            return value, min(low, value), max(high, value)
        u = min(1.0, max(0.0, load))
        value = self.idle_w + (self.full_w - self.idle_w) * u
        low, high = self._bounds(value)
        return value, low, high

    def _bounds(self, value: float) -> tuple[float, float]:
        if self.plus_minus_w is not None:
            return max(0.0, value - self.plus_minus_w), value + self.plus_minus_w
        rel = USER_POWER_REL_BOUND if self.plus_minus_rel is None else self.plus_minus_rel
        return value * (1.0 - rel), value * (1.0 + rel)

    def text(self) -> str:
        """The canonical setting text, which parses back to the same override."""
        watts = (
            f"{self.idle_w:g}"
            if self.idle_w == self.full_w
            else (f"{self.idle_w:g}..{self.full_w:g}")
        )
        if self.plus_minus_w is not None:
            return f"{watts}+-{self.plus_minus_w:g}"
        if self.plus_minus_rel is not None:
            return f"{watts}+-{100 * self.plus_minus_rel:g}%"
        return watts


_POWER_HELP = (
    "must be watts: a number (65), a range by utilization IDLE..MAX (40..300), optionally "
    "with bounds +-WATTS or +-PERCENT% (65+-5, 40..300+-10%)"
)


def power_override(text: str) -> PowerOverride:
    """``text`` ("65", "40..300", "65+-5", "40..300+-10%", "65±5") as a PowerOverride."""
    body, _, margin = text.replace("±", "+-").replace(" ", "").partition("+-")
    low_text, dots, high_text = body.partition("..")
    watts = [_watts(low_text), _watts(high_text) if dots else _watts(low_text)]
    plus_w = plus_rel = None
    if margin.endswith("%"):
        plus_rel = _watts(margin[:-1]) / 100
        if plus_rel >= 1:
            raise ValueError(f"{_POWER_HELP}; a relative bound is under 100%")
    elif margin:
        plus_w = _watts(margin)
    return PowerOverride(watts[0], watts[1], plus_w, plus_rel)


def _watts(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(_POWER_HELP) from None
    if not (math.isfinite(value) and 0 <= value <= MAX_POWER_W):
        raise ValueError(f"{_POWER_HELP}; each figure between 0 and {MAX_POWER_W:g}")
    return value


def _power(name: str, value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = repr(float(value))
    text = _text(name, value)
    return None if text is None else power_override(text).text()


def _whole(low: int, high: int) -> Callable[[str, Any], int]:
    def parse(name: str, value: Any) -> int:
        text = value.strip() if isinstance(value, str) else None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif text is not None and text.isdigit() and len(text) <= 10:
            number = int(text)
        else:
            number = low - 1
        if not low <= number <= high:
            raise ValueError(f"must be a whole number from {low} to {high}")
        return number

    return parse


def _server_port(name: str, value: Any) -> int:
    port = _port(name, value)
    if port is None:
        raise ValueError("must be a TCP port number, 1-65535")
    return port


def _database_url(name: str, value: Any) -> str | None:
    text = _text(name, value)
    if text is None:
        return None
    if not text.startswith(("sqlite://", "postgresql://", "postgresql+")):
        raise ValueError(
            "must be sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    return text


def _origins(name: str, value: Any) -> tuple[str, ...]:
    """Comma-separated origins (http://host:port) allowed to call the API from a browser."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        text = _text(name, value)
        items = [] if text is None else text.split(",")
    origins = []
    for item in items:
        item = item.strip() if isinstance(item, str) else item
        if item == "*":
            origins.append(item)
        elif item:
            try:
                origins.append(_url(name, item))
            except ValueError:
                raise ValueError(
                    f"has {shown(item)}: each origin must be * or http(s)://HOST[:PORT], "
                    "separated by commas"
                ) from None
    return tuple(origins)


def _cpu_model(name: str, value: Any) -> str | None:
    text = _text(name, value)
    if text is None:
        return None
    from .hardware import find_cpu

    row = find_cpu(text)
    if row is None or not row.tdp_w:
        raise ValueError(
            "names no CPU in wattprint's table with a TDP; write it as its maker does (e.g. "
            "'Intel Xeon Platinum 8375C'), or give cpu_power_w instead"
        )
    return text


def _country(name: str, value: Any) -> str | None:
    text = _text(name, value)
    if text is None:
        return None
    from .carbon import countries

    return countries.lookup(text).iso3  # raises ValueError with suggestions


PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "project_name": _name,
    "experiment_name": _text,
    "run_name": _text,
    "output_dir": _name,
    "output_file": _file_name,
    "interval_s": _number(MIN_INTERVAL_S, 86400.0),
    "gpu_ids": _gpu_ids,
    "country": _country,
    "region": _text,
    "cloud_provider": _text,
    "cloud_region": _text,
    "zone": _text,
    "latitude": _optional_number(-90.0, 90.0),
    "longitude": _optional_number(-180.0, 180.0),
    "intensity_g_per_kwh": _optional_number(0.0, 5000.0),
    "pue": _optional_number(1.0, 5.0),
    "wue": _optional_number(0.0, 20.0),
    "log_level": _choice(LOG_LEVELS),
    "save_csv": _boolean,
    "tracking_mode": _choice(TRACKING_MODES),
    "cpu_model": _cpu_model,
    "cpu_power_w": _power,
    "ram_power_w": _power,
    "gpu_power_w": _power,
    "idle_policy": _optional_choice(IDLE_POLICIES),
    "sync_gpu": _choice(SYNC_GPU),
    "cloud_metadata": _boolean,
    "ip_geolocation": _boolean,
    "live_provider": _optional_choice(LIVE_PROVIDERS),
    "electricitymaps_token": _text,
    "watttime_username": _text,
    "watttime_password": _text,
    "prometheus_port": _port,
    "prometheus_pushgateway": _url,
    "otel_endpoint": _url,
    "log_records": _boolean,
    "logger_name": _name,
    "webhook_url": _url,
    "webhook_token": _text,
    "server_url": _url,
    "server_token": _text,
    "hardware_lifetime_years": _number(0.1, 50.0),
    "cloud_instance_type": _text,
    "functional_unit": _text,
    "functional_units": _optional_number(0.0, 1e18),
    "track_llm_calls": _boolean,
    "server_host": _name,
    "server_port": _server_port,
    "server_database_url": _database_url,
    "server_workers": _whole(1, 1024),
    "server_login_attempts": _whole(1, 1_000_000),
    "server_login_window_s": _number(0.0, 1e7, low_open=True),
    "server_session_hours": _number(0.0, 24 * 3660, low_open=True),
    "server_cors_origins": _origins,
}


def user_config_path(env: Mapping[str, str]) -> Path:
    if env.get("WATTPRINT_USER_CONFIG"):
        return Path(env["WATTPRINT_USER_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "wattprint" / "config.ini"


def project_config_path(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_FILE
        if _is_file(candidate):
            return candidate
    return None


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a file; False where it cannot even be looked at (a HOME the user may
    not enter, as in a container run with --user and HOME=/root)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def ini_error(exc: configparser.Error) -> str:
    """What is wrong in an INI file, on one line."""
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"line {exc.lineno}: {exc.line.strip()!r} comes before any [section]"
    if isinstance(exc, configparser.ParsingError):
        import ast

        lines = [(n, ast.literal_eval(line).strip()) for n, line in exc.errors]  # repr()s
        return "; ".join(f"line {n}: {line!r} is not NAME = VALUE" for n, line in lines)
    return " ".join(str(exc).split())


class Unreadable(Exception):
    """A config file that is there but cannot be used: it is skipped with a warning."""


def _read_file(path: Path, problems: list[str] | None = None) -> dict[str, str]:
    """The ``[wattprint]`` values of an INI file. A file that cannot be parsed, or one with unknown
    keys, raises ``ValueError``; with ``problems`` given, unknown keys are reported there instead
    and left out. A file that cannot be read, or has no ``[wattprint]`` section, raises
    ``Unreadable``."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(
            f"{path}: skipped, not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}); save it as UTF-8"
        ) from None
    except OSError as exc:
        raise Unreadable(f"{path}: skipped, cannot be read ({exc.strerror or exc})") from None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ValueError(
            f"{path}: cannot be parsed as an INI file ({ini_error(exc)}); fix or remove it"
        ) from exc
    if not parser.has_section("wattprint"):
        found = ", ".join(f"[{name}]" for name in parser.sections()) or "no section"
        raise Unreadable(
            f"{path}: skipped, it has no [wattprint] section (found {found}); "
            "section names are case-sensitive"
        )
    values = dict(parser.items("wattprint"))
    unknown = sorted(set(values) - set(NAMES))
    if unknown:
        message = (
            f"{path}: unknown setting(s) {', '.join(unknown)} in [wattprint]; "
            f"allowed: {', '.join(NAMES)}"
        )
        if problems is None:
            raise ValueError(message)
        problems.append(message)
        values = {k: v for k, v in values.items() if k in NAMES}
    return values


def read_layers(
    env: Mapping[str, str], cwd: Path, problems: list[str] | None = None
) -> list[tuple[str, Mapping[str, Any]]]:
    """The user file, the project file and the environment, lowest first, as (origin, values).

    A file that is there but cannot be read (permissions, not UTF-8, no ``[wattprint]``
    section) is skipped, said once as a warning, or in ``problems`` when given. With
    ``problems`` given, a file that cannot be parsed is reported there and skipped instead of
    raising (``explain`` shows what it can)."""
    layers: list[tuple[str, Mapping[str, Any]]] = []
    files = [
        ("user config", _user_config_or_none(env)),
        ("project config", project_config_path(cwd)),
    ]
    for kind, path in files:
        if path is None or not _is_file(path):
            continue
        try:
            layers.append((f"{kind} {path}", _read_file(path, problems)))
        except Unreadable as exc:
            _skipped(str(exc), problems)
        except ValueError as exc:
            if problems is None:
                raise
            problems.append(str(exc))
    from_env = {
        name: env[f"WATTPRINT_{name.upper()}"]
        for name in NAMES
        if f"WATTPRINT_{name.upper()}" in env
    }
    layers.append(("environment", from_env))
    return layers


def _user_config_or_none(env: Mapping[str, str]) -> Path | None:
    try:
        return user_config_path(env)
    except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry
        return None


def _skipped(message: str, problems: list[str] | None) -> None:
    if problems is not None:
        problems.append(message)
        return
    from ._log import warn_once

    warn_once(f"config-skipped:{message}", message)


def parse_value(name: str, raw: Any, origin: str) -> Any:
    """``raw`` checked and converted for setting ``name``; ValueError naming the setting, where
    the value came from and what is allowed, never another exception."""
    try:
        check_raw(raw)
        return PARSERS[name](name, raw)
    except (ValueError, TypeError, OverflowError) as exc:  # type/overflow: a parser's gap
        where = f"WATTPRINT_{name.upper()}" if origin == "environment" else name
        reason = _clip(" ".join(str(exc).split()), 200)
        raw = REDACTED[name](raw) if name in REDACTED else raw
        raise ValueError(f"{where}={shown(raw)} ({_clip(origin, 200)}): {name} {reason}") from None


def check_raw(raw: Any) -> None:
    """What no setting accepts, whatever its type: bytes, NUL characters, text that is not
    valid UTF-8 (os.environ keeps undecodable bytes as surrogates, which no file can hold)."""
    if isinstance(raw, (bytes, bytearray)):
        raise ValueError("must be text, not bytes (decode it first)")
    if isinstance(raw, os.PathLike):
        raw = os.fspath(raw)
        if isinstance(raw, bytes):
            raise ValueError("must be a text path, not a bytes path")
    if not isinstance(raw, str):
        return
    if "\0" in raw:
        raise ValueError("must not contain a NUL character")
    if len(raw) > MAX_TEXT:
        raise ValueError(f"is {len(raw)} characters long; at most {MAX_TEXT} are allowed")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = raw[exc.start]
        byte = f"byte 0x{ord(bad) - 0xDC00:02x}" if 0xDC80 <= ord(bad) <= 0xDCFF else repr(bad)
        raise ValueError(
            f"is not valid UTF-8 text ({byte} at position {exc.start}); "
            "set it in UTF-8 (check the terminal's or file's encoding)"
        ) from None


def shown(raw: Any) -> str:
    """``raw`` as an error message shows it: its repr, cut short when long."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() > 200:
        return f"<an integer of {len(str(raw)) if raw.bit_length() < 13000 else 'many'} digits>"
    try:
        text = repr(raw)
    except Exception:  # a repr that fails says nothing useful about the value
        return f"<a {type(raw).__name__}>"
    return _clip(text, SHOWN_CHARS)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[: limit - 30]}... ({len(text)} characters)"


def load_settings(
    arguments: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Merge every layer and validate. ``arguments`` with value None are treated as not given."""
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    layers = read_layers(env, cwd)
    given = {k: v for k, v in (arguments or {}).items() if v is not None}
    unknown = sorted(set(given) - set(NAMES))
    if unknown:
        raise TypeError(f"unknown setting(s): {', '.join(unknown)}; allowed: {', '.join(NAMES)}")
    layers.append(("argument", given))

    merged: dict[str, Any] = {}
    for origin, layer in layers:
        for name, raw in layer.items():
            merged[name] = parse_value(name, raw, origin)
    settings = Settings(**merged)
    check_together(settings)
    return settings


#: The location settings a command's location options replace together.
LOCATION_SETTINGS = (
    "country",
    "region",
    "zone",
    "cloud_provider",
    "cloud_region",
    "latitude",
    "longitude",
)


def load_settings_with(location: Mapping[str, Any]) -> Settings:
    """The settings every command uses (files, WATTPRINT_*), with the location options given on
    the command line, if any, in place of every location setting: `--zone GB` is not also in
    the country of a config file."""
    import dataclasses

    given = {k: v for k, v in location.items() if v is not None}
    settings = load_settings(given)
    if not given:
        return settings
    return dataclasses.replace(settings, **{k: given.get(k) for k in LOCATION_SETTINGS})


def check_together(s: Settings) -> None:
    """Settings that only make sense with others."""
    if s.live_provider == "electricitymaps" and not s.electricitymaps_token:
        raise ValueError(
            "live_provider=electricitymaps needs electricitymaps_token "
            "(set WATTPRINT_ELECTRICITYMAPS_TOKEN to your Electricity Maps API token)"
        )
    if s.live_provider == "watttime" and not (s.watttime_username and s.watttime_password):
        raise ValueError(
            "live_provider=watttime needs watttime_username and watttime_password "
            "(WATTPRINT_WATTTIME_USERNAME / WATTPRINT_WATTTIME_PASSWORD)"
        )
    if (s.latitude is None) != (s.longitude is None):
        raise ValueError("latitude and longitude go together: set both or neither")
    # A name the user chose that is a folder is a mistake in the settings; the default name
    # taken by a folder of theirs is not: rows then step around it (sinks/csv.py), said once.
    target = Path(s.output_dir) / s.output_file
    try:
        is_folder = s.output_file != DEFAULT_OUTPUT_FILE and target.is_dir()
    except (OSError, ValueError):  # a name too long for the system: start() says so
        is_folder = False
    if is_folder:
        raise ValueError(
            f"output_file={shown(s.output_file)}: {target} is a folder; output_file must name "
            "the CSV file (e.g. emissions.csv)"
        )
