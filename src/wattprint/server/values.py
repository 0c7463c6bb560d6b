"""Record values in and out: each column's value checked against its kind in records' spec."""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from .. import records


class BadValueError(ValueError):
    pass


def parse_time(value: str) -> datetime:
    """An ISO 8601 date-time as naive UTC (a naive one, CodeCarbon's, is taken as UTC)."""
    try:
        parsed = datetime.fromisoformat(value)  # the tracker's form: no spaces around, no Z
    except ValueError:
        text = value.strip()
        if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read Z
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
        if not is_utf8(value):
            raise BadValueError(
                "text that is not Unicode (a lone surrogate escape such as \\ud800)"
            )
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise BadValueError(f"{value!r} is not text")


def is_utf8(text: str) -> bool:
    """Whether ``text`` can be stored: JSON's \\ud800 escapes decode to halves of a pair."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: The range of a 64-bit integer column (SQLite's INTEGER, PostgreSQL's BIGINT).
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


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


#: The type a JSON value of each kind usually has, which needs no conversion.
_ALREADY = {"float": float, "int": int, "text": str}


#: Key orders of rows remembered per spec (a sender has one or two).
MAX_LAYOUTS = 64


class Plan:
    """A spec's columns in one order, grouped by kind (floats, ints, texts, timestamps), so
    that a row's values are read out of its JSON object once, into the tuple that is stored,
    and each kind's values are checked at once on a slice of it (ingest converts a hundred
    values per row: a loop over them costs more than storing them)."""

    def __init__(self, spec: dict[str, records.Column]) -> None:
        self.spec = spec
        by_kind: dict[str, list[str]] = {}
        for name, column in spec.items():
            by_kind.setdefault(column.kind, []).append(name)
        floats = tuple(by_kind.pop("float", []))
        ints = tuple(by_kind.pop("int", []))
        texts = tuple(by_kind.pop("text", []))
        self.timestamps = tuple(by_kind.pop("timestamp", []))
        if by_kind:  # a kind this module does not know: every value the slow way
            raise TypeError(f"no plan for column kinds {sorted(by_kind)}")
        #: Every column, in the order of the tuples ``row`` gives.
        self.order = floats + ints + texts + self.timestamps
        self._ints = slice(len(floats), len(floats) + len(ints))
        self._texts = slice(self._ints.stop, self._ints.stop + len(texts))
        self._floats = slice(0, len(floats))
        #: key order of a JSON object -> what picks its values in ``order`` (see ``row``)
        self._layouts: dict[tuple[str, ...], Callable[[tuple[Any, ...]], tuple[Any, ...]]] = {}
        self._last: tuple[tuple[Any, ...], Any] = ((None,), None)  # no JSON object's keys

    def row(self, values: dict[str, Any]) -> tuple[Any, ...] | None:
        """``values`` as a tuple in ``order`` (None where absent), or None where ``values`` has
        a key that is not a column. A sender writes its rows' keys in one order: for each order
        met, the positions of the columns are found once, and a row's values are then taken
        from ``values.values()`` at once (a dict lookup a column costs three times as much)."""
        keys = tuple(values)
        last_keys, last_pick = self._last  # one read: another thread may replace it
        if keys == last_keys:  # the batch's rows are alike: no hash of a hundred keys
            return last_pick((*values.values(), None))
        pick = self._layouts.get(keys)
        if pick is None:
            if not values.keys() <= self.spec.keys():
                return None
            at = {key: i for i, key in enumerate(keys)}
            absent = len(keys)  # the None put after the values
            pick = operator.itemgetter(*(at.get(name, absent) for name in self.order))
            if len(self._layouts) < MAX_LAYOUTS:  # a client cannot make it grow without end
                self._layouts[keys] = pick
        self._last = (keys, pick)
        return pick((*values.values(), None))

    def all_plain(self, row: tuple[Any, ...]) -> bool:
        """Whether every float, int and text value of ``row`` (a tuple in ``order``) is already
        what is stored: of its kind's JSON type or None (absent), floats finite, texts without
        NUL. Timestamps are not checked. Each check runs over all of a kind's values at once,
        in C."""
        floats = row[self._floats]
        if not set(map(type, floats)) <= _FLOAT_OK:
            return False
        # A non-finite float makes the sum non-finite (an overflowing sum only sends the row
        # down the slow path, which finds nothing wrong).
        if not math.isfinite(sum(filter(None, floats))):
            return False
        ints = tuple(filter(None, row[self._ints]))
        if not set(map(type, ints)) <= _INT_OK:
            return False
        if ints and not (INT_MIN <= min(ints) and max(ints) <= INT_MAX):
            return False
        texts = row[self._texts]
        if not set(map(type, texts)) <= _TEXT_OK:
            return False
        joined = "".join(filter(None, texts))
        return "\x00" not in joined and is_utf8(joined)


@functools.lru_cache(maxsize=4096)
def parse_time_cached(value: str) -> datetime:
    """parse_time, remembered: a batch's rows repeat their run's start and often their
    timestamps, and ingest reads each row's timestamp twice (checked, then kept as ``at``).
    A pure function of its text, so the cache holds nothing a request could change."""
    return parse_time(value)


_FLOAT_OK = {float, type(None)}
_INT_OK = {int, type(None)}
_TEXT_OK = {str, type(None)}


_PLANS: dict[int, Plan] = {}


def plan(spec: dict[str, records.Column]) -> Plan:
    """The plan of ``spec`` (made once)."""
    found = _PLANS.get(id(spec))
    if found is None or found.spec is not spec:
        found = _PLANS[id(spec)] = Plan(spec)
    return found


def convert_row(
    spec: dict[str, records.Column], values: Any, what: str
) -> tuple[dict[str, Any], tuple[Any, ...]]:
    """The columns of ``spec`` from a JSON object, or BadValueError: as a dict (an absent
    column is None: read it with ``.get``), and as the row to store, a tuple in
    ``plan(spec).order`` read out of the object once. Where every value is already what is
    stored (the tracker's rows), the dict is ``values`` itself."""
    if not isinstance(values, dict):
        raise BadValueError(f"{what} must be a JSON object of columns")
    the_plan = plan(spec)
    row = the_plan.row(values)
    if row is None:
        unknown = sorted(set(values) - set(spec))
        shown = ", ".join(map(str, unknown[:5])) + (", ..." if len(unknown) > 5 else "")
        raise BadValueError(
            f"{what} has columns this server does not know ({shown}); upgrade the server"
        )
    if the_plan.all_plain(row):
        converted = False
        for name in the_plan.timestamps:
            value = values.get(name)
            if type(value) is str and value.isascii() and "\x00" not in value:
                if value.strip():  # "" is unknown, as convert() takes it
                    try:
                        parse_time_cached(value)
                    except BadValueError as exc:
                        raise BadValueError(f"{name}: {exc}") from None
            elif value is not None:
                values[name] = convert(spec[name], value)
                converted = True
        return values, tuple(map(values.get, the_plan.order)) if converted else row
    out = dict.fromkeys(spec)
    for name, value in values.items():
        if value is not None:
            out[name] = _one(spec[name], value)
    return out, tuple(map(out.get, the_plan.order))


def _one(column: records.Column, value: Any) -> Any:
    """One value the slow way: converted, or BadValueError naming the column."""
    kind = type(value)
    if kind is int and column.kind == "int" and not INT_MIN <= value <= INT_MAX:
        raise BadValueError(f"{column.name}: {value} is out of range (a 64-bit integer)")
    checked_text = kind is str and (not value.isascii() or "\x00" in value)
    if kind is _ALREADY.get(column.kind) and not checked_text:
        # A float that is not finite (nan - nan is nan) is unknown, as everywhere else.
        return value if type(value) is not float or value - value == 0 else None
    return convert(column, value)
