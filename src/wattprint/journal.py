"""The per-run time series under ``output_dir/.wattprint/``: what makes a crash lose one interval.

Each run writes ``<run_id>.running.jsonl``: a ``run`` line (who, where, how), then one
``interval`` line per interval holding the run's cumulative state, then an ``end`` line, and
the file becomes ``<run_id>.jsonl``. Every line is flushed to
the operating system as it is written, so a ``kill -9`` loses at most the interval in progress
(a power cut may lose what the OS had not yet written; fsync on every interval would cost more
than the whole sample).

A run with no ``end`` line whose process is gone was killed: the next tracker started in the same
``output_dir`` rebuilds its result from the last interval (``results.build_result``), appends it
to the CSV with status ``interrupted``, and closes the journal (``recovery``).

Recovery survives damage and kills. A journal is read line by line and a damaged line (not
UTF-8, not a JSON object, missing what its type needs, cut short) is skipped and counted; one
that cannot be used at all is renamed ``*.damaged``, never deleted. A journal is claimed by
renaming it ``<run_id>.<pid>.recovering`` and writing a ``claim`` line; a claim whose process
died is taken over. The row is appended only if the CSV has no final row for the run yet, so
that every step is safe to repeat, and the journal is closed only once its row is on disk.
"""

from __future__ import annotations

import errno
import json
import math
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FOLDER = ".wattprint"
RUNNING = ".running.jsonl"
DONE = ".jsonl"
CLAIMED = ".recovering"
DAMAGED = ".damaged"
#: A claim with no claim line (its claimer died at once) is stale after this long.
STALE_CLAIM_S = 60.0
#: Another host's claim: we cannot see its process, so only age says it died.
STALE_FOREIGN_CLAIM_S = 900.0
#: Valid intervals kept while reading, newest last: if the newest cannot make a row, an older one
#: still can.
KEEP_STATES = 4

#: Run ids whose journal this process holds open. A run of this very process is alive exactly
#: while its journal is open: a run whose stop() could not write its row is not, and the next
#: tracker started here writes that row.
_open: set[str] = set()
#: Journals this process is recovering right now (trackers may start in several threads).
_recovering: set[str] = set()
_guard = threading.Lock()


