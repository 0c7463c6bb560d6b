"""The stored columns are exactly the record's spec; migrations go from empty to head, down to
empty and up again, and the migrations agree with the models."""

from __future__ import annotations

import pytest
from sqlalchemy import BigInteger, Float, Text, inspect

from tests.fakes.serverkit import app, client, database_url, world  # noqa: F401 - the fixtures
from wattprint import records
from wattprint.server import migrate
from wattprint.server.db import make_engine
from wattprint.server.models import EMISSION_BOOKKEEPING, INTERVAL_BOOKKEEPING, Base

KIND = {"text": Text, "timestamp": Text, "float": Float, "int": BigInteger}


@pytest.fixture
def engine(database_url):
    e = make_engine(database_url)
    yield e
    e.dispose()


def _columns(engine, table):
    return {c["name"]: c["type"] for c in inspect(engine).get_columns(table)}


@pytest.mark.parametrize(
    "table, spec, own",
    [
        ("emissions", records.TASK_SPEC, EMISSION_BOOKKEEPING),
        ("intervals", records.INTERVAL_SPEC, INTERVAL_BOOKKEEPING),
    ],
)
def test_the_stored_columns_are_exactly_the_spec(engine, table, spec, own):
    migrate.upgrade(engine)
    stored = _columns(engine, table)
    assert set(stored) - set(own) == {c.name for c in spec}
    for column in spec:
        kind = KIND[column.kind]
        got = stored[column.name]
        assert isinstance(got, kind) or (kind is Float and got.python_type is float), (
            f"{table}.{column.name}: {got!r} stored for a {column.kind}"
        )


def test_migrations_up_down_and_up_again(engine):
    assert migrate.current(engine) is None
    assert migrate.upgrade(engine) == migrate.head()
    tables = set(inspect(engine).get_table_names())
    assert {"emissions", "runs", "organizations", "project_tokens"} <= tables
    assert migrate.downgrade(engine, "base") is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert migrate.upgrade(engine) == migrate.head()
    assert set(inspect(engine).get_table_names()) == tables


def test_the_migrations_match_the_models(engine):
    """A column added to records.SPEC (or a model) without a migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    migrate.upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_a_database_newer_than_the_code_is_refused_with_the_command(engine):
    from sqlalchemy import text

    migrate.upgrade(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    with pytest.raises(migrate.DatabaseNewerError, match=r"pip install --upgrade"):
        migrate.upgrade(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "from_the_future"
        )


def test_the_api_docs_are_served_without_a_cdn(client):
    import re

    page = client.get("/api/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
    assert urls and all(u.startswith("/") for u in urls), urls
    assert "http" not in page.text  # nothing from elsewhere
    for url in urls:
        assert client.get(url).status_code == 200, url
    spec = client.get("/api/v1/openapi.json").json()
    assert (
        "/api/v1/records" in spec["paths"]
        and "/api/v1/projects/{project_id}/summary" in (spec["paths"])
    )


def test_0005_fills_each_runs_summary_columns_from_its_newest_row(engine):
    """A database made before 0005 keeps its summaries: each run gets its newest row's columns
    (the row ``last_emission_id`` names, not an older one); a run with no row gets none."""
    from sqlalchemy import text

    from wattprint.server.models import NEWEST

    migrate.upgrade(engine, "0004")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO organizations (id, name, description, created_at)"
                " VALUES (1, 'o', '', '2026-03-01 00:00:00')"
            )
        )
        c.execute(
            text(
                "INSERT INTO projects (id, organization_id, name, description, created_at)"
                " VALUES (1, 1, 'p', '', '2026-03-01 00:00:00')"
            )
        )
        c.execute(
            text(
                "INSERT INTO experiments (id, project_id, name, description, created_at)"
                " VALUES (1, 1, 'e', '', '2026-03-01 00:00:00')"
            )
        )
        for run, newest in ((1, 12), (2, None)):
            c.execute(
                text(
                    "INSERT INTO runs (id, project_id, experiment_id, client_run_id, name,"
                    " source, status, last_seen, last_emission_id, emissions_count)"
                    " VALUES (:id, 1, 1, :cid, '', 'wattprint', 'running',"
                    " '2026-03-01 00:00:00', :newest, 2)"
                ),
                {"id": run, "cid": f"r{run}", "newest": newest},
            )
        for row, (country, calls) in ((11, ("FRA", 1)), (12, ("DEU", 5))):
            c.execute(
                text(
                    "INSERT INTO emissions (id, project_pk, run_pk, key, origin, run_id,"
                    " country_iso_code, llm_calls, units, timestamp)"
                    " VALUES (:id, 1, 1, :key, 'wattprint', 'r1', :country, :calls,"
                    " 2.5, '2026-03-01T10:00:00+00:00')"
                ),
                {"id": row, "key": f"k{row}", "country": country, "calls": calls},
            )
    migrate.upgrade(engine)
    with engine.connect() as c:
        got = {r.id: r for r in c.execute(text("SELECT * FROM runs ORDER BY id"))}
    assert set(NEWEST) <= set(got[1]._mapping)
    assert (got[1].last_country_iso_code, got[1].last_llm_calls, got[1].last_units) == (
        "DEU",
        5,
        2.5,
    )
    assert got[1].last_timestamp == "2026-03-01T10:00:00+00:00"
    assert got[2].last_country_iso_code is None and got[2].last_units is None


def test_a_summary_reads_the_runs_not_the_emissions():
    """Every column the SQL summaries read is kept on the run (``models.ON_RUN``), so their
    statements never name the emissions table: a summary's cost follows the runs."""
    import re

    from wattprint.server import rollup
    from wattprint.server.models import ON_RUN
    from wattprint.server.store import RunFilter

    assert set(rollup.COLUMNS) <= set(ON_RUN), set(rollup.COLUMNS) - set(ON_RUN)
    for lateral in (False, True):
        for bys in ((), ("day",), ("location",), ("day", "location", "experiment")):
            statement = rollup._cube_statement(RunFilter(project_id=1), bys, lateral)
            sql = str(statement)
            assert not re.search(r"\b(FROM|JOIN) emissions\b", sql), (bys, lateral, sql)
            assert re.search(r"\bFROM runs\b", sql), sql
