"""Runs left "running" by a dead process: ``wattprint server close-stale`` and the per-run
action close them as ``interrupted`` with a note; who may; and a run that sends again reopens.
SQLite always, PostgreSQL too where WATTPRINT_TEST_POSTGRES_URL names one."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from tests.fakes.dashkit import form_csrf, sign_in_as
from tests.fakes.serverkit import app, client, database_url, envelope, world  # noqa: F401
from wattprint.cli import app as cli

runner = CliRunner()


def _send(world, run_id, seq, status="running", who="token_ingest"):
    sent = world.send([envelope(run_id, seq, status=status)], who=who)
    assert sent.status_code == 200, sent.text
    found = world.client.get(
        "/api/v1/runs", params={"project_id": world.ids["project"]}, headers=world.h("owner")
    ).json()["items"]
    return {r["client_run_id"]: r["id"] for r in found}.get(run_id)


def _silent_for(app, run_pk, minutes):  # noqa: F811
    """As if the run's process had died ``minutes`` ago: it last sent something then."""
    from wattprint.server import db
    from wattprint.server.models import Run, utcnow

    with db.transaction(app.state.sessions) as s:
        run = s.get(Run, run_pk)
        run.last_seen = utcnow() - timedelta(minutes=minutes)
        return run.last_seen


def _stored(app, run_pk):  # noqa: F811
    from wattprint.server import closing, db
    from wattprint.server.models import Run

    with db.transaction(app.state.sessions) as s:
        run = s.get(Run, run_pk)
        return {"status": run.status, "last": run.last_status, "note": closing.note_of(run)}


def _statuses(world):
    summary = world.client.get(
        f"/api/v1/projects/{world.ids['project']}/summary", headers=world.h("owner")
    )
    assert summary.status_code == 200, summary.text
    return summary.json()["statuses"]


@pytest.fixture
def runs(app, world):  # noqa: F811
    """r-dead silent 2 h, r-quiet silent 5 min (both "running"), r-done finished 2 h ago."""
    ids = {name: _send(world, name, 0, status) for name, status in
           (("r-dead", "running"), ("r-quiet", "running"), ("r-done", "finished"))}  # fmt: skip
    ids["dead_seen"] = _silent_for(app, ids["r-dead"], 120)
    _silent_for(app, ids["r-quiet"], 5)
    _silent_for(app, ids["r-done"], 120)
    return ids


def _cli(database_url, *args):  # noqa: F811
    result = runner.invoke(
        cli, ["server", "close-stale", "--database-url", database_url, *args]
    )  # fmt: skip
    return result


