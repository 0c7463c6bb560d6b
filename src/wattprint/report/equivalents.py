"""Real-world equivalents of an amount of CO2e: distance by car, a flight share, hours of video
streaming, smartphones made, days of a household's home energy.

The factors live in ``data/equivalents.csv``, one row each with its value (grams CO2e per unit),
region, year, source and license. The car figure depends on where the run was: an EU country's
runs use the EU figure, the USA's the US one, anywhere else (or unknown) the EU one, and say so.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

#: EU member states, ISO 3166 alpha-3.
EU_COUNTRIES = frozenset(
    "AUT BEL BGR HRV CYP CZE DNK EST FIN FRA DEU GRC HUN IRL ITA LVA LTU LUX MLT NLD POL PRT "
    "ROU SVK SVN ESP SWE".split()
)


@dataclass(frozen=True)
class Factor:
    id: str
    label: str
    grams_co2e: float  # per one ``per``
    per: str
    region: str
    year: str
    source: str
    license: str
    note: str


@dataclass(frozen=True)
class Equivalent:
    label: str
    amount: float  # how many ``unit``
    unit: str
    source: str
    factor_g: float  # grams CO2e per unit
    year: str
    license: str
    note: str = ""


@lru_cache(maxsize=1)
def factors() -> dict[str, Factor]:
    text = resources.files(__package__).joinpath("data/equivalents.csv").read_text("utf-8")
    out = {}
    for row in csv.DictReader(text.splitlines()):
        out[row["id"]] = Factor(
            row["id"],
            row["label"],
            float(row["grams_co2e"]),
            row["per"],
            row["region"],
            row["year"],
            row["source"],
            row["license"],
            row["note"],
        )
    return out


def _car(country_iso3: str | None) -> tuple[Factor, str]:
    table = factors()
    code = (country_iso3 or "").upper()
    if code == "USA":
        return table["car_us"], ""
    if code in EU_COUNTRIES:
        return table["car_eu"], ""
    where = f"country {code}" if code else "an unknown country"
    return table["car_eu"], f"EU car figure used for {where} (wattprint has EU and US figures)"


def equivalents(kg: float, country_iso3: str | None) -> list[Equivalent]:
    """What ``kg`` of CO2e amounts to; the car figure follows ``country_iso3``."""
    table = factors()
    car, car_note = _car(country_iso3)
    chosen = [
        (car, car_note),
        (table["flight"], ""),
        (table["streaming"], ""),
        (table["smartphone"], ""),
        (table["household"], ""),
    ]
    out = []
    for f, note in chosen:
        note = "; ".join(x for x in (note, f.note) if x)
        out.append(
            Equivalent(
                f.label,
                kg * 1000.0 / f.grams_co2e,
                f.per,
                f.source,
                f.grams_co2e,
                f.year,
                f.license,
                note,
            )
        )
    return out
