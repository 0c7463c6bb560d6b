"""POST /api/v1/records: idempotent by key, per-item results, records read back as sent."""

from __future__ import annotations

from tests.fakes.serverkit import app, client, database_url, envelope, interval, world  # noqa: F401 - the fixtures
from wattprint import records


def _runs(world, who="owner", **params):
    r = world.client.get("/api/v1/runs", params=params, headers=world.h(who))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_retry_never_duplicates(world):
    batch = [envelope("r1", i) for i in range(3)] + [interval("r1", 1)]
    first = world.send(batch)
    assert first.status_code == 200
    assert first.json()["created"] == 4 and first.json()["duplicates"] == 0
    again = world.send(batch)
    body = again.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (0, 4, 0)
    assert [r["status"] for r in body["results"]] == ["duplicate"] * 4
    [run] = _runs(world, project_id=world.ids["project"])
    assert run["emissions_count"] == 3


def test_a_bad_item_is_refused_with_its_reason_and_the_rest_kept(world):
    bad_type = {"type": "other", "version": 1, "key": "k"}
    bad_number = envelope("r2", 2, emissions="lots")
    no_run = envelope("r2", 3)
    no_run["record"]["run_id"] = ""
    unknown_column = envelope("r2", 4)
    unknown_column["record"]["favourite_colour"] = "blue"
    body = world.send([envelope("r2", 1), bad_type, bad_number, no_run, unknown_column, 7]).json()
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created"] + ["rejected"] * 5
    errors = [r["error"] for r in body["results"]]
    assert "type 'other'" in errors[1]
    assert "emissions" in errors[2] and "not a number" in errors[2]
    assert "run_id" in errors[3]
    assert "favourite_colour" in errors[4]
    assert "JSON object" in errors[5]
    assert body["created"] == 1 and body["rejected"] == 5


def test_one_envelope_object_is_a_batch_of_one(world):
    body = world.send(envelope("r3", 1)).json()
    assert body["created"] == 1 and body["results"][0]["key"] == "r3:1"


def test_a_record_read_back_equals_the_record_sent(world):
    sent = envelope("r4", 5, notes="ünïcode | and, commas", ram_used_gb=None, region="")
    sent["record"]["task_name"] = None
    world.send([sent])
    [run] = _runs(world, project_id=world.ids["project"])
    rows = world.client.get(f"/api/v1/runs/{run['id']}/emissions", headers=world.h("owner"))
    [row] = rows.json()["items"]
    assert {c: row[c] for c in records.TASK_COLUMNS} == sent["record"]
    assert row["key"] == "r4:5"


def test_a_big_batch_is_stored_whole_and_read_back_as_sent(world):
    """A batch large enough for PostgreSQL's COPY path (db.COPY_FROM_ROWS): text that COPY must
    escape (tabs, newlines, backslashes, \\N), unknowns and unicode come back as sent; its
    retry is all duplicates; and a second batch of the run, in its own request, is kept too."""
    from wattprint.server.db import COPY_FROM_ROWS

    size = COPY_FROM_ROWS + 5
    tricky = ["tab\there", "new\nline", "back\\slash", "\\N", "", None, "ünï,cöde", "a\r\nb"]
    batch = [
        envelope("big", i, notes=tricky[i % len(tricky)], ram_used_gb=None if i % 3 else 1.5)
        for i in range(size)
    ] + [interval("big", i) for i in range(1, COPY_FROM_ROWS + 2)]
    first = world.send(batch).json()
    assert (first["created"], first["duplicates"], first["rejected"]) == (len(batch), 0, 0)
    again = world.send(batch).json()
    assert (again["created"], again["duplicates"]) == (0, len(batch))
    more = world.send([envelope("big", size + i) for i in range(COPY_FROM_ROWS)]).json()
    assert more["created"] == COPY_FROM_ROWS
    [run] = _runs(world, project_id=world.ids["project"])
    assert run["emissions_count"] == size + COPY_FROM_ROWS
    rows = world.client.get(
        f"/api/v1/runs/{run['id']}/emissions", params={"limit": 500}, headers=world.h("owner")
    ).json()["items"]
    stored = {row["key"]: {c: row[c] for c in records.COLUMNS} for row in rows}
    for item in batch[:size]:
        assert stored[item["key"]] == {c: item["record"].get(c) for c in records.COLUMNS}


