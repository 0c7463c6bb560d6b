"""The live line of ``run``, ``wait`` and ``monitor``, and the relay that keeps it apart from the
command's output.

A status line and a command's output cannot share a terminal unless one party knows where the
other writes. So when wattprint's stderr is a terminal, the command's stdout and stderr (those
that go to that terminal) go to a pseudo-terminal of wattprint's instead, which copies every
byte to the real terminal: the command still sees a terminal (colours, line buffering, its
size), its stdin and Ctrl-C are the real terminal's, and wattprint erases its line before each
piece of the command's output and draws it again only when that output ends a line. A line the
command has not finished (a prompt, a progress bar) is never touched, nor a full-screen program
(the alternate screen), so what the command prints reads exactly as without wattprint.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any

try:  # POSIX terminals; elsewhere there is no live line and the output goes straight out
    import fcntl
    import termios
except ImportError:  # pragma: no cover -- Windows
    fcntl = termios = None  # type: ignore[assignment]

ERASE = b"\r\x1b[2K"
DIM, PLAIN = b"\x1b[2m", b"\x1b[0m"
#: Switching to and from the alternate screen (full-screen programs: vim, less, htop).
ALT_ON = (b"\x1b[?1049h", b"\x1b[?1047h", b"\x1b[?47h")
ALT_OFF = (b"\x1b[?1049l", b"\x1b[?1047l", b"\x1b[?47l")
#: After the command ends, how long its output may still be on its way through the relay.
DRAIN_S = 0.05


def terminal_fd() -> int | None:
    """wattprint's stderr if it is a terminal: the live line goes there; else None (no line)."""
    if termios is None:
        return None
    try:
        return 2 if os.isatty(2) else None
    except OSError:
        return None


def _same_terminal(fd: int, other: int) -> bool:
    try:
        return os.isatty(fd) and os.fstat(fd).st_rdev == os.fstat(other).st_rdev
    except OSError:
        return False


def _columns(fd: int) -> int:
    try:
        return os.get_terminal_size(fd).columns
    except OSError:
        return 80


class LiveLine:
    """One status line at the bottom of a terminal, shown only where nothing else is."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.RLock()  # wattprint's warnings come from the sampling thread
        self.text = ""
        self.shown = False
        self.at_line_start = True  # the command's output last ended a line
        self.full_screen = False

    def _write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):  # a closed terminal costs the line, not the run
            os.write(self.fd, data)

    def show(self, text: str) -> None:
        with self.lock:
            self.text = text
            self._draw()

    def _draw(self) -> None:
        if not self.text or not self.at_line_start or self.full_screen:
            return
        width = max(_columns(self.fd) - 1, 10)  # never the last column: it would wrap
        self._write(ERASE + DIM + self.text[:width].encode(errors="replace") + PLAIN)
        self.shown = True

    def hide(self) -> None:
        with self.lock:
            if self.shown:
                self._write(ERASE)
                self.shown = False

    def output(self, data: bytes) -> None:
        """The command's output: the line goes, the output is copied, the line comes back."""
        with self.lock:
            self.hide()
            self._write(data)
            if b"\x1b[?" in data:
                for on, off in zip(ALT_ON, ALT_OFF, strict=True):
                    if on in data or off in data:
                        self.full_screen = data.rfind(on) > data.rfind(off)
            self.at_line_start = data.endswith(b"\n")
            self._draw()

    def message(self, text: str) -> None:
        """wattprint's own text (a warning during the run): on a line of its own, above."""
        with self.lock:
            self.hide()
            if not self.at_line_start:
                self._write(b"\n")
            self._write(text.encode(errors="replace"))
            self.at_line_start = text.endswith("\n")
            self._draw()

    def close(self) -> None:
        """Leave the terminal as the command left it, on a fresh line for what follows."""
        with self.lock:
            self.hide()
            if not self.at_line_start:
                self._write(b"\n")
                self.at_line_start = True


class _Above:
    """A stream for the log handler while the line is up: each message goes above the line."""

    def __init__(self, line: LiveLine) -> None:
        self.line = line

    def write(self, text: str) -> int:
        self.line.message(text)
        return len(text)

    def flush(self) -> None:
        return None


def logs_above(line: LiveLine) -> Callable[[], None]:
    """Send wattprint's log messages on stderr through ``line``; returns what undoes it."""
    swapped = []
    for handler in logging.getLogger("wattprint").handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr:
            swapped.append((handler, handler.setStream(_Above(line))))  # type: ignore[arg-type]

    def restore() -> None:
        for handler, stream in swapped:
            handler.setStream(stream)

    return restore


class Relay:
    """The pseudo-terminal that stands in for the terminal as the command's stdout/stderr."""

    def __init__(self, line: LiveLine) -> None:
        self.line = line
        self.master, self.slave = os.openpty()
        self._copy_settings()
        self._previous_winch: Any = None
        with contextlib.suppress(ValueError):  # not the main thread: the size stays as it was
            self._previous_winch = signal.signal(signal.SIGWINCH, self._resized)
        # The command's stdout only when it is the same terminal (else a pipe or a file: its own)
        self.streams = {"stderr": self.slave}
        if _same_terminal(1, line.fd):
            self.streams["stdout"] = self.slave

    def _copy_settings(self) -> None:
        try:
            attrs = termios.tcgetattr(self.line.fd)
            attrs[1] &= ~termios.OPOST  # bytes pass unchanged; the real terminal maps \n itself
            termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
        except termios.error:
            pass
        self._resized()

    def _resized(self, *_: Any) -> None:
        with contextlib.suppress(OSError):
            size = fcntl.ioctl(self.line.fd, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
            fcntl.ioctl(self.slave, termios.TIOCSWINSZ, size)

    def started(self) -> None:
        """The command has its copy of the pseudo-terminal: ours would keep it open forever."""
        if self.slave >= 0:
            os.close(self.slave)
            self.slave = -1

    def pump(self, timeout: float, wake: int | None = None) -> int:
        """Copy what the command writes within ``timeout`` s (or until ``wake``, a descriptor,
        is readable): the bytes copied, 0 if none came, -1 once nothing more can come."""
        watched = [self.master] if wake is None else [self.master, wake]
        ready, _, _ = select.select(watched, [], [], timeout)
        if self.master not in ready:
            return 0
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every writer has closed it
            return -1
        if not data:
            return -1
        self.line.output(data)
        return len(data)

    def drain(self) -> None:
        """What the command wrote before it ended (a process it left behind may keep writing:
        that is cut off once it pauses)."""
        while self.pump(DRAIN_S) > 0:
            pass

    def close(self) -> None:
        self.started()
        with contextlib.suppress(OSError):
            os.close(self.master)
        if self._previous_winch is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGWINCH, self._previous_winch)
            self._previous_winch = None
