"""The record: what a run (or a task) used, how it was measured, and what it emitted.

One schema, defined here only. Internally SI (J, s, g); at the edges CodeCarbon's units (kWh, kg,
W, GB) so that ``emissions.csv`` starts with CodeCarbon 3.x's 38 columns in its order, followed by
wattprint's own columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .carbon.shift import ShiftInfo
from .carbon.shift import columns as shift_columns
from .carbon.types import Intensity, Location
from .footprint import columns as footprint_columns
from .units import J_PER_KWH  # noqa: F401  (one definition; records.J_PER_KWH is used)

GB_PER_GIB = 1e9 / 2**30  # GB -> GiB


@dataclass(frozen=True)
class Column:
    """One column of the record: its name, its type, its unit, and whose column it is.

    ``kind`` is one of ``text``, ``float``, ``int``, ``timestamp`` (ISO 8601); ``unit`` is the
    unit of the value as written in the CSV (CodeCarbon's units for its columns), ``""`` for none;
    ``origin`` is ``codecarbon`` (CodeCarbon 3.x's 38 columns, in its order) or ``wattprint``.
    """

    name: str
    kind: str
    unit: str = ""
    origin: str = "wattprint"


def _cc(name: str, kind: str = "text", unit: str = "") -> Column:
    return Column(name, kind, unit, "codecarbon")


def _wp(name: str, kind: str = "text", unit: str = "") -> Column:
    return Column(name, kind, unit, "wattprint")


#: THE record's columns, in the CSV's order: everything else (the CSV header, the JSON record,
#: the envelope, the server's tables) is derived from this.
SPEC: tuple[Column, ...] = (
    _cc("timestamp", "timestamp"), _cc("project_name"), _cc("run_id"), _cc("experiment_id"),
    _cc("duration", "float", "s"), _cc("emissions", "float", "kg"),
    _cc("emissions_rate", "float", "kg/s"), _cc("cpu_power", "float", "W"),
    _cc("gpu_power", "float", "W"), _cc("ram_power", "float", "W"),
    _cc("cpu_energy", "float", "kWh"), _cc("gpu_energy", "float", "kWh"),
    _cc("ram_energy", "float", "kWh"), _cc("energy_consumed", "float", "kWh"),
    _cc("water_consumed", "float", "L"), _cc("country_name"), _cc("country_iso_code"),
    _cc("region"), _cc("cloud_provider"), _cc("cloud_region"), _cc("os"), _cc("python_version"),
    _cc("codecarbon_version"), _cc("cpu_count", "int"), _cc("cpu_model"), _cc("gpu_count", "int"),
    _cc("gpu_model"), _cc("longitude", "float", "deg"), _cc("latitude", "float", "deg"),
    _cc("ram_total_size", "float", "GiB"), _cc("tracking_mode"),
    _cc("cpu_utilization_percent", "float", "%"), _cc("gpu_utilization_percent", "float", "%"),
    _cc("ram_utilization_percent", "float", "%"), _cc("ram_used_gb", "float", "GiB"),
    _cc("on_cloud"), _cc("pue", "float"), _cc("wue", "float", "L/kWh"),
    _wp("status"), _wp("experiment_name"), _wp("run_name"), _wp("started_at", "timestamp"),
    _wp("cpu_method"), _wp("gpu_method"), _wp("ram_method"),
    _wp("cpu_energy_low_kwh", "float", "kWh"), _wp("cpu_energy_high_kwh", "float", "kWh"),
    _wp("gpu_energy_low_kwh", "float", "kWh"), _wp("gpu_energy_high_kwh", "float", "kWh"),
    _wp("ram_energy_low_kwh", "float", "kWh"), _wp("ram_energy_high_kwh", "float", "kWh"),
    _wp("energy_low_kwh", "float", "kWh"), _wp("energy_high_kwh", "float", "kWh"),
    _wp("emissions_low_kg", "float", "kg"), _wp("emissions_high_kg", "float", "kg"),
    _wp("intensity_g_per_kwh", "float", "g/kWh"), _wp("intensity_low_g_per_kwh", "float", "g/kWh"),
    _wp("intensity_high_g_per_kwh", "float", "g/kWh"), _wp("intensity_source"),
    _wp("intensity_year", "int"), _wp("intensity_zone"), _wp("intensity_kind"),
    _wp("intensity_basis"), _wp("platform_method"), _wp("platform_power_w", "float", "W"),
    _wp("platform_energy_kwh", "float", "kWh"), _wp("platform_energy_low_kwh", "float", "kWh"),
    _wp("platform_energy_high_kwh", "float", "kWh"), _wp("machine_energy_kwh", "float", "kWh"),
    _wp("machine_energy_low_kwh", "float", "kWh"), _wp("machine_energy_high_kwh", "float", "kWh"),
    _wp("machine_emissions_kg", "float", "kg"), _wp("machine_emissions_low_kg", "float", "kg"),
    _wp("machine_emissions_high_kg", "float", "kg"), _wp("location_source"),
    _wp("location_detail"), _wp("emissions_marginal_kg", "float", "kg"),
    _wp("marginal_g_per_kwh", "float", "g/kWh"), _wp("marginal_source"), _wp("pue_source"),
    _wp("wue_source"), _wp("notes"), _wp("wattprint_version"),
    # A run moved in time by `wattprint wait` or @carbon_aware (carbon/shift.py): from when
    # to when, the forecast intensity at both, and the estimated saving against starting at once.
    _wp("shifted_from", "timestamp"), _wp("shifted_to", "timestamp"),
    _wp("shift_intensity_from_g_per_kwh", "float", "g/kWh"),
    _wp("shift_intensity_to_g_per_kwh", "float", "g/kWh"), _wp("shift_saving_kg", "float", "kg"),
    _wp("shift_saving_low_kg", "float", "kg"), _wp("shift_saving_high_kg", "float", "kg"),
    _wp("shift_source"),
    # Shared machines and clusters (wattprint.attribution): what was charged (scope: machine,
    # process or job), who paid for idle power, the shares of the machine's energy charged, how
    # GPUs were charged, where the job sits (Slurm, torchrun), its container or pod, and whether
    # task and run edges waited for GPU work in flight.
    _wp("scope"), _wp("idle_policy"), _wp("cpu_share", "float"), _wp("ram_share", "float"),
    _wp("platform_share", "float"), _wp("gpu_share", "float"), _wp("gpu_share_method"),
    _wp("job_id"), _wp("job_step"), _wp("node"), _wp("rank", "int"), _wp("local_rank", "int"),
    _wp("world_size", "int"), _wp("container_id"), _wp("pod"), _wp("namespace"),
    _wp("sync_gpu"),
    # The rest of the footprint (wattprint.footprint), beside the operational emissions and never
    # in them: embodied emissions charged to the run, the SCI score per functional unit, and the
    # LLM API calls' remote energy and emissions estimated by EcoLogits (per model in llm_detail).
    _wp("embodied_kg", "float", "kg"), _wp("embodied_low_kg", "float", "kg"),
    _wp("embodied_high_kg", "float", "kg"), _wp("embodied_method"), _wp("embodied_source"),
    _wp("units", "float"), _wp("functional_unit"), _wp("sci_g_per_unit", "float", "g"),
    _wp("sci_low_g_per_unit", "float", "g"), _wp("sci_high_g_per_unit", "float", "g"),
    _wp("llm_calls", "int"), _wp("llm_energy_kwh", "float", "kWh"),
    _wp("llm_energy_low_kwh", "float", "kWh"), _wp("llm_energy_high_kwh", "float", "kWh"),
    _wp("llm_emissions_kg", "float", "kg"), _wp("llm_emissions_low_kg", "float", "kg"),
    _wp("llm_emissions_high_kg", "float", "kg"), _wp("llm_detail"),
)  # fmt: skip


#: A task's row: the run's columns and the task's name.
TASK_SPEC: tuple[Column, ...] = SPEC + (_wp("task_name"),)

COLUMNS = tuple(c.name for c in SPEC)
#: The attribution block of SPEC (scope ... sync_gpu), filled from RunResult.attribution.
ATTRIBUTION_COLUMNS = COLUMNS[COLUMNS.index("scope") : COLUMNS.index("sync_gpu") + 1]
CODECARBON_COLUMNS = tuple(c.name for c in SPEC if c.origin == "codecarbon")
WATTPRINT_COLUMNS = tuple(c.name for c in SPEC if c.origin == "wattprint")
TASK_COLUMNS = tuple(c.name for c in TASK_SPEC)
BY_NAME: dict[str, Column] = {c.name: c for c in TASK_SPEC}


#: One sampling interval of a run in progress, as the server sink sends it: the run's identity,
#: cumulative energy and emissions since the start, and each component's mean power over this
#: interval. Envelope: ``{"type": "wattprint.interval", "version": 1, "key": "<run_id>:i<seq>",
#: "interval": {...}}``, beside the row envelope ``{"type": "wattprint.record", "version": 1,
#: "key": "<run_id>:<seq>", "record": {...COLUMNS...}}``. Empty or missing: not measured.
INTERVAL_SPEC: tuple[Column, ...] = (
    _wp("run_id"), _wp("seq", "int"), _wp("timestamp", "timestamp"),
    _wp("project_name"), _wp("experiment_id"), _wp("experiment_name"), _wp("run_name"),
    _wp("started_at", "timestamp"), _wp("duration", "float", "s"), _wp("interval_s", "float", "s"),
    _wp("cpu_energy", "float", "kWh"), _wp("gpu_energy", "float", "kWh"),
    _wp("ram_energy", "float", "kWh"), _wp("platform_energy_kwh", "float", "kWh"),
    _wp("cpu_power", "float", "W"), _wp("gpu_power", "float", "W"), _wp("ram_power", "float", "W"),
    _wp("platform_power_w", "float", "W"), _wp("energy_consumed", "float", "kWh"),
    _wp("emissions", "float", "kg"), _wp("emissions_low_kg", "float", "kg"),
    _wp("emissions_high_kg", "float", "kg"), _wp("intensity_g_per_kwh", "float", "g/kWh"),
)  # fmt: skip
INTERVAL_COLUMNS = tuple(c.name for c in INTERVAL_SPEC)

#: Run status values. "running": a flush() row; "failed": the tracked code raised;
#: "interrupted": Ctrl-C, or a killed process whose run was recovered from its time series.
STATUSES = ("running", "finished", "failed", "interrupted")


@dataclass(frozen=True)
class ComponentEnergy:
    """Energy of one component. ``energy_kwh`` is None when it could not be measured."""

    energy_kwh: float | None
    low_kwh: float | None
    high_kwh: float | None
    power_w: float | None  # mean over the run
    method: str  # "rapl", "nvml-counter", "cpu-model", ...; "none": no such device
    devices: tuple[str, ...] = ()
    note: str | None = None  # why it is missing, a gap, an error


@dataclass(frozen=True)
class Machine:
    """Facts about the machine, for the record (read once per run, cheaply)."""

    os: str = ""
    python_version: str = ""
    cpu_count: int = 0
    cpu_model: str = ""
    gpu_count: int = 0
    gpu_model: str = ""
    ram_total_gb: float = 0.0


@dataclass(frozen=True)
class RunResult:
    run_id: str
    project_name: str
    experiment_name: str | None
    run_name: str | None
    status: str
    started_at: datetime
    timestamp: datetime  # when this result was taken
    duration_s: float
    cpu: ComponentEnergy
    gpu: ComponentEnergy
    ram: ComponentEnergy
    energy_kwh: float  # (cpu + gpu + ram) x PUE, measured components only, as CodeCarbon
    energy_low_kwh: float | None
    energy_high_kwh: float | None
    emissions_kg: float | None  # None when no energy could be measured at all
    emissions_low_kg: float | None
    emissions_high_kg: float | None
    intensity: Intensity  # effective: the run's emissions per kWh, named after its source
    location: Location
    pue: float
    pue_source: str = ""
    wue_l_per_kwh: float | None = None
    wue_source: str = ""
    water_l: float | None = None  # None: no WUE known for this place
    emissions_marginal_kg: float | None = None
    marginal: Intensity | None = None
    # The whole machine: the components above plus the platform (board, fans, storage, PSU
    # losses), which nothing measures and the power model estimates. None where not estimated.
    platform: ComponentEnergy | None = None
    machine_energy_kwh: float | None = None
    machine_energy_low_kwh: float | None = None
    machine_energy_high_kwh: float | None = None
    machine_emissions_kg: float | None = None
    machine_emissions_low_kg: float | None = None
    machine_emissions_high_kg: float | None = None
    tracking_mode: str = "machine"
    machine: Machine = field(default_factory=Machine)
    utilization: dict[str, float | None] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    task_name: str | None = None
    shift: ShiftInfo | None = None  # set when the run was moved in time (wait, @carbon_aware)
    # Scope, shares, job placement, container (ATTRIBUTION_COLUMNS); empty for machine runs
    # recorded before wattprint knew about them.
    attribution: dict[str, Any] = field(default_factory=dict)
    # The rest of the footprint (wattprint.footprint): never part of emissions_kg.
    embodied_kg: float | None = None  # None: not estimated
    embodied_low_kg: float | None = None
    embodied_high_kg: float | None = None
    embodied_method: str = "none"
    embodied_source: str = ""
    units: float | None = None  # functional units done (SCI's R)
    functional_unit: str = ""
    llm: dict[str, dict[str, Any]] | None = None  # LLM API calls per "provider/model"

    @property
    def components(self) -> dict[str, ComponentEnergy]:
        return {"cpu": self.cpu, "gpu": self.gpu, "ram": self.ram}

    @property
    def emissions_rate_kg_per_s(self) -> float:
        if self.emissions_kg is None or self.duration_s <= 0:
            return 0.0
        return self.emissions_kg / self.duration_s

    def __str__(self) -> str:
        # Imported here: the record is data; its text lives with the other renderings.
        from .report.text import render_text

        return render_text(self)


TaskResult = RunResult  # a task's result has the same shape, with task_name set


def _gib(gb: float | None) -> float | None:
    return None if gb is None else gb * GB_PER_GIB


def _num(value: float | None) -> Any:
    return "" if value is None else value


def to_row(result: RunResult, version: str) -> dict[str, Any]:
    """The CSV row for a result, keyed by COLUMNS (and task_name for tasks)."""
    loc, it, m, u = result.location, result.intensity, result.machine, result.utilization
    row: dict[str, Any] = {
        "timestamp": result.timestamp.isoformat(timespec="seconds"),
        "project_name": result.project_name,
        "run_id": result.run_id,
        "experiment_id": result.experiment_name or "",
        "duration": result.duration_s,
        "emissions": _num(result.emissions_kg),
        "emissions_rate": result.emissions_rate_kg_per_s,
        "energy_consumed": result.energy_kwh,
        "water_consumed": _num(result.water_l),  # litres
        "country_name": loc.country_name or "",
        "country_iso_code": loc.country or "",
        "region": loc.region or loc.zone or "",
        "cloud_provider": loc.cloud_provider or "",
        "cloud_region": loc.cloud_region or "",
        "os": m.os,
        "python_version": m.python_version,
        "codecarbon_version": "",
        "cpu_count": m.cpu_count,
        "cpu_model": m.cpu_model,
        "gpu_count": m.gpu_count,
        "gpu_model": m.gpu_model,
        "longitude": _num(loc.longitude),
        "latitude": _num(loc.latitude),
        # CodeCarbon writes these two in GiB (bytes / 1024**3) under a "GB" label: the same
        # machine must read the same in both files.
        "ram_total_size": round(m.ram_total_gb * GB_PER_GIB, 3),
        "tracking_mode": result.tracking_mode,
        "cpu_utilization_percent": _num(u.get("cpu")),
        "gpu_utilization_percent": _num(u.get("gpu")),
        "ram_utilization_percent": _num(u.get("ram")),
        "ram_used_gb": _num(_gib(u.get("ram_used_gb"))),
        "on_cloud": "Y" if loc.cloud_provider else "N",
        "pue": result.pue,
        "wue": _num(result.wue_l_per_kwh),
        "status": result.status,
        "experiment_name": result.experiment_name or "",
        "run_name": result.run_name or "",
        "started_at": result.started_at.isoformat(timespec="seconds"),
        "energy_low_kwh": _num(result.energy_low_kwh),
        "energy_high_kwh": _num(result.energy_high_kwh),
        "emissions_low_kg": _num(result.emissions_low_kg),
        "emissions_high_kg": _num(result.emissions_high_kg),
        "intensity_g_per_kwh": it.value,
        "intensity_low_g_per_kwh": it.low,
        "intensity_high_g_per_kwh": it.high,
        "intensity_source": it.source,
        "intensity_year": _num(it.year),
        "intensity_zone": it.zone,
        "intensity_kind": it.kind,
        "intensity_basis": it.basis or "",
        "location_source": loc.source,
        "location_detail": loc.detail or "",
        "emissions_marginal_kg": _num(result.emissions_marginal_kg),
        "marginal_g_per_kwh": _num(result.marginal.value if result.marginal else None),
        "marginal_source": result.marginal.source if result.marginal else "",
        "pue_source": result.pue_source,
        "wue_source": result.wue_source,
        "notes": " | ".join(result.notes),
        "wattprint_version": version,
    }
    for name, c in result.components.items():
        row[f"{name}_power"] = _num(c.power_w)
        row[f"{name}_energy"] = _num(c.energy_kwh)
        row[f"{name}_method"] = c.method
        row[f"{name}_energy_low_kwh"] = _num(c.low_kwh)
        row[f"{name}_energy_high_kwh"] = _num(c.high_kwh)
    p = result.platform
    row["platform_method"] = p.method if p else "none"
    row["platform_power_w"] = _num(p.power_w if p else None)
    row["platform_energy_kwh"] = _num(p.energy_kwh if p else None)
    row["platform_energy_low_kwh"] = _num(p.low_kwh if p else None)
    row["platform_energy_high_kwh"] = _num(p.high_kwh if p else None)
    for key in (
        "machine_energy_kwh",
        "machine_energy_low_kwh",
        "machine_energy_high_kwh",
        "machine_emissions_kg",
        "machine_emissions_low_kg",
        "machine_emissions_high_kg",
    ):
        row[key] = _num(getattr(result, key))
    row.update(shift_columns(result.shift, result.energy_kwh))
    for key in ATTRIBUTION_COLUMNS:
        row[key] = _num(result.attribution.get(key))
    row.update(footprint_columns(result))
    if result.task_name is not None:
        row["task_name"] = result.task_name
    spec = TASK_COLUMNS if result.task_name is not None else COLUMNS
    if len(row) != len(spec):  # a column added here but not to SPEC, or the other way round
        raise AssertionError(f"to_row and SPEC disagree on {sorted(set(row) ^ set(spec))}")
    return {name: row[name] for name in spec}  # the CSV's order, whatever the order above


# -- the JSON record and the envelopes that sinks and the server exchange ------------------------

ENVELOPE_VERSION = 1
RECORD_TYPE = "wattprint.record"
INTERVAL_TYPE = "wattprint.interval"


def json_value(column: Column, value: Any) -> Any:
    """A value as JSON has it for ``column``: null for unknown (the CSV's empty cell), a number
    for numeric columns (never NaN or Infinity, which JSON has not), text for the others."""
    if value is None or value == "":
        return None
    if column.kind in ("float", "int"):
        if isinstance(value, str):
            return parse_value(column, value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if column.kind == "int" and isinstance(value, int):
            return value
        number = float(value)
        return number if math.isfinite(number) else None
    return str(value)


def parse_value(column: Column, text: str | None) -> Any:
    """A CSV cell read by its column's kind: a float or int for numeric columns (None when empty,
    not a number, or not finite), the stripped text (None when empty) for the others."""
    text = (text or "").strip()
    if not text:
        return None
    if column.kind not in ("float", "int"):
        return text
    try:
        number = float(text)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    if column.kind == "int" and number.is_integer():
        return int(number)
    return number


def to_record(result: RunResult) -> dict[str, Any]:
    """The JSON record of a result: the CSV's columns and units, keyed by TASK_COLUMNS
    (``task_name`` null for a run's row), null where the CSV has an empty cell."""
    from ._version import __version__

    row = to_row(result, __version__)
    return {c.name: json_value(c, row.get(c.name)) for c in TASK_SPEC}


def record_from_csv(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON record of a CSV row (wattprint's or CodeCarbon's, whose columns are a subset):
    every column of TASK_SPEC, null where the file has none or an empty cell."""
    return {c.name: parse_value(c, row.get(c.name)) for c in TASK_SPEC}


def envelope(kind: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
    name = {RECORD_TYPE: "record", INTERVAL_TYPE: "interval"}[kind]
    return {"type": kind, "version": ENVELOPE_VERSION, "key": key, name: body}


def record_envelope(result: RunResult, seq: int | str) -> dict[str, Any]:
    """``{"type": "wattprint.record", "version": 1, "key": "<run_id>:<seq>", "record": {...}}``;
    ``seq`` counts the run's rows (tasks' included) from 1, or is "recovered" for the last row
    of a killed run. The key is the same on every retry: receivers store a key once."""
    return envelope(RECORD_TYPE, f"{result.run_id}:{seq}", to_record(result))


def interval_fields(
    result: RunResult, seq: int, previous: RunResult | None = None
) -> dict[str, Any]:
    """One interval of a run in progress (INTERVAL_SPEC): cumulative figures as of ``result``
    and each component's mean power since ``previous`` (the interval sent before; the run's
    start if None). Unknown values are None."""
    since = previous.duration_s if previous is not None else 0.0
    interval_s = result.duration_s - since
    values: dict[str, Any] = {
        "run_id": result.run_id, "seq": seq,
        "timestamp": result.timestamp.isoformat(timespec="seconds"),
        "project_name": result.project_name, "experiment_id": result.experiment_name,
        "experiment_name": result.experiment_name, "run_name": result.run_name,
        "started_at": result.started_at.isoformat(timespec="seconds"),
        "duration": result.duration_s, "interval_s": interval_s,
        "energy_consumed": result.energy_kwh, "emissions": result.emissions_kg,
        "emissions_low_kg": result.emissions_low_kg,
        "emissions_high_kg": result.emissions_high_kg,
        "intensity_g_per_kwh": result.intensity.value,
    }  # fmt: skip
    parts: dict[str, ComponentEnergy | None] = dict(result.components)
    parts["platform"] = result.platform
    before: dict[str, ComponentEnergy | None] = (
        dict(previous.components) if previous is not None else {}
    )
    if previous is not None:
        before["platform"] = previous.platform
    for name, c in parts.items():
        energy = c.energy_kwh if c is not None else None
        was = before.get(name)
        was_kwh = (was.energy_kwh if was is not None else None) if previous is not None else 0.0
        power = None
        if energy is not None and was_kwh is not None and interval_s > 0:
            power = max(0.0, (energy - was_kwh) * J_PER_KWH / interval_s)
        energy_col = "platform_energy_kwh" if name == "platform" else f"{name}_energy"
        power_col = "platform_power_w" if name == "platform" else f"{name}_power"
        values[energy_col], values[power_col] = energy, power
    return {c.name: json_value(c, values[c.name]) for c in INTERVAL_SPEC}


def interval_envelope(
    result: RunResult, seq: int, previous: RunResult | None = None
) -> dict[str, Any]:
    """``{"type": "wattprint.interval", "version": 1, "key": "<run_id>:i<seq>",
    "interval": {...INTERVAL_COLUMNS...}}``, ``seq`` counting the run's intervals from 1."""
    return envelope(
        INTERVAL_TYPE, f"{result.run_id}:i{seq}", interval_fields(result, seq, previous)
    )


def to_dict(result: RunResult) -> dict[str, Any]:
    """The result as plain JSON-able data, nested as the dataclasses are (times ISO 8601)."""
    from dataclasses import asdict

    data = asdict(result)
    data["started_at"] = result.started_at.isoformat()
    data["timestamp"] = result.timestamp.isoformat()
    data["notes"] = list(result.notes)
    return data
