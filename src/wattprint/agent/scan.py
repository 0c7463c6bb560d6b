"""One pass over /proc: per consumer, the CPU ticks used since the last pass and memory now.

Consumers by ``per``: a process (``process``), a cgroup (``cgroup``), a container
(``container``) or a Kubernetes pod (``pod``); processes outside any container or pod are the
consumer ``host``, kernel threads the consumer ``kernel``.

Folding, so that series do not explode: a process gets its own series (``per="process"``) once
two passes have seen it; until then its time goes to its nearest ancestor that has one. When a
process exits, the time its parent's ``cutime`` gains beyond what was already counted for it
(its last moments, and children never seen at all) goes to the parent's consumer. An exited
process's series stays (its final value) for ``RETAIN_PASSES`` passes, then folds into the
consumer ``exited``, so that nothing already counted is lost from the sum.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..attribution import cgroups
from ..attribution.procs import read_stat

PER = ("process", "cgroup", "container", "pod")
RETAIN_PASSES = 60
LABELS = ("scope", "pid", "comm", "cgroup", "container", "pod", "namespace")


@dataclass
class _Proc:
    start: int
    ppid: int
    comm: str
    own: float  # utime + stime, ticks
    cut: float  # cutime + cstime, ticks
    key: tuple[str, ...]  # the consumer's labels
    passes: int = 1


@dataclass
class Pass:
    """What one pass found: ticks per consumer since the last pass, memory per consumer now."""

    ticks: dict[tuple[str, ...], float] = field(default_factory=dict)
    rss: dict[tuple[str, ...], int] = field(default_factory=dict)
    processes: int = 0


class Scanner:
    def __init__(self, root: Path, per: str, namespaces: dict[str, tuple[str, str]] | None = None):
        if per not in PER:
            raise ValueError(f"--per {per!r}: use one of {', '.join(PER)}")
        self.root = root
        self.per = per
        self.procs: dict[int, _Proc] = {}
        self.namespaces = namespaces if namespaces is not None else cgroups.pod_names(root)
        self.first = True

    def _key(self, pid: int, ppid: int, comm: str) -> tuple[str, ...]:
        if pid == 2 or ppid == 2:
            return ("kernel", "", "", "", "", "", "")
        ident = cgroups.of_process(self.root, pid)
        ns = self.namespaces.get(ident.pod_uid, ("", ""))[0] if ident.pod_uid else ""
        if ident.pod_uid and not ns:
            self.namespaces.update(cgroups.pod_names(self.root))  # a pod started since
            ns = self.namespaces.get(ident.pod_uid, ("", ""))[0]
        if self.per == "process":
            return ("process", str(pid), comm, ident.path, ident.container_id, ident.pod_uid, ns)
        if self.per == "cgroup":
            return ("cgroup", "", "", ident.path, ident.container_id, ident.pod_uid, ns)
        if self.per == "container":
            if not ident.container_id:
                return ("host", "", "", "", "", "", "")
            return ("container", "", "", "", ident.container_id, ident.pod_uid, ns)
        if not ident.pod_uid:
            return ("host", "", "", "", "", "", "")
        return ("pod", "", "", "", "", ident.pod_uid, ns)

    def _owner(self, pid: int, seen: dict[int, _Proc]) -> tuple[str, ...] | None:
        """The consumer that pays for ``pid``'s time: itself once it has a series, else the
        nearest ancestor that has one."""
        hops = 0
        while pid in seen and hops < 64:
            proc = seen[pid]
            if self.per != "process" or proc.passes >= 2 or proc.key[0] == "kernel":
                return proc.key
            pid = proc.ppid
            hops += 1
        return None

    def scan(self) -> Pass:
        out = Pass()
        current: dict[int, _Proc] = {}
        own_ticks: dict[int, float] = {}  # pid -> its own new ticks
        cut_ticks: dict[int, float] = {}  # pid -> new ticks of children it reaped
        for name in os.listdir(f"{self.root}/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            st = read_stat(self.root, pid)
            if st is None:
                continue
            own, cut = st.cpu_ticks - st.child_ticks, st.child_ticks
            before = self.procs.get(pid)
            if before is not None and before.start == st.start_ticks:
                proc = _Proc(
                    st.start_ticks, st.ppid, st.comm, own, cut, before.key, before.passes + 1
                )
                own_ticks[pid] = max(0.0, proc.own - before.own)
                cut_ticks[pid] = max(0.0, proc.cut - before.cut)
            else:
                proc = _Proc(
                    st.start_ticks, st.ppid, st.comm, own, cut, self._key(pid, st.ppid, st.comm)
                )
                if not self.first:  # before the first pass, a process's time is not ours
                    own_ticks[pid], cut_ticks[pid] = proc.own, proc.cut
            current[pid] = proc
            out.rss[proc.key] = out.rss.get(proc.key, 0) + st.rss_bytes
        # An exited child's time, already counted, reappears in its reaper's cutime: take it
        # out there (never more than the cutime gained: an orphan's parent did not reap it).
        for pid, gone in self.procs.items():
            if pid not in current and gone.ppid in cut_ticks:
                cut_ticks[gone.ppid] = max(0.0, cut_ticks[gone.ppid] - (gone.own + gone.cut))
        unattributed = ("unattributed", "", "", "", "", "", "")
        for pid, ticks in own_ticks.items():
            ticks += cut_ticks.get(pid, 0.0)
            if ticks > 0:
                owner = self._owner(pid, current) or unattributed
                out.ticks[owner] = out.ticks.get(owner, 0.0) + ticks
        out.processes = len(current)
        self.procs = current
        self.first = False
        return out
