"""Summary cells: the summaries' cube (``rollup``) of each project's settled days, summed up once
and kept, so that a summary adds up cells, not runs, however many runs it covers.

A cell holds the cube's sums and counts over one (project, day)'s runs of one kind (every key
of every grouping, and the run's status for ``status`` filters); ``summary_days`` says which
(project, day)s have cells, built with which ``layout`` (a fingerprint of the cells' statement:
code that changes a measure leaves old cells unread, never wrong). A run is covered when it has
a row and its (project, day) has cells of the current layout; a run known only by intervals
never is. A trigger on ``runs`` (migration 0007) deletes the (project, day) of a run inserted,
changed or deleted, before and after, so every writer invalidates cells in one place; the
cells of a day no longer built are deleted at the next build.

A summary reads, in one statement (one snapshot): the cells of its scope, grouped as asked,
beside the live cube over the runs they do not cover. When the live part has many runs
(``BUILD_AT_RUNS``), the scope's projects' days whose runs have all been silent for
``SETTLE_S`` are built (in their own transaction), and the summary read again.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    bindparam,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from . import rollup
from .models import (
    CELL_MEASURES,
    Experiment,
    Project,
    Run,
    SummaryCell,
    SummaryDay,
    integer_measure,
    utcnow,
)
from .runrows import run_day, run_rows
from .store import RunFilter, filter_shape, filter_values

log = logging.getLogger(__name__)

#: Off: every summary adds up runs (what the cells are compared with).
ENABLED = True
#: A day is built once every run of it has been silent this long (a run still sending would
#: invalidate it at once).
SETTLE_S = 900.0
#: The live part's run count from which a summary builds its scope's settled days first.
BUILD_AT_RUNS = 200
#: A day's cells are read only where they are at most this share of its runs: where runs are
#: as many as kinds of run, cells save nothing and their statement (a union, an anti-join,
#: sums of sums) costs more than the runs' (PostgreSQL by day at 1,000 runs: 80 ms against 58).
#: Such a day is marked built but read live (``_LIVE``), until one of its runs changes.
MIN_RUNS_PER_CELL = 2
#: Every grouping: a cell keeps the keys of them all.
EVERY_GROUPING = tuple(rollup.GROUP_KEYS)
#: PostgreSQL: how long a build waits for a lock before it gives up (the summary reads live).
LOCK_TIMEOUT = "5s"
_FLOAT_MAX = 1.7976931348623157e308


def serves(f: RunFilter) -> bool:
    """Whether cells can serve this filter: a run's time and id are not kept in cells."""
    return ENABLED and f.run_ids is None and f.since is None and f.until is None


# -- building ------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _cells_select(lateral: bool) -> Any:
    """The cube of one project's runs with a row on some days (``project_id``, ``days``),
    grouped by every key and the run's status: the cells of those days."""
    rows = run_rows(RunFilter(project_id=0), rollup.COLUMNS, lateral, bound=True, run_status=True)
    keys = [*rollup._keys(rows, EVERY_GROUPING), rows.c.run_status]
    return (
        select(*keys, *rollup._measures(rows))
        .where(
            rows.c.from_interval.is_(false()),
            run_day(rows.c.timestamp).in_(bindparam("days", expanding=True)),
        )
        .group_by(*keys)
    )


@lru_cache(maxsize=1)
def layout() -> str:
    """A fingerprint of what a cell is: its statement (keys, measures and their SQL) and the
    constants in it."""
    compiled = _cells_select(False).compile()
    made = f"{compiled}\n{sorted(compiled.params.items(), key=repr)!r}"
    return hashlib.sha256(made.encode()).hexdigest()[:16]


def build_scope(session: Session, f: RunFilter) -> int:
    """Build the settled days of the projects the filter reaches; how many days were built."""
    engine = session.get_bind().engine
    return sum(build(engine, project) for project in _projects(session, f))


