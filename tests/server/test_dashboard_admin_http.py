"""The administration pages over plain HTTP: teams (create, rename, delete after typing the name,
members, moving projects) and personal tokens (shown once, listed with last use, revoked), each
form with its refusals: no CSRF token, a viewer or member (403), another organization (404).
And the organization home's live stream of runs in progress."""

from __future__ import annotations

import re

import pytest

from tests.fakes.dashkit import seed, sign_in_as
from tests.fakes.serverkit import app, client, database_url, envelope, interval, world  # noqa: F401
from wattprint.server.pages import live, session


@pytest.fixture
def seeded(world):  # noqa: F811
    return seed(world)


def _teams(client, world):  # noqa: F811
    answer = client.get(f"/org/{world.ids['org_a']}/admin/teams?format=json")
    assert answer.status_code == 200, answer.text
    return answer.json()


def _team(client, world, name):  # noqa: F811
    return next((t for t in _teams(client, world)["teams"] if t["name"] == name), None)


def _post(client, path, csrf, **fields):  # noqa: F811
    return client.post(path, data=fields | {"csrf": csrf}, follow_redirects=False)


def _forms(world, team_id):  # noqa: F811
    """Every team form of organization A, with fields that would work."""
    a = world.ids["org_a"]
    return [
        (f"/org/{a}/admin/teams", {"name": "new-team"}),
        (f"/org/{a}/admin/teams/{team_id}/rename", {"name": "renamed"}),
        (f"/org/{a}/admin/teams/{team_id}/members", {"user_id": world.ids["user_member"]}),
        (f"/org/{a}/admin/teams/{team_id}/members/{world.ids['user_manager']}/remove", {}),
        (f"/org/{a}/admin/projects/{world.ids['project2']}/team", {"team_id": team_id}),
        (f"/org/{a}/admin/teams/{team_id}/delete", {"confirm": "core"}),
    ]


def test_a_manager_creates_and_renames_teams(client, world, seeded):  # noqa: F811
    csrf = sign_in_as(client, world, "manager")
    a = world.ids["org_a"]
    page = client.get(f"/org/{a}/admin/teams")
    assert page.status_code == 200 and 'id="create-team"' in page.text
    made = _post(client, f"/org/{a}/admin/teams", csrf, name="vision", description="eyes")
    assert made.status_code == 303 and made.headers["location"] == f"/org/{a}/admin/teams"
    vision = _team(client, world, "vision")
    assert vision["description"] == "eyes" and vision["members"] == []
    api = client.get(f"/api/v1/teams/{vision['id']}", headers=world.h("owner")).json()
    assert api["name"] == "vision"  # the API's team, not a copy
    renamed = _post(client, f"/org/{a}/admin/teams/{vision['id']}/rename", csrf, name="sight")
    assert renamed.status_code == 303 and _team(client, world, "sight")["id"] == vision["id"]
    taken = _post(client, f"/org/{a}/admin/teams/{vision['id']}/rename", csrf, name="core")
    assert taken.status_code == 409 and "already exists" in taken.text
    assert taken.headers["content-type"].startswith("text/html")  # a page, not the API's JSON
    blank = _post(client, f"/org/{a}/admin/teams", csrf, name="   ")
    assert blank.status_code == 400 and "name" in blank.text
    assert sorted(t["name"] for t in _teams(client, world)["teams"]) == ["core", "sight"]


def test_deleting_a_team_needs_its_name_typed(client, world, seeded):  # noqa: F811
    csrf = sign_in_as(client, world, "owner")
    a, team, bert = world.ids["org_a"], world.ids["team"], world.ids["project"]
    page = client.get(f"/org/{a}/admin/teams").text
    assert "deletes the team and its 1 project(s)" in page
    for typed in ("", "Core", "core!"):
        refused = _post(client, f"/org/{a}/admin/teams/{team}/delete", csrf, confirm=typed)
        assert refused.status_code == 400 and "nothing was deleted" in refused.text, typed
        assert _team(client, world, "core") is not None
    assert client.get(f"/api/v1/projects/{bert}", headers=world.h("owner")).status_code == 200
    done = _post(client, f"/org/{a}/admin/teams/{team}/delete", csrf, confirm="core")
    assert done.status_code == 303
    assert _team(client, world, "core") is None
    # Down the hierarchy: its project (and runs) went with it, the team-less one stayed.
    assert client.get(f"/api/v1/projects/{bert}", headers=world.h("owner")).status_code == 404
    gpt = world.ids["project2"]
    assert client.get(f"/api/v1/projects/{gpt}", headers=world.h("owner")).status_code == 200


