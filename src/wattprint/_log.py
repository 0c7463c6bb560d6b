"""One logger, and warnings said once per process.

Users see a problem once, with the fix, rather than once per interval. The key names the problem
("rapl-permission", "cpu-unknown:<model>"), so two different problems are both said.
"""

from __future__ import annotations

import logging
import threading

logger = logging.getLogger("wattprint")

_said: set[str] = set()
_said_lock = threading.Lock()


def setup(level: str) -> None:
    """Give the wattprint logger a stderr handler unless the application configured one."""
    logger.setLevel(level.upper())
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[wattprint %(levelname)s] %(message)s"))
        logger.addHandler(handler)


def warn_once(key: str, message: str) -> bool:
    """Log ``message`` as a warning unless ``key`` was already said. True if it was said now."""
    with _said_lock:
        if key in _said:
            return False
        _said.add(key)
    logger.warning(message)
    return True


def forget_warnings() -> None:
    """For tests: make every warning sayable again."""
    with _said_lock:
        _said.clear()
