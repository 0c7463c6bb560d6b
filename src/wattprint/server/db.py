"""The engine and sessions: SQLite (WAL, foreign keys on) or PostgreSQL, and the one upsert.

Everything dialect-specific lives here, so the rest of the server is plain SQLAlchemy.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Float,
    Integer,
    String,
    Table,
    create_engine,
    event,
)
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
    columns: Sequence[str] | None = None,
) -> dict[Any, Any]:
    """Insert ``rows``, skipping those whose ``unique`` columns are already stored. The rows
    actually inserted, as {first returning column: second} (default: the first unique column
    and the primary key). ``columns``: those to write (default: those any row has); a row
    that leaves one out gives it the column's default, else NULL. The one dialect-specific
    statement, written for the driver directly: SQLAlchemy's parameter handling costs more
    than the database does at a hundred columns a row."""
    if not rows:
        return {}
    wanted = set().union(*rows) if columns is None else set(columns)
    columns = [c for c in table.c if c.name in wanted]
    values = _row_values(session.get_bind().dialect, columns, rows)
    names = [c.name for c in columns]
    return insert_values(session, table.name, names, values, unique, returning)


def insert_values(
    session: Session,
    table: str,
    names: Sequence[str],
    values: Sequence[Sequence[Any]],
    unique: Sequence[str],
    returning: tuple[str, str] | None = None,
    typed: bool = False,
) -> dict[Any, Any]:
    """``insert_new`` for rows already in the driver's terms: each a sequence of values in the
    order of ``names`` (ingest builds them so, without a dict per row). ``typed``: every value
    is already of its column's Python type (float, int, str, datetime or None, as ingest's
    checks leave them), so that PostgreSQL's COPY may take them in its binary form."""
    if not values:
        return {}
    returning = returning or (unique[0], "id")
    cursor = session.connection().connection.dbapi_connection.cursor()
    try:
        if session.get_bind().dialect.name == "postgresql":
            return _insert_psycopg(cursor, table, names, values, unique, returning, typed)
        return _insert_sqlite(cursor, table, names, values, unique, returning)
    finally:
        cursor.close()


def datetime_processor(session: Session) -> Any:
    """What turns a datetime into the driver's value for a DateTime column (SQLite: SQLAlchemy's
    text form, which its reads parse back); None where the driver takes datetimes as they are."""
    dialect = session.get_bind().dialect
    if dialect.name == "sqlite":
        return sqlite_datetime
    return DateTime().dialect_impl(dialect).bind_processor(dialect)


def sqlite_datetime(value: Any) -> str:
    """A naive datetime as SQLAlchemy's SQLite DateTime writes it ('2026-03-01 10:00:05.000123',
    microseconds always: SQLite compares them as text), four times quicker than its processor
    (tests/server/test_server_ingest.py holds the two equal)."""
    return value.isoformat(" ", "microseconds")


def _row_values(dialect: Any, columns: list[Any], rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Each row's values in the order of ``columns``, as the driver takes them."""
    names = [c.name for c in columns]
    defaults = {
        c.name: c.default.arg for c in columns if c.default is not None and c.default.is_scalar
    }
    if defaults:
        rows = [
            row if all(name in row for name in defaults) else {**defaults, **row} for row in rows
        ]
    postgres = dialect.name == "postgresql"
    convert = []  # (index, function) for the columns whose values the driver cannot take as is
    for index, column in enumerate(columns):
        if isinstance(column.type, JSON):
            convert.append((index, _json_psycopg if postgres else _json_text))
        elif not postgres and not isinstance(column.type, Float | Integer | String):
            # Numbers and text go to sqlite3 as they are (SQLAlchemy's Float processor only
            # turns Decimals into floats); dates become SQLAlchemy's text form.
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                convert.append((index, processor))
    if not convert:
        return [tuple(map(row.get, names)) for row in rows]
    out = []
    for row in rows:
        values = list(map(row.get, names))
        for index, function in convert:
            if values[index] is not None:
                values[index] = function(values[index])
        out.append(values)
    return out


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value)


def _json_psycopg(value: Any) -> Any:
    from psycopg.types.json import Json

    return Json(value)


def _insert_sqlite(
    cursor: Any,
    table: str,
    names: Sequence[str],
    values: Sequence[Sequence[Any]],
    unique: Sequence[str],
    returning: tuple[str, str],
) -> dict[Any, Any]:
    """One prepared single-row statement a row (sqlite3 keeps it prepared): whether it was
    inserted is its rowcount (0 where the conflict skipped it), its id the rowid SQLite
    gave it. A third less CPU than a statement of many rows with RETURNING, whose thousands
    of parameters sqlite3 binds and SQLite steps through at every batch (sqlite3's executemany,
    quicker still, tells neither which rows went in nor their ids)."""
    if returning[1] != "id" or returning[0] not in names:
        return _insert_sqlite_returning(cursor, table, names, values, unique, returning)
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['?'] * len(names))}) "
        f"ON CONFLICT ({', '.join(unique)}) DO NOTHING"
    )
    at = list(names).index(returning[0])
    found: dict[Any, Any] = {}
    execute = cursor.execute
    for row in values:
        execute(sql, row)
        if cursor.rowcount == 1:  # the id (the table's INTEGER PRIMARY KEY) is its rowid
            found[row[at]] = cursor.lastrowid
    return found