def _projects(session: Session, f: RunFilter) -> list[int]:
    if f.project_id is not None:
        return [f.project_id]
    if f.experiment_id is not None:
        query = select(Experiment.project_id).where(Experiment.id == f.experiment_id)
        return list(session.scalars(query))
    query = select(Project.id)
    if f.organization_id is not None:
        query = query.where(Project.organization_id == f.organization_id)
    if f.organization_ids is not None:
        query = query.where(Project.organization_id.in_(list(f.organization_ids)))
    if f.team_id is not None:
        query = query.where(Project.team_id == f.team_id)
    return list(session.scalars(query.order_by(Project.id)))


def build(engine: Engine, project_id: int) -> int:
    """Build the cells of the project's settled days not covered yet, in one transaction of its
    own; how many days. A lock not had in time, or a sum past the largest float, leaves days
    uncovered (the summaries read them live)."""
    # Looked for first without a lock: a busy project whose recent runs are still sending
    # (a summary of it tries at each request) costs a read, not a write transaction.
    with Session(engine) as session:
        if not _settled_days(session, project_id):
            return 0
    postgresql = engine.dialect.name == "postgresql"
    try:
        with Session(engine) as session, session.begin():
            built = _build(session, project_id, postgresql)
    except (OperationalError, IntegrityError) as exc:  # locked (busy or lock timeout); raced
        log.info("summary cells of project %s not built now: %s", project_id, exc)
        return 0
    if built and postgresql:
        _analyze(engine)
    return built


def _analyze(engine: Engine) -> None:
    """Fresh statistics of the days built. Until autovacuum's next pass (a minute or more),
    PostgreSQL's planner takes the days as one row and finds the runs not covered with a nested
    loop that compares every run with every day: 81 ms instead of 2 at 1,000 runs."""
    with engine.connect() as connection:
        connection.execute(text("ANALYZE summary_days"))
        connection.commit()


def _build(session: Session, project_id: int, postgresql: bool) -> int:
    """The build, in an order safe beside concurrent writers (see the comments)."""
    conn = session.connection()
    if postgresql:
        conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        # Waits out, then holds off, the project's ingest (its inserts take a key share on the
        # project through their foreign keys): no run arrives on a day while it is built, and
        # builders of one project take turns.
        conn.execute(select(Project.id).where(Project.id == project_id).with_for_update())
    # SQLite: this write starts the transaction and takes the one writer's lock, so every read
    # after it is current. Both: the cells of days no longer built go.
    conn.execute(_forget_unbuilt(), {"project": project_id, "layout": layout()})
    days = _settled_days(session, project_id)
    if postgresql and days:
        # Writers that do not insert (closing) wait for this build; their trigger then
        # invalidates what it built. Settledness is read again behind the locks.
        day = run_day(Run.last_timestamp)
        conn.execute(
            select(Run.id)
            .where(Run.project_id == project_id, day.in_(days))
            .with_for_update(read=True)
        )
        days = _settled_days(session, project_id)
    if not days:
        return 0
    days_table = SummaryDay.__table__
    conn.execute(delete(days_table).where(days_table.c.project_id == project_id,
                                          days_table.c.day.in_(days)))  # fmt: skip
    now = utcnow()
    conn.execute(
        insert(days_table),
        [{"project_id": project_id, "day": d, "layout": layout(), "built_at": now} for d in days],
    )
    failed = _insert_cells(session, project_id, days, postgresql)
    if failed:
        conn.execute(delete(days_table).where(days_table.c.project_id == project_id,
                                              days_table.c.day.in_(failed)))  # fmt: skip
        _delete_cells(session, project_id, failed)
    built = [d for d in days if d not in failed]
    _read_live(session, project_id, _not_worth_it(session, project_id, built))
    return len(built)


def _live_layout() -> str:
    """The layout of a day that was built but whose cells are not worth reading."""
    return f"live:{layout()}"


