"""Summaries added up by the database: GROUP BY, SUM and COUNT over one row per run (its running
total, see ``runrows``), so a summary's cost follows the runs' distinct kinds, not the emissions.

The report's rules (report/summary.py, report/footprint.py), written in SQL:

* unknown, never zero: a quantity counts only where it is known and valid (not NULL, not
  negative): ``SUM(CASE WHEN x >= 0 THEN x END)``, beside ``COUNT(*) - COUNT(valid x)`` runs
  whose value is unknown; a sum of no known value is NULL, not 0;
* bounds only when every run has them: a group's low/high are the sums of its runs' bounds when
  ``COUNT(runs with both bounds) = COUNT(*)``, else NULL (the footprint's parts: when every run
  whose value is known has both).

One query groups the runs by everything a summary tells apart (status, source, intensity source
and kind, methods, country, cloud, functional unit, embodied method, and the grouping asked
for, of every grouping asked for at once); its rows are folded here into the report's figures,
each group's sums added up exactly (``math.fsum``) from its rows. Where SQL cannot say what the
report would (a timestamp that does not begin with its date, a sum past the largest float on
PostgreSQL), ``NotInSql`` sends the caller to the report's own summariser.

Runs that have stopped changing are read from summary cells (``cells``): this cube, kept per
(project, day) and added up again in SQL, so that a summary's cost follows the cells, not the
runs; the runs cells do not cover (recent days, runs known only by intervals) are read live
beside them, in the same statement. The rows are the same either way, and folded the same.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ..report.footprint import NO_CALLS, detail_of, model_totals
from ..report.summary import COMPONENTS, cheapest_region, equivalents_of
from .models import Project, Team
from .runrows import run_day, run_rows
from .store import RunFilter, filter_shape, filter_values

PERIODS = ("day", "week", "month")
#: Quantities summed (each with the count of runs that know it).
VALUES = ("duration", "energy_consumed", "cpu_energy", "gpu_energy", "ram_energy",
          "platform_energy_kwh", "emissions", "machine_energy_kwh", "machine_emissions_kg",
          "embodied_kg", "llm_emissions_kg", "llm_energy_kwh", "llm_calls",
          "units", "water_consumed")  # fmt: skip
#: Bounds given only when every run has both: name -> (low, high).
PAIRS = {"energy": ("energy_low_kwh", "energy_high_kwh"),
         "cpu": ("cpu_energy_low_kwh", "cpu_energy_high_kwh"),
         "gpu": ("gpu_energy_low_kwh", "gpu_energy_high_kwh"),
         "ram": ("ram_energy_low_kwh", "ram_energy_high_kwh"),
         "platform": ("platform_energy_low_kwh", "platform_energy_high_kwh"),
         "emissions": ("emissions_low_kg", "emissions_high_kg")}  # fmt: skip
#: The footprint's parts: each bound when every run that knows the value has it.
TRIPLES = {
    "emissions": ("emissions", "emissions_low_kg", "emissions_high_kg"),
    "embodied": ("embodied_kg", "embodied_low_kg", "embodied_high_kg"),
    "llm": ("llm_emissions_kg", "llm_emissions_low_kg", "llm_emissions_high_kg"),
    "llm_energy": ("llm_energy_kwh", "llm_energy_low_kwh", "llm_energy_high_kwh"),
}
#: The parts counted over the runs that made LLM calls only (report/footprint.py's llm).
OF_CALLERS = ("llm", "llm_energy")
PARTS = {
    "cpu": "cpu_energy",
    "gpu": "gpu_energy",
    "ram": "ram_energy",
    "platform": "platform_energy_kwh",
}
#: What a summary tells runs apart by (text columns, grouped on as stored).
FACETS = ("status", "wattprint_version", "intensity_source", "intensity_kind", "cpu_method",
          "gpu_method", "ram_method", "country_iso_code", "on_cloud", "cloud_provider",
          "cloud_region", "functional_unit", "embodied_method")  # fmt: skip
#: The extra columns each grouping is keyed on.
GROUP_KEYS = {"day": ("day",), "week": ("day",), "month": ("day",), "location": ("region",),
              "intensity_source": (), "status": (), "experiment": ("experiment_name",
              "experiment_id"), "project": ("project_id",), "team": ("project_id",),
              "experiment_pk": ("experiment_pk",)}  # fmt: skip
COLUMNS = sorted(
    {
        *VALUES,
        *(c for pair in PAIRS.values() for c in pair),
        *(c for t in TRIPLES.values() for c in t),
        *FACETS,
        "timestamp",
        "pue",
        "region",
        "experiment_name",
        "experiment_id",
        "llm_detail",
    }
)
_CLOUD = ("Y", "YES", "TRUE", "1")


class NotInSql(Exception):
    """This summary needs the report's summariser on each run (see the module's docstring)."""


def _valid(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((column >= 0, column))


def _measures(rows: Any) -> list[ColumnElement[Any]]:
    c = rows.c
    out: list[ColumnElement[Any]] = [
        func.count().label("n"),
        func.min(c.run_pk).label("first"),
    ]
    for name in VALUES:
        out += [
            func.sum(_valid(c[name])).label(f"v_{name}"),
            func.count(_valid(c[name])).label(f"k_{name}"),
        ]
    for name, (low, high) in PAIRS.items():
        both = (c[low] >= 0) & (c[high] >= 0)
        out += [
            func.count(case((both, 1))).label(f"b_{name}"),
            func.sum(_valid(c[low])).label(f"lo_{name}"),
            func.sum(_valid(c[high])).label(f"hi_{name}"),
        ]
    callers = c.llm_calls > 0
    for name, (value, low, high) in TRIPLES.items():
        known = (c[value] >= 0) & callers if name in OF_CALLERS else c[value] >= 0
        has_low, has_high = known & (c[low] >= 0), known & (c[high] >= 0)
        out += [
            func.count(case((known, 1))).label(f"ck_{name}"),
            func.sum(case((known, c[value]))).label(f"cv_{name}"),
            func.count(case((has_low, 1))).label(f"cl_{name}"),
            func.count(case((has_high, 1))).label(f"ch_{name}"),
            func.sum(case((has_low, c[low]))).label(f"clo_{name}"),
            func.sum(case((has_high, c[high]))).label(f"chi_{name}"),
        ]
    out.append(func.count(case((callers, 1))).label("callers"))
    energy, emissions = c.energy_consumed, c.emissions
    weighted = (energy > 0) & (emissions >= 0)
    pue = case((c.pue > 0, c.pue), else_=1.0)
    out += [
        func.sum(case((weighted, emissions))).label("grams_kg"),
        func.sum(case((weighted, energy))).label("grams_kwh"),
        # IT energy (without the PUE) for the cloud comparison; unknown energy adds nothing there
        func.sum(func.coalesce(_valid(energy), 0.0) / pue).label("it_kwh"),
        func.count(case((_may_be_detail(c.llm_detail), 1))).label("details"),
    ]
    return out


def _may_be_detail(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """Whether a run's ``llm_detail`` may hold one (a JSON object has a brace; text without one
    is no detail to ``detail_of``): the details' query runs only where some run may."""
    return column.like("%{%")


