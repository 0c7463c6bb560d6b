"""``wattprint server`` commands: migrate, user add, bootstrap; and signing in."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wattprint.cli import app as cli

runner = CliRunner()


@pytest.fixture
def url(tmp_path, monkeypatch):
    monkeypatch.delenv("WATTPRINT_SERVER_DATABASE_URL", raising=False)
    return f"sqlite:///{tmp_path / 'db' / 'server.sqlite3'}"


def _ok(*args, stdin=None):
    result = runner.invoke(cli, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_migrate_then_already_at_head(url):
    from wattprint.server import migrate

    head = migrate.head()
    done = _ok("server", "migrate", "--database-url", url)
    assert f"migrated from empty to schema {head}" in done
    assert f"already at schema {head}" in _ok("server", "--database-url", url, "migrate")


def test_bootstrap_makes_what_does_not_exist_and_a_new_token_each_time(url, monkeypatch):
    monkeypatch.setenv("WATTPRINT_SERVER_DATABASE_URL", url)
    first = json.loads(
        _ok(
            "server",
            "bootstrap",
            "--org",
            "NLP lab",
            "--team",
            "core",
            "--project",
            "bert",
            "--json",
        )
    )
    assert set(first) == {"organization_id", "team_id", "project_id", "experiment_id", "token"}
    assert first["token"].startswith("wpt_")
    again = json.loads(
        _ok(
            "server",
            "bootstrap",
            "--org",
            "NLP lab",
            "--team",
            "core",
            "--project",
            "bert",
            "--experiment",
            "sweep",
            "--json",
        )
    )
    assert again["project_id"] == first["project_id"] and again["team_id"] == first["team_id"]
    assert again["experiment_id"] != first["experiment_id"] and again["token"] != first["token"]
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as c:
        stored = c.execute(text("SELECT hash, prefix FROM project_tokens")).all()
    assert all(first["token"] not in row.hash for row in stored)  # stored as hashes only


def test_user_add_with_a_password_on_stdin_and_sign_in(url, monkeypatch):
    from fastapi.testclient import TestClient

    from wattprint.server.app import create_app
    from wattprint.server.settings import load_settings

    out = _ok(
        "server",
        "user",
        "add",
        "Ada@Example.org",
        "--admin",
        "--password-stdin",
        "--database-url",
        url,
        stdin="long enough pw\n",
    )
    assert "administrator" in out
    bad = runner.invoke(
        cli,
        ["server", "user", "add", "bob@example.org", "--password-stdin", "--database-url", url],
        input="short\n",
    )
    assert bad.exit_code == 2 and "too short" in bad.output
    twice = runner.invoke(
        cli,
        ["server", "user", "add", "ada@example.org", "--password-stdin", "--database-url", url],
        input="long enough pw\n",
    )
    assert twice.exit_code == 2 and "already exists" in twice.output
    app = create_app(load_settings({}, database_url=url, login_attempts=3))
    with TestClient(app) as c:
        ok = c.post(
            "/api/v1/auth/token", json={"email": "ada@example.org", "password": "long enough pw"}
        )
        assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
        me = c.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {ok.json()['access_token']}"}
        )
        assert me.json()["email"] == "ada@example.org" and me.json()["is_admin"]
        for _ in range(3):
            wrong = c.post("/api/v1/auth/token", json={"email": "ada@example.org", "password": "x"})
            assert wrong.status_code == 401
        limited = c.post(
            "/api/v1/auth/token", json={"email": "ada@example.org", "password": "long enough pw"}
        )
        assert limited.status_code == 429 and "Retry-After" in limited.headers
    app.state.engine.dispose()


def test_a_newer_database_is_refused_with_the_command_to_run(url):
    from sqlalchemy import create_engine, text

    _ok("server", "migrate", "--database-url", url)
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    result = runner.invoke(cli, ["server", "migrate", "--database-url", url])
    assert result.exit_code == 2 and "pip install --upgrade" in result.output


def test_a_bad_database_url_is_one_line_not_a_traceback(tmp_path):
    result = runner.invoke(cli, ["server", "migrate", "--database-url", "nosuchdb://x"])
    assert result.exit_code in (1, 2) and "Traceback" not in result.output
    assert "wattprint:" in result.output


def test_the_first_start_says_where_the_database_is_and_how_to_add_a_user(url, monkeypatch):
    import uvicorn

    started = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.update(app=app, **kw))
    out = _ok("server", "--database-url", url, "--port", "8123")
    assert url in out and "wattprint server user add" in out
    assert started["host"] == "127.0.0.1" and started["port"] == 8123 and started["factory"]
    assert started["app"] == "wattprint.server.app:app_from_env"


def test_without_the_server_extra_it_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "alembic" else real(name, *a)
    )
    result = runner.invoke(cli, ["server", "migrate"])
    assert result.exit_code == 2
    assert "alembic missing" in result.output and "wattprint[server]" in result.output


def test_bootstrap_with_an_owner_makes_them_a_member_of_the_team(url, monkeypatch):
    from sqlalchemy import create_engine, text

    monkeypatch.setenv("WATTPRINT_SERVER_DATABASE_URL", url)
    _ok("server", "user", "add", "ada@example.org", "--password-stdin", stdin="long enough pw\n")
    made = json.loads(
        _ok(
            "server",
            "bootstrap",
            "--org",
            "NLP lab",
            "--team",
            "core",
            "--project",
            "bert",
            "--owner",
            "ada@example.org",
            "--json",
        )
    )
    # Again, into a new team of the same organization: a member of that one too, once each.
    other = json.loads(
        _ok(
            "server",
            "bootstrap",
            "--org",
            "NLP lab",
            "--team",
            "vision",
            "--project",
            "vit",
            "--owner",
            "ada@example.org",
            "--json",
        )
    )
    _ok(
        "server",
        "bootstrap",
        "--org",
        "NLP lab",
        "--team",
        "core",
        "--project",
        "bert",
        "--owner",
        "ada@example.org",
        "--json",
    )
    with create_engine(url).connect() as c:
        members = c.execute(
            text(
                "SELECT t.team_id, u.email FROM team_members t "
                "JOIN users u ON u.id = t.user_id ORDER BY t.team_id"
            )
        ).all()
        role = c.execute(text("SELECT role FROM memberships")).scalar_one()
    assert [tuple(m) for m in members] == [
        (made["team_id"], "ada@example.org"),
        (other["team_id"], "ada@example.org"),
    ]
    assert role == "owner"


def test_bootstrap_without_an_owner_adds_no_team_member(url, monkeypatch):
    from sqlalchemy import create_engine, text

    monkeypatch.setenv("WATTPRINT_SERVER_DATABASE_URL", url)
    _ok("server", "bootstrap", "--org", "NLP lab", "--team", "core", "--project", "bert")
    with create_engine(url).connect() as c:
        assert c.execute(text("SELECT count(*) FROM team_members")).scalar_one() == 0
