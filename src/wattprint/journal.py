"""The per-run time series under ``output_dir/.wattprint/``: what makes a crash lose one interval.

Each run writes ``<run_id>.running.jsonl``: a ``run`` line (who, where, how), then one
``interval`` line per interval holding the run's cumulative state, then an ``end`` line, and
the file becomes ``<run_id>.jsonl``. Every line is flushed to
the operating system as it is written, so a ``kill -9`` loses at most the interval in progress
(a power cut may lose what the OS had not yet written; fsync on every interval would cost more
than the whole sample).

A run with no ``end`` line whose process is gone was killed: the next tracker started in the same
``output_dir`` rebuilds its result from the last interval, appends it to the CSV with status
``interrupted``, and closes the journal.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from .carbon.grid import Intensity
from .carbon.location import Location
from .carbon.shift import ShiftInfo
from .records import J_PER_KWH, ComponentEnergy, Machine, RunResult

FOLDER = ".wattprint"
RUNNING = ".running.jsonl"
DONE = ".jsonl"


class Journal:
    def __init__(self, output_dir: Path, run_id: str, meta: dict[str, Any]) -> None:
        folder = output_dir / FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        # ".running" until the run ends: a new tracker looks only at those for killed runs,
        # however many finished runs the folder holds.
        self.path = folder / f"{run_id}{RUNNING}"
        self.final_path = folder / f"{run_id}{DONE}"
        # A raw O_APPEND descriptor: each line is one write(2), straight to the OS, with none of
        # io's buffering layers on the sampling path.
        self._fd: int | None = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._encode = json.JSONEncoder(separators=(",", ":")).encode
        self._write({"type": "run", **meta})

    def _write(self, line: dict[str, Any]) -> None:
        if self._fd is None:
            raise ValueError(f"journal {self.path} is closed")
        os.write(self._fd, (self._encode(line) + "\n").encode())

    def interval(self, state: dict[str, Any]) -> None:
        state["type"] = "interval"
        self._write(state)

    def end(self, status: str) -> None:
        self._write({"type": "end", "status": status})
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            os.replace(self.path, self.final_path)


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
    except psutil.Error:
        return None


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """What tells this process apart from a later one that reuses its pid."""
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "host": _host(), "create_time": _start_time(pid)}


def _alive(meta: dict[str, Any]) -> bool:
    if meta.get("host") != _host():
        return True  # another machine sharing the folder: not ours to judge
    try:
        started = _start_time(int(meta["pid"]))
    except (KeyError, ValueError, TypeError):
        return False
    return started is not None and started == meta.get("create_time")


def _lines(path: Path) -> list[dict[str, Any]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError:
                break  # a line cut by the kill: everything before it stands
    return out


def unfinished(output_dir: Path) -> list[tuple[Path, dict[str, Any], dict[str, Any] | None]]:
    """Journals in ``output_dir`` whose run ended without a final row and whose process is gone.

    Each comes with its ``run`` line and its last ``interval`` line (None if it had none).
    """
    folder = output_dir / FOLDER
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"*{RUNNING}")):
        try:
            lines = _lines(path)
        except OSError:
            continue
        if not lines or lines[0].get("type") != "run" or lines[-1].get("type") == "end":
            continue
        if _alive(lines[0]):
            continue
        last = next((x for x in reversed(lines) if x.get("type") == "interval"), None)
        found.append((path, lines[0], last))
    return found


def claim(path: Path) -> Path | None:
    """Take a journal for recovery; None if another process took it first."""
    claimed = path.with_name(path.name[: -len(RUNNING)] + ".recovering")
    try:
        os.rename(path, claimed)
    except OSError:
        return None
    return claimed


def release(claimed: Path, status: str) -> None:
    with open(claimed, "a", encoding="utf-8") as f:
        f.write(json.dumps({"type": "end", "status": status, "recovered": True}) + "\n")
    os.rename(claimed, claimed.with_suffix(DONE))


def meta_for(
    run_id: str,
    settings: dict[str, Any],
    machine: Machine,
    carbon: Any,
    started_at: datetime,
    csv_path: str,
) -> dict[str, Any]:
    timeline = carbon.timeline
    return {
        "run_id": run_id,
        **process_identity(),
        "started_at": started_at.isoformat(),
        "project_name": settings["project_name"],
        "experiment_name": settings["experiment_name"],
        "run_name": settings["run_name"],
        "pue": carbon.pue,
        "pue_source": carbon.pue_source,
        "wue": carbon.wue_l_per_kwh,
        "wue_source": carbon.wue_source,
        "tracking_mode": settings["tracking_mode"],
        "machine": asdict(machine),
        "location": asdict(carbon.location),
        "intensity": asdict(timeline.base),
        "sources": {kind: asdict(it) for kind, it in timeline.sources().items()},
        "marginal": asdict(carbon.marginal) if carbon.marginal is not None else None,
        "csv": csv_path,
    }


def _component(state: dict[str, Any], duration_s: float, devices: list[str]) -> ComponentEnergy:
    def kwh(joules: float | None) -> float | None:
        return None if joules is None else joules / J_PER_KWH

    energy = state.get("energy_j")
    return ComponentEnergy(
        energy_kwh=kwh(energy),
        low_kwh=kwh(state.get("low_j")),
        high_kwh=kwh(state.get("high_j")),
        power_w=(energy / duration_s) if energy is not None and duration_s > 0 else None,
        method=state.get("method", "none"),
        devices=tuple(devices),
        note=state.get("note"),
    )


def _when(t: float | str) -> datetime:
    """A state's time: seconds since the epoch (live and journal) or ISO text."""
    if isinstance(t, str):
        return datetime.fromisoformat(t)
    return datetime.fromtimestamp(t).astimezone()


