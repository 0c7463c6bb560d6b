"""The server sink: rows and intervals reach the team server once each, whatever it does."""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

import pytest

from tests.fakes.fakesys import cpu_stat
from tests.fakes.receiver import free_port, wait_for
from tests.fakes.standin import StandIn
from wattprint import Tracker
from wattprint.records import INTERVAL_COLUMNS, TASK_COLUMNS
from wattprint.sinks import server
from wattprint.sinks import spool as spooling

TOKEN = "wpt_test"


@pytest.fixture(autouse=True)
def quick(monkeypatch, tmp_path):
    monkeypatch.setattr(spooling, "BACKOFF_S", 0.05)
    monkeypatch.setattr(spooling, "BACKOFF_MAX_S", 0.2)
    for key in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    yield
    shutil.rmtree(tmp_path / "work" / ".wattprint" / "spool", ignore_errors=True)


def spooled() -> list[str]:
    folder = server.spool_folder(".")
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


def spooled_keys() -> set[str]:
    """The keys waiting in the spool (a file holds a row's envelope or a list of intervals)."""
    keys = set()
    for name in spooled():
        loaded = json.loads((server.spool_folder(".") / name).read_text())
        keys |= {e["key"] for e in (loaded if isinstance(loaded, list) else [loaded])}
    return keys


def rejected() -> list[str]:
    folder = server.spool_folder(".") / spooling.REJECTED
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


def busy_run(machine, url, seconds=0.6, interval=0.05, token=TOKEN, **settings):
    """A run that samples every ``interval`` with the CPU busy, flushes twice and stops."""
    tracker = Tracker(
        country="FRA", interval_s=interval, server_url=url, server_token=token, **settings
    ).start()
    busy = 1000
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        busy += 50
        machine.write("/proc/stat", cpu_stat(busy, 9000 + busy))
        time.sleep(interval / 2)
    tracker.flush()
    tracker.flush()
    return tracker


def contiguous(keys: set[str], run_id: str, prefix: str = "") -> list[int]:
    start = f"{run_id}:{prefix}"
    tails = [k[len(start) :] for k in keys if k.startswith(start)]
    seqs = sorted(int(t) for t in tails if t.isdigit())
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    return seqs


def test_rows_and_intervals_reach_the_server_once(machine):
    with StandIn() as standin:
        tracker = busy_run(machine, standin.url)
        final = tracker.stop()
        assert wait_for(lambda: not spooled(), 10)
    rid = final.run_id
    records = standin.keys("record")
    assert records == {f"{rid}:1", f"{rid}:2", f"{rid}:3"}  # two flushes and the final row
    assert standin.store[f"{rid}:3"]["record"]["status"] == "finished"
    assert standin.store[f"{rid}:3"]["record"]["emissions"] == final.emissions_kg
    intervals = contiguous(standin.keys("interval"), rid, "i")
    assert len(intervals) >= 4  # 0.6 s at 0.05 s, taken twice an interval by the sink
    bodies = [standin.store[f"{rid}:i{n}"]["interval"] for n in intervals]
    assert all(tuple(b) == INTERVAL_COLUMNS for b in bodies)
    assert all(tuple(standin.store[k]["record"]) == TASK_COLUMNS for k in records)
    durations = [b["duration"] for b in bodies]
    assert durations == sorted(durations) and len(set(durations)) == len(durations)
    for before, after in zip(
        bodies[:-1], bodies[1:], strict=True
    ):  # each interval starts where the last ended
        assert after["interval_s"] == pytest.approx(after["duration"] - before["duration"])
        joules = (after["cpu_energy"] - before["cpu_energy"]) * 3.6e6
        assert after["cpu_power"] == pytest.approx(joules / after["interval_s"])
    assert max(standin.created.values()) == 1
    assert len(standin.batches) < len(intervals)  # intervals go several to a request


def test_a_server_down_then_restarted_mid_run_loses_and_duplicates_nothing(machine):
    with StandIn() as standin:
        tracker = busy_run(machine, standin.url, seconds=0.3)
        standin.stop()  # down mid-run: the run goes on, envelopes wait in the spool
        busy = 5000
        for _ in range(4):
            busy += 100
            machine.write("/proc/stat", cpu_stat(busy, 9000 + busy))
            time.sleep(0.05)
            tracker.flush()
        assert wait_for(lambda: len(spooled()) >= 4, 5)
        standin.lose_answers = 1  # back up: it stores a batch but its answer is lost
        standin.start()
        time.sleep(0.3)
        began = time.monotonic()
        final = tracker.stop()
        assert time.monotonic() - began < 5.0  # stop() never waits long on the server
        assert wait_for(lambda: not spooled(), 10)
    rid = final.run_id
    assert contiguous(standin.keys("record"), rid) == list(range(1, 8))  # 2 + 4 flushes + stop
    assert contiguous(standin.keys("interval"), rid, "i")
    assert max(standin.created.values()) == 1  # the lost answer's batch came again: duplicates
    assert not rejected()


def test_a_later_run_sends_what_an_earlier_one_left(machine, monkeypatch, caplog):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        first = busy_run(machine, url, seconds=0.2).stop()  # nobody listens
    assert any("has not taken every record" in m and "server" in m for m in caplog.messages)
    left = spooled_keys()
    assert f"{first.run_id}:3" in left and f"{first.run_id}:i1" in left
    monkeypatch.setattr(spooling, "_senders", {})  # as in a new process
    with StandIn(port=port) as standin:
        second = Tracker(country="FRA", server_url=url, server_token=TOKEN).start().stop()
        assert wait_for(lambda: not spooled(), 10)
    assert standin.keys() - left == {f"{second.run_id}:1"}
    assert left <= standin.keys()


