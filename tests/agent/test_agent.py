"""The host agent (``monitor --per``): the node's energy split among processes, containers and
pods on a fake /proc and /sys/fs/cgroup tree, scraped from /metrics over HTTP."""

from __future__ import annotations

import socket
import urllib.request
from collections import defaultdict

import pytest
from typer.testing import CliRunner

from tests.fakes.fakesys import cpu_stat
from wattprint.agent.ledger import Ledger
from wattprint.agent.loop import Agent
from wattprint.agent.scan import Scanner
from wattprint.cli import app

pytest.importorskip("prometheus_client", reason="the prometheus extra is not installed")

UID = "0b6a4e07-1f2b-4c3d-9e8f-0a1b2c3d4e5f"
DOCKER = "ab" * 32
POD_CGROUP = (
    f"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
    f"{UID.replace('-', '_')}.slice/cri-containerd-{'cd' * 32}.scope"
)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node(machine, extra: dict[int, int] | None = None) -> None:
    """A node with a Docker container (200, 201), a pod (300), a user's shell (400) and a
    kernel thread (3); ``extra`` adds ticks per pid."""
    extra = extra or {}
    machine.add_process(1, ppid=0, comm="systemd", utime=10 + extra.get(1, 0), cgroup="/init.scope")
    machine.add_process(2, ppid=0, comm="kthreadd", utime=0)
    machine.add_process(3, ppid=2, comm="kworker/0:1", utime=5 + extra.get(3, 0))
    docker = f"/system.slice/docker-{DOCKER}.scope"
    machine.add_process(
        200,
        comm="nginx",
        utime=100 + extra.get(200, 0),
        rss_pages=1000,
        cgroup=docker,
        children=(201,),
    )
    machine.add_process(
        201, ppid=200, comm="nginx", utime=50 + extra.get(201, 0), rss_pages=500, cgroup=docker
    )
    machine.add_process(
        300, comm="trainer", utime=80 + extra.get(300, 0), rss_pages=2000, cgroup=POD_CGROUP
    )
    machine.add_process(
        400,
        comm="bash",
        utime=20 + extra.get(400, 0),
        cutime=extra.get("reaped", 0),
        rss_pages=100,
        cgroup="/user.slice/user-1000.slice/session-1.scope",
    )
    machine.mkdir(f"/var/log/pods/ml_trainer-0_{UID}")


def scrape(port: int) -> dict[str, list[tuple[dict[str, str], float]]]:
    from prometheus_client.parser import text_string_to_metric_families

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[sample.name].append((sample.labels, sample.value))
    return out


def sums_by_component(samples) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for labels, value in samples:
        out[labels["component"]] += value
    return out


@pytest.fixture
def rapl(machine):
    machine.add_rapl_domain("intel-rapl", "0", "package-0", energy_uj=1_000_000)
    machine.add_rapl_domain("intel-rapl", "0:0", "dram", energy_uj=1_000_000)
    return machine


def test_containers_pods_idle_and_unattributed_add_up_to_the_node(rapl):
    machine = rapl
    node(machine)
    port = _port()
    agent = Agent("container", {"country": "FRA", "interval_s": 60}, port).start()
    try:
        node(machine, {200: 300, 201: 100, 300: 200, 400: 100, 3: 50})  # 750 of 1000 ticks
        machine.write("/proc/stat", cpu_stat(1000 + 1000, 9000))
        machine.set_energy("intel-rapl:0", 1_000_000 + 200_000_000)  # 200 J
        machine.set_energy("intel-rapl:0:0", 1_000_000 + 40_000_000)  # 40 J
        agent.step()
        metrics = scrape(port)
    finally:
        agent.stop()
    consumers = metrics["wattprint_consumer_energy_joules_total"]
    nodes = dict(
        (labels["component"], v) for labels, v in metrics["wattprint_node_energy_joules_total"]
    )
    assert nodes["cpu"] == pytest.approx(200.0, rel=1e-6)
    assert nodes["ram"] == pytest.approx(40.0, rel=1e-6)
    totals = sums_by_component(consumers)
    for component, joules in nodes.items():
        assert totals[component] == pytest.approx(joules, rel=0.01)
    cpu = {
        (lab["scope"], lab["container"], lab["pod"], lab["namespace"]): v
        for lab, v in consumers
        if lab["component"] == "cpu"
    }
    idle = cpu[("idle", "", "", "")]
    work = 200.0 - idle
    assert cpu[("container", DOCKER, "", "")] == pytest.approx(work * 0.4)
    assert cpu[("container", "cd" * 32, UID, "ml")] == pytest.approx(work * 0.2)
    assert cpu[("host", "", "", "")] == pytest.approx(work * 0.1)
    assert cpu[("kernel", "", "", "")] == pytest.approx(work * 0.05)
    assert cpu[("unattributed", "", "", "")] == pytest.approx(work * 0.25)
    methods = {lab["method"] for lab, _ in consumers if lab["component"] == "cpu"}
    assert methods == {"rapl"}


