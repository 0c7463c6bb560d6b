"""Logger: one structured INFO line per record on a standard ``logging`` logger.

Turned on by ``log_records``; the logger is ``logger_name`` (``wattprint.records`` by default,
a child of ``wattprint``, so it shares its handler unless the application routes it elsewhere).
The logger is set to INFO unless the application gave it a level.

Each record is one ``LogRecord`` whose message reads on any plain handler::

    wattprint record run_id=... project_name=demo status=finished duration=12.3
    energy_consumed=1.2e-05 ... cpu_energy=... cpu_method=rapl ... intensity_zone=FR

(``key=value`` pairs, CSV column names and units, kWh and kg; a value with spaces or quotes is
JSON-quoted; an unknown value is left out, never written as 0). The whole record, every CSV
column with None for an empty cell, is on the ``LogRecord`` as ``record.wattprint`` (a dict),
for JSON formatters and log shippers that keep ``extra`` fields.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ..records import to_record as record

MESSAGE = "wattprint record"

#: The CSV columns the message shows, in this order.
FIELDS = (
    "run_id", "project_name", "experiment_name", "run_name", "task_name", "status", "duration",
    "energy_consumed", "energy_low_kwh", "energy_high_kwh",
    "emissions", "emissions_low_kg", "emissions_high_kg",
    "cpu_energy", "cpu_method", "gpu_energy", "gpu_method", "ram_energy", "ram_method",
    "platform_energy_kwh", "platform_method",
    "intensity_g_per_kwh", "intensity_zone", "intensity_kind", "intensity_source",
    "location_source", "pue",
)  # fmt: skip


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    if not text or any(c in text for c in ' "=\\') or not text.isprintable():
        return json.dumps(text, ensure_ascii=False)
    return text


def line(fields: dict[str, Any]) -> str:
    """The message for a record: its main fields as ``key=value``, unknown ones left out."""
    pairs = [f"{k}={_text(fields[k])}" for k in FIELDS if fields.get(k) is not None]
    return " ".join([MESSAGE, *pairs])


class LogSink:
    def __init__(self, settings: Any, meta: dict[str, Any]) -> None:
        self.logger = logging.getLogger(settings.logger_name)
        if self.logger.level == logging.NOTSET:
            # Asking for records is asking to see them: not filtered by wattprint's log_level
            # (warning by default), which is for wattprint's own messages.
            self.logger.setLevel(logging.INFO)

    def write(self, result: Any) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        fields = record(result)
        self.logger.info("%s", line(fields), extra={"wattprint": fields})

    recovered = write  # a killed run's last row, recovered by this run's start

    def close(self) -> None:
        return None


def open(settings: Any, meta: dict[str, Any]) -> LogSink:
    return LogSink(settings, meta)
