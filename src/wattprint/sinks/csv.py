"""Append rows to a CSV file that people and pandas read, without ever damaging one they had.

A file wattprint did not write -- its header is not exactly ours (an older wattprint,
CodeCarbon's own file, a file the user edited), it is not UTF-8, its first line is blank, or it
is not a regular file at all (a FIFO, a folder) -- is never opened for writing: rows go to a
sibling file, and the caller says so once.

A row is written whole or not at all: the header (for a new file) and the row are one
``write(2)`` under an ``flock``, and a write the disk could not take in full is cut back to the
file's previous length. A full disk therefore costs the row, never the file.

A run's rows (``write_row``) go through the same guards. A row that cannot be written (a full
disk) is said once, and a run's final row or a task's row waits in this process for the next
recovery in its folder (``recovery.recover``, ``write_waiting``).
"""

from __future__ import annotations

import csv
import errno
import io
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..records import RunResult

try:  # POSIX: serialise appends from several processes sharing an output_dir
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Where a run's tasks' rows go, beside its own rows (output_file) in output_dir.
TASKS_CSV_NAME = "emissions_tasks.csv"
#: Statuses of a row that is not a run's last word: a flush() row.
NOT_FINAL = ("running",)


def _is_ours(path: Path, columns: Sequence[str]) -> bool:
    """Whether rows may be appended to ``path``: it is absent, empty, or starts with our header."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return not os.path.lexists(path)  # a dangling link points somewhere that is not ours
    except OSError:
        return False  # cannot tell: leave it alone
    if not stat.S_ISREG(st.st_mode):
        return False  # a FIFO would block, a folder cannot hold rows
    if st.st_size == 0:
        return True
    try:
        # O_NONBLOCK: should the file become a FIFO after the stat, the open must not wait.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            return _has_our_header(fd, columns)
        finally:
            os.close(fd)
    except OSError:
        return False


def _has_our_header(fd: int, columns: Sequence[str]) -> bool:
    expected = ",".join(columns).encode()
    first = _read_at(fd, len(expected) + 2, 0)
    end = first.find(b"\n")
    return end >= 0 and first[:end].rstrip(b"\r") == expected


def _read_at(fd: int, n: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, n, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # pragma: no cover - Windows; appends ignore the offset
    return os.read(fd, n)  # pragma: no cover


class NotOurs(OSError):
    """The file was ours when chosen, and someone else's file has taken its place."""


def choose_path(path: Path, columns: Sequence[str]) -> tuple[Path, bool]:
    """Where rows for ``path`` go: itself, or the first sibling whose header is ours.

    Returns the path and whether it differs from the one asked for.
    """
    if _is_ours(path, columns):
        return path, False
    for n in range(1, 100):  # named one at a time: most runs need none of them
        candidate = path.with_name(f"{path.stem}_wattprint{'' if n == 1 else n}{path.suffix}")
        if _is_ours(candidate, columns):
            return candidate, True
    raise OSError(f"{path.parent}: no free file name for {path.name}; clean up old copies")


def format_row(columns: Sequence[str], row: Mapping[str, Any], header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    if header:
        writer.writeheader()
    writer.writerow(row)
    # A value that is not text (a lone surrogate from undecodable bytes) is kept, escaped, rather
    # than costing the row.
    return buffer.getvalue().encode("utf-8", errors="backslashreplace")


def append_row(
    path: Path,
    columns: Sequence[str],
    row: Mapping[str, Any],
    *,
    create_dir: bool = True,
    unless_final: str | None = None,
) -> bool:
    """Append one row (the header first if the file is new), whole or not at all.

    ``unless_final``: a run id; nothing is written if the file already holds a final row of
    that run (recovery is then safe to repeat). Returns whether the row was written. Raises
    OSError when it could not be written; the file is then as it was.
    """
    if create_dir:
        path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags, 0o644)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, f"{path} is not a regular file")
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
        size = os.fstat(fd).st_size
        if size and not _has_our_header(fd, columns):
            raise NotOurs(errno.EEXIST, f"{path} is not wattprint's file (any more)")
        if unless_final is not None and size and has_final_row(path, columns, unless_final):
            return False
        data = format_row(columns, row, header=size == 0)
        if size and _read_at(fd, 1, size - 1) != b"\n":
            data = b"\r\n" + data  # a row torn by a crash stays apart from ours
        _write_whole(fd, data, size)
        return True
    finally:
        os.close(fd)


def _write_whole(fd: int, data: bytes, size: int) -> None:
    """One write of ``data`` at the end of a file ``size`` bytes long, or the file cut back."""
    try:
        written = os.write(fd, data)
        if written != len(data):
            raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes written")
    except OSError:
        try:
            os.ftruncate(fd, size)
        except OSError:
            pass
        raise


