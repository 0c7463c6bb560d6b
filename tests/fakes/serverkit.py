"""Helpers and fixtures for the server's tests: one app per database (SQLite always, PostgreSQL
where ``WATTPRINT_TEST_POSTGRES_URL`` names one; ``.ci/run`` starts one), a populated world,
full records, envelopes. Test modules import the fixtures they use from here, by name, as they
import every other fake (``from tests.fakes.serverkit import app, client, world``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed")

from wattprint import records


def fresh_postgres(url: str) -> None:
    """An empty database: the previous test's schema dropped."""
    from sqlalchemy import text

    from wattprint.server.db import make_engine

    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(text("DROP SCHEMA public CASCADE"))
        c.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def full_record(run_id: str, seq: int, **changes: Any) -> dict[str, Any]:
    """A record with a value in every column, each of its kind (distinct, exact in JSON)."""
    row: dict[str, Any] = {}
    for i, column in enumerate(records.SPEC):
        if column.kind == "float":
            row[column.name] = round(0.001 * (i + 1) * (seq + 1) + 1e-9 * i, 12)
        elif column.kind == "int":
            row[column.name] = i + seq
        elif column.kind == "timestamp":
            row[column.name] = f"2026-03-0{1 + seq % 9}T10:00:{seq % 60:02d}+02:00"
        else:
            row[column.name] = f"{column.name}-{seq}"
    row.update(
        run_id=run_id,
        status="running",
        experiment_id="",
        experiment_name="exp",
        wattprint_version="0.1.0",
    )
    row.update(changes)
    return row


def envelope(run_id: str, seq: int, **changes: Any) -> dict[str, Any]:
    return {
        "type": "wattprint.record",
        "version": 1,
        "key": f"{run_id}:{seq}",
        "record": full_record(run_id, seq, **changes),
    }


def interval(run_id: str, seq: int, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {c.name: None for c in records.INTERVAL_SPEC}
    values.update(
        run_id=run_id,
        seq=seq,
        timestamp=f"2026-03-01T10:00:{seq:02d}+00:00",
        cpu_power=10.0 + seq,
        cpu_energy=0.001 * seq,
        emissions=0.0001 * seq,
    )
    values.update(changes)
    return {
        "type": "wattprint.interval",
        "version": 1,
        "key": f"{run_id}:i{seq}",
        "interval": values,
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    """Two organizations; in A a user of every role, projects with tokens of every scope."""

    client: Any
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # who -> token

    def h(self, who: str) -> dict[str, str]:
        return bearer(self.tokens[who])

    @classmethod
    def make(cls, app: Any, client: Any) -> World:
        from wattprint.server import db, store
        from wattprint.server.models import User

        w = cls(client)
        with db.transaction(app.state.sessions) as s:
            # Users made directly (no Argon2 per test user); sign-in has its own tests.
            for who in ("admin", "owner", "manager", "member", "viewer", "outsider"):
                user = User(email=f"{who}@example.org", password_hash="-", is_admin=who == "admin")
                s.add(user)
                s.flush()
                w.ids[f"user_{who}"] = user.id
                _, w.tokens[who] = store.create_personal_token(s, user.id, "test", None)
            a = store.create_organization(s, "A", "", w.ids["user_owner"])
            b = store.create_organization(s, "B", "", w.ids["user_outsider"])
            for who, role in (("manager", "admin"), ("member", "member"), ("viewer", "viewer")):
                store.set_membership(s, a.id, w.ids[f"user_{who}"], role)
            team = store.create_team(s, a.id, "core", "")
            p = store.create_project(s, a.id, "bert", "", team.id)
            q = store.create_project(s, a.id, "gpt", "", None)
            pb = store.create_project(s, b.id, "other", "", None)
            w.ids.update(
                org_a=a.id, org_b=b.id, team=team.id, project=p.id, project2=q.id, project_b=pb.id
            )
            for name, scopes in (
                ("ingest", ["ingest"]),
                ("read", ["read"]),
                ("both", ["ingest", "read"]),
            ):
                row, w.tokens[f"token_{name}"] = store.create_project_token(s, p.id, name, scopes)
                w.ids[f"token_{name}"] = row.id
            _, w.tokens["token_b"] = store.create_project_token(s, pb.id, "b", ["ingest", "read"])
            _, w.tokens["token_gpt"] = store.create_project_token(s, q.id, "q", ["ingest", "read"])
        return w

    def send(self, envelopes: Any, who: str = "token_ingest") -> Any:
        return self.client.post("/api/v1/records", json=envelopes, headers=self.h(who))


POSTGRES_URL = os.environ.get("WATTPRINT_TEST_POSTGRES_URL")


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(
                not POSTGRES_URL,
                reason="WATTPRINT_TEST_POSTGRES_URL is not set (.ci/run starts a PostgreSQL)",
            ),
        ),
    ]
)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'server.sqlite3'}"
    fresh_postgres(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
def app(database_url):
    from wattprint.server.app import create_app
    from wattprint.server.settings import load_settings

    application = create_app(load_settings({}, database_url=database_url), migrate_schema=True)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def world(app, client):
    return World.make(app, client)
