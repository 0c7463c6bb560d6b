"""CodeCarbon 3.x's API, measured by wattprint: a program switches by changing one import.

    # from codecarbon import EmissionsTracker, track_emissions
    from wattprint.compat.codecarbon import EmissionsTracker, track_emissions

The classes take CodeCarbon's parameters, by name or in CodeCarbon's positional order, and read
CodeCarbon's configuration the way CodeCarbon does: ``~/.codecarbon.config`` <
``./.codecarbon.config`` < ``CODECARBON_*`` variables < arguments. What CodeCarbon configures is
given to wattprint as arguments, so it wins over wattprint's own settings (``.wattprint.ini``,
``WATTPRINT_*``), which still apply to everything CodeCarbon leaves unset.

They behave as CodeCarbon's: ``stop()`` and ``flush()`` return the emissions in kg (None when the
tracker was not running, or nothing could be measured), ``stop_task()`` returns an
:class:`EmissionsData` with CodeCarbon's fields, ``final_emissions`` and ``final_emissions_data``
are set by ``stop()``, start/stop/flush never raise into the program. ``emissions.csv`` starts with
CodeCarbon's 38 columns in CodeCarbon's order; wattprint's own columns (methods, bounds, sources)
follow. The wattprint tracker underneath is ``tracker.wattprint``: its ``result`` has the bounds.

A CodeCarbon parameter wattprint has no equivalent for is accepted and said once, as a
:class:`CodeCarbonCompatWarning` naming what is ignored, why, and what to use instead. A parameter
CodeCarbon does not have raises ``TypeError``, as CodeCarbon's does.

Differences worth knowing: task rows go to ``emissions_tasks.csv`` (CodeCarbon writes
``emissions_<experiment>_<run_id>.csv``); rows are always appended (``on_csv_write="update"`` is
said and appended); ``EmissionsTracker`` does not geolocate by IP (wattprint is offline first:
the location comes from the settings, the cloud environment or the timezone, and the
``location_source`` column says which; ``WATTPRINT_IP_GEOLOCATION=true`` turns the lookup on).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import logging
import math
import os
import sys
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..tracker import Tracker, exit_status
from . import _codecarbon_config as cc_config

__all__ = [
    "BaseEmissionsTracker",
    "CodeCarbonCompatWarning",
    "EmissionsData",
    "EmissionsTracker",
    "OfflineEmissionsTracker",
    "OutputMethod",
    "TaskEmissionsData",
    "track_emissions",
]

_logger = logging.getLogger("wattprint")


class _Unset:
    """CodeCarbon's ``_sentinel``: a parameter the program did not pass."""

    def __repr__(self) -> str:
        return "<not given>"


_UNSET: Any = _Unset()


class CodeCarbonCompatWarning(UserWarning):
    """A CodeCarbon parameter that wattprint accepts but cannot honour as CodeCarbon would."""


class OutputMethod(str, enum.Enum):
    """CodeCarbon's output methods (``output_methods=[OutputMethod.CSV, ...]``)."""

    CSV = "csv"
    API = "api"
    LOGGER = "logger"
    PROMETHEUS = "prometheus"
    LOGFIRE = "logfire"
    BOAMPS = "boamps"


@dataclass
class EmissionsData:
    """CodeCarbon's record of a run or a task: its 38 fields, in CodeCarbon's units.

    kg for emissions, kWh for energy, W for power, s for duration, litres for water, GB for RAM.
    A figure wattprint could not measure is None rather than a zero.
    """

    timestamp: str
    project_name: str
    run_id: str
    experiment_id: str
    duration: float
    emissions: float
    emissions_rate: float
    cpu_power: float
    gpu_power: float
    ram_power: float
    cpu_energy: float
    gpu_energy: float
    ram_energy: float
    energy_consumed: float
    water_consumed: float
    country_name: str
    country_iso_code: str
    region: str
    cloud_provider: str
    cloud_region: str
    os: str
    python_version: str
    codecarbon_version: str
    cpu_count: float
    cpu_model: str
    gpu_count: float
    gpu_model: str
    longitude: float
    latitude: float
    ram_total_size: float
    tracking_mode: str
    cpu_utilization_percent: float = 0.0
    gpu_utilization_percent: float = 0.0
    ram_utilization_percent: float = 0.0
    ram_used_gb: float = 0.0
    on_cloud: str = "N"
    pue: float = 1
    wue: float = 0

    @property
    def values(self) -> OrderedDict[str, Any]:
        return OrderedDict((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))

    def compute_delta_emission(self, previous_emission: EmissionsData) -> None:
        """Make this record the difference from ``previous_emission`` (CodeCarbon's method)."""
        delta_duration = self.duration - previous_emission.duration
        self.duration = delta_duration
        self.emissions = _minus(self.emissions, previous_emission.emissions)
        for name in ("cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed"):
            setattr(self, name, _minus(getattr(self, name), getattr(previous_emission, name)))
        if delta_duration > 0 and self.emissions is not None:
            self.emissions_rate = self.emissions / delta_duration
        else:
            self.emissions_rate = 0

    def toJSON(self) -> str:  # noqa: N802 - CodeCarbon's name
        return json.dumps(dict(self.values), sort_keys=True, indent=4)


