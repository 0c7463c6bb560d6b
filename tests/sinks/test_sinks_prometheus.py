"""The Prometheus sink: a real /metrics endpoint scraped over HTTP, and pushes to a local
receiver standing in for a Pushgateway."""

from __future__ import annotations

import logging
import socket
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.fakenvml import FakeGpu, FakeNvml
from tests.fakes.receiver import Receiver, free_port, set_energy, wait_for
from wattprint import Tracker
from wattprint.meters import nvidia
from wattprint.records import J_PER_KWH
from wattprint.sinks import prometheus


@pytest.fixture(autouse=True)
def local(monkeypatch):
    monkeypatch.setattr(prometheus, "BIND_ADDRESS", "127.0.0.1")
    for key in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(key, raising=False)


def add_rapl(machine) -> None:
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1_000_000)
    machine.add_rapl_domain("intel-rapl", "0:0", "dram", energy_uj=500_000)


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(port: int) -> dict[tuple[str, frozenset], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return parse(response.read().decode())


def find(metrics: dict, name: str, **labels: str) -> list[tuple[dict[str, str], float]]:
    return [
        (dict(key), value)
        for (n, key), value in metrics.items()
        if n == name and all(dict(key).get(k) == v for k, v in labels.items())
    ]


def one(metrics: dict, name: str, **labels: str) -> float:
    found = find(metrics, name, **labels)
    assert len(found) == 1, (name, labels, found)
    return found[0][1]


def test_metrics_endpoint_shows_the_run_with_labels_and_honest_values(machine):
    add_rapl(machine)
    port = free_port()
    tracker = Tracker(
        project_name="demo",
        experiment_name="exp",
        run_name="r1",
        country="FRA",
        prometheus_port=port,
        interval_s=0.05,
    ).start()
    run = tracker.run_id
    set_energy(machine, "intel-rapl:0", 1_000_000 + 36_000_000)  # +36 J
    assert wait_for(
        lambda: find(scrape(port), "wattprint_energy_joules_total", run=run, component="cpu") != [],
        5,
    )
    assert wait_for(
        lambda: (
            one(scrape(port), "wattprint_energy_joules_total", run=run, component="cpu")
            == pytest.approx(36.0)
        ),
        5,
    )
    live = scrape(port)
    labels = dict(project="demo", experiment="exp", run=run, zone="FR")
    assert one(live, "wattprint_energy_joules_total", component="cpu", method="rapl", **labels)
    assert one(live, "wattprint_run_info", status="running", **labels) == 1.0
    set_energy(machine, "intel-rapl:0", 1_000_000 + 72_000_000)
    r = tracker.stop()
    final = scrape(port)
    cpu = one(final, "wattprint_energy_joules_total", component="cpu", method="rapl", **labels)
    assert cpu == pytest.approx(r.cpu.energy_kwh * J_PER_KWH) == pytest.approx(72.0)
    assert cpu >= one(live, "wattprint_energy_joules_total", component="cpu", run=run)
    ram = one(final, "wattprint_energy_joules_total", component="ram", run=run)
    assert ram == pytest.approx(r.ram.energy_kwh * J_PER_KWH)
    low = one(final, "wattprint_energy_low_joules_total", component="cpu", run=run)
    high = one(final, "wattprint_energy_high_joules_total", component="cpu", run=run)
    assert low == pytest.approx(r.cpu.low_kwh * J_PER_KWH)
    assert high == pytest.approx(r.cpu.high_kwh * J_PER_KWH)
    assert one(final, "wattprint_emissions_grams_total", **labels) == pytest.approx(
        r.emissions_kg * 1000
    )
    assert one(final, "wattprint_emissions_low_grams_total", run=run) == pytest.approx(
        r.emissions_low_kg * 1000
    )
    assert one(final, "wattprint_emissions_high_grams_total", run=run) == pytest.approx(
        r.emissions_high_kg * 1000
    )
    intensity = one(final, "wattprint_intensity_grams_per_kwh", kind=r.intensity.kind, **labels)
    assert intensity == pytest.approx(r.intensity.value)
    assert one(final, "wattprint_run_duration_seconds", run=run) == pytest.approx(r.duration_s)
    assert find(final, "wattprint_power_watts", component="cpu", method="rapl", run=run)
    info = find(final, "wattprint_run_info", run=run)
    assert len(info) == 1 and info[0][0]["status"] == "finished"
    assert info[0][0]["run_name"] == "r1" and info[0][0]["cpu_method"] == "rapl"


def test_unmeasured_component_has_no_energy_series_and_tasks_have_theirs(machine, monkeypatch):
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([FakeGpu("GPU-aaaa")]))
    port = free_port()
    tracker = Tracker(country="FRA", gpu_ids=[3], prometheus_port=port).start()
    tracker.start_task("load")
    time.sleep(0.05)
    load = tracker.stop_task("load")
    r = tracker.stop()
    assert r.gpu.energy_kwh is None
    metrics = scrape(port)
    run = r.run_id
    assert find(metrics, "wattprint_energy_joules_total", run=run, component="gpu") == []
    assert find(metrics, "wattprint_power_watts", run=run, component="gpu") == []
    assert find(metrics, "wattprint_energy_joules_total", run=run, component="cpu") != []
    assert find(metrics, "wattprint_run_info", run=run)[0][0]["gpu_method"] == "unmeasured"
    task = one(metrics, "wattprint_task_duration_seconds", run=run, task="load")
    assert task == pytest.approx(load.duration_s) and task >= 0.05
    assert find(metrics, "wattprint_task_energy_joules", run=run, task="load", component="cpu")


