"""Power per component over time within a run, from the run's journal.

A run's journal (``output_dir/.wattprint/<run_id>.jsonl``, see ``wattprint.journal``) holds the
run's cumulative state at each interval. The average power of a component between two states is
the energy between them over the time between them, so it is exact for counters whatever the
interval. A long run is thinned by keeping every k-th state (the powers stay exact averages over
the longer spans; nothing is interpolated). A component whose energy is unknown at a state has
no point there (a gap, never zero). The journal is read with the journal's own tolerant reader:
damaged lines are skipped and counted.
"""

from __future__ import annotations

import glob
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

#: Points per run at most: enough for a chart the width of a screen.
MAX_POINTS = 600
#: Components in the order the chart stacks them.
ORDER = ("cpu", "gpu", "ram", "platform")


def journal_path(csv_file: str | Path, run_id: str) -> Path | None:
    """The journal of ``run_id`` beside the CSV that holds its rows (finished, still running or
    being recovered), or None when there is none."""
    from ..journal import CLAIMED, DONE, FOLDER, RUNNING

    if not run_id or run_id.startswith(".") or any(c in run_id for c in "/\\\0"):
        return None  # a run id from a CSV is text: never a path out of the journal folder
    folder = Path(csv_file).parent / FOLDER
    for name in (f"{run_id}{DONE}", f"{run_id}{RUNNING}"):
        if (folder / name).is_file():
            return folder / name
    pattern = f"{glob.escape(run_id)}.*{CLAIMED}"
    claimed = sorted(folder.glob(pattern)) if folder.is_dir() else []
    return claimed[0] if claimed else None


def _when(t: Any) -> datetime | None:
    """A state's time in UTC, naive (plotly.js reads no offsets in dates)."""
    try:
        if isinstance(t, str):
            when = datetime.fromisoformat(t)
        else:
            when = datetime.fromtimestamp(float(t), tz=timezone.utc)
        return when.astimezone(timezone.utc).replace(tzinfo=None) if when.tzinfo else when
    except (ValueError, OverflowError, OSError):
        return None


def _thin(states: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    if len(states) <= limit:
        return states
    step = -(-(len(states) - 1) // (limit - 1))  # ceil: at most ``limit`` states kept
    kept = states[::step]
    return kept if kept[-1] is states[-1] else [*kept, states[-1]]


def _stride(path: Path, limit: int) -> int:
    """Every how many intervals to keep, so that a long run's journal is not held whole in
    memory: its size over the size of its first lines says about how many it has."""
    with open(path, "rb") as f:
        head = f.read(1 << 16)
        size = f.seek(0, 2)
    lines = head.count(b"\n")
    if lines < 2 or size <= len(head):
        return 1
    estimate = size * lines // len(head)
    return max(1, estimate // (2 * limit))


def power_series(path: Path, limit: int = MAX_POINTS) -> dict[str, Any] | None:
    """The power over time of the run whose journal is at ``path`` (see ``series``), with
    ``damaged``: how many lines the reader skipped. None when the journal cannot be read or
    has fewer than two intervals."""
    from ..journal import read

    try:
        contents = read(path, keep=None, stride=_stride(path, limit))
    except OSError:
        return None
    out = series(contents.states, limit)
    if out is not None:
        out["damaged"] = contents.damaged
    return out


def series(states: list[dict[str, Any]], limit: int = MAX_POINTS) -> dict[str, Any] | None:
    """``{"t": [UTC times], "elapsed_s": [...], "watts": {component: [W or None]},
    "methods": {component: method}}`` from a run's cumulative states (the journal's interval
    lines, or the server's intervals in that shape: ``t``, ``duration_s`` and ``components``
    with ``energy_j`` and ``method``). Each point is the average power from the previous state
    to that one. None with fewer than two usable states."""
    states = [s for s in states if _when(s["t"]) is not None]
    states.sort(key=lambda s: float(s["duration_s"]))
    states = _thin(states, max(2, limit + 1))
    if len(states) < 2:
        return None
    names = [c for c in ORDER if any(c in s["components"] for s in states)]
    names += sorted({c for s in states for c in s["components"]} - set(names))
    out: dict[str, Any] = {
        "t": [],
        "elapsed_s": [],
        "watts": {c: [] for c in names},
        "methods": {},
        "damaged": 0,
    }
    for before, after in zip(states, states[1:], strict=False):
        span = float(after["duration_s"]) - float(before["duration_s"])
        if span <= 0:
            continue
        out["t"].append(_when(after["t"]).isoformat(sep=" ", timespec="seconds"))  # type: ignore[union-attr]
        out["elapsed_s"].append(float(after["duration_s"]))
        for c in names:
            a = (before["components"].get(c) or {}).get("energy_j")
            b = (after["components"].get(c) or {}).get("energy_j")
            known = a is not None and b is not None and b >= a  # cumulative: never falls
            out["watts"][c].append((b - a) / span if known else None)
            method = (after["components"].get(c) or {}).get("method")
            if method:
                out["methods"][c] = method
    out["watts"] = {c: w for c, w in out["watts"].items() if any(v is not None for v in w)}
    return out if out["t"] and out["watts"] else None
