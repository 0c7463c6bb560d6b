"""Which share of the machine a run uses, for charging its embodied emissions.

One function, so that every mode reads its share from one place: the whole machine in machine
mode; in process mode the process tree's share of the machine's CPU time over the run; a job's
share where a scheduler gives one (``state["share"]["job"]``), or the share that attribution
charged (``state["shares"]``, wattprint.attribution) in process and job mode.
A cloud instance's share of its host is already in its embodied figure (CCF's coefficients).
"""

from __future__ import annotations

from typing import Any


def attributed_share(meta: dict[str, Any], state: dict[str, Any]) -> float | None:
    """The share (0-1) of the machine this row's run used; None when it cannot be told."""
    mode = meta.get("tracking_mode", "machine")
    shares = state.get("share") or {}
    job = shares.get("job")
    if isinstance(job, (int, float)):
        return min(1.0, max(0.0, float(job)))
    charged = _attributed(state.get("shares") or {})
    if charged is not None:
        return charged
    if mode != "process":
        return 1.0
    cpu_s = shares.get("process_cpu_s")
    threads = (meta.get("machine") or {}).get("cpu_count") or 0
    duration = float(state.get("duration_s") or 0.0)
    if not isinstance(cpu_s, (int, float)) or threads <= 0:
        return None
    if duration <= 0:
        return 0.0
    return min(1.0, max(0.0, cpu_s / (duration * threads)))


def _attributed(shares: dict[str, Any]) -> float | None:
    """The share attribution charged (process and job mode: ``[charged J, machine J]`` per
    component): the platform's (the job's share of the CPUs it holds), else the CPU's."""
    for part in ("platform", "cpu"):
        pair = shares.get(part)
        if isinstance(pair, (list, tuple)) and len(pair) == 2 and pair[1] > 0:
            return min(1.0, max(0.0, pair[0] / pair[1]))
    return None


def process_tree_cpu_s(process: Any) -> float | None:
    """CPU seconds (user + system) of a psutil process and its children, None if unreadable.
    Read once per row, never per sample."""
    try:
        t = process.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in process.children(recursive=True):
            try:
                c = child.cpu_times()
                total += c.user + c.system
            except Exception:  # the child exited between listing and reading
                pass
        return total
    except Exception:
        return None
