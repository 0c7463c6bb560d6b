"""Deleting is explicit and cascades down the hierarchy; nothing else goes with it."""

from __future__ import annotations

from tests.fakes.serverkit import app, client, database_url, envelope, interval, world  # noqa: F401 - the fixtures


def _count(app, table):
    from sqlalchemy import text

    with app.state.engine.connect() as c:
        return c.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_deleting_a_project_deletes_its_runs_rows_and_tokens_only(world, app):
    world.send([envelope("a", 1), envelope("a", 2), interval("a", 1)])
    world.send([envelope("g", 1)], who="token_gpt")
    assert (_count(app, "runs"), _count(app, "emissions"), _count(app, "intervals")) == (2, 3, 1)
    got = world.client.delete(f"/api/v1/projects/{world.ids['project']}", headers=world.h("owner"))
    assert got.status_code == 204
    assert (_count(app, "runs"), _count(app, "emissions"), _count(app, "intervals")) == (1, 1, 0)
    assert world.send([envelope("a", 3)]).status_code == 401  # its tokens went with it
    assert world.send([envelope("g", 2)], who="token_gpt").json()["created"] == 1


def test_removing_a_member_deletes_none_of_the_data(world, app):
    world.send([envelope("a", 1)])
    a, member = world.ids["org_a"], world.ids["user_member"]
    got = world.client.delete(
        f"/api/v1/organizations/{a}/members/{member}", headers=world.h("owner")
    )
    assert got.status_code == 204
    assert _count(app, "runs") == 1 and _count(app, "users") == 6
    assert (
        world.client.get(f"/api/v1/organizations/{a}", headers=world.h("member")).status_code == 404
    )


def test_lists_are_paginated_by_cursor(world):
    world.send([envelope(f"run-{i}", 1) for i in range(7)])
    seen, cursor = [], None
    while True:
        params = {"project_id": world.ids["project"], "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = world.client.get("/api/v1/runs", params=params, headers=world.h("viewer")).json()
        seen += [r["client_run_id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"run-{i}" for i in reversed(range(7))]  # newest first, each once


def test_a_write_is_committed_before_its_answer_is_sent(world, app):
    """A client that reads right after a write's answer (a browser following the sign-in's
    redirect, a script creating then listing) must see it: the request's transaction ends
    before the answer's first byte, not after the response as FastAPI's default would have it."""
    import json

    import anyio
    from sqlalchemy import text

    body = json.dumps({"name": "Committed first", "description": ""}).encode()
    seen: dict[str, object] = {}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/organizations",
        "raw_path": b"/api/v1/organizations",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {world.tokens['owner']}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            seen["status"] = message["status"]
            # Another connection sees only what is committed.
            with app.state.engine.connect() as c:
                seen["names"] = set(c.execute(text("SELECT name FROM organizations")).scalars())

    anyio.run(app, scope, receive, send)
    assert seen["status"] == 201
    assert "Committed first" in seen["names"]
