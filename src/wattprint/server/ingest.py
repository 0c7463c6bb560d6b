"""Envelopes in, rows and run totals out: idempotent by key, no web framework inside.

A batch is a list of envelopes; each is checked on its own, so a bad one is refused with its
reason and the rest are kept. A key already stored is a duplicate (a retry never duplicates).
Each run's totals (and the newest row's columns summaries read) follow its newest row, so
summaries read one row per run and no emission.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    Text,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from .. import records
from .db import datetime_processor, insert_new, insert_values
from .models import NEWEST, TOTALS, Emission, Experiment, Interval, Run, column_type, utcnow
from .values import BadValueError, convert_row, is_utf8, parse_time_cached, plan

RECORD = "wattprint.record"
INTERVAL = "wattprint.interval"
MAX_KEY = 200
DEFAULT_EXPERIMENT = "default"
_RECORD_SPEC = {c.name: c for c in records.TASK_SPEC}
_INTERVAL_SPEC = {c.name: c for c in records.INTERVAL_SPEC}


@dataclass
class Item:
    """One accepted envelope, ready to store."""

    key: str
    kind: str  # RECORD or INTERVAL
    values: dict[str, Any]
    row: tuple[Any, ...]  # the same values in the order of _layout's columns
    seq: int | None
    at: Any


@dataclass
class Outcome:
    results: list[dict[str, Any]] = field(default_factory=list)

    def add(self, key: Any, status: str, error: str | None = None) -> None:
        self.results.append({"key": key, "status": status, "error": error})

    def as_dict(self) -> dict[str, Any]:
        count = {
            s: sum(1 for r in self.results if r["status"] == s)
            for s in ("created", "duplicate", "rejected")
        }
        return {
            "results": self.results,
            "created": count["created"],
            "duplicates": count["duplicate"],
            "rejected": count["rejected"],
        }


def _seq(key: str) -> int | None:
    tail = key.rsplit(":", 1)[-1].lstrip("i")
    return int(tail) if tail.isdigit() and len(tail) < 18 else None


def parse(envelope: Any) -> Item:
    """An envelope checked and converted, or BadValueError saying what is wrong."""
    if not isinstance(envelope, dict):
        raise BadValueError("an envelope must be a JSON object")
    kind, key = envelope.get("type"), envelope.get("key")
    if kind not in (RECORD, INTERVAL):
        raise BadValueError(f"type {kind!r}: use {RECORD!r} or {INTERVAL!r}")
    if envelope.get("version") != 1:
        raise BadValueError(f"version {envelope.get('version')!r}: this server reads version 1")
    if (
        not isinstance(key, str)
        or not key.strip()
        or len(key) > MAX_KEY
        or "\x00" in key
        or not is_utf8(key)
    ):
        raise BadValueError(f"key must be a non-empty string of at most {MAX_KEY} characters")
    if kind == RECORD:
        values, row = convert_row(_RECORD_SPEC, envelope.get("record"), "record")
    else:
        values, row = convert_row(_INTERVAL_SPEC, envelope.get("interval"), "interval")
    if not (values.get("run_id") or "").strip():
        raise BadValueError("run_id is missing: every row belongs to a run")
    if not (values.get("timestamp") or "").strip():
        raise BadValueError("timestamp is missing")
    seq = values.get("seq") if kind == INTERVAL else _seq(key)
    return Item(key, kind, values, row, seq, parse_time_cached(values["timestamp"]))


def ingest(session: Session, project_id: int, envelopes: Sequence[Any]) -> dict[str, Any]:
    """Store a batch for ``project_id``; per item: created, duplicate or rejected (why)."""
    outcome = Outcome()
    accepted: list[tuple[int, Item]] = []  # (index in results, item)
    seen: set[str] = set()
    for envelope in envelopes:
        key = envelope.get("key") if isinstance(envelope, dict) else None
        try:
            item = parse(envelope)
        except BadValueError as exc:
            outcome.add(key if isinstance(key, str) else None, "rejected", str(exc))
            continue
        if item.key in seen:
            outcome.add(item.key, "duplicate")
            continue
        seen.add(item.key)
        accepted.append((len(outcome.results), item))
        outcome.add(item.key, "pending")
    if accepted:
        runs = _runs_for(session, project_id, [item for _, item in accepted])
        created = _store(session, project_id, runs, [item for _, item in accepted])
        for index, item in accepted:
            outcome.results[index]["status"] = "created" if item.key in created else "duplicate"
    return outcome.as_dict()


def _runs_for(session: Session, project_id: int, items: list[Item]) -> dict[str, int]:
    """client run id -> runs.id, creating the runs (and experiments) not stored yet."""
    first: dict[str, Item] = {}
    for item in items:
        first.setdefault(item.values["run_id"], item)
    found = dict(
        _core(session).execute(_runs_select(), {"project": project_id, "ids": list(first)}).all()
    )
    missing = [first[r] for r in first if r not in found]
    if missing:
        rows = []
        for item in missing:
            v = item.values
            rows.append(
                {
                    "project_id": project_id,
                    "experiment_id": experiment_for(
                        session, project_id, v.get("experiment_id"), v.get("experiment_name")
                    ),
                    "client_run_id": v["run_id"],
                    "name": v.get("run_name") or "",
                    "source": "wattprint",
                    "status": v.get("status") or "running",
                    "started_at": _time_or_none(v.get("started_at")),
                    "last_seen": utcnow(),
                    "emissions_count": 0,
                }
            )
        found.update(
            insert_new(
                session,
                Run.__table__,
                rows,
                ("project_id", "client_run_id"),
                returning=("client_run_id", "id"),
            )
        )
        # Those another request made meanwhile (its INSERT won): read back.
        made = [i.values["run_id"] for i in missing if i.values["run_id"] not in found]
        if made:
            found.update(
                _core(session).execute(_runs_select(), {"project": project_id, "ids": made}).all()
            )
    return found


def _core(session: Session) -> Connection:
    """The session's connection, for the Core statements built once here: the ORM's handling
    of a statement costs more than running it, at several statements a batch."""
    return session.connection()


@functools.cache
def _runs_select() -> Any:
    """Statements built once: building one costs more than running it, at a batch a request."""
    t = Run.__table__
    return select(t.c.client_run_id, t.c.id).where(
        t.c.project_id == bindparam("project"),
        t.c.client_run_id.in_(bindparam("ids", expanding=True)),
    )


def _time_or_none(value: str | None) -> Any:
    return parse_time_cached(value) if value and value.strip() else None


def experiment_for(
    session: Session, project_id: int, experiment_id: Any, experiment_name: Any
) -> int:
    """The project's experiment a run goes to: by id if it is one of the project's, else by name
    (made if new), else the project's default experiment."""
    text_id = str(experiment_id or "").strip()
    if text_id.isdigit() and len(text_id) < 18:
        found = session.scalar(
            select(Experiment.id).where(
                Experiment.id == int(text_id), Experiment.project_id == project_id
            )
        )
        if found is not None:
            return found
    name = str(experiment_name or "").strip() or text_id or DEFAULT_EXPERIMENT
    return ensure_experiment(session, project_id, name)


