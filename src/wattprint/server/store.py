"""Every query the API needs, in one place (no SQL in routes): find, list, create, delete."""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from . import security
from .ingest import DEFAULT_EXPERIMENT, ensure_experiment
from .models import (
    SCOPES,
    Base,
    Emission,
    Experiment,
    Interval,
    Membership,
    Organization,
    PersonalToken,
    Project,
    ProjectToken,
    Run,
    Team,
    TeamMember,
    User,
    utcnow,
)
from .permissions import NotFoundError, Principal

M = TypeVar("M", bound=Base)
MAX_PAGE = 500


class ConflictError(ValueError):
    """The name is taken, or the change would break a rule (e.g. the last owner)."""


def get(session: Session, model: type[M], id_: int) -> M:
    found = session.get(model, id_)
    if found is None:
        raise NotFoundError()
    return found


def where_is(session: Session, obj: Base) -> tuple[int, int | None]:
    """(organization id, project id or None) of anything in the hierarchy."""
    if isinstance(obj, Organization):
        return obj.id, None
    if isinstance(obj, Team):
        return obj.organization_id, None
    if isinstance(obj, Project):
        return obj.organization_id, obj.id
    if isinstance(obj, Experiment | Run):
        project = get(session, Project, obj.project_id)
        return project.organization_id, project.id
    if isinstance(obj, ProjectToken):
        project = get(session, Project, obj.project_id)
        return project.organization_id, project.id
    raise TypeError(type(obj).__name__)


# -- pages ---------------------------------------------------------------------------------------


def encode_cursor(value: int) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except ValueError:
        raise ValueError(f"cursor {cursor!r} is not one this server gave") from None


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def page(
    session: Session,
    query: Select[Any],
    id_column: Any,
    cursor: str | None,
    limit: int,
    newest_first: bool = False,
) -> Page:
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(id_column < after if newest_first else id_column > after)
    query = query.order_by(id_column.desc() if newest_first else id_column).limit(limit + 1)
    items = list(session.scalars(query))
    more = len(items) > limit
    items = items[:limit]
    return Page(items, encode_cursor(items[-1].id) if more else None)


# -- filters -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunFilter:
    """Which runs: any of these left None does not filter."""

    organization_ids: Sequence[int] | None = None  # None: all (already checked by the caller)
    organization_id: int | None = None
    team_id: int | None = None
    project_id: int | None = None
    experiment_id: int | None = None
    run_ids: Sequence[int] | None = None
    status: str | None = None
    since: datetime | None = None  # the run's latest row at or after
    until: datetime | None = None  # ... and before


def runs_query(f: RunFilter, bound: bool = False) -> Select[Any]:
    """The runs the filter selects. ``bound``: each value a bind parameter named as the
    filter's field (lists expanding), so that one statement serves every filter of one shape
    (summaries build theirs once, see ``filter_values``)."""

    def value(name: str) -> Any:
        given = getattr(f, name)
        if not bound:
            return list(given) if isinstance(given, list | tuple) else given
        return bindparam(name, expanding=isinstance(given, list | tuple))

    query = select(Run)
    if f.organization_id is not None or f.team_id is not None or f.organization_ids is not None:
        query = query.join(Project, Project.id == Run.project_id)
        if f.organization_id is not None:
            query = query.where(Project.organization_id == value("organization_id"))
        if f.organization_ids is not None:
            query = query.where(Project.organization_id.in_(value("organization_ids")))
        if f.team_id is not None:
            query = query.where(Project.team_id == value("team_id"))
    if f.project_id is not None:
        query = query.where(Run.project_id == value("project_id"))
    if f.experiment_id is not None:
        query = query.where(Run.experiment_id == value("experiment_id"))
    if f.run_ids is not None:
        query = query.where(Run.id.in_(value("run_ids")))
    if f.status is not None:
        query = query.where(Run.status == value("status"))
    if f.since is not None:
        query = query.where(Run.last_at >= value("since"))
    if f.until is not None:
        query = query.where(Run.last_at < value("until"))
    return query


def filter_values(f: RunFilter) -> dict[str, Any]:
    """The bind parameters of ``runs_query(f, bound=True)``."""
    from dataclasses import fields

    out = {}
    for field in fields(f):
        given = getattr(f, field.name)
        if given is not None:
            out[field.name] = list(given) if isinstance(given, list | tuple) else given
    return out


