"""What the framework callbacks share: the metrics they log, the model-card metadata, a session.

Metrics (:data:`METRICS`), logged under a prefix (``wattprint/`` unless told otherwise), are
cumulative since training began: a logging step shows the run so far (``Tracker.peek()``, which
writes nothing), the end of training the final figures (``Tracker.stop()``). A component that
could not be measured, or that the machine does not have (no GPU), is absent, never logged as 0;
so are bounds and emissions that are unknown.

In a distributed job one process per node measures: the node's local rank 0, which measures
the devices the job holds on that node (a 4-node job reports 4 nodes, joined by
``wattprint report --by job``). The global rank 0 alone logs metrics; other processes do nothing.
"""

from __future__ import annotations

import atexit
import sys
from typing import TYPE_CHECKING, Any

from .. import _log
from .._version import __version__

if TYPE_CHECKING:
    from ..records import Machine, RunResult
    from ..tracker import Tracker

PREFIX = "wattprint/"
J_PER_KWH = 3.6e6

#: The metric names (before the prefix), the same in every framework.
METRICS: dict[str, str] = {
    "energy_kwh": "energy of CPU + GPU + RAM since training began, x PUE (CodeCarbon's total)",
    "energy_low_kwh": "its lower bound",
    "energy_high_kwh": "its upper bound",
    "energy_cpu_kwh": "CPU energy (absent when not measured)",
    "energy_gpu_kwh": "GPU energy (absent when not measured or no GPU)",
    "energy_ram_kwh": "RAM energy (absent when not measured)",
    "power_w": "mean power since training began: energy_kwh over the elapsed time",
    "emissions_kg": "CO2eq emitted since training began, in kg",
    "emissions_low_kg": "its lower bound",
    "emissions_high_kg": "its upper bound",
}


def metrics(result: RunResult, prefix: str = PREFIX) -> dict[str, float]:
    """The metrics of a (cumulative) result, by prefixed name; unknown values are left out."""
    values: dict[str, float | None] = {
        "energy_kwh": result.energy_kwh,
        "energy_low_kwh": result.energy_low_kwh,
        "energy_high_kwh": result.energy_high_kwh,
    }
    for name, component in result.components.items():
        if component.method != "none":  # "none": the machine has no such device
            values[f"energy_{name}_kwh"] = component.energy_kwh
    if result.duration_s > 0:
        values["power_w"] = result.energy_kwh * J_PER_KWH / result.duration_s
    values["emissions_kg"] = result.emissions_kg
    values["emissions_low_kg"] = result.emissions_low_kg
    values["emissions_high_kg"] = result.emissions_high_kg
    return {f"{prefix}{k}": float(v) for k, v in values.items() if v is not None}


# -- model-card metadata ------------------------------------------------------------------------


def co2_eq_emissions(result: RunResult, training_type: str | None = None) -> dict[str, Any] | None:
    """The Hugging Face Hub's ``co2_eq_emissions`` model-card metadata for a result.

    As the Hub documents it (https://huggingface.co/docs/hub/model-cards-co2): ``emissions``
    in grams of CO2eq, ``source``, ``training_type`` ("pre-training" or "fine-tuning", left out
    when not known), ``geographical_location`` and ``hardware_used``. None when no emissions
    could be computed.
    """
    if result.emissions_kg is None:
        return None
    data: dict[str, Any] = {"emissions": result.emissions_kg * 1000.0, "source": source(result)}
    if training_type:
        data["training_type"] = training_type
    data["geographical_location"] = location_text(result)
    data["hardware_used"] = hardware_text(result.machine)
    return data


def source(result: RunResult) -> str:
    """``wattprint 0.1.0 (cpu: rapl, ram: ram-model; intensity: FR 2024 zone-annual)``."""
    methods = ", ".join(
        f"{name}: {c.method}" for name, c in result.components.items() if c.method != "none"
    )
    it = result.intensity
    intensity = " ".join(str(x) for x in (it.zone, it.year, it.kind) if x)
    return f"wattprint {__version__} ({methods}; intensity: {intensity})"


def location_text(result: RunResult) -> str:
    """Where the run was, as precisely as known, and how that was decided.

    ``california, United States (grid zone US-CAL-CISO; location: explicit)``,
    ``France (aws eu-west-3; location: cloud-env)``, ``unknown (location: world-average)``.
    """
    loc = result.location
    place = ", ".join(x for x in (loc.region, loc.country_name or loc.country) if x) or "unknown"
    extra = []
    if loc.cloud_provider:
        extra.append(" ".join(x for x in (loc.cloud_provider, loc.cloud_region) if x))
    if loc.zone and loc.zone not in (loc.region, loc.country):
        extra.append(f"grid zone {loc.zone}")
    extra.append(f"location: {loc.source}")
    return f"{place} ({'; '.join(extra)})"


