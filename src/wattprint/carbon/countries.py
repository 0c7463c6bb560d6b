"""The shipped country table: one annual grid intensity per country, with its provenance.

Built by ``tools/build_data.py``; loaded on first use (a few hundred rows, under a millisecond).
"""

from __future__ import annotations

import csv
import functools
import unicodedata
from pathlib import Path
from typing import NamedTuple

WORLD = "WLD"
# Read from the package folder: importlib.resources alone would add ~4 ms to the import.
DATA = Path(__file__).parent / "data"


class Country(NamedTuple):
    iso3: str
    iso2: str
    name: str
    intensity_g_per_kwh: float
    unit: str
    year: int
    basis: str  # lifecycle or direct
    kind: str  # average or marginal
    source: str
    license: str


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(text.lower().replace("-", " ").replace(".", "").split())


@functools.cache
def _table() -> tuple[dict[str, Country], dict[str, Country]]:
    by_iso3: dict[str, Country] = {}
    index: dict[str, Country] = {}
    text = (DATA / "countries.csv").read_text("utf-8")
    for row in csv.DictReader(text.splitlines()):
        country = Country(
            iso3=row["iso3"],
            iso2=row["iso2"],
            name=row["name"],
            intensity_g_per_kwh=float(row["intensity_g_per_kwh"]),
            unit=row["unit"],
            year=int(row["year"]),
            basis=row["basis"],
            kind=row["kind"],
            source=row["source"],
            license=row["license"],
        )
        by_iso3[country.iso3] = country
        for key in (country.iso3, country.iso2, country.name):
            if key:
                index.setdefault(_fold(key), country)
    return by_iso3, index


def all_countries() -> list[Country]:
    """Every country row, without the world row."""
    return [c for c in _table()[0].values() if c.iso3 != WORLD]


def world() -> Country:
    return _table()[0][WORLD]


def find(code_or_name: str) -> Country | None:
    return _table()[1].get(_fold(code_or_name))


def lookup(code_or_name: str) -> Country:
    """The country for an ISO-3 code, ISO-2 code or English name; ValueError if none."""
    country = find(code_or_name)
    if country is not None and country.iso3 != WORLD:
        return country
    import difflib  # only on this error path

    names = [c.name for c in all_countries()]
    close = difflib.get_close_matches(code_or_name, names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(
        "is not a country wattprint knows: use an ISO 3166 alpha-3 code (FRA), "
        f"an alpha-2 code (FR) or an English name (France){hint}"
    )
