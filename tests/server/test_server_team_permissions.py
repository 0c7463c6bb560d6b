"""What membership of a team grants (permissions.TEAM_GRANTS): write access to the team's
projects whatever the member's organization role, and nothing else. Each grant and each refusal
is tried against the endpoints, as the organization's roles are in test_server_permissions.py."""

from __future__ import annotations

import pytest

from tests.fakes.serverkit import app, client, database_url, envelope, world  # noqa: F401 - the fixtures
from wattprint.server.permissions import ForbiddenError, NotFoundError, Principal, check

# The write endpoints of a project ({p}), its run ({r}) and experiment ({e}).
WRITES = [
    ("POST", "/api/v1/experiments", {"project_id": "{p}", "name": "e-{n}"}),
    ("PATCH", "/api/v1/projects/{p}", {"description": "d-{n}"}),
    ("PATCH", "/api/v1/runs/{r}", {"name": "r-{n}"}),
    ("PATCH", "/api/v1/experiments/{e}", {"description": "d-{n}"}),
]
# What stays with the organization's admins and owners, team or not.
MANAGES = [
    ("GET", "/api/v1/projects/{p}/tokens", None),
    ("POST", "/api/v1/projects/{p}/tokens", {"name": "t-{n}"}),
    ("PATCH", "/api/v1/teams/{t}", {"description": "d-{n}"}),
    ("POST", "/api/v1/teams/{t}/members", {"user_id": "{member}"}),
    ("DELETE", "/api/v1/teams/{t}/members/{manager}", None),
    ("POST", "/api/v1/teams", {"organization_id": "{a}", "name": "t-{n}"}),
    ("DELETE", "/api/v1/projects/{p}", None),
    ("DELETE", "/api/v1/teams/{t}", None),
]


