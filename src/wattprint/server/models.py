"""The tables, as SQLAlchemy 2 typed ORM classes.

Organization > (Team) > Project > Experiment > Run > Emission / Interval; users, their
memberships, and the tokens. An emission's and an interval's record columns are generated from
``wattprint.records``' spec, never listed here: a column added to ``records.SPEC`` is a column
added here (and a migration, which ``tests/server/test_server_schema.py`` asks for).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from .. import records

# Constraint names fixed by convention, so that migrations name them the same on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("owner", "admin", "member", "viewer")
SCOPES = ("ingest", "read")
# SQLite makes only an INTEGER PRIMARY KEY an alias of its rowid (autoincrementing).
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    """Naive UTC: the same on SQLite (no time zones) and PostgreSQL."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def column_type(kind: str) -> TypeEngine[Any]:
    """The stored type of a record column of this kind. Timestamps are kept as the ISO text sent
    (a record read back equals the record sent, offset included); ``at`` holds the parsed UTC."""
    types: dict[str, TypeEngine[Any]] = {
        "text": Text(), "float": Float(53), "int": BigInteger(), "timestamp": Text(),
    }  # fmt: skip
    try:
        return types[kind]
    except KeyError:
        raise ValueError(f"records spec: unknown column kind {kind!r}") from None


def _fk(target: str, **kw: Any) -> Any:
    return ForeignKey(target, ondelete="CASCADE", **kw)


