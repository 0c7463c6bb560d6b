"""Runs left "running" by a process that died, closed by the server as ``interrupted``.

A killed tracker never sends its last row, so its run stays "running" on the server for good
(the live list only marks it as not heard from). On its own machine the tracker's recovery
(``wattprint.recovery``) writes such a run's last recorded state with status ``interrupted``;
the server does the same with what it has: the run's status, and the newest row's copy of it
that the summaries read (``last_status``, ``models.NEWEST``), become ``interrupted``, with a
note that says the server closed it and when it was last heard from. Nothing else changes.

A closed run that sends again takes its status from its newest row again: ingest sets both
from every newer row, as for any run. One that sends only intervals, the newest from after its
closing, is ``running`` again (ingest, ``_count_update``): it was alive after all. The note
then no longer applies and is not shown (``note_of``: only while nothing was heard after the
closing).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session

from .models import Project, Run, utcnow
from .store import ConflictError

STATUS = "interrupted"  # what the tracker's recovery calls a run that ended without stopping
DEFAULT_OLDER_THAN_S = 3600.0  # ``close-stale``'s default: a run silent for an hour
#: A run still "running" that has sent nothing for this long, or for STALE_INTERVALS of its own
#: sampling intervals where that is longer, is no longer live: the live list says so, and a
#: user who may write its project may close it (``close``, ``silence_needed``).
STALE_AFTER_S = 600.0
STALE_INTERVALS = 3


def stale_after_s(interval_s: Any) -> float:
    """How long a run may stay silent and still count as live."""
    if isinstance(interval_s, (int, float)) and interval_s > 0:
        return max(STALE_AFTER_S, STALE_INTERVALS * float(interval_s))
    return STALE_AFTER_S


def silence_needed(db: Session, run: Run) -> float:
    """How long ``run`` must have been silent to be closed by hand: as the live list decides."""
    from .dashboard import latest_intervals

    interval = latest_intervals(db, [run.id]).get(run.id)
    return stale_after_s(getattr(interval, "interval_s", None))


def note(last_seen: datetime | None, now: datetime) -> str:
    heard = f"{last_seen:%Y-%m-%d %H:%M} UTC" if last_seen else "never"
    return (
        f"closed by the server at {now:%Y-%m-%d %H:%M} UTC: still running but last heard from "
        f"{heard} (its process probably ended without stopping)"
    )


def note_of(run: Any) -> str | None:
    """The closing note while it applies: the run is still ``interrupted`` and has sent
    nothing since it was closed."""
    if run.closed_at is None or run.status != STATUS:
        return None
    if run.last_seen is not None and run.last_seen > run.closed_at:
        return None
    return run.closed_note


def stale(
    db: Session,
    older_than_s: float,
    now: datetime | None = None,
    organization_id: int | None = None,
) -> list[Run]:
    """The runs still "running" that have sent nothing for ``older_than_s``, oldest first."""
    cutoff = (now or utcnow()) - timedelta(seconds=older_than_s)
    query = select(Run).where(Run.status == "running", Run.last_seen < cutoff)
    if organization_id is not None:
        query = query.join(Project, Project.id == Run.project_id).where(
            Project.organization_id == organization_id
        )
    return list(db.scalars(query.order_by(Run.last_seen, Run.id)))


def close(db: Session, run: Run, silent_s: float, now: datetime | None = None) -> str:
    """Close ``run`` if it is still "running" and has sent nothing for ``silent_s``; its note.
    A ConflictError (409) says why not. One conditional UPDATE: a row that arrives meanwhile
    (``last_seen`` moves on) leaves the run as the row says."""
    now = now or utcnow()
    if run.status != "running":
        raise ConflictError(f"run {run.id} is {run.status}: only a running run can be closed")
    cutoff = now - timedelta(seconds=silent_s)
    if run.last_seen is not None and run.last_seen >= cutoff:
        raise ConflictError(
            f"run {run.id} was heard from at {run.last_seen:%Y-%m-%d %H:%M:%S} UTC, less than "
            f"{silent_s / 60:.0f} min ago: it is live; close a run silent for longer"
        )
    text = note(run.last_seen, now)
    t = Run.__table__
    done = db.execute(
        update(t)
        .where(t.c.id == run.id, t.c.status == "running", _silent_since(t, cutoff))
        .values(
            status=STATUS,
            # the summaries read a run's status from its newest row's copy where it has a row
            last_status=case((t.c.last_emission_id.is_not(None), STATUS), else_=t.c.last_status),
            closed_at=now,
            closed_note=text,
        )
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise ConflictError(f"run {run.id} sent something meanwhile: it was not closed")
    db.expire(run)
    return text


def _silent_since(t: Any, cutoff: datetime) -> Any:
    return or_(t.c.last_seen.is_(None), t.c.last_seen < cutoff)


def close_stale(
    db: Session, older_than_s: float, dry_run: bool = False, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Close every run silent for ``older_than_s`` (``wattprint server close-stale``); what was
    (or, with ``dry_run``, would be) closed. A run that sent meanwhile is left, and said."""
    now = now or utcnow()
    out = []
    for run in stale(db, older_than_s, now):
        item = {
            "id": run.id,
            "run_id": run.client_run_id,
            "project_id": run.project_id,
            "last_seen": run.last_seen.isoformat(timespec="seconds") if run.last_seen else None,
        }
        if dry_run:
            item["closed"] = False
        else:
            try:
                close(db, run, older_than_s, now)
                item["closed"] = True
            except ConflictError as exc:
                item.update(closed=False, why=str(exc))
        out.append(item)
    return out
