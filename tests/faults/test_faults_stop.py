"""stop() under faults: a meter that stalls, a fault in wattprint's own accounting, a program
that calls sys.exit() -- stop() returns within its deadline, never raises, and writes the best
row it can, labelled."""

from __future__ import annotations

import logging
import sys
import threading
import time

import pytest

from tests.fakes.faultkit import final_rows, rows
from wattprint import Tracker, sampling
from wattprint import tracker as tracker_module
from wattprint.records import TASK_COLUMNS


class Stalling:
    """A meter whose read() blocks until the test lets it go (at most 30 s)."""

    def __init__(self, meter, only_in: str | None = None) -> None:
        self._meter = meter
        self._only_in = only_in  # stall only in the thread of this name
        self.gate = threading.Event()
        self.stalled = threading.Event()
        self.returned = False

    def __getattr__(self, name):
        return getattr(self._meter, name)

    def read(self):
        if self._only_in is None or threading.current_thread().name == self._only_in:
            self.stalled.set()
            self.gate.wait(30)
            self.returned = True
        return self._meter.read()


@pytest.mark.parametrize("where", ["sampler", "last reading"])
def test_a_stalled_meter_costs_stop_its_deadline_not_more(machine, monkeypatch, caplog, where):
    monkeypatch.setattr(tracker_module, "STOP_WAIT_S", 0.5)
    tracker = Tracker(country="FRA", interval_s=0.05).start()
    run = tracker._run
    with tracker._lock:
        stalling = Stalling(
            run.components["cpu"].meters[0], None if where == "sampler" else "wattprint-stop"
        )
        run.components["cpu"].meters[0] = stalling
    if where == "sampler":
        assert stalling.stalled.wait(10)  # the sampler is stuck, holding the tracker's lock
    try:
        with caplog.at_level(logging.WARNING, logger="wattprint"):
            result = tracker.stop()
        assert not stalling.returned  # stop() did not wait for the meter
        again = threading.Thread(target=lambda: tracker.start().stop(), daemon=True)
        again.start()
        again.join(20)
        assert not again.is_alive(), "the tracker cannot start again while the meter stalls"
        assert not stalling.returned
    finally:
        stalling.gate.set()
    assert result.status == "finished"
    assert result.cpu.method.endswith("+stalled") and "did not answer" in result.cpu.note
    assert result.cpu.high_kwh is None and result.emissions_high_kg is None
    assert result.ram.method == "ram-model"  # only the stalled component is labelled
    (row,) = final_rows(result.run_id)
    assert len(rows()) == 2  # and the run after it
    assert row["cpu_method"].endswith("+stalled") and row["emissions_high_kg"] == ""
    assert len([m for m in caplog.messages if "did not answer" in m]) == 1


def test_a_fault_in_emission_accounting_is_contained_and_the_row_written(
    machine, monkeypatch, caplog
):
    tracker = Tracker(country="FRA", interval_s=0.05).start()

    def broken(run):
        raise ZeroDivisionError("boom")

    with caplog.at_level(logging.WARNING, logger="wattprint"):
        monkeypatch.setattr(sampling, "account", broken)
        deadline = time.monotonic() + 10
        while not any("boom" in m for m in caplog.messages) and time.monotonic() < deadline:
            time.sleep(0.01)  # the sampler meets the fault first, and goes on
        result = tracker.stop()
    assert result is not None and result.status == "finished"
    assert any("emission accounting failed" in n for n in result.notes)
    assert result.emissions_high_kg is None  # the uncounted stretch has no upper bound
    (row,) = final_rows(result.run_id)
    assert "boom" in row["notes"]
    assert len([m for m in caplog.messages if "boom" in m]) == 1


def test_a_fault_in_accounting_never_reaches_flush_peek_or_tasks(machine, monkeypatch, caplog):
    tracker = Tracker(country="FRA", interval_s=60).start()
    monkeypatch.setattr(sampling, "account", lambda run: 1 / 0)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        with tracker.task("step"):
            assert tracker.peek().status == "running"
            assert tracker.flush().status == "running"
        result = tracker.stop()
    assert result.status == "finished" and len(final_rows(result.run_id)) == 1
    assert [r["status"] for r in rows("emissions_tasks.csv", TASK_COLUMNS)] == ["finished"]
    assert len([m for m in caplog.messages if "division by zero" in m]) == 1


def test_stop_never_raises_and_a_run_it_could_not_finish_is_recovered(machine, monkeypatch, caplog):
    tracker = Tracker(country="FRA", interval_s=0.05).start()
    run_id = tracker.run_id
    with monkeypatch.context() as patched, caplog.at_level(logging.WARNING, logger="wattprint"):
        patched.setattr(Tracker, "_build", lambda *args: 1 / 0)
        assert tracker.stop() is None  # no result, and no exception
    assert any("could not finish run" in m for m in caplog.messages)
    Tracker(country="FRA").start().stop()  # its journal is not alive any more: recovered
    (row,) = final_rows(run_id)
    assert row["status"] == "interrupted"


@pytest.mark.parametrize(
    ("leave", "status"),
    [
        (lambda: sys.exit(0), "finished"),
        (lambda: sys.exit(), "finished"),
        (lambda: sys.exit(3), "failed"),
        (lambda: sys.exit("fatal: bad input"), "failed"),
        (lambda: (_ for _ in ()).throw(KeyboardInterrupt), "interrupted"),
        (lambda: 1 / 0, "failed"),
    ],
    ids=["exit(0)", "exit()", "exit(3)", "exit(message)", "Ctrl-C", "exception"],
)
def test_how_a_with_block_ends_is_its_status(machine, leave, status):
    tracker = Tracker(country="FRA")
    with pytest.raises(BaseException) as left:
        with tracker, tracker.task("work"):
            leave()
    assert not isinstance(left.value, AssertionError)
    assert tracker.result.status == status
    assert [r["status"] for r in rows("emissions_tasks.csv", TASK_COLUMNS)] == [status]
