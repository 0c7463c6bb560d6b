"""The OpenTelemetry sink: OTLP/HTTP to a local receiver that decodes the protobuf payload."""

from __future__ import annotations

import gzip
import logging
import os
import time

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

from tests.fakes.fakenvml import FakeGpu, FakeNvml
from tests.fakes.receiver import Receiver, free_port, set_energy, wait_for
from wattprint import Tracker
from wattprint.meters import nvidia
from wattprint.records import J_PER_KWH
from wattprint.sinks import otel


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for key in list(os.environ):
        if key.startswith("OTEL_") or key.lower().endswith("_proxy"):
            monkeypatch.delenv(key)


def add_rapl(machine) -> None:
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1_000_000)
    machine.add_rapl_domain("intel-rapl", "0:0", "dram", energy_uj=500_000)


def decode(body: bytes, headers: dict[str, str]) -> ExportMetricsServiceRequest:
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    request = ExportMetricsServiceRequest()
    request.ParseFromString(body)
    return request


def points(request: ExportMetricsServiceRequest) -> dict[str, list[tuple[dict, float, str]]]:
    """metric name -> [(attributes, value, "sum"/"gauge")], and the resource under ""."""
    found: dict[str, list] = {}
    for rm in request.resource_metrics:
        resource = {a.key: a.value.string_value for a in rm.resource.attributes}
        found.setdefault("", []).append((resource, 0.0, "resource"))
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                kind = m.WhichOneof("data")
                data = getattr(m, kind)
                if kind == "sum":
                    assert data.is_monotonic
                    assert data.aggregation_temporality == AggregationTemporality.Value(
                        "AGGREGATION_TEMPORALITY_CUMULATIVE"
                    )
                for p in data.data_points:
                    attrs = {a.key: a.value.string_value for a in p.attributes}
                    value = p.as_double if p.HasField("as_double") else float(p.as_int)
                    found.setdefault(m.name, []).append((attrs, value, kind, m.unit))
    return found


def one(found: dict, name: str, **attrs: str) -> tuple[float, str, str]:
    hits = [p for p in found.get(name, []) if all(p[0].get(k) == v for k, v in attrs.items())]
    assert len(hits) == 1, (name, attrs, found.get(name))
    return hits[0][1], hits[0][2], hits[0][3]


def test_otlp_export_carries_the_runs_figures(machine, monkeypatch):
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "50")  # the OTel convention, in ms
    add_rapl(machine)
    with Receiver(respond=lambda r: (200, b"")) as collector:
        tracker = Tracker(
            project_name="demo",
            experiment_name="exp",
            country="FRA",
            otel_endpoint=collector.url,
            interval_s=0.05,
        ).start()
        set_energy(machine, "intel-rapl:0", 1_000_000 + 36_000_000)
        assert wait_for(lambda: len(collector.received()) >= 2, 5)  # periodic exports
        with tracker.task("step"):
            set_energy(machine, "intel-rapl:0", 1_000_000 + 54_000_000)
        r = tracker.stop()  # shuts the provider down: one last export
        received = collector.received()
    assert all(q.method == "POST" and q.path == "/v1/metrics" for q in received)
    assert received[-1].headers["content-type"] == "application/x-protobuf"
    found = points(decode(received[-1].body, received[-1].headers))
    resource = found[""][0][0]
    assert resource["service.name"] == "wattprint"
    labels = dict(project="demo", experiment="exp", run=r.run_id, zone="FR")
    value, kind, unit = one(found, "wattprint.energy", component="cpu", method="rapl", **labels)
    assert (kind, unit) == ("sum", "J")
    assert value == pytest.approx(r.cpu.energy_kwh * J_PER_KWH) == pytest.approx(54.0)
    value, _, _ = one(found, "wattprint.energy", component="ram", run=r.run_id)
    assert value == pytest.approx(r.ram.energy_kwh * J_PER_KWH)
    assert one(found, "wattprint.energy.low", component="cpu")[0] == pytest.approx(
        r.cpu.low_kwh * J_PER_KWH
    )
    assert one(found, "wattprint.energy.high", component="cpu")[0] == pytest.approx(
        r.cpu.high_kwh * J_PER_KWH
    )
    value, kind, unit = one(found, "wattprint.emissions", **labels)
    assert (kind, unit) == ("sum", "g") and value == pytest.approx(r.emissions_kg * 1000)
    value, kind, unit = one(found, "wattprint.intensity", kind=r.intensity.kind, **labels)
    assert (kind, unit) == ("gauge", "g/kWh") and value == pytest.approx(r.intensity.value)
    value, kind, _ = one(found, "wattprint.power", component="cpu", run=r.run_id)
    assert kind == "gauge"  # its figure: test_power_is_the_last_stretchs_energy_...
    assert one(found, "wattprint.run.duration", run=r.run_id)[0] == pytest.approx(r.duration_s)
    info = [p[0] for p in found["wattprint.run.info"]]
    assert len(info) == 1 and info[0]["status"] == "finished"
    task, kind, _ = one(found, "wattprint.task.energy", task="step", component="cpu")
    assert kind == "gauge" and task == pytest.approx(18.0)
    # an earlier export saw the run going: cumulative values only grow
    first = points(decode(received[0].body, received[0].headers))
    earlier = one(first, "wattprint.energy", component="cpu", run=r.run_id)[0]
    assert earlier <= r.cpu.energy_kwh * J_PER_KWH


