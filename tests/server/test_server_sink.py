"""The tracker's server sink against the real ``wattprint server`` (not a stand-in): a run whose
server is stopped mid-run and started again lands every row and interval once, and the server's
copy of the final row is the tracker's."""

from __future__ import annotations

import time

import pytest

from tests.fakes.fakesys import cpu_stat
from tests.fakes.receiver import wait_for
from tests.fakes.serverproc import ServerProcess
from wattprint import Tracker
from wattprint.sinks import spool


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setattr(spool, "BACKOFF_S", 0.05)
    monkeypatch.setattr(spool, "BACKOFF_MAX_S", 0.2)
    for key in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)
    process = ServerProcess(tmp_path / "server")
    yield process
    process.stop()


def _landed(server, run_id, rows):
    project = server.made["project_id"]
    runs = server.get("/api/v1/runs", project_id=project)["items"]
    mine = [r for r in runs if r["client_run_id"] == run_id]
    return mine[0] if mine and mine[0]["emissions_count"] == rows else None


def test_a_run_lands_whole_on_a_server_restarted_mid_run(machine, server):
    token = server.made["token"]
    tracker = Tracker(country="FRA", interval_s=0.05, server_url=server.url, server_token=token)
    tracker.start()
    busy = 5000
    for step in range(6):
        if step == 2:
            server.stop()  # down for four rows: they wait in the spool
        busy += 100
        machine.write("/proc/stat", cpu_stat(busy, 9000 + busy))
        time.sleep(0.1)
        tracker.flush()
    server.start()
    final = tracker.stop()
    assert wait_for(lambda: _landed(server, final.run_id, 7), 30), "rows did not all land"
    run = _landed(server, final.run_id, 7)
    assert run["status"] == "finished"
    assert run["emissions_kg"] == pytest.approx(final.emissions_kg)
    assert run["energy_kwh"] == pytest.approx(final.energy_kwh)
    rows = server.get(f"/api/v1/runs/{run['id']}/emissions")["items"]
    assert [r["status"] for r in rows] == ["running"] * 6 + ["finished"]
    durations = [r["duration"] for r in rows]
    assert durations == sorted(durations) and len(set(durations)) == 7
    assert rows[-1]["emissions_high_kg"] == pytest.approx(final.emissions_high_kg)
    assert rows[-1]["cpu_method"] == final.cpu.method
    intervals = server.get(f"/api/v1/runs/{run['id']}/intervals")["items"]
    seqs = [i["seq"] for i in intervals]
    assert seqs and len(seqs) == len(set(seqs))  # each interval stored once