def hardware_text(machine: Machine) -> str:
    """``AMD EPYC 7763 64-Core Processor (4 threads), 2 x NVIDIA H100 80GB HBM3``."""
    parts = []
    if machine.cpu_model:
        threads = f" ({machine.cpu_count} threads)" if machine.cpu_count else ""
        parts.append(f"{machine.cpu_model}{threads}")
    if machine.gpu_model:
        parts.append(machine.gpu_model)
    elif machine.gpu_count:
        parts.append(f"{machine.gpu_count} GPU(s)")
    return ", ".join(parts) or "unknown"


# -- one tracked training run -------------------------------------------------------------------


def status_for(exc: BaseException | None) -> str:
    from ..tracker import exit_status

    return exit_status(None if exc is None else type(exc), exc)


class SessionProperties:
    """What every callback exposes of its session: ``callback.tracker``, ``callback.result``."""

    _session: Session

    @property
    def tracker(self) -> Tracker:
        return self._session.tracker

    @property
    def result(self) -> RunResult | None:
        """The last training's final result (None before the first one ends)."""
        return self._session.result


class Session:
    """The tracker behind a callback, and the run it measures for one training.

    ``begin()`` starts the tracker, unless it is already running: then the run is the owner's,
    the callback only reads it and ``end()`` leaves it running (its final figures are the
    owner's ``stop()``). Nothing here raises into the training loop: a failure is one warning
    and training goes on, unmeasured.

    A run still going when the interpreter exits (the training raised and the framework does
    not say so) is stopped then, as ``failed`` (``interrupted`` after Ctrl-C).
    """

    def __init__(
        self,
        tracker: Tracker | None,
        settings: dict[str, Any],
        prefix: str = PREFIX,
        mlflow: bool | None = None,
    ) -> None:
        if tracker is not None and settings:
            names = ", ".join(sorted(settings))
            raise TypeError(f"give a Tracker or tracker settings, not both (got {names})")
        if tracker is None:
            from ..tracker import Tracker

            tracker = Tracker(**settings)  # bad settings fail here, before any training
        self.tracker = tracker
        self.prefix = prefix
        self.mlflow = mlflow
        self.owned = False
        self.active = False
        self.result: RunResult | None = None

    def begin(self) -> bool:
        """Start measuring; False when it could not start (said in a warning)."""
        if self.active:
            _log.logger.warning(
                "wattprint: training began again before the previous one ended (it raised?); "
                "the previous run is recorded as failed"
            )
            self.end("failed")
        self.result = None
        try:
            if self.tracker.running:
                self.owned = False
            else:
                self.tracker.start()
                self.owned = True
                atexit.register(self._at_exit)
        except Exception as exc:
            warn("start", exc)
            return False
        self.active = True
        return True

    def peek(self) -> RunResult | None:
        """The run so far; None when not measuring."""
        if not self.active:
            return None
        try:
            return self.tracker.peek()
        except Exception as exc:
            warn("peek", exc)
            return None

    def end(self, status: str = "finished") -> RunResult | None:
        """Stop measuring (if this session started the tracker) and keep the final result."""
        if not self.active:
            return self.result
        self.active = False
        try:
            if self.owned:
                atexit.unregister(self._at_exit)
                self.result = self.tracker.stop(status)
            else:
                self.result = self.tracker.peek()
        except Exception as exc:
            warn("stop", exc)
        return self.result

    def metrics(self, result: RunResult | None) -> dict[str, float]:
        return {} if result is None else metrics(result, self.prefix)

    def log_mlflow(
        self, result: RunResult | None, step: int | None, final: bool = False, covered: bool = False
    ) -> None:
        """Log to the active MLflow run, if there is one (then MLflow is already imported).

        ``self.mlflow``: True always, False never, None unless ``covered``: the framework sends
        the callback's metrics to MLflow already (its own MLflow logger).
        """
        if result is None or self.mlflow is False or (self.mlflow is None and covered):
            return
        if "mlflow" not in sys.modules:
            return
        try:
            from .mlflow import active_run_id, log_to_mlflow

            if active_run_id() is not None:
                log_to_mlflow(result, prefix=self.prefix, step=step, tags=final)
        except Exception as exc:
            warn("mlflow", exc)

    def _at_exit(self) -> None:
        last = getattr(sys, "last_type", None)  # set when an uncaught exception ended Python
        interrupted = isinstance(last, type) and issubclass(last, KeyboardInterrupt)
        self.end("interrupted" if interrupted else "failed")


def warn(what: str, exc: Exception) -> None:
    _log.warn_once(
        f"integration-{what}:{type(exc).__name__}",
        f"wattprint callback could not {what} ({type(exc).__name__}: {exc}); training goes on",
    )