class Organization(Base):
    __tablename__ = "organizations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(_fk("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(_fk("organizations.id"), index=True)
    # Deleting a team deletes its projects (explicitly, down the hierarchy).
    team_id: Mapped[int | None] = mapped_column(_fk("teams.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Its dashboard page and badge readable by anyone (read-only); a project owner turns it on.
    public: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(_fk("projects.id"), index=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # What CodeCarbon's client says of an experiment (location, cloud) for its runs' rows.
    codecarbon: Mapped[dict[str, Any] | None] = mapped_column(JSON)


#: A run's running totals, updated as its rows arrive (summaries never scan the emissions):
#: name on the run -> the record column it follows.
TOTALS: dict[str, str] = {
    "duration_s": "duration",
    "energy_kwh": "energy_consumed",
    "energy_low_kwh": "energy_low_kwh",
    "energy_high_kwh": "energy_high_kwh",
    "cpu_energy_kwh": "cpu_energy",
    "cpu_energy_low_kwh": "cpu_energy_low_kwh",
    "cpu_energy_high_kwh": "cpu_energy_high_kwh",
    "gpu_energy_kwh": "gpu_energy",
    "gpu_energy_low_kwh": "gpu_energy_low_kwh",
    "gpu_energy_high_kwh": "gpu_energy_high_kwh",
    "ram_energy_kwh": "ram_energy",
    "ram_energy_low_kwh": "ram_energy_low_kwh",
    "ram_energy_high_kwh": "ram_energy_high_kwh",
    "platform_energy_kwh": "platform_energy_kwh",
    "platform_energy_low_kwh": "platform_energy_low_kwh",
    "platform_energy_high_kwh": "platform_energy_high_kwh",
    "emissions_kg": "emissions",
    "emissions_low_kg": "emissions_low_kg",
    "emissions_high_kg": "emissions_high_kg",
    "water_l": "water_consumed",
}

#: The newest row's other columns that summaries read (``rollup.COLUMNS``), copied onto its run
#: with the totals, so that a summary reads the runs alone, never the emissions:
#: name on the run -> the record column it copies (stored as the record stores it).
NEWEST: dict[str, str] = {
    f"last_{column}": column
    for column in (
        "timestamp",
        "status",
        "wattprint_version",
        "experiment_id",
        "experiment_name",
        "country_iso_code",
        "region",
        "on_cloud",
        "cloud_provider",
        "cloud_region",
        "pue",
        "intensity_source",
        "intensity_kind",
        "cpu_method",
        "gpu_method",
        "ram_method",
        "machine_energy_kwh",
        "machine_emissions_kg",
        "embodied_kg",
        "embodied_low_kg",
        "embodied_high_kg",
        "embodied_method",
        "units",
        "functional_unit",
        "llm_calls",
        "llm_energy_kwh",
        "llm_energy_low_kwh",
        "llm_energy_high_kwh",
        "llm_emissions_kg",
        "llm_emissions_low_kg",
        "llm_emissions_high_kg",
        "llm_detail",
    )
}
#: Every record column a run keeps from its newest row: record column -> name on the run.
ON_RUN: dict[str, str] = {column: name for name, column in {**TOTALS, **NEWEST}.items()}


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("project_id", "client_run_id"),
        Index("ix_runs_project_last_at", "project_id", "last_at"),
        Index("ix_runs_experiment_last_at", "experiment_id", "last_at"),
        # Runs known only by intervals, which summary cells never cover (``cells``).
        Index(
            "ix_runs_project_intervals_only",
            "project_id",
            sqlite_where=text("last_emission_id IS NULL"),
            postgresql_where=text("last_emission_id IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(_fk("projects.id"))
    experiment_id: Mapped[int] = mapped_column(_fk("experiments.id"))
    client_run_id: Mapped[str] = mapped_column(Text)  # the record's run_id
    name: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="wattprint")  # or "codecarbon"
    status: Mapped[str] = mapped_column(Text, default="running")
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_at: Mapped[datetime | None] = mapped_column(DateTime)  # the latest row's time (UTC)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # when it last sent
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    last_emission_id: Mapped[int | None] = mapped_column(BigInteger)  # the row the totals are
    emissions_count: Mapped[int] = mapped_column(BigInteger, default=0)
    # What CodeCarbon's client says of a run (machine, software) for its rows.
    codecarbon: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Closed by the server as "interrupted" (``closing``): when, and the note that says so.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_note: Mapped[str | None] = mapped_column(Text)


for _name in TOTALS:
    setattr(Run, _name, mapped_column(_name, Float(53), nullable=True))
for _name, _column in NEWEST.items():
    _kind = column_type(records.BY_NAME[_column].kind)
    setattr(Run, _name, mapped_column(_name, _kind, nullable=True))


class Emission(Base):
    """One row a run sent: every column of the record (``records.TASK_SPEC``)."""

    __tablename__ = "emissions"
    __table_args__ = (
        UniqueConstraint("project_pk", "key"),
        Index("ix_emissions_run_seq", "run_pk", "seq"),
        Index("ix_emissions_project_at", "project_pk", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_pk: Mapped[int] = mapped_column(_fk("projects.id"))
    run_pk: Mapped[int] = mapped_column(_fk("runs.id"))
    key: Mapped[str] = mapped_column(Text)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime | None] = mapped_column(DateTime)  # the record's timestamp, UTC
    origin: Mapped[str] = mapped_column(Text, default="wattprint")  # or "codecarbon"


class Interval(Base):
    """One sampling interval of a run (``records.INTERVAL_SPEC``): power over time, live runs."""

    __tablename__ = "intervals"
    __table_args__ = (
        UniqueConstraint("project_pk", "key"),
        Index("ix_intervals_run_at", "run_pk", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_pk: Mapped[int] = mapped_column(_fk("projects.id"))
    run_pk: Mapped[int] = mapped_column(_fk("runs.id"))
    key: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime | None] = mapped_column(DateTime)


#: The columns of emissions and intervals that are ours, not the record's.
EMISSION_BOOKKEEPING = ("id", "project_pk", "run_pk", "key", "seq", "at", "origin")
INTERVAL_BOOKKEEPING = ("id", "project_pk", "run_pk", "key", "at")


def _add_spec_columns(cls: type[Base], spec: tuple[records.Column, ...], own: tuple[str, ...]):
    for column in spec:
        if column.name in own:
            raise ValueError(f"records spec column {column.name!r} clashes with {cls.__name__}'s")
        setattr(cls, column.name, mapped_column(column.name, column_type(column.kind)))


_add_spec_columns(Emission, records.TASK_SPEC, EMISSION_BOOKKEEPING)
_add_spec_columns(Interval, records.INTERVAL_SPEC, INTERVAL_BOOKKEEPING)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(Text, unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)  # the server's administrator
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("organization_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(_fk("organizations.id"))
    user_id: Mapped[int] = mapped_column(_fk("users.id"), index=True)
    role: Mapped[str] = mapped_column(Text)  # one of ROLES


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(_fk("teams.id"))
    user_id: Mapped[int] = mapped_column(_fk("users.id"), index=True)


class ProjectToken(Base):
    __tablename__ = "project_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(_fk("projects.id"), index=True)
    name: Mapped[str] = mapped_column(Text, default="")
    prefix: Mapped[str] = mapped_column(Text, index=True)  # to find the row; not secret
    hash: Mapped[str] = mapped_column(Text)  # SHA-256 of the whole token
    scopes: Mapped[str] = mapped_column(Text)  # "ingest", "read" or "ingest read"
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class PersonalToken(Base):
    __tablename__ = "personal_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(_fk("users.id"), index=True)
    name: Mapped[str] = mapped_column(Text, default="")
    prefix: Mapped[str] = mapped_column(Text, index=True)
    hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)  # sign-in tokens expire
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class SummaryDay(Base):
    """A (project, day) whose runs with a row are summed up in ``summary_cells`` (``cells``),
    built with the cells' ``layout``; a trigger on runs deletes it when one of its runs changes."""

    __tablename__ = "summary_days"
    project_id: Mapped[int] = mapped_column(_fk("projects.id"), primary_key=True)
    day: Mapped[str] = mapped_column(Text, primary_key=True)
    layout: Mapped[str] = mapped_column(Text)
    built_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


#: What summary cells are keyed on: every key the summaries' cube groups on (``rollup._keys``
#: with every grouping) and the run's status (``status`` filters); name -> stored type.
CELL_KEYS: dict[str, TypeEngine[Any]] = {
    "source": Text(), "from_interval": Boolean(), "status": Text(),
    "wattprint_version": Text(), "intensity_source": Text(), "intensity_kind": Text(),
    "cpu_method": Text(), "gpu_method": Text(), "ram_method": Text(),
    "country_iso_code": Text(), "on_cloud": Text(), "cloud_provider": Text(),
    "cloud_region": Text(), "functional_unit": Text(), "embodied_method": Text(),
    "has_units": Integer(), "day": Text(), "region": Text(), "experiment_name": Text(),
    "experiment_id": Text(), "project_id": Integer(), "experiment_pk": Integer(),
    "run_status": Text(),
}  # fmt: skip
#: The cube's measures a cell keeps (``rollup._measures``, in its order): those counting runs
#: are integers, the rest sums of quantities.
CELL_MEASURES = (
    "n", "first", "v_duration", "k_duration", "v_energy_consumed", "k_energy_consumed",
    "v_cpu_energy", "k_cpu_energy", "v_gpu_energy", "k_gpu_energy", "v_ram_energy",
    "k_ram_energy", "v_platform_energy_kwh", "k_platform_energy_kwh", "v_emissions",
    "k_emissions", "v_machine_energy_kwh", "k_machine_energy_kwh", "v_machine_emissions_kg",
    "k_machine_emissions_kg", "v_embodied_kg", "k_embodied_kg", "v_llm_emissions_kg",
    "k_llm_emissions_kg", "v_llm_energy_kwh", "k_llm_energy_kwh", "v_llm_calls", "k_llm_calls",
    "v_units", "k_units", "v_water_consumed", "k_water_consumed", "b_energy", "lo_energy",
    "hi_energy", "b_cpu", "lo_cpu", "hi_cpu", "b_gpu", "lo_gpu", "hi_gpu", "b_ram", "lo_ram",
    "hi_ram", "b_platform", "lo_platform", "hi_platform", "b_emissions", "lo_emissions",
    "hi_emissions", "ck_emissions", "cv_emissions", "cl_emissions", "ch_emissions",
    "clo_emissions", "chi_emissions", "ck_embodied", "cv_embodied", "cl_embodied",
    "ch_embodied", "clo_embodied", "chi_embodied", "ck_llm", "cv_llm", "cl_llm", "ch_llm",
    "clo_llm", "chi_llm", "ck_llm_energy", "cv_llm_energy", "cl_llm_energy", "ch_llm_energy",
    "clo_llm_energy", "chi_llm_energy", "callers", "grams_kg", "grams_kwh", "it_kwh", "details",
)  # fmt: skip


def integer_measure(measure: str) -> bool:
    """Whether a cube measure is an integer (counts runs, or the first run's id), else a sum."""
    return measure in ("n", "first", "callers", "details") or measure.split("_", 1)[0] in (
        "k", "b", "ck", "cl", "ch",
    )  # fmt: skip


class SummaryCell(Base):
    """The cube's sums and counts over one (project, day)'s runs of one kind (``cells``)."""

    __tablename__ = "summary_cells"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)


for _name, _type in CELL_KEYS.items():
    _keyed = (_fk("projects.id"),) if _name == "project_id" else ()
    _required = _name in ("project_id", "day")
    setattr(SummaryCell, _name, mapped_column(_name, _type, *_keyed, nullable=not _required))
for _name in CELL_MEASURES:
    _measure = BigInteger() if integer_measure(_name) else Float(53)
    setattr(SummaryCell, _name, mapped_column(_name, _measure, nullable=True))
# (after the columns: an index named in __table_args__ needs them there)
Index("ix_summary_cells_project_day", SummaryCell.project_id, SummaryCell.day)
