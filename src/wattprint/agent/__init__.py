"""The host agent: ``wattprint monitor --per process|cgroup|container|pod``.

It measures the node as ``monitor`` does (a machine-mode tracker, its records and its Prometheus
series) and, at every interval, splits each component's energy among the node's consumers:

- ``scan``: one pass over /proc: each process's CPU time and memory, its cgroup (read once per
  process), and which consumer it belongs to; short-lived processes folded into their parent.
- ``ledger``: the split. Each interval's energy goes to consumers, to ``idle`` or to
  ``unattributed``, so that the three always add up to the node's measured energy.
- ``exporter``: the ``/metrics`` families, ``wattprint_consumer_energy_joules_total`` and
  ``wattprint_node_energy_joules_total``.
- ``loop``: the agent's loop and its command.
"""
