"""The queries the dashboard needs beyond ``store``'s (no SQL in its routes or pages): the runs
in progress with their latest power, the biggest runs, a run's intervals and newest row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Emission, Interval, Organization, Project, Run, Team
from .store import RunFilter, runs_query

#: The interval columns a power chart shows: component -> power column (W).
POWER_COLUMNS = {
    "cpu": "cpu_power",
    "gpu": "gpu_power",
    "ram": "ram_power",
    "platform": "platform_power_w",
}
MAX_POINTS = 5000  # a chart shows at most this many intervals (the newest)


def organizations(session: Session, visible: set[int] | None) -> list[Organization]:
    query = select(Organization).order_by(Organization.name)
    if visible is not None:
        query = query.where(Organization.id.in_(list(visible)))
    return list(session.scalars(query))


def projects_of(session: Session, organization_id: int) -> list[Project]:
    query = select(Project).where(Project.organization_id == organization_id)
    return list(session.scalars(query.order_by(Project.name)))


def teams_of(session: Session, organization_id: int) -> list[Team]:
    query = select(Team).where(Team.organization_id == organization_id)
    return list(session.scalars(query.order_by(Team.name)))


def biggest_runs(session: Session, f: RunFilter, limit: int = 10) -> list[Run]:
    emissions = Run.emissions_kg  # type: ignore[attr-defined]
    query = runs_query(f).where(emissions.is_not(None)).order_by(emissions.desc(), Run.id)
    return list(session.scalars(query.limit(limit)))


def runs_list(session: Session, f: RunFilter, limit: int = 1000) -> list[Run]:
    return list(session.scalars(runs_query(f).order_by(Run.id.desc()).limit(limit)))


#: What a page's table of runs shows of each (``pages.data._run_brief``, and its experiment).
BRIEF = ("id", "client_run_id", "name", "status", "source", "started_at", "last_at",
         "duration_s", "energy_kwh", "emissions_kg", "emissions_low_kg", "emissions_high_kg",
         "project_id", "experiment_id")  # fmt: skip


def runs_brief(
    session: Session, f: RunFilter, limit: int = 1000, before: int | None = None
) -> list[Any]:
    """``runs_list``'s runs, newest first (``before``: older than that run), as rows of
    ``BRIEF`` alone (read as a Run's attributes are): a page lists runs without loading each
    one's every column."""
    columns = [getattr(Run, name) for name in BRIEF]
    query = runs_query(f).with_only_columns(*columns)
    if before is not None:
        query = query.where(Run.id < before)
    return list(session.execute(query.order_by(Run.id.desc()).limit(limit)))


def latest_intervals(session: Session, run_ids: Sequence[int]) -> dict[int, Interval]:
    """Each run's newest interval (for the runs in progress: their current power), in one
    query: the newest id per run, then those rows."""
    from sqlalchemy import func

    if not run_ids:
        return {}
    newest = (
        select(func.max(Interval.id))
        .where(Interval.run_pk.in_(list(run_ids)))
        .group_by(Interval.run_pk)
    )
    rows = session.scalars(select(Interval).where(Interval.id.in_(newest)))
    return {row.run_pk: row for row in rows}


def intervals_after(
    session: Session, run_id: int, after_id: int = 0, limit: int = MAX_POINTS
) -> list[Interval]:
    """A run's intervals with an id above ``after_id``, oldest first (the newest ``limit``)."""
    query = select(Interval).where(Interval.run_pk == run_id, Interval.id > after_id)
    newest = list(session.scalars(query.order_by(Interval.id.desc()).limit(limit)))
    return newest[::-1]


def newest_row(session: Session, run: Run) -> dict[str, Any] | None:
    """The run's newest row (its running totals and provenance), column -> value."""
    if run.last_emission_id is None:
        return None
    row = session.get(Emission, run.last_emission_id)
    if row is None:
        return None
    return {c.name: getattr(row, c.name) for c in Emission.__table__.columns}


def personal_tokens_by_prefix(session: Session, prefix: str) -> list[Any]:
    from .models import PersonalToken

    return list(session.scalars(select(PersonalToken).where(PersonalToken.prefix == prefix)))


def experiment_names(session: Session, project_id: int) -> dict[int, str]:
    from .models import Experiment

    query = select(Experiment.id, Experiment.name).where(Experiment.project_id == project_id)
    return dict(session.execute(query).all())


# -- team, experiment and run pages ----------------------------------------------------------------

MAX_TASK_ROWS = 1000  # a run page lists at most this many task rows (the oldest)


def task_rows(session: Session, run_id: int, limit: int = MAX_TASK_ROWS) -> list[dict[str, Any]]:
    """The run's task rows (``task_name`` set), oldest first, column -> value."""
    query = (
        select(Emission)
        .where(Emission.run_pk == run_id, Emission.task_name.is_not(None))
        .order_by(Emission.id)
        .limit(limit)
    )
    columns = [c.name for c in Emission.__table__.columns]
    return [{c: getattr(row, c) for c in columns} for row in session.scalars(query)]


def projects_of_team(session: Session, team_id: int) -> list[Project]:
    query = select(Project).where(Project.team_id == team_id)
    return list(session.scalars(query.order_by(Project.name)))


def experiments_of(session: Session, project_ids: Sequence[int], limit: int) -> list[Any]:
    """The projects' experiments, newest first (at most ``limit``)."""
    from .models import Experiment

    if not project_ids:
        return []
    query = select(Experiment).where(Experiment.project_id.in_(list(project_ids)))
    return list(session.scalars(query.order_by(Experiment.id.desc()).limit(limit)))