def filter_shape(f: RunFilter) -> RunFilter:
    """A filter with the same fields set as ``f`` (placeholders): the key of a statement built
    with ``runs_query(..., bound=True)``."""
    from dataclasses import fields

    return RunFilter(
        **{
            field.name: (() if isinstance(getattr(f, field.name), list | tuple) else 0)
            for field in fields(f)
            if getattr(f, field.name) is not None
        }
    )


# -- organizations, teams, projects, experiments -------------------------------------------------


def _unique(session: Session, query: Select[Any], what: str) -> None:
    if session.scalar(query) is not None:
        raise ConflictError(f"{what} already exists")


def create_organization(session: Session, name: str, description: str, owner: int | None):
    _unique(
        session,
        select(Organization.id).where(Organization.name == name),
        f"an organization named {name!r}",
    )
    org = Organization(name=name, description=description)
    session.add(org)
    session.flush()
    if owner is not None:
        session.add(Membership(organization_id=org.id, user_id=owner, role="owner"))
        session.flush()
    return org


def organizations(session: Session, visible: set[int] | None, cursor: str | None, limit: int):
    query = select(Organization)
    if visible is not None:
        query = query.where(Organization.id.in_(visible))
    return page(session, query, Organization.id, cursor, limit)


def create_team(session: Session, organization_id: int, name: str, description: str) -> Team:
    _unique(
        session,
        select(Team.id).where(Team.organization_id == organization_id, Team.name == name),
        f"a team named {name!r}",
    )
    team = Team(organization_id=organization_id, name=name, description=description)
    session.add(team)
    session.flush()
    return team


def teams(session: Session, organization_id: int, cursor: str | None, limit: int) -> Page:
    query = select(Team).where(Team.organization_id == organization_id)
    return page(session, query, Team.id, cursor, limit)


def create_project(
    session: Session, organization_id: int, name: str, description: str, team_id: int | None
) -> Project:
    if team_id is not None:
        team = session.get(Team, team_id)
        if team is None or team.organization_id != organization_id:
            raise ConflictError(f"team {team_id} is not one of this organization's")
    _unique(
        session,
        select(Project.id).where(Project.organization_id == organization_id, Project.name == name),
        f"a project named {name!r}",
    )
    project = Project(
        organization_id=organization_id, name=name, description=description, team_id=team_id
    )
    session.add(project)
    session.flush()
    ensure_experiment(session, project.id, DEFAULT_EXPERIMENT)
    return project


def projects(
    session: Session,
    visible: set[int] | None,
    organization_id: int | None,
    team_id: int | None,
    cursor: str | None,
    limit: int,
) -> Page:
    query = select(Project)
    if visible is not None:
        query = query.where(Project.organization_id.in_(visible))
    if organization_id is not None:
        query = query.where(Project.organization_id == organization_id)
    if team_id is not None:
        query = query.where(Project.team_id == team_id)
    return page(session, query, Project.id, cursor, limit)


def create_experiment(
    session: Session,
    project_id: int,
    name: str,
    description: str,
    extra: dict[str, Any] | None = None,
) -> Experiment:
    _unique(
        session,
        select(Experiment.id).where(Experiment.project_id == project_id, Experiment.name == name),
        f"an experiment named {name!r}",
    )
    experiment = Experiment(
        project_id=project_id, name=name, description=description, codecarbon=extra
    )
    session.add(experiment)
    session.flush()
    return experiment


def experiments(session: Session, project_id: int, cursor: str | None, limit: int) -> Page:
    query = select(Experiment).where(Experiment.project_id == project_id)
    return page(session, query, Experiment.id, cursor, limit)


def runs(session: Session, f: RunFilter, cursor: str | None, limit: int) -> Page:
    return page(session, runs_query(f), Run.id, cursor, limit, newest_first=True)


