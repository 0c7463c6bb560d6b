"""The webhook sink: a receiver that is down loses nothing, and every record arrives once."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import time

import pytest

from tests.fakes.receiver import Receiver, free_port, wait_for
from wattprint import Tracker
from wattprint.sinks import spool as spooling
from wattprint.sinks import webhook


@pytest.fixture(autouse=True)
def quick(monkeypatch, tmp_path):
    monkeypatch.setattr(spooling, "BACKOFF_S", 0.05)
    monkeypatch.setattr(spooling, "BACKOFF_MAX_S", 0.2)
    for key in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    yield
    # Senders left retrying (receiver gone) find an empty spool and leave.
    shutil.rmtree(tmp_path / "work" / ".wattprint" / "spool", ignore_errors=True)


def spool() -> list[str]:
    folder = webhook.spool_folder(".")
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


def bodies(receiver: Receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.received()]


def run_writing_rows(url: str, **settings) -> tuple[Tracker, list]:
    """A run that writes four rows: flush, a task's end, flush, stop."""
    tracker = Tracker(country="FRA", webhook_url=url, **settings).start()
    rows = [tracker.flush()]
    with tracker.task("step"):
        pass
    rows.append(None)  # the task's row
    rows.append(tracker.flush())
    began = time.monotonic()
    rows.append(tracker.stop())
    tracker.stop_took = time.monotonic() - began
    return tracker, rows


def test_receiver_down_then_up_gets_every_record_once(machine, caplog):
    port = free_port()  # nothing listens there yet
    url = f"http://127.0.0.1:{port}/hook"
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        tracker, rows = run_writing_rows(url, webhook_token="s3cret")
    assert tracker.stop_took < 5.0  # stop() does not wait on a receiver that is down
    waiting = spool()
    assert len(waiting) == 4 and all(tracker.run_id in name for name in waiting)
    assert any("wait in" in m for m in caplog.messages)  # said, once
    with Receiver(port) as receiver:
        assert wait_for(lambda: not spool(), 10)  # the sender kept trying
        received = receiver.received()
    keys = [r.headers["idempotency-key"] for r in received]
    assert sorted(keys) == sorted(f"{tracker.run_id}:{n}" for n in (1, 2, 3, 4))
    assert len(set(keys)) == len(keys)  # each once
    assert all(r.method == "POST" and r.path == "/hook" for r in received)
    assert all(r.headers["authorization"] == "Bearer s3cret" for r in received)
    assert all(r.headers["content-type"] == "application/json" for r in received)
    sent = {b["key"]: b for b in bodies(receiver)}
    assert set(sent) == set(keys)
    final = sent[f"{tracker.run_id}:4"]
    assert final["type"] == "wattprint.record" and final["version"] == 1
    assert final["record"]["status"] == "finished" and final["record"]["task_name"] is None
    assert final["record"]["cpu_energy"] == rows[-1].cpu.energy_kwh
    assert final["record"]["emissions"] == rows[-1].emissions_kg
    assert sent[f"{tracker.run_id}:2"]["record"]["task_name"] == "step"
    assert sent[f"{tracker.run_id}:1"]["record"]["status"] == "running"


def test_a_later_run_sends_what_an_earlier_one_left(machine, monkeypatch):
    monkeypatch.setattr(spooling, "BACKOFF_S", 30.0)  # the first run's sender gives up for now
    monkeypatch.setattr(spooling, "BACKOFF_MAX_S", 30.0)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    first, _ = run_writing_rows(url)
    assert len(spool()) == 4
    monkeypatch.setattr(spooling, "_senders", {})  # as in a new process
    with Receiver(port) as receiver:
        second = Tracker(country="FRA", webhook_url=url).start().stop()
        assert wait_for(lambda: not spool(), 10)
        keys = [r.headers["idempotency-key"] for r in receiver.received()]
    expected = [f"{first.run_id}:{n}" for n in (1, 2, 3, 4)] + [f"{second.run_id}:1"]
    assert sorted(keys) == sorted(expected)
    assert keys[:4] == expected[:4]  # oldest first


def test_a_lost_answer_is_sent_again_with_the_same_key(machine):
    stored: dict[str, bytes] = {}
    lost: set[str] = set()

    def respond(request):
        key = request.headers["idempotency-key"]
        if key not in lost:  # store it, then "lose" the answer
            lost.add(key)
            stored[key] = request.body
            return None
        stored.setdefault(key, request.body)  # a receiver dedupes on the key
        return (200, b"already have it")

    with Receiver(respond=respond) as receiver:
        r = Tracker(country="FRA", webhook_url=receiver.url).start().stop()
        assert wait_for(lambda: not spool(), 10)
        keys = [q.headers["idempotency-key"] for q in receiver.received()]
    assert keys == [f"{r.run_id}:1", f"{r.run_id}:1"]  # retried, same key
    assert list(stored) == [f"{r.run_id}:1"]


def test_a_refused_record_is_kept_aside_and_said_once(machine, caplog):
    def respond(request):
        record = json.loads(request.body)["record"]
        return (422, b"no tasks here") if record["task_name"] else (201, b"")

    with caplog.at_level(logging.WARNING, logger="wattprint"), Receiver(respond=respond) as rx:
        tracker = Tracker(country="FRA", webhook_url=rx.url).start()
        for name in ("a", "b"):
            with tracker.task(name):
                pass
        r = tracker.stop()
        assert wait_for(lambda: not spool(), 10)
    rejected = webhook.spool_folder(".") / webhook.REJECTED
    kept = sorted(p.name for p in rejected.glob("*.json"))
    assert kept == [f for f in kept if r.run_id in f] and len(kept) == 2
    why = (rejected / f"{kept[0]}.response").read_text()
    assert "HTTP 422" in why and "no tasks here" in why
    assert sum("refused a record" in m for m in caplog.messages) == 1
    delivered = [json.loads(q.body)["record"] for q in rx.received()]
    assert [d["run_id"] for d in delivered if d["task_name"] is None] == [r.run_id]