def test_team_members_are_added_and_removed_and_it_grants_them_writes(client, world, seeded):  # noqa: F811
    csrf = sign_in_as(client, world, "manager")
    a, team, viewer = world.ids["org_a"], world.ids["team"], world.ids["user_viewer"]

    def patch() -> int:
        return client.patch(
            f"/api/v1/projects/{world.ids['project']}",
            json={"description": "by the viewer"},
            headers=world.h("viewer"),
        ).status_code

    assert patch() == 403
    added = _post(client, f"/org/{a}/admin/teams/{team}/members", csrf, user_id=viewer)
    assert added.status_code == 303
    assert [m["user_id"] for m in _team(client, world, "core")["members"]] == [viewer]
    assert patch() == 200  # the team rule, through the page's change
    stranger = _post(
        client, f"/org/{a}/admin/teams/{team}/members", csrf, user_id=world.ids["user_outsider"]
    )
    assert stranger.status_code == 409 and "not a member" in stranger.text
    removed = _post(client, f"/org/{a}/admin/teams/{team}/members/{viewer}/remove", csrf)
    assert removed.status_code == 303 and _team(client, world, "core")["members"] == []
    assert patch() == 403
    again = _post(client, f"/org/{a}/admin/teams/{team}/members/{viewer}/remove", csrf)
    assert again.status_code == 404  # not in it any more


def test_a_project_moves_into_a_team_and_out(client, world, seeded):  # noqa: F811
    csrf = sign_in_as(client, world, "manager")
    a, team, gpt = world.ids["org_a"], world.ids["team"], world.ids["project2"]

    def team_of():
        return next(p["team_id"] for p in _teams(client, world)["projects"] if p["id"] == gpt)

    assert team_of() is None
    moved = _post(client, f"/org/{a}/admin/projects/{gpt}/team", csrf, team_id=str(team))
    assert moved.status_code == 303 and team_of() == team
    assert [p["name"] for p in _team(client, world, "core")["projects"]] == ["bert", "gpt"]
    bad = _post(client, f"/org/{a}/admin/projects/{gpt}/team", csrf, team_id="core")
    assert bad.status_code == 400 and team_of() == team
    out = _post(client, f"/org/{a}/admin/projects/{gpt}/team", csrf, team_id="")
    assert out.status_code == 303 and team_of() is None


def test_another_organizations_teams_and_projects_are_not_there(client, world, seeded):  # noqa: F811
    b_team = client.post(
        "/api/v1/teams",
        json={"organization_id": world.ids["org_b"], "name": "theirs"},
        headers=world.h("outsider"),
    ).json()["id"]
    csrf = sign_in_as(client, world, "manager")
    a = world.ids["org_a"]
    for path, fields in (
        (f"/org/{a}/admin/teams/{b_team}/rename", {"name": "mine"}),
        (f"/org/{a}/admin/teams/{b_team}/delete", {"confirm": "theirs"}),
        (f"/org/{a}/admin/teams/{b_team}/members", {"user_id": world.ids["user_member"]}),
        (f"/org/{a}/admin/projects/{world.ids['project_b']}/team", {"team_id": ""}),
        (f"/org/{a}/admin/projects/{world.ids['project2']}/team", {"team_id": b_team}),
    ):
        assert _post(client, path, csrf, **fields).status_code == 404, path
    # And an outsider finds nothing of organization A's administration.
    csrf = sign_in_as(client, world, "outsider")
    assert client.get(f"/org/{a}/admin/teams").status_code == 404
    for path, fields in _forms(world, world.ids["team"]):
        assert _post(client, path, csrf, **fields).status_code == 404, path
    sign_in_as(client, world, "owner")
    assert _team(client, world, "core")["members"] == []
    assert [t["name"] for t in _teams(client, world)["teams"]] == ["core"]


