"""``wattprint run -- CMD``: run a command and track it, with a live line and a summary.

The child gets the terminal's stdin/stdout/stderr; wattprint writes its live line and summary
to stderr so a pipe of the child's output stays clean. Ctrl-C and SIGTERM go to the child, and
the run's row is written whatever happens, with a status that says how it ended.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from ..records import RunResult, energy_text, mass_text

REFRESH_S = 1.0


def _status_line(result: RunResult, previous: RunResult | None) -> str:
    """Elapsed, power per component over the last refresh, energy and CO2eq so far."""
    parts = [f"{result.duration_s:7.0f} s"]
    dt = result.duration_s - previous.duration_s if previous else 0.0
    for name in ("cpu", "gpu", "ram"):
        now = result.components[name].energy_kwh
        before = previous.components[name].energy_kwh if previous else None
        if now is None or before is None or dt <= 0:
            continue
        watts = (now - before) * 3.6e6 / dt
        if name != "gpu" or result.gpu.method != "none":
            parts.append(f"{name} {watts:6.1f} W")
    parts.append(energy_text(result.energy_kwh))
    if result.emissions_kg is not None:
        parts.append(f"{mass_text(result.emissions_kg)} CO2eq")
    return "  ".join(parts)


def _summary(result: RunResult) -> Any:
    from rich.table import Table

    table = Table(title=f"wattprint: {result.status} after {result.duration_s:.1f} s",
                  title_justify="left")  # fmt: skip
    for column in ("", "energy", "low", "high", "avg power", "method"):
        table.add_column(column, justify="left" if column in ("", "method") else "right")

    def wh(kwh: float | None) -> str:
        return "-" if kwh is None else energy_text(kwh)

    rows = [("cpu", result.cpu), ("gpu", result.gpu), ("ram", result.ram)]
    if result.platform is not None:
        rows.append(("platform", result.platform))
    for name, c in rows:
        power = "-" if c.power_w is None else f"{c.power_w:.1f} W"
        table.add_row(name, wh(c.energy_kwh), wh(c.low_kwh), wh(c.high_kwh), power, c.method)
    table.add_row("total", wh(result.energy_kwh), wh(result.energy_low_kwh),
                  wh(result.energy_high_kwh), "", "cpu + gpu + ram", style="bold")  # fmt: skip
    if result.machine_energy_kwh is not None:
        table.add_row("machine", wh(result.machine_energy_kwh), wh(result.machine_energy_low_kwh),
                      wh(result.machine_energy_high_kwh), "", "+ platform")  # fmt: skip
    return table


def _print_json(result: RunResult, stream: Any) -> None:
    import json

    from ..records import to_dict

    stream.write(json.dumps(to_dict(result), indent=2) + "\n")
    stream.flush()


def run(
    command: list[str], options: dict[str, Any], as_json: bool = False, tracker: Any = None
) -> int:
    """Run ``command`` under a tracker (``tracker``, or one built from ``options``); return the
    child's exit code."""
    from rich.console import Console

    from ..tracker import Tracker

    if not command:
        raise ValueError(
            "nothing to run: give the command after --, e.g. wattprint run -- python x.py"
        )
    if tracker is None:
        tracker = Tracker(**options)  # bad settings: ValueError, before anything runs
    console = Console(stderr=True)
    tracker.start()
    try:
        child = subprocess.Popen(command)
    except OSError as exc:
        tracker.stop("failed")
        console.print(f"wattprint: cannot run {command[0]!r}: {exc.strerror or exc}")
        return 127
    received: list[int] = []

    def forward(signum: int, frame: Any) -> None:
        received.append(signum)
        try:
            child.send_signal(signum)
        except OSError:
            pass  # it already ended

    previous_handlers = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = _wait(child, tracker, console)
    finally:
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
    if received:
        status = "interrupted"
    else:
        status = "finished" if code == 0 else "failed"
    result = tracker.stop(status)
    if result is not None and as_json:
        _print_json(result, sys.stderr)  # stdout is the command's
    elif result is not None:
        console.print(_summary(result))
        if result.emissions_kg is not None:
            it = result.intensity
            # The file the rows really went to: another tool's emissions.csv is stepped around.
            where = f"rows in {_shown_path(tracker.csv_path)}" if tracker.csv_path else (
                "no rows saved")  # fmt: skip
            console.print(f"CO2eq {mass_text(result.emissions_kg)} at {it.value:.4g} g/kWh "
                          f"({it.zone}, {it.kind}); {where}")  # fmt: skip
    return code


def _shown_path(path: Any) -> str:
    """A path as short as it reads unambiguously: relative to here when under here."""
    import os

    relative = os.path.relpath(path)
    return f"./{relative}" if not relative.startswith("..") else str(path)


class _LiveView:
    """The live line, on a terminal only: ``refresh()`` once a second while the run goes on."""

    def __init__(self, console: Any, tracker: Any) -> None:
        self._console, self._tracker = console, tracker
        self._live: Any = None
        self._previous: RunResult | None = None

    def __enter__(self) -> _LiveView:
        if self._console.is_terminal:
            from rich.live import Live

            self._live = Live("", console=self._console, refresh_per_second=4, transient=True)
            self._live.start()
        return self

    def refresh(self) -> None:
        if self._live is not None:
            current = self._tracker.peek()
            self._live.update(_status_line(current, self._previous))
            self._previous = current

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.stop()


def _wait(child: subprocess.Popen, tracker: Any, console: Any) -> int:
    with _LiveView(console, tracker) as view:
        while True:
            try:
                code = child.wait(timeout=REFRESH_S)
                break
            except subprocess.TimeoutExpired:
                view.refresh()
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention


def monitor(duration_s: float | None, options: dict[str, Any], as_json: bool = False) -> int:
    """Machine-wide monitoring until Ctrl-C, SIGTERM or ``duration_s``; records as they come."""
    from rich.console import Console

    from ..tracker import Tracker

    tracker = Tracker(**options)
    console = Console(stderr=True)
    stop: list[int] = []

    def request_stop(signum: int, frame: Any) -> None:
        stop.append(signum)

    previous_handlers = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    tracker.start()
    started = time.monotonic()
    try:
        with _LiveView(console, tracker) as view:
            while not stop:
                left = None if duration_s is None else duration_s - (time.monotonic() - started)
                if left is not None and left <= 0:
                    break
                time.sleep(REFRESH_S if left is None else min(REFRESH_S, left))
                view.refresh()
    finally:
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
    result = tracker.stop("interrupted" if stop else "finished")
    if result is not None and as_json:
        _print_json(result, sys.stdout)
    elif result is not None:
        console.print(_summary(result))
    return 0