def test_bad_credentials_keep_records_in_the_spool(machine, caplog):
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        with Receiver(respond=lambda q: (401, b"who are you")) as receiver:
            Tracker(country="FRA", webhook_url=receiver.url, webhook_token="old").start().stop()
            assert wait_for(lambda: len(receiver.received()) >= 2, 5)  # retried
    assert len(spool()) == 1  # waiting, not rejected
    assert not (webhook.spool_folder(".") / webhook.REJECTED).exists()
    assert sum("answered 401" in m and "webhook_token" in m for m in caplog.messages) == 1


def test_stop_does_not_hang_on_a_receiver_that_never_answers(machine):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        tracker = Tracker(country="FRA", webhook_url=url).start()
        began = time.monotonic()
        r = tracker.stop()
        took = time.monotonic() - began
    assert r.status == "finished"
    assert took < 5.0  # a hang guard, not a performance figure
    assert len(spool()) == 1  # the record waits for next time


def test_a_killed_runs_recovered_row_reaches_the_receiver_once(machine):
    """A run killed before it stopped: the next run's start recovers its row from the journal,
    writes it to the CSV and sends it, so that the receiver learns how the run ended."""
    import signal

    from tests.core.test_recovery import start_victim, wait_for_intervals

    victim, victim_id = start_victim()
    wait_for_intervals(victim_id, 2)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=20)
    with Receiver() as receiver:
        url = f"http://127.0.0.1:{receiver.port}/hook"
        tracker = Tracker(country="FRA", webhook_url=url).start()
        tracker.stop()
        later = Tracker(country="FRA", webhook_url=url).start()  # recovers nothing again
        later.stop()
        assert wait_for(lambda: not spool(), 10)
        keys = [r.headers["idempotency-key"] for r in receiver.received()]
        got = {r.headers["idempotency-key"]: json.loads(r.body) for r in receiver.received()}
    recovered = got[f"{victim_id}:recovered"]
    assert recovered["record"]["run_id"] == victim_id
    assert recovered["record"]["status"] == "interrupted"
    assert recovered["record"]["project_name"] == "victim"
    assert sorted(keys) == sorted(
        [f"{victim_id}:recovered", f"{tracker.run_id}:1", f"{later.run_id}:1"]
    )


# -- the retry rules, answer by answer (README: "Webhook") ----------------------------------------


def answers(*statuses):
    """A receiver's responder that answers ``statuses`` in turn, then 200 for good."""
    queue = list(statuses)

    def respond(request):
        if queue:
            status = queue.pop(0)
            return status if isinstance(status, tuple) else (status, b"not now")
        return (200, b"ok")

    return respond


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 429])
def test_a_server_error_or_throttle_is_retried_never_rejected(machine, status):
    with Receiver(respond=answers(status, status)) as receiver:
        r = Tracker(country="FRA", webhook_url=receiver.url).start().stop()
        assert wait_for(lambda: not spool(), 10)
        keys = [q.headers["idempotency-key"] for q in receiver.received()]
    assert keys == [f"{r.run_id}:1"] * 3  # twice refused for now, then taken
    assert not (webhook.spool_folder(".") / webhook.REJECTED).exists()


@pytest.mark.parametrize("status", [301, 302, 307, 308, 403])
def test_a_redirect_or_forbidden_keeps_the_record_and_says_so_once(machine, caplog, status):
    headers = {"Location": "http://127.0.0.1:9/elsewhere"}
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        with Receiver(respond=answers(*[(status, b"moved", headers)] * 3)) as receiver:
            r = Tracker(country="FRA", webhook_url=receiver.url).start().stop()
            assert wait_for(lambda: not spool(), 10)  # taken once the URL works again
            received = receiver.received()
    assert [q.headers["idempotency-key"] for q in received] == [f"{r.run_id}:1"] * 4
    assert all(q.method == "POST" and q.path == "/" for q in received)  # never followed
    assert not (webhook.spool_folder(".") / webhook.REJECTED).exists()
    setting = "webhook_token" if status == 403 else "webhook_url"
    assert sum(f"answered {status}" in m and setting in m for m in caplog.messages) == 1


@pytest.mark.parametrize("status", [400, 404, 409, 410, 413, 422])
def test_another_client_error_sets_the_record_aside(machine, status):
    with Receiver(respond=answers(status)) as receiver:
        r = Tracker(country="FRA", webhook_url=receiver.url).start().stop()
        assert wait_for(lambda: not spool(), 10)
        assert len(receiver.received()) == 1  # refused for good: not sent again
    rejected = webhook.spool_folder(".") / webhook.REJECTED
    assert [p.name for p in rejected.glob("*.json")] == [
        p.name for p in rejected.glob(f"*-{r.run_id}-000001.json")
    ]
    assert f"HTTP {status}" in next(rejected.glob("*.response")).read_text()


def test_retry_after_is_honoured(machine):
    """Backoff here is 0.05 s: a second request sooner than Retry-After would ignore it."""
    with Receiver(respond=answers((503, b"busy", {"Retry-After": "1"}))) as receiver:
        Tracker(country="FRA", webhook_url=receiver.url).start().stop()
        assert wait_for(lambda: not spool(), 10)
        received = receiver.received()
    assert len(received) == 2
    times = [q.received_at for q in received]
    assert times[1] - times[0] >= 0.95
