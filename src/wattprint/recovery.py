"""The recovery of runs that ended without writing their row.

Recovery reads each journal of ``output_dir/.wattprint/`` (see journal.py) and writes the final
row of every run whose process is gone, exactly once: a run whose final row is already in the
CSV gets none, whatever step an earlier recovery or stop() was killed at. It also writes the
rows of this process that a full disk refused (``sinks.csv.write_row``), with their own status.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import _log, journal
from .records import COLUMNS, RunResult
from .results import build_result
from .sinks import csv as rows
from .sinks.csv import choose_path, say_write_failure


def recover(output_dir: str | os.PathLike[str]) -> list[RunResult]:
    """Write the summary row of every run in ``output_dir`` whose process died before stopping.

    Called by every tracker that starts there, and by ``wattprint recover``. A run still alive
    (its process exists, on this host) is left alone; each run gets one final row, however
    often recovery runs or is killed. A journal that cannot be read is set aside, never
    deleted, and never keeps the others from being recovered.
    """
    folder = Path(output_dir)
    recovered = []
    for path in journal.candidates(folder):
        try:
            result = _recover_journal(folder, path)
        except Exception as exc:  # one journal never blocks the others
            _log.warn_once(
                f"recover:{path}",
                f"could not recover {path} ({type(exc).__name__}: {exc}); it is left as it is",
            )
            continue
        if result is not None:
            recovered.append(result)
    rows.write_waiting(folder)
    return recovered


def recover_quietly(output_dir: Path) -> list[RunResult]:
    """``recover`` as a tracker's start does it: a failure is said once, and never keeps the
    new run from starting."""
    try:
        return recover(output_dir)
    except Exception as exc:
        _log.warn_once(
            f"recover:{output_dir}",
            f"could not look for interrupted runs in {output_dir} "
            f"({type(exc).__name__}: {exc}); this run is measured as usual",
        )
        return []


def _recover_journal(folder: Path, path: Path) -> RunResult | None:
    """Recover one journal; the result if this call wrote a killed run's row."""
    try:
        if path.name.endswith(journal.RUNNING):
            meta = journal.first_line(path)
            if meta is not None and journal.alive(meta):
                return None
        contents = journal.read(path)
    except FileNotFoundError:
        return None  # another process took it
    meta = contents.meta
    if meta is None:
        _set_aside(path, "it has no readable run line", contents.damaged)
        return None
    if path.name.endswith(journal.CLAIMED):
        if not journal.stale(path, contents):
            return None  # another process is recovering it now
    elif journal.alive(meta):
        return None
    elif contents.ended is not None:  # killed after its end line, before the rename
        try:
            journal.finish(path)
        except FileNotFoundError:
            pass  # another process finished it first
        return None
    run_id = str(meta.get("run_id"))
    deferred = rows.waiting_final(run_id)
    result = deferred or _rebuild(meta, contents)
    if result is None:
        _set_aside(path, "its run line lacks what a row needs", contents.damaged)
        return None
    target = _recovery_target(folder, meta)
    claimed = journal.claim(path)
    if claimed is None:
        return None
    try:
        written = rows.append_result(target, result, create_dir=False, unless_final=run_id)
    except Exception as exc:
        journal.unclaim(claimed)  # tried again by the next tracker here
        if not isinstance(exc, OSError):
            raise
        say_write_failure(target, exc)
        return None
    rows.forget_waiting(deferred)
    try:
        journal.release(claimed, result.status)
    except OSError as exc:  # the next recovery finds the row and closes the journal then
        _log.warn_once(
            f"release:{claimed}",
            f"wrote the row of run {run_id} but could not close its journal {claimed} ({exc}); "
            "the next recovery closes it without writing another row",
        )
    if not written or deferred is not None:
        return None  # its row was already there, or it is a row of this process's own run
    _log.logger.warning(
        "run %s (%s) ended without stopping (process %s killed?): wrote its last "
        "recorded state, %.1f s, to %s with status=interrupted",
        run_id,
        meta.get("project_name"),
        meta.get("pid"),
        result.duration_s,
        target,
    )
    return result


def _rebuild(meta: dict[str, Any], contents: Any) -> RunResult | None:
    """The killed run's row from the newest interval that makes one; None if none does."""
    skipped = (
        [f"{contents.damaged} damaged line(s) of the run's journal were skipped"]
        if contents.damaged
        else []
    )
    for state in reversed(contents.states):
        notes = state.get("notes")
        notes = [n for n in notes if isinstance(n, str)] if isinstance(notes, list) else []
        try:
            return build_result(meta, {**state, "notes": notes + skipped}, "interrupted")
        except Exception:
            continue  # a line that parsed but does not add up: try the one before
    lost = {"energy_j": None, "low_j": None, "high_j": None, "method": "lost"}
    state = {
        "t": meta.get("started_at"),
        "duration_s": 0.0,
        "components": {c: dict(lost) for c in ("cpu", "gpu", "ram", "platform")},
        "emissions_g": None,
        "emissions_low_g": None,
        "emissions_high_g": None,
        "notes": ["the process ended before its first interval was recorded", *skipped],
    }
    try:
        return build_result(meta, state, "interrupted")
    except Exception:
        return None


def _recovery_target(folder: Path, meta: dict[str, Any]) -> Path:
    """The run's CSV in the folder its journal is in now, beside any file not ours."""
    wanted = journal.csv_target(folder, meta)
    path, moved = choose_path(wanted, COLUMNS)
    if moved:
        _log.warn_once(f"csv-moved:{wanted}", f"{wanted} is not wattprint's; rows go to {path}")
    return path


def _set_aside(path: Path, why: str, damaged: int) -> None:
    try:
        aside = journal.set_aside(path)
    except FileNotFoundError:
        return  # another process moved it first
    except OSError as exc:
        _log.warn_once(
            f"journal-damaged:{path}",
            f"{path} cannot be used ({why}) nor moved "
            f"aside ({exc}); other runs are recovered as usual",
        )
        return
    _log.warn_once(
        f"journal-damaged:{path}",
        f"{path} cannot be used ({why}; {damaged} damaged line(s)); it is kept as {aside.name} "
        "for you to look at, and other runs are recovered as usual",
    )