def test_a_bad_token_keeps_everything_and_says_so_once(machine, caplog):
    with caplog.at_level(logging.WARNING, logger="wattprint"), StandIn() as standin:
        r = Tracker(country="FRA", server_url=standin.url, server_token="wrong").start().stop()
        assert wait_for(lambda: len(standin.receiver.received()) >= 2, 5)  # retried
        assert not standin.store and len(spooled()) == 1 and not rejected()
        Tracker(country="FRA", server_url=standin.url, server_token=TOKEN).start().stop()
        assert wait_for(lambda: not spooled(), 10)  # the right token delivers what waited
    assert f"{r.run_id}:1" in standin.store
    assert sum("answered 401" in m and "server_token" in m for m in caplog.messages) == 1


def test_an_envelope_the_server_rejects_is_set_aside_with_its_reason(machine, caplog):
    with caplog.at_level(logging.WARNING, logger="wattprint"), StandIn() as standin:
        standin.refuse = lambda e: (
            "no flushes here"
            if e["type"] == "wattprint.record" and e["record"]["status"] == "running"
            else None
        )
        final = busy_run(machine, standin.url, seconds=0.2).stop()
        assert wait_for(lambda: not spooled(), 10)
    assert standin.keys("record") == {f"{final.run_id}:3"}
    kept = rejected()
    assert len(kept) == 2 and all(f"{final.run_id}-00000" in name for name in kept)
    folder = server.spool_folder(".") / spooling.REJECTED
    assert "rejected by the server: no flushes here" in (folder / f"{kept[0]}.response").read_text()
    assert sum("refused a record" in m for m in caplog.messages) == 1


def test_batches_are_bounded_and_a_refused_batch_is_split(machine, monkeypatch):
    monkeypatch.setattr(server, "BATCH", 3)
    port = free_port()
    first = busy_run(machine, f"http://127.0.0.1:{port}", seconds=0.3).stop()  # all spooled
    waiting = spooled_keys()
    assert len(waiting) >= 5
    monkeypatch.setattr(spooling, "_senders", {})
    with StandIn(port=port) as standin:
        bad = f"{first.run_id}:3"  # the final row: a whole batch holding it is refused

        def answer(request):
            keys = [e.get("key") for e in json.loads(request.body)]
            return (422, b"bad batch") if bad in keys else None

        standin.answer = answer
        second = Tracker(country="FRA", server_url=standin.url, server_token=TOKEN).start().stop()
        assert wait_for(lambda: not spooled(), 10)
    assert max(standin.batches) <= 3
    assert len(rejected()) == 1 and f"{first.run_id}-000003" in rejected()[0]
    assert bad not in standin.store and f"{second.run_id}:1" in standin.store
    assert waiting - {bad} <= standin.keys()  # the others, sent again file by file, all taken


def test_the_settings_the_env_and_the_command_line_turn_it_on(machine, monkeypatch):
    from typer.testing import CliRunner

    from wattprint.cli import app

    with StandIn() as standin:
        monkeypatch.setenv("WATTPRINT_SERVER_URL", standin.url)
        monkeypatch.setenv("WATTPRINT_SERVER_TOKEN", TOKEN)
        r = Tracker(country="FRA").start().stop()
        assert wait_for(lambda: f"{r.run_id}:1" in standin.store, 10)
        shown = CliRunner().invoke(app, ["config", "--json"])
        assert TOKEN not in shown.output and "(set)" in shown.output
        monkeypatch.delenv("WATTPRINT_SERVER_URL")
        monkeypatch.delenv("WATTPRINT_SERVER_TOKEN")
        args = ["run", "--country", "FRA", "--server-url", standin.url, "--server-token", TOKEN]
        result = CliRunner().invoke(app, [*args, "--json", "summary.json", "--", "true"])
        assert result.exit_code == 0, result.output
        assert json.loads(Path("summary.json").read_text())["status"] == "finished"
        assert wait_for(lambda: len(standin.keys("record")) == 2, 10)
    with pytest.raises(ValueError, match="server_url"):
        Tracker(server_url="ftp://nowhere")


def test_intervals_go_together_and_one_refused_sets_their_file_aside(machine, monkeypatch):
    monkeypatch.setattr(server, "INTERVALS_WITHIN_S", 3600.0)  # held until the run ends
    with StandIn() as standin:
        standin.refuse = lambda e: "not this one" if e["key"].endswith(":i2") else None
        final = busy_run(machine, standin.url, seconds=0.3).stop()
        assert wait_for(lambda: not spooled(), 10)
    rid = final.run_id
    intervals = standin.keys("interval")
    assert len(intervals) >= 2 and f"{rid}:i2" not in intervals and f"{rid}:i1" in intervals
    kept = rejected()
    assert kept == [n for n in kept if f"{rid}-i000001" in n] and len(kept) == 1  # one file
    folder = server.spool_folder(".") / spooling.REJECTED
    assert f"{rid}:i2: not this one" in (folder / f"{kept[0]}.response").read_text()