@pytest.mark.parametrize("who", ["viewer", "member", "team-viewer"])
def test_only_managers_administer_teams(client, world, seeded, who):  # noqa: F811
    team = world.ids["team"]
    if who == "team-viewer":  # a team's member is not its manager
        who = "viewer"
        added = client.post(
            f"/api/v1/teams/{team}/members",
            json={"user_id": world.ids["user_viewer"]},
            headers=world.h("manager"),
        )
        assert added.status_code == 201
    sign_in_as(client, world, "owner")
    before = _teams(client, world)
    csrf = sign_in_as(client, world, who)
    home = client.get(f"/org/{world.ids['org_a']}")
    assert home.status_code == 200 and "/admin" not in home.text
    assert client.get(f"/org/{world.ids['org_a']}/admin/teams").status_code == 403
    for path, fields in _forms(world, team):
        assert _post(client, path, csrf, **fields).status_code == 403, path
    sign_in_as(client, world, "owner")
    assert _teams(client, world) == before


def test_team_forms_without_the_sessions_csrf_token_change_nothing(client, world, seeded):  # noqa: F811
    sign_in_as(client, world, "owner")
    before = _teams(client, world)
    for token in ("", "0" * 64, session.csrf_for(world.tokens["manager"])):
        for path, fields in _forms(world, world.ids["team"]):
            answer = client.post(path, data=fields | {"csrf": token}, follow_redirects=False)
            assert answer.status_code == 403, (path, token)
    assert _teams(client, world) == before


# -- personal tokens ------------------------------------------------------------------------------


def test_personal_tokens_are_shown_once_listed_with_last_use_and_revoked(client, world, seeded):  # noqa: F811
    csrf = sign_in_as(client, world, "viewer")
    page = client.get("/account/tokens")
    assert page.status_code == 200 and 'id="create-token"' in page.text
    made = _post(client, "/account/tokens", csrf, name="laptop", expires_days="30")
    assert made.status_code == 201 and made.headers["cache-control"] == "no-store"
    token = re.search(r'id="new-token">(wpp_[^<]+)<', made.text).group(1)
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 200 and me.json()["email"] == "viewer@example.org"
    listed = client.get("/account/tokens?format=json").json()["tokens"]
    assert token not in str(listed)  # shown once, never listed
    row = next(t for t in listed if t["name"] == "laptop")
    assert row["last_used"] is not None and row["expires_at"] is not None
    assert [t["name"] for t in listed] == ["test", "laptop"]  # no sign-in sessions
    revoked = _post(client, f"/account/tokens/{row['id']}/revoke", csrf)
    assert revoked.status_code == 303 and revoked.headers["location"] == "/account/tokens"
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    again = client.get("/account/tokens?format=json").json()["tokens"]
    assert next(t for t in again if t["id"] == row["id"])["revoked"] is True


