"""MLflow: a run's energy and emissions as MLflow metrics (extra ``wattprint[mlflow]``).

    import mlflow
    from wattprint import Tracker
    from wattprint.integrations.mlflow import log_to_mlflow

    with mlflow.start_run(), Tracker(country="FRA") as tracker:
        train()
    log_to_mlflow(tracker.result)          # into the active run, or run="<run id>"

The metric names are those of every wattprint callback (``wattprint/energy_kwh``,
``wattprint/emissions_kg``, ...; see :data:`wattprint.integrations._common.METRICS`), made valid
for MLflow by :func:`mlflow_key`. With ``tags=True`` the run also gets tags saying how the figures
were obtained: ``wattprint.run_id``, ``wattprint.status``, ``wattprint.source`` (version and
methods), ``wattprint.location``, ``wattprint.hardware``.

The framework callbacks (Transformers, Lightning, Keras) call this themselves when MLflow has an
active run and the framework does not already send their metrics there (``mlflow=False`` turns
that off, ``mlflow=True`` forces it).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import mlflow
from mlflow.entities import Metric, RunTag
from mlflow.tracking import MlflowClient

from ._metrics import PREFIX, hardware_text, location_text, metrics, source

if TYPE_CHECKING:
    from ..records import RunResult

__all__ = ["active_run_id", "log_to_mlflow", "mlflow_key"]

_INVALID = re.compile(r"[^\w./\- ]")  # what MLflow accepts on every platform (no colon on Windows)


def mlflow_key(name: str) -> str:
    """``name`` as a valid MLflow metric or tag key: other characters become ``_``, no empty,
    leading, trailing or doubled ``/`` and no ``.``/``..`` path parts."""
    parts = [_INVALID.sub("_", p) for p in name.split("/")]
    parts = ["_" * len(p) if p in (".", "..") else p for p in parts if p]
    return "/".join(parts) or "_"


def active_run_id() -> str | None:
    run = mlflow.active_run()
    return run.info.run_id if run is not None else None


def log_to_mlflow(
    result: RunResult,
    run: Any = None,
    *,
    prefix: str = PREFIX,
    step: int | None = None,
    tags: bool = True,
) -> dict[str, float]:
    """Log ``result``'s metrics to an MLflow run; returns them, by MLflow key.

    ``run``: a run id or an ``mlflow.entities.Run``; by default the active run (RuntimeError if
    there is none: this never starts a run of its own). ``step``: the training step the figures
    belong to (0 when not given). Unknown values are not logged.
    """
    if run is None:
        run_id = active_run_id()
        if run_id is None:
            raise RuntimeError(
                "no active MLflow run: call mlflow.start_run() first, or pass run=<run id>"
            )
    else:
        run_id = run if isinstance(run, str) else run.info.run_id
    values = {mlflow_key(k): v for k, v in metrics(result, prefix).items()}
    when = int(result.timestamp.timestamp() * 1000)
    batch = [Metric(k, v, when, step or 0) for k, v in values.items()]
    run_tags = []
    if tags:
        texts = {
            "run_id": result.run_id,
            "status": result.status,
            "source": source(result),
            "location": location_text(result),
            "hardware": hardware_text(result.machine),
        }
        run_tags = [RunTag(mlflow_key(f"wattprint.{k}"), v) for k, v in texts.items()]
    MlflowClient().log_batch(run_id, metrics=batch, tags=run_tags)
    return values