class Calls:
    """Calls with ids filled in; ``project`` picks bert ("project") or gpt ("project2")."""

    def __init__(self, world) -> None:
        self.world = world
        self.n = 0
        self.runs = {}
        for project, token in (("project", "token_ingest"), ("project2", "token_gpt")):
            assert world.send([envelope(f"run-{project}", 1)], who=token).status_code == 200
            got = world.client.get(
                "/api/v1/runs", params={"project_id": world.ids[project]}, headers=world.h("owner")
            ).json()["items"]
            self.runs[project] = got[0]

    def fill(self, value, project):
        w, run = self.world, self.runs[project]
        ids = {"p": w.ids[project], "r": run["id"], "e": run["experiment_id"], "a": w.ids["org_a"],
               "t": w.ids["team"], "member": w.ids["user_member"],
               "manager": w.ids["user_manager"]}  # fmt: skip
        if isinstance(value, dict):
            return {k: self.fill(v, project) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        for name, id_ in ids.items():
            if value == "{" + name + "}":
                return id_
            value = value.replace("{" + name + "}", str(id_))
        return value.replace("{n}", str(self.n))

    def __call__(self, who, method, path, body=None, project="project") -> int:
        self.n += 1
        return self.world.client.request(
            method,
            self.fill(path, project),
            json=self.fill(body, project),
            headers=self.world.h(who),
        ).status_code

    def join(self, who, team="team") -> None:
        got = self.world.client.post(
            f"/api/v1/teams/{self.world.ids[team]}/members",
            json={"user_id": self.world.ids[f"user_{who}"]},
            headers=self.world.h("manager"),
        )
        assert got.status_code == 201, got.text

    def leave(self, who) -> None:
        got = self.world.client.delete(
            f"/api/v1/teams/{self.world.ids['team']}/members/{self.world.ids[f'user_{who}']}",
            headers=self.world.h("manager"),
        )
        assert got.status_code == 204, got.text


@pytest.fixture
def calls(world):
    return Calls(world)


def _statuses(calls, who, endpoints, project="project"):
    return {f"{m} {p}": calls(who, m, p, b, project) for m, p, b in endpoints}


def test_a_viewer_in_a_team_writes_its_projects_and_only_those(calls):
    before = _statuses(calls, "viewer", WRITES)
    assert set(before.values()) == {403}, before  # the viewer's role alone does not write
    calls.join("viewer")
    after = _statuses(calls, "viewer", WRITES)
    assert all(200 <= s < 300 for s in after.values()), after
    outside = _statuses(calls, "viewer", WRITES, project="project2")  # gpt is in no team
    assert set(outside.values()) == {403}, outside
    # Nor at the organization's level: a new project is the organization's, not the team's.
    made = calls("viewer", "POST", "/api/v1/projects", {"organization_id": "{a}", "name": "p"})
    assert made == 403
    # Deleting its runs and experiments is writing too.
    assert calls("viewer", "DELETE", "/api/v1/runs/{r}") == 204
    assert calls("viewer", "DELETE", "/api/v1/experiments/{e}") == 204


def test_a_team_grants_no_management_to_its_members(calls):
    for who in ("viewer", "member"):
        calls.join(who)
    calls.join("manager")  # someone to try removing
    for who in ("viewer", "member"):
        refused = _statuses(calls, who, MANAGES)
        assert set(refused.values()) == {403}, (who, refused)
        stays = calls(who, "PATCH", "/api/v1/projects/{p}", {"team_id": "{t}"})
        assert stays == 200  # bert is in that team already: nothing moves
        into = calls(who, "PATCH", "/api/v1/projects/{p}", {"team_id": "{t}"}, "project2")
        assert into == 403, who  # moving a project into a team is the managers' call


def test_moving_a_project_into_a_team_gives_the_team_its_writes(calls):
    calls.join("viewer")
    assert calls("viewer", "PATCH", "/api/v1/projects/{p}", {"description": "x"}, "project2") == 403
    # A member of the organization writes gpt, but may not move it into a team.
    assert calls("member", "PATCH", "/api/v1/projects/{p}", {"team_id": "{t}"}, "project2") == 403
    assert calls("manager", "PATCH", "/api/v1/projects/{p}", {"team_id": "{t}"}, "project2") == 200
    after = _statuses(calls, "viewer", WRITES, project="project2")
    assert all(200 <= s < 300 for s in after.values()), after


def test_leaving_the_team_or_the_organization_takes_the_grant_away(calls):
    w = calls.world
    calls.join("viewer")
    assert calls("viewer", "PATCH", "/api/v1/projects/{p}", {"description": "in"}) == 200
    calls.leave("viewer")
    assert calls("viewer", "PATCH", "/api/v1/projects/{p}", {"description": "out"}) == 403
    calls.join("viewer")
    gone = w.client.delete(
        f"/api/v1/organizations/{w.ids['org_a']}/members/{w.ids['user_viewer']}",
        headers=w.h("manager"),
    )
    assert gone.status_code == 204
    # No longer in the organization: its projects are not there for them, team or not.
    assert calls("viewer", "PATCH", "/api/v1/projects/{p}", {"description": "gone"}) == 404
    members = w.client.get(f"/api/v1/teams/{w.ids['team']}/members", headers=w.h("owner"))
    assert w.ids["user_viewer"] not in [m["id"] for m in members.json()]


def test_only_the_organizations_members_join_its_teams(calls):
    w = calls.world
    got = w.client.post(
        f"/api/v1/teams/{w.ids['team']}/members",
        json={"user_id": w.ids["user_outsider"]},
        headers=w.h("manager"),
    )
    assert got.status_code == 409
    assert calls("outsider", "PATCH", "/api/v1/projects/{p}", {"description": "x"}) == 404


def test_the_rule_itself_never_reaches_past_the_role_it_adds_to():
    """The check alone: a team's projects, for write, only where the user has a role."""
    viewer = Principal(user_id=1, roles={10: "viewer"}, team_projects=frozenset({7}))
    check(viewer, "write", 10, 7)
    check(viewer, "read", 10, 7)
    for action, org, project, error in (
        ("write", 10, 8, ForbiddenError),  # a project of no team of theirs
        ("write", 10, None, ForbiddenError),  # the organization itself
        ("manage", 10, 7, ForbiddenError),  # never more than write
        ("own", 10, 7, ForbiddenError),
        ("ingest", 10, 7, ForbiddenError),  # ingest is project tokens' only
        ("write", 11, 7, NotFoundError),  # not their organization: nothing there for them
    ):
        with pytest.raises(error):
            check(viewer, action, org, project)