def _day(rows: Any) -> ColumnElement[Any]:
    return run_day(rows.c.timestamp)


def _keys(rows: Any, bys: tuple[str, ...]) -> list[ColumnElement[Any]]:
    """What the cube groups on: every facet and the keys of each of ``bys`` (one cube serves
    several groupings)."""
    c = rows.c
    keys = [
        c.source,
        c.from_interval,
        *(c[name] for name in FACETS),
        case((c.units > 0, 1), else_=0).label("has_units"),
    ]
    named = {key.name for key in keys}
    for name in (name for by in bys for name in GROUP_KEYS[by]):
        if name not in named:  # each column once, in the order the groupings name them
            named.add(name)
            keys.append(_day(rows).label("day") if name == "day" else c[name])
    return keys


def cube(session: Session, f: RunFilter, bys: tuple[str, ...]) -> tuple[dict[str, int], list[Any]]:
    """The runs grouped by every facet and the keys of each of ``bys``, with their sums and
    counts, in the order of each group's first run: (each column's place, the rows as
    tuples). A group's sums are its cube rows' sums, added up here (exactly, ``math.fsum``):
    one pass of SQL over the runs serves the total and every grouping. Where summary cells
    can serve the filter, the runs they cover are read from them (``cells``)."""
    from . import cells  # cells are made of this module's keys and measures

    if cells.serves(f):
        return cells.cube(session, f, bys)
    query = _cube_statement(filter_shape(f), bys, _is_postgresql(session))
    return run_cube(session, query, filter_values(f))


