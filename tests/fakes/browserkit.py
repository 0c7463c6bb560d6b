"""Debian's chromium for the dashboard's browser tests (``.ci/run`` installs it; playwright
cannot download one here): where it is, and a module's browser with its screenshots folder
emptied first."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
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
