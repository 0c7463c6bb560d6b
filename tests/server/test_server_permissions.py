"""Each role and token scope against each endpoint: refused where the policy says so, with 404
for what a principal may not even see (another organization, another project) and 403 for what
it sees but may not do."""

from __future__ import annotations

import pytest

from tests.fakes.serverkit import app, client, database_url, envelope, world  # noqa: F401 - the fixtures

PEOPLE = ("admin", "owner", "manager", "member", "viewer", "outsider")
TOKENS = ("token_ingest", "token_read", "token_both", "token_gpt", "token_b")
EVERYONE = PEOPLE + TOKENS + ("anonymous",)

# The policy, written out independently of permissions.ALLOWED: who may, per action.
MAY = {
    "read": {"admin", "owner", "manager", "member", "viewer"},
    "write": {"admin", "owner", "manager", "member"},
    "manage": {"admin", "owner", "manager"},
    "own": {"admin", "owner"},
}
SCOPED = {"read": {"token_read", "token_both"}}  # tokens that may, on their own project


def expected(who: str, action: str, level: str) -> int | str:
    """ "ok", or the refusal's status, for ``who`` doing ``action`` on org A or project bert."""
    if who == "anonymous":
        return 401
    if who in ("outsider", "token_b", "token_gpt"):
        return 404  # another organization, or another project
    if who.startswith("token_"):
        if level == "org":
            return 404  # a project token sees its project only
        return "ok" if who in SCOPED.get(action, set()) else 403
    return "ok" if who in MAY[action] else 403


# (method, path, body, action, level); {p} project bert, {a} org A, {t} team, {r} a run of bert.
ENDPOINTS = [
    ("GET", "/api/v1/projects/{p}", None, "read", "project"),
    ("GET", "/api/v1/projects/{p}/summary", None, "read", "project"),
    ("GET", "/api/v1/projects/{p}/export?format=json", None, "read", "project"),
    ("GET", "/api/v1/experiments?project_id={p}", None, "read", "project"),
    ("GET", "/api/v1/runs?project_id={p}", None, "read", "project"),
    ("GET", "/api/v1/runs/{r}", None, "read", "project"),
    ("GET", "/api/v1/runs/{r}/emissions", None, "read", "project"),
    ("GET", "/api/v1/runs/{r}/intervals", None, "read", "project"),
    ("GET", "/api/v1/runs/{r}/summary", None, "read", "project"),
    ("GET", "/api/v1/runs/compare?ids={r}", None, "read", "project"),
    ("GET", "/api/v1/experiments/{e}", None, "read", "project"),
    ("GET", "/api/v1/experiments/{e}/summary", None, "read", "project"),
    ("GET", "/api/v1/experiments/{e}/export", None, "read", "project"),
    ("GET", "/api/v1/runs/{r}/export", None, "read", "project"),
    ("PATCH", "/api/v1/experiments/{e}", {"description": "by {who}"}, "write", "project"),
    ("GET", "/api/v1/organizations/{a}", None, "read", "org"),
    ("GET", "/api/v1/organizations/{a}/summary", None, "read", "org"),
    ("GET", "/api/v1/organizations/{a}/export", None, "read", "org"),
    ("GET", "/api/v1/organizations/{a}/members", None, "read", "org"),
    ("GET", "/api/v1/teams?organization_id={a}", None, "read", "org"),
    ("GET", "/api/v1/teams/{t}", None, "read", "org"),
    ("GET", "/api/v1/teams/{t}/summary", None, "read", "org"),
    ("GET", "/api/v1/teams/{t}/members", None, "read", "org"),
    ("POST", "/api/v1/experiments", {"project_id": "{p}", "name": "e-{who}"}, "write", "project"),
    ("PATCH", "/api/v1/projects/{p}", {"description": "by {who}"}, "write", "project"),
    ("PATCH", "/api/v1/runs/{r}", {"name": "by {who}"}, "write", "project"),
    ("POST", "/api/v1/projects", {"organization_id": "{a}", "name": "p-{who}"}, "write", "org"),
    ("GET", "/api/v1/projects/{p}/tokens", None, "manage", "project"),
    ("POST", "/api/v1/projects/{p}/tokens", {"name": "{who}"}, "manage", "project"),
    ("POST", "/api/v1/teams", {"organization_id": "{a}", "name": "t-{who}"}, "manage", "org"),
    ("PATCH", "/api/v1/teams/{t}", {"description": "by {who}"}, "manage", "org"),
    ("PATCH", "/api/v1/organizations/{a}", {"description": "by {who}"}, "manage", "org"),
    (
        "POST",
        "/api/v1/organizations/{a}/members",
        {"email": "viewer@example.org", "role": "viewer"},
        "manage",
        "org",
    ),
    ("POST", "/api/v1/teams/{t}/members", {"user_id": "{viewer}"}, "manage", "org"),
]
# Destructive ones: every refused principal is tried, then one allowed principal does it.
DESTRUCTIVE = [
    ("DELETE", "/api/v1/tokens/{token_read}", "manage", "project", "manager"),
    ("DELETE", "/api/v1/runs/{r}", "write", "project", "member"),
    ("DELETE", "/api/v1/experiments/{e}", "write", "project", "member"),
    ("DELETE", "/api/v1/projects/{p}", "manage", "project", "manager"),
    ("DELETE", "/api/v1/teams/{t}", "manage", "org", "manager"),
    ("DELETE", "/api/v1/organizations/{a}", "own", "org", "owner"),
]


