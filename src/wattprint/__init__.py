"""wattprint: measure the energy your code uses and the CO2 it emits, with honest bounds.

    from wattprint import Tracker, track

    with Tracker(project_name="bert-finetune", country="FRA") as tracker:
        train()
    print(tracker.result)

Importing this package loads no hardware library and starts nothing; the names below are loaded
on first use (PEP 562), so ``import wattprint`` costs next to nothing in a program that never
tracks, and meters are only opened when a tracker starts.
"""

from __future__ import annotations

import importlib

from ._version import __version__

TYPE_CHECKING = False  # typing itself costs milliseconds to import
if TYPE_CHECKING:
    from typing import Any

    from .aware import carbon_aware
    from .carbon.planning import plan
    from .meters.detect import Detection
    from .records import ComponentEnergy, RunResult, TaskResult
    from .tracker import Tracker, track

_LAZY = {
    "Tracker": "tracker",
    "track": "tracker",
    "RunResult": "records",
    "TaskResult": "records",
    "ComponentEnergy": "records",
    "plan": "carbon.planning",
    "carbon_aware": "aware",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'wattprint' has no attribute {name!r}")


def detect(gpu_ids: Any = None, tracking_mode: str = "machine") -> Detection:
    """Which meter measures each component here, what else was tried, and what to do about it."""
    from . import _log
    from .config import load_settings
    from .meters.base import ProbeContext
    from .meters.detect import probe_all
    from .meters.user import user_power

    settings = load_settings({"gpu_ids": gpu_ids, "tracking_mode": tracking_mode})
    ctx = ProbeContext(
        gpu_ids=settings.gpu_ids,
        tracking_mode=settings.tracking_mode,
        warn=_log.warn_once,
        cpu_model=settings.cpu_model,
        power=user_power(settings),
    )
    found = probe_all(ctx)
    found.close()  # a report, not a measurement: release NVML and friends
    return found


__all__ = [
    "ComponentEnergy",
    "RunResult",
    "TaskResult",
    "Tracker",
    "__version__",
    "carbon_aware",
    "detect",
    "plan",
    "track",
]
