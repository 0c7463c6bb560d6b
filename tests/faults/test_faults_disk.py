"""A disk that fills during a run: the user's program never sees wattprint's OSError (nor loses
its own exception to it), a row is written whole or not at all, the problem is said once, and
the run's one final row is written at the next chance once space returns.

The full disk is a small tmpfs: mounting one needs root, as CI and the project's machines run;
elsewhere these tests skip, saying so."""

from __future__ import annotations

import csv
import errno
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakes.faultkit import PRELUDE, final_rows, rows
from wattprint import Tracker
from wattprint.records import COLUMNS, TASK_COLUMNS
from wattprint.sinks.csv import append_row, format_row

PAGE = os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def small_disk(tmp_path: Path):
    if os.geteuid() != 0:
        pytest.skip("a full disk is a small tmpfs, and mounting one needs root (CI runs as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(folder: Path) -> Path:
    """Take every free byte of the file system ``folder`` is on."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        while True:
            os.write(fd, b"\0" * PAGE)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


class UserError(Exception):
    pass


def no_space_messages(caplog) -> list[str]:
    return [m for m in caplog.messages if "no space left" in m]


def test_a_full_disk_at_stop_keeps_the_users_exception_and_defers_the_row(
    machine, small_disk, caplog
):
    tracker = Tracker(country="FRA", output_dir=small_disk, interval_s=0.05)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        with pytest.raises(UserError):  # the user's own exception, not wattprint's OSError
            with tracker:
                with tracker.task("step"):
                    time.sleep(0.05)
                    filler = fill(small_disk)
                    time.sleep(0.1)  # the sampler's journal writes fail too
                    tracker.flush()  # a row that cannot be written either
                    raise UserError("the user's bug")
    assert tracker.result is not None and tracker.result.status == "failed"
    csv = small_disk / "emissions.csv"
    assert not csv.exists() or csv.stat().st_size == 0  # nothing torn
    assert len(no_space_messages(caplog)) == 1  # said once, for the journal and both CSVs

    filler.unlink()  # space returns; the next tracker here writes the row
    Tracker(country="FRA", output_dir=small_disk).start().stop()
    (row,) = final_rows(tracker.run_id, csv)
    assert row["status"] == "failed"  # its own status, not a rebuilt "interrupted"
    assert float(row["duration"]) == pytest.approx(tracker.result.duration_s)
    assert len(rows(csv)) == 2
    (task,) = rows(small_disk / "emissions_tasks.csv", TASK_COLUMNS)
    assert task["task_name"] == "step" and task["status"] == "failed"
    Tracker(country="FRA", output_dir=small_disk).start().stop()
    assert len(final_rows(tracker.run_id, csv)) == 1


def test_a_disk_full_from_the_start_loses_no_row(machine, small_disk, caplog):
    """No room even for the journal: the run is measured, and its row written later."""
    filler = fill(small_disk)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        tracker = Tracker(country="FRA", output_dir=small_disk).start()
        result = tracker.stop()
    assert result.status == "finished"
    assert len(no_space_messages(caplog)) == 1
    filler.unlink()
    Tracker(country="FRA", output_dir=small_disk).start().stop()
    (row,) = final_rows(result.run_id, small_disk / "emissions.csv")
    assert row["status"] == "finished"


DIES_WITH_A_FULL_DISK = """
import time
from pathlib import Path
disk = Path(sys.argv[1])
t = Tracker(country="FRA", output_dir=disk, interval_s=0.05).start()
time.sleep(0.1)
fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
try:
    while True:
        os.write(fd, bytes(4096))
except OSError:
    pass
t.stop()
print(t.run_id)
"""


def test_a_process_that_ends_with_the_disk_full_is_recovered_once(machine, small_disk):
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + DIES_WITH_A_FULL_DISK, str(small_disk)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    run_id = done.stdout.strip()
    (small_disk / "filler").unlink()
    for _ in range(2):
        Tracker(country="FRA", output_dir=small_disk).start().stop()
        (row,) = final_rows(run_id, small_disk / "emissions.csv")
        assert row["status"] == "interrupted" and float(row["duration"]) > 0


FREES_SPACE_BEFORE_IT_EXITS = """
from pathlib import Path
disk = Path(sys.argv[1])
t = Tracker(country="FRA", output_dir=disk).start()
fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
try:
    while True:
        os.write(fd, bytes(4096))
except OSError:
    os.close(fd)
t.stop()
assert not (disk / "emissions.csv").exists() or not (disk / "emissions.csv").stat().st_size
os.unlink(disk / "filler")
print(t.run_id)
"""


def test_rows_waiting_for_space_are_written_as_the_process_exits(machine, small_disk):
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + FREES_SPACE_BEFORE_IT_EXITS, str(small_disk)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    (row,) = final_rows(done.stdout.strip(), small_disk / "emissions.csv")
    assert row["status"] == "finished"  # written by the process itself, with its own status
    Tracker(country="FRA", output_dir=small_disk).start().stop()  # closes its journal
    assert len(final_rows(done.stdout.strip(), small_disk / "emissions.csv")) == 1


def test_a_row_the_disk_cannot_take_whole_is_not_written_at_all(small_disk):
    path = small_disk / "emissions.csv"
    row = {c: "1" for c in COLUMNS}
    append_row(path, COLUMNS, row)
    # One more row, sized so that the file's last page keeps 100 bytes free: the next row
    # fits only in part, and the kernel takes what fits.
    base = len(format_row(COLUMNS, {**row, "notes": ""}, header=False))
    pad = (PAGE - 100 - path.stat().st_size - base) % PAGE
    append_row(path, COLUMNS, {**row, "notes": "n" * pad})
    assert path.stat().st_size % PAGE == PAGE - 100
    fill(small_disk)
    before = path.read_bytes()
    with pytest.raises(OSError) as raised:
        append_row(path, COLUMNS, row)
    assert raised.value.errno == errno.ENOSPC
    assert path.read_bytes() == before
    assert len(rows(path)) == 2


def test_a_row_torn_by_an_earlier_crash_stays_apart_from_the_next(machine):
    append_row(Path("emissions.csv"), COLUMNS, {c: "1" for c in COLUMNS})
    with open("emissions.csv", "ab") as f:
        f.write(b"2026-11-23T10:00:00,torn,")  # a power cut mid-row, by some writer
    torn = Path("emissions.csv").read_bytes()
    tracker = Tracker(country="FRA").start()
    tracker.stop()
    data = Path("emissions.csv").read_bytes()
    assert data.startswith(torn)  # the torn bytes are the user's to judge: kept
    assert data[len(torn) :].startswith(b"\r\n")
    last = data.splitlines()[-1].decode()
    (fields,) = csv.reader([last])  # notes may hold quoted commas
    assert tracker.run_id in fields and len(fields) == len(COLUMNS)
