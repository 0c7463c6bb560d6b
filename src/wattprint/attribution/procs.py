"""A process tree's CPU time and resident memory, read from /proc without psutil.

The tree's CPU time is the sum, over its live members, of each member's own time (utime +
stime) and its reaped children's (cutime + cstime). A child that exits and is reaped by a
member moves its whole time into that member's cutime, so every CPU second of the tree is
counted exactly once however children come and go. What is lost: a child reparented out of
the tree (a daemon that double-forks) between two refreshes.

Cost: membership (who the children are) is refreshed at most every ``refresh_s`` seconds from
``/proc/<pid>/task/<tid>/children``; every tick reads one ``stat`` file per member. A member
found late brings its whole CPU time since it started, so nothing is lost by refreshing
seldom: it is charged a little later.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import NamedTuple

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class ProcStat(NamedTuple):
    comm: str
    ppid: int
    cpu_ticks: float  # utime + stime + cutime + cstime
    start_ticks: int  # start time after boot: tells a reused pid from the one we knew
    rss_bytes: int
    child_ticks: float = 0.0  # cutime + cstime: reaped children's part of cpu_ticks


def read_stat(root: Path, pid: int) -> ProcStat | None:
    """One /proc/<pid>/stat, or None when the process is gone or unreadable."""
    try:
        fd = os.open(f"{root}/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        raw = os.read(fd, 1024)
    except OSError:
        return None
    finally:
        os.close(fd)
    return parse_stat(raw)


def parse_stat(raw: bytes) -> ProcStat | None:
    # comm may hold spaces and parentheses: it ends at the LAST ')'.
    open_at, close_at = raw.find(b"("), raw.rfind(b")")
    if open_at < 0 or close_at < 0:
        return None
    rest = raw[close_at + 2 :].split()
    if len(rest) < 22:
        return None
    try:
        own = int(rest[11]) + int(rest[12])
        children = float(int(rest[13]) + int(rest[14]))
        comm = raw[open_at + 1 : close_at].decode(errors="replace")
        return ProcStat(
            comm, int(rest[1]), own + children, int(rest[19]), int(rest[21]) * PAGE_SIZE, children
        )
    except ValueError:
        return None


def children_of(root: Path, pid: int) -> list[int]:
    """Direct children of every thread of ``pid`` (CONFIG_PROC_CHILDREN), else by a /proc scan."""
    base = f"{root}/proc/{pid}/task"
    try:
        tids = os.listdir(base)
    except OSError:
        return []
    found: list[int] = []
    seen_file = False
    for tid in tids:
        try:
            with open(f"{base}/{tid}/children", "rb") as f:
                seen_file = True
                found.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    if not seen_file:
        return [p for p, ppid in _parents(root).items() if ppid == pid]
    return found


def _parents(root: Path) -> dict[int, int]:
    out: dict[int, int] = {}
    for name in os.listdir(f"{root}/proc"):
        if name.isdigit():
            st = read_stat(root, int(name))
            if st is not None:
                out[int(name)] = st.ppid
    return out


class TreeUsage(NamedTuple):
    cpu_s: float  # cumulative CPU seconds of the tree (never decreasing)
    rss_bytes: int  # resident memory now
    members: int


class ProcessTree:
    """The CPU time and memory of ``pid`` and all its descendants, as they come and go."""

    def __init__(self, root: Path, pid: int, refresh_s: float = 5.0, clock=time.monotonic) -> None:
        self.root = root
        self.pid = pid
        self.refresh_s = refresh_s
        self._clock = clock
        self._members: dict[int, int] = {}  # pid -> start ticks
        self._refreshed = -float("inf")
        self._best = 0.0

    def _refresh(self) -> None:
        members: dict[int, int] = {}
        todo = [self.pid]
        while todo:
            pid = todo.pop()
            if pid in members:
                continue
            st = read_stat(self.root, pid)
            if st is None:
                continue
            members[pid] = st.start_ticks
            todo.extend(children_of(self.root, pid))
        self._members = members
        self._refreshed = self._clock()

    def holds(self, pid: int) -> bool:
        """Whether ``pid`` is in the tree (as of the last refresh, or a fresh one if not)."""
        if pid not in self._members:
            self._refresh()
        return pid in self._members

    def usage(self) -> TreeUsage:
        if self._clock() - self._refreshed >= self.refresh_s:
            self._refresh()
        ticks = 0.0
        rss = 0
        gone = []
        for pid, start in self._members.items():
            st = read_stat(self.root, pid)
            if st is None or st.start_ticks != start:  # exited, or a new process took the pid
                gone.append(pid)
                continue
            ticks += st.cpu_ticks
            rss += st.rss_bytes
        for pid in gone:
            del self._members[pid]
        if gone:  # an exited member's time sits with a parent we may not hold yet
            self._refreshed = -float("inf")
        cpu_s = ticks / CLK_TCK
        # A member that left the tree takes its time with it: the total never goes back.
        self._best = max(self._best, cpu_s)
        return TreeUsage(self._best, rss, len(self._members))
