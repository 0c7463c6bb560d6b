"""One row per run, as summaries read runs: its newest row (its running total), or, for a run
that has sent only intervals so far, its newest interval (cumulative figures, in progress).

A run keeps its newest row's running totals and the columns summaries read (``models.ON_RUN``),
so a summary reads the runs alone; other columns come from the row itself
(``runs.last_emission_id``, one lookup per run). An intervals-only run's newest interval is found
by ``ix_intervals_run_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Subquery, and_, cast, false, func, null, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from .. import records
from .models import ON_RUN, Emission, Interval, SummaryDay, column_type
from .store import RunFilter, runs_query

#: The record's columns an interval also carries (cumulative energy and emissions).
INTERVAL_COLUMNS = frozenset(records.INTERVAL_COLUMNS) & frozenset(records.COLUMNS)
#: What each run row has besides record columns.
RUN_FIELDS = ("run_pk", "source", "project_id", "experiment_pk", "from_interval")


def _typed_null(name: str) -> ColumnElement[object]:
    return cast(null(), column_type(records.BY_NAME[name].kind)).label(name)


def run_rows(
    f: RunFilter,
    columns: Sequence[str],
    lateral: bool = False,
    bound: bool = False,
    uncovered: str | None = None,
    run_status: bool = False,
) -> Subquery:
    """``RUN_FIELDS`` and ``columns`` (record columns) of each run the filter selects: from its
    newest row, else from its newest interval (``from_interval`` true; status: the run's).
    ``lateral`` (PostgreSQL): find each newest interval by a LATERAL join, which the planner
    always reads by the index; else by a correlated subquery (SQLite reads it by the index).
    ``bound``: the filter's values are bind parameters (``store.runs_query``). ``uncovered``:
    only the runs that summary cells of this layout do not cover (``cells``); ``run_status``:
    also the run's own status (``run_status``), which a cell is keyed on."""
    runs = runs_query(f, bound=bound).subquery("selected_runs")
    status = [runs.c.status.label("run_status")] if run_status else []
    rows: Select[object] = (
        select(
            runs.c.id.label("run_pk"),
            runs.c.source,
            runs.c.project_id,
            runs.c.experiment_id.label("experiment_pk"),
            false().label("from_interval"),
            *status,
            *_newest_row(runs, columns),
        )
        .select_from(runs)
        .where(runs.c.last_emission_id.is_not(None))
    )
    if uncovered is not None:
        rows = rows.where(~_covered(runs, uncovered))
    if any(name not in ON_RUN for name in columns):
        rows = rows.join(Emission, Emission.id == runs.c.last_emission_id)
    newest, on = _newest_interval(runs, lateral)
    from_interval = []
    for name in columns:
        if name == "status":
            from_interval.append(runs.c.status.label(name))
        elif name in INTERVAL_COLUMNS:
            from_interval.append(newest.c[name].label(name))
        else:
            from_interval.append(_typed_null(name))
    intervals: Select[object] = (
        select(
            runs.c.id.label("run_pk"),
            runs.c.source,
            runs.c.project_id,
            runs.c.experiment_id.label("experiment_pk"),
            true().label("from_interval"),
            *status,
            *from_interval,
        )
        .select_from(runs)
        .join(newest, on)
        .where(runs.c.last_emission_id.is_(None))
    )
    return rows.union_all(intervals).subquery("run_rows")


def run_day(timestamp: ColumnElement[Any]) -> ColumnElement[Any]:
    """A run's day as summaries read it: its newest row's timestamp's first ten characters."""
    return func.substr(func.trim(timestamp), 1, 10)


def _covered(runs: Subquery, layout: str) -> ColumnElement[bool]:
    """Whether summary cells of ``layout`` hold the run (its project and day built, ``cells``);
    a run known only by intervals never is."""
    days = SummaryDay.__table__
    return (
        select(days.c.day)
        .where(
            days.c.project_id == runs.c.project_id,
            days.c.day == run_day(runs.c[ON_RUN["timestamp"]]),
            days.c.layout == layout,
        )
        .exists()
    )


def _newest_row(runs: Subquery, columns: Sequence[str]) -> list[ColumnElement[object]]:
    """``columns`` of each run's newest row: from the run where it keeps them
    (``models.ON_RUN``), else from the row itself (``last_emission_id``)."""
    table = Emission.__table__
    return [
        (runs.c[ON_RUN[name]] if name in ON_RUN else table.c[name]).label(name) for name in columns
    ]


def _newest_interval(runs: Subquery, lateral: bool) -> tuple[Any, ColumnElement[bool]]:
    """Each run's newest interval (by time, then by arrival): what to join, and on what."""
    if lateral:
        newest = (
            select(Interval)
            .where(Interval.run_pk == runs.c.id)
            .order_by(Interval.at.desc(), Interval.id.desc())
            .limit(1)
            .lateral("newest_interval")
        )
        return newest, newest.c.run_pk == runs.c.id
    later = aliased(Interval)
    newest_id = (
        select(later.id)
        .where(later.run_pk == runs.c.id)
        .order_by(later.at.desc(), later.id.desc())
        .limit(1)
        .correlate(runs)
        .scalar_subquery()
    )
    table = Interval.__table__
    return table, and_(table.c.run_pk == runs.c.id, table.c.id == newest_id)
