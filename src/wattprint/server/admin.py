"""What ``wattprint server`` does besides serving: migrate, add users, bootstrap a project."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url

from . import db, migrate, store
from .ingest import DEFAULT_EXPERIMENT, ensure_experiment
from .models import Organization, Project, Team
from .settings import ServerSettings

MIN_PASSWORD = 8


def shown_url(url: str) -> str:
    """The database URL without its password, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def migrated_engine(settings: ServerSettings):
    engine = db.make_engine(settings.url)
    migrate.upgrade(engine)
    return engine


def add_user(settings: ServerSettings, email: str, password: str, is_admin: bool) -> int:
    if "@" not in email or len(email) > 320:
        raise ValueError(f"{email!r} is not an e-mail address")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password is too short: use {MIN_PASSWORD} characters or more")
    engine = migrated_engine(settings)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            return store.create_user(session, email, password, is_admin).id
    except store.ConflictError as exc:
        raise ValueError(str(exc)) from None
    finally:
        engine.dispose()


def close_stale(
    settings: ServerSettings, older_than_s: float, dry_run: bool
) -> list[dict[str, Any]]:
    """``wattprint server close-stale``: the runs silent for ``older_than_s`` closed as
    interrupted (``closing``); with ``dry_run``, only listed."""
    from . import closing

    if older_than_s < closing.STALE_AFTER_S:
        raise ValueError(
            f"--older-than {older_than_s:.0f} s is shorter than the {closing.STALE_AFTER_S:.0f} s "
            "a live run may stay silent: give 10m or more"
        )
    engine = migrated_engine(settings)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            return closing.close_stale(session, older_than_s, dry_run)
    finally:
        engine.dispose()


def user_count(settings: ServerSettings) -> int:
    engine = db.make_engine(settings.url)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            return store.user_count(session)
    finally:
        engine.dispose()


def bootstrap(
    settings: ServerSettings,
    org: str,
    team: str | None,
    project: str,
    experiment: str | None,
    owner: str | None,
) -> dict[str, Any]:
    """Make what is named and does not exist yet, and an ingest token for the project."""
    for what, value in (
        ("--org", org),
        ("--project", project),
        ("--team", team),
        ("--experiment", experiment),
    ):
        if value is not None and not value.strip():
            raise ValueError(f"{what} must not be empty")
    engine = migrated_engine(settings)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            owner_id = None
            if owner is not None:
                user = store.user_by_email(session, owner)
                if user is None:
                    raise ValueError(f"no user {owner!r}: `wattprint server user add {owner}`")
                owner_id = user.id
            o = session.scalar(select(Organization).where(Organization.name == org))
            if o is None:
                o = store.create_organization(session, org, "", owner_id)
            elif owner_id is not None:
                store.set_membership(session, o.id, owner_id, "owner")
            t = None
            if team is not None:
                t = session.scalar(
                    select(Team).where(Team.organization_id == o.id, Team.name == team)
                )
                t = t or store.create_team(session, o.id, team, "")
                if owner_id is not None:  # the owner sees the team's projects as a member does
                    store.add_team_member(session, t, owner_id)
            p = session.scalar(
                select(Project).where(Project.organization_id == o.id, Project.name == project)
            )
            if p is None:
                p = store.create_project(session, o.id, project, "", t.id if t else None)
            elif t is not None and p.team_id != t.id:
                raise ValueError(f"project {project!r} exists in another team than {team!r}")
            e = ensure_experiment(session, p.id, experiment or DEFAULT_EXPERIMENT)
            _, token = store.create_project_token(session, p.id, "bootstrap", ["ingest"])
            return {
                "organization_id": o.id,
                "team_id": t.id if t else None,
                "project_id": p.id,
                "experiment_id": e,
                "token": token,
            }
    finally:
        engine.dispose()