@dataclass
class TaskEmissionsData:
    """CodeCarbon's record of a task, as handed to an output handler's ``task_out``."""

    task_name: str
    timestamp: str
    project_name: str
    run_id: str
    duration: float
    emissions: float
    emissions_rate: float
    cpu_power: float
    gpu_power: float
    ram_power: float
    cpu_energy: float
    gpu_energy: float
    ram_energy: float
    energy_consumed: float
    water_consumed: float
    country_name: str
    country_iso_code: str
    region: str
    cloud_provider: str
    cloud_region: str
    os: str
    python_version: str
    codecarbon_version: str
    cpu_count: float
    cpu_model: str
    gpu_count: float
    gpu_model: str
    longitude: float
    latitude: float
    ram_total_size: float
    tracking_mode: str
    cpu_utilization_percent: float = 0.0
    gpu_utilization_percent: float = 0.0
    ram_utilization_percent: float = 0.0
    ram_used_gb: float = 0.0
    on_cloud: str = "N"

    @property
    def values(self) -> OrderedDict[str, Any]:
        return OrderedDict((f.name, getattr(self, f.name)) for f in dataclasses.fields(self))


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


_NUMBERS = frozenset(f.name for f in dataclasses.fields(EmissionsData) if f.type == "float")


def _emissions_data(result: Any) -> EmissionsData:
    """CodeCarbon's view of a wattprint result: the first 38 fields of its CSV row."""
    from .._version import __version__
    from ..records import CODECARBON_COLUMNS, to_row

    row = to_row(result, __version__)
    values = {}
    for name in CODECARBON_COLUMNS:
        value = row.get(name)
        values[name] = None if name in _NUMBERS and value == "" else value
    return EmissionsData(**values)


def _task_data(name: str, data: EmissionsData) -> TaskEmissionsData:
    fields = {f.name for f in dataclasses.fields(TaskEmissionsData)} - {"task_name"}
    return TaskEmissionsData(task_name=name, **{k: getattr(data, k) for k in fields})


# -- parameters -----------------------------------------------------------------------------------

#: BaseEmissionsTracker.__init__'s parameters, in CodeCarbon 3.x's positional order.
TRACKER_PARAMETERS = (
    "project_name", "measure_power_secs", "api_call_interval", "api_endpoint", "api_key",
    "output_dir", "output_file", "output_methods", "save_to_file", "save_to_api",
    "save_to_logger", "logging_logger", "save_to_prometheus", "save_to_logfire",
    "prometheus_url", "output_handlers", "gpu_ids", "emissions_endpoint", "experiment_id",
    "experiment_name", "electricitymaps_api_token", "co2_signal_api_token", "tracking_mode",
    "log_level", "on_csv_write", "logger_preamble", "force_cpu_power", "force_ram_power", "pue",
    "wue", "force_carbon_intensity_g_co2e_kwh", "force_mode_cpu_load", "allow_multiple_runs",
    "rapl_include_dram", "rapl_prefer_psys", "metadata",
)  # fmt: skip
#: OfflineEmissionsTracker's own (keyword-only) parameters.
LOCATION_PARAMETERS = (
    "country_iso_code", "region", "cloud_provider", "cloud_region", "country_2letter_iso_code",
)  # fmt: skip
_ALL = TRACKER_PARAMETERS + LOCATION_PARAMETERS

