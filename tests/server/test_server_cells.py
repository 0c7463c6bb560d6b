"""Summary cells (``cells``): summaries read from cells equal the report's summariser on each
run after a build and after every kind of change a trigger must see (a new row, a new run on an
old day, closing, deleting, a run moved to another day); the cells are really read; a changed
layout leaves old cells unread; the cells' columns are the cube's keys and measures."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select, text, update

from tests.fakes.serverkit import app, client, database_url, interval, world  # noqa: F401
from tests.server.test_server_summaries import same
from tests.server.test_server_summaries_sql import _record, tricky  # noqa: F401
from wattprint.server import cells, closing, db, migrate, rollup, store, summaries
from wattprint.server.models import (
    CELL_KEYS,
    CELL_MEASURES,
    Experiment,
    PersonalToken,
    Run,
    SummaryCell,
    SummaryDay,
    utcnow,
)
from wattprint.server.runrows import run_rows
from wattprint.server.store import RunFilter

EVERY = summaries.GROUPINGS + summaries.PAGE_GROUPINGS


@pytest.fixture(autouse=True)
def every_day_read(monkeypatch):
    """Cells are read however few runs they stand for (the tests' days have a run or two)."""
    monkeypatch.setattr(cells, "MIN_RUNS_PER_CELL", 0)


@pytest.fixture
def settled(monkeypatch):
    """Every run counts as settled at once; no summary builds by itself."""
    monkeypatch.setattr(cells, "SETTLE_S", 0.0)
    monkeypatch.setattr(cells, "BUILD_AT_RUNS", 10**9)


def _filters(w, s):
    experiment = s.scalar(select(Run.experiment_id).where(Run.project_id == w.ids["project"]))
    return {
        "project": RunFilter(project_id=w.ids["project"]),
        "organization": RunFilter(organization_id=w.ids["org_a"]),
        "organizations": RunFilter(organization_ids=[w.ids["org_a"], w.ids["org_b"]]),
        "team": RunFilter(team_id=w.ids["team"]),
        "experiment": RunFilter(experiment_id=experiment),
        "finished": RunFilter(project_id=w.ids["project"], status="finished"),
        "interrupted": RunFilter(organization_id=w.ids["org_a"], status="interrupted"),
    }


def _as_reference(app, w, monkeypatch, where=""):
    """Every filter's summaries, with every grouping, equal the report's on each run."""
    reference = summaries.reference_grouped

    def not_here(*_args):
        raise AssertionError("these runs are summarised in SQL, not by the fallback")

    with monkeypatch.context() as m:
        m.setattr(summaries, "reference_grouped", not_here)
        with db.transaction(app.state.sessions) as s:
            for name, f in _filters(w, s).items():
                same(summaries.grouped(s, f, EVERY), reference(s, f, EVERY), f"{where} {name}")
                same(summaries.summary(s, f), summaries.reference_summary(s, f), name)


def _build(app, w) -> int:
    engine = app.state.engine
    return sum(cells.build(engine, w.ids[p]) for p in ("project", "project2", "project_b"))


def _parts(app, f=None, w=None):
    """(runs read live, runs read from cells) of a project summary."""
    with db.transaction(app.state.sessions) as s:
        index, rows = cells.cube(s, f or RunFilter(project_id=w.ids["project"]), ())
    cached, n = index["cached"], index["n"]
    return (
        sum(r[n] for r in rows if not r[cached]),
        sum(r[n] for r in rows if r[cached]),
    )


def _days(app, project):
    with db.transaction(app.state.sessions) as s:
        query = select(SummaryDay.day).where(SummaryDay.project_id == project)
        return sorted(s.scalars(query))


def test_the_cells_columns_are_the_cubes_keys_and_measures(app):
    rows = run_rows(RunFilter(), rollup.COLUMNS)
    keys = [k.name for k in rollup._keys(rows, cells.EVERY_GROUPING)]
    assert [*keys, "run_status"] == list(CELL_KEYS)
    assert [m.name for m in rollup._measures(rows)] == list(CELL_MEASURES)
    migrate.upgrade(app.state.engine)
    stored = {c["name"] for c in inspect(app.state.engine).get_columns("summary_cells")}
    assert stored == {"id", *CELL_KEYS, *CELL_MEASURES}


def test_built_cells_are_read_and_give_the_reports_figures(app, tricky, settled, monkeypatch):
    p = tricky.ids["project"]
    assert _parts(app, w=tricky) == (12, 0)  # 11 runs with a row and one known by intervals
    assert _build(app, tricky) == 5  # four days in the project, one in the other
    assert _days(app, p) == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    assert _parts(app, w=tricky) == (1, 11)  # only the intervals-only run is read live
    _as_reference(app, tricky, monkeypatch, "built")
    assert _build(app, tricky) == 0  # nothing left to build


def test_a_summary_really_reads_the_cells(app, tricky, settled):
    _build(app, tricky)
    f = RunFilter(project_id=tricky.ids["project"])
    with db.transaction(app.state.sessions) as s:
        before = summaries.summary(s, f)["emissions_kg"]
        s.execute(update(SummaryCell).values(v_emissions=SummaryCell.v_emissions + 1000.0))
    with db.transaction(app.state.sessions) as s:
        after = summaries.summary(s, f)["emissions_kg"]
        # the cells are the only place that sum was changed: read from them, not the runs
        cells_made = s.scalar(select(func.count()).select_from(SummaryCell).where(
            SummaryCell.project_id == tricky.ids["project"], SummaryCell.v_emissions.is_not(None)
        ))  # fmt: skip
    assert after == pytest.approx(before + 1000.0 * cells_made)


def test_cells_are_not_built_for_days_still_changing(app, tricky, monkeypatch):
    monkeypatch.setattr(cells, "SETTLE_S", 3600.0)  # the runs sent just now
    assert _build(app, tricky) == 0
    assert _parts(app, w=tricky) == (12, 0)


def test_a_large_live_part_builds_its_scope_first(app, tricky, monkeypatch):
    monkeypatch.setattr(cells, "SETTLE_S", 0.0)
    monkeypatch.setattr(cells, "BUILD_AT_RUNS", 5)
    f = RunFilter(organization_id=tricky.ids["org_a"])
    assert _parts(app, f) == (1, 12)  # the read built both projects of the organization
    assert _days(app, tricky.ids["project2"]) == ["2026-03-02"]
    assert _days(app, tricky.ids["project_b"]) == []  # not in the scope


def test_a_new_row_of_a_covered_run_is_read_live(app, tricky, settled, monkeypatch):
    _build(app, tricky)
    changed = _record("whole", 1, emissions=0.7)
    changed["key"] = "whole:2"
    changed["record"]["timestamp"] = "2026-03-01T13:00:00+00:00"
    assert tricky.send([changed]).json()["created"] == 1
    assert _days(app, tricky.ids["project"]) == ["2026-03-02", "2026-03-03", "2026-03-04"]
    _as_reference(app, tricky, monkeypatch, "new row")
    assert _build(app, tricky) == 1
    _as_reference(app, tricky, monkeypatch, "rebuilt")


def test_a_new_run_on_a_covered_day_is_counted(app, tricky, settled, monkeypatch):
    _build(app, tricky)
    assert tricky.send([_record("pushed-late", 2, emissions=0.3)]).json()["created"] == 1
    assert "2026-03-02" not in _days(app, tricky.ids["project"])
    _as_reference(app, tricky, monkeypatch, "late run")
    assert _build(app, tricky) == 1
    assert _parts(app, w=tricky) == (1, 12)
    _as_reference(app, tricky, monkeypatch, "rebuilt")


def test_a_run_moved_to_another_day_leaves_both_days(app, tricky, settled, monkeypatch):
    _build(app, tricky)
    moved = _record("whole", 4)  # "whole" was on the 1st
    moved["key"] = "whole:9"
    assert tricky.send([moved]).json()["created"] == 1
    assert _days(app, tricky.ids["project"]) == ["2026-03-02", "2026-03-03"]
    _as_reference(app, tricky, monkeypatch, "moved")
    _build(app, tricky)
    _as_reference(app, tricky, monkeypatch, "rebuilt")


def test_closing_a_run_invalidates_its_day(app, tricky, settled, monkeypatch):
    sent = _record("stuck", 3, status="running")
    assert tricky.send([sent]).json()["created"] == 1
    long_ago = utcnow() - timedelta(hours=2)
    with db.transaction(app.state.sessions) as s:
        s.execute(update(Run).where(Run.client_run_id == "stuck").values(last_seen=long_ago))
    _build(app, tricky)
    assert "2026-03-03" in _days(app, tricky.ids["project"])
    with db.transaction(app.state.sessions) as s:
        assert [r["closed"] for r in closing.close_stale(s, 3600.0)] == [True]
    assert "2026-03-03" not in _days(app, tricky.ids["project"])
    _as_reference(app, tricky, monkeypatch, "closed")  # "interrupted" filters it
    _build(app, tricky)
    _as_reference(app, tricky, monkeypatch, "rebuilt")


def test_deleting_a_run_or_an_experiment_invalidates_its_days(app, tricky, settled, monkeypatch):
    _build(app, tricky)
    with db.transaction(app.state.sessions) as s:
        store.remove(s, s.scalar(select(Run).where(Run.client_run_id == "llm")))  # on the 1st
    assert "2026-03-01" not in _days(app, tricky.ids["project"])
    _as_reference(app, tricky, monkeypatch, "run deleted")
    _build(app, tricky)
    with db.transaction(app.state.sessions) as s:
        of_project = select(Experiment).where(Experiment.project_id == tricky.ids["project"])
        for experiment in s.scalars(of_project).all():
            store.remove(s, experiment)  # every run of the project: every day goes
    assert _days(app, tricky.ids["project"]) == []
    _as_reference(app, tricky, monkeypatch, "experiment deleted")


def test_cells_of_another_layout_are_not_read(app, tricky, settled, monkeypatch):
    _build(app, tricky)
    monkeypatch.setattr(cells, "layout", lambda: "changed")
    cells._read_statement.cache_clear()
    try:
        assert _parts(app, w=tricky) == (12, 0)  # the old cells: unread
        _as_reference(app, tricky, monkeypatch, "old layout")
        assert _build(app, tricky) == 5  # built again, the old cells deleted
        with db.transaction(app.state.sessions) as s:
            assert set(s.scalars(select(SummaryDay.layout))) == {"changed"}
            every = select(func.count()).select_from(SummaryCell)
            built = every.join(
                SummaryDay,
                (SummaryDay.day == SummaryCell.day)
                & (SummaryDay.project_id == SummaryCell.project_id),
            )
            assert s.scalar(every) == s.scalar(built)  # no cell of the old layout is left
        assert _parts(app, w=tricky) == (1, 11)
    finally:
        cells._read_statement.cache_clear()


def test_a_day_whose_sums_overflow_is_left_live(app, world, settled, monkeypatch):
    huge = [_record(f"huge-{n}", 1, emissions=1.5e308, emissions_high_kg=1.6e308) for n in (1, 2)]
    assert world.send(huge + [_record("small", 2)]).json()["created"] == 3
    assert cells.build(app.state.engine, world.ids["project"]) == 1  # the 2nd only
    assert _days(app, world.ids["project"]) == ["2026-03-02"]
    with db.transaction(app.state.sessions) as s:
        f = RunFilter(project_id=world.ids["project"])
        same(summaries.summary(s, f, "day"), summaries.reference_summary(s, f, "day"))


def test_a_summary_builds_unless_its_own_transaction_wrote(app, tricky, monkeypatch):
    monkeypatch.setattr(cells, "SETTLE_S", 0.0)
    monkeypatch.setattr(cells, "BUILD_AT_RUNS", 5)
    p = tricky.ids["project"]
    f = RunFilter(project_id=p)
    with db.transaction(app.state.sessions) as s:
        s.execute(update(PersonalToken).values(last_used=utcnow()))
        # a build beside this transaction would wait for its locks (SQLite: its one writer's)
        first = summaries.summary(s, f)
    assert _days(app, p) == []
    # a request's own reads do not stop it (over HTTP: the token's use is committed apart)
    second = tricky.client.get(f"/api/v1/projects/{p}/summary", headers=tricky.h("viewer"))
    assert _days(app, p) == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    same(first, second.json())
    assert _parts(app, w=tricky) == (1, 11)


def test_the_trigger_watches_every_column_of_runs_a_cell_is_made_of(app, tricky, settled):
    import importlib

    from wattprint.server.models import ON_RUN

    migration = importlib.import_module("wattprint.server.migrations.versions.0007_c11")
    # every record column a summary reads is kept on the run (none read from the row itself,
    # which no trigger watches), and an UPDATE of any of them forgets the run's day
    assert all(column in ON_RUN for column in rollup.COLUMNS)
    read = {"project_id", "experiment_id", "source", "status", "last_emission_id"}
    read |= {ON_RUN[column] for column in rollup.COLUMNS}
    assert read <= set(migration.READ)
    _build(app, tricky)
    days = _days(app, tricky.ids["project"])
    with db.transaction(app.state.sessions) as s:  # what each batch touches: no cell changes
        s.execute(update(Run).values(last_seen=utcnow(), emissions_count=Run.emissions_count + 1))
    assert _days(app, tricky.ids["project"]) == days
    with db.transaction(app.state.sessions) as s:
        s.execute(update(Run).where(Run.client_run_id == "cloud").values(last_pue=1.5))
    assert "2026-03-02" in days and "2026-03-02" not in _days(app, tricky.ids["project"])


def test_a_build_leaves_the_days_with_fresh_statistics_on_postgresql(app, tricky, settled):
    """Until the days are analysed, PostgreSQL's planner takes them as one row and finds the
    runs not covered by comparing every run with every day (a nested loop)."""
    if app.state.engine.dialect.name != "postgresql":
        assert _build(app, tricky) > 0  # SQLite plans by its indexes, no statistics needed
        return
    before = _times_analysed(app)
    assert _build(app, tricky) > 0
    deadline = time.monotonic() + 10  # the statistics collector reports a moment later
    while _times_analysed(app) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _times_analysed(app) > before


def _times_analysed(app) -> int:
    with app.state.engine.connect() as c:
        c.execute(text("SELECT pg_stat_clear_snapshot()"))
        return c.execute(
            text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'summary_days'")
        ).scalar()


def test_a_day_whose_cells_save_nothing_is_read_live_and_not_built_again(
    app, tricky, settled, monkeypatch
):
    monkeypatch.setattr(cells, "MIN_RUNS_PER_CELL", 10**6)  # no day has that many runs a cell
    assert _build(app, tricky) > 0
    live, cached = _parts(app, w=tricky)
    assert cached == 0 and live > 0
    _as_reference(app, tricky, monkeypatch, "days read live")
    with db.transaction(app.state.sessions) as s:
        assert s.scalar(select(func.count()).select_from(SummaryCell)) == 0  # none kept
    monkeypatch.setattr(cells, "MIN_RUNS_PER_CELL", 0)
    assert _build(app, tricky) == 0  # considered once: not built again at every summary