def run_cube(
    session: Session, query: Any, values: dict[str, Any]
) -> tuple[dict[str, int], list[Any]]:
    """A cube's statement run: (each column's place, its rows in the order of their first run)."""
    if not _is_postgresql(session):  # SQLite's sums overflow to inf: unknown below
        result = session.connection().execute(query, values)
        found = [tuple(r) for r in result.all()]
    else:
        try:  # PostgreSQL refuses a sum past the largest float; the report calls it unknown
            with session.begin_nested():
                result = session.connection().execute(query, values)
                found = [tuple(r) for r in result.all()]
        except DataError:
            raise NotInSql("a sum overflows") from None
    index = {name: i for i, name in enumerate(result.keys())}
    first = index["first"]
    return index, sorted(found, key=lambda row: row[first])


@lru_cache(maxsize=256)
def _cube_statement(shape: RunFilter, bys: tuple[str, ...], lateral: bool) -> Any:
    """The cube's statement for filters of one shape, built once (it has some 150 terms)."""
    rows = run_rows(shape, COLUMNS, lateral=lateral, bound=True)
    keys = _keys(rows, bys)
    # The last keys (the groupings', then units and embodied) tell most runs apart: grouped on
    # first, SQLite's sort compares fewer columns of each pair of runs.
    return select(*keys, *_measures(rows)).group_by(*reversed(keys))


@lru_cache(maxsize=256)
def _models_statement(shape: RunFilter, bys: tuple[str, ...], lateral: bool) -> Any:
    rows = run_rows(shape, COLUMNS, lateral=lateral, bound=True)
    keys = [*_keys(rows, bys), rows.c.llm_detail]
    return (
        select(*keys, func.count().label("n"), func.min(rows.c.run_pk).label("first"))
        .where(_may_be_detail(rows.c.llm_detail))
        .group_by(*keys)
    )


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _sum(parts: Iterable[float | None]) -> float | None:
    """The sum of the known parts; None if none is known or the sum is not a finite float."""
    known = [float(p) for p in parts if p is not None]
    if not known:
        return None
    try:
        total = math.fsum(known)
    except OverflowError:
        return None
    return total if math.isfinite(total) else None