_API_HELP = (
    "wattprint does not send runs to CodeCarbon's dashboard API; every record stays in the CSV. "
    "To collect runs in one place, point emissions_endpoint (WATTPRINT_WEBHOOK_URL) at your own "
    "server"
)
#: Parameters wattprint has no equivalent for, and why: said when the value would have mattered.
_IGNORED = {
    "logger_preamble": "wattprint's log messages carry their own prefix",
    "force_mode_cpu_load": (
        "wattprint's CPU model already follows the CPU load wherever no counter is available"
    ),
    "allow_multiple_runs": (
        "wattprint takes no lock: several trackers may run at once and each writes its own rows"
    ),
    "rapl_include_dram": (
        "wattprint reads RAPL's dram domain as RAM energy (ram_energy), never inside cpu_energy"
    ),
    "rapl_prefer_psys": (
        "wattprint uses RAPL's package domains for the CPU; psys counts the whole platform, "
        "which wattprint estimates separately (platform_* columns)"
    ),
    "metadata": "wattprint has no metadata bag (BoAmps output is not supported)",
}
#: The value with which an ignored parameter changes nothing (CodeCarbon's default).
_HARMLESS = {
    "logger_preamble": ("",),
    "force_mode_cpu_load": (False, None),
    "allow_multiple_runs": (True, None),
    "rapl_include_dram": (False, None),
    "rapl_prefer_psys": (False, None),
    "metadata": (None,),
}


#: CodeCarbon draws this share of force_cpu_power when idle (its CPU-load mode: 10 % of the
#: maximum, rising with load to all of it).
CODECARBON_IDLE_SHARE = 0.1


def _forced_power(has: Callable[[str], bool], get: Callable[[str], Any]) -> dict[str, str]:
    """CodeCarbon's force_cpu_power (the CPU's maximum, 10 % of it idle) and force_ram_power
    (a constant) as wattprint's cpu_power_w and ram_power_w, labelled "user" in the record.
    CodeCarbon's curve between idle and maximum is cubic; wattprint's range is linear."""
    out = {}
    if has("force_cpu_power") and get("force_cpu_power") is not None:
        top = _forced_watts("force_cpu_power", get("force_cpu_power"))
        out["cpu_power_w"] = f"{top * CODECARBON_IDLE_SHARE:g}..{top:g}"
    if has("force_ram_power") and get("force_ram_power") is not None:
        out["ram_power_w"] = f"{_forced_watts('force_ram_power', get('force_ram_power')):g}"
    return out


def _forced_watts(name: str, value: Any) -> float:
    try:
        watts = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={value!r} must be a number of watts") from None
    if not math.isfinite(watts) or watts < 0:
        raise ValueError(f"{name}={value!r} must be a number of watts >= 0")
    return watts


@dataclass
class _Plan:
    """What CodeCarbon's parameters become: wattprint settings and the compat layer's own parts."""

    settings: dict[str, Any]
    notices: list[str]
    csv_name: str | None = None
    handlers: list[Any] = dataclasses.field(default_factory=list)
    experiment_name: str = "base"
    project_from_codecarbon: bool = False
    has_location: bool = False


def _resolve(given: dict[str, Any]) -> tuple[dict[str, tuple[Any, str]], list[str]]:
    """Each parameter's value and where it came from: the program, else CodeCarbon's config."""
    config, sources = cc_config.read_config()
    resolved: dict[str, tuple[Any, str]] = {
        name: (value, "argument") for name, value in given.items()
    }
    notices: list[str] = []
    for name in _ALL:
        if name in resolved or name not in config:
            continue
        try:
            value = cc_config.convert(name, config[name])
        except ValueError:
            notices.append(
                f"{name}={config[name]!r} from {sources[name]} is not a number; it is ignored, "
                "as CodeCarbon ignores it"
            )
            continue
        resolved[name] = (value, sources[name])
    return resolved, notices


def _gpu_ids(value: Any) -> Any:
    if isinstance(value, str):
        return [part for part in cc_config.clean_gpu_ids(value).split(",") if part]
    if isinstance(value, (list, tuple)):
        out: list[Any] = []
        for item in value:
            out.extend(_gpu_ids(item) if isinstance(item, str) else [item])
        return out
    return value


