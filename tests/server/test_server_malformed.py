"""Malformed input on every write endpoint is a 4xx that says what is wrong, never a 5xx."""

from __future__ import annotations

import re

from tests.fakes.serverkit import app, client, database_url, envelope, world  # noqa: F401 - the fixtures

BAD_BODIES = [
    b"not json at all",
    b"{",
    b"[]",
    b"null",
    b'"text"',
    b"12",
    b'{"unknown_field": 1}',
    b'{"name": 5, "organization_id": "x", "project_id": [], "role": "king", "scopes": ["all"]}',
    b'{"name": "", "organization_id": 99999999, "project_id": 99999999, "user_id": 99999999}',
    b'{"name": "' + b"x" * 300 + b'", "email": "nobody@example.org", "role": "viewer"}',
    b'{"name": "ok", "organization_id": 99999999, "project_id": "99999999", "user_id": 99999999,'
    b' "experiment_id": "99999999", "run_id": "99999999", "timestamp": "2026-01-01T00:00:00",'
    b' "duration": 5, "email": "a@b.c", "role": "viewer", "team_id": 99999999}',
    b'{"name": "big", "organization_id": 99999999999999999999, "project_id": 99999999999999999999,'
    b' "user_id": 99999999999999999999, "team_id": 99999999999999999999, "email": "a@b.c",'
    b' "experiment_id": "99999999999999999999", "run_id": "99999999999999999999"}',
    b'{"name": "nul\\u0000", "description": "\\u0000", "email": "a\\u0000@b.c", "role": "viewer",'
    b' "organization_id": 1, "project_id": 1}',
    b'[{"type": "wattprint.record", "version": 1, "key": "a\\u0000:1", "record": {}},'
    b' {"type": "wattprint.record", "version": 1, "key": "a:1", "record": {"run_id": "a",'
    b' "timestamp": "2026-01-01T00:00:00Z", "notes": "\\u0000"}}]',
    b'{"organization_id": 1e400, "project_id": -1, "expires_days": -5}',
    b'[{"type": "wattprint.record", "version": 1, "key": 5, "record": []}]',
    b'{"type": "wattprint.record", "version": 2, "key": "a:1", "record": {}}',
    b'[{"type": "wattprint.interval", "version": 1, "key": "a:i1", "interval": {"seq": "x"}}]',
    b'{"experiment_id": "abc", "run_id": "xyz", "timestamp": "yesterday", "duration": "long"}',
]


def _write_routes(app):
    """Every write path: the API's (from its OpenAPI document) and CodeCarbon's (at the root
    and under /api, left out of the document)."""
    from wattprint.server.codecarbon.routes import router

    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if method in ("post", "patch", "put"):
                yield method.upper(), path
    for route in router.routes:
        for method in route.methods & {"POST", "PATCH", "PUT"}:
            yield method, route.path
            yield method, "/api" + route.path


def test_every_write_endpoint_answers_bad_bodies_with_4xx(world, app):
    world.send([envelope("r", 1)])
    run = world.client.get("/api/v1/runs", headers=world.h("admin")).json()["items"][0]["id"]
    ids = {"organization_id": world.ids["org_a"], "team_id": world.ids["team"],
           "project_id": world.ids["project"], "experiment_id": 1, "run_id": run,
           "user_id": world.ids["user_member"], "token_id": world.ids["token_read"]}  # fmt: skip
    routes = sorted(set(_write_routes(app)))
    assert ("POST", "/api/v1/records") in routes and ("POST", "/emissions") in routes
    wrong = []
    for method, template in routes:
        path = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), template)
        for who in ("admin", "token_both"):
            for body in BAD_BODIES:
                got = world.client.request(
                    method,
                    path,
                    content=body,
                    headers={**world.h(who), "Content-Type": "application/json"},
                )
                if got.status_code == 200 and template == "/api/v1/records":
                    # a batch is answered per item: every item of a bad batch is rejected
                    if got.json()["created"]:
                        wrong.append(f"{who} {method} {path} {body[:40]!r}: created")
                    continue
                if not 400 <= got.status_code < 500 or not got.json().get("detail"):
                    wrong.append(f"{who} {method} {path} {body[:40]!r}: {got.status_code}")
    assert not wrong, "\n".join(wrong)


def test_bad_query_parameters_are_4xx(world):
    c, h, p = world.client, world.h("admin"), world.ids["project"]
    for url in (
        f"/api/v1/projects/{p}/summary?by=planet",
        f"/api/v1/projects/{p}/summary?by=experiment_pk",  # the pages' grouping, not the API's
        f"/api/v1/projects/{p}/export?format=xls",
        "/api/v1/runs?cursor=%%%",
        "/api/v1/runs?since=tuesday",
        "/api/v1/runs?limit=0",
        "/api/v1/runs/compare?ids=a,b",
        "/api/v1/projects/notanumber",
        "/api/v1/projects/99999999999999999999",
        "/api/v1/runs?project_id=99999999999999999999",
        "/api/v1/runs/compare?ids=99999999999999999999",
        "/projects/99999999999999999999",
        "/api/v1/runs?cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5",
    ):
        got = c.get(url, headers=h)
        assert 400 <= got.status_code < 500, (url, got.status_code)
        assert got.json()["detail"]


def test_a_bad_token_is_401_not_500(world):
    for token in ("wpt_", "wpt_short_x", "wpp_12345678_nope", "x" * 5000, "Basic abc"):
        got = world.client.get("/api/v1/organizations", headers={"Authorization": token})
        assert got.status_code == 401
        got = world.client.get(
            "/api/v1/organizations", headers={"Authorization": f"Bearer {token}"}
        )
        assert got.status_code == 401
