"""A local spool of envelopes and the thread that delivers them: shared by the webhook and the
server sink, so that both keep the same promises (see ``wattprint.sinks.webhook``).

A spool is a folder of JSON files, one envelope each, written to a temporary name and renamed
(a reader never sees half a file), named ``<time_ns>-<run_id>-<seq>.json`` so that names sort
in the order they were written. A ``Sender`` is a daemon thread, one per spool folder and URL
per process, shared by the runs that use them; it sends the files oldest first and decides, by
the rules below, what becomes of each:

* delivered (2xx, or the server's per-item "created"/"duplicate"): the file is deleted;
* 408, 429, 5xx, no connection, a timeout: the file stays and the sender tries again later,
  with exponential backoff up to ``BACKOFF_MAX_S``, or later still if the answer's
  ``Retry-After`` says so (seconds or an HTTP date; at most ``RETRY_AFTER_MAX_S``): the rules
  of ``wattprint.retry``, which every HTTP client here follows;
* 401, 403 (credentials) and 3xx (the URL moved; redirects are not followed, since a POST turned
  into a GET would look delivered): the file stays, the problem is said once, and it is retried
  later, so that fixing the token or the URL delivers everything that waited;
* any other 4xx, or the server's per-item "rejected": the receiver refuses this envelope for
  good; the file moves to ``rejected/`` beside a ``.response`` file saying why, and the problem
  is said once. Nothing is dropped silently; move the files back to send them again.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..retry import backoff_delay, retry_after_s, retry_later

try:  # POSIX: processes sharing an output_dir take turns at sending
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

REJECTED = "rejected"
TIMEOUT_S = 5.0  # one POST
CLOSE_WAIT_S = 2.0  # the most close() waits for the run's envelopes
BACKOFF_S = 1.0
BACKOFF_MAX_S = 60.0
RETRY_AFTER_MAX_S = 600.0  # a Retry-After beyond this is read as this
KEEP = (401, 403)  # answers that say the request, not the envelope, is wrong: retried later

_senders: dict[tuple[str, str, str], Sender] = {}
_senders_lock = threading.Lock()


def _warn(key: str, message: str) -> None:
    from .._log import warn_once

    warn_once(key, message)


def put(folder: Path, name: str, body: dict[str, Any] | list[dict[str, Any]]) -> Path:
    """Write an envelope (or a list of them) into the spool, atomically; ``name`` is
    ``<run_id>-<seq>``."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    name = f"{time.time_ns():020d}-{name}.json"
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(data.encode("utf-8"))
    path = folder / name
    os.replace(tmp, path)
    return path


@dataclass
class Answer:
    """What one POST got: a status (0: no answer at all), the start of the body, and why."""

    status: int
    body: bytes = b""
    error: str = ""
    retry_after: float | None = None


def judge(status: int) -> str:
    """ "sent", "later" (back off), "keep" (retried, said once) or "rejected", by the rules."""
    if 200 <= status < 300:
        return "sent"
    if retry_later(status):
        return "later"
    if status in KEEP or 300 <= status < 400:
        return "keep"
    return "rejected"


