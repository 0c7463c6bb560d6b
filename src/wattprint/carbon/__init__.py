"""Where and when code ran, and the carbon intensity of its electricity.

``intensity()`` and ``Intensity`` live in ``grid.py``: a module named ``intensity`` would be
hidden by the function of the same name; for the same reason ``forecast()`` and ``Forecast`` live
in ``forecasts.py``. The names below load on first use, so that a part of
the package needing only the country table does not pay for the rest.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Forecast": "forecasts",
    "forecast": "forecasts",
    "Intensity": "grid",
    "intensity": "grid",
    "Location": "location",
    "locate": "location",
}

__all__ = ["Forecast", "Intensity", "Location", "forecast", "intensity", "locate"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'wattprint.carbon' has no attribute {name!r}")