def test_a_second_tracker_in_the_process_reuses_the_server(machine):
    port = free_port()
    first = Tracker(country="FRA", prometheus_port=port).start().stop()
    second = Tracker(country="FRA", prometheus_port=port).start().stop()
    metrics = scrape(port)
    for r in (first, second):  # ended runs stay a while, so their last values are scraped
        assert one(metrics, "wattprint_run_info", run=r.run_id, status="finished") == 1.0


def test_openmetrics_scrapes_parse_strictly(machine):
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as strict

    port = free_port()
    tracker = Tracker(country="FRA", prometheus_port=port).start()
    with tracker.task("t"):
        pass
    tracker.stop()
    accept = {"Accept": "application/openmetrics-text; version=1.0.0"}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers=accept)
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        names = {f.name for f in strict(response.read().decode())}
    assert {"wattprint_energy_joules", "wattprint_power_watts", "wattprint_run_info"} <= names


def test_a_port_in_use_is_said_once_and_the_run_goes_on(machine, caplog):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with caplog.at_level(logging.WARNING, logger="wattprint"):
            r = Tracker(country="FRA", prometheus_port=port).start().stop()
    assert r.status == "finished"
    assert sum(f"port {port}" in m for m in caplog.messages) == 1


def test_pushgateway_gets_the_runs_final_metrics(machine):
    add_rapl(machine)
    with Receiver() as gateway:
        tracker = Tracker(
            project_name="batch", country="FRA", prometheus_pushgateway=gateway.url
        ).start()
        set_energy(machine, "intel-rapl:0", 1_000_000 + 3_600_000)
        tracker.flush()
        set_energy(machine, "intel-rapl:0", 1_000_000 + 7_200_000)
        r = tracker.stop()  # waits (bounded) for the final push
        pushes = gateway.received()
    assert pushes, "nothing was pushed"
    for push in pushes:
        assert push.method == "PUT"
        assert push.path == f"/metrics/job/wattprint/run/{r.run_id}"
    metrics = parse(pushes[-1].body.decode())
    assert one(metrics, "wattprint_run_info", run=r.run_id)
    assert find(metrics, "wattprint_run_info", run=r.run_id)[0][0]["status"] == "finished"
    cpu = one(metrics, "wattprint_energy_joules_total", component="cpu", project="batch")
    assert cpu == pytest.approx(r.cpu.energy_kwh * J_PER_KWH) == pytest.approx(7.2)
    assert one(metrics, "wattprint_emissions_grams_total", run=r.run_id) == pytest.approx(
        r.emissions_kg * 1000
    )


def test_pushgateway_down_does_not_hold_stop_and_is_said(machine, caplog, monkeypatch):
    monkeypatch.setattr(prometheus, "CLOSE_WAIT_S", 1.0)
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    tracker = Tracker(country="FRA", prometheus_pushgateway=url).start()
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        began = time.monotonic()
        r = tracker.stop()
        took = time.monotonic() - began
    assert r.status == "finished"
    assert took < 5.0  # a hang guard, not a performance figure
    assert sum("Pushgateway" in m and "did not take" in m for m in caplog.messages) == 1


def test_scrapes_ask_the_tracker_and_get_one_result_per_interval(machine):
    """Live sinks pull: no result is built per sample for them, at most one per interval."""
    add_rapl(machine)
    port = free_port()
    tracker = Tracker(country="FRA", interval_s=3600, prometheus_port=port).start()
    try:
        state = tracker._run.sinks._sinks["prometheus"].state
        first, again = state.source(), state.source()
        assert first is again  # asked twice within one interval: built once
        set_energy(machine, "intel-rapl:0", 1_000_000 + 36_000_000)  # +36 J
        tracker.flush()  # an update: the next scrape sees a new interval
        assert state.source() is not first
        run = tracker.run_id
        cpu = one(scrape(port), "wattprint_energy_joules_total", component="cpu", run=run)
        assert cpu == pytest.approx(36.0)
    finally:
        tracker.stop()
    assert state.source is None  # after the final row nothing asks the stopped tracker


def test_power_is_the_last_stretchs_energy_over_its_duration(machine):
    add_rapl(machine)
    port = free_port()
    tracker = Tracker(country="FRA", prometheus_port=port, interval_s=3600).start()
    first = tracker.flush()  # the stretch starts here: no sampler tick in between
    set_energy(machine, "intel-rapl:0", 1_000_000 + 36_000_000)  # +36 J
    time.sleep(0.1)
    r = tracker.stop()
    power = one(scrape(port), "wattprint_power_watts", component="cpu", method="rapl", run=r.run_id)
    assert power == pytest.approx(36.0 / (r.duration_s - first.duration_s), rel=1e-6)
