"""Debian's chromium for the dashboard's browser tests (``.ci/run`` installs it; playwright
cannot download one here): where it is, and a module's browser with its screenshots folder
emptied first; and a seeded app served for it by uvicorn in a thread."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")


def chromium(artifacts: Path) -> Iterator[Any]:
    """A launched chromium for a module's tests (use it as a module-scoped fixture's body);
    ``artifacts``, where those tests save their screenshots, starts empty."""
    from playwright.sync_api import sync_playwright

    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` served on a free local port by uvicorn in a thread (its base URL), until the
    block ends; then stopped and its database engine closed."""
    import uvicorn

    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)
        app.state.engine.dispose()
