"""Build fake /sys and /proc trees under a temporary root for the meter tests.

    fs = FakeSys(tmp_path, monkeypatch)
    fs.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1_000_000)
    fs.write("/proc/stat", "cpu  1 2 3 4\\n")
    ctx = ProbeContext(root=fs.root)

Paths are given as absolute machine paths ("/sys/class/powercap/...") and mapped under the root,
the way ``ProbeContext.path`` maps them.

Unreadable files: the tests run as root, and root ignores file modes, so ``chmod 000`` cannot
make a file unreadable. ``deny(path)`` instead installs (through the test's ``monkeypatch``) a
guard on ``os.open``, ``open``/``io.open`` (which ``Path.open``/``read_text`` use) and
``os.access``, which raises ``PermissionError(EACCES)`` for that file, exactly where the kernel
would. The code under test is unchanged; only code that opens files some other way (``os.openat``
through a ``dir_fd``, a C extension) would slip past the guard.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

#: The real functions, captured before any guard replaces them; FakeSys writes through these.
_REAL_OS_OPEN = os.open
_REAL_IO_OPEN = io.open
_REAL_OS_ACCESS = os.access

#: max_energy_range_uj of a typical package domain (2^32 energy units of 61 uJ).
DEFAULT_MAX_RANGE_UJ = 262_143_328_850

POWERCAP = "/sys/class/powercap"
_POWERCAP_DEVICES = "/sys/devices/virtual/powercap"


class FakeSys:
    """A fake machine root: write files, add RAPL zones, make files vanish or unreadable."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> None:
        self.root = Path(root)
        self._monkeypatch = monkeypatch
        self._denied: set[str] = set()  # real paths of files that raise PermissionError
        self._guarded = False
        self._zone_dirs: dict[str, str] = {}  # zone id -> machine path of its directory

    # -- general files -------------------------------------------------------------------------

    def path(self, absolute: str) -> Path:
        """Where the machine path ``absolute`` lies in the fake tree."""
        return self.root / absolute.lstrip("/")

    def write(self, absolute: str, text: str) -> Path:
        """Create or replace a file (parents included) with ``text``."""
        p = self.path(absolute)
        p.parent.mkdir(parents=True, exist_ok=True)
        with _REAL_IO_OPEN(p, "w") as f:  # the real open: a denied file can still be updated
            f.write(text)
        return p

    def mkdir(self, absolute: str) -> Path:
        p = self.path(absolute)
        p.mkdir(parents=True, exist_ok=True)
        return p

    def symlink(self, absolute: str, target: str) -> Path:
        """Make ``absolute`` a symlink to machine path ``target`` (relative, as in sysfs)."""
        link = self.path(absolute)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(self.path(target), link.parent))
        return link

    def remove(self, absolute: str) -> None:
        """Remove a file, a symlink or a whole directory tree."""
        p = self.path(absolute)
        if p.is_symlink() or p.is_file():
            p.unlink()
        elif p.is_dir():
            shutil.rmtree(p)
        else:
            raise FileNotFoundError(p)

    # -- permissions ---------------------------------------------------------------------------

    def deny(self, absolute: str) -> None:
        """Make opening ``absolute`` raise PermissionError, as a 0400 root file does for a user."""
        if self._monkeypatch is None:
            raise RuntimeError("FakeSys needs the test's monkeypatch to make files unreadable")
        self._denied.add(os.path.realpath(self.path(absolute)))
        self._install_guard(self._monkeypatch)

    def allow(self, absolute: str) -> None:
        self._denied.discard(os.path.realpath(self.path(absolute)))

    def _is_denied(self, file: Any) -> bool:
        if not self._denied or isinstance(file, int):
            return False
        try:
            return os.path.realpath(os.fsdecode(os.fspath(file))) in self._denied
        except TypeError:
            return False

    def _install_guard(self, mp: pytest.MonkeyPatch) -> None:
        if self._guarded:
            return
        self._guarded = True

        def denied(file: Any) -> PermissionError:
            return PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(file))

        def guarded_os_open(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
            if self._is_denied(path):
                raise denied(path)
            return _REAL_OS_OPEN(path, flags, mode, **kw)

        def guarded_open(file: Any, *args: Any, **kw: Any) -> Any:
            if self._is_denied(file):
                raise denied(file)
            return _REAL_IO_OPEN(file, *args, **kw)

        def guarded_access(path: Any, mode: int, **kw: Any) -> bool:
            if self._is_denied(path) and mode & (os.R_OK | os.W_OK):
                return False
            return _REAL_OS_ACCESS(path, mode, **kw)

        mp.setattr(os, "open", guarded_os_open)
        mp.setattr(builtins, "open", guarded_open)
        mp.setattr(io, "open", guarded_open)
        mp.setattr(os, "access", guarded_access)

    # -- RAPL / powercap -----------------------------------------------------------------------

    @staticmethod
    def rapl_zone(provider: str, index_path: str) -> str:
        """The zone id: ("intel-rapl", "0:2") -> "intel-rapl:0:2"."""
        return f"{provider}:{index_path}"

    def rapl_zone_dir(self, zone: str) -> str:
        """The machine path of a zone's directory, as this FakeSys laid it out."""
        return self._zone_dirs[zone]

    def add_rapl_domain(
        self,
        provider: str,
        index_path: str,
        name: str,
        energy_uj: int,
        max_range_uj: int = DEFAULT_MAX_RANGE_UJ,
        readable: bool = True,
        symlink: bool = True,
    ) -> str:
        """Add a powercap zone with ``name``, ``energy_uj`` and ``max_energy_range_uj``.

        ``provider`` is "intel-rapl" or "intel-rapl-mmio"; ``index_path`` is "0" for a top-level
        zone and "0:2" for a subzone of zone 0 (add the parent first to give it a name).

        With ``symlink`` (the real layout) the zone directory lives under
        /sys/devices/virtual/powercap/<provider>/ (subzones nested in their parent) and
        /sys/class/powercap/<zone> is a relative symlink to it, subzones included. Without it,
        top-level zones are plain directories in /sys/class/powercap and subzones are only
        nested inside them. ``readable=False`` denies energy_uj (needs monkeypatch).

        Returns the zone id, e.g. "intel-rapl:0:2", for ``set_energy``.
        """
        zone = self.rapl_zone(provider, index_path)
        parts = index_path.split(":")
        chain = [self.rapl_zone(provider, ":".join(parts[: i + 1])) for i in range(len(parts))]
        if symlink:
            zdir = "/".join([_POWERCAP_DEVICES, provider, *chain])
            self.mkdir(f"{_POWERCAP_DEVICES}/{provider}")
            if not self.path(f"{POWERCAP}/{provider}").exists():
                # The control type itself is listed too; the probe must not take it for a zone.
                self.symlink(f"{POWERCAP}/{provider}", f"{_POWERCAP_DEVICES}/{provider}")
                self.write(f"{_POWERCAP_DEVICES}/{provider}/enabled", "1\n")
            self.mkdir(zdir)
            self.symlink(f"{POWERCAP}/{zone}", zdir)
        else:
            zdir = "/".join([POWERCAP, *chain])
            self.mkdir(zdir)
        self._zone_dirs[zone] = zdir
        self.write(f"{zdir}/name", name + "\n")
        self.write(f"{zdir}/energy_uj", f"{energy_uj}\n")
        self.write(f"{zdir}/max_energy_range_uj", f"{max_range_uj}\n")
        self.write(f"{zdir}/enabled", "1\n")
        if not readable:
            self.deny(f"{zdir}/energy_uj")
        return zone

    def set_energy(self, zone: str, energy_uj: int) -> None:
        """Set a zone's counter (zone id as returned by add_rapl_domain).

        Atomically (a rename), keeping the file's mode: a sampler thread reading it at that
        moment must see the old value or the new one, never an empty file.
        """
        path = self.path(f"{self.rapl_zone_dir(zone)}/energy_uj")
        tmp = path.with_name(path.name + ".tmp")
        with _REAL_IO_OPEN(tmp, "w") as f:
            f.write(f"{energy_uj}\n")
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)

    def energy_path(self, zone: str) -> str:
        """The machine path of a zone's energy_uj file."""
        return f"{self.rapl_zone_dir(zone)}/energy_uj"

    # -- processes and cgroups (wattprint.attribution) -----------------------------------------

    def add_process(
        self,
        pid: int,
        ppid: int = 1,
        comm: str = "python",
        *,
        utime: int = 0,
        stime: int = 0,
        cutime: int = 0,
        cstime: int = 0,
        rss_pages: int = 0,
        start: int = 1000,
        children: tuple[int, ...] = (),
        cgroup: str | None = None,
    ) -> None:
        """/proc/<pid>/stat with these CPU times (clock ticks) and resident pages, its children
        in /proc/<pid>/task/<pid>/children, and its cgroup v2 path in /proc/<pid>/cgroup."""
        fields = [
            "S",
            str(ppid),
            *["0"] * 9,
            str(utime),
            str(stime),
            str(cutime),
            str(cstime),
            *["0"] * 4,
            str(start),
            "0",
            str(rss_pages),
            *["0"] * 20,
        ]
        self.write(f"/proc/{pid}/stat", f"{pid} ({comm}) {' '.join(fields)}\n")
        self.write(f"/proc/{pid}/task/{pid}/children", "".join(f"{c} " for c in children))
        if cgroup is not None:
            self.write(f"/proc/{pid}/cgroup", f"0::{cgroup}\n")

    def end_process(self, pid: int) -> None:
        """The process exits and is reaped: its /proc directory goes."""
        shutil.rmtree(self.path(f"/proc/{pid}"), ignore_errors=True)

    def set_cgroup_usage(self, path: str, usage_usec: int, memory_bytes: int) -> None:
        """A cgroup v2 directory with cpu.stat's usage_usec and memory.current."""
        base = f"/sys/fs/cgroup/{path.strip('/')}"
        self.write(f"{base}/cpu.stat", f"usage_usec {usage_usec}\nuser_usec 0\nsystem_usec 0\n")
        self.write(f"{base}/memory.current", f"{memory_bytes}\n")


def cpu_stat(busy: int, idle: int) -> str:
    """A /proc/stat first line with ``busy`` user ticks and ``idle`` idle ticks."""
    return f"cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\ncpu0 {busy} 0 0 {idle} 0 0 0 0 0 0\n"