def _log_level(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return logging.getLevelName(value).lower()
    return str(value).strip().lower() if value is not None else None


def _with_scheme(url: str) -> str:
    url = str(url).strip()
    return url if "://" in url else f"http://{url}"


def _methods(value: Any) -> set[str]:
    if isinstance(value, str):
        items: list[Any] = [part.strip() for part in value.split(",") if part.strip()]
    else:
        items = list(value)
    out = set()
    for item in items:
        name = str(getattr(item, "value", item)).strip().lower()
        if name not in {m.value for m in OutputMethod}:
            raise ValueError(
                f"output_methods has {item!r}: use {', '.join(m.value for m in OutputMethod)}"
            )
        out.add(name)
    return out


def _plan(given: dict[str, Any]) -> _Plan:
    """Turn CodeCarbon's parameters (given and configured) into wattprint's settings."""
    resolved, notices = _resolve(given)

    def has(name: str) -> bool:
        return name in resolved and resolved[name][0] is not None

    def get(name: str, default: Any = None) -> Any:
        return resolved[name][0] if name in resolved else default

    def where(name: str) -> str:
        source = resolved[name][1]
        return "" if source == "argument" else f" (from {source})"

    s: dict[str, Any] = {}
    plan = _Plan(settings=s, notices=notices)

    # Labels.
    if has("project_name"):
        s["project_name"] = str(get("project_name"))
        plan.project_from_codecarbon = True
    experiment_id, experiment_name = get("experiment_id"), get("experiment_name")
    if experiment_name is not None:
        s["experiment_name"] = str(experiment_name)
        plan.experiment_name = str(experiment_name)
        if experiment_id is not None and resolved["experiment_id"][1] == "argument":
            notices.append(
                f"experiment_id={experiment_id!r} is not written: wattprint keeps one experiment "
                f"label, and the experiment_id column holds experiment_name={experiment_name!r}"
            )
    elif experiment_id is not None:
        s["experiment_name"] = str(experiment_id)

    # Measurement.
    if has("measure_power_secs"):
        s["interval_s"] = get("measure_power_secs")
    if has("gpu_ids"):
        s["gpu_ids"] = _gpu_ids(get("gpu_ids"))
    if has("tracking_mode"):
        s["tracking_mode"] = get("tracking_mode")
    if has("log_level"):
        s["log_level"] = _log_level(get("log_level"))
    if has("pue"):
        s["pue"] = get("pue")
    if has("wue"):
        s["wue"] = get("wue")
    if has("force_carbon_intensity_g_co2e_kwh"):
        s["intensity_g_per_kwh"] = get("force_carbon_intensity_g_co2e_kwh")
    s.update(_forced_power(has, get))
    for name, reason in _IGNORED.items():
        if name in resolved and get(name) not in _HARMLESS[name]:
            notices.append(f"{name}={get(name)!r}{where(name)} is ignored: {reason}.")

    # Location.
    if has("country_iso_code"):
        s["country"] = get("country_iso_code")
    elif has("country_2letter_iso_code"):
        s["country"] = get("country_2letter_iso_code")
    for name in ("region", "cloud_provider", "cloud_region"):
        if has(name):
            s[name] = get(name)
    plan.has_location = bool(s.get("country") or s.get("cloud_provider"))

    # Live intensity: CodeCarbon asks Electricity Maps whenever it has a token.
    token = get("electricitymaps_api_token")
    if token is None and get("co2_signal_api_token") is not None:
        token = get("co2_signal_api_token")
        notices.append(
            f"co2_signal_api_token{where('co2_signal_api_token')} is deprecated in CodeCarbon; "
            "it is used as electricitymaps_api_token, the name to use instead."
        )
    if token:
        s["electricitymaps_token"] = str(token)
        s["live_provider"] = "electricitymaps"

    # Outputs.
    if has("output_dir"):
        s["output_dir"] = os.fspath(get("output_dir"))
    if has("output_file"):
        plan.csv_name = os.fspath(get("output_file"))
    if get("output_methods") is not None:
        methods = _methods(get("output_methods"))
        s["save_csv"] = "csv" in methods
    else:
        flags = {
            "csv": get("save_to_file"), "api": get("save_to_api"),
            "logger": get("save_to_logger"), "prometheus": get("save_to_prometheus"),
            "logfire": get("save_to_logfire"),
        }  # fmt: skip
        methods = {name for name, on in flags.items() if on}
        if "save_to_file" in resolved:
            s["save_csv"] = bool(get("save_to_file"))
    on_csv_write = get("on_csv_write")
    if on_csv_write is not None and on_csv_write not in ("append", "update"):
        raise ValueError(
            f"Unknown `on_csv_write` value: {on_csv_write} (should be one of 'append' or 'update')"
        )
    if on_csv_write == "update" and s.get("save_csv", True):
        notices.append(
            f"on_csv_write='update'{where('on_csv_write')} is not supported: wattprint only "
            "appends, one row per flush() and one at stop(); every row of a run has its run_id "
            "and the last one is its total (wattprint report counts that one)."
        )
    if "logger" in methods:
        s["log_records"] = True
        target = get("logging_logger")
        inner = getattr(target, "logger", target)
        if isinstance(inner, logging.Logger):
            s["logger_name"] = inner.name
        elif target is not None and hasattr(target, "out"):
            plan.handlers.append(target)  # a Google Cloud logger and the like: called as such
            del s["log_records"]
        elif target is not None:
            notices.append(
                f"logging_logger={target!r} is neither a logging.Logger nor an output handler; "
                "records go to the 'wattprint.records' logger."
            )
    if "prometheus" in methods:
        s["prometheus_pushgateway"] = _with_scheme(get("prometheus_url") or "localhost:9091")
    if "api" in methods:
        unused = [n for n in ("api_key", "api_endpoint", "api_call_interval") if n in resolved]
        also = f" ({', '.join(unused)} unused)" if unused else ""
        notices.append(f"save_to_api / OutputMethod.API is ignored{also}: {_API_HELP}.")
    if "logfire" in methods:
        notices.append(
            "save_to_logfire / OutputMethod.LOGFIRE is ignored: wattprint has no Logfire output; "
            "Logfire receives OpenTelemetry, so set otel_endpoint (WATTPRINT_OTEL_ENDPOINT)."
        )
    if "boamps" in methods:
        notices.append("OutputMethod.BOAMPS is ignored: wattprint has no BoAmps report.")
    endpoint = get("emissions_endpoint")
    if endpoint:
        s["webhook_url"] = _with_scheme(endpoint)
        notices.append(
            f"emissions_endpoint{where('emissions_endpoint')}: records are POSTed by wattprint's "
            "webhook as wattprint's JSON record (CodeCarbon's fields and wattprint's), not as "
            "CodeCarbon's EmissionsData payload; check that the receiver accepts it."
        )
    handlers = get("output_handlers")
    if handlers:
        plan.handlers.extend(handlers)
    return plan


def _user_stacklevel() -> int:
    """The stack level of the first frame outside this module, for ``warnings.warn``."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def _warn(message: str) -> None:
    warnings.warn(message, CodeCarbonCompatWarning, stacklevel=_user_stacklevel())


# -- the trackers ---------------------------------------------------------------------------------


class BaseEmissionsTracker:
    """What EmissionsTracker and OfflineEmissionsTracker share."""

    _offline = False

    def _setup(self, given: dict[str, Any], require_location: bool = False) -> None:
        plan = _plan(given)
        if self._offline and not plan.has_location:
            if require_location:
                raise ValueError(
                    "Needs ISO Code of the Country for Offline mode: pass country_iso_code "
                    "(e.g. 'FRA'), or cloud_provider and cloud_region"
                )
            plan.notices.append(
                "OfflineEmissionsTracker without country_iso_code: CodeCarbon would use no "
                "country; wattprint locates the machine offline (cloud environment, site file, "
                "timezone) and the location_source column says how. Pass country_iso_code "
                "(e.g. 'FRA') to state it."
            )
        for message in plan.notices:
            _warn(message)
        self._plan = plan
        self.wattprint = Tracker(output_file=plan.csv_name, **plan.settings)
        if not plan.project_from_codecarbon and self.wattprint.settings.project_name == "wattprint":
            # CodeCarbon's default label, unless wattprint's own settings named the project.
            self.wattprint.settings = dataclasses.replace(
                self.wattprint.settings, project_name="codecarbon"
            )
        self.final_emissions: float | None = None
        self.final_emissions_data: EmissionsData | None = None
        self._active_task: str | None = None
        self._tasks: dict[str, TaskEmissionsData] = {}
        self._previous: EmissionsData | None = None

    # -- CodeCarbon's public methods --------------------------------------------------------------

    @property
    def run_id(self) -> str | None:
        return self.wattprint.run_id

    def start(self) -> None:
        """Start tracking (a warning, and nothing else, if already started)."""
        if self.wattprint.running:
            _logger.warning("Already started tracking")
            return
        self._previous = None  # a new run: output handlers' deltas start again
        self._tasks = {}
        try:
            self.wattprint.start()
        except Exception as exc:  # CodeCarbon's start never raises into the program
            _logger.warning("could not start tracking (%s: %s)", type(exc).__name__, exc)

    def stop(self) -> float | None:
        """Stop tracking; the run's emissions in kg."""
        return self._stop("finished")

    def flush(self) -> float | None:
        """Write the run's row so far and go on; its emissions in kg."""
        if not self.wattprint.running:
            _logger.error("You first need to start the tracker.")
            return None
        try:
            result = self.wattprint.flush()
        except Exception as exc:
            _logger.warning("flush() failed (%s: %s)", type(exc).__name__, exc)
            return None
        self._out(_emissions_data(result))
        return result.emissions_kg

    def start_task(self, task_name: str | None = None) -> None:
        """Measure a task on its own; the tracker starts if it was not running."""
        if self._active_task is not None:
            _logger.warning("A task is already under measure")
            return
        if not self.wattprint.running:
            self.start()
            if not self.wattprint.running:
                return
        name = task_name or str(uuid.uuid4())
        try:
            self.wattprint.start_task(name)
        except (ValueError, RuntimeError) as exc:
            _logger.warning("start_task(%r): %s", name, exc)
            return
        self._active_task = name

    def stop_task(self, task_name: str | None = None) -> EmissionsData | None:
        """End the task; its own emissions and energy, as CodeCarbon's EmissionsData."""
        name = task_name or self._active_task
        if name is None or name != self._active_task or not self.wattprint.running:
            _logger.warning("stop_task : No active task to stop.")
            return None
        self._active_task = None
        try:
            result = self.wattprint.stop_task(name)
        except (ValueError, RuntimeError) as exc:
            _logger.warning("stop_task(%r): %s", name, exc)
            return None
        data = _emissions_data(result)
        self._tasks[name] = _task_data(name, data)
        return data

    def service_shutdown(self, signum: int, frame: Any) -> None:
        """Stop on a signal: ``signal.signal(signal.SIGTERM, tracker.service_shutdown)``."""
        _logger.warning("service_shutdown - Caught signal %d", signum)
        self.stop()

    def __enter__(self) -> BaseEmissionsTracker:
        self.start()
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
        status = exit_status(exc_type, exc_value)
        self._stop(status)

    # -- inside -----------------------------------------------------------------------------------

    def _stop(self, status: str) -> float | None:
        if not self.wattprint.running:
            _logger.warning("Tracker already stopped or never started.")
            return self.final_emissions
        if self._active_task is not None:
            self.stop_task(self._active_task)
        try:
            result = self.wattprint.stop(status)
        except Exception as exc:
            _logger.warning("stop() failed (%s: %s)", type(exc).__name__, exc)
            return None
        if result is None:
            return None
        data = _emissions_data(result)
        self._out(data)
        for handler in self._plan.handlers:
            _call(handler, "exit")
        self.final_emissions_data = data
        self.final_emissions = result.emissions_kg
        return self.final_emissions

    def _out(self, total: EmissionsData) -> None:
        """CodeCarbon's output handlers: ``out(total, delta)``, then ``task_out(tasks, name)``."""
        if not self._plan.handlers:
            return
        delta = dataclasses.replace(total)
        if self._previous is not None:
            delta.compute_delta_emission(self._previous)
        self._previous = total
        tasks = list(self._tasks.values())
        for handler in self._plan.handlers:
            _call(handler, "out", total, delta)
            if tasks:
                _call(handler, "task_out", tasks, self._plan.experiment_name)


def _call(handler: Any, method: str, *args: Any) -> None:
    fn = getattr(handler, method, None)
    if fn is None:
        return
    try:
        fn(*args)
    except Exception as exc:  # a handler must not break the program, as in CodeCarbon
        _logger.warning("output handler %r failed in %s(): %s", handler, method, exc)


class EmissionsTracker(BaseEmissionsTracker):
    """CodeCarbon's EmissionsTracker, measured by wattprint.

    Unlike CodeCarbon's, it makes no network request to find where it runs (see the module's
    documentation); a location in CodeCarbon's configuration (``country_iso_code``, ``region``,
    ``cloud_provider``, ``cloud_region``) is used when there is one.
    """

    def __init__(
        self,
        project_name: str | None = _UNSET,
        measure_power_secs: float | None = _UNSET,
        api_call_interval: int | None = _UNSET,
        api_endpoint: str | None = _UNSET,
        api_key: str | None = _UNSET,
        output_dir: str | None = _UNSET,
        output_file: str | None = _UNSET,
        output_methods: list[Any] | None = _UNSET,
        save_to_file: bool | None = _UNSET,
        save_to_api: bool | None = _UNSET,
        save_to_logger: bool | None = _UNSET,
        logging_logger: Any = _UNSET,
        save_to_prometheus: bool | None = _UNSET,
        save_to_logfire: bool | None = _UNSET,
        prometheus_url: str | None = _UNSET,
        output_handlers: list[Any] | None = _UNSET,
        gpu_ids: Any = _UNSET,
        emissions_endpoint: str | None = _UNSET,
        experiment_id: str | None = _UNSET,
        experiment_name: str | None = _UNSET,
        electricitymaps_api_token: str | None = _UNSET,
        co2_signal_api_token: str | None = _UNSET,
        tracking_mode: str | None = _UNSET,
        log_level: int | str | None = _UNSET,
        on_csv_write: str | None = _UNSET,
        logger_preamble: str | None = _UNSET,
        force_cpu_power: float | None = _UNSET,
        force_ram_power: float | None = _UNSET,
        pue: float | None = _UNSET,
        wue: float | None = _UNSET,
        force_carbon_intensity_g_co2e_kwh: float | None = _UNSET,
        force_mode_cpu_load: bool | None = _UNSET,
        allow_multiple_runs: bool | None = _UNSET,
        rapl_include_dram: bool | None = _UNSET,
        rapl_prefer_psys: bool | None = _UNSET,
        metadata: dict[str, Any] | str | None = _UNSET,
    ) -> None:
        given = {k: v for k, v in locals().items() if k in TRACKER_PARAMETERS and v is not _UNSET}
        self._setup(given)


class OfflineEmissionsTracker(BaseEmissionsTracker):
    """CodeCarbon's OfflineEmissionsTracker, measured by wattprint: no network, ever.

    Give ``country_iso_code`` (or ``cloud_provider`` and ``cloud_region``), as CodeCarbon's
    documentation asks; without one, wattprint locates the machine offline and says so.
    """

    _offline = True

    def __init__(
        self,
        project_name: str | None = _UNSET,
        measure_power_secs: float | None = _UNSET,
        api_call_interval: int | None = _UNSET,
        api_endpoint: str | None = _UNSET,
        api_key: str | None = _UNSET,
        output_dir: str | None = _UNSET,
        output_file: str | None = _UNSET,
        output_methods: list[Any] | None = _UNSET,
        save_to_file: bool | None = _UNSET,
        save_to_api: bool | None = _UNSET,
        save_to_logger: bool | None = _UNSET,
        logging_logger: Any = _UNSET,
        save_to_prometheus: bool | None = _UNSET,
        save_to_logfire: bool | None = _UNSET,
        prometheus_url: str | None = _UNSET,
        output_handlers: list[Any] | None = _UNSET,
        gpu_ids: Any = _UNSET,
        emissions_endpoint: str | None = _UNSET,
        experiment_id: str | None = _UNSET,
        experiment_name: str | None = _UNSET,
        electricitymaps_api_token: str | None = _UNSET,
        co2_signal_api_token: str | None = _UNSET,
        tracking_mode: str | None = _UNSET,
        log_level: int | str | None = _UNSET,
        on_csv_write: str | None = _UNSET,
        logger_preamble: str | None = _UNSET,
        force_cpu_power: float | None = _UNSET,
        force_ram_power: float | None = _UNSET,
        pue: float | None = _UNSET,
        wue: float | None = _UNSET,
        force_carbon_intensity_g_co2e_kwh: float | None = _UNSET,
        force_mode_cpu_load: bool | None = _UNSET,
        allow_multiple_runs: bool | None = _UNSET,
        rapl_include_dram: bool | None = _UNSET,
        rapl_prefer_psys: bool | None = _UNSET,
        metadata: dict[str, Any] | str | None = _UNSET,
        *,
        country_iso_code: str | None = _UNSET,
        region: str | None = _UNSET,
        cloud_provider: str | None = _UNSET,
        cloud_region: str | None = _UNSET,
        country_2letter_iso_code: str | None = _UNSET,
    ) -> None:
        given = {k: v for k, v in locals().items() if k in _ALL and v is not _UNSET}
        self._setup(given)


def track_emissions(
    fn: Any = None,
    project_name: str | None = _UNSET,
    measure_power_secs: float | None = _UNSET,
    api_call_interval: int | None = _UNSET,
    api_endpoint: str | None = _UNSET,
    api_key: str | None = _UNSET,
    output_dir: str | None = _UNSET,
    output_file: str | None = _UNSET,
    output_methods: list[Any] | None = _UNSET,
    save_to_file: bool | None = _UNSET,
    save_to_api: bool | None = _UNSET,
    save_to_logger: bool | None = _UNSET,
    logging_logger: Any = _UNSET,
    save_to_prometheus: bool | None = _UNSET,
    save_to_logfire: bool | None = _UNSET,
    prometheus_url: str | None = _UNSET,
    output_handlers: list[Any] | None = _UNSET,
    gpu_ids: Any = _UNSET,
    emissions_endpoint: str | None = _UNSET,
    experiment_id: str | None = _UNSET,
    experiment_name: str | None = _UNSET,
    electricitymaps_api_token: str | None = _UNSET,
    co2_signal_api_token: str | None = _UNSET,
    tracking_mode: str | None = _UNSET,
    log_level: int | str | None = _UNSET,
    on_csv_write: str | None = _UNSET,
    logger_preamble: str | None = _UNSET,
    offline: bool | None = _UNSET,
    country_iso_code: str | None = _UNSET,
    region: str | None = _UNSET,
    cloud_provider: str | None = _UNSET,
    cloud_region: str | None = _UNSET,
    country_2letter_iso_code: str | None = _UNSET,
    force_cpu_power: float | None = _UNSET,
    force_ram_power: float | None = _UNSET,
    pue: float | None = _UNSET,
    wue: float | None = _UNSET,
    force_carbon_intensity_g_co2e_kwh: float | None = _UNSET,
    allow_multiple_runs: bool | None = _UNSET,
    rapl_include_dram: bool | None = _UNSET,
    rapl_prefer_psys: bool | None = _UNSET,
) -> Any:
    """CodeCarbon's decorator: ``@track_emissions`` or ``@track_emissions(project_name=...)``.

    Each call of the function is one run, written like CodeCarbon's. ``offline=True`` needs
    ``country_iso_code`` (or ``cloud_provider``), from the arguments or CodeCarbon's
    configuration, and raises when the function is called without one, as CodeCarbon does.
    """
    given = {k: v for k, v in locals().items() if k in _ALL and v is not _UNSET}
    is_offline = bool(offline) and offline is not _UNSET
    cls = OfflineEmissionsTracker if is_offline else EmissionsTracker

    def build() -> BaseEmissionsTracker:
        tracker = cls.__new__(cls)
        tracker._setup(dict(given), require_location=is_offline)
        return tracker

    def decorate(func: Any) -> Any:
        import inspect

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapped(*args: Any, **kwargs: Any) -> Any:
                tracker = build()
                tracker.start()
                try:
                    value = await func(*args, **kwargs)
                except BaseException as exc:
                    tracker.__exit__(type(exc), exc, exc.__traceback__)
                    raise
                tracker.stop()
                return value

            return async_wrapped

        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            tracker = build()
            tracker.start()
            try:
                value = func(*args, **kwargs)
            except BaseException as exc:  # the run is written, with the status it ended with
                tracker.__exit__(type(exc), exc, exc.__traceback__)
                raise
            tracker.stop()
            return value

        return wrapped

    if fn is not None:
        return decorate(fn)
    return decorate
