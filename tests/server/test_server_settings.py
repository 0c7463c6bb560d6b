"""The server's settings come the one way every wattprint setting does: defaults < user file <
project file < WATTPRINT_SERVER_* < the command's options; ``wattprint config`` shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wattprint.cli import app as cli
from wattprint.server.settings import ServerSettings, as_environment, load_settings

PASSWORD = "hunter2-secret"


@pytest.fixture
def files(tmp_path):
    """A user file and a project file, each setting some of the server's settings."""
    user = tmp_path / "user.ini"
    user.write_text("[wattprint]\nserver_port = 9001\nserver_workers = 3\nserver_host = 0.0.0.0\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / ".wattprint.ini").write_text(
        "[wattprint]\nserver_port = 9002\nserver_cors_origins = http://a.example, "
        f"https://b.example:8443\nserver_database_url = postgresql+psycopg://u:{PASSWORD}@db/x\n"
    )
    return {"WATTPRINT_USER_CONFIG": str(user)}, work


def test_files_then_environment_then_options(files):
    env, work = files
    s = load_settings(env, cwd=work)
    assert (s.host, s.workers) == ("0.0.0.0", 3)  # user file
    assert s.port == 9002  # the project file wins over the user file
    assert s.cors_origins == ("http://a.example", "https://b.example:8443")
    assert s.database_url == f"postgresql+psycopg://u:{PASSWORD}@db/x"
    s = load_settings(dict(env, WATTPRINT_SERVER_PORT="9003"), cwd=work)
    assert s.port == 9003  # the environment wins over the files
    s = load_settings(dict(env, WATTPRINT_SERVER_PORT="9003"), cwd=work, port=9004, workers=None)
    assert (s.port, s.workers) == (9004, 3)  # an option wins; None is "not given"
    assert load_settings({}, cwd=work.parent) == ServerSettings()


@pytest.mark.parametrize(
    ("where", "line", "expected"),
    [
        ("file", "server_port = 70000", "server_port='70000'"),
        ("file", "server_workers = 0", "server_workers='0'"),
        ("file", "server_cors_origins = a.example", "each origin must be"),
        ("file", "server_session_hours = -1", "server_session_hours"),
        ("env", "WATTPRINT_SERVER_PORT=eighty", "WATTPRINT_SERVER_PORT='eighty' (environment)"),
        ("env", f"WATTPRINT_SERVER_DATABASE_URL=mysql://u:{PASSWORD}@h/db", "sqlite:///PATH"),
    ],
)
def test_a_bad_value_is_refused_saying_which_where_and_what(tmp_path, where, line, expected):
    env: dict[str, str] = {"WATTPRINT_USER_CONFIG": str(tmp_path / "none.ini")}
    if where == "file":
        (tmp_path / ".wattprint.ini").write_text(f"[wattprint]\n{line}\n")
    else:
        name, _, value = line.partition("=")
        env[name] = value
    with pytest.raises(ValueError) as caught:
        load_settings(env, cwd=tmp_path)
    message = str(caught.value)
    assert expected.split("=")[0] in message and expected in message, message
    assert PASSWORD not in message  # a database URL's password is never shown
    if where == "file":
        assert f"project config {tmp_path / '.wattprint.ini'}" in message


def test_an_option_out_of_range_is_refused_naming_the_option(tmp_path):
    with pytest.raises(ValueError, match=r"server_port=0 \(--port\)"):
        load_settings({}, cwd=tmp_path, port=0)


def test_workers_get_what_the_command_resolved(files):
    env, work = files
    s = load_settings(env, cwd=work, port=9100)
    handed = as_environment(s)
    # A worker reads its settings again, in the same folder, with these variables set.
    assert load_settings(dict(env, **handed), cwd=work) == s
    assert handed["WATTPRINT_SERVER_CORS_ORIGINS"] == "http://a.example,https://b.example:8443"


def test_wattprint_config_shows_them_with_their_origin_and_no_password(files):
    env, work = files
    clean = {**{k: v for k, v in os.environ.items() if not k.startswith("WATTPRINT_")}, **env}
    done = subprocess.run(
        [sys.executable, "-m", "wattprint", "config", "--json"],
        env=dict(clean, WATTPRINT_SERVER_WORKERS="2"),
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout
    shown = json.loads(done.stdout)["settings"]
    project = f"project config {work / '.wattprint.ini'}"
    assert (shown["server_port"]["value"], shown["server_port"]["origin"]) == (9002, project)
    assert shown["server_port"]["overridden"] == [f"user config {env['WATTPRINT_USER_CONFIG']}"]
    assert shown["server_workers"]["origin"] == "environment WATTPRINT_SERVER_WORKERS"
    assert shown["server_database_url"]["value"] == "postgresql+psycopg://u:***@db/x"
    assert shown["server_host"]["value"] == "0.0.0.0"
    table = subprocess.run(
        [sys.executable, "-m", "wattprint", "config"],
        env=clean,
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert PASSWORD not in table.stdout and "u:***@db/x" in table.stdout


def test_the_server_command_refuses_a_bad_setting_before_starting(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path(".wattprint.ini").write_text("[wattprint]\nserver_workers = many\n")
    result = CliRunner().invoke(cli, ["server", "--port", "8123"])
    assert result.exit_code == 2
    assert "server_workers='many'" in result.output and ".wattprint.ini" in result.output


def test_each_server_setting_is_one_of_wattprints_with_the_same_default():
    from dataclasses import fields

    from wattprint.config import SERVER_SETTINGS, Settings
    from wattprint.server.settings import setting_name

    assert sorted(setting_name(f.name) for f in fields(ServerSettings)) == sorted(SERVER_SETTINGS)
    for f in fields(ServerSettings):
        ours = getattr(ServerSettings(), f.name)
        assert getattr(Settings(), setting_name(f.name)) == (ours if ours != "" else None)