def test_unmeasured_gpu_exports_no_energy_point(machine, monkeypatch):
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([FakeGpu("GPU-aaaa")]))
    with Receiver() as collector:
        r = Tracker(country="FRA", gpu_ids=[3], otel_endpoint=collector.url).start().stop()
        received = collector.received()
    assert r.gpu.energy_kwh is None
    found = points(decode(received[-1].body, received[-1].headers))
    components = {p[0]["component"] for p in found["wattprint.energy"]}
    assert "gpu" not in components and "cpu" in components
    assert found["wattprint.run.info"][0][0]["gpu_method"] == "unmeasured"


def test_endpoint_and_service_name_follow_the_conventions(monkeypatch):
    assert otel.endpoint_url("http://c:4318") == "http://c:4318/v1/metrics"
    assert otel.endpoint_url("http://c:4318/") == "http://c:4318/v1/metrics"
    assert otel.endpoint_url("https://x/v1/metrics") == "https://x/v1/metrics"
    assert otel.resource().attributes["service.name"] == "wattprint"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "trainer")
    assert otel.resource().attributes["service.name"] == "trainer"


def test_headers_from_the_environment_reach_the_collector(machine, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc")
    with Receiver() as collector:
        Tracker(country="FRA", otel_endpoint=collector.url + "/v1/metrics").start().stop()
        received = collector.received()
    assert received and received[-1].headers["authorization"] == "Bearer abc"


def test_collector_down_does_not_hold_stop_and_is_said(machine, monkeypatch, caplog):
    monkeypatch.setattr(otel, "CLOSE_WAIT_S", 1.0)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "3")
    tracker = Tracker(country="FRA", otel_endpoint=f"http://127.0.0.1:{free_port()}").start()
    with caplog.at_level(logging.WARNING, logger="wattprint"):
        began = time.monotonic()
        r = tracker.stop()
        took = time.monotonic() - began
    assert r.status == "finished"
    assert took < 5.0  # a hang guard, not a performance figure
    assert sum("OTLP endpoint" in m and "did not take" in m for m in caplog.messages) == 1


def test_power_is_the_last_stretchs_energy_over_its_duration(machine, monkeypatch):
    monkeypatch.setenv("OTEL_METRIC_EXPORT_INTERVAL", "60000")  # only the export at stop
    add_rapl(machine)
    with Receiver(respond=lambda r: (200, b"")) as collector:
        tracker = Tracker(country="FRA", otel_endpoint=collector.url, interval_s=3600).start()
        first = tracker.flush()  # the stretch starts here: no sampler tick in between
        set_energy(machine, "intel-rapl:0", 1_000_000 + 36_000_000)  # +36 J
        time.sleep(0.1)
        r = tracker.stop()
        received = collector.received()
    found = points(decode(received[-1].body, received[-1].headers))
    value, kind, unit = one(found, "wattprint.power", component="cpu", run=r.run_id)
    assert (kind, unit) == ("gauge", "W")
    assert value == pytest.approx(36.0 / (r.duration_s - first.duration_s), rel=1e-6)
