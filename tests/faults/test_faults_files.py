"""Files wattprint did not write are never appended to or modified, whatever their encoding or
type: rows go beside them (emissions_wattprint.csv), and that is said once."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

from tests.fakes.faultkit import rows
from wattprint import Tracker
from wattprint.records import COLUMNS

THEIRS = {
    "Latin-1 text": "timestamp,projet,énergie\n2024-01-01,été,1.5\n".encode("latin-1"),
    "a blank first line": b"\ntimestamp,project_name\n2024-01-01,mine\n",
    "a first line of spaces": b"   \r\n" + ",".join(COLUMNS).encode() + b"\r\n",
    "our header after a BOM": b"\xef\xbb\xbf" + ",".join(COLUMNS).encode() + b"\r\n",
    "our header, then more columns": ",".join([*COLUMNS, "extra"]).encode() + b"\r\n",
    "our header cut short": ",".join(COLUMNS[:-1]).encode(),
    "binary": bytes(range(256)) * 4,
}


@pytest.mark.parametrize("content", THEIRS.values(), ids=THEIRS.keys())
def test_a_file_we_did_not_write_is_left_as_it_was(machine, caplog, content):
    Path("emissions.csv").write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        Tracker(country="FRA").start().stop()
        Tracker(country="FRA").start().stop()
    assert Path("emissions.csv").read_bytes() == content
    assert len(rows("emissions_wattprint.csv")) == 2
    assert len([m for m in caplog.messages if "left untouched" in m]) == 1


def test_our_own_file_is_appended_to(machine):
    Tracker(country="FRA").start().stop()
    Tracker(country="FRA").start().stop()
    assert len(rows()) == 2 and not Path("emissions_wattprint.csv").exists()


def start_and_stop_in_a_thread() -> threading.Thread:
    """A tracker's start and stop, in a thread the test can give up on rather than hang."""
    worker = threading.Thread(target=lambda: Tracker(country="FRA").start().stop(), daemon=True)
    worker.start()
    worker.join(30)
    return worker


def test_a_fifo_named_emissions_csv_does_not_block_start(machine):
    os.mkfifo("emissions.csv")
    assert not start_and_stop_in_a_thread().is_alive(), "start() or stop() is blocked"
    assert Path("emissions.csv").is_fifo()
    assert len(rows("emissions_wattprint.csv")) == 1


def test_a_folder_named_emissions_csv_is_stepped_around(machine):
    os.mkdir("emissions.csv")
    assert not start_and_stop_in_a_thread().is_alive()
    assert len(rows("emissions_wattprint.csv")) == 1 and not os.listdir("emissions.csv")


def test_a_link_to_nowhere_is_not_followed(machine, tmp_path):
    os.symlink(tmp_path / "elsewhere.csv", "emissions.csv")
    Tracker(country="FRA").start().stop()
    assert not (tmp_path / "elsewhere.csv").exists()
    assert len(rows("emissions_wattprint.csv")) == 1


def test_a_file_that_became_someone_elses_during_the_run_is_not_written(machine):
    """The CSV is chosen at start; another tool writes a file of that name before stop(): the
    run's row goes beside it, as later runs' rows do."""
    tracker = Tracker(country="FRA").start()
    theirs = "name,valeur\nx,é\n".encode("latin-1")
    Path("emissions.csv").write_bytes(theirs)
    tracker.stop()
    Tracker(country="FRA").start().stop()
    assert Path("emissions.csv").read_bytes() == theirs
    assert [r["run_id"] for r in rows("emissions_wattprint.csv")][0] == tracker.run_id
    assert len(rows("emissions_wattprint.csv")) == 2


def test_a_value_that_is_not_text_is_stored_escaped_not_lost(machine):
    """A lone surrogate (undecodable bytes of an environment variable) costs no row."""
    from wattprint.sinks.csv import append_row

    append_row(Path("emissions.csv"), COLUMNS, {"run_id": "r-1", "project_name": "caf\udce9"})
    (row,) = rows()
    assert row["run_id"] == "r-1" and row["project_name"] == "caf\\udce9"