def _not_worth_it(session: Session, project_id: int, days: list[str]) -> list[str]:
    """The days whose cells are more than ``1 / MIN_RUNS_PER_CELL`` of their runs."""
    if not days or MIN_RUNS_PER_CELL <= 0:
        return []
    day = run_day(Run.last_timestamp)
    runs = dict(
        session.execute(
            select(day, func.count())
            .where(Run.project_id == project_id, Run.last_emission_id.is_not(None))
            .where(day.in_(days))
            .group_by(day)
        ).all()
    )
    cells = SummaryCell.__table__
    counted = session.execute(
        select(cells.c.day, func.count())
        .where(cells.c.project_id == project_id, cells.c.day.in_(days))
        .group_by(cells.c.day)
    ).all()
    return sorted(d for d, n in counted if n * MIN_RUNS_PER_CELL > runs.get(d, 0))


def _read_live(session: Session, project_id: int, days: list[str]) -> None:
    """Mark ``days`` built but read live (not built again until a run of theirs changes)."""
    if days:
        table = SummaryDay.__table__
        session.connection().execute(
            update(table)
            .where(table.c.project_id == project_id, table.c.day.in_(days))
            .values(layout=_live_layout())
        )
        _delete_cells(session, project_id, days)


def _forget_unbuilt() -> Any:
    cells, days = SummaryCell.__table__, SummaryDay.__table__
    built = (
        select(days.c.day)
        .where(
            days.c.project_id == cells.c.project_id,
            days.c.day == cells.c.day,
            days.c.layout == bindparam("layout"),
        )
        .exists()
    )
    return delete(cells).where(cells.c.project_id == bindparam("project"), ~built)


def _settled_days(session: Session, project_id: int) -> list[str]:
    """The project's days not built yet (covered, or marked read live) whose runs with a row
    have all been silent for ``SETTLE_S``."""
    day = run_day(Run.last_timestamp)
    cutoff = utcnow() - timedelta(seconds=SETTLE_S)
    query = (
        select(day)
        .where(Run.project_id == project_id, Run.last_emission_id.is_not(None), day.is_not(None))
        .group_by(day)
        .having(func.max(Run.last_seen) < cutoff)
    )
    covered = set(
        session.scalars(
            select(SummaryDay.day).where(
                SummaryDay.project_id == project_id,
                SummaryDay.layout.in_((layout(), _live_layout())),
            )
        )
    )
    return sorted(d for d in session.scalars(query) if d not in covered)


def _insert_cells(
    session: Session, project_id: int, days: list[str], postgresql: bool
) -> list[str]:
    """The days' cells inserted; the days whose sums overflow (not inserted)."""
    lateral = postgresql
    names = [c.name for c in _cells_select(lateral).selected_columns]
    statement = insert(SummaryCell.__table__).from_select(names, _cells_select(lateral))
    conn = session.connection()
    if not postgresql:  # SQLite's sums overflow to inf: those days are left to the live cube
        conn.execute(statement, {"project_id": project_id, "days": days})
        return _overflowed(session, project_id, days)
    failed = []
    try:  # PostgreSQL refuses a sum past the largest float: then day by day
        with session.begin_nested():
            session.connection().execute(statement, {"project_id": project_id, "days": days})
        return []
    except DataError:
        pass
    for day in days:
        try:
            with session.begin_nested():
                session.connection().execute(statement, {"project_id": project_id, "days": [day]})
        except DataError:
            failed.append(day)
    return failed


def _overflowed(session: Session, project_id: int, days: list[str]) -> list[str]:
    cells = SummaryCell.__table__
    sums = [cells.c[name] for name in CELL_MEASURES if not integer_measure(name)]
    query = (
        select(cells.c.day)
        .distinct()
        .where(cells.c.project_id == project_id, cells.c.day.in_(days))
        .where(or_(*(func.abs(c) > _FLOAT_MAX for c in sums)))
    )
    return list(session.scalars(query))


def _delete_cells(session: Session, project_id: int, days: list[str]) -> None:
    cells = SummaryCell.__table__
    session.execute(delete(cells).where(cells.c.project_id == project_id, cells.c.day.in_(days)))


# -- reading -------------------------------------------------------------------------------------