@lru_cache(maxsize=64)
def _kinds(names: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The places of the measures of a cube row whose places ``names`` name (the keys come
    first): (those that count runs, those that sum a quantity); the first run's id is not
    summed."""
    start = names.index("n")
    measures = [(i, name) for i, name in enumerate(names) if i >= start and name != "first"]
    return (
        tuple(i for i, name in measures if _counts_runs(name)),
        tuple(i for i, name in measures if not _counts_runs(name)),
    )


def _counts_runs(name: str) -> bool:
    """Whether a measure counts runs (COUNT: an integer, never NULL) or sums a quantity."""
    return name in ("n", "callers", "details") or name.split("_", 1)[0] in (
        "k",
        "b",
        "ck",
        "cl",
        "ch",
    )


def _summed(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> list[Any]:
    """Several cube rows' measures summed column by column: counts added, sums added up
    exactly (``math.fsum``) over their known values; past the largest float: inf (unknown)."""
    columns = list(zip(*rows, strict=True))
    summed: list[Any] = [None] * len(columns)
    counts, sums = _kinds(names)
    for i in counts:
        summed[i] = sum(columns[i])
    for i in sums:
        known = columns[i]
        if None in known:
            known = tuple(v for v in known if v is not None)
            if not known:
                continue
        try:
            summed[i] = math.fsum(known)
        except OverflowError:  # past the largest float: unknown (``total``)
            summed[i] = math.inf
    return summed


class Measures:
    """Sums and counts over some cube rows (tuples; ``index`` names their places), all summed
    at the first read (column by column: one pass, however many figures read them)."""

    def __init__(self, index: dict[str, int]) -> None:
        self.index = index
        self.rows: list[tuple[Any, ...]] = []
        self.runs = 0
        self._n = index["n"]
        self._named: dict[str, Any] | None = None

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        self.runs += row[self._n]
        self._named = None

    def _sums(self) -> dict[str, Any]:
        """The rows' measures summed, by name (one row's as SQL added them up); built once, as
        a group's figures read some hundred of them."""
        if self._named is None:
            if not self.rows:  # no run: no count, no known value
                summed: Sequence[Any] = [None] * len(self.index)
            elif len(self.rows) == 1:
                summed = self.rows[0]
            else:
                summed = _summed(self.rows, tuple(self.index))
            self._named = dict(zip(self.index, summed, strict=True))
        return self._named

    def count(self, name: str) -> int:
        return self._sums()[name] or 0

    def total(self, name: str) -> float | None:
        value = self._sums()[name]
        return None if value is None or not math.isfinite(value) else float(value)

    def unknown(self, value: str) -> int:
        return self.runs - self.count(f"k_{value}")

    def pair(self, name: str) -> tuple[float | None, float | None]:
        """The runs' bounds summed when every run has both, else (None, None)."""
        if not self.runs or self.count(f"b_{name}") < self.runs:
            return None, None
        return self.total(f"lo_{name}"), self.total(f"hi_{name}")

    def bounded(self, name: str) -> dict[str, Any]:
        """A footprint part (report/footprint.py's ``_bounded``): its sum, and each bound when
        every run that knows the value has it; over the runs that made calls for LLM parts."""
        sums = self._sums()
        known = sums[f"ck_{name}"] or 0
        runs = (sums["callers"] or 0) if name in OF_CALLERS else self.runs
        low = known > 0 and sums[f"cl_{name}"] == known
        high = known > 0 and sums[f"ch_{name}"] == known
        return {
            "kg": self.total(f"cv_{name}"),
            "low_kg": self.total(f"clo_{name}") if low else None,
            "high_kg": self.total(f"chi_{name}") if high else None,
            "unknown_runs": runs - known,
        }


def labels(row: tuple[Any, ...], index: dict[str, int]) -> dict[str, Any]:
    """What a cube row's runs are, as the report names it (once per row, for every group)."""

    def get(name: str) -> Any:
        return row[index[name]]

    kind = kind_of(get("from_interval"), get("source"), get("wattprint_version"))
    stated = "codecarbon (not stated)" if kind == "codecarbon" else "unknown"
    provider = _text(get("cloud_provider"))
    on_cloud = _text(get("on_cloud")).upper() in _CLOUD and provider
    return {
        "n": get("n"),
        "kind": kind,
        "in_progress": bool(get("from_interval")),
        "status": _text(get("status")) or "unknown",
        "intensity_source": _text(get("intensity_source")) or stated,
        "intensity_kind": _text(get("intensity_kind")) or "unknown",
        "methods": {c: _text(get(f"{c}_method")) or stated for c in COMPONENTS},
        "country": _text(get("country_iso_code")).upper(),
        "emissions": get("v_emissions"),
        "cloud": provider.lower() if on_cloud else None,
        "it_kwh": get("it_kwh"),
        "cloud_region": _text(get("cloud_region")),
        "embodied_method": _text(get("embodied_method")) if get("k_embodied_kg") else None,
        "functional_unit": (_text(get("functional_unit")) or "unit") if get("has_units") else None,
    }


