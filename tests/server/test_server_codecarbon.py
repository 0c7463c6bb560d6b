"""The real CodeCarbon 3.3.2 client, unchanged, against ``wattprint server`` in a subprocess:
its runs and emissions land in the token's project and experiment, labelled as CodeCarbon's."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.fakes.serverproc import ServerProcess

pytest.importorskip("codecarbon")


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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("cc-server")
    process = ServerProcess(home, experiment="cc")
    yield {
        "url": process.url,
        "env": process.env,
        "made": process.made,
        "home": home,
        "headers": process.headers,
    }
    process.stop()


def _track(server, endpoint):
    env = dict(server["env"])
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            endpoint,
            server["made"]["token"],
            str(server["made"]["experiment_id"]),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=server["home"],
    )
    assert done.returncode == 0, done.stderr
    return float(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("suffix", ["", "/api"])
def test_codecarbons_client_lands_its_run_in_the_project(server, suffix):
    url, h, made = server["url"], server["headers"], server["made"]
    before = {r["id"] for r in httpx.get(f"{url}/api/v1/runs", headers=h).json()["items"]}
    total = _track(server, url + suffix)
    runs = [
        r
        for r in httpx.get(
            f"{url}/api/v1/runs", params={"project_id": made["project_id"]}, headers=h
        ).json()["items"]
        if r["id"] not in before
    ]
    # CodeCarbon's client gives up on an answer after 2 s and creates its run again at its next
    # send: on a loaded machine the first one can land empty. Its emissions land in one run.
    runs = [r for r in runs if r["emissions_count"]]
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
    other = httpx.post(
        f"{url}/api/v1/projects",
        headers=server["headers"],
        json={"organization_id": made["organization_id"], "name": "other"},
    ).json()
    experiments = httpx.get(
        f"{url}/api/v1/experiments", params={"project_id": other["id"]}, headers=server["headers"]
    ).json()["items"]
    got = httpx.post(
        f"{url}/runs",
        headers={"x-api-token": made["token"]},
        json={"experiment_id": str(experiments[0]["id"])},
    )
    assert got.status_code == 404


def test_codecarbon_monitor_lands_its_run_in_the_experiment(server, tmp_path):
    """`codecarbon monitor`, its API settings in a .codecarbon.config in its folder (as
    `codecarbon config` writes them), sends every few measures; stopped, it exits cleanly."""
    url, h, made = server["url"], server["headers"], server["made"]
    (tmp_path / ".codecarbon.config").write_text(
        f"[codecarbon]\napi_endpoint = {url}\napi_key = {made['token']}\n"
        f"experiment_id = {made['experiment_id']}\nsave_to_file = False\n"
    )
    before = {r["id"] for r in httpx.get(f"{url}/api/v1/runs", headers=h).json()["items"]}
    monitor = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "codecarbon.cli.main",
            "monitor",
            "--measure-power-secs",
            "1",
            "--api-call-interval",
            "2",
        ],
        cwd=tmp_path,
        env=server["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.time() + 90
        runs: list[dict] = []
        while time.time() < deadline and monitor.poll() is None:
            runs = [
                r
                for r in httpx.get(f"{url}/api/v1/runs", headers=h).json()["items"]
                if r["id"] not in before
            ]
            if runs and runs[0]["emissions_count"] >= 2:
                break
            time.sleep(0.5)
    finally:
        monitor.send_signal(signal.SIGINT)
        output, _ = monitor.communicate(timeout=60)
    assert monitor.returncode == 0, output
    assert "Saving emissions data" in output
    runs = [
        r
        for r in httpx.get(f"{url}/api/v1/runs", headers=h).json()["items"]
        if r["id"] not in before
    ]
    assert len(runs) == 1, output
    run = runs[0]
    assert run["source"] == "codecarbon" and run["experiment_id"] == made["experiment_id"]
    assert run["project_id"] == made["project_id"] and run["emissions_count"] >= 2
    rows = httpx.get(f"{url}/api/v1/runs/{run['id']}/emissions", headers=h).json()["items"]
    assert len(rows) == run["emissions_count"]
    assert [r["origin"] for r in rows] == ["codecarbon"] * len(rows)
    durations = [r["duration"] for r in rows]
    assert durations == sorted(durations) and durations[0] < durations[-1]  # cumulative
    assert rows[-1]["emissions"] == pytest.approx(run["emissions_kg"]) and run["emissions_kg"] > 0
    assert run["emissions_low_kg"] is None  # CodeCarbon's rows carry no bounds: unknown