def test_rows_whose_columns_come_in_other_orders_are_each_read_back_as_sent(world):
    """The server finds a row's columns by the order its keys come in (remembered per order):
    rows in the spec's order, reversed, with columns left out, and back again, in one batch
    and the next, each come back as sent; an unknown column in a known order is refused."""

    def reordered(seq, keys, **changes):
        sent = envelope("orders", seq, **changes)
        sent["record"] = {k: sent["record"][k] for k in keys(list(sent["record"]))}
        return sent

    def left_out(names):
        return [n for n in names if n not in ("cpu_energy", "notes", "region", "duration")]

    batch = [
        reordered(1, lambda names: names, notes="first"),
        reordered(2, lambda names: names[::-1], notes="reversed", cpu_energy=0.25),
        reordered(3, left_out),
        reordered(4, lambda names: names, cpu_energy=None),
        reordered(5, lambda names: left_out(names)[::-1], ram_used_gb=None),
    ]
    unknown = reordered(6, lambda names: names)
    unknown["record"] = {**unknown["record"], "favourite_colour": "blue"}
    body = world.send(batch + [unknown]).json()
    assert [r["status"] for r in body["results"]] == ["created"] * 5 + ["rejected"]
    assert "favourite_colour" in body["results"][5]["error"]
    again = world.send([reordered(7, lambda names: names[::-1]), reordered(8, left_out)]).json()
    assert again["created"] == 2
    batch += [reordered(7, lambda names: names[::-1]), reordered(8, left_out)]
    [run] = _runs(world, project_id=world.ids["project"])
    rows = world.client.get(
        f"/api/v1/runs/{run['id']}/emissions", params={"limit": 500}, headers=world.h("owner")
    ).json()["items"]
    stored = {row["key"]: {c: row[c] for c in records.TASK_COLUMNS} for row in rows}
    for item in batch:
        assert stored[item["key"]] == {c: item["record"].get(c) for c in records.TASK_COLUMNS}


def test_numbers_sent_as_csv_text_are_stored_as_numbers(world):
    sent = envelope("r5", 1, cpu_count="8", emissions="0.5", pue="", intensity_year="2024.0")
    assert world.send([sent]).json()["created"] == 1
    [run] = _runs(world, project_id=world.ids["project"])
    row = world.client.get(f"/api/v1/runs/{run['id']}/emissions", headers=world.h("owner")).json()[
        "items"
    ][0]
    assert (row["cpu_count"], row["emissions"], row["pue"], row["intensity_year"]) == (
        8,
        0.5,
        None,
        2024,
    )


def test_run_totals_follow_the_newest_row_whatever_the_order(world):
    world.send([envelope("r6", 3, emissions=3.0, status="finished")])
    world.send([envelope("r6", 1, emissions=1.0), envelope("r6", 2, emissions=2.0)])
    [run] = _runs(world, project_id=world.ids["project"])
    assert run["emissions_kg"] == 3.0 and run["status"] == "finished"
    assert run["emissions_count"] == 3


def test_the_experiment_is_found_by_id_then_name_else_the_default(world):
    c, h = world.client, world.h("owner")
    made = c.post(
        "/api/v1/experiments", json={"project_id": world.ids["project"], "name": "ft"}, headers=h
    ).json()
    world.send(
        [
            envelope("by-id", 1, experiment_id=str(made["id"]), experiment_name="ignored"),
            envelope("by-name", 1, experiment_id="", experiment_name="sweep"),
            envelope("none", 1, experiment_id="", experiment_name=""),
        ]
    )
    runs = {r["client_run_id"]: r for r in _runs(world, project_id=world.ids["project"])}
    assert runs["by-id"]["experiment_id"] == made["id"]
    experiments = {
        e["id"]: e["name"]
        for e in c.get(
            "/api/v1/experiments", params={"project_id": world.ids["project"]}, headers=h
        ).json()["items"]
    }
    assert experiments[runs["by-name"]["experiment_id"]] == "sweep"
    assert experiments[runs["none"]["experiment_id"]] == "default"


def test_another_projects_experiment_id_is_not_used(world):
    c, h = world.client, world.h("owner")
    other = c.post(
        "/api/v1/experiments",
        json={"project_id": world.ids["project2"], "name": "theirs"},
        headers=h,
    ).json()
    world.send([envelope("x", 1, experiment_id=str(other["id"]), experiment_name="")])
    [run] = _runs(world, project_id=world.ids["project"])
    assert run["experiment_id"] != other["id"]


def test_intervals_are_kept_for_the_runs_power_over_time(world):
    world.send([interval("live", s) for s in (1, 2, 3)])
    [run] = _runs(world, project_id=world.ids["project"])
    assert run["status"] == "running"
    got = world.client.get(f"/api/v1/runs/{run['id']}/intervals", headers=world.h("owner"))
    assert [i["cpu_power"] for i in got.json()["items"]] == [11.0, 12.0, 13.0]


def test_the_same_key_in_two_projects_is_two_rows(world):
    assert world.send([envelope("same", 1)]).json()["created"] == 1
    assert world.send([envelope("same", 1)], who="token_gpt").json()["created"] == 1


def test_export_has_the_columns_of_emissions_csv(world):
    import csv
    import io

    world.send([envelope("e1", 1), envelope("e1", 2), envelope("e2", 1)])
    got = world.client.get(
        f"/api/v1/projects/{world.ids['project']}/export",
        params={"format": "csv"},
        headers=world.h("viewer"),
    )
    assert got.status_code == 200
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert list(rows[0]) == list(records.COLUMNS)
    assert sorted(r["run_id"] for r in rows) == ["e1", "e1", "e2"]
    url = f"/api/v1/projects/{world.ids['project']}/export"
    as_json = world.client.get(url, params={"format": "json"}, headers=world.h("viewer")).json()
    assert len(as_json) == 3 and set(as_json[0]) == set(records.COLUMNS)
    assert as_json[0]["emissions"] == envelope("e1", 1)["record"]["emissions"]


