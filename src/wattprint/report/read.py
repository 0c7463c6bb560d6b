"""Reading ``emissions.csv`` files, wattprint's own and CodeCarbon's, into ``Run``s.

Every row of such a file is a cumulative record of a run (wattprint's flush rows have status
"running"), so a run counts once, with its last row: the latest timestamp, the later row in the
files on a tie. Files are read as UTF-8, with or without a byte-order mark (Excel writes one).

Damage is expected (a disk that filled mid-row, a file edited by hand): a line that cannot be a
row (cut short, run into the next one, a field too long, a timestamp that is not a date) is
skipped and said once per file, with how many and where the first was; a file that cannot be
read at all (not UTF-8, not an emissions CSV) is refused with one ``ReadError`` line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .._log import logger as _log
from .summary import Run

#: The fewest columns a CodeCarbon file has had, in every version.
REQUIRED = ("timestamp", "project_name", "duration", "emissions")


class ReadError(ValueError):
    """A file ``report`` cannot read, said in one line (the command line's exit 2)."""


def find_files(paths: list[Path]) -> list[Path]:
    """The CSV files named, a folder meaning its ``emissions*.csv`` (not the tasks file)."""
    if not paths:
        paths = [Path("emissions.csv")]
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            # Tasks files (wattprint's emissions_tasks.csv, CodeCarbon's
            # emissions_<experiment>_<run>.csv) describe parts of runs: a folder means its runs.
            found = sorted(p for p in path.glob("emissions*.csv") if not _is_tasks_file(p))
            found += _backups(path)
            if not found:
                raise ReadError(f"{path}: no emissions*.csv in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ReadError(f"{path}: no such file or folder")
    return files


def _backups(folder: Path) -> list[Path]:
    """The emissions files CodeCarbon set aside in ``folder``: when it finds an emissions.csv
    with columns other than its own (wattprint's, or an older CodeCarbon's), it renames it
    emissions.csv.bak (then emissions.csv_0.bak, ...) and starts a new file. Their runs are
    the user's: each is read, and said; one that is not an emissions CSV is skipped, and said."""
    out = []
    for path in sorted(folder.glob("emissions*.csv*.bak")):
        try:
            header = _header(path)
            if "task_name" in header:
                continue  # a tasks file's backup: parts of runs, as above
            kind = kind_of(path, header)
        except (ReadError, OSError, UnicodeDecodeError, csv.Error) as exc:
            why = exc if isinstance(exc, ReadError) else f"{path}: cannot be read ({exc})"
            _log.warning("%s; skipped (a backup CodeCarbon left, not an emissions CSV)", why)
            continue
        _log.warning(
            "%s: read too, %s rows that CodeCarbon set aside when it wrote its own file here",
            path,
            kind,
        )
        out.append(path)
    return out


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return next(csv.reader([f.readline(1 << 20)]), [])


def _is_tasks_file(path: Path) -> bool:
    try:
        return "task_name" in _header(path)
    except (OSError, UnicodeDecodeError, csv.Error):
        return False  # read_runs says what is wrong with it


def kind_of(path: Path | str, header: list[str]) -> str:
    """ "wattprint" or "codecarbon" by a file's columns; ReadError for anything else."""
    names = set(header)
    if "task_name" in names:
        raise ReadError(f"{path}: a tasks file; report reads the runs' emissions.csv")
    if "wattprint_version" in names and "status" in names:
        return "wattprint"
    missing = [c for c in REQUIRED if c not in names]
    if missing or not ("run_id" in names or "experiment_id" in names):
        raise ReadError(
            f"{path}: neither a wattprint nor a CodeCarbon emissions CSV "
            f"(missing columns: {', '.join(missing) or 'run_id'})"
        )
    return "codecarbon"


Damage = list[tuple[int, str]]  # (line, why) of the lines skipped


def read_rows(path: Path, damaged: Damage) -> tuple[str, Iterator[tuple[int, dict[str, str]]]]:
    """A file's kind and its intact rows as ``(line, {column: text})``; the lines skipped are
    added to ``damaged``. ReadError for a file that cannot be read at all."""
    try:
        header = _header(path)
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise ReadError(f"{path}: the header is not a CSV line ({exc})") from None
    header = [name.strip() for name in header]
    kind = kind_of(path, header)
    return kind, _rows(path, header, damaged)


class _Lines:
    """A file's lines, remembering those the CSV reader took for its current row."""

    def __init__(self, f: Any) -> None:
        self.f = f
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.f)
        self.taken.append(line)
        return line


def _rows(path: Path, header: list[str], damaged: Damage) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            lines = _Lines(f)
            reader = csv.reader(lines)
            next(reader, None)  # the header
            while True:
                line = reader.line_num + 1
                lines.taken.clear()
                try:
                    fields: list[str] | None = next(reader)
                    why = ""
                except StopIteration:
                    break
                except csv.Error as exc:  # a field over csv.field_size_limit(), a stray quote
                    fields, why = None, str(exc)
                if fields is not None and not any(v.strip() for v in fields):
                    continue
                if fields is not None and len(fields) == len(header):
                    yield line, dict(zip(header, fields, strict=True))
                    continue
                # A row cut short (a full disk) or run into the rows appended after it; cut
                # inside a quoted field, it swallows the lines after it: read those one by one.
                damaged.append(
                    (line, why or f"{len(fields or [])} fields, the header has {len(header)}")
                )
                yield from _salvage(lines.taken[1:], line + 1, header, damaged)
    except UnicodeDecodeError as exc:
        raise ReadError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _salvage(
    lines: list[str], first: int, header: list[str], damaged: Damage
) -> Iterator[tuple[int, dict[str, str]]]:
    for number, text in enumerate(lines, start=first):
        try:
            fields = next(csv.reader([text]), [])
        except csv.Error as exc:
            damaged.append((number, str(exc)))
            continue
        if len(fields) == len(header):
            yield number, dict(zip(header, fields, strict=True))
        elif any(v.strip() for v in fields):
            damaged.append((number, f"{len(fields)} fields, the header has {len(header)}"))


def read_runs(files: list[Path]) -> list[Run]:
    """The last row of every run in ``files``. A damaged line is skipped and said (once per
    file); a file with rows but none intact is refused."""
    last: dict[str, Run] = {}
    order = 0
    for path in files:
        for run in iter_runs(path, order):
            order = run.order
            old = last.get(run.run_id)
            if old is None or (run.instant, run.order) >= (old.instant, old.order):
                last[run.run_id] = run
    return list(last.values())


def iter_runs(path: Path, order: int = 0) -> Iterator[Run]:
    """Every intact row of one file as a ``Run`` (``line`` set, ``order`` counting on from
    ``order``), damaged lines skipped; said (or refused) when the file has been read."""
    damaged: Damage = []
    flagged: Damage = []
    kind, rows = read_rows(path, damaged)
    intact = 0
    for line, row in rows:
        order += 1
        try:
            run = Run(row, file=str(path), kind=kind, order=order, default_id=f"{path}:{line}")
        except ValueError as exc:  # a timestamp that is no date, or out of range
            damaged.append((line, str(exc)))
            continue
        run.line = line
        intact += 1
        invalid = run.invalid()
        if invalid:
            flagged.append((line, ", ".join(f"{c}={run.text(c)[:20]}" for c in invalid)))
        yield run
    _say(path, intact, sorted(damaged), flagged)


def _say(path: Path, intact: int, damaged: Damage, flagged: Damage) -> None:
    if damaged:
        line, why = damaged[0]
        more = f" and {len(damaged) - 1} more" if len(damaged) > 1 else ""
        if not intact:
            raise ReadError(f"{path}: no row can be read (line {line}: {why[:200]}{more})")
        _log.warning(
            "%s: skipped %d damaged line(s) (line %d: %s%s); the other rows are read",
            path,
            len(damaged),
            line,
            why[:200],
            more,
        )
    if flagged:
        line, what = flagged[0]
        more = f" and {len(flagged) - 1} more row(s)" if len(flagged) > 1 else ""
        _log.warning(
            "%s: values that cannot be (not finite, negative or not a number) are counted as "
            "unknown, never summed: line %d: %s%s",
            path,
            line,
            what,
            more,
        )


def runs_from(rows: list[dict[str, Any]]) -> list[Run]:
    """Runs from plain rows (a database's, an API's): the last row of each run, as read_runs."""
    last: dict[str, Run] = {}
    for order, row in enumerate(rows):
        run = Run(row, order=order)
        old = last.get(run.run_id)
        if old is None or (run.instant, order) >= (old.instant, old.order):
            last[run.run_id] = run
    return list(last.values())
