"""``sync_gpu``: wait for GPU work in flight at a task's or a run's edge, as Zeus does.

GPU work is asynchronous: a Python line returns when its kernels are queued, not run. An edge
read without waiting charges the kernels still running to whatever comes next. Only
frameworks the program has already imported are used (``sys.modules``): wattprint never
imports torch or jax itself, and never initialises CUDA (``torch.cuda.is_initialized()``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any


def _torch() -> Callable[[], None] | None:
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None) if torch is not None else None
    if cuda is None or not cuda.is_initialized():  # initialised implies available
        return None

    def wait() -> None:
        for index in range(cuda.device_count()):  # every device this process launched on
            cuda.synchronize(index)

    return wait


def _jax() -> Callable[[], None] | None:
    jax = sys.modules.get("jax")
    if jax is None:
        return None
    try:
        devices = [d for d in jax.local_devices() if d.platform != "cpu"]
    except Exception:
        return None
    if not devices:
        return None

    def wait() -> None:
        # Streams run in order: a tiny computation put behind the queued work is ready once
        # that work is done.
        for device in devices:
            (jax.device_put(0.0, device) + 0).block_until_ready()

    return wait


def waiter(setting: str) -> tuple[str, Callable[[], None] | None]:
    """(what the record says, the wait) for ``setting`` as the program stands now."""
    if setting == "off":
        return "off", None
    for name, find in (("torch", _torch), ("jax", _jax)):
        wait = find()
        if wait is not None:
            return name, wait
    return "none", None  # nothing to wait for: no framework holds a GPU in this process


def synchronize(setting: str, fn: Callable[[], Any] | None = None) -> str | None:
    """Wait for the GPU; the name of what waited, or None when nothing did."""
    if fn is not None:
        fn()
        return "callable"
    name, wait = waiter(setting)
    if wait is None:
        return None
    wait()
    return name


def label(setting: str) -> str:
    return waiter(setting)[0]
