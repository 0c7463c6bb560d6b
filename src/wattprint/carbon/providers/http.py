"""What the live providers share: a small JSON-over-HTTP transport, caches and time helpers.

Standard library only (``urllib.request``, ``json``): the core stays light. The transport

* sends ``User-Agent: wattprint/<version>`` and ``Accept: application/json``;
* retries 408, 429, 5xx, timeouts and dropped connections with exponential backoff (0.5 s, 1 s,
  2 s by default), honouring ``Retry-After`` (the rules of ``wattprint.retry``), and never lets
  one call take more than ``max_total_s``;
* never retries other 4xx answers (a refused token or an unknown zone will not get better);
* turns every failure into :class:`ProviderError` with what failed and what to do.

:class:`LiveClient` gives each provider ``latest()`` with a per-zone cache (five minutes by
default), ``history()`` with a cache by (zone, hour) and ``forecast()`` cached as long as a
latest value, so repeated calls do not hit the network.
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from ..._version import __version__
from ...retry import backoff_delay, retry_after_s, retry_later
from . import LiveIntensity, ProviderError

USER_AGENT = f"wattprint/{__version__}"
HOUR = timedelta(hours=1)
# An hour that ended less than this long ago may still be revised (an estimate replaced by a
# measurement, a GB forecast by its actual), so it is cached only as long as a latest value.
SETTLE_S = 2 * 3600.0

Clock = Callable[[], float]
Sleep = Callable[[float], None]

_MISSING = object()
_OFFLINE = "live intensity is opt-in; without it wattprint uses its offline tables"


def snippet(body: bytes | str, limit: int = 200) -> str:
    """The first ``limit`` characters of a response body, whitespace collapsed, for messages."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


# -- time ------------------------------------------------------------------------------------------


