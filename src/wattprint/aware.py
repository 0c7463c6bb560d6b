"""``@carbon_aware``: run a function at the cleanest time within a window, optionally tracked.

It lives beside the tracker rather than in the carbon layer, which knows nothing of trackers.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from .carbon.planning import parse_duration, plan, shift_info, wait_for


def carbon_aware(
    fn: Callable[..., Any] | None = None,
    *,
    duration: str | float | timedelta,
    within: str | float | timedelta | None = "24h",
    deadline: datetime | None = None,
    below: float | None = None,
    zone: str | None = None,
    country: str | None = None,
    provider: str | None = None,
    track: bool = False,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    **tracker_settings: Any,
) -> Any:
    """Run the decorated function at the cleanest time within ``within``: each call plans,
    waits (or until the intensity is below ``below``), then calls it. With ``track=True`` the
    call runs under a Tracker (``tracker_settings``) whose record says it was shifted.
    """
    parse_duration(duration)  # a bad duration fails at decoration, not at the first call

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            asked = datetime.fromtimestamp(clock(), timezone.utc)
            chosen = plan(
                duration,
                within=within,
                deadline=deadline,
                zone=zone,
                country=country,
                provider=provider,
                now=asked,
            )
            outcome = wait_for(chosen, below=below, clock=clock, sleep=sleep)
            if not track:
                return func(*args, **kwargs)
            from .tracker import Tracker

            settings = {"zone": zone, "country": country, **tracker_settings}
            tracker = Tracker(**settings)
            tracker.shift = shift_info(chosen, outcome)
            with tracker:
                return func(*args, **kwargs)

        wrapper.carbon_aware = True  # type: ignore[attr-defined]
        return wrapper

    return decorate(fn) if fn is not None else decorate
