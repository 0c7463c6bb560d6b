"""The real CodeCarbon 3.3.2 client, unchanged, against ``wattprint server`` in a subprocess:
its runs and emissions land in the token's project and experiment, labelled as CodeCarbon's."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from serverproc import ServerProcess

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
    yield {"url": process.url, "env": process.env, "made": process.made, "home": home,
           "headers": process.headers}  # fmt: skip
    process.stop()


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
