"""Prometheus: a ``/metrics`` endpoint to scrape, and pushes to a Pushgateway for batch runs.

Turned on by ``prometheus_port`` (pull) and/or ``prometheus_pushgateway`` (push).

Pull: one HTTP server per port per process (``prometheus_client.start_http_server``), started by
the first run that asks for the port and reused by every later one; it serves a registry of its
own (not ``prometheus_client.REGISTRY``, so the application's own metrics and ours never collide)
that shows every run of the process: running ones, and ended ones for ``RETAIN_S`` seconds so the
scraper sees their final values. The server listens on ``BIND_ADDRESS``, all interfaces
(``0.0.0.0``), as exporters do: ``wattprint monitor`` on a box is scraped from another one. A
port already taken is said once and the run goes on without it.

Push: each row written (flush, task end, stop) schedules a push of the run's series to
``<gateway>/metrics/job/wattprint/run/<run_id>`` (PUT, replaces the group), from a thread of the
sink's own; pushes coalesce, fail over with backoff, and ``close()`` waits at most
``CLOSE_WAIT_S`` for the final one, then says so if it did not go through.

Names, labels and units: see ``wattprint.sinks._series``. Counters (``..._total``) are cumulative
per run (``run`` label = run id) and never go down.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from ._series import QUANTITIES, RunState, labels_of

BIND_ADDRESS = "0.0.0.0"
RETAIN_S = 300.0  # an ended run's series stay this long on /metrics
JOB = "wattprint"
PUSH_TIMEOUT_S = 5.0  # one HTTP request to the Pushgateway
CLOSE_WAIT_S = 5.0  # the most close() waits for the final push
BACKOFF_MAX_S = 30.0

_lock = threading.Lock()
_registry: Any = None  # the CollectorRegistry the servers serve
_collector: _Collector | None = None
_servers: dict[int, Any] = {}  # port -> (server, thread)


def families(states: list[RunState]) -> list[Any]:
    """Metric families for ``states``: one per quantity, every run's samples in it."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for state in states:
        for key, labels, value in state.samples():
            found.setdefault(key, []).append((labels, value))
    out = []
    for key, quantity in QUANTITIES.items():
        if key not in found:
            continue
        names = labels_of(key)
        kind = CounterMetricFamily if quantity.counter else GaugeMetricFamily
        family = kind(quantity.prometheus, quantity.help, labels=names)
        for labels, value in found[key]:
            family.add_metric([labels.get(n, "") for n in names], value)
        out.append(family)
    return out


class _Collector:
    """Every run of the process, for the pull endpoint."""

    def __init__(self) -> None:
        self._states: list[RunState] = []
        self._lock = threading.Lock()

    def add(self, state: RunState) -> None:
        with self._lock:
            self._prune()
            self._states.append(state)

    def _prune(self) -> None:
        now = time.monotonic()
        self._states = [
            s for s in self._states if s.closed_at is None or now - s.closed_at < RETAIN_S
        ]

    def collect(self) -> Any:
        with self._lock:
            self._prune()
            states = list(self._states)
        yield from families(states)


class _OneRun:
    """One run's series, for its pushes."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    def collect(self) -> Any:
        yield from families([self._state])


def _serve(port: int) -> _Collector:
    """The process's collector, its server on ``port`` started if it was not already."""
    global _registry, _collector
    from prometheus_client import CollectorRegistry, start_http_server

    with _lock:
        if _registry is None:
            _registry = CollectorRegistry(auto_describe=False)
            _collector = _Collector()
            _registry.register(_collector)
        if port not in _servers:
            _servers[port] = start_http_server(port, addr=BIND_ADDRESS, registry=_registry)
        assert _collector is not None
        return _collector


class _Pusher:
    """Pushes one run's series to a Pushgateway from a daemon thread; the latest state wins."""

    def __init__(self, gateway: str, run_id: str, state: RunState) -> None:
        from prometheus_client import CollectorRegistry

        self.gateway = gateway
        self.run_id = run_id
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_OneRun(state))
        self.cond = threading.Condition()
        self.wanted = 0  # generation asked for
        self.pushed = 0  # generation last pushed
        self.error: BaseException | None = None
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, name="wattprint-pushgateway", daemon=True)
        self.thread.start()

    def request(self) -> None:
        with self.cond:
            self.wanted += 1
            self.cond.notify_all()

    def _loop(self) -> None:
        from prometheus_client import push_to_gateway

        failures = 0
        while True:
            with self.cond:
                while self.pushed >= self.wanted and not self.stopping:
                    self.cond.wait()
                if self.stopping:
                    return
                generation = self.wanted
            try:
                push_to_gateway(
                    self.gateway,
                    job=JOB,
                    registry=self.registry,
                    grouping_key={"run": self.run_id},
                    timeout=PUSH_TIMEOUT_S,
                )
            except Exception as exc:  # down, refused, 4xx/5xx: try again later
                failures += 1
                with self.cond:
                    self.error = exc
                    self.cond.notify_all()
                    self.cond.wait(min(BACKOFF_MAX_S, 0.25 * 2 ** (failures - 1)))
                continue
            failures = 0
            with self.cond:
                self.pushed = max(self.pushed, generation)
                self.error = None
                self.cond.notify_all()

    def finish(self, timeout: float) -> BaseException | None:
        """Wait for the latest push; None once it went through, else why it did not."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.pushed < self.wanted:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            ok = self.pushed >= self.wanted
            self.stopping = True
            self.cond.notify_all()
            if ok:
                return None
            return self.error or TimeoutError(f"no answer within {timeout:g} s")


class PrometheusSink:
    def __init__(self, settings: Any, meta: dict[str, Any]) -> None:
        from .._log import warn_once

        self.run_id = meta["run_id"]
        self.state = RunState()
        self.port = settings.prometheus_port
        self.gateway = settings.prometheus_pushgateway
        if self.port is not None:
            try:
                _serve(self.port).add(self.state)
            except OSError as exc:
                warn_once(
                    f"prometheus-port:{self.port}",
                    f"cannot serve Prometheus metrics on port {self.port} ({exc}); is another "
                    "program using it? The run goes on without the /metrics endpoint.",
                )
        self.pusher = _Pusher(self.gateway, self.run_id, self.state) if self.gateway else None

    def live(self, snapshot: Any) -> None:
        self.state.source = snapshot  # each scrape asks for the run as of its last interval

    def write(self, result: Any) -> None:
        self.state.see(result)
        if self.pusher is not None:
            self.pusher.request()

    def close(self) -> None:
        self.state.closed_at = time.monotonic()
        if self.pusher is None:
            return
        error = self.pusher.finish(CLOSE_WAIT_S)
        if error is not None:
            from .._log import warn_once

            warn_once(
                f"pushgateway:{self.gateway}",
                f"the Pushgateway at {self.gateway} did not take run {self.run_id}'s metrics "
                f"({type(error).__name__}: {error}); the CSV has every row",
            )


def open(settings: Any, meta: dict[str, Any]) -> PrometheusSink:
    return PrometheusSink(settings, meta)