def parse_time(text: Any) -> datetime:
    """An ISO 8601 timestamp from a provider as an aware UTC datetime (naive ones are UTC).

    Accepts the forms the providers use: ``2019-05-21T00:00:00.000Z``, ``2018-01-20T12:00Z``,
    ``2022-07-15T00:00:00+00:00``. Raises ValueError for anything else.
    """
    if not isinstance(text, str):
        raise ValueError(f"not a timestamp: {text!r}")
    value = text.strip()
    if value[-1:] in ("Z", "z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def utc(moment: datetime, name: str = "datetime") -> datetime:
    """``moment`` in UTC; a naive datetime is refused, since its zone would be a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware (e.g. datetime.now(timezone.utc)), got {moment!r}"
        )
    return moment.astimezone(timezone.utc)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def ceil_hour(moment: datetime) -> datetime:
    floor = floor_hour(moment)
    return floor if floor == moment else floor + HOUR


def iso_z(moment: datetime) -> str:
    """``2024-05-01T12:00:00Z``: the form Electricity Maps and WattTime take in queries."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def chunks(start: datetime, end: datetime, size: timedelta) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into consecutive pieces no longer than ``size``."""
    out = []
    while start < end:
        stop = min(end, start + size)
        out.append((start, stop))
        start = stop
    return out


def number(value: Any) -> float | None:
    """A finite, non-negative JSON number as float; None for null. ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {value!r}")
    result = float(value)
    if not math.isfinite(result) or result < 0:
        raise ValueError(f"not a carbon intensity: {value!r}")
    return result


# -- transport -------------------------------------------------------------------------------------


class _Retryable(Exception):
    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


_LABELS = {429: "rate limited", 408: "request timed out"}  # other answers retried: 5xx

_DEFAULT_HINTS = {
    400: "the request was rejected: check the zone or region name and the dates",
    401: "the credentials were refused: check them",
    403: "the credentials have no access to this endpoint or zone: check your plan",
    404: "not found: check the zone or region name",
}


class Transport:
    """GET JSON from one provider, with retries and errors that say what to do.

    ``hints`` maps HTTP statuses to the provider's own advice (e.g. 401: which setting holds the
    token). ``requests`` counts the HTTP requests sent, for diagnostics and tests.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        timeout_s: float = 5.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        max_total_s: float = 15.0,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        hints: Mapping[int, str] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"{provider} base_url must start with http:// or https://: {base_url}")
        if not timeout_s > 0 or not max_total_s > 0 or retries < 0 or backoff_s < 0:
            raise ValueError(
                f"{provider}: timeout_s and max_total_s must be > 0, retries and backoff_s >= 0"
            )
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.max_total_s = float(max_total_s)
        self.clock = clock
        self.sleep = sleep
        self.hints = {**_DEFAULT_HINTS, **(hints or {})}
        self.requests = 0
        self._opener = urllib.request.build_opener()

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        url = f"{self.base_url}/{path.lstrip('/')}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        return f"{url}?{urllib.parse.urlencode(query)}" if query else url

    def get_json(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        what: str,
        hints: Mapping[int, str] | None = None,
    ) -> Any:
        """The decoded JSON body of ``GET base_url/path?params``; ProviderError on any failure.

        ``what`` names the request in messages ("latest intensity for FR").
        """
        url = self.url(path, params)
        sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        started = self.clock()
        attempt = 0
        while True:
            attempt += 1
            left = self.max_total_s - (self.clock() - started)
            try:
                body = self._once(url, sent, min(self.timeout_s, max(left, 0.001)), what, hints)
            except _Retryable as problem:
                spent = self.clock() - started
                if problem.retry_after is not None:
                    wait = problem.retry_after
                else:
                    wait = backoff_delay(attempt, self.backoff_s)
                if attempt > self.retries or spent + wait >= self.max_total_s:
                    raise self._gave_up(problem, attempt, spent, wait, url, what) from None
                self.sleep(wait)
                continue
            return self.decode(body, url, what)

    def _once(
        self,
        url: str,
        headers: Mapping[str, str],
        timeout_s: float,
        what: str,
        hints: Mapping[int, str] | None,
    ) -> bytes:
        request = urllib.request.Request(url, headers=dict(headers), method="GET")
        self.requests += 1
        try:
            with self._opener.open(request, timeout=timeout_s) as response:
                return response.read()
        except urllib.error.HTTPError as err:
            status = err.code
            body = _read_quietly(err)
            if retry_later(status):
                label = _LABELS.get(status, "server error")
                reason = f"{label} (HTTP {status})" + (f": {snippet(body)}" if body else "")
                after = retry_after_s(err.headers.get("Retry-After"), self.clock())
                raise _Retryable(reason, status, after) from None
            raise self._refused(status, body, url, what, hints) from None
        except TimeoutError:
            raise _Retryable(f"no answer within {timeout_s:g} s") from None
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):
                raise _Retryable(f"no answer within {timeout_s:g} s") from None
            host = urllib.parse.urlsplit(url).netloc
            raise ProviderError(
                f"{self.provider}: could not reach {host} for {what}: {err.reason}: check the "
                f"network connection or proxy settings ({_OFFLINE})",
                provider=self.provider,
                url=_public(url),
            ) from None
        except (http.client.HTTPException, OSError) as err:
            raise _Retryable(f"the connection dropped ({type(err).__name__}: {err})") from None

    def _refused(
        self, status: int, body: bytes, url: str, what: str, hints: Mapping[int, str] | None
    ) -> ProviderError:
        merged = {**self.hints, **(hints or {})}
        advice = merged.get(status, "the request was refused: check the zone and the settings")
        detail = f"; the response said: {snippet(body)}" if body and status != 401 else ""
        return ProviderError(
            f"{self.provider}: {what} failed (HTTP {status}): {advice}{detail}",
            provider=self.provider,
            status=status,
            url=_public(url),
        )

    def _gave_up(
        self, problem: _Retryable, attempts: int, spent: float, wait: float, url: str, what: str
    ) -> ProviderError:
        if problem.status == 429:
            advice = "the provider is rate limiting these requests: try again later or less often"
        elif problem.status is not None:
            advice = "the provider has a problem on its side: try again later"
        else:
            advice = "the provider is slow or unreachable: check the network, or raise timeout_s"
        if problem.retry_after is not None and attempts <= self.retries:
            asked = f"; it asked to wait {wait:g} s, past the {self.max_total_s:g} s budget"
        else:
            asked = ""
        return ProviderError(
            f"{self.provider}: {what} failed: {problem.reason}; gave up after {attempts} "
            f"attempt(s) in {spent:.1f} s{asked}: {advice} ({_OFFLINE})",
            provider=self.provider,
            status=problem.status,
            url=_public(url),
        )

    def decode(self, body: bytes, url: str, what: str) -> Any:
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise self.unexpected(what, body, "not JSON", url) from None

    def unexpected(
        self, what: str, payload: Any, detail: str, url: str | None = None
    ) -> ProviderError:
        """The error for a body that is not what the provider documents."""
        if not isinstance(payload, (bytes, str)):
            try:
                payload = json.dumps(payload)
            except (TypeError, ValueError):
                payload = repr(payload)
        return ProviderError(
            f"{self.provider}: unexpected response for {what} ({detail}); first 200 chars: "
            f"{snippet(payload)}: the API may have changed, please report it ({_OFFLINE})",
            provider=self.provider,
            url=_public(url) if url else None,
        )


