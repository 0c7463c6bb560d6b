"""`import wattprint` loads no hardware library and no CLI library, and starts nothing."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "psutil",
    "pynvml",
    "amdsmi",
    "typer",
    "rich",
    "cpuinfo",
    "numpy",
    "pandas",
    "ecologits",
    "openai",
    "wrapt",
)
# The team server's packages (the server extra): never loaded by the package or a tracker.
SERVER = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "uvicorn",
    "psycopg",
    "argon2",
    "pydantic",
    "jinja2",
    "wattprint.server",
)


def modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"{code}\nimport sys, threading\n"
            "print(threading.active_count()); print(' '.join(sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out[0] == "1", "importing started a thread"
    return set(out[1].split())


def test_import_wattprint_loads_nothing_heavy():
    loaded = modules_after("import wattprint")
    assert not loaded & set(HEAVY)


def test_importing_the_public_api_loads_nothing_heavy():
    loaded = modules_after("from wattprint import Tracker, track, RunResult")
    assert not loaded & set(HEAVY)
    assert "wattprint.tracker" in loaded


def test_neither_wattprint_nor_its_command_line_loads_the_server():
    for code in ("import wattprint", "from wattprint import Tracker", "import wattprint.cli"):
        loaded = modules_after(code)
        assert not loaded & set(SERVER), code


def test_unknown_attribute_is_an_attribute_error():
    import pytest

    import wattprint

    with pytest.raises(AttributeError, match="no attribute 'Trackr'"):
        wattprint.Trackr  # noqa: B018
