"""Record values in and out: each column's value checked against its kind in records' spec."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from .. import records


class BadValueError(ValueError):
    pass


def parse_time(value: str) -> datetime:
    """An ISO 8601 date-time as naive UTC (a naive one, CodeCarbon's, is taken as UTC)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BadValueError(f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        raise BadValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise BadValueError(f"{value!r} is not a number") from None
    else:
        raise BadValueError(f"{value!r} is not a number")
    return number if math.isfinite(number) else None  # "nan" in a file: unknown, as report


def _int(value: Any) -> int | None:
    number = _float(value)
    if number is None:
        return None
    if not number.is_integer() or abs(number) >= 2**63:
        raise BadValueError(f"{value!r} is not a whole number")
    return int(number)


def _text(value: Any) -> str:
    if isinstance(value, str):
        if "\x00" in value:
            raise BadValueError("text with a NUL character (PostgreSQL cannot store it)")
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise BadValueError(f"{value!r} is not text")


def _timestamp(value: Any) -> str | None:
    text = _text(value)
    if not text.strip():
        return text
    parse_time(text)
    return text


_CONVERT = {"float": _float, "int": _int, "text": _text, "timestamp": _timestamp}


def convert(column: records.Column, value: Any) -> Any:
    """The value to store for ``column``; None (or "" for text) is unknown."""
    if value is None:
        return None
    if value == "" and column.kind in ("float", "int"):
        return None
    try:
        return _CONVERT[column.kind](value)
    except BadValueError as exc:
        raise BadValueError(f"{column.name}: {exc}") from None


#: The type a JSON value of each kind usually has, which needs no conversion (the fast path:
#: ingest converts about a hundred values per row).
_ALREADY = {"float": float, "int": int, "text": str}


def convert_all(spec: dict[str, records.Column], values: Any, what: str) -> dict[str, Any]:
    """Every column of ``spec`` (absent ones None) from a JSON object, or BadValueError."""
    if not isinstance(values, dict):
        raise BadValueError(f"{what} must be a JSON object of columns")
    if not values.keys() <= spec.keys():
        unknown = sorted(set(values) - set(spec))
        shown = ", ".join(map(str, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        raise BadValueError(
            f"{what} has columns this server does not know ({shown}); upgrade the server"
        )
    out = dict.fromkeys(spec)
    for name, value in values.items():
        if value is None:
            continue
        column = spec[name]
        if type(value) is _ALREADY.get(column.kind) and not (
            type(value) is str and "\x00" in value
        ):
            # A float that is not finite (nan - nan is nan) is unknown, as everywhere else.
            out[name] = value if type(value) is not float or value - value == 0 else None
        else:
            out[name] = convert(column, value)
    return out
