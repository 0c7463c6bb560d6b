"""A stand-in for the team server's ingest endpoint, as the server sink and ``push`` expect it.

``POST /api/v1/records`` with ``Authorization: Bearer <token>`` and a JSON array of envelopes;
200 with ``{"results": [{"key", "status": "created" | "duplicate" | "rejected", "error"}]}``,
idempotent by key. ``stop()`` and ``start()`` take it down and up again on the same port with
its store intact, as a server restarted over its database.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.fakes.receiver import Receiver, Request
from wattprint.records import INTERVAL_COLUMNS, TASK_COLUMNS

BODIES = {
    "wattprint.record": ("record", TASK_COLUMNS),
    "wattprint.interval": ("interval", INTERVAL_COLUMNS),
}


class StandIn:
    def __init__(self, token: str = "wpt_test", port: int = 0) -> None:
        self.token = token
        self.port = port
        self.store: dict[str, dict[str, Any]] = {}  # key -> envelope, as a database keeps it
        self.created: Counter[str] = Counter()  # how often each key was stored: once
        self.batches: list[int] = []  # envelopes per request
        self.refuse: Callable[[dict[str, Any]], str | None] = lambda envelope: None
        self.answer: Callable[[Request], tuple[int, bytes] | None] | None = None
        self.lose_answers = 0  # store the next N batches, then close without answering
        self.lock = threading.Lock()
        self.receiver: Receiver | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.receiver = Receiver(self.port, respond=self._respond).__enter__()
        self.port = self.receiver.port

    def stop(self) -> None:
        if self.receiver is not None:
            self.receiver.__exit__(None, None, None)
            self.receiver = None

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def keys(self, kind: str = "") -> set[str]:
        return {k for k, e in self.store.items() if e["type"].endswith(kind)}

    def _respond(self, request: Request):
        if self.answer is not None:
            forced = self.answer(request)
            if forced is not None:
                return forced
        if request.path != "/api/v1/records":
            return (404, b'{"detail": "not found"}')
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return (401, b'{"detail": "bad token"}')
        try:
            batch = json.loads(request.body)
        except ValueError:
            return (400, b'{"detail": "not JSON"}')
        if not isinstance(batch, list):
            return (422, b'{"detail": "a list of envelopes"}')
        results = []
        with self.lock:
            self.batches.append(len(batch))
            for envelope in batch:
                results.append(self._ingest(envelope))
            lose = self.lose_answers > 0
            self.lose_answers -= lose
        if lose:
            return None
        return (200, json.dumps({"results": results}).encode())

    def _ingest(self, envelope: Any) -> dict[str, Any]:
        key = envelope.get("key") if isinstance(envelope, dict) else None
        why = None
        if not isinstance(key, str):
            why = "no key"
        elif envelope.get("type") not in BODIES or envelope.get("version") != 1:
            why = f"unknown type {envelope.get('type')!r}"
        else:
            name, columns = BODIES[envelope["type"]]
            body = envelope.get(name)
            if not isinstance(body, dict) or tuple(body) != columns:
                why = f"{name} has not the spec's columns"
            else:
                why = self.refuse(envelope)
        if why is not None:
            return {"key": key, "status": "rejected", "error": why}
        if key in self.store:
            return {"key": key, "status": "duplicate", "error": None}
        self.store[key] = envelope
        self.created[key] += 1
        return {"key": key, "status": "created", "error": None}
