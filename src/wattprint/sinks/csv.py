"""Append rows to a CSV file that people and pandas read, without ever damaging one they had.

A file whose header is not exactly ours (an older wattprint, CodeCarbon's own file, a file the
user edited) is left untouched: rows go to a sibling file, and the caller says so once.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

try:  # POSIX: serialise appends from several processes sharing an output_dir
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def _header(path: Path) -> list[str] | None:
    """The file's header, [] if it is empty, None if it does not exist."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            first = f.readline()
    except FileNotFoundError:
        return None
    return next(csv.reader([first]), []) if first.strip() else []


def choose_path(path: Path, columns: Sequence[str]) -> tuple[Path, bool]:
    """Where rows for ``path`` go: itself, or the first sibling whose header is ours.

    Returns the path and whether it differs from the one asked for.
    """
    candidates = [path] + [
        path.with_name(f"{path.stem}_wattprint{'' if n == 1 else n}{path.suffix}")
        for n in range(1, 100)
    ]
    for candidate in candidates:
        header = _header(candidate)
        if header is None or header == [] or header == list(columns):
            return candidate, candidate != path
    raise OSError(f"{path.parent}: no free file name for {path.name}; clean up old copies")


def append_row(path: Path, columns: Sequence[str], row: Mapping[str, Any]) -> None:
    """Append one row (writing the header first if the file is new), flushed to the OS."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", newline="", encoding="utf-8") as f:
        if fcntl is not None:
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            if f.tell() == 0 and os.fstat(f.fileno()).st_size == 0:
                writer.writeheader()
            writer.writerow(row)
            f.write(buffer.getvalue())
            f.flush()
        finally:
            if fcntl is not None:
                fcntl.flock(f, fcntl.LOCK_UN)


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