def ensure_experiment(session: Session, project_id: int, name: str) -> int:
    """The id of the project's experiment ``name``, made if new. Looked up first: a run's
    experiment nearly always exists, and an INSERT that conflicts costs more than a SELECT."""
    params = {"project": project_id, "name": name}
    found = _core(session).scalar(_experiment_select(), params)
    if found is not None:
        return found
    insert_new(
        session,
        Experiment.__table__,
        [{"project_id": project_id, "name": name, "description": "", "created_at": utcnow()}],
        ("project_id", "name"),
    )
    return _core(session).scalar(_experiment_select(), params)


@functools.cache
def _experiment_select() -> Any:
    t = Experiment.__table__
    return select(t.c.id).where(
        t.c.project_id == bindparam("project"), t.c.name == bindparam("name")
    )


def _store(session: Session, project_id: int, runs: dict[str, int], items: list[Item]) -> set[str]:
    """Insert the rows and intervals; the keys actually inserted; run totals brought up to date."""
    created: set[str] = set()
    rows_created: list[Item] = []
    to_driver = datetime_processor(session) or _same
    for kind, table in ((RECORD, Emission.__table__), (INTERVAL, Interval.__table__)):
        of_kind = [item for item in items if item.kind == kind]
        if not of_kind:
            continue
        names = _layout(kind)
        # Each row's values in the order of ``names``: the record's columns, then ours.
        if kind == RECORD:
            rows = [
                item.row + (project_id, runs[item.values["run_id"]], item.key,
                            to_driver(item.at), item.seq, "wattprint")
                for item in of_kind
            ]  # fmt: skip
        else:
            rows = [
                item.row + (project_id, runs[item.values["run_id"]], item.key, to_driver(item.at))
                for item in of_kind
            ]  # fmt: skip
        inserted = insert_values(
            session, table.name, names, rows, UNIQUE, ("key", "id"), typed=True
        )
        created.update(inserted)
        if kind == RECORD:
            rows_created = [i for i in of_kind if i.key in inserted]
            _update_totals(session, runs, rows_created, inserted)
    counts: dict[int, int] = dict.fromkeys(
        (runs[i.values["run_id"]] for i in items if i.key in created), 0
    )
    for item in rows_created:
        if not item.values.get("task_name"):  # a task's row is a part of its run
            counts[runs[item.values["run_id"]]] += 1
    _count_and_touch(session, counts, _newest_intervals(runs, items, created))
    return created


def _newest_intervals(runs: dict[str, int], items: list[Item], created: set[str]) -> dict[int, Any]:
    """Each run's newest interval stored by this batch (its time): proof of life, which
    reopens a run the server closed (``closing``) when it is newer than the closing."""
    newest: dict[int, Any] = {}
    for item in items:
        if item.kind == INTERVAL and item.key in created:
            run = runs[item.values["run_id"]]
            if run not in newest or item.at > newest[run]:
                newest[run] = item.at
    return newest


UNIQUE = ("project_pk", "key")
_OURS = {RECORD: ("project_pk", "run_pk", "key", "at", "seq", "origin"),
         INTERVAL: ("project_pk", "run_pk", "key", "at")}  # fmt: skip


