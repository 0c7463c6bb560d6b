"""The team server's fixtures: one app per database, SQLite always and PostgreSQL where
``WATTPRINT_TEST_POSTGRES_URL`` names one (``.ci/run`` starts one)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed")

from serverkit import World, fresh_postgres  # noqa: E402

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