def _no_redirect() -> Any:
    """A urllib handler that hands 3xx back as errors instead of following them."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return NoRedirect()


def post(
    url: str,
    token: str | None,
    data: bytes,
    headers: dict[str, str] | None = None,
    opener: Any = None,
) -> Answer:
    """POST JSON ``data``; the answer, whatever it is (status 0: none came). Redirects are not
    followed."""
    import urllib.error
    import urllib.request

    from .._version import __version__

    opener = opener or urllib.request.build_opener(_no_redirect())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"wattprint/{__version__}",
        **(headers or {}),
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=TIMEOUT_S) as response:
            return Answer(response.status, response.read())
    except urllib.error.HTTPError as exc:
        try:
            body = exc.read(2048)
        except Exception:
            body = b""
        header = exc.headers.get("Retry-After") if exc.headers else None
        retry = retry_after_s(header, cap=RETRY_AFTER_MAX_S)
        return Answer(exc.code, body, f"HTTP {exc.code}", retry)
    except (OSError, ValueError) as exc:  # refused, timeout, DNS, TLS, bad URL
        return Answer(0, b"", f"{type(exc).__name__}: {exc}")


class Sender:
    """Sends the files of one spool folder to one URL, from a daemon thread. Subclasses say how
    a pass sends the files (``_send_files``)."""

    setting = "webhook"  # the settings' prefix, for messages: webhook_url, webhook_token

    def __init__(self, folder: Path, url: str, token: str | None) -> None:
        import urllib.request

        self.folder = folder
        self.url = url
        self.token = token
        self.opener = urllib.request.build_opener(_no_redirect())
        self.cond = threading.Condition()
        self.users = 0
        self.kicked = False  # envelopes were written since the last pass
        self.forced = False  # try now, even while backing off
        self.passes = 0  # send passes finished
        self.last_ok = True  # whether the last pass emptied the spool
        self.retry_after: float | None = None
        self.error = ""  # why the last send failed
        self.alive = True
        self.thread = threading.Thread(
            target=self._loop, name=f"wattprint-{self.setting}", daemon=True
        )

    # -- the runs' side ---------------------------------------------------------------------

    def kick(self, now: bool = False) -> None:
        """New envelopes: send them, right away if ``now``, else after any backoff under way."""
        with self.cond:
            self.kicked = True
            self.forced = self.forced or now
            self.cond.notify_all()

    def pending(self, run_id: str | None = None) -> list[Path]:
        pattern = f"*-{run_id}-*.json" if run_id else "*.json"
        return sorted(self.folder.glob(pattern))

    def release(self, run_id: str, timeout: float) -> int:
        """A run is done with the sender: wait (bounded) for its envelopes; how many still wait."""
        deadline = time.monotonic() + timeout
        with self.cond:
            start = self.passes
            self.kicked = self.forced = True
            self.cond.notify_all()
            while True:
                left = len(self.pending(run_id))
                if not left or (self.passes > start and not self.last_ok):
                    break
                wait = deadline - time.monotonic()
                if wait <= 0:
                    break
                self.cond.wait(wait)
            self.users -= 1
            self.cond.notify_all()
        return left

    # -- the sending thread -----------------------------------------------------------------

    def _loop(self) -> None:
        failures = 0
        while True:
            try:
                ok = self._drain()
            except Exception as exc:  # a bug here must not kill the sender silently
                _warn(
                    f"{self.setting}-sender:{type(exc).__name__}",
                    f"the {self.setting} sender failed ({type(exc).__name__}: {exc}); retrying",
                )
                ok = False
            with self.cond:
                self.passes += 1
                self.last_ok = ok
                self.cond.notify_all()
                if ok:
                    failures = 0
                    while not (self.kicked or self.forced) and self.users > 0:
                        self.cond.wait()
                else:  # back off; a run that ends or starts cuts it short, a write does not,
                    # and nothing cuts short the wait the receiver asked for (Retry-After)
                    failures += 1
                    now = time.monotonic()
                    until = now + backoff_delay(failures, BACKOFF_S, BACKOFF_MAX_S)
                    asked = now + (self.retry_after or 0.0)
                    until = max(until, asked)
                    while (left := (asked if self.forced else until) - time.monotonic()) > 0:
                        self.cond.wait(left)
                self.kicked = self.forced = False
                idle = ok and self.users == 0
            if idle and self._retire():
                return

    def _retire(self) -> bool:
        """Leave when no run uses the sender and nothing waits; False if either changed."""
        with _senders_lock, self.cond:
            if self.users > 0 or self.kicked or self.pending():
                return False
            self.alive = False
            key = _key(type(self), self.folder, self.url)
            if _senders.get(key) is self:
                del _senders[key]
            return True

    def _drain(self) -> bool:
        """Send every spooled envelope, oldest first; True when the spool is empty."""
        self.retry_after = None
        if not self.folder.is_dir():
            return True  # removed: nothing left to send
        lock = self._lock()
        if lock is None:
            return False  # another process is sending these files
        try:
            return self._send_files(self.pending())
        finally:
            lock.close()

    def _send_files(self, paths: list[Path]) -> bool:
        """Send ``paths``; True when each was delivered or set aside."""
        raise NotImplementedError

    def _lock(self) -> Any:
        f = (self.folder / ".lock").open("a+b")  # held for the pass
        if fcntl is not None:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                return None
        return f

    def _post(self, data: bytes, headers: dict[str, str]) -> Answer:
        return post(self.url, self.token, data, headers, self.opener)

    def _failed(self, answer: Answer) -> str:
        """Note a non-2xx answer; what to do with what was sent: "later" or "rejected"."""
        self.error = answer.error or f"HTTP {answer.status}"
        if answer.retry_after is not None:
            self.retry_after = max(self.retry_after or 0.0, answer.retry_after)
        verdict = judge(answer.status)
        if verdict == "keep":
            what = "token" if answer.status in KEEP else "url"
            _warn(
                f"{self.setting}-{answer.status}:{self.url}",
                f"the {self.setting} {self.url} answered {answer.status} "
                f"(check {self.setting}_{what}); records wait in {self.folder} and are sent "
                "once it accepts them",
            )
            return "later"
        return verdict

    def _reject(self, path: Path, why: str) -> None:
        folder = self.folder / REJECTED
        folder.mkdir(exist_ok=True)
        (folder / f"{path.name}.response").write_text(why + "\n", encoding="utf-8")
        os.replace(path, folder / path.name)
        _warn(
            f"{self.setting}-rejected:{self.url}",
            f"the {self.setting} {self.url} refused a record ({why.splitlines()[0]}); it is "
            f"kept in {folder} with the answer. Move it back to {self.folder} to send it again.",
        )


def _key(cls: type, folder: Path, url: str) -> tuple[str, str, str]:
    return (cls.__name__, str(folder), url)


def sender_for(cls: type[Sender], folder: Path, url: str, token: str | None) -> Sender:
    """The process's sender of ``cls`` for this folder and URL, started if need be; the caller
    is one more user until it calls ``release``."""
    key = _key(cls, folder, url)
    with _senders_lock:
        sender = _senders.get(key)
        if sender is None or not sender.alive:
            sender = cls(folder, url, token)
            _senders[key] = sender
            sender.users += 1
            sender.thread.start()
        else:
            with sender.cond:
                sender.token = token
                sender.users += 1
                sender.kicked = sender.forced = True  # a new run: try the receiver again now
                sender.cond.notify_all()
        return sender


def warn_pending(sender: Sender, left: int) -> None:
    """What close() says when a run's envelopes are still waiting."""
    if not left:
        return
    why = sender.error or f"no answer within {CLOSE_WAIT_S:g} s"
    _warn(
        f"{sender.setting}-pending:{sender.url}",
        f"the {sender.setting} {sender.url} has not taken every record yet ({why}); they wait "
        f"in {sender.folder} and are sent when it answers (by this process while it runs, else "
        f"by the next run that uses this {sender.setting})",
    )


class SpoolSink:
    """A run's side of a spool: envelopes written there, delivered by the shared sender."""

    sender_class: type[Sender]  # how the sender sends the files

    def __init__(self, folder: Path, url: str, token: str | None, run_id: str) -> None:
        self.url = url
        self.run_id = run_id
        self.folder = folder.resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.seq = 0
        self.sender = sender_for(self.sender_class, self.folder, url, token)
        self.closed = False

    def write(self, result: Any) -> None:
        from ..records import record_envelope

        self.seq += 1
        self.put(f"{self.run_id}-{self.seq:06d}", record_envelope(result, self.seq))

    def recovered(self, result: Any) -> None:
        from ..records import record_envelope

        # A run is recovered once (its journal is claimed atomically): one key per run.
        self.put(f"{result.run_id}-recovered", record_envelope(result, "recovered"))

    def put(self, name: str, body: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Spool ``body`` (an envelope, or a list of them) and wake the sender."""
        put(self.folder, name, body)
        self.sender.kick()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        warn_pending(self.sender, self.sender.release(self.run_id, CLOSE_WAIT_S))