def update_fields(obj: Base, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        if value is not None:
            setattr(obj, name, value)


def check_rename(session: Session, obj: Base, name: str | None) -> None:
    if name is None or name == getattr(obj, "name", None):
        return
    if isinstance(obj, Organization):
        query = select(Organization.id).where(Organization.name == name)
    elif isinstance(obj, Team):
        query = select(Team.id).where(
            Team.organization_id == obj.organization_id, Team.name == name
        )
    elif isinstance(obj, Project):
        query = select(Project.id).where(
            Project.organization_id == obj.organization_id, Project.name == name
        )
    else:
        query = select(Experiment.id).where(
            Experiment.project_id == obj.project_id, Experiment.name == name
        )
    _unique(session, query, f"one named {name!r}")


def remove(session: Session, obj: Base) -> None:
    """Delete explicitly; the database cascades down the hierarchy (foreign keys)."""
    session.execute(delete(type(obj)).where(type(obj).id == obj.id))


# -- runs' rows ----------------------------------------------------------------------------------


def emissions(session: Session, run_id: int, cursor: str | None, limit: int) -> Page:
    query = select(Emission).where(Emission.run_pk == run_id)
    return page(session, query, Emission.id, cursor, limit)


def intervals(session: Session, run_id: int, cursor: str | None, limit: int) -> Page:
    query = select(Interval).where(Interval.run_pk == run_id)
    return page(session, query, Interval.id, cursor, limit)


def emission_rows(session: Session, f: RunFilter, columns: Sequence[str], batch: int = 5000):
    """The runs' rows (not their tasks'), oldest first, streamed: for exports."""
    run_ids = runs_query(f).with_only_columns(Run.id).scalar_subquery()
    query = (
        select(*(Emission.__table__.c[c] for c in columns))
        .where(Emission.run_pk.in_(run_ids), Emission.task_name.is_(None))
        .order_by(Emission.run_pk, Emission.id)
        .execution_options(yield_per=batch)
    )
    yield from session.execute(query)


# -- users, memberships ------------------------------------------------------------------------


def create_user(session: Session, email: str, password: str, is_admin: bool) -> User:
    email = email.strip().lower()
    _unique(session, select(User.id).where(User.email == email), f"a user {email!r}")
    user = User(email=email, password_hash=security.hash_password(password), is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def user_count(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def memberships(session: Session, organization_id: int) -> list[tuple[Membership, User]]:
    query = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == organization_id)
        .order_by(Membership.id)
    )
    return [(m, u) for m, u in session.execute(query)]


def set_membership(session: Session, organization_id: int, user_id: int, role: str) -> Membership:
    found = session.scalar(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    )
    if found is None:
        found = Membership(organization_id=organization_id, user_id=user_id, role=role)
        session.add(found)
    else:
        if found.role == "owner" and role != "owner":
            _keep_an_owner(session, organization_id)
        found.role = role
    session.flush()
    return found


def remove_membership(session: Session, organization_id: int, user_id: int) -> None:
    found = session.scalar(
        select(Membership).where(
            Membership.organization_id == organization_id, Membership.user_id == user_id
        )
    )
    if found is None:
        raise NotFoundError()
    if found.role == "owner":
        _keep_an_owner(session, organization_id)
    session.delete(found)
    # Their team memberships in this organization go with them: they are part of it.
    team_ids = select(Team.id).where(Team.organization_id == organization_id)
    session.execute(
        delete(TeamMember).where(TeamMember.user_id == user_id, TeamMember.team_id.in_(team_ids))
    )


def _keep_an_owner(session: Session, organization_id: int) -> None:
    owners = session.scalar(
        select(func.count(Membership.id)).where(
            Membership.organization_id == organization_id, Membership.role == "owner"
        )
    )
    if (owners or 0) <= 1:
        raise ConflictError("an organization keeps at least one owner")


def add_team_member(session: Session, team: Team, user_id: int) -> TeamMember:
    member = session.scalar(
        select(Membership).where(
            Membership.organization_id == team.organization_id, Membership.user_id == user_id
        )
    )
    if member is None:
        raise ConflictError(f"user {user_id} is not a member of the team's organization")
    found = session.scalar(
        select(TeamMember).where(TeamMember.team_id == team.id, TeamMember.user_id == user_id)
    )
    if found is None:
        found = TeamMember(team_id=team.id, user_id=user_id)
        session.add(found)
        session.flush()
    return found


def team_members(session: Session, team_id: int) -> list[User]:
    query = (
        select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team_id)
        .order_by(User.id)
    )
    return list(session.scalars(query))


def remove_team_member(session: Session, team_id: int, user_id: int) -> None:
    result = session.execute(
        delete(TeamMember).where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
    )
    if not result.rowcount:
        raise NotFoundError()


# -- tokens --------------------------------------------------------------------------------------


