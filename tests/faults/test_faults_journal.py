"""Damaged journals: each is read line by line, what is damaged is skipped and counted, the run
is recovered from what is intact, a journal that cannot be used is set aside (never deleted) with
one warning, and no journal ever blocks the recovery of another, raises out of start(), or makes
``wattprint recover`` print a traceback."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fakes.faultkit import (
    DEAD_PID,
    final_rows,
    interval,
    journal_names,
    rows,
    run_line,
    write_journal,
)
from wattprint import Tracker
from wattprint.cli import app
from wattprint.records import J_PER_KWH

GOOD = interval(10.0, 3600.0)
LATER = interval(20.0, 7200.0)

#: Damage that spoils one line and leaves the rest of the journal readable.
DAMAGED_LINES = {
    "interval without its fields": b'{"type":"interval"}\n',
    "not an object": b"[1, 2, 3]\n",
    "a bare string": b'"interval"\n',
    "not JSON": b"{this is not json\n",
    "not UTF-8": b'{"type":"interval","t":\xff\xfe}\n',
    "energy that is text": b'{"type":"interval","t":1,"duration_s":5,"components":{"cpu":'
    b'{"energy_j":"lots"}}}\n',
    "an infinite duration": b'{"type":"interval","t":1,"duration_s":Infinity,"components":{}}\n',
    "a line of NUL bytes": b"\x00" * 40 + b"\n",
    "deeply nested": b"[" * 100_000 + b"]" * 100_000 + b"\n",
}


@pytest.mark.parametrize("damage", DAMAGED_LINES.values(), ids=DAMAGED_LINES.keys())
def test_a_damaged_line_is_skipped_and_the_run_recovered_from_the_rest(machine, caplog, damage):
    write_journal("r-1", run_line("r-1"), GOOD, damage, LATER, damage)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        Tracker(country="FRA").start().stop()
    (row,) = final_rows("r-1")
    assert row["status"] == "interrupted"
    assert float(row["duration"]) == 20.0  # the newest intact interval
    assert float(row["cpu_energy"]) == pytest.approx(7200.0 / J_PER_KWH)
    assert "2 damaged line(s)" in row["notes"]
    assert "r-1.jsonl" in journal_names() and all_closed()


def all_closed() -> bool:
    """No journal is left running, claimed or set aside."""
    return all(n.endswith(".jsonl") and ".running" not in n for n in journal_names())


def test_a_half_written_last_line_is_skipped(machine):
    whole = run_line("r-1")
    cut = interval(30.0, 9000.0)
    write_journal("r-1", whole, GOOD, LATER, json.dumps(cut)[:-20].encode())
    Tracker(country="FRA").start().stop()
    (row,) = final_rows("r-1")
    assert float(row["duration"]) == 20.0 and "1 damaged line(s)" in row["notes"]


def test_a_run_whose_only_interval_is_damaged_is_recovered_as_unmeasured(machine):
    write_journal("r-1", run_line("r-1"), b'{"type":"interval"}\n')
    Tracker(country="FRA").start().stop()
    (row,) = final_rows("r-1")
    assert row["status"] == "interrupted" and row["cpu_energy"] == ""
    assert "first interval" in row["notes"] and "1 damaged line(s)" in row["notes"]


UNUSABLE = {
    "no run line": (b"garbage\n", GOOD),
    "a run line that is not UTF-8": (b'{"type":"run","run_id":"\xff"}\n', GOOD),
    "a run line missing what a row needs": (
        {"type": "run", "run_id": "r-1", "pid": DEAD_PID},
        GOOD,
    ),
    "an empty file": (b"",),
}


@pytest.mark.parametrize("parts", UNUSABLE.values(), ids=UNUSABLE.keys())
def test_an_unusable_journal_is_set_aside_and_never_blocks_the_others(machine, caplog, parts):
    bad = write_journal("r-1", *parts)
    before = bad.read_bytes()
    write_journal("r-2", run_line("r-2"), GOOD)  # a killed run in the same folder
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        tracker = Tracker(country="FRA").start()
        tracker.stop()
        Tracker(country="FRA").start().stop()  # said once, set aside once
    aside = Path(".wattprint/r-1.running.jsonl.damaged")
    assert aside.read_bytes() == before  # kept, byte for byte
    assert not bad.exists()
    said = [m for m in caplog.messages if "r-1.running.jsonl" in m]
    assert len(said) == 1 and "r-1.running.jsonl.damaged" in said[0]
    (row,) = final_rows("r-2")
    assert float(row["duration"]) == 10.0
    assert not [r for r in rows() if r["run_id"] == "r-1"]


def test_recover_command_prints_no_traceback_on_damaged_journals(machine):
    write_journal("r-1", run_line("r-1"), b'{"type":"interval"}\n', b"\xff\xfe\n")
    write_journal("r-2", b"[]\n", GOOD)
    write_journal("r-3", run_line("r-3"), GOOD, LATER)
    result = CliRunner().invoke(app, ["recover", "."])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "recovered r-1" in result.output and "recovered r-3" in result.output
    assert {r["run_id"] for r in rows()} == {"r-1", "r-3"}
    assert "r-2.running.jsonl.damaged" in journal_names()


def test_a_journal_that_cannot_be_read_at_all_does_not_reach_start(machine, monkeypatch, caplog):
    """An I/O error reading one journal is said, and the other journals are recovered."""
    from wattprint import journal

    real = journal.read

    def failing(path):
        if path.name.startswith("r-1"):
            raise OSError(5, "Input/output error")
        return real(path)

    monkeypatch.setattr(journal, "read", failing)
    write_journal("r-1", run_line("r-1"), GOOD)
    write_journal("r-2", run_line("r-2"), GOOD)
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        Tracker(country="FRA").start().stop()
    assert [r["run_id"] for r in rows() if r["status"] == "interrupted"] == ["r-2"]
    assert "r-1.running.jsonl" in journal_names()  # left for a later try
    assert any("Input/output error" in m for m in caplog.messages)


def test_a_moved_folder_is_recovered_where_its_journal_is_now(machine, tmp_path):
    old = tmp_path / "old"
    write_journal("r-1", run_line("r-1", folder=old), GOOD, folder=old)
    new = tmp_path / "new"
    old.rename(new)
    result = CliRunner().invoke(app, ["recover", str(new)])
    assert result.exit_code == 0, result.output
    assert not old.exists()  # the old absolute path is not re-created
    (row,) = final_rows("r-1", new / "emissions.csv")
    assert row["status"] == "interrupted"


def test_a_row_that_cannot_be_written_leaves_the_run_to_recover_later(machine, monkeypatch):
    from wattprint.sinks import csv as rows

    real = rows.append_row

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    write_journal("r-1", run_line("r-1"), GOOD)
    monkeypatch.setattr(rows, "append_row", refuse)
    result = CliRunner().invoke(app, ["recover", "."])
    assert "recovered r-1" not in result.output and "no interrupted run" in result.output
    assert "r-1.running.jsonl" in journal_names()  # not marked recovered
    monkeypatch.setattr(rows, "append_row", real)
    result = CliRunner().invoke(app, ["recover", "."])
    assert "recovered r-1" in result.output
    assert len(final_rows("r-1")) == 1 and "r-1.jsonl" in journal_names()


def damage(data: bytes, rng: random.Random) -> bytes:
    """One random kind of damage: bytes flipped, the end cut, bytes inserted, lines shuffled."""
    kind = rng.randrange(4)
    if kind == 0:
        out = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] = rng.randrange(256)
        return bytes(out)
    if kind == 1:
        return data[: rng.randrange(len(data))]
    if kind == 2:
        at = rng.randrange(len(data))
        return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]
    lines = data.splitlines(keepends=True)
    rng.shuffle(lines)
    return b"".join(lines)


def test_random_damage_never_raises_loses_no_file_and_gives_at_most_one_row(machine):
    """Seeded, so that a failure names the journal that caused it and is reproducible."""
    from wattprint import recovery

    seeds = range(80)
    for seed in seeds:
        rng = random.Random(seed)
        whole = b"".join(
            json.dumps(x).encode() + b"\n"
            for x in [run_line(f"r-{seed}"), *(interval(10.0 * k, 100.0 * k) for k in (1, 2, 3))]
        )
        write_journal(f"r-{seed}", damage(whole, rng))
    for _ in range(2):
        recovery.recover(".")
    names = journal_names()
    assert len(names) == len(seeds)  # renamed, never deleted
    got = [r["run_id"] for r in rows()] if Path("emissions.csv").exists() else []
    assert len(got) == len(set(got)) <= len(seeds)
    intact = [n for n in names if n.endswith(".jsonl") and ".running" not in n]
    assert len(intact) >= len(got) and len(got) > len(seeds) // 4  # most runs are recovered


def test_a_run_line_with_undecodable_text_is_recovered_escaped(machine):
    """A name made of undecodable bytes (a lone surrogate, as json writes it) costs no row."""
    path = write_journal("r-1", run_line("r-1"), GOOD)
    path.write_bytes(path.read_bytes().replace(b'"victim"', b'"caf\\udce9"'))
    Tracker(country="FRA").start().stop()
    (row,) = final_rows("r-1")
    assert row["project_name"] == "caf\\udce9"
