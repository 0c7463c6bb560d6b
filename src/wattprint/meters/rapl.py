"""CPU package and DRAM energy from Linux RAPL counters (``/sys/class/powercap``).

RAPL ("running average power limit") exposes cumulative energy counters, in microjoules, per
domain. The kernel's powercap framework lists them as zones:

- provider ``intel-rapl`` (MSR interface; AMD CPUs use it too): top-level zones ``intel-rapl:0``,
  ``intel-rapl:1`` ... one per socket (or per die), named ``package-N`` (``package-N-die-M`` on
  multi-die parts), with subzones ``intel-rapl:0:0`` ... named ``core``, ``uncore`` or ``dram``;
  some servers list ``dram`` (and client parts ``psys``) as a top-level zone instead.
- provider ``intel-rapl-mmio`` (``intel-rapl-mmio:0``): the same package counter read through MMIO,
  a mirror of the MSR zone, not another socket.

CPU energy is the sum of the package domains; RAM energy the sum of the dram domains. ``core`` and
``uncore`` are parts of the package and are never added. ``psys`` (the whole platform on client
parts) is not used here; it may feed the platform meter later.

Permissions: since CVE-2020-8694 ("PLATYPUS", a power side channel) ``energy_uj`` is readable by
root only on most distributions. ``sudo chmod a+r ...`` (the probe prints the exact command) grants
access until the next reboot; to keep it, add a udev rule for ``SUBSYSTEM=="powercap"`` that does
the same at boot, or give read access to a ``powercap`` group only rather than to every user.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from .base import MeterError, Probe, ProbeContext, Reading, scaled

POWERCAP = "/sys/class/powercap"
NAME = "rapl"
METHOD = "rapl"

#: Relative uncertainty of the package counters: on Sandy Bridge and later (and AMD Zen) the
#: package energy tracks externally measured power within a few percent in published validations
#: (e.g. Hackenberg et al. 2015, Khan et al. 2018), so +-5 % is a safe bound.
PACKAGE_REL_ERROR = 0.05
#: DRAM energy is modelled rather than measured on some generations (client parts, Haswell-EP
#: without the DIMM power calibration), so its bound is wider.
DRAM_REL_ERROR = 0.10

#: A generous upper bound on the power of one domain, used only to choose the poll interval so
#: that no counter can wrap twice between two polls.
MAX_DOMAIN_POWER_W = 500.0
#: The poll interval never exceeds this, whatever the counter range.
MAX_POLL_INTERVAL_S = 60.0

_ZONE_RE = re.compile(r"(intel-rapl(?:-mmio)?):(\d+(?::\d+)*)")
_PACKAGE_RE = re.compile(r"package-\d+(?:-die-\d+)?")
_DIE_RE = re.compile(r"-die-\d+")
# Lower rank wins when two providers expose the same domain (mmio mirrors the MSR counter).
_PROVIDER_RANK = {"intel-rapl": 0, "intel-rapl-mmio": 1}

_NO_POWERCAP = (
    "no RAPL powercap interface (not Linux, a VM, or the intel_rapl driver is not loaded)"
)
_NO_ZONES = f"no RAPL zones under {POWERCAP} (a VM, or the intel_rapl_msr driver is not loaded)"
_NO_DRAM = "RAPL exposes no dram domain on this CPU"
_NO_PACKAGE = "RAPL exposes no package domain on this CPU"
_MODPROBE = "sudo modprobe intel_rapl_msr"  # pulls in intel_rapl_common, which alone adds no zones


class RaplDomain(NamedTuple):
    """One RAPL counter that a meter reads."""

    name: str  # what it measures: "package-0", "package-0/dram", "dram"
    zone: str  # the powercap zone: "intel-rapl:0", "intel-rapl:0:2"
    energy_path: str  # the energy_uj file, read on every poll
    max_range_uj: int  # the counter wraps to 0 after this value
    rel_error: float  # relative uncertainty of the counter (PACKAGE_REL_ERROR, DRAM_REL_ERROR)


def read_uj(path: str) -> int:
    """Read one counter file. Raises OSError (PermissionError included) or ValueError."""
    # os.open/os.read of a few bytes: no buffered file object, no decoding; sysfs regenerates
    # the value on each open, so re-opening by path is both correct and cheap.
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, 64)
    finally:
        os.close(fd)
    return int(data)


def poll_interval_for(domains: Sequence[RaplDomain]) -> float:
    """Half the shortest time any domain takes to wrap at MAX_DOMAIN_POWER_W, at most 60 s."""
    shortest = min(d.max_range_uj / 1e6 / MAX_DOMAIN_POWER_W for d in domains)
    return min(MAX_POLL_INTERVAL_S, shortest / 2.0)


class RaplMeter:
    """Cumulative energy of a set of RAPL domains (the packages, or the dram domains)."""

    method = METHOD

    def __init__(self, component: str, domains: Sequence[RaplDomain]) -> None:
        if not domains:
            raise ValueError("RaplMeter needs at least one domain")
        for d in domains:
            if d.max_range_uj <= 0:
                raise ValueError(f"{d.zone}: max_energy_range_uj must be positive")
        self.component = component
        self.domains = tuple(domains)
        self.devices = tuple(d.name for d in domains)
        self.poll_interval_s: float | None = poll_interval_for(domains)
        # Precomputed so that a poll is one open/read/close per domain and integer arithmetic.
        self._paths = tuple(d.energy_path for d in domains)
        self._ranges = tuple(d.max_range_uj for d in domains)
        self._rel = tuple(d.rel_error for d in domains)
        self._last = [self._read(p) for p in self._paths]
        self._total_uj = [0] * len(self._paths)

    @staticmethod
    def _read(path: str) -> int:
        try:
            return read_uj(path)
        except (OSError, ValueError) as e:
            raise MeterError(f"cannot read RAPL counter {path}: {e}") from e

    def poll(self) -> None:
        """Read every counter and add what it moved since the last poll, across a wrap."""
        last, total, ranges = self._last, self._total_uj, self._ranges
        for i, path in enumerate(self._paths):
            now = self._read(path)
            prev = last[i]
            if now >= prev:
                total[i] += now - prev
            else:
                # The counter wrapped once (the poll interval rules out two wraps).
                total[i] += ranges[i] - prev + now
            last[i] = now

    def read(self) -> Reading:
        """Energy of all domains since the meter was opened, up to now."""
        self.poll()
        energy_j = sum(self._total_uj) / 1e6
        low_j = high_j = 0.0
        for uj, rel in zip(self._total_uj, self._rel, strict=True):
            lo, hi = scaled(uj / 1e6, rel, rel)
            low_j += lo
            high_j += hi
        # Float sums of the parts could stray a rounding error outside energy_j.
        return Reading(energy_j, min(low_j, energy_j), max(high_j, energy_j), METHOD)

    def close(self) -> None:
        return None  # nothing is held open between reads


class _Zone(NamedTuple):
    zone: str
    provider: str
    index: tuple[int, ...]
    dir: Path
    name: str  # "" when the zone has no readable name


def _discover(base: Path) -> dict[str, _Zone]:
    """All RAPL zones under the powercap directory, by zone id.

    On a real machine every zone, subzones included, is a symlink at the top level and subzones
    are also directories inside their parent; a fake tree may have only one of the two.
    """
    zones: dict[str, _Zone] = {}

    def visit(entry: str, d: Path) -> None:
        m = _ZONE_RE.fullmatch(entry)
        if m is None or entry in zones or not d.is_dir():
            return
        try:
            name = (d / "name").read_text().strip()
        except (OSError, ValueError):  # ValueError: undecodable bytes
            name = ""
        index = tuple(int(i) for i in m.group(2).split(":"))
        zones[entry] = _Zone(entry, m.group(1), index, d, name)
        for child in sorted(os.listdir(d)):
            # Only subzones: a zone directory also links back to the class ("subsystem").
            if child.startswith(entry + ":"):
                visit(child, d / child)

    for entry in sorted(os.listdir(base)):
        visit(entry, base / entry)
    return zones


def _sort_key(z: _Zone) -> tuple[int, tuple[int, ...]]:
    return (_PROVIDER_RANK.get(z.provider, 9), z.index)


def _qualified_name(z: _Zone, zones: dict[str, _Zone]) -> str:
    """The name that tells sockets apart: "package-1/dram" for the dram subzone of socket 1."""
    if len(z.index) > 1:
        parent = zones.get(z.zone.rsplit(":", 1)[0])
        if parent is not None and parent.name:
            return f"{parent.name}/{z.name}"
    return z.name


def chmod_command(zones: Sequence[str]) -> str:
    """The command that makes the energy counters of these zone ids readable by everyone."""
    globs: list[str] = []
    for provider in ("intel-rapl", "intel-rapl-mmio"):
        ours = [z for z in zones if z.startswith(provider + ":")]
        if not ours:
            continue
        globs.append(f"{POWERCAP}/{provider}:*/energy_uj")
        # On a real machine the first glob already matches the subzones' top-level links; the
        # nested one is for kernels or trees that only nest them. Added only when it matches.
        if any(z.count(":") > 1 for z in ours):
            globs.append(f"{POWERCAP}/{provider}:*/*/energy_uj")
    return "sudo chmod a+r " + " ".join(globs)


class _Denied(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def _socket_name(z: _Zone, zones: dict[str, _Zone]) -> str:
    """The qualified name without its die: "package-0-die-1/dram" -> "package-0/dram"."""
    return _DIE_RE.sub("", _qualified_name(z, zones))


def _same_counter(a: _Zone, b: _Zone, first: dict[str, int], second: dict[str, int]) -> bool:
    # Reads were a1, b1 (first pass, in order) then b2, a2 (second pass, reversed): a mirror of
    # a's counter read between a1 and a2 lies between them; a distinct counter lands in that
    # window of a few microjoules only by a vanishingly unlikely coincidence.
    return first[a.zone] <= first[b.zone] <= second[a.zone]


def _build(
    component: str,
    candidates: list[_Zone],
    zones: dict[str, _Zone],
    rel_error: float,
) -> tuple[RaplMeter, str, list[str]]:
    """Dedupe mirrored zones and open a meter. Raises _Denied, or OSError/ValueError/MeterError."""
    notes: list[str] = []
    # 1. The same domain under two providers: keep the preferred provider's zone.
    groups: dict[str, list[_Zone]] = {}
    for z in sorted(candidates, key=_sort_key):
        groups.setdefault(_qualified_name(z, zones), []).append(z)
    chosen: list[_Zone] = []
    for zs in groups.values():
        best = zs[0].provider
        for z in zs:
            if z.provider == best:
                chosen.append(z)
            else:
                notes.append(f"{z.zone} mirrors {zs[0].zone}")
    chosen.sort(key=_sort_key)

    # 2. Two zones of one socket reading the very same counter (the socket listed twice under
    #    one name, or once per die of a part whose counter is per socket): keep the first. Only
    #    zones of the same socket are compared, so that two sockets whose counters happen to be
    #    equal (both 0 on a dram domain that does not count, or in a fake tree) stay apart.
    first: dict[str, int] = {}
    second: dict[str, int] = {}
    for order, store in ((chosen, first), (chosen[::-1], second)):
        for z in order:
            path = str(z.dir / "energy_uj")
            try:
                store[z.zone] = read_uj(path)
            except PermissionError as e:
                raise _Denied(path) from e
    kept: list[_Zone] = []
    for z in chosen:
        twin = next(
            (
                k
                for k in kept
                if _socket_name(k, zones) == _socket_name(z, zones)
                and _same_counter(k, z, first, second)
            ),
            None,
        )
        if twin is None:
            kept.append(z)
        else:
            notes.append(f"{z.zone} mirrors {twin.zone}")

    names = [_qualified_name(z, zones) for z in kept]
    domains = []
    for z, name in zip(kept, names, strict=True):
        if names.count(name) > 1:  # distinct counters under one name: say which is which
            name = f"{name} ({z.zone})"
        max_range = int((z.dir / "max_energy_range_uj").read_text())
        domains.append(RaplDomain(name, z.zone, str(z.dir / "energy_uj"), max_range, rel_error))
    meter = RaplMeter(component, domains)
    reason = f"RAPL counters for {', '.join(meter.devices)}"
    if notes:
        reason += f" (ignored {'; '.join(notes)})"
    return meter, reason, [f"RAPL zone {note}: ignored, not counted twice" for note in notes]


def _not_usable(component: str, reason: str, fix: str | None = None) -> Probe:
    return Probe(NAME, component, False, reason, fix)


def probe(ctx: ProbeContext) -> list[Probe]:
    """Look for RAPL counters; return one Probe for "cpu" and one for "ram". Never raises."""
    base = ctx.path(POWERCAP)
    try:
        if not base.is_dir():
            return [_not_usable(c, _NO_POWERCAP) for c in ("cpu", "ram")]
        zones = _discover(base)
    except OSError as e:
        return [_not_usable(c, f"cannot list {POWERCAP}: {e}") for c in ("cpu", "ram")]
    if not any(z.name for z in zones.values()):
        return [_not_usable(c, _NO_ZONES, _MODPROBE) for c in ("cpu", "ram")]

    packages = [z for z in zones.values() if _PACKAGE_RE.fullmatch(z.name)]
    drams = [z for z in zones.values() if z.name == "dram"]
    fix = chmod_command(sorted(zones))
    warned = False
    probes: list[Probe] = []
    for component, candidates, rel, missing in (
        ("cpu", packages, PACKAGE_REL_ERROR, _NO_PACKAGE),
        ("ram", drams, DRAM_REL_ERROR, _NO_DRAM),
    ):
        if not candidates:
            probes.append(_not_usable(component, missing))
            continue
        try:
            meter, reason, notes = _build(component, candidates, zones, rel)
        except _Denied as e:
            reason = (
                f"RAPL energy counters are not readable by this user ({e.path}: permission "
                "denied); since CVE-2020-8694 they are readable by root only on most distributions"
            )
            if not warned:
                warned = True
                ctx.warn(
                    "rapl-permission",
                    f"{reason}. To grant read access until the next reboot run: {fix}  "
                    '(to keep it, add a udev rule for SUBSYSTEM=="powercap" that does the same, '
                    "or give read access to a 'powercap' group rather than to every user: reading "
                    "these counters is the side channel the CVE is about).",
                )
            probes.append(_not_usable(component, reason, fix))
            continue
        except (OSError, ValueError, MeterError) as e:
            probes.append(_not_usable(component, f"cannot use RAPL: {e}"))
            continue
        probes.append(Probe(NAME, component, True, reason, None, meter, notes=tuple(notes)))
    return probes