class Journal:
    def __init__(self, output_dir: Path, run_id: str, meta: dict[str, Any]) -> None:
        folder = output_dir / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        # ".running" until the run ends: a new tracker looks only at those for killed runs,
        # however many finished runs the folder holds.
        self.run_id = run_id
        self.path = folder / f"{run_id}{RUNNING}"
        self.final_path = folder / f"{run_id}{DONE}"
        # The run line is written under a hidden name first: a ".running" journal always has
        # one, so a journal without it is damaged, never one still being created.
        hidden = folder / f".{run_id}.new"
        # A raw O_APPEND descriptor: each line is one write(2), straight to the OS, with none of
        # io's buffering layers on the sampling path.
        self._fd: int | None = os.open(hidden, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        _open.add(run_id)
        self._encode = json.JSONEncoder(separators=(",", ":")).encode
        try:
            self._write({"type": "run", **meta})
            os.rename(hidden, self.path)
        except BaseException:
            self.close()
            try:
                os.unlink(hidden)
            except OSError:
                pass
            raise

    def _write(self, line: dict[str, Any]) -> None:
        if self._fd is None:
            raise ValueError(f"journal {self.path} is closed")
        data = (self._encode(line) + "\n").encode()
        written = os.write(self._fd, data)
        if written != len(data):  # the disk took part of the line: take it back
            _cut(self._fd, written)
            raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes written")

    def interval(self, state: dict[str, Any]) -> None:
        state["type"] = "interval"
        self._write(state)

    def end(self, status: str) -> None:
        """Close the journal as a run that ended with its row written. Raises OSError if the
        end could not be recorded: the journal stays ``.running``, and recovery, finding the
        run's final row in the CSV, closes it without writing another."""
        try:
            self._write({"type": "end", "status": status})
        finally:
            self.close()
        os.replace(self.path, self.final_path)

    def close(self) -> None:
        """Let go of the file, leaving it ``.running``: the run is no longer alive."""
        fd, self._fd = self._fd, None
        _open.discard(self.run_id)
        if fd is not None:
            os.close(fd)


def _cut(fd: int, written: int) -> None:
    try:
        os.ftruncate(fd, os.fstat(fd).st_size - written)
    except OSError:
        pass  # the reader skips a half line


def _host() -> str:
    return os.uname().nodename if hasattr(os, "uname") else os.environ.get("COMPUTERNAME", "")


def _start_time(pid: int) -> float | None:
    """When process ``pid`` started (comparable between calls on one boot); None if gone.

    Read from /proc on Linux so that starting a tracker does not load psutil.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        # Field 22 (starttime, clock ticks since boot), counted from after the ")" of the name.
        return float(data[data.rindex(b")") + 2 :].split()[19])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, IndexError):
        pass
    import psutil  # no /proc: ask the OS

    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, ValueError, OverflowError):
        return None


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """What tells this process apart from a later one that reuses its pid."""
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "host": _host(), "create_time": _start_time(pid)}


def _is_me(who: dict[str, Any]) -> bool:
    me = process_identity()
    return (
        who.get("pid") == me["pid"]
        and who.get("host", me["host"]) == me["host"]
        and (who.get("create_time") == me["create_time"])
    )


def alive(who: dict[str, Any]) -> bool:
    """Whether the process a ``run`` (or ``claim``) line names still runs, as far as we can see.

    Another host's process is taken as alive: a folder shared over the network is not ours to
    judge. On this host, a pid that now belongs to a later process (its start time differs) is
    dead. A run of this very process is alive while its journal is open.
    """
    host = who.get("host")
    if host is not None and host != _host():
        return True
    if _is_me(who):
        return who.get("run_id") in _open
    pid = who.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    started = _start_time(pid)
    if started is None:
        return False
    recorded = who.get("create_time")
    return recorded is None or started == recorded  # no start time recorded: cannot tell reuse


# -- reading a journal, whatever state it is in ------------------------------------------------


@dataclass
class Contents:
    """What a journal holds that can be used; ``damaged`` counts the lines that could not."""

    meta: dict[str, Any] | None = None
    states: list[dict[str, Any]] = field(default_factory=list)  # valid intervals, newest last
    ended: str | None = None  # the status of its end line
    claim: dict[str, Any] | None = None  # the last recovery claim
    damaged: int = 0


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _valid_state(line: dict[str, Any]) -> bool:
    t, components = line.get("t"), line.get("components")
    if not (_finite(t) or isinstance(t, str)) or not _finite(line.get("duration_s")):
        return False
    if not isinstance(components, dict):
        return False
    for part in components.values():
        if not isinstance(part, dict):
            return False
        for key in ("energy_j", "low_j", "high_j"):
            if not (part.get(key) is None or _finite(part.get(key))):
                return False
    return True


def read(path: Path, keep: int | None = KEEP_STATES, stride: int = 1) -> Contents:
    """Read a journal line by line, skipping (and counting) what is damaged: a line that is not
    UTF-8, not JSON, not an object, lacks what its type needs, or was cut short by a kill.
    ``keep``: how many of the newest intervals to keep (None: every one, for a chart);
    ``stride``: keep every stride-th valid interval only, and the last (a long run's chart)."""
    out = Contents()
    states: deque[dict[str, Any]] = deque(maxlen=keep)
    seen = 0
    skipped: dict[str, Any] | None = None  # the newest interval, when the stride passed it
    with open(path, "rb") as f:
        for raw in f:
            line = _parse(raw) or {}
            kind = line.get("type")
            if kind == "run" and out.meta is None:
                out.meta = line
            elif kind == "interval" and _valid_state(line):
                if seen % stride == 0:
                    states.append(line)
                    skipped = None
                else:
                    skipped = line
                seen += 1
            elif kind == "end" and isinstance(line.get("status"), str):
                out.ended = line["status"]
            elif kind == "claim":
                out.claim = line
            else:
                out.damaged += 1
    if skipped is not None:
        states.append(skipped)
    out.states = list(states)
    return out


def first_line(path: Path) -> dict[str, Any] | None:
    """A journal's run line alone: enough to see that its run is alive without reading the
    rest (a long run's journal is long, and every tracker starting in the folder looks)."""
    with open(path, "rb") as f:
        line = _parse(f.readline())
    return line if line is not None and line.get("type") == "run" else None


def _parse(raw: bytes) -> dict[str, Any] | None:
    if not raw.endswith(b"\n"):
        return None  # the last line, cut short
    try:
        line = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return line if isinstance(line, dict) else None


# -- claiming a journal for recovery ---------------------------------------------------------


def candidates(output_dir: Path) -> list[Path]:
    """Journals that may need recovery: runs not closed, and claims not finished."""
    folder = output_dir / FOLDER
    try:
        with os.scandir(folder) as entries:  # one pass over a folder of many finished runs
            names = [e.name for e in entries if e.name.endswith((RUNNING, CLAIMED))]
    except (FileNotFoundError, NotADirectoryError):
        return []
    running = sorted(n for n in names if n.endswith(RUNNING) and not n.startswith("."))
    return [folder / n for n in running + sorted(n for n in names if n.endswith(CLAIMED))]


def _base(path: Path) -> str:
    return path.name.split(".", 1)[0]


def claim(path: Path) -> Path | None:
    """Take a journal (or a stale claim) for recovery; None if another process took it first.

    The rename is atomic: of several processes, one gets the file. The claim line says who
    holds it, so that a claim whose process died is taken over rather than kept forever.
    """
    claimed = path.with_name(f"{_base(path)}.{os.getpid()}{CLAIMED}")
    try:
        os.rename(path, claimed)
    except OSError:
        return None
    with _guard:
        _recovering.add(str(claimed))
    try:
        with open(claimed, "a", encoding="utf-8") as f:
            f.write(json.dumps({"type": "claim", **process_identity(), "at": time.time()}) + "\n")
    except OSError:
        pass  # unmarked: stale after STALE_CLAIM_S if this process dies now
    return claimed


def stale(path: Path, contents: Contents) -> bool:
    """Whether a ``.recovering`` journal's claimer is gone, so that the claim may be taken over."""
    who = contents.claim
    if who is None:  # its claimer died before writing its claim line (or predates claim lines)
        try:
            return time.time() - path.stat().st_mtime > STALE_CLAIM_S
        except OSError:
            return False
    if who.get("host") not in (None, _host()):
        at = who.get("at")
        return not _finite(at) or time.time() - at > STALE_FOREIGN_CLAIM_S
    if _is_me(who):
        with _guard:
            return str(path) not in _recovering
    return not alive(who)


def unclaim(claimed: Path) -> None:
    """Give a claim back (its row could not be written): the next tracker tries again."""
    try:
        os.rename(claimed, claimed.with_name(f"{_base(claimed)}{RUNNING}"))
    finally:
        with _guard:
            _recovering.discard(str(claimed))


def release(claimed: Path, status: str) -> None:
    """Close a recovered journal. Raises OSError if it could not be renamed."""
    try:
        with open(claimed, "a", encoding="utf-8") as f:
            f.write(json.dumps({"type": "end", "status": status, "recovered": True}) + "\n")
    except OSError:
        pass  # the end line is a courtesy; the name says the journal is closed
    try:
        finish(claimed)
    finally:
        with _guard:
            _recovering.discard(str(claimed))


def finish(path: Path) -> None:
    """Give a closed journal its final name."""
    os.rename(path, path.with_name(f"{_base(path)}{DONE}"))


def set_aside(path: Path) -> Path:
    """Move a journal that cannot be used out of the way, keeping it for a person to look at."""
    name = f"{_base(path)}{RUNNING}{DAMAGED}"
    aside = path.with_name(name)
    n = 1
    while aside.exists():  # a rename would replace it
        aside = path.with_name(f"{name}.{n}")
        n += 1
    os.rename(path, aside)
    with _guard:
        _recovering.discard(str(path))
    return aside


def csv_target(output_dir: Path, meta: dict[str, Any]) -> Path:
    """Where a recovered run's row goes: its CSV, in the folder its journal is in now.

    A folder moved since the run (or a copy) gets the row, never the old absolute path.
    """
    recorded = meta.get("csv")
    if not isinstance(recorded, str) or not recorded:
        return output_dir / "emissions.csv"
    path = Path(recorded)
    was = meta.get("output_dir")
    base = Path(was) if isinstance(was, str) and was else path.parent
    try:
        return output_dir / path.relative_to(base)
    except ValueError:  # output_file outside output_dir: it stays there if that still exists
        return path if path.parent.is_dir() else output_dir / path.name
