"""``wattprint run -- CMD``: run a command and track it, with a live line and a summary.

The child gets the terminal's stdin; its output on the terminal passes through wattprint
(cli/live.py) so that the live line never mixes with it. wattprint's summary goes to stderr
so a pipe of the child's output stays clean, and as JSON to a file of its own with --json.
Ctrl-C and SIGTERM go to the child, and the run's row is written whatever happens, with a
status that says how it ended.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from .. import units
from ..records import RunResult
from ..units import energy_text, mass_text
from . import live

REFRESH_S = 1.0
#: Without a pidfd, how often to look whether the child has ended while copying its output.
POLL_S = 0.05


def _status_line(result: RunResult, previous: RunResult | None) -> str:
    """Elapsed, power per component over the last refresh, energy and CO2eq so far."""
    parts = [units.duration(result.duration_s)]
    dt = result.duration_s - (previous.duration_s if previous else 0.0)
    for name in ("cpu", "gpu", "ram"):
        now = result.components[name].energy_kwh
        before = previous.components[name].energy_kwh if previous else 0.0  # the first: mean
        if now is None or before is None or dt <= 0:
            continue
        watts = (now - before) * units.J_PER_KWH / dt
        if name != "gpu" or result.gpu.method != "none":
            parts.append(f"{name} {units.power(watts)}")
    parts.append(energy_text(result.energy_kwh))
    if result.emissions_kg is not None:
        parts.append(f"{mass_text(result.emissions_kg)} CO2eq")
    return "  ".join(parts)


def _summary(result: RunResult) -> Any:
    from rich.table import Table

    table = Table(
        title=f"wattprint: {result.status} after {units.duration(result.duration_s)}",
        title_justify="left",
    )
    for column in ("", "energy", "low", "high", "avg power", "method"):
        table.add_column(column, justify="left" if column in ("", "method") else "right")

    def wh(kwh: float | None) -> str:
        return "-" if kwh is None else energy_text(kwh)

    rows = [("cpu", result.cpu), ("gpu", result.gpu), ("ram", result.ram)]
    if result.platform is not None:
        rows.append(("platform", result.platform))
    for name, c in rows:
        power = "-" if c.power_w is None else units.power(c.power_w)
        table.add_row(name, wh(c.energy_kwh), wh(c.low_kwh), wh(c.high_kwh), power, c.method)
    table.add_row(
        "total",
        wh(result.energy_kwh),
        wh(result.energy_low_kwh),
        wh(result.energy_high_kwh),
        "",
        "cpu + gpu + ram",
        style="bold",
    )
    if result.machine_energy_kwh is not None:
        table.add_row(
            "machine",
            wh(result.machine_energy_kwh),
            wh(result.machine_energy_low_kwh),
            wh(result.machine_energy_high_kwh),
            "",
            "+ platform",
        )
    return table


def print_summary(console: Any, result: RunResult, csv_path: Path | None) -> None:
    """The end-of-run summary of ``run``, ``wait`` and ``monitor``: the table and the CO2eq, and
    the file the rows really went to (another tool's emissions.csv is stepped around)."""
    console.print(_summary(result))
    if result.emissions_kg is None:
        console.print("CO2eq not known: no carbon intensity for this run (see the notes above)")
        return
    it = result.intensity
    where = f"rows in {_shown_path(csv_path)}" if csv_path else "no rows saved"
    console.print(
        f"CO2eq {mass_text(result.emissions_kg)} [{mass_text(result.emissions_low_kg)}"
        f" - {mass_text(result.emissions_high_kg)}] at {units.intensity(it.value)} "
        f"({it.zone}, {it.kind}); {where}"
    )


def check_json_file(path: Path | None) -> None:
    """ValueError now, before the command runs, if the JSON summary could not be written."""
    if path is None:
        return
    if str(path).startswith("-"):  # `--json -- cmd`: the option took the next word as its file
        raise ValueError(
            f"--json needs the file to write the summary to, e.g. --json "
            f"summary.json (got {str(path)!r})"
        )
    if path.is_dir():
        raise ValueError(f"--json {path}: is a folder; name the file to write the summary to")
    if not path.absolute().parent.is_dir():
        raise ValueError(f"--json {path}: the folder {path.absolute().parent} does not exist")


def write_json(result: RunResult, path: Path) -> None:
    """The summary as JSON in a file of its own (or a descriptor: /dev/fd/N, /dev/stdout)."""
    import json

    from ..records import to_dict

    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(to_dict(result), indent=2) + "\n")


