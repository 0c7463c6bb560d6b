"""The engine and sessions: SQLite (WAL, foreign keys on) or PostgreSQL, and the one upsert.

Everything dialect-specific lives here, so the rest of the server is plain SQLAlchemy.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Engine, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created, and its pragmas set."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        return _engine(url)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ValueError(
            f"database URL {url.split('@')[-1]!r}: {exc}. Use sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # "postgresql://" alone means psycopg2 to SQLAlchemy; the extra installs psycopg 3.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe with WAL
    cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite: deletes must cascade
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: index pages of big tables stay in memory
    cursor.close()


def write_lock(engine: Engine) -> AbstractContextManager[Any]:
    """What ingest holds while it writes: SQLite has one writer at a time, and a writer that
    finds the database locked polls with sleeps of up to 100 ms; a lock in the process makes
    the worker's batches take turns without sleeping. PostgreSQL needs none."""
    return threading.Lock() if engine.dialect.name == "sqlite" else nullcontext()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session


def is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def insert_new(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    unique: Sequence[str],
    returning: tuple[str, str] | None = None,
) -> dict[Any, Any]:
    """Insert ``rows``, skipping those whose ``unique`` columns are already stored. The rows
    actually inserted, as {first returning column: second} (default: the first unique column
    and the primary key). The one dialect-specific statement."""
    if not rows:
        return {}
    returning = returning or (unique[0], "id")
    if session.get_bind().dialect.name == "postgresql":
        return _insert_new_psycopg(session, table, rows, unique, returning)
    from sqlalchemy.dialects.sqlite import insert

    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(table.c[returning[0]], table.c[returning[1]])
    )
    result = session.execute(statement, list(rows))
    return {row[0]: row[1] for row in result}


def _insert_new_psycopg(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    unique: Sequence[str],
    returning: tuple[str, str],
) -> dict[Any, Any]:
    """psycopg's pipelined executemany of one prepared single-row statement: SQLAlchemy's
    many-rows-in-one-statement form makes psycopg re-parse a statement of ten thousand
    parameters at every batch, which costs more than the database does."""
    from psycopg.types.json import Json

    columns = [c.name for c in table.c if c.name in rows[0]]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING {returning[0]}, {returning[1]}"
    )
    if any(isinstance(table.c[c].type, JSON) for c in columns):
        values = [tuple(Json(v) if isinstance(v, dict | list) else v for v in map(row.get, columns))
                  for row in rows]  # fmt: skip
    else:
        values = [tuple(map(row.get, columns)) for row in rows]
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        cursor.executemany(sql, values, returning=True)
        found: dict[Any, Any] = {}
        while True:
            found.update((a, b) for a, b in cursor.fetchall())
            if not cursor.nextset():
                return found
    finally:
        cursor.close()