def cube(session: Session, f: RunFilter, bys: tuple[str, ...]) -> tuple[dict[str, int], list[Any]]:
    """``rollup.cube`` from cells where they cover runs, live elsewhere; first building the
    scope's settled days when the live part is large. Each row has a ``cached`` key (1: from
    cells) that nothing after reads."""
    query = _read_statement(filter_shape(f), bys, rollup._is_postgresql(session))
    values = filter_values(f)
    index, rows = rollup.run_cube(session, query, values)
    large = _live_runs(index, rows) >= BUILD_AT_RUNS
    if large and not _has_written(session) and build_scope(session, f):
        index, rows = rollup.run_cube(session, query, values)
    return index, rows


def _has_written(session: Session) -> bool:
    """Whether the request's own transaction has written (a token's ``last_used``): a build
    beside it would wait for its locks until it commits, after the answer (SQLite: its one
    writer's lock); the next summary builds instead."""
    if rollup._is_postgresql(session):
        return bool(session.scalar(text("SELECT txid_current_if_assigned() IS NOT NULL")))
    return bool(session.connection().connection.dbapi_connection.in_transaction)  # type: ignore[union-attr]


def _live_runs(index: dict[str, int], rows: list[Any]) -> int:
    cached, n = index["cached"], index["n"]
    return sum(row[n] for row in rows if not row[cached])


@lru_cache(maxsize=256)
def _read_statement(shape: RunFilter, bys: tuple[str, ...], lateral: bool) -> Any:
    """The live cube over the runs cells do not cover, and the cells' cube over those they do,
    in one statement: one snapshot, so a build or an invalidation between the two parts can
    neither drop nor double a run."""
    rows = run_rows(shape, rollup.COLUMNS, lateral=lateral, bound=True, uncovered=layout())
    keys = rollup._keys(rows, bys)
    live = select(literal(0).label("cached"), *keys, *rollup._measures(rows)).group_by(
        *reversed(keys)
    )
    cells = SummaryCell.__table__
    stored = [cells.c[key.name] for key in keys]
    measures = [_summed(cells.c[m.name]).label(m.name) for m in rollup._measures(rows)]
    days = SummaryDay.__table__
    kept = (
        select(literal(1).label("cached"), *stored, *measures)
        .select_from(cells)
        .join(
            days,
            (days.c.project_id == cells.c.project_id)
            & (days.c.day == cells.c.day)
            & (days.c.layout == layout()),
        )
        .where(*_cell_filter(shape))
        .group_by(*stored)
    )
    if _needs_project(shape):
        kept = kept.join(Project, Project.id == cells.c.project_id)
    return union_all(live, kept)


def _summed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A measure over several cells: the first run's id the least, counts and sums added."""
    if column.name == "first":
        return func.min(column)
    if integer_measure(column.name):  # PostgreSQL's SUM of integers is a numeric
        return cast(func.sum(column), BigInteger)
    return func.sum(column)


def _needs_project(shape: RunFilter) -> bool:
    return any(
        x is not None for x in (shape.organization_id, shape.organization_ids, shape.team_id)
    )


def _cell_filter(shape: RunFilter) -> list[ColumnElement[bool]]:
    """The filter on cells, with the bind parameters ``store.runs_query`` names."""
    cells = SummaryCell.__table__
    out: list[ColumnElement[bool]] = []
    if shape.organization_id is not None:
        out.append(Project.organization_id == bindparam("organization_id"))
    if shape.organization_ids is not None:
        out.append(Project.organization_id.in_(bindparam("organization_ids", expanding=True)))
    if shape.team_id is not None:
        out.append(Project.team_id == bindparam("team_id"))
    if shape.project_id is not None:
        out.append(cells.c.project_id == bindparam("project_id"))
    if shape.experiment_id is not None:
        out.append(cells.c.experiment_pk == bindparam("experiment_id"))
    if shape.status is not None:
        out.append(cells.c.run_status == bindparam("status"))
    return out