def run(
    command: list[str],
    options: dict[str, Any],
    json_file: Path | None = None,
    tracker: Any = None,
) -> int:
    """Run ``command`` under a tracker (``tracker``, or one built from ``options``); return the
    child's exit code. ``json_file``: where the summary goes as JSON as well."""
    from rich.console import Console

    from ..tracker import Tracker

    if not command:
        raise ValueError(
            "nothing to run: give the command after --, e.g. wattprint run -- python x.py"
        )
    check_json_file(json_file)
    if tracker is None:
        tracker = Tracker(**options)  # bad settings: ValueError, before anything runs
    console = Console(stderr=True)
    tracker.start()
    line, relay = _live_line(with_relay=True)
    restore_logs = live.logs_above(line) if line is not None else None
    try:
        try:
            child = subprocess.Popen(command, **(relay.streams if relay else {}))
        except OSError as exc:
            tracker.stop("failed")
            console.print(f"wattprint: cannot run {command[0]!r}: {exc.strerror or exc}")
            return 127
        finally:
            if relay is not None:
                relay.started()
        code, received = _supervise(child, tracker, line, relay)
    finally:
        if relay is not None:
            relay.close()
        if restore_logs is not None:
            restore_logs()
        if line is not None:
            line.close()
    if received:
        status = "interrupted"
    else:
        status = "finished" if code == 0 else "failed"
    result = tracker.stop(status)
    if result is not None:
        print_summary(console, result, tracker.csv_path)
        if json_file is not None:
            try:
                write_json(result, json_file)
            except OSError as exc:  # the row is written; the command's code still counts
                console.print(f"wattprint: could not write --json {json_file}: {exc}")
                return code or 1
    return code


def _live_line(with_relay: bool) -> tuple[live.LiveLine | None, live.Relay | None]:
    """The live line and its relay where stderr is a terminal; neither if it is not, or if no
    pseudo-terminal can be had (then the command's output goes straight to the terminal)."""
    fd = live.terminal_fd()
    if fd is None:
        return None, None
    line = live.LiveLine(fd)
    if not with_relay:
        return line, None
    try:
        return line, live.Relay(line)
    except OSError:
        return None, None


def _supervise(
    child: subprocess.Popen, tracker: Any, line: live.LiveLine | None, relay: live.Relay | None
) -> tuple[int, list[int]]:
    """Wait for the child, forwarding Ctrl-C and SIGTERM to it and copying its output."""
    received: list[int] = []

    def forward(signum: int, frame: Any) -> None:
        received.append(signum)
        try:
            child.send_signal(signum)
        except OSError:
            pass  # it already ended

    previous_handlers = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    view = _LiveView(line, tracker)
    ended = _exit_fd(child)  # readable once the child ends: no polling delay at its end
    copying = relay is not None
    try:
        while True:
            code = child.poll()
            if code is not None:
                break
            if copying and relay is not None:
                wait = view.due() if ended is not None else min(view.due(), POLL_S)
                copying = relay.pump(wait, ended) >= 0  # < 0: it closed its output, runs on
            else:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=view.due())
            view.tick()
        if copying and relay is not None:
            relay.drain()
    finally:
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
        if ended is not None:
            os.close(ended)
    code = 128 - code if code < 0 else code  # killed by a signal: the shell's convention
    return code, received


def _exit_fd(child: subprocess.Popen) -> int | None:
    """A descriptor that becomes readable when ``child`` ends (Linux 5.3+), else None."""
    try:
        return os.pidfd_open(child.pid)
    except (AttributeError, OSError):
        return None


def _shown_path(path: Any) -> str:
    """A path as short as it reads unambiguously: relative to here when under here."""
    import os

    relative = os.path.relpath(path)
    return f"./{relative}" if not relative.startswith("..") else str(path)


class _LiveView:
    """Refreshes the live line (if any) once every ``REFRESH_S``."""

    def __init__(self, line: live.LiveLine | None, tracker: Any) -> None:
        self._line, self._tracker = line, tracker
        self._previous: RunResult | None = None
        self._next = time.monotonic() + REFRESH_S

    def due(self) -> float:
        """Seconds until the next refresh, at most ``REFRESH_S``."""
        return min(max(self._next - time.monotonic(), 0.0), REFRESH_S)

    def tick(self) -> None:
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + REFRESH_S
        if self._line is not None:
            current = self._tracker.peek()
            self._line.show("wattprint " + _status_line(current, self._previous))
            self._previous = current


def monitor(duration_s: float | None, options: dict[str, Any], as_json: bool = False) -> int:
    """Machine-wide monitoring until Ctrl-C, SIGTERM or ``duration_s``; records as they come."""
    import json

    from rich.console import Console

    from ..records import to_dict
    from ..tracker import Tracker

    tracker = Tracker(**options)
    console = Console(stderr=True)
    stop: list[int] = []

    def request_stop(signum: int, frame: Any) -> None:
        stop.append(signum)

    previous_handlers = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    tracker.start()
    started = time.monotonic()
    line, _ = _live_line(with_relay=False)
    restore_logs = live.logs_above(line) if line is not None else None
    view = _LiveView(line, tracker)
    try:
        while not stop:
            left = None if duration_s is None else duration_s - (time.monotonic() - started)
            if left is not None and left <= 0:
                break
            time.sleep(view.due() if left is None else min(view.due(), left))
            view.tick()
    finally:
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
        if restore_logs is not None:
            restore_logs()
        if line is not None:
            line.close()
    result = tracker.stop("interrupted" if stop else "finished")
    if result is not None and as_json:
        print(json.dumps(to_dict(result), indent=2))
    elif result is not None:
        print_summary(console, result, tracker.csv_path)
    return 0
