"""`wattprint run` and `monitor` on a real pseudo-terminal: the live line never mixes with the
command's output, and what is left on the screen is the command's output and the summary."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent / "wattprint"
COMMAND = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "wattprint"]
CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


def screen(raw: str) -> list[str]:
    """The lines a terminal shows after ``raw``: carriage returns, erase-line and newlines
    applied, colours dropped. Enough of a terminal for line-oriented output."""
    lines, row, col = [""], 0, 0
    i = 0
    while i < len(raw):
        m = CSI.match(raw, i)
        if m:
            if m.group(2) == "K":  # erase in line: 2 = all of it, 0/none = to its end
                lines[row] = "" if m.group(1) == "2" else lines[row][:col]
            i = m.end()
            continue
        ch = raw[i]
        i += 1
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append("")
        elif ch >= " ":
            text = lines[row].ljust(col)
            lines[row] = text[:col] + ch + text[col + 1 :]
            col += 1
    return [line.rstrip() for line in lines]


def on_terminal(
    args: list[str],
    columns: int = 120,
    timeout: float = 90,
    when_seen: tuple[bytes, Callable[[], None]] | None = None,
) -> tuple[int, str]:
    """Run wattprint with stdin, stdout and stderr on one pseudo-terminal; its exit code and
    every character it wrote there. ``when_seen``: (text, action): do that once text shows."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "TERM": "xterm"}
    proc = subprocess.Popen([*COMMAND, *args], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every writer is gone
                    break
                if not chunk:
                    break
                seen += chunk
                if when_seen is not None and when_seen[0] in seen:
                    when_seen[1]()
                    when_seen = None
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    return code, seen.decode(errors="replace")


CHILD = """
import sys, time
print("epoch 1 loss 0.5", flush=True)
time.sleep(1.6)
print("epoch 2 loss 0.4", flush=True)
print("a warning of the child's", file=sys.stderr, flush=True)
time.sleep(1.6)
sys.stdout.write("done")
sys.stdout.flush()
time.sleep(1.3)
"""


def test_the_live_line_never_mixes_with_the_commands_output(machine, tmp_path):
    code, raw = on_terminal(
        [
            "run",
            "--country",
            "FRA",
            "--output-dir",
            str(tmp_path),
            "--",
            sys.executable,
            "-c",
            CHILD,
        ]
    )
    assert code == 0, raw
    # What stays on the screen is exactly the command's output, then the summary...
    lines = screen(raw)
    end = next(i for i, line in enumerate(lines) if line.startswith("wattprint: finished"))
    assert lines[:end] == [
        "epoch 1 loss 0.5",
        "epoch 2 loss 0.4",
        "a warning of the child's",
        "done",
    ], raw
    assert any(line.startswith("CO2eq ") for line in lines[end:])
    # ...though the live line was there while the command ran, between its lines.
    assert "CO2eq" in raw.split("wattprint: finished")[0], raw


def test_wattprints_own_warnings_during_the_run_go_on_lines_of_their_own(machine, tmp_path):
    child = (
        "import time\nprint('epoch 1', flush=True)\ntime.sleep(2.5)\n"
        "print('epoch 2', flush=True)\ntime.sleep(1.2)\n"
    )

    # The CPU's counters turn to garbage in the middle of the run: the sampler says so, once.
    def break_the_counters() -> None:
        machine.write("/proc/stat", "cpu a b c d e f g h\n")

    code, raw = on_terminal(
        [
            "run",
            "--country",
            "FRA",
            "--interval",
            "0.1",
            "--output-dir",
            str(tmp_path),
            "--",
            sys.executable,
            "-c",
            child,
        ],
        when_seen=(b"epoch 1", break_the_counters),
    )
    assert code == 0, raw
    lines = screen(raw)
    end = next(i for i, line in enumerate(lines) if line.startswith("wattprint: finished"))
    ours = [line for line in lines[:end] if line.startswith("[wattprint WARNING] ")]
    assert any(line.startswith("[wattprint WARNING] cpu meter: ") for line in ours), raw
    assert [line for line in lines[:end] if line not in ours] == ["epoch 1", "epoch 2"], raw


def test_the_command_still_sees_a_terminal_of_the_same_size(machine, tmp_path):
    child = (
        "import os, sys; print(sys.stdout.isatty(), sys.stderr.isatty(), sys.stdin.isatty(),"
        " os.get_terminal_size(1).columns)"
    )
    code, raw = on_terminal(
        [
            "run",
            "--country",
            "FRA",
            "--output-dir",
            str(tmp_path),
            "--",
            sys.executable,
            "-c",
            child,
        ],
        columns=97,
    )
    assert code == 0, raw
    assert screen(raw)[0] == "True True True 97"


def test_monitor_clears_its_line_and_ends_with_the_co2eq(machine, tmp_path):
    code, raw = on_terminal(
        ["monitor", "--duration", "2.5", "--country", "FRA", "--output-dir", str(tmp_path)]
    )
    assert code == 0, raw
    assert "CO2eq" in raw.split("wattprint: finished")[0]  # the live line was shown
    lines = [line for line in screen(raw) if line]
    assert lines[0].startswith("wattprint: finished"), lines  # no status line left behind
    assert any(line.startswith("CO2eq ") and "g/kWh" in line for line in lines)
