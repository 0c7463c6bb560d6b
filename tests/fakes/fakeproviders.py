"""A local HTTP server that answers like the live carbon-intensity APIs, and a fake clock.

Each path gets a queue of replies; the last one repeats. Every request is recorded (path, query,
headers), so tests can count what reached the "network" and check what was sent.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list: sent as JSON; str/bytes: sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass(frozen=True)
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]


class FakeApi:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server name)
                api._answer(self)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, path: str, *replies: Reply | dict | list) -> None:
        """Answer ``path`` with ``replies`` in turn, the last one from then on."""
        self.routes[path] = [r if isinstance(r, Reply) else Reply(body=r) for r in replies]

    def requests(self, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if path is None or s.path == path]

    def count(self, path: str | None = None) -> int:
        return len(self.requests(path))

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        path = urllib.parse.unquote(parts.path)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.seen.append(Seen(path, query, {k.lower(): v for k, v in handler.headers.items()}))
            queue = self.routes.get(path)
            if queue is None:
                reply = Reply(404, {"error": f"no route for {path}"})
            else:
                reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if reply.delay_s:
            time.sleep(reply.delay_s)
        body = reply.body
        if isinstance(body, (dict, list)):
            payload = json.dumps(body).encode()
        elif isinstance(body, str):
            payload = body.encode()
        else:
            payload = body or b""
        try:
            handler.send_response(reply.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:  # the client gave up (a timeout test): nothing to answer
            pass


class FakeClock:
    """Wall-clock seconds that only move when told to, or when slept on (sleeps are recorded)."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds
