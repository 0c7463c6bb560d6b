"""Webhook: a JSON POST of each record to a URL, through a local spool so that nothing is lost.

Turned on by ``webhook_url`` (``webhook_token``, if set, goes as ``Authorization: Bearer ...``).

Spool. ``write()`` only writes the record to ``<output_dir>/.wattprint/spool/webhook/`` as one
file and wakes the sender, which POSTs the files oldest first, one per request, each with a
timeout of ``TIMEOUT_S``. What becomes of a file for each answer (2xx delivered; 408, 429, 5xx
and no connection retried with backoff honouring ``Retry-After``; 401, 403 and 3xx kept and said
once; other 4xx set aside in ``rejected/``) is ``wattprint.sinks.spool``'s, shared with the
server sink.

A new run sends what earlier runs left in the spool (a receiver that was down, a process that
ended first). Several processes sharing an output_dir take turns (an ``flock`` on
``spool/webhook/.lock``). ``close()`` waits at most ``CLOSE_WAIT_S`` for the run's records to be
delivered and returns at once when a send attempt fails: ``stop()`` never waits on a receiver
that is down; what it did not take waits in the spool.

Exactly once. A record whose answer was lost (a timeout after the receiver stored it) is sent
again. Each request carries ``Idempotency-Key: <run_id>:<seq>`` (also ``key`` in the body;
``<run_id>:recovered`` for the last row of a killed run, sent by the run that recovered it),
unique per record and identical on every retry: a receiver stores a key once and answers 2xx to
a key it already has. The body::

    {"type": "wattprint.record", "version": 1, "key": "<run_id>:<seq>", "record": {...}}

where ``record`` has the CSV's columns and units (``task_name`` set for a task's record), an
empty cell as null.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import spool
from .spool import (
    REJECTED,  # noqa: F401  (where refused records go, for callers and tests)
    SpoolSink,
)

FOLDER = Path(".wattprint") / "spool" / "webhook"


def spool_folder(output_dir: str | Path) -> Path:
    return Path(output_dir) / FOLDER


def key_of(path: Path) -> str:
    """``<run_id>:<seq>`` for a spool file ``<time_ns>-<run_id>-<seq>.json`` (``seq`` is
    ``recovered`` for a killed run's row that a later run recovered)."""
    _, rest = path.stem.split("-", 1)
    run_id, seq = rest.rsplit("-", 1)
    return f"{run_id}:{int(seq) if seq.isdigit() else seq}"


class WebhookSender(spool.Sender):
    """One record per POST, with its key in ``Idempotency-Key``."""

    setting = "webhook"

    def _send_files(self, paths: list[Path]) -> bool:
        for path in paths:
            try:
                data = path.read_bytes()
                key = key_of(path)
            except FileNotFoundError:
                continue  # another process delivered it meanwhile
            except (OSError, ValueError) as exc:
                self._reject(path, f"unreadable spool file: {exc}")
                continue
            answer = self._post(data, {"Idempotency-Key": key})
            if spool.judge(answer.status) == "sent":
                path.unlink(missing_ok=True)
            elif self._failed(answer) == "rejected":
                text = answer.body.decode("utf-8", "replace")
                self._reject(path, f"HTTP {answer.status}\n{text}")
            else:
                return False
        return True


class WebhookSink(SpoolSink):
    sender_class = WebhookSender

    def __init__(self, settings: Any, meta: dict[str, Any]) -> None:
        folder = spool_folder(settings.output_dir)
        super().__init__(folder, settings.webhook_url, settings.webhook_token, meta["run_id"])


def open(settings: Any, meta: dict[str, Any]) -> WebhookSink:
    return WebhookSink(settings, meta)