@functools.cache
def _layout(kind: str) -> tuple[str, ...]:
    """Every column written to ``kind``'s table, in the order _store builds a row's values:
    the spec's in the order of its plan (an Item's ``row``), then ours. The table's columns
    must be exactly those and ``id``: any other is a mistake here."""
    table = Emission.__table__ if kind == RECORD else Interval.__table__
    spec = _RECORD_SPEC if kind == RECORD else _INTERVAL_SPEC
    names = plan(spec).order + _OURS[kind]
    stored = {c.name for c in table.c} - {"id"}
    if stored != set(names):
        raise RuntimeError(
            f"ingest's columns for {table.name} differ from the table's: "
            f"{sorted(stored ^ set(names))}"
        )
    return names


def _same(value: Any) -> Any:
    return value


def _update_totals(
    session: Session, runs: dict[str, int], items: list[Item], ids: dict[str, int]
) -> None:
    """Each run's newest row of the batch becomes its totals (one statement for them all)."""
    newest: dict[int, Item] = {}
    for item in items:
        if item.values.get("task_name"):
            continue  # a task's row is a part of its run, not the run's total
        run = runs[item.values["run_id"]]
        old = newest.get(run)
        if old is None or (item.at, item.seq or 0) >= (old.at, old.seq or 0):
            newest[run] = item
    if newest:  # runs in id order: two batches touching the same runs lock them alike
        _core(session).execute(
            _totals_update(),
            [
                _totals_params(
                    run, newest[run].values, newest[run].at, newest[run].seq, ids[newest[run].key]
                )
                for run in sorted(newest)
            ],
        )


def _count_and_touch(
    session: Session, counts: dict[int, int], intervals: dict[int, Any] | None = None
) -> None:
    """The runs that got something are seen now; their rows counted; a run the server closed
    as interrupted that sent an interval from after its closing is running again (it was alive
    after all: a run that sends rows takes its status from them). One statement."""
    if counts:
        now = utcnow()
        alive = intervals or {}
        _core(session).execute(
            _count_update(),
            [
                {"run": run, "n": counts[run], "now": now, "alive": alive.get(run)}
                for run in sorted(counts)
            ],
        )


def apply_totals(
    session: Session, run: int, values: dict[str, Any], at: Any, seq: int | None, row_id: int
) -> None:
    """Make ``values`` (a cumulative row) the run's totals, unless it already has a newer one.
    One conditional UPDATE: concurrent batches of a run never go back in time."""
    _core(session).execute(_totals_update(), _totals_params(run, values, at, seq, row_id))


def _totals_params(
    run: int, values: dict[str, Any], at: Any, seq: int | None, row_id: int
) -> dict[str, Any]:
    params = {
        f"v_{name}": values.get(column) for name, column in (*TOTALS.items(), *NEWEST.items())
    }
    params.update(
        run=run,
        at=at,
        seq=seq or 0,
        row_id=row_id,
        v_status=values.get("status") or "unknown",
        v_name=values.get("run_name") or None,
        v_started=_time_or_none(values.get("started_at")),
    )
    return params


@functools.cache
def _totals_update() -> Any:
    t = Run.__table__
    at, seq = bindparam("at", type_=DateTime()), bindparam("seq", type_=BigInteger())
    newer = or_(
        t.c.last_at.is_(None),
        t.c.last_at < at,
        and_(t.c.last_at == at, or_(t.c.last_seq.is_(None), t.c.last_seq <= seq)),
    )
    return (
        update(t)
        .where(t.c.id == bindparam("run", type_=BigInteger()), newer)
        .values(
            status=bindparam("v_status", type_=Text()),
            name=func.coalesce(bindparam("v_name", type_=Text()), t.c.name),
            started_at=func.coalesce(bindparam("v_started", type_=DateTime()), t.c.started_at),
            last_at=at,
            last_seq=seq,
            last_emission_id=bindparam("row_id", type_=BigInteger()),
            **{name: bindparam(f"v_{name}", type_=Float(53)) for name in TOTALS},
            # the rest of the row that summaries read, as the row stores it
            **{
                name: bindparam(f"v_{name}", type_=column_type(_RECORD_SPEC[column].kind))
                for name, column in NEWEST.items()
            },
        )
    )


@functools.cache
def _count_update() -> Any:
    from .closing import STATUS as CLOSED  # (closing imports store, which imports this)

    t = Run.__table__
    reopened = and_(
        t.c.closed_at.is_not(None),
        t.c.status == CLOSED,
        bindparam("alive", type_=DateTime()) > t.c.closed_at,
    )
    return (
        update(t)
        .where(t.c.id == bindparam("run", type_=BigInteger()))
        .values(
            last_seen=bindparam("now", type_=DateTime()),
            emissions_count=t.c.emissions_count + bindparam("n", type_=BigInteger()),
            status=case((reopened, "running"), else_=t.c.status),
            # the summaries read a run's status from its newest row's copy where it has a row
            last_status=case(
                (and_(reopened, t.c.last_emission_id.is_not(None)), "running"),
                else_=t.c.last_status,
            ),
        )
    )
