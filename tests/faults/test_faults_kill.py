"""Kills at every step of stop() and of recovery: whatever the step, the run ends up with
exactly one final row once a tracker starts again, and every step is safe to repeat."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.faultkit import (
    final_rows,
    interval,
    journal_names,
    rows,
    run_dying,
    run_line,
    write_journal,
)
from wattprint import Tracker, journal, tracker

STOP_SCRIPT = """
t = Tracker(project_name="dying", country="FRA", interval_s=0.05).start()
import time
time.sleep(0.2)
print(t.run_id, flush=True)
{patch}
t.stop()
"""

#: kill point in stop() -> (the patch that dies there, the status its row ends with)
STOP_POINTS = {
    "before the row": ("die_before(rows, 'write_row')", "interrupted"),
    "after the row": ("die_after(rows, 'write_row')", "finished"),
    "after the end line, before the rename": ("die_after(journal.Journal, 'close')", "finished"),
}


def all_closed() -> bool:
    names = journal_names()
    return bool(names) and all(n.endswith(".jsonl") and ".running" not in n for n in names)


@pytest.mark.parametrize("point", STOP_POINTS, ids=STOP_POINTS)
def test_a_kill_at_each_step_of_stop_leaves_one_final_row(machine, point):
    patch, status = STOP_POINTS[point]
    dying = run_dying(STOP_SCRIPT.format(patch=patch))
    run_id = dying.stdout.strip()
    for _ in range(2):  # recovery is safe to repeat
        Tracker(country="FRA").start().stop()
        (row,) = final_rows(run_id)
        assert row["status"] == status and row["project_name"] == "dying"
    assert all_closed()


RECOVERY_SCRIPT = """
recovery.recover(".")
"""

#: kill point in recovery -> the patch that dies there
RECOVERY_POINTS = {
    "after the claim": "die_after(journal, 'claim')",
    "after the row": "die_after(rows, 'append_result')",
    "after the end line, before the rename": "die_before(journal, 'finish')",
}


@pytest.mark.parametrize("point", RECOVERY_POINTS, ids=RECOVERY_POINTS)
def test_a_kill_at_each_step_of_recovery_leaves_one_final_row(machine, point):
    write_journal("r-1", run_line("r-1"), interval(10.0, 3600.0))
    run_dying(RECOVERY_POINTS[point] + "\n" + RECOVERY_SCRIPT)
    assert not any(n.startswith("r-1") and n.endswith(".jsonl") for n in journal_names())
    for _ in range(2):
        Tracker(country="FRA").start().stop()
        (row,) = final_rows("r-1")
        assert row["status"] == "interrupted" and float(row["duration"]) == 10.0
    assert all_closed() and "r-1.jsonl" in journal_names()


def test_a_claim_whose_claimer_died_before_saying_so_is_taken_over_once_old(machine):
    path = write_journal("r-1", run_line("r-1"), interval(10.0, 3600.0))
    claimed = path.with_name("r-1.4242.recovering")  # renamed, then killed: no claim line
    path.rename(claimed)
    Tracker(country="FRA").start().stop()
    assert not [r for r in rows() if r["run_id"] == "r-1"]  # it may be at work right now
    old = time.time() - journal.STALE_CLAIM_S - 5
    os.utime(claimed, (old, old))
    Tracker(country="FRA").start().stop()
    assert len(final_rows("r-1")) == 1 and "r-1.jsonl" in journal_names()


def test_a_live_claim_is_left_alone(machine):
    """A claim held by a process that is alive (here, this one, busy recovering it)."""
    path = write_journal("r-1", run_line("r-1"), interval(10.0, 3600.0))
    claimed = journal.claim(path)
    assert claimed is not None
    tracker.recover(".")
    assert not Path("emissions.csv").exists() and claimed.exists()
    journal.unclaim(claimed)
    tracker.recover(".")
    assert len(final_rows("r-1")) == 1


@pytest.fixture
def sleeper():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_reused_pid_does_not_keep_a_dead_run_alive(machine, sleeper):
    """The pid now belongs to another process (its start time differs): the run is dead."""
    live = journal.process_identity(sleeper.pid)
    write_journal("r-2", run_line("r-2", pid=sleeper.pid, create_time=live["create_time"]))
    write_journal(
        "r-1",
        run_line("r-1", pid=sleeper.pid, create_time=live["create_time"] - 100),
        interval(10.0, 3600.0),
    )
    Tracker(country="FRA").start().stop()
    assert len(final_rows("r-1")) == 1
    assert not [r for r in rows() if r["run_id"] == "r-2"]  # its process is alive
    assert "r-2.running.jsonl" in journal_names()


def test_another_hosts_run_in_a_shared_folder_is_left_alone(machine):
    write_journal("r-1", run_line("r-1", host="another-host"), interval(10.0, 3600.0))
    Tracker(country="FRA").start().stop()
    assert not [r for r in rows() if r["run_id"] == "r-1"]
    assert "r-1.running.jsonl" in journal_names()


def test_a_run_of_this_process_is_alive_only_while_its_journal_is_open(machine):
    me = journal.process_identity()
    write_journal("r-1", run_line("r-1", **me), interval(10.0, 3600.0))  # not open: dead
    running = Tracker(country="FRA").start()
    try:
        assert len(final_rows("r-1")) == 1
        tracker.recover(".")  # the running tracker's own journal is left alone
        assert f"{running.run_id}.running.jsonl" in journal_names()
    finally:
        running.stop()
    assert len(final_rows(running.run_id)) == 1


def test_a_failed_rename_of_a_recovered_journal_is_said_and_finished_later(
    machine, monkeypatch, caplog
):
    write_journal("r-1", run_line("r-1"), interval(10.0, 3600.0))
    real = journal.finish

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(journal, "finish", refuse)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        tracker.recover(".")  # does not raise
    assert any("Permission denied" in m for m in caplog.messages)
    assert len(final_rows("r-1")) == 1
    monkeypatch.setattr(journal, "finish", real)
    tracker.recover(".")
    assert len(final_rows("r-1")) == 1 and journal_names() == ["r-1.jsonl"]
    last = json.loads(Path(".wattprint/r-1.jsonl").read_text().splitlines()[-1])
    assert last["type"] == "end" and last["recovered"] is True


def test_processes_recovering_one_folder_at_once_write_each_row_once(machine):
    from tests.fakes.faultkit import PRELUDE

    for n in range(6):
        write_journal(f"r-{n}", run_line(f"r-{n}"), interval(10.0 + n, 3600.0))
    script = PRELUDE + "tracker.recover('.')\n"
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(4)]
    assert [p.wait(120) for p in procs] == [0] * 4
    Tracker(country="FRA").start().stop()
    for n in range(6):
        (row,) = final_rows(f"r-{n}")
        assert float(row["duration"]) == 10.0 + n
    assert all_closed()
