"""The HTTP retry rules every client follows (wattprint.retry): which answers are tried again,
how long Retry-After asks to wait, and the backoff otherwise."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from wattprint.retry import backoff_delay, retry_after_s, retry_later
from wattprint.sinks import spool

NOW = datetime(2024, 5, 1, 12, 10, tzinfo=timezone.utc).timestamp()


def test_retry_after_reads_delay_seconds_and_http_dates():
    assert retry_after_s("7") == 7.0
    assert retry_after_s(" 3 ", NOW) == 3.0
    assert retry_after_s("Wed, 01 May 2024 12:10:07 GMT", NOW) == 7.0
    assert retry_after_s("Wed, 01 May 2024 12:00:00 GMT", NOW) == 0.0  # in the past: now
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after_s(when) <= 30  # the clock's now by default


def test_retry_after_is_capped_where_the_caller_says():
    assert retry_after_s("99999", cap=spool.RETRY_AFTER_MAX_S) == spool.RETRY_AFTER_MAX_S
    assert retry_after_s("99999") == 99999.0
    assert retry_after_s("9" * 400) is None  # not a finite wait


def test_retry_after_that_is_not_rfc_9110_is_ignored():
    # delay-seconds is digits only: a sign or a fraction makes it something else.
    for bad in (None, "", "  ", "soon", "-5", "1.5", "2.5"):
        assert retry_after_s(bad, NOW) is None, bad


def test_answers_tried_again_are_no_answer_408_429_and_5xx():
    assert [
        s for s in (0, 200, 301, 400, 401, 403, 404, 408, 422, 429, 500, 503, 599) if retry_later(s)
    ] == [0, 408, 429, 500, 503, 599]
    assert spool.judge(408) == "later" and spool.judge(404) == "rejected"


def test_backoff_doubles_up_to_its_cap():
    assert [backoff_delay(n, 0.5) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert [backoff_delay(n, 1.0, cap=5.0) for n in (1, 3, 4, 10)] == [1.0, 4.0, 5.0, 5.0]
    assert backoff_delay(60, 1.0) == 2.0**59  # no cap: the caller's budget bounds it