def test_close_stale_closes_only_running_runs_silent_for_long(
    app,
    world,
    runs,
    database_url,  # noqa: F811
):
    assert _statuses(world) == {"finished": 1, "running": 2}
    dry = _cli(database_url, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    listed = json.loads(dry.output)
    assert listed["dry_run"] is True
    assert [(r["id"], r["closed"]) for r in listed["runs"]] == [(runs["r-dead"], False)]
    assert _stored(app, runs["r-dead"])["status"] == "running"  # a dry run changes nothing

    done = _cli(database_url, "--older-than", "1h")
    assert done.exit_code == 0, done.output
    assert f"closed run {runs['r-dead']} (r-dead" in done.output
    assert "1 run(s) silent for 1h or more; 1 closed as interrupted" in done.output
    dead = _stored(app, runs["r-dead"])
    assert dead["status"] == dead["last"] == "interrupted"  # the run and its newest row's copy
    seen = runs["dead_seen"].strftime("%Y-%m-%d %H:%M")
    assert (
        "closed by the server at " in dead["note"] and f"last heard from {seen} UTC" in dead["note"]
    )
    assert _stored(app, runs["r-quiet"])["status"] == "running"
    assert _stored(app, runs["r-done"]) == {"status": "finished", "last": "finished", "note": None}
    assert _statuses(world) == {"finished": 1, "interrupted": 1, "running": 1}
    again = _cli(database_url, "--json")
    assert json.loads(again.output)["runs"] == []  # nothing left to close


def test_close_stale_says_what_was_wrong_with_its_duration(database_url):  # noqa: F811
    short = _cli(database_url, "--older-than", "5m")
    assert short.exit_code == 2 and "shorter than the 600 s" in short.output
    bad = _cli(database_url, "--older-than", "soon")
    assert bad.exit_code == 2 and "give a duration such as 90m" in bad.output


def test_a_writer_closes_a_silent_run_and_not_a_live_or_finished_one(app, world, runs):  # noqa: F811
    closed = world.client.post(f"/api/v1/runs/{runs['r-dead']}/close", headers=world.h("member"))
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["run"]["status"] == "interrupted" and "closed by the server" in body["note"]
    assert _stored(app, runs["r-dead"])["last"] == "interrupted"
    for name, why in (
        ("r-quiet", "it is live"),
        ("r-done", "is finished"),
        ("r-dead", "is interrupted"),
    ):
        refused = world.client.post(f"/api/v1/runs/{runs[name]}/close", headers=world.h("member"))
        assert refused.status_code == 409 and why in refused.text, (name, refused.text)
    assert _stored(app, runs["r-quiet"])["status"] == "running"


REFUSED = [("viewer", 403), ("outsider", 404), ("token_both", 403), ("token_ingest", 403),
           ("token_b", 404)]  # fmt: skip


@pytest.mark.parametrize(("who", "status"), REFUSED)
def test_who_may_not_close_a_run(app, world, runs, who, status):  # noqa: F811
    refused = world.client.post(f"/api/v1/runs/{runs['r-dead']}/close", headers=world.h(who))
    assert refused.status_code == status, refused.text
    assert _stored(app, runs["r-dead"]) == {"status": "running", "last": "running", "note": None}


def test_a_closed_run_that_sends_again_takes_its_status_from_its_newest_row(app, world, runs):  # noqa: F811
    from wattprint.server.pages import live

    closed = world.client.post(f"/api/v1/runs/{runs['r-dead']}/close", headers=world.h("owner"))
    assert closed.status_code == 200, closed.text
    _send(world, "r-dead", 1, "running")  # it was alive after all: a newer row
    back = _stored(app, runs["r-dead"])
    assert back == {"status": "running", "last": "running", "note": None}
    from wattprint.server import db

    with db.transaction(app.state.sessions) as s:
        listed = [r["run_id"] for r in live.in_progress(s, world.ids["org_a"])]
    assert "r-dead" in listed
    _send(world, "r-dead", 2, "finished")
    assert _stored(app, runs["r-dead"])["status"] == "finished"


def test_the_run_page_offers_the_close_to_a_writer_only(app, client, world, runs):  # noqa: F811
    dead = runs["r-dead"]
    sign_in_as(client, world, "viewer")
    assert 'id="close-run"' not in client.get(f"/run/{dead}").text
    assert client.get(f"/run/{dead}?format=json").json()["closing"]["may_close"] is False
    sign_in_as(client, world, "member")
    assert 'id="close-run"' not in client.get(f"/run/{runs['r-quiet']}").text  # still live
    page = client.get(f"/run/{dead}").text
    assert 'id="close-run"' in page
    posted = client.post(
        f"/run/{dead}/close", data={"csrf": form_csrf(page)}, follow_redirects=False
    )
    assert posted.status_code == 303 and posted.headers["location"] == f"/run/{dead}"
    shown = client.get(f"/run/{dead}").text
    assert '<span id="run-status">interrupted</span>' in shown
    assert 'id="closed-note"' in shown and "closed by the server" in shown
    assert 'id="close-run"' not in shown
    forged = client.post(f"/run/{runs['r-quiet']}/close", data={"csrf": "nope"})
    assert forged.status_code == 403 and _stored(app, runs["r-quiet"])["status"] == "running"


def test_a_closed_run_that_sends_only_intervals_after_its_closing_is_running_again(
    app, world, runs
):  # noqa: F811
    from tests.fakes.serverkit import interval
    from wattprint.server.models import utcnow

    closed = world.client.post(f"/api/v1/runs/{runs['r-dead']}/close", headers=world.h("owner"))
    assert closed.status_code == 200, closed.text
    old = interval("r-dead", 1, timestamp="2026-03-01T10:00:01+00:00")  # spooled before it
    assert world.send([old]).status_code == 200
    assert _stored(app, runs["r-dead"])["status"] == "interrupted"
    now = utcnow().isoformat() + "+00:00"
    assert world.send([interval("r-dead", 2, timestamp=now)]).status_code == 200
    assert _stored(app, runs["r-dead"]) == {"status": "running", "last": "running", "note": None}
    assert _statuses(world).get("interrupted", 0) == 0


def test_intervals_leave_a_run_that_ended_interrupted_on_its_own_as_it_is(app, world):  # noqa: F811
    from tests.fakes.serverkit import interval
    from wattprint.server.models import utcnow

    run = _send(world, "r-own", 0, "interrupted")  # the tracker's recovery said so, not us
    now = utcnow().isoformat() + "+00:00"
    assert world.send([interval("r-own", 1, timestamp=now)]).status_code == 200
    assert _stored(app, run)["status"] == "interrupted"