#: Intensity kinds, most specific first: a record names the most specific one it used.
_KINDS = ("explicit", "live", "hourly-profile", "provider-annual", "zone-annual",
          "country-annual", "world-average")  # fmt: skip


def _effective_intensity(
    meta: dict[str, Any], state: dict[str, Any], energy_kwh: float,
    low_kwh: float | None, high_kwh: float | None, pue: float,
) -> Intensity:  # fmt: skip
    """What the run's emissions amount to per kWh, named after the most specific source used."""
    base = meta["intensity"]
    used = [k for k in _KINDS if k in (state.get("intensity_kinds") or [base["kind"]])]
    primary = meta.get("sources", {}).get(used[0] if used else base["kind"], base)
    value, low, high = base["value"], base["low"], base["high"]
    grams = state.get("emissions_g")
    if grams is not None and energy_kwh > 0:
        value = grams / energy_kwh
        low_g, high_g = state.get("emissions_low_g"), state.get("emissions_high_g")
        if low_g is not None and low_kwh:
            low = min(value, low_g / (low_kwh * pue))
        if high_g is not None and high_kwh:
            high = max(value, high_g / (high_kwh * pue))
    return Intensity(
        value=value,
        low=low,
        high=high,
        kind="+".join(used) or base["kind"],
        zone=primary["zone"],
        year=primary["year"],
        source=primary["source"],
        basis=primary.get("basis"),
        license=primary.get("license"),
    )


def _machine(parts: dict[str, ComponentEnergy], platform: ComponentEnergy | None, pue: float,
             state: dict[str, Any]) -> dict[str, float | None]:  # fmt: skip
    """The whole machine's energy and emissions: the components plus the platform."""
    if platform is None or platform.energy_kwh is None:
        return {}
    measured = [c for c in parts.values() if c.energy_kwh is not None]
    energy = sum(c.energy_kwh for c in measured if c.energy_kwh is not None) + platform.energy_kwh
    low = _total([c.low_kwh for c in measured] + [platform.low_kwh])
    high = _total([c.high_kwh for c in measured] + [platform.high_kwh])

    def kg(key: str) -> float | None:
        grams = state.get(key)
        return None if grams is None else grams / 1000.0

    return {
        "machine_energy_kwh": energy * pue,
        "machine_energy_low_kwh": None if low is None else low * pue,
        "machine_energy_high_kwh": None if high is None else high * pue,
        "machine_emissions_kg": kg("machine_g"),
        "machine_emissions_low_kg": kg("machine_low_g"),
        "machine_emissions_high_kg": kg("machine_high_g"),
    }


def _total(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def build_result(
    meta: dict[str, Any], state: dict[str, Any] | None, status: str, task_name: str | None = None
) -> RunResult:
    """A RunResult from a run's ``run`` line and a cumulative state (live or from a journal)."""
    state = state or {"t": meta["started_at"], "duration_s": 0.0, "components": {}}
    duration = float(state["duration_s"])
    zero = {"energy_j": 0.0, "low_j": 0.0, "high_j": 0.0}
    devices = meta.get("devices", {})
    parts = {
        name: _component(state["components"].get(name, zero), duration, devices.get(name, []))
        for name in ("cpu", "gpu", "ram")
    }
    platform_state = state["components"].get("platform")
    platform = (
        _component(platform_state, duration, devices.get("platform", []))
        if platform_state is not None
        else None
    )
    pue = float(meta["pue"])
    measured = [c for c in parts.values() if c.energy_kwh is not None]
    energy = sum(c.energy_kwh for c in measured if c.energy_kwh is not None) * pue
    low = _total([c.low_kwh for c in measured])
    high = _total([c.high_kwh for c in measured])

    def kg(grams: float | None) -> float | None:
        return None if grams is None else grams / 1000.0

    emissions_g = state.get("emissions_g", 0.0)
    wue = meta.get("wue")
    it_energy = energy / pue
    marginal = meta.get("marginal")
    return RunResult(
        run_id=meta["run_id"],
        project_name=meta["project_name"],
        experiment_name=meta.get("experiment_name"),
        run_name=meta.get("run_name"),
        status=status,
        started_at=datetime.fromisoformat(meta["started_at"]),
        timestamp=_when(state["t"]),
        duration_s=duration,
        cpu=parts["cpu"],
        gpu=parts["gpu"],
        ram=parts["ram"],
        energy_kwh=energy,
        energy_low_kwh=None if low is None else low * pue,
        energy_high_kwh=None if high is None else high * pue,
        emissions_kg=kg(emissions_g),
        emissions_low_kg=kg(state.get("emissions_low_g", 0.0)),
        emissions_high_kg=kg(state.get("emissions_high_g", 0.0)),
        intensity=_effective_intensity(meta, state, energy, low, high, pue),
        location=Location(**meta["location"]),
        pue=pue,
        pue_source=meta.get("pue_source", ""),
        wue_l_per_kwh=wue,
        wue_source=meta.get("wue_source", ""),
        water_l=None if wue is None else it_energy * wue,
        emissions_marginal_kg=kg(state.get("emissions_marginal_g")) if marginal else None,
        marginal=Intensity(**marginal) if marginal else None,
        platform=platform,
        **_machine(parts, platform, pue, state),
        tracking_mode=meta.get("tracking_mode", "machine"),
        machine=Machine(**meta.get("machine", {})),
        utilization=dict(state.get("util", {})),
        notes=tuple(state.get("notes", ())),
        task_name=task_name,
        shift=ShiftInfo(**meta["shift"]) if meta.get("shift") else None,
    )