def test_per_process_folds_short_lived_children_into_their_parent(machine):
    node(machine)
    scanner = Scanner(machine.root, "process")
    scanner.scan()
    # bash (400) ran a child that came and went between passes (30 ticks, reaped), and a
    # new child (401) appears with 20 ticks: both are bash's until 401 is seen twice.
    node(machine, {400: 10, "reaped": 30})
    machine.add_process(
        401, ppid=400, comm="sleep", utime=20, cgroup="/user.slice/user-1000.slice/session-1.scope"
    )
    found = scanner.scan()
    bash = [k for k in found.ticks if k[1] == "400"]
    assert [found.ticks[k] for k in bash] == [60.0]
    assert not any(k[1] == "401" for k in found.ticks)
    machine.add_process(
        401, ppid=400, comm="sleep", utime=25, cgroup="/user.slice/user-1000.slice/session-1.scope"
    )
    found = scanner.scan()
    assert [v for k, v in found.ticks.items() if k[1] == "401"] == [5.0]
    # 401 exits and bash reaps it: its 25 ticks, already counted, are not counted again.
    machine.end_process(401)
    node(machine, {400: 10, "reaped": 30 + 25 + 7})  # 7 ticks in 401's last moments
    found = scanner.scan()
    assert [v for k, v in found.ticks.items() if k[1] == "400"] == [7.0]


def test_exited_consumers_fold_into_exited_and_the_sum_stays():
    ledger = Ledger(retain_passes=1)
    a = ("process", "10", "job", "", "", "", "")
    ledger.split("cpu", "rapl", 100.0, {a: 1.0}, 1.0)
    total = sum(ledger.energy.values())
    ledger.retire(set())
    assert a in {k for k, _ in ledger.energy}
    ledger.retire(set())
    assert a not in {k for k, _ in ledger.energy}
    assert sum(ledger.energy.values()) == pytest.approx(total) == pytest.approx(100.0)


def test_monitor_per_needs_a_port_and_a_known_consumer_kind(machine):
    runner = CliRunner()
    r = runner.invoke(app, ["monitor", "--per", "process", "--duration", "0"])
    assert r.exit_code == 2 and "--prometheus-port" in r.output
    r = runner.invoke(app, ["monitor", "--per", "thread", "--prometheus-port", "9"])
    assert r.exit_code == 2 and "use one of process, cgroup, container, pod" in r.output


def test_gpu_energy_follows_nvmls_per_process_samples(machine, monkeypatch):
    from tests.fakes.fakenvml import FakeGpu, FakeNvml
    from wattprint.meters import nvidia

    node(machine)
    busy = FakeGpu("GPU-aaaa", processes=[(200, 2**30), (300, 2**30)])
    unused = FakeGpu("GPU-bbbb")
    monkeypatch.setattr(nvidia, "load_adapter", lambda: FakeNvml([busy, unused]))
    port = _port()
    agent = Agent("pod", {"country": "FRA", "interval_s": 60}, port).start()
    try:
        busy.energy_mj += 1_000_000
        unused.energy_mj += 100_000
        busy.samples = [(200, 30.0, 5), (300, 10.0, 5)]
        agent.step()
        metrics = scrape(port)
    finally:
        agent.stop()
    consumers = metrics["wattprint_consumer_energy_joules_total"]
    gpu = {(lab["scope"], lab["pod"]): v for lab, v in consumers if lab["component"] == "gpu"}
    assert gpu[("host", "")] == pytest.approx(750.0)  # 200 is a Docker container, not a pod
    assert gpu[("pod", UID)] == pytest.approx(250.0)
    assert gpu[("idle", "")] == pytest.approx(100.0)  # nobody computes on the second GPU


def test_monitor_per_container_runs_and_stops_after_its_duration(rapl):
    node(rapl)
    port = _port()
    args = [
        "monitor",
        "--per",
        "container",
        "--prometheus-port",
        str(port),
        "--interval",
        "0.1",
        "--duration",
        "0.3",
        "--country",
        "FRA",
    ]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert f":{port}/metrics" in r.output