def test_personal_token_forms_refuse_bad_input_others_tokens_and_no_csrf(client, world, seeded):  # noqa: F811
    mine = client.post(
        "/api/v1/users/me/tokens", json={"name": "ci"}, headers=world.h("member")
    ).json()
    csrf = sign_in_as(client, world, "viewer")
    for fields, says in (
        ({"name": ""}, "name"),
        ({"name": "sign-in"}, "name"),
        ({"name": "x", "expires_days": "0"}, "expires_days"),
        ({"name": "x", "expires_days": "soon"}, "expires_days"),
    ):
        answer = _post(client, "/account/tokens", csrf, **fields)
        assert answer.status_code == 400 and says in answer.text, fields
    for token in ("", "0" * 64, session.csrf_for(world.tokens["member"])):
        assert _post(client, "/account/tokens", token, name="sneaky").status_code == 403
        revoke = f"/account/tokens/{mine['details']['id']}/revoke"
        assert _post(client, revoke, token).status_code == 403
    assert [t["name"] for t in client.get("/account/tokens?format=json").json()["tokens"]] == [
        "test"
    ]
    # Another user's token is not there for the viewer, and stays alive.
    theirs = _post(client, f"/account/tokens/{mine['details']['id']}/revoke", csrf)
    assert theirs.status_code == 404
    alive = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {mine['token']}"})
    assert alive.status_code == 200
    client.cookies.clear()
    signed_out = client.get("/account/tokens", follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"] == "/signin"


# -- the organization home, live -----------------------------------------------------------------


def _events(text):
    return [
        (
            re.search(r"event: (\w+)", block).group(1),
            __import__("json").loads(re.search(r"data: (.*)", block).group(1)),
        )
        for block in text.split("\n\n")
        if "event:" in block
    ]


def test_the_organization_stream_sends_the_runs_in_progress_with_their_power(  # noqa: F811
    client, world, seeded, monkeypatch
):
    monkeypatch.setattr(live, "STREAM_S", 0.6)
    monkeypatch.setattr(live, "POLL_S", 0.2)
    sign_in_as(client, world, "viewer")
    a = world.ids["org_a"]
    world.send(
        [
            interval(
                "r-live",
                4,
                cpu_power=42.0,
                gpu_power=None,
                ram_power=3.0,
                duration=4.0,
                emissions=0.0031,
            )
        ]
    )
    home = client.get(f"/org/{a}?format=json").json()["in_progress"]
    with client.stream("GET", f"/org/{a}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = _events("".join(stream.iter_text()))
    assert [name for name, _ in events] == ["runs"]  # sent once: nothing changed after
    (run,) = events[0][1]["runs"]
    assert run == home[0]  # the page's list, the same
    assert run["id"] == seeded["r-live"] and run["power_w"]["cpu"] == 42.0
    assert run["power_w"]["gpu"] is None and run["power_total_w"] == 45.0  # unknown, not zero
    assert run["duration_s"] == 4.0 and run["emissions_kg"] == 0.0031  # the newest figures
    assert run["energy_kwh"] == 0.01  # the interval has none: the row's
    # The run ends: the stream's list is empty.
    world.send([envelope("r-live", 9, status="finished")])
    with client.stream("GET", f"/org/{a}/events") as stream:
        assert _events("".join(stream.iter_text())) == [("runs", {"runs": []})]
    page = client.get(f"/org/{a}").text
    assert 'id="live-runs"' in page and "/static/live.js" in page


def test_the_organization_stream_is_the_organizations_readers_only(client, world, seeded):  # noqa: F811
    a = world.ids["org_a"]
    assert client.get(f"/org/{a}/events", follow_redirects=False).status_code == 303
    sign_in_as(client, world, "outsider")
    assert client.get(f"/org/{a}/events").status_code == 404


def test_the_organization_stream_sends_again_when_a_run_sends_an_interval(  # noqa: F811
    app, client, world, seeded, monkeypatch
):
    import threading
    import time

    from wattprint.server import db, ingest

    monkeypatch.setattr(live, "STREAM_S", 4.0)
    monkeypatch.setattr(live, "POLL_S", 0.1)
    sign_in_as(client, world, "viewer")
    polled = threading.Event()
    real = live.in_progress

    def watched(*args):
        found = real(*args)
        polled.set()
        return found

    monkeypatch.setattr(live, "in_progress", watched)

    def later() -> None:  # once the stream has sent the list: straight into the database
        assert polled.wait(30)
        time.sleep(0.2)
        with db.transaction(app.state.sessions) as s:
            ingest.ingest(s, world.ids["project"], [interval("r-live", 5, cpu_power=77.0)])

    sender = threading.Thread(target=later)
    sender.start()
    with client.stream("GET", f"/org/{world.ids['org_a']}/events") as stream:
        events = _events("".join(stream.iter_text()))
    sender.join()
    powers = [e["runs"][0]["power_w"]["cpu"] for _, e in events]
    assert powers == [13.0, 77.0]  # the seeded newest interval, then the new one: once each


def _silent_for(app, run_id, minutes):  # noqa: F811
    """The run last sent something ``minutes`` ago (as if its process had died then)."""
    from datetime import timedelta

    from wattprint.server import db
    from wattprint.server.models import Run, utcnow

    with db.transaction(app.state.sessions) as s:
        run = s.get(Run, run_id)
        run.last_seen = utcnow() - timedelta(minutes=minutes)
        return run.last_seen


def test_a_run_not_heard_from_for_long_is_shown_as_such_not_as_live(  # noqa: F811
    app, client, world, seeded, monkeypatch
):
    monkeypatch.setattr(live, "STREAM_S", 0.3)
    monkeypatch.setattr(live, "POLL_S", 0.2)
    sign_in_as(client, world, "viewer")
    a = world.ids["org_a"]
    # r-slow samples every 400 s: 3 of its intervals (20 min) may pass before it is stale.
    sent = world.send(
        [
            envelope("r-quiet", 0, status="running"),
            envelope("r-slow", 0, status="running"),
            interval("r-slow", 1, interval_s=400.0),
        ]
    )
    assert sent.status_code == 200, sent.text
    ids = {r["run_id"]: r["id"] for r in client.get(f"/org/{a}?format=json").json()["in_progress"]}
    died = _silent_for(app, seeded["r-live"], 25)
    _silent_for(app, ids["r-quiet"], 3)
    _silent_for(app, ids["r-slow"], 15)
    runs = {r["run_id"]: r for r in client.get(f"/org/{a}?format=json").json()["in_progress"]}
    assert runs["r-live"]["stale"] is True and runs["r-live"]["status"] == "running"  # as stored
    since = died.strftime("%Y-%m-%d %H:%M")
    assert runs["r-live"]["heard"] == f"not heard from since {since} UTC (25 min ago)"
    assert runs["r-quiet"]["stale"] is False and runs["r-quiet"]["heard"] == "last heard 3 min ago"
    assert runs["r-slow"]["stale"] is False  # 15 min < 3 x 400 s
    with client.stream("GET", f"/org/{a}/events") as stream:
        (event,) = _events("".join(stream.iter_text()))
    assert {r["run_id"]: r["stale"] for r in event[1]["runs"]} == {
        "r-live": True,
        "r-quiet": False,
        "r-slow": False,
    }
    page = client.get(f"/org/{a}").text
    row = re.search(rf'<tr data-run-id="{seeded["r-live"]}"[^>]*>.*?</tr>', page, re.S).group(0)
    assert 'class="stale"' in row and f"not heard from since {since} UTC" in row
    assert "103" not in row  # its last power (gpu 103 W) is not shown as its power now
    api = client.get(f"/api/v1/runs/{seeded['r-live']}", headers=world.h("viewer")).json()
    assert api["status"] == "running"  # nothing stored changed


def test_how_long_a_run_may_be_silent_and_how_it_is_said():
    from datetime import datetime, timedelta
    from types import SimpleNamespace

    now = datetime(2026, 12, 3, 14, 0)
    assert live.stale_after_s(None) == live.STALE_AFTER_S == 600.0
    assert live.stale_after_s(30.0) == 600.0 and live.stale_after_s(400.0) == 1200.0
    assert live.heard(now - timedelta(seconds=20), now) == {
        "stale": False,
        "heard": "last heard less than a minute ago",
    }
    assert live.heard(now - timedelta(minutes=10), now)["stale"] is False  # at the threshold
    late = live.heard(now - timedelta(minutes=10, seconds=1), now)
    assert late == {
        "stale": True,
        "heard": "not heard from since 2026-12-03 13:49 UTC (10 min ago)",
    }
    slow = SimpleNamespace(interval_s=400.0)
    assert live.heard(now - timedelta(minutes=19), now, slow)["stale"] is False
    assert live.heard(now - timedelta(minutes=21), now, slow)["stale"] is True
    assert live.heard(now - timedelta(hours=3), now)["heard"].endswith("(3 h ago)")
    assert live.heard(now - timedelta(days=3), now)["heard"].endswith("(3 days ago)")