def has_final_row(path: Path, columns: Sequence[str], run_id: str) -> bool:
    """Whether ``path`` holds a row of ``run_id`` whose status is final (not a flush row)."""
    key = run_id.encode()
    id_at, status_at = list(columns).index("run_id"), list(columns).index("status")
    try:
        with open(path, "rb") as f:
            for raw in f:
                if key not in raw:
                    continue
                try:
                    fields = next(csv.reader([raw.decode("utf-8")]))
                except (UnicodeDecodeError, csv.Error, StopIteration):
                    continue
                if len(fields) > max(id_at, status_at) and fields[id_at] == run_id:
                    if fields[status_at] not in NOT_FINAL:
                        return True
    except FileNotFoundError:
        return False
    return False


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# -- a run's rows -------------------------------------------------------------------------------

#: Rows a full disk refused: a run's final row, a task's row, with the file each is for. The
#: next tracker started in that folder writes them, a final row with its own status rather than
#: rebuilt from the journal as "interrupted"; if the process dies first, the journal still has
#: the run (not its tasks).
_unwritten: list[tuple[Path, RunResult]] = []


def _warn(key: str, message: str) -> None:
    from .._log import warn_once

    warn_once(key, message)


def full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk is full (or the user over quota)."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def path_for(wanted: Path, columns: Sequence[str]) -> Path | None:
    """Where a run's rows meant for ``wanted`` go (see ``choose_path``), the move said once;
    None (said once) when no file there can take them."""
    try:
        path, moved = choose_path(wanted, columns)
    except OSError as exc:
        _warn(f"csv:{wanted}", f"cannot write {wanted}: {exc}")
        return None
    if moved:
        _warn(
            f"csv-moved:{wanted}",
            f"{wanted} has a different header (another tool's or an older version's file); "
            f"it is left untouched and rows go to {path.name} instead.",
        )
    return path


def write_row(path: Path | None, result: RunResult) -> bool:
    """Write a row; False (said once) if it could not be. No path (no CSV wanted) is True.

    A final or task row that cannot be written waits in ``_unwritten`` for the next recovery
    in its folder; a flush() row is a snapshot that the final row supersedes, and is dropped.
    """
    if path is None:
        return True
    try:
        try:
            append_result(path, result)
        except NotOurs:  # another tool wrote the file since the run chose it: step around it
            path = _beside(path, result)
            append_result(path, result)
    except OSError as exc:
        say_write_failure(path, exc)
        if result.status != "running":
            _wait(path, result)
        return False
    return True


def _wait(path: Path, result: RunResult) -> None:
    if not _unwritten:  # the first row waiting: the process tries once more as it exits
        import atexit

        atexit.register(_write_all_waiting)
    _unwritten.append((path, result))


def _write_all_waiting() -> None:
    """At exit: space freed while the program ran takes the waiting rows with their status."""
    for folder in {path.parent for path, _ in _unwritten}:
        try:
            write_waiting(folder)
        except Exception:  # at exit, nothing more can be done or said
            pass


def waiting_final(run_id: str) -> RunResult | None:
    """The final row of ``run_id`` that a full disk refused, if it waits in this process."""
    return next((r for _, r in _unwritten if r.run_id == run_id and r.task_name is None), None)


def forget_waiting(result: RunResult | None) -> None:
    """``result`` is written (by recovery): it waits no more."""
    _unwritten[:] = [(p, r) for p, r in _unwritten if r is not result]


def write_waiting(folder: Path) -> None:
    """Write the rows of this process that a full disk refused, for files in ``folder``."""
    if not _unwritten:
        return
    here = folder.absolute()
    for path, result in list(_unwritten):
        if path.parent != here:
            continue
        final = result.task_name is None
        try:
            append_result(path, result, unless_final=result.run_id if final else None)
        except OSError as exc:
            say_write_failure(path, exc)
            return  # still no space: the others wait too
        _unwritten.remove((path, result))


def _beside(path: Path, result: RunResult) -> Path:
    from ..records import COLUMNS, TASK_COLUMNS

    beside, _ = choose_path(path, COLUMNS if result.task_name is None else TASK_COLUMNS)
    _warn(
        f"csv-moved:{path}",
        f"{path} is no longer wattprint's file; it is left "
        f"untouched and rows go to {beside.name} instead.",
    )
    return beside


def append_result(path: Path, result: RunResult, **how: Any) -> bool:
    """Append a run's or a task's row (see ``append_row`` for ``how``)."""
    from .._version import __version__
    from ..records import COLUMNS, TASK_COLUMNS, to_row

    columns = COLUMNS if result.task_name is None else TASK_COLUMNS
    return append_row(path, columns, to_row(result, __version__), **how)


def say_write_failure(path: Path, exc: BaseException) -> None:
    if full(exc):
        reason = getattr(exc, "strerror", exc)
        _warn(
            "disk-full",
            f"no space left to write {path} ({reason}): no file is left damaged, and the "
            "run's row is written by the next tracker started in its output_dir (or by "
            "`wattprint recover`) once space is freed",
        )
    else:
        _warn(f"write:{path}", f"cannot write to {path}: {exc}")