#: What ``labels`` reads of a cube row besides its measures (and whether it knows embodied).
_LABELLED = ("from_interval", "source", "wattprint_version", "status", "intensity_source",
             "intensity_kind", "cpu_method", "gpu_method", "ram_method", "country_iso_code",
             "on_cloud", "cloud_provider", "cloud_region", "functional_unit", "embodied_method",
             "has_units")  # fmt: skip


def row_labels(index: dict[str, int]) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    """``labels`` of cube rows, each kind of run named once: rows that differ only in their
    grouping keys (each day of a series) share their names, with their own run count and
    sums."""
    places = [index[name] for name in _LABELLED]
    n, emissions, it_kwh, embodied = (
        index[name] for name in ("n", "v_emissions", "it_kwh", "k_embodied_kg")
    )
    named: dict[tuple[Any, ...], dict[str, Any]] = {}

    def of(row: tuple[Any, ...]) -> dict[str, Any]:
        key = (*(row[i] for i in places), bool(row[embodied]))
        shared = named.get(key)
        if shared is None:
            shared = named[key] = labels(row, index)
        return {**shared, "n": row[n], "emissions": row[emissions], "it_kwh": row[it_kwh]}

    return of


class Tally:
    """One group's runs, folded from cube rows: their measures and what tells them apart."""

    def __init__(self, index: dict[str, int]) -> None:
        self.all = Measures(index)  # all the group's runs
        self.counted = Measures(index)  # the runs that counted units of work (SCI)
        self.statuses: dict[str, int] = {}  # (dicts: a Counter costs more to make)
        self.sources: dict[str, int] = {}
        self.in_progress = 0
        self.intensity_sources: set[str] = set()
        self.intensity_kinds: set[str] = set()
        self.methods: dict[str, set[str]] = {c: set() for c in COMPONENTS}
        self.countries: dict[str, list[Any]] = {}
        self.clouds: dict[str, dict[str, Any]] = {}
        self.embodied_methods: set[str] = set()
        self.functional_units: set[str] = set()

    def add(self, row: tuple[Any, ...], named: dict[str, Any]) -> None:
        n = named["n"]
        self.all.add(row)
        self.statuses[named["status"]] = self.statuses.get(named["status"], 0) + n
        self.sources[named["kind"]] = self.sources.get(named["kind"], 0) + n
        self.in_progress += n if named["in_progress"] else 0
        self.intensity_sources.add(named["intensity_source"])
        self.intensity_kinds.add(named["intensity_kind"])
        for c, method in named["methods"].items():
            self.methods[c].add(method)
        self.countries.setdefault(named["country"], []).append(named["emissions"])
        if named["cloud"] is not None:
            cloud = self.clouds.setdefault(
                named["cloud"], {"runs": 0, "regions": set(), "it": [], "kg": []}
            )
            cloud["runs"] += n
            cloud["regions"].add(named["cloud_region"])
            cloud["it"].append(named["it_kwh"])
            cloud["kg"].append(named["emissions"])
        if named["embodied_method"] is not None:
            self.embodied_methods.add(named["embodied_method"])
        if named["functional_unit"] is not None:
            self.counted.add(row)
            self.functional_units.add(named["functional_unit"])


def kind_of(from_interval: Any, source: Any, wattprint_version: Any) -> str:
    """As the report tells runs apart: CodeCarbon's API runs, and rows without a wattprint
    version, are CodeCarbon's; a run known only by its intervals is wattprint's (its sink)."""
    if from_interval:
        return "wattprint"
    if source == "codecarbon":
        return "codecarbon"
    return "wattprint" if _text(wattprint_version) else "codecarbon"


