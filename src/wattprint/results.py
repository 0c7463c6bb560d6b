"""A run's result, built from its ``meta`` (who, where, how: fixed at start) and a state (its
cumulative energies, emissions, shares and notes as of one moment).

The same function builds every row: a live run's (``flush()``, ``stop()``, a task's, from the
tracker's state) and a killed run's (from the last interval of its journal, at recovery). A
figure unknown in the state stays unknown in the row.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from .carbon.grid import Intensity
from .carbon.location import Location
from .carbon.shift import ShiftInfo
from .footprint import from_state
from .journal import process_identity
from .records import J_PER_KWH, ComponentEnergy, Machine, RunResult


def meta_for(
    run_id: str,
    settings: dict[str, Any],
    machine: Machine,
    carbon: Any,
    started_at: datetime,
    csv_path: str,
    output_dir: str = "",
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
        "output_dir": output_dir,
    }


def _component(state: dict[str, Any], duration_s: float, devices: list[str]) -> ComponentEnergy:
    def kwh(joules: float | None) -> float | None:
        return None if joules is None else joules / J_PER_KWH

    energy = state.get("energy_j")
    return ComponentEnergy(
        energy_kwh=kwh(energy),
        low_kwh=kwh(state.get("low_j")),
        high_kwh=kwh(state.get("high_j")),
        power_w=(energy / duration_s) if energy is not None and resolved(duration_s) else None,
        method=state.get("method", "none"),
        devices=tuple(devices),
        note=state.get("note"),
    )


#: The shortest window whose average power is reported. /proc/stat counts CPU time in 10 ms
#: ticks, so a model's utilization over less than ten of them is off by more than 10 %, and
#: a counter's last update may lie a few ms before either edge: below this a mean power is
#: noise, and a figure above the hardware's maximum is possible. The energy is still given.
MIN_AVERAGE_S = 0.1


def resolved(duration_s: float) -> bool:
    """Whether an average over ``duration_s`` means something (see MIN_AVERAGE_S)."""
    return duration_s >= MIN_AVERAGE_S


def _too_short(duration_s: float) -> str:
    return (
        f"average power not reported: {duration_s:.3f} s is shorter than the {MIN_AVERAGE_S:g} s "
        "the meters resolve (CPU time is counted in 10 ms ticks); the energy is reported"
    )


def _when(t: float | str) -> datetime:
    """A state's time: seconds since the epoch (live and journal) or ISO text."""
    if isinstance(t, str):
        return datetime.fromisoformat(t)
    return datetime.fromtimestamp(t).astimezone()


#: Intensity kinds, most specific first: a record names the most specific one it used.
_KINDS = (
    "explicit",
    "live",
    "hourly-profile",
    "provider-annual",
    "zone-annual",
    "country-annual",
    "world-average",
)


def _effective_intensity(
    meta: dict[str, Any],
    state: dict[str, Any],
    energy_kwh: float,
    low_kwh: float | None,
    high_kwh: float | None,
    pue: float,
) -> Intensity:
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


def _machine(
    parts: dict[str, ComponentEnergy],
    platform: ComponentEnergy | None,
    pue: float,
    state: dict[str, Any],
) -> dict[str, Any]:
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


def attribution_fields(meta: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The record's attribution columns: the run's placement and the shares charged so far."""
    fields = dict(meta.get("attribution") or {})
    fields.pop("consumer", None)
    fields.setdefault("scope", meta.get("tracking_mode", "machine"))
    for name, pair in (state.get("shares") or {}).items():
        charged, machine = pair
        fields[f"{name}_share"] = charged / machine if machine > 0 else None
    return fields


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
        attribution=attribution_fields(meta, state),
        machine=Machine(**meta.get("machine", {})),
        utilization=dict(state.get("util", {})),
        notes=(*state.get("notes", ()), *(() if resolved(duration) else (_too_short(duration),))),
        task_name=task_name,
        shift=ShiftInfo(**meta["shift"]) if meta.get("shift") else None,
        **from_state(meta, state, duration),
    )
