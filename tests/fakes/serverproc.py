"""``wattprint server`` in a subprocess, as a user starts it: a user and a project made with the
command line, then the server on a free port, stopped and started again over the same database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"
EMAIL = "lead@example.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, home: Path, experiment: str = "default") -> None:
        self.home = home
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("WATTPRINT_") and not k.lower().startswith("codecarbon")
        }
        self.env.update(
            HOME=str(home),
            XDG_DATA_HOME=str(home / "data"),
            PYTHONPATH=str(ROOT / "src"),
            WATTPRINT_SERVER_DATABASE_URL=f"sqlite:///{home / 'server.sqlite3'}",
        )
        self.wattprint("server", "user", "add", EMAIL, "--password-stdin", stdin=PASSWORD + "\n")
        self.made: dict[str, Any] = json.loads(
            self.wattprint(
                "server",
                "bootstrap",
                "--org",
                "NLP lab",
                "--team",
                "core",
                "--project",
                "bert",
                "--experiment",
                experiment,
                "--owner",
                EMAIL,
                "--json",
            )
        )
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.start()
        token = httpx.post(
            f"{self.url}/api/v1/auth/token", json={"email": EMAIL, "password": PASSWORD}
        ).json()
        self.headers = {"Authorization": f"Bearer {token['access_token']}"}

    def wattprint(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "wattprint", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wattprint", "server", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/api/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, self.process.stdout.read()
            assert time.time() < deadline, "the server did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def get(self, path: str, **params: Any) -> Any:
        answer = httpx.get(f"{self.url}{path}", params=params, headers=self.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()
