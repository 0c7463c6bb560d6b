"""When an HTTP request is tried again, and after how long: one set of rules for every client
wattprint has (the webhook and server sinks' spool, the live intensity providers, ``push``).

* Tried again later: no answer at all (refused, timed out, dropped), 408, 429 and 5xx. Any
  other answer says what is wrong with the request, which waiting does not change.
* The wait: what the answer's ``Retry-After`` asks for (RFC 9110: delay-seconds or an HTTP
  date), else exponential backoff (``base``, twice that, four times...), each up to a cap.

Each client keeps its own loop (a sender thread that retries until delivered, a request with a
time budget, a command that gives up after a few tries); the rules are these.
"""

from __future__ import annotations

import math
import time


def retry_later(status: int) -> bool:
    """Whether an answer with this HTTP status (0: none came) may succeed if sent again later."""
    return status == 0 or status in (408, 429) or status >= 500


def backoff_delay(attempt: int, base: float, cap: float = math.inf) -> float:
    """Seconds to wait after the ``attempt``-th failure in a row (1, 2...): ``base`` doubled
    each time, at most ``cap``."""
    return min(cap, base * 2 ** (attempt - 1))


def retry_after_s(
    value: str | None, now: float | None = None, cap: float = math.inf
) -> float | None:
    """The wait a ``Retry-After`` header asks for, in seconds from ``now`` (seconds since the
    epoch; the clock's by default), at most ``cap``. None when there is none, or it is neither
    delay-seconds (digits only) nor an HTTP date; a date in the past is 0."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        from datetime import timezone
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(text)
            if when.tzinfo is None:  # "-0000": an HTTP date is GMT
                when = when.replace(tzinfo=timezone.utc)
            seconds = when.timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError, IndexError, OverflowError, OSError):
            return None
    seconds = min(max(0.0, seconds), cap)
    return seconds if math.isfinite(seconds) else None
