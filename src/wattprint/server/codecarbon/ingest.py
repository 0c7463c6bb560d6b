"""CodeCarbon's runs and emissions (deltas) into wattprint's rows (cumulative)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ... import records
from ..db import insert_new
from ..ingest import apply_totals
from ..models import Emission, Experiment, Project, Run, utcnow
from ..values import BadValueError, parse_time

#: Run fields CodeCarbon sends once, copied into every row of the run.
_RUN_FIELDS = ("os", "python_version", "codecarbon_version", "cpu_count", "cpu_model",
               "gpu_count", "gpu_model", "longitude", "latitude", "ram_total_size",
               "tracking_mode")  # fmt: skip
_EXPERIMENT_FIELDS = (
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
)
#: Deltas CodeCarbon sends, summed into the row's cumulative columns.
_SUMMED = {"duration": "duration", "emissions_sum": "emissions", "cpu_energy": "cpu_energy",
           "gpu_energy": "gpu_energy", "ram_energy": "ram_energy",
           "energy_consumed": "energy_consumed"}  # fmt: skip
_AS_SENT = (
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "wue",
)
NOTE = "sent by CodeCarbon's API client: no measurement methods or bounds (unknown)"


def create_run(session: Session, experiment: Experiment, body: dict[str, Any]) -> Run:
    started = body.get("timestamp")
    try:
        started_at = parse_time(started) if started else utcnow()
    except BadValueError:
        started_at = utcnow()
    run = Run(
        project_id=experiment.project_id,
        experiment_id=experiment.id,
        client_run_id=str(uuid.uuid4()),
        source="codecarbon",
        status="running",
        started_at=started_at,
        last_seen=utcnow(),
        emissions_count=0,
        codecarbon=body,
    )
    session.add(run)
    session.flush()
    return run


def add_emission(session: Session, run: Run, delta: dict[str, Any]) -> dict[str, Any]:
    """Store one delta as the run's next cumulative row; the row as stored."""
    try:
        at = parse_time(delta["timestamp"])
    except BadValueError as exc:
        raise ValueError(f"timestamp: {exc}") from None
    # One sender per run, but lock the run so that two deliveries cannot interleave.
    run = session.scalar(select(Run).where(Run.id == run.id).with_for_update())
    previous = session.get(Emission, run.last_emission_id) if run.last_emission_id else None
    row = _row(session, run, delta, previous)
    seq = run.emissions_count + 1
    key = f"codecarbon:{run.client_run_id}:{seq}"
    stored = dict(
        row, project_pk=run.project_id, run_pk=run.id, key=key, seq=seq, at=at, origin="codecarbon"
    )
    ids = insert_new(
        session, Emission.__table__, [stored], ("project_pk", "key"), returning=("key", "id")
    )
    apply_totals(session, run.id, row, at, seq, ids[key])
    run.emissions_count = seq
    run.last_seen = utcnow()
    session.flush()
    return dict(row, key=key)


def _row(session: Session, run: Run, delta: dict[str, Any], previous: Emission | None):
    experiment = session.get(Experiment, run.experiment_id)
    project = session.get(Project, run.project_id)
    meta = run.codecarbon or {}
    place = (experiment.codecarbon if experiment else None) or {}
    row: dict[str, Any] = {c: None for c in records.TASK_COLUMNS}
    row.update({f: meta.get(f) for f in _RUN_FIELDS})
    row.update({f: place.get(f) for f in _EXPERIMENT_FIELDS})
    row["region"] = place.get("region") or meta.get("region")
    row["cloud_provider"] = place.get("cloud_provider") or meta.get("provider")
    row["on_cloud"] = "Y" if place.get("on_cloud") else "N"
    row.update(
        timestamp=delta["timestamp"],
        project_name=project.name if project else None,
        run_id=run.client_run_id,
        experiment_id=str(run.experiment_id),
        experiment_name=experiment.name if experiment else None,
        started_at=run.started_at.isoformat() if run.started_at else None,
        notes=NOTE,
    )
    for sent, column in _SUMMED.items():
        value = delta.get(sent)
        before = getattr(previous, column) if previous is not None else 0.0
        row[column] = None if value is None or before is None else before + value
    row.update({f: delta.get(f) for f in _AS_SENT})
    duration, emissions = row["duration"], row["emissions"]
    row["emissions_rate"] = emissions / duration if duration and emissions is not None else None
    return row
