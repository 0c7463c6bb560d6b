"""The embodied-emissions table, read as little as a lookup needs.

The file is sorted by kind (factors, servers, GPUs, then about 1100 cloud instances): the first
three kinds are read from the top and kept (about 70 small rows); a cloud instance is found by
scanning the bytes for its line, never by parsing the whole table (as ``wattprint.hardware``
does for its tables: a tracker's start stays cheap in time and memory).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

# Read from the package folder: importlib.resources alone would add milliseconds to a start.
TABLE = Path(__file__).parent / "data" / "embodied.csv"
KINDS = ("factor", "server", "gpu", "cloud")  # the file's order


class Row(NamedTuple):
    kind: str  # factor, server, gpu, cloud
    key: str
    value: float
    low: float
    high: float
    unit: str
    source: str
    year: str
    license: str
    detail: str


def _row(cells: list[str]) -> Row:
    kind, key, value, low, high, *rest = cells
    return Row(kind, key, float(value), float(low), float(high), *rest)


@lru_cache(maxsize=1)
def _head() -> dict[tuple[str, str], Row]:
    """The factor, server and GPU rows: the lines before the first cloud instance."""
    out: dict[tuple[str, str], Row] = {}
    with TABLE.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)  # the header
        for cells in reader:
            if cells[0] == "cloud":
                break
            out[(cells[0], cells[1])] = _row(cells)
    return out


def _cloud(key: str) -> Row | None:
    needle = f"\ncloud,{key},".encode()
    data = TABLE.read_bytes()
    start = data.find(needle)
    if start == -1:
        return None
    end = data.find(b"\n", start + 1)
    line = data[start + 1 : len(data) if end == -1 else end].decode("utf-8")
    return _row(next(csv.reader([line])))


def get(kind: str, key: str) -> Row | None:
    if kind == "cloud":
        return _cloud(key) if "," not in key and '"' not in key else None
    return _head().get((kind, key))


def factor(key: str) -> float:
    return _head()[("factor", key)].value


def of_kind(kind: str) -> list[Row]:
    """Every row of a kind other than ``cloud`` (use ``get`` for an instance)."""
    if kind == "cloud":
        raise ValueError("cloud rows are looked up one by one: use get('cloud', key)")
    return [r for (k, _), r in _head().items() if k == kind]
