"""The agent's ``/metrics`` families, served beside the tracker's own series."""

from __future__ import annotations

from typing import Any

from .scan import LABELS

CONSUMER = "wattprint_consumer_energy_joules"  # prometheus_client adds "_total" to counters
NODE = "wattprint_node_energy_joules"


class ConsumerCollector:
    def __init__(self, agent: Any) -> None:
        self.agent = agent

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        with self.agent.lock:
            ledger = self.agent.ledger
            energy = dict(ledger.energy)
            node = dict(ledger.node)
            methods = dict(ledger.methods)
            processes, scan_s = self.agent.processes, self.agent.scan_s
        consumers = CounterMetricFamily(
            CONSUMER,
            "energy charged to a consumer of the node (process, cgroup, container, "
            "pod), to idle or to unattributed; they add up to the node's",
            labels=[*LABELS, "component", "method"],
        )
        for (key, component), joules in sorted(energy.items()):
            consumers.add_metric([*key, component, methods.get(component, "")], joules)
        yield consumers
        nodes = CounterMetricFamily(
            NODE,
            "the node's measured energy since the agent started",
            labels=["component", "method"],
        )
        for component, joules in sorted(node.items()):
            nodes.add_metric([component, methods.get(component, "")], joules)
        yield nodes
        yield GaugeMetricFamily(
            "wattprint_agent_processes", "processes seen in the last pass", value=processes
        )
        yield GaugeMetricFamily(
            "wattprint_agent_pass_seconds",
            "CPU time the agent's last pass over /proc took",
            value=scan_s,
        )