def figures(key: str, t: Tally, models: list[tuple[Any, int]], compact: bool) -> dict[str, Any]:
    """A group's summary, the shape ``summaries.totals`` gives (without the long parts when
    ``compact``)."""
    m = t.all
    energy_low, energy_high = m.pair("energy")
    emissions_low, emissions_high = m.pair("emissions")
    if emissions_low is not None and emissions_high is not None:
        bounds = "from the runs' bounds"
    else:
        cc = t.sources.get("codecarbon", 0)
        unbounded = m.runs - m.count("b_emissions")
        emissions_low = emissions_high = None
        bounds = "no bounds: " + (
            f"{cc} CodeCarbon run(s) have none" if cc else f"{unbounded} run(s) have none"
        )
    components = {}
    for part, column in PARTS.items():
        low, high = m.pair(part)
        methods = sorted(t.methods[part]) if part in t.methods else None  # none for platform
        components[part] = {
            "kwh": m.total(f"v_{column}"),
            "low_kwh": low,
            "high_kwh": high,
            "unknown_runs": m.unknown(column),
            "methods": methods,
        }
    grams, kwh = m.total("grams_kg"), m.total("grams_kwh")
    ratio = grams * 1000.0 / kwh if grams is not None and kwh else None
    out: dict[str, Any] = {
        "group": key,
        "runs": m.runs,
        "in_progress_runs": t.in_progress,
        "duration_s": m.total("v_duration") or 0.0,
        "energy_kwh": m.total("v_energy_consumed"),
        "energy_low_kwh": energy_low,
        "energy_high_kwh": energy_high,
        "energy_unknown_runs": m.unknown("energy_consumed"),
        "emissions_kg": m.total("v_emissions"),
        "emissions_low_kg": emissions_low,
        "emissions_high_kg": emissions_high,
        "emissions_unknown_runs": m.unknown("emissions"),
        "bounds": bounds,
        "by_component": components,
        "statuses": dict(sorted(t.statuses.items())),
        "sources": dict(sorted(t.sources.items())),
        "intensity": {
            "g_per_kwh": ratio if ratio is not None and math.isfinite(ratio) else None,
            "sources": sorted(t.intensity_sources),
            "kinds": sorted(t.intensity_kinds),
        },
        "water": {
            "litres": m.total("v_water_consumed"),
            "unknown_runs": m.unknown("water_consumed"),
        },
        "footprint": footprint(t, models),
    }
    # The country that emitted the most (its car figure for the equivalents).
    by_country = {country: _sum(parts) or 0.0 for country, parts in t.countries.items()}
    country = max(by_country, key=lambda k: by_country[k]) if by_country else ""
    out["country"] = country or None
    if compact:
        return out
    out["machine"] = {
        "energy_kwh": m.total("v_machine_energy_kwh"),
        "energy_kwh_unknown_runs": m.unknown("machine_energy_kwh"),
        "emissions_kg": m.total("v_machine_emissions_kg"),
        "emissions_kg_unknown_runs": m.unknown("machine_emissions_kg"),
    }
    out["equivalents"] = equivalents_of(out["emissions_kg"], country or None)
    out["elsewhere"] = [
        entry
        for provider, cloud in sorted(t.clouds.items())
        if (
            entry := cheapest_region(
                provider,
                cloud["runs"],
                cloud["regions"],
                _sum(cloud["it"]) or 0.0,
                _sum(cloud["kg"]) or 0.0,
            )
        )
    ]
    return out