def create_project_token(
    session: Session, project_id: int, name: str, scopes: Sequence[str]
) -> tuple[ProjectToken, str]:
    bad = sorted(set(scopes) - set(SCOPES))
    if bad or not scopes:
        raise ValueError(f"scopes {bad or 'none'}: use one or more of {', '.join(SCOPES)}")
    made = security.new_token(security.PROJECT_TOKEN)
    row = ProjectToken(
        project_id=project_id,
        name=name,
        prefix=made.prefix,
        hash=made.hash,
        scopes=" ".join(s for s in SCOPES if s in scopes),
    )
    session.add(row)
    session.flush()
    return row, made.token


def project_tokens(session: Session, project_id: int) -> list[ProjectToken]:
    query = select(ProjectToken).where(ProjectToken.project_id == project_id)
    return list(session.scalars(query.order_by(ProjectToken.id)))


def create_personal_token(
    session: Session, user_id: int, name: str, lifetime: timedelta | None
) -> tuple[PersonalToken, str]:
    made = security.new_token(security.PERSONAL_TOKEN)
    expires = utcnow() + lifetime if lifetime is not None else None
    row = PersonalToken(
        user_id=user_id, name=name, prefix=made.prefix, hash=made.hash, expires_at=expires
    )
    session.add(row)
    session.flush()
    return row, made.token


def personal_tokens(session: Session, user_id: int) -> list[PersonalToken]:
    query = select(PersonalToken).where(
        PersonalToken.user_id == user_id, PersonalToken.name != "sign-in"
    )
    return list(session.scalars(query.order_by(PersonalToken.id)))


def revoke(session: Session, token: ProjectToken | PersonalToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()


_LAST_USED_EVERY = timedelta(seconds=60)  # not a write per request


def principal_for(session: Session, token: str) -> Principal | None:
    """Who a bearer token is; None if it is not a live token."""
    parts = security.split_token(token)
    if parts is None:
        return None
    kind, prefix = parts
    now = utcnow()
    if kind == security.PROJECT_TOKEN:
        return _project_token_principal(session, token, prefix, now)
    for row in session.scalars(select(PersonalToken).where(PersonalToken.prefix == prefix)):
        if not security.hash_matches(row.hash, token) or row.revoked_at is not None:
            continue
        if row.expires_at and row.expires_at <= now:
            return None
        if row.last_used is None or now - row.last_used > _LAST_USED_EVERY:
            session.execute(
                update(PersonalToken).where(PersonalToken.id == row.id).values(last_used=now)
            )
        return principal_of_user(session, get(session, User, row.user_id))
    return None


def _project_token_principal(
    session: Session, token: str, prefix: str, now: datetime
) -> Principal | None:
    """A project token's principal, read afresh at every request (a revoked token is refused
    at once) in one query with its project: ingest asks it for every batch."""
    # Core on the session's connection: the ORM's handling of a statement costs more here
    # than the query does.
    connection = session.connection()
    for row in connection.execute(_project_token_select(), {"prefix": prefix}):
        if not security.hash_matches(row.hash, token) or row.revoked_at is not None:
            continue
        if row.last_used is None or now - row.last_used > _LAST_USED_EVERY:
            connection.execute(
                update(ProjectToken).where(ProjectToken.id == row.id).values(last_used=now)
            )
        return Principal(
            token_id=row.id,
            token_project_id=row.project_id,
            token_organization_id=row.organization_id,
            scopes=frozenset(row.scopes.split()),
        )
    return None


@functools.cache
def _project_token_select() -> Select[Any]:
    t = ProjectToken
    return (
        select(t.id, t.hash, t.revoked_at, t.last_used, t.scopes, t.project_id,
               Project.organization_id)
        .join(Project, Project.id == t.project_id)
        .where(t.prefix == bindparam("prefix"))
    )  # fmt: skip


def principal_of_user(session: Session, user: User) -> Principal:
    roles = dict(
        session.execute(
            select(Membership.organization_id, Membership.role).where(Membership.user_id == user.id)
        ).all()
    )
    # The projects of the user's teams: what permissions.TEAM_GRANTS applies to.
    team_projects = session.scalars(
        select(Project.id)
        .join(TeamMember, TeamMember.team_id == Project.team_id)
        .where(TeamMember.user_id == user.id)
    )
    return Principal(
        user_id=user.id, is_admin=user.is_admin, roles=roles, team_projects=frozenset(team_projects)
    )