def test_two_requests_with_the_same_keys_at_once_store_each_key_once(world):
    """Two deliveries of one batch racing (a client's retry while the first is still being
    stored, or two workers): each key is created by exactly one of them, counted once."""
    import threading

    rounds, size = 4, 30
    for r in range(rounds):
        batch = [envelope(f"race{r}", i) for i in range(size)] + [interval(f"race{r}", 1)]
        answers: list = [None, None]
        start = threading.Barrier(2)

        def deliver(n: int, batch=batch, answers=answers, start=start) -> None:
            start.wait()
            answers[n] = world.send(batch)

        threads = [threading.Thread(target=deliver, args=(n,)) for n in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [a.status_code for a in answers] == [200, 200]
        statuses = [[item["status"] for item in a.json()["results"]] for a in answers]
        for first, second in zip(*statuses, strict=True):
            assert sorted((first, second)) == ["created", "duplicate"]
        assert sum(a.json()["created"] for a in answers) == size + 1
        [run] = [
            x
            for x in _runs(world, project_id=world.ids["project"])
            if x["client_run_id"] == f"race{r}"
        ]
        assert run["emissions_count"] == size
        rows = world.client.get(
            f"/api/v1/runs/{run['id']}/emissions", params={"limit": 100}, headers=world.h("owner")
        ).json()["items"]
        assert sorted(row["key"] for row in rows) == sorted(f"race{r}:{i}" for i in range(size))


def test_values_the_database_cannot_store_refuse_their_item_only(world):
    bad = {
        "huge": envelope("v1", 1, cpu_count=2**63),
        "surrogate": envelope("v1", 2, notes="\ud800"),
        "nul": envelope("v1", 3, run_name="a\x00b"),
    }
    import json

    body = json.dumps([*bad.values(), envelope("v1", 4)]).encode()
    headers = {**world.h("token_ingest"), "Content-Type": "application/json"}
    got = world.client.post("/api/v1/records", content=body, headers=headers)
    assert got.status_code == 200, got.text
    results = got.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3 + ["created"]
    assert "cpu_count" in results[0]["error"] and "64-bit" in results[0]["error"]
    assert "notes" in results[1]["error"] and "surrogate" in results[1]["error"]
    assert "run_name" in results[2]["error"] and "NUL" in results[2]["error"]


def test_ingest_writes_sqlite_datetimes_as_sqlalchemy_does():
    """SQLite compares ``at`` as text: ingest's quick writer must give SQLAlchemy's exact form."""
    from datetime import datetime

    from sqlalchemy import DateTime
    from sqlalchemy.dialects import sqlite

    from wattprint.server.db import sqlite_datetime

    dialect = sqlite.dialect()
    processor = DateTime().dialect_impl(dialect).bind_processor(dialect)
    for value in (
        datetime(2026, 3, 1, 10, 0, 5),
        datetime(2026, 12, 31, 23, 59, 59, 999999),
        datetime(2026, 1, 2, 3, 4, 5, 60),
        datetime(5, 1, 1),
    ):
        assert sqlite_datetime(value) == processor(value)


def test_a_batch_aborted_by_a_deadlock_is_tried_again_and_stored_once(world, monkeypatch):
    """PostgreSQL aborts one of two transactions that deadlock (summary cells' trigger can make
    two batches wait on each other): the route tries the batch again, whole."""
    from sqlalchemy.exc import OperationalError

    from wattprint.server import ingest

    class Deadlock(Exception):
        sqlstate = "40P01"

    real, calls = ingest.ingest, []

    def aborted_once(db, project_id, items):
        calls.append(len(items))
        stored = real(db, project_id, items)  # written, then rolled back by the abort
        if len(calls) == 1:
            raise OperationalError("UPDATE runs ...", {}, Deadlock("deadlock detected"))
        return stored

    monkeypatch.setattr(ingest, "ingest", aborted_once)
    sent = world.send([envelope("r-dead", 0), envelope("r-dead", 1)])
    assert sent.status_code == 200, sent.text
    assert calls == [2, 2] and sent.json()["created"] == 2
    rows = world.client.get(
        f"/api/v1/projects/{world.ids['project']}/export?format=json", headers=world.h("owner")
    ).json()
    assert sorted(r["run_id"] for r in rows if r["run_id"] == "r-dead") == ["r-dead", "r-dead"]


def test_other_database_errors_are_not_tried_again(world, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from wattprint.server import ingest

    class Broken(Exception):
        sqlstate = "53100"  # disk full

    calls = []

    def broken(db, project_id, items):
        calls.append(1)
        raise OperationalError("INSERT ...", {}, Broken("disk full"))

    monkeypatch.setattr(ingest, "ingest", broken)
    try:
        answer = world.send([envelope("r-x", 0)])
        assert answer.status_code >= 500
    except OperationalError:
        pass  # the test client raises the server's own errors
    assert calls == [1]