def _read_quietly(err: urllib.error.HTTPError) -> bytes:
    try:
        return err.read() or b""
    except (OSError, http.client.HTTPException):
        return b""


def _public(url: str) -> str:
    """The URL without its query string (which holds nothing secret here, but can be long)."""
    return url.split("?", 1)[0]


# -- caches ----------------------------------------------------------------------------------------


class TTLCache:
    """A thread-safe dict whose entries expire; bounded so a long process cannot grow it forever."""

    def __init__(self, clock: Clock, max_entries: int = 4096) -> None:
        self._clock = clock
        self._max = max_entries
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return default
            if item[0] <= self._clock():
                del self._items[key]
                return default
            return item[1]

    def put(self, key: Hashable, value: Any, ttl_s: float) -> None:
        with self._lock:
            if key not in self._items and len(self._items) >= self._max:
                now = self._clock()
                for old in [k for k, (until, _) in self._items.items() if until <= now]:
                    del self._items[old]
                while len(self._items) >= self._max:
                    del self._items[next(iter(self._items))]
            self._items[key] = (self._clock() + ttl_s, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


# -- the shared client -----------------------------------------------------------------------------


class LiveClient:
    """``latest()`` and ``history()`` with caches, on top of a provider's two fetches.

    A provider implements ``_zone(text) -> key`` (normalise and check a zone),
    ``_fetch_latest(key) -> LiveIntensity`` and ``_fetch_range(key, start, end) -> points``, where
    start and end are whole UTC hours and the points may spill outside them.
    """

    name = "live provider"

    def __init__(
        self,
        transport: Transport,
        *,
        latest_ttl_s: float = 300.0,
        history_ttl_s: float = 24 * 3600.0,
        clock: Clock = time.time,
    ) -> None:
        self.transport = transport
        self.latest_ttl_s = float(latest_ttl_s)
        self.history_ttl_s = float(history_ttl_s)
        self._clock = clock
        self._latest = TTLCache(clock)
        self._hours = TTLCache(clock, max_entries=24 * 366)

    @property
    def requests(self) -> int:
        """How many HTTP requests this client has sent."""
        return self.transport.requests

    def clear_cache(self) -> None:
        self._latest.clear()
        self._hours.clear()

    def latest(self, zone: str) -> LiveIntensity:
        """The provider's most recent value for ``zone``, at most ``latest_ttl_s`` old in cache."""
        key = self._zone(zone)
        cached = self._latest.get(key, _MISSING)
        if cached is not _MISSING:
            return cached
        value = self._fetch_latest(key)
        self._latest.put(key, value, self.latest_ttl_s)
        return value

    def history(self, zone: str, start: datetime, end: datetime) -> list[LiveIntensity]:
        """The values whose periods overlap [start, end), oldest first.

        Hours already fetched come from the cache; the others are fetched in one range. Hours
        that ended more than two hours before the fetch are kept ``history_ttl_s``, more recent
        ones (which providers still revise) ``latest_ttl_s``.
        """
        key = self._zone(zone)
        start, end = utc(start, "start"), utc(end, "end")
        if end <= start:
            return []
        hours = []
        hour = floor_hour(start)
        while hour < end:
            hours.append(hour)
            hour += HOUR
        found: dict[datetime, tuple[LiveIntensity, ...]] = {}
        missing = []
        for hour in hours:
            cached = self._hours.get((key, hour), _MISSING)
            if cached is _MISSING:
                missing.append(hour)
            else:
                found[hour] = cached
        if missing:
            low, high = missing[0], missing[-1] + HOUR
            found.update(self._store(key, low, high, self._fetch_range(key, low, high)))
        points = [p for hour in hours for p in found.get(hour, ()) if _overlaps(p, start, end)]
        return sorted(points, key=lambda p: p.datetime)

    def _store(
        self, key: Hashable, low: datetime, high: datetime, points: Iterable[LiveIntensity]
    ) -> dict[datetime, tuple[LiveIntensity, ...]]:
        buckets: dict[datetime, dict[datetime, LiveIntensity]] = {}
        hour = low
        while hour < high:
            buckets[hour] = {}
            hour += HOUR
        for point in points:
            bucket = buckets.get(floor_hour(point.datetime))
            if bucket is not None:
                bucket[point.datetime] = point  # a repeated timestamp: the later answer wins
        now = self._clock()
        out = {}
        for hour, bucket in buckets.items():
            items = tuple(sorted(bucket.values(), key=lambda p: p.datetime))
            settled = (hour + HOUR).timestamp() <= now - SETTLE_S
            ttl = self.history_ttl_s if settled else self.latest_ttl_s
            self._hours.put((key, hour), items, ttl)
            out[hour] = items
        return out

    def forecast(self, zone: str) -> list[LiveIntensity]:
        """The provider's forecast for ``zone`` from now on, oldest first.

        Cached like a latest value (``latest_ttl_s``): a forecast is revised as often.
        """
        key = self._zone(zone)
        if not hasattr(self, "_forecasts"):
            self._forecasts = TTLCache(self._clock)
        cached = self._forecasts.get(key, _MISSING)
        if cached is not _MISSING:
            return list(cached)
        points = tuple(sorted(self._fetch_forecast(key), key=lambda p: p.datetime))
        self._forecasts.put(key, points, self.latest_ttl_s)
        return list(points)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), timezone.utc)

    # Provider hooks.
    def _zone(self, zone: str) -> Any:
        if not isinstance(zone, str) or not zone.strip():
            raise ProviderError(
                f"{self.name}: no zone given: pass a zone or region name",
                provider=self.name,
            )
        return zone.strip()

    def _fetch_latest(self, key: Any) -> LiveIntensity:
        raise NotImplementedError

    def _fetch_range(self, key: Any, start: datetime, end: datetime) -> list[LiveIntensity]:
        raise NotImplementedError

    def _fetch_forecast(self, key: Any) -> list[LiveIntensity]:
        raise NotImplementedError


def _overlaps(point: LiveIntensity, start: datetime, end: datetime) -> bool:
    if point.period_s:
        return point.datetime < end and point.datetime + timedelta(seconds=point.period_s) > start
    return start <= point.datetime < end
