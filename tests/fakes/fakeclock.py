"""A clock that moves only when the test moves it: ``clock.t += 10`` is ten seconds later.

The meters and the tracker take a ``clock`` callable (``time.monotonic`` or ``time.time``);
this is the one stand-in for both. (``fakeproviders.FakeClock`` also sleeps, for the
providers' retries.)
"""

from __future__ import annotations


class Clock:
    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t