def footprint(t: Tally, details: list[tuple[Any, int]]) -> dict[str, Any]:
    """Embodied, LLM calls and SCI, as report/footprint.py gives them; ``details``: the
    group's runs' LLM details, each with how many runs have it."""
    m = t.all
    embodied = m.bounded("embodied")
    embodied["methods"] = sorted(t.embodied_methods)
    llm = m.bounded("llm")
    energy = m.bounded("llm_energy")
    per_model = model_totals(details)
    llm.update(
        calls=int(m.total("v_llm_calls") or 0),
        energy_kwh=energy["kg"],
        energy_low_kwh=energy["low_kg"],
        energy_high_kwh=energy["high_kg"],
        local_energy_kwh=m.total("v_energy_consumed"),
        models={key: entry["calls"] for key, entry in per_model.items()},
        per_model=per_model,
    )
    return {"embodied": embodied, "llm": llm, "sci": sci(t)}


def sci(t: Tally) -> dict[str, Any]:
    """SCI = (E x I + M) per R over the runs that counted units (report/footprint.py's sci)."""
    # Where every run counted units, the counted runs' sums are all the runs' (added up once).
    c = t.all if t.counted.runs == t.all.runs else t.counted
    out: dict[str, Any] = {"runs": c.runs, "runs_without_units": t.all.runs - c.runs,
                           "functional_unit": None, "units": None, "operational_kg": None,
                           "embodied_kg": None, "llm_kg": None, "g_per_unit": None,
                           "low_g_per_unit": None, "high_g_per_unit": None, "note": ""}  # fmt: skip
    if not c.runs:
        out["note"] = "no run counted units of work (functional_unit, add_units)"
        return out
    if len(t.functional_units) > 1:
        mixed = ", ".join(sorted(t.functional_units))
        out["note"] = f"mixed functional units ({mixed}): no one score"
        return out
    units = c.total("v_units")
    o, e = c.bounded("emissions"), c.bounded("embodied")
    # The LLM term, over the runs that made calls: EcoLogits' estimate, or unknown (never 0).
    has_remote = c.count("callers") > 0
    remote = c.bounded("llm") if has_remote else NO_CALLS
    out.update(
        functional_unit=next(iter(t.functional_units)),
        units=units,
        operational_kg=o["kg"],
        embodied_kg=e["kg"],
        llm_kg=remote["kg"] if has_remote else None,
    )
    if o["unknown_runs"] or e["unknown_runs"] or not units:
        out["note"] = "a run's operational or embodied emissions are unknown"
        return out
    if remote["unknown_runs"]:
        out["note"] = f"the LLM calls of {remote['unknown_runs']} run(s) were not estimated"
        return out
    for key, part in (
        ("g_per_unit", "kg"),
        ("low_g_per_unit", "low_kg"),
        ("high_g_per_unit", "high_kg"),
    ):
        if o[part] is None or e[part] is None or remote[part] is None:
            continue
        out[key] = (o[part] + e[part] + remote[part]) * 1000.0 / units
    return out


# -- groupings -----------------------------------------------------------------------------------


def period_of(day: date, kind: str) -> str:
    """The day's group: itself, its week's Monday, or its month (as the report writes them)."""
    from datetime import timedelta

    if kind == "day":
        return day.isoformat()
    if kind == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.strftime("%Y-%m")


def _day_of(text: Any) -> date:
    value = str(text or "")
    try:
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise NotInSql(f"a timestamp that does not begin with its date ({value!r})")


def labeller(session: Session, by: str, index: dict[str, int], rows: list[Any]):
    """The group label of a cube row (a tuple whose places ``index`` names) for ``by``."""

    def get(row: Any, name: str) -> Any:
        return row[index[name]]

    if by in PERIODS:
        place = index["day"]
        periods: dict[Any, str] = {}  # a day's period, worked out once per day

        def period(row: Any) -> str:
            day = row[place]
            if day not in periods:
                periods[day] = period_of(_day_of(day), by)
            return periods[day]

        return period
    if by == "location":
        parts = ("country_iso_code", "region", "cloud_provider", "cloud_region")
        return lambda row: (
            " / ".join(p for p in (_text(get(row, x)) for x in parts) if p) or ("unknown")
        )
    if by == "intensity_source":
        return lambda row: (
            _text(get(row, "intensity_source"))
            or (
                "codecarbon (not stated)"
                if kind_of(
                    get(row, "from_interval"), get(row, "source"), get(row, "wattprint_version")
                )
                == "codecarbon"
                else "unknown"
            )
        )
    if by == "status":
        return lambda row: _text(get(row, "status")) or "unknown"
    if by == "experiment":
        return lambda row: (
            _text(get(row, "experiment_name")) or _text(get(row, "experiment_id")) or "(none)"
        )
    if by == "experiment_pk":
        return lambda row: str(get(row, "experiment_pk"))
    names = _names(session, by, {get(row, "project_id") for row in rows})
    return lambda row: names.get(get(row, "project_id"), "(none)")


def _names(session: Session, by: str, project_ids: set[int]) -> dict[int, str]:
    if not project_ids:
        return {}
    if by == "project":
        query = select(Project.id, Project.name)
    else:
        query = select(Project.id, Team.name).join(Team, Team.id == Project.team_id)
    return dict(session.execute(query.where(Project.id.in_(project_ids))).all())


def llm_models(
    session: Session, f: RunFilter, bys: tuple[str, ...]
) -> dict[str | None, dict[str, list[tuple[Any, int]]]]:
    """The runs' LLM details (``llm_detail``, JSON), each with how many runs have it, in the
    order of their first run: for all runs (under None, label "") and per group label of each
    of ``bys``; only over the runs that have one. One query for every grouping."""
    query = _models_statement(filter_shape(f), bys, _is_postgresql(session))
    result = session.execute(query, filter_values(f))
    index = {name: i for i, name in enumerate(result.keys())}
    found = sorted((tuple(r) for r in result), key=lambda row: row[index["first"]])
    labels_of = {by: labeller(session, by, index, found) for by in bys}
    out: dict[str | None, dict[str, list[tuple[Any, int]]]] = {
        by: defaultdict(list) for by in (None, *bys)
    }
    for row in found:
        detail = detail_of(_text(row[index["llm_detail"]]))
        if not detail:
            continue
        n = row[index["n"]]
        out[None][""].append((detail, n))
        for by, label in labels_of.items():
            out[by][label(row)].append((detail, n))
    return out


def summarise(session: Session, f: RunFilter, bys: Sequence[str]) -> dict[str, Any]:
    """The total of the runs the filter selects, and their groups by each of ``bys``
    (``groupings``), as ``summaries`` gives them. NotInSql where SQL cannot say.

    One query: the cube of every facet and every grouping's keys (what tells the runs apart,
    the SCI's runs, and their sums), folded once into the total and each grouping's groups;
    and the LLM details, where runs have them, in one more."""
    keys = tuple(dict.fromkeys(bys))
    total, groupings, details = _fold(session, f, keys)
    models = llm_models(session, f, keys) if details else {}
    out = figures("total", total, models.get(None, {}).get("", []), compact=False)
    out["groupings"] = {
        by: [
            figures(k, v, models.get(by, {}).get(k, []), compact=True)
            for k, v in sorted(groupings[by].items())
        ]
        for by in keys
    }
    return out


def _fold(
    session: Session, f: RunFilter, bys: tuple[str, ...]
) -> tuple[Tally, dict[str, dict[str, Tally]], int]:
    """(the total, each grouping's groups by their labels, how many runs have an LLM detail)."""
    index, rows = cube(session, f, bys)
    total = Tally(index)
    groupings: dict[str, dict[str, Tally]] = {by: {} for by in bys}
    label_of = [(groupings[by], labeller(session, by, index, rows)) for by in bys]
    labels_of = row_labels(index)
    for row in rows:
        named = labels_of(row)
        total.add(row, named)
        for groups, label in label_of:
            key = label(row)
            if key not in groups:
                groups[key] = Tally(index)
            groups[key].add(row, named)
    return total, groupings, sum(row[index["details"]] for row in rows)
