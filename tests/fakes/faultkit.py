"""Shared pieces of the fault-injection tests: journals of killed runs written by hand, CSV
checks that hold whatever happened, and a subprocess that dies at a named point."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from wattprint.records import COLUMNS

ROOT = str(Path(__file__).resolve().parents[2])  # the repository: tests.fakes imports from it
DEAD_PID = 999_999_999  # above pid_max: no process has it


def run_line(run_id: str, folder: Path | str = ".", **changes: Any) -> dict[str, Any]:
    """The ``run`` line of a run whose process is gone, on this host."""
    folder = Path(folder).absolute()
    meta = {
        "type": "run", "run_id": run_id, "pid": DEAD_PID, "host": os.uname().nodename,
        "create_time": 0.0, "started_at": "2026-11-23T10:00:00+00:00", "project_name": "victim",
        "experiment_name": None, "run_name": None, "pue": 1.0, "tracking_mode": "machine",
        "machine": {}, "location": {"country": "FRA", "source": "explicit"},
        "intensity": {"value": 50.0, "low": 40.0, "high": 60.0, "kind": "country-annual",
                      "zone": "FRA", "year": 2024, "source": "test"},
        "csv": str(folder / "emissions.csv"), "output_dir": str(folder),
    }  # fmt: skip
    meta.update(changes)
    return meta


def interval(duration_s: float, cpu_j: float) -> dict[str, Any]:
    """A cumulative interval: ``cpu_j`` joules of CPU in ``duration_s`` seconds."""
    part = {"energy_j": cpu_j, "low_j": cpu_j * 0.9, "high_j": cpu_j * 1.1, "method": "rapl"}
    grams = cpu_j / 3.6e6 * 50.0
    return {
        "type": "interval",
        "t": 1_795_000_000.0 + duration_s,
        "duration_s": duration_s,
        "components": {"cpu": part},
        "emissions_g": grams,
        "emissions_low_g": grams * 0.72,
        "emissions_high_g": grams * 1.32,
        "notes": [],
    }


def line(obj: Any) -> bytes:
    return (json.dumps(obj) + "\n").encode()


def write_journal(run_id: str, *parts: bytes | dict[str, Any], folder: Path | str = ".") -> Path:
    """``folder/.wattprint/<run_id>.running.jsonl`` made of ``parts``: dicts become lines,
    bytes are written as they are (damage)."""
    journals = Path(folder) / ".wattprint"
    journals.mkdir(parents=True, exist_ok=True)
    path = journals / f"{run_id}.running.jsonl"
    path.write_bytes(b"".join(p if isinstance(p, bytes) else line(p) for p in parts))
    return path


def journal_names(folder: Path | str = ".") -> list[str]:
    journals = Path(folder) / ".wattprint"
    return sorted(p.name for p in journals.iterdir() if p.is_file()) if journals.is_dir() else []


def rows(
    path: Path | str = "emissions.csv", columns: tuple[str, ...] = COLUMNS
) -> list[dict[str, str]]:
    """Every row, after checking that the file is whole: our header, then complete rows."""
    data = Path(path).read_bytes()
    assert data.endswith(b"\r\n"), "the file ends in a torn row"
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        assert next(reader) == list(columns)
        got = list(reader)
    assert all(len(r) == len(columns) for r in got), "a row has the wrong number of fields"
    return [dict(zip(columns, r, strict=True)) for r in got]


def final_rows(run_id: str, path: Path | str = "emissions.csv") -> list[dict[str, str]]:
    return [r for r in rows(path) if r["run_id"] == run_id and r["status"] != "running"]


PRELUDE = f"""
import os, sys
sys.path.insert(0, {ROOT!r})
from tests.fakes.fakenvml import NoNvml
from wattprint.meters import nvidia
nvidia.load_adapter = lambda: NoNvml()
import wattprint.journal as journal
import wattprint.recovery as recovery
import wattprint.sinks.csv as rows
import wattprint.tracker as tracker
from wattprint import Tracker


def die_after(owner, name):
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        os._exit(9)

    setattr(owner, name, wrapper)


def die_before(owner, name):
    setattr(owner, name, lambda *args, **kwargs: os._exit(9))
"""


def run_dying(script: str, cwd: Path | str = ".") -> subprocess.CompletedProcess[str]:
    """Run ``PRELUDE + script`` in a Python of its own; it is expected to die with code 9."""
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 9, f"it did not die where asked: {done.returncode}\n{done.stderr}"
    return done