def _insert_sqlite_returning(
    cursor: Any,
    table: str,
    names: Sequence[str],
    values: Sequence[Sequence[Any]],
    unique: Sequence[str],
    returning: tuple[str, str],
) -> dict[Any, Any]:
    """Many rows in one statement, as many as SQLite's limit on parameters allows, each
    inserted row's ``returning`` columns read back (for a column that is not the rowid)."""
    per_statement = max(1, _sqlite_max_parameters(cursor.connection) // len(names))
    found: dict[Any, Any] = {}
    one = f"({', '.join(['?'] * len(names))})"
    for start in range(0, len(values), per_statement):
        chunk = values[start : start + per_statement]
        sql = (
            f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join([one] * len(chunk))} "
            f"ON CONFLICT ({', '.join(unique)}) DO NOTHING "
            f"RETURNING {returning[0]}, {returning[1]}"
        )
        cursor.execute(sql, list(itertools.chain.from_iterable(chunk)))
        found.update(cursor.fetchall())
    return found


def _sqlite_max_parameters(connection: Any) -> int:
    """SQLite's limit on a statement's parameters (32766 since 3.32, 999 before)."""
    import sqlite3

    getlimit = getattr(connection, "getlimit", None)  # Python 3.11+
    if getlimit is not None:
        return getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


#: From this many rows, PostgreSQL's rows go through COPY (see _copy_psycopg).
COPY_FROM_ROWS = 20


def _insert_psycopg(
    cursor: Any,
    table: str,
    names: Sequence[str],
    values: Sequence[Sequence[Any]],
    unique: Sequence[str],
    returning: tuple[str, str],
    typed: bool = False,
) -> dict[Any, Any]:
    """psycopg's pipelined executemany of one prepared single-row statement: a statement of
    many rows has ten thousand parameters for psycopg to bind and the server to parse at
    every batch, which costs more than the database does. Many rows go through COPY."""
    if len(values) >= COPY_FROM_ROWS:
        return _copy_psycopg(cursor, table, names, values, unique, returning, typed)
    sql = (
        f"INSERT INTO {table} ({', '.join(names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))}) "
        f"ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING {returning[0]}, {returning[1]}"
    )
    cursor.executemany(sql, values, returning=True)
    found: dict[Any, Any] = {}
    while True:
        found.update((a, b) for a, b in cursor.fetchall())
        if not cursor.nextset():
            return found


def _copy_psycopg(
    cursor: Any,
    table: str,
    names: Sequence[str],
    values: Sequence[Sequence[Any]],
    unique: Sequence[str],
    returning: tuple[str, str],
    typed: bool = False,
) -> dict[Any, Any]:
    """COPY into a temporary table of the connection (emptied at each commit), then one
    INSERT ... SELECT ... ON CONFLICT DO NOTHING: psycopg writes COPY's rows in C, where
    executemany binds each parameter in Python, and the server plans one statement."""
    import zlib

    columns = ", ".join(names)
    # Named by its columns: a connection never reuses a staging table of another layout.
    staging = f"_staging_{table}_{zlib.crc32(columns.encode()):08x}"
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS "
        f"AS SELECT {columns} FROM {table} WITH NO DATA"
    )
    # Binary when the values are typed: a quarter of the text form's CPU, nothing written out
    # as text. Its column types are asked before the COPY, which holds the connection.
    types = _column_types(cursor, staging) if typed else None
    binary = " (FORMAT BINARY)" if typed else ""
    with cursor.copy(f"COPY {staging} ({columns}) FROM STDIN{binary}") as copy:
        if types is not None:
            copy.set_types(types)
        for row in values:
            copy.write_row(row)
    # The staging rows deleted as they are moved, in the same statement: a later batch of this
    # transaction starts empty (the commit truncates the table anyway).
    cursor.execute(
        f"WITH moved AS (DELETE FROM {staging} RETURNING {columns}) "
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM moved "
        f"ON CONFLICT ({', '.join(unique)}) DO NOTHING RETURNING {returning[0]}, {returning[1]}"
    )
    return dict(cursor.fetchall())


#: staging table -> its columns' type oids: the schema's, the same on every connection.
_TYPES: dict[str, list[int]] = {}


def _column_types(cursor: Any, table: str) -> list[int]:
    """The type oids of ``table``'s columns in order (binary COPY needs them), asked once."""
    types = _TYPES.get(table)
    if types is None:
        cursor.execute(
            "SELECT atttypid FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (table,),
        )
        types = _TYPES[table] = [oid for (oid,) in cursor.fetchall()]
    return types
