"""A local HTTP receiver for the sink tests: records every request, answers as told."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    received_at: float = 0.0  # time.monotonic() when it came


#: (status, body) or (status, body, headers) to answer, or None to close the connection
#: without answering.
Responder = Callable[[Request], "tuple[int, bytes] | tuple[int, bytes, dict[str, str]] | None"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def set_energy(machine: Any, zone: str, energy_uj: int) -> None:
    """Set a fake RAPL counter (atomically: FakeSys.set_energy renames)."""
    machine.set_energy(zone, energy_uj)


def wait_for(condition: Callable[[], Any], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


class Receiver:
    """``with Receiver(port) as r: ...``; ``r.requests`` lists what came, in order."""

    def __init__(self, port: int = 0, respond: Responder | None = None) -> None:
        self.requests: list[Request] = []
        self.respond: Responder = respond or (lambda request: (200, b"ok"))
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = Request(self.command, self.path, headers, body, time.monotonic())
                with owner._lock:
                    owner.requests.append(request)
                answer = owner.respond(request)
                if answer is None:  # the answer is "lost"
                    self.close_connection = True
                    return
                status, data, *more = answer
                self.send_response(status)
                for name, value in (more[0] if more else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = _handle

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def received(self) -> list[Request]:
        with self._lock:
            return list(self.requests)
