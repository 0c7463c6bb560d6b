"""The embodied-emissions table, read once and kept."""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources
from typing import NamedTuple


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


@lru_cache(maxsize=1)
def rows() -> dict[tuple[str, str], Row]:
    text = resources.files(__package__).joinpath("data/embodied.csv").read_text("utf-8")
    out = {}
    for r in csv.DictReader(io.StringIO(text)):
        out[(r["kind"], r["key"])] = Row(
            r["kind"], r["key"], float(r["value"]), float(r["low"]), float(r["high"]),
            r["unit"], r["source"], r["year"], r["license"], r["detail"],
        )  # fmt: skip
    return out


def get(kind: str, key: str) -> Row | None:
    return rows().get((kind, key))


def factor(key: str) -> float:
    return rows()[("factor", key)].value


def of_kind(kind: str) -> list[Row]:
    return [r for (k, _), r in rows().items() if k == kind]
