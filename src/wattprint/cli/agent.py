"""``wattprint monitor --per process|cgroup|container|pod``: the host agent's command."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any


def agent_monitor(per: str, duration_s: float | None, options: dict[str, Any]) -> int:
    from ..agent.loop import Agent
    from ..agent.scan import PER

    if per not in PER:
        raise ValueError(f"--per {per!r}: use one of {', '.join(PER)}")
    port = options.get("prometheus_port")
    if port is None:
        raise ValueError(
            "--per serves each consumer's energy on /metrics: give --prometheus-port PORT "
            "(for example 9464)"
        )
    agent = Agent(per, options, port)
    stop = threading.Event()

    def request_stop(signum: int, frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        agent.start()
        every = agent.tracker.settings.interval_s
        print(
            f"wattprint agent: energy per {per} on http://0.0.0.0:{port}/metrics every "
            f"{every:g} s; Ctrl-C stops",
            file=sys.stderr,
        )
        agent.run(every, stop, duration_s)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        agent.stop()
    return 0