def _fill(value, world, who):
    ids = {"p": world.ids["project"], "a": world.ids["org_a"], "t": world.ids["team"],
           "r": world.ids.get("run"), "e": world.ids.get("experiment"),
           "token_read": world.ids["token_read"],
           "viewer": world.ids["user_viewer"]}  # fmt: skip
    if isinstance(value, dict):
        return {k: _fill(v, world, who) for k, v in value.items()}
    if not isinstance(value, str):
        return value
    for name, id_ in ids.items():
        if value == "{" + name + "}":
            return id_
        value = value.replace("{" + name + "}", str(id_))
    return value.replace("{who}", who)


def _call(world, who, method, path, body=None):
    headers = {} if who == "anonymous" else world.h(who)
    return world.client.request(
        method, _fill(path, world, who), json=_fill(body, world, who), headers=headers
    )


@pytest.fixture
def populated(world):
    world.send([envelope("run-1", 1)], who="token_ingest")
    got = world.client.get(
        "/api/v1/runs", params={"project_id": world.ids["project"]}, headers=world.h("owner")
    ).json()["items"]
    world.ids["run"] = got[0]["id"]
    world.ids["experiment"] = got[0]["experiment_id"]
    return world


def test_each_principal_against_each_endpoint(populated):
    world = populated
    wrong = []
    for method, path, body, action, level in ENDPOINTS:
        for who in EVERYONE:
            want = expected(who, action, level)
            got = _call(world, who, method, path, body).status_code
            ok = 200 <= got < 300 if want == "ok" else got == want
            if not ok:
                wrong.append(f"{who} {method} {path}: {got}, expected {want}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("method, path, action, level, doer", DESTRUCTIVE)
def test_destructive_endpoints_refuse_then_allow(populated, method, path, action, level, doer):
    world = populated
    wrong = []
    for who in EVERYONE:
        want = expected(who, action, level)
        if want == "ok":
            continue
        got = _call(world, who, method, path).status_code
        if got != want:
            wrong.append(f"{who} {method} {path}: {got}, expected {want}")
    got = _call(world, doer, method, path).status_code
    if got != 204:
        wrong.append(f"{doer} {method} {path}: {got}, expected 204")
    gone = 204 if "tokens" in path else 404  # a revoked token's row stays, for the record
    if _call(world, doer, method, path).status_code != gone:
        wrong.append(f"{doer} {method} {path} again: expected {gone}")
    assert not wrong, "\n".join(wrong)


def test_ingest_takes_a_project_token_with_the_ingest_scope(world):
    for who, want in (
        ("token_ingest", 200),
        ("token_both", 200),
        ("token_read", 403),
        ("owner", 403),
        ("admin", 403),
    ):
        assert world.send([envelope(f"r-{who}", 1)], who=who).status_code == want, who
    assert world.client.post("/api/v1/records", json=[]).status_code == 401


def test_a_revoked_token_is_refused(world):
    assert world.send([envelope("a", 1)]).status_code == 200
    gone = world.client.delete(
        f"/api/v1/tokens/{world.ids['token_ingest']}", headers=world.h("owner")
    )
    assert gone.status_code == 204
    assert world.send([envelope("a", 2)]).status_code == 401
    tokens = world.client.get(
        f"/api/v1/projects/{world.ids['project']}/tokens", headers=world.h("owner")
    ).json()
    row = next(t for t in tokens if t["id"] == world.ids["token_ingest"])
    assert row["revoked_at"] is not None and row["last_used"] is not None
    assert all("hash" not in t and "token" not in t for t in tokens)


def test_lists_show_only_what_the_principal_may_read(populated):
    world = populated

    def names(who):
        found = world.client.get("/api/v1/organizations", headers=world.h(who)).json()
        return {o["name"] for o in found["items"]}

    assert names("viewer") == {"A"} and names("outsider") == {"B"} and names("admin") == {"A", "B"}
    runs = lambda who: world.client.get("/api/v1/runs", headers=world.h(who)).json()["items"]  # noqa: E731
    assert len(runs("viewer")) == 1 and runs("outsider") == [] and runs("token_ingest") == []
    assert len(runs("token_read")) == 1 and runs("token_gpt") == []
    projects = world.client.get("/api/v1/projects", headers=world.h("token_read")).json()
    assert [p["name"] for p in projects["items"]] == ["bert"]


def test_the_last_owner_cannot_be_removed(world):
    c, a = world.client, world.ids["org_a"]
    got = c.delete(
        f"/api/v1/organizations/{a}/members/{world.ids['user_owner']}", headers=world.h("owner")
    )
    assert got.status_code == 409 and "owner" in got.json()["detail"]
    demote = c.patch(
        f"/api/v1/organizations/{a}/members/{world.ids['user_owner']}",
        json={"role": "viewer"},
        headers=world.h("owner"),
    )
    assert demote.status_code == 409


def test_an_admin_cannot_make_an_owner(world):
    a = world.ids["org_a"]
    got = world.client.patch(
        f"/api/v1/organizations/{a}/members/{world.ids['user_member']}",
        json={"role": "owner"},
        headers=world.h("manager"),
    )
    assert got.status_code == 403


def test_personal_tokens_are_shown_once_listed_without_secret_and_revocable(world):
    c = world.client
    made = c.post(
        "/api/v1/users/me/tokens",
        json={"name": "ci", "expires_days": 30},
        headers=world.h("viewer"),
    )
    assert made.status_code == 201
    token, details = made.json()["token"], made.json()["details"]
    assert token.startswith("wpp_") and details["expires_at"]
    mine = c.get("/api/v1/users/me/tokens", headers={"Authorization": f"Bearer {token}"}).json()
    assert [t["name"] for t in mine] == ["test", "ci"] and all("token" not in t for t in mine)
    other = c.delete(f"/api/v1/users/me/tokens/{details['id']}", headers=world.h("member"))
    assert other.status_code == 404  # someone else's token
    assert c.get("/api/v1/users/me/tokens", headers=world.h("token_read")).status_code == 403
    gone = c.delete(f"/api/v1/users/me/tokens/{details['id']}", headers=world.h("viewer"))
    assert gone.status_code == 204
    assert (
        c.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
