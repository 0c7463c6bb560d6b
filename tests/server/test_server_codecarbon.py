"""The real CodeCarbon 3.3.2 client, unchanged, against ``wattprint server`` in a subprocess:
its runs and emissions land in the token's project and experiment, labelled as CodeCarbon's."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytest.importorskip("codecarbon")

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"

SCRIPT = """
import sys, time
from codecarbon import EmissionsTracker
endpoint, key, experiment = sys.argv[1:4]
t = EmissionsTracker(save_to_api=True, api_endpoint=endpoint, api_key=key,
                     experiment_id=experiment, api_call_interval=2, measure_power_secs=1,
                     save_to_file=False, log_level="error")
t.start()
end = time.time() + 5.5
while time.time() < end:
    pass
print(t.stop())
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wattprint(env, *args, stdin=None):
    done = subprocess.run([sys.executable, "-m", "wattprint", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("cc-server")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WATTPRINT_") and not k.lower().startswith("codecarbon")
    }
    env.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"), PYTHONPATH=str(ROOT / "src"),
               WATTPRINT_SERVER_DATABASE_URL=f"sqlite:///{home / 'server.sqlite3'}")  # fmt: skip
    _wattprint(env, "server", "user", "add", "lead@example.org", "--password-stdin",
               stdin=PASSWORD + "\n")  # fmt: skip
    made = json.loads(_wattprint(env, "server", "bootstrap", "--org", "NLP lab", "--team", "core",
                                 "--project", "bert", "--experiment", "cc", "--owner",
                                 "lead@example.org", "--json"))  # fmt: skip
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "wattprint", "server", "--port", str(port)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(f"{url}/api/v1/health").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert process.poll() is None, process.stdout.read()
        assert time.time() < deadline, "the server did not start"
        time.sleep(0.2)
    token = httpx.post(f"{url}/api/v1/auth/token",
                       json={"email": "lead@example.org", "password": PASSWORD}).json()  # fmt: skip
    yield {"url": url, "env": env, "made": made, "home": home,
           "headers": {"Authorization": f"Bearer {token['access_token']}"}}  # fmt: skip
    process.terminate()
    process.wait(timeout=30)


def _track(server, endpoint):
    env = dict(server["env"])
    done = subprocess.run([sys.executable, "-c", SCRIPT, endpoint, server["made"]["token"],
                           str(server["made"]["experiment_id"])], env=env, capture_output=True,
                          text=True, timeout=120, cwd=server["home"])  # fmt: skip
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("suffix", ["", "/api"])
def test_codecarbons_client_lands_its_run_in_the_project(server, suffix):
    url, h, made = server["url"], server["headers"], server["made"]
    before = {r["id"] for r in httpx.get(f"{url}/api/v1/runs", headers=h).json()["items"]}
    total = _track(server, url + suffix)
    runs = [r for r in httpx.get(f"{url}/api/v1/runs", params={"project_id": made["project_id"]},
                                 headers=h).json()["items"] if r["id"] not in before]  # fmt: skip
    assert len(runs) == 1
    run = runs[0]
    assert run["source"] == "codecarbon" and run["experiment_id"] == made["experiment_id"]
    assert run["emissions_count"] >= 1
    assert 0 < run["emissions_kg"] <= total * 1.000001
    assert run["emissions_low_kg"] is None and run["energy_low_kwh"] is None
    rows = httpx.get(f"{url}/api/v1/runs/{run['id']}/emissions", headers=h).json()["items"]
    assert [r["origin"] for r in rows] == ["codecarbon"] * len(rows)
    last = rows[-1]
    assert last["emissions"] == pytest.approx(run["emissions_kg"])
    assert last["codecarbon_version"] == "3.3.2" and last["cpu_count"] >= 1
    assert last["cpu_method"] is None and last["emissions_low_kg"] is None  # unknown, not zero
    assert "CodeCarbon" in last["notes"]
    durations = [r["duration"] for r in rows]
    assert durations == sorted(durations)  # cumulative, like CodeCarbon's own CSV rows
    summary = httpx.get(f"{url}/api/v1/runs/{run['id']}/summary", headers=h).json()
    assert summary["sources"] == {"codecarbon": 1}
    assert summary["by_component"]["cpu"]["methods"] == ["codecarbon (not stated)"]
    assert summary["emissions_low_kg"] is None


def test_codecarbons_client_is_refused_another_projects_experiment(server):
    url, made = server["url"], server["made"]
    other = httpx.post(f"{url}/api/v1/projects", headers=server["headers"], json={
        "organization_id": made["organization_id"], "name": "other"}).json()  # fmt: skip
    experiments = httpx.get(f"{url}/api/v1/experiments", params={"project_id": other["id"]},
                            headers=server["headers"]).json()["items"]  # fmt: skip
    got = httpx.post(f"{url}/runs", headers={"x-api-token": made["token"]},
                     json={"experiment_id": str(experiments[0]["id"])})  # fmt: skip
    assert got.status_code == 404
