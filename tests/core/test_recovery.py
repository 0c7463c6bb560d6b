"""A tracked process killed with SIGKILL loses at most one interval: the next tracker started
in the same output_dir writes the killed run's row with status=interrupted."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wattprint import Tracker

ROOT = str(Path(__file__).resolve().parents[2])  # the repository: tests.fakes imports from it

VICTIM = f"""
import sys, time
sys.path.insert(0, {ROOT!r})
from tests.fakes.fakenvml import NoNvml
from wattprint.meters import nvidia
nvidia.load_adapter = lambda: NoNvml()
from wattprint import Tracker
tracker = Tracker(project_name="victim", country="FRA", interval_s=0.05).start()
print(tracker.run_id, flush=True)
while True:
    time.sleep(1)
"""


def start_victim() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-c", VICTIM], stdout=subprocess.PIPE, text=True)
    run_id = proc.stdout.readline().strip()
    assert run_id, "the tracked process did not start"
    return proc, run_id


def journal_lines(run_id: str) -> list[dict]:
    running = Path(".wattprint") / f"{run_id}.running.jsonl"
    path = running if running.exists() else Path(".wattprint") / f"{run_id}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def wait_for_intervals(run_id: str, n: int) -> list[dict]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lines = journal_lines(run_id)
        if sum(x["type"] == "interval" for x in lines) >= n:
            return lines
        time.sleep(0.05)
    pytest.fail("the tracked process wrote no intervals")


def rows() -> list[dict[str, str]]:
    with open("emissions.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_sigkilled_run_is_recovered_once_as_interrupted(machine):
    proc, run_id = start_victim()
    try:
        wait_for_intervals(run_id, 3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    lines = journal_lines(run_id)
    last = [x for x in lines if x["type"] == "interval"][-1]
    assert not Path("emissions.csv").exists()  # the killed process wrote no row

    Tracker(country="FRA").start().stop()
    first, second = rows()
    assert first["run_id"] == run_id and first["status"] == "interrupted"
    assert first["project_name"] == "victim"
    assert float(first["duration"]) == pytest.approx(last["duration_s"])
    assert float(first["cpu_energy"]) > 0 and first["cpu_method"] == "cpu-model"
    assert second["status"] == "finished"
    # The recovered journal is renamed as done, never left as running, and says how it ended.
    folder = Path(".wattprint")
    assert not (folder / f"{run_id}.running.jsonl").exists()
    done = folder / f"{run_id}.jsonl"
    assert json.loads(done.read_text().splitlines()[-1])["type"] == "end"

    Tracker(country="FRA").start().stop()  # recovered once, not again
    assert [r["run_id"] for r in rows()].count(run_id) == 1


def test_a_run_still_alive_elsewhere_is_left_alone(machine):
    proc, run_id = start_victim()
    try:
        wait_for_intervals(run_id, 1)
        Tracker(country="FRA").start().stop()
        assert [r["run_id"] for r in rows()].count(run_id) == 0
        assert journal_lines(run_id)[-1]["type"] == "interval"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_killed_before_its_first_interval_is_recorded_as_unmeasured(machine):
    Path(".wattprint").mkdir()
    meta = {
        "type": "run", "run_id": "r-0", "pid": 999_999_999, "host": os.uname().nodename,
        "create_time": 0.0, "started_at": "2026-11-23T10:00:00+00:00", "project_name": "p",
        "experiment_name": None, "run_name": None, "pue": 1.0, "tracking_mode": "machine",
        "machine": {}, "location": {"country": "FRA", "source": "explicit"},
        "intensity": {"value": 44.18, "low": 44.18, "high": 44.18, "kind": "annual-average",
                      "zone": "FRA", "year": 2024, "source": "test"},
        "csv": "emissions.csv",
    }  # fmt: skip
    Path(".wattprint/r-0.running.jsonl").write_text(json.dumps(meta) + "\n")
    Tracker(country="FRA").start().stop()
    lost = rows()[0]
    assert lost["run_id"] == "r-0" and lost["status"] == "interrupted"
    assert (
        lost["cpu_energy"] == "" and lost["emissions"] == "" and "first interval" in lost["notes"]
    )


def test_recover_command_sends_the_rows_to_the_exporters_the_settings_name(machine, monkeypatch):
    """`wattprint recover` gives a recovered row to the webhook named by the
    settings, as a tracker's start does: the receiver learns how the killed run ended."""
    from typer.testing import CliRunner

    from tests.fakes.faultkit import interval, run_line, write_journal
    from tests.fakes.receiver import Receiver, wait_for
    from wattprint.cli import app

    for key in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    write_journal("r-1", run_line("r-1"), interval(10.0, 3600.0))
    with Receiver() as receiver:
        monkeypatch.setenv("WATTPRINT_WEBHOOK_URL", f"{receiver.url}/hook")
        result = CliRunner().invoke(app, ["recover", "."])
        assert result.exit_code == 0, result.output
        assert wait_for(lambda: receiver.received(), 10)
        (request,) = receiver.received()
    body = json.loads(request.body)
    assert request.headers["idempotency-key"] == "r-1:recovered"
    assert body["record"]["run_id"] == "r-1" and body["record"]["status"] == "interrupted"
    assert rows()[0]["run_id"] == "r-1"


def test_recover_command_sends_the_rows_to_the_team_server_the_settings_name(machine, monkeypatch):
    """The server sink is a row sink: a run recovered by `wattprint recover` reaches the team
    server, keyed so that a second recovery of the same row would not add it twice."""
    from typer.testing import CliRunner

    from tests.fakes.faultkit import interval, run_line, write_journal
    from tests.fakes.receiver import wait_for
    from tests.fakes.standin import StandIn
    from wattprint.cli import app

    for key in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    write_journal("r-2", run_line("r-2"), interval(10.0, 3600.0))
    with StandIn() as server:
        monkeypatch.setenv("WATTPRINT_SERVER_URL", server.url)
        monkeypatch.setenv("WATTPRINT_SERVER_TOKEN", server.token)
        result = CliRunner().invoke(app, ["recover", "."])
        assert result.exit_code == 0, result.output
        assert wait_for(lambda: server.keys("record"), 10)
        (key,) = server.keys("record")
        record = server.store[key]["record"]
    assert key == "r-2:recovered"
    assert record["run_id"] == "r-2" and record["status"] == "interrupted"
