"""Webhook: a JSON POST of each record to a URL, through a local spool so that nothing is lost.

Turned on by ``webhook_url`` (``webhook_token``, if set, goes as ``Authorization: Bearer ...``).

Spool. ``write()`` only writes the record to ``<output_dir>/.wattprint/spool/webhook/`` as one
file (written to a temporary name, then renamed: a reader never sees half a file), named
``<time_ns>-<run_id>-<seq>.json`` so that names sort in the order records were written, and
wakes the sender. The sender is a daemon thread, one per spool folder and URL per process,
shared by the runs that use them; it POSTs the files oldest first, each with a timeout of
``TIMEOUT_S``, and:

* 2xx: the receiver has it; the file is deleted.
* 408, 429, 5xx, no connection, a timeout: the file stays; the sender tries again later, with
  exponential backoff up to ``BACKOFF_MAX_S`` (or the receiver's ``Retry-After``).
* 401, 403 (credentials) and 3xx (the URL moved; redirects are not followed, a POST turned into a
  GET would look delivered): the file stays, the problem is said once, and it is retried later,
  so that fixing the token or the URL delivers everything that waited.
* any other 4xx: the receiver refuses this record for good; the file moves to ``rejected/``
  beside a ``.response`` file with the status and the start of the answer, and the problem is
  said once. Nothing is dropped silently; move the files back into the spool to send them again.

A new run sends what earlier runs left in the spool (a receiver that was down, a process that
ended first). Several processes sharing an output_dir take turns (an ``flock`` on
``spool/webhook/.lock``). ``close()`` waits at most ``CLOSE_WAIT_S`` for the run's records to be
delivered and returns at once when a send attempt fails: ``stop()`` never waits on a receiver
that is down; what it did not take waits in the spool.

Exactly once. A record whose answer was lost (a timeout after the receiver stored it) is sent
again. Each request carries ``Idempotency-Key: <run_id>:<seq>`` (also ``key`` in the body;
``<run_id>:recovered`` for the last row of a killed run, sent by the run that recovered it),
unique per record and identical on every retry: a receiver stores a key once and answers 2xx to
a key it already has. The body::

    {"type": "wattprint.record", "version": 1, "key": "<run_id>:<seq>", "record": {...}}

where ``record`` has the CSV's columns and units (``task_name`` set for a task's record), an
empty cell as null.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

try:  # POSIX: processes sharing an output_dir take turns at sending
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from ._series import record

FOLDER = Path(".wattprint") / "spool" / "webhook"
REJECTED = "rejected"
TIMEOUT_S = 5.0  # one POST
CLOSE_WAIT_S = 2.0  # the most close() waits for the run's records
BACKOFF_S = 1.0
BACKOFF_MAX_S = 60.0
KEEP = (401, 403)  # answers that say the request, not the record, is wrong: retried later

_senders: dict[tuple[str, str], _Sender] = {}
_senders_lock = threading.Lock()


def spool_folder(output_dir: str | os.PathLike[str]) -> Path:
    return Path(output_dir) / FOLDER


def key_of(path: Path) -> str:
    """``<run_id>:<seq>`` for a spool file ``<time_ns>-<run_id>-<seq>.json`` (``seq`` is
    ``recovered`` for a killed run's row that a later run recovered)."""
    _, rest = path.stem.split("-", 1)
    run_id, seq = rest.rsplit("-", 1)
    return f"{run_id}:{int(seq) if seq.isdigit() else seq}"


def _warn(key: str, message: str) -> None:
    from .._log import warn_once

    warn_once(key, message)


def _no_redirect() -> Any:
    """A urllib handler that hands 3xx back as errors instead of following them."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return NoRedirect()


class _Sender:
    """Sends the files of one spool folder to one URL, from a daemon thread."""

    def __init__(self, folder: Path, url: str, token: str | None) -> None:
        import urllib.request

        from .._version import __version__

        self.folder = folder
        self.url = url
        self.token = token
        self.agent = f"wattprint/{__version__}"
        self.opener = urllib.request.build_opener(_no_redirect())
        self.cond = threading.Condition()
        self.users = 0
        self.kicked = False  # records were written since the last pass
        self.forced = False  # try now, even while backing off
        self.passes = 0  # send passes finished
        self.last_ok = True  # whether the last pass emptied the spool
        self.retry_after: float | None = None
        self.error = ""  # why the last send failed
        self.alive = True
        self.thread = threading.Thread(target=self._loop, name="wattprint-webhook", daemon=True)

    # -- the runs' side ---------------------------------------------------------------------

    def kick(self, now: bool = False) -> None:
        """New records: send them, right away if ``now``, else after any backoff under way."""
        with self.cond:
            self.kicked = True
            self.forced = self.forced or now
            self.cond.notify_all()

    def pending(self, run_id: str | None = None) -> list[Path]:
        pattern = f"*-{run_id}-*.json" if run_id else "*.json"
        return sorted(self.folder.glob(pattern))

    def release(self, run_id: str, timeout: float) -> int:
        """A run is done with the sender: wait (bounded) for its records; how many still wait."""
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
                    f"webhook-sender:{type(exc).__name__}",
                    f"the webhook sender failed ({type(exc).__name__}: {exc}); retrying",
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
                else:  # back off; a run that ends or starts cuts it short, a write does not
                    failures += 1
                    delay = min(BACKOFF_MAX_S, BACKOFF_S * 2 ** (failures - 1))
                    if self.retry_after is not None:
                        delay = min(BACKOFF_MAX_S, max(delay, self.retry_after))
                    until = time.monotonic() + delay
                    while not self.forced and (left := until - time.monotonic()) > 0:
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
            if _senders.get((str(self.folder), self.url)) is self:
                del _senders[(str(self.folder), self.url)]
            return True

    def _drain(self) -> bool:
        """Send every spooled record, oldest first; True when the spool is empty."""
        self.retry_after = None
        if not self.folder.is_dir():
            return True  # removed: nothing left to send
        lock = self._lock()
        if lock is None:
            return False  # another process is sending these files
        try:
            for path in self.pending():
                outcome = self._send(path)
                if outcome == "sent":
                    path.unlink(missing_ok=True)
                elif outcome != "rejected":
                    return False
            return True
        finally:
            lock.close()

    def _lock(self) -> Any:
        f = (self.folder / ".lock").open("a+b")  # held for the pass
        if fcntl is not None:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                return None
        return f

    def _send(self, path: Path) -> str:
        """POST one file: "sent", "rejected" (moved aside) or "later"."""
        import urllib.error
        import urllib.request

        try:
            data = path.read_bytes()
            key = key_of(path)
        except FileNotFoundError:
            return "sent"  # another process delivered it meanwhile
        except (OSError, ValueError) as exc:
            self._reject(path, f"unreadable spool file: {exc}")
            return "rejected"
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "User-Agent": self.agent,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
        try:
            with self.opener.open(request, timeout=TIMEOUT_S) as response:
                response.read()
                status = response.status
                body = b""
        except urllib.error.HTTPError as exc:
            status = exc.code
            try:
                body = exc.read(2048)
            except Exception:
                body = b""
            retry = exc.headers.get("Retry-After") if exc.headers else None
            if retry and retry.strip().isdigit():
                self.retry_after = float(retry)
        except (OSError, ValueError) as exc:  # refused, timeout, DNS, TLS, bad URL
            self.error = f"{type(exc).__name__}: {exc}"
            return "later"
        if 200 <= status < 300:
            return "sent"
        self.error = f"HTTP {status}"
        if status in (408, 429) or status >= 500:
            return "later"
        if status in KEEP or 300 <= status < 400:
            _warn(
                f"webhook-{status}:{self.url}",
                f"the webhook {self.url} answered {status} "
                f"({'check webhook_token' if status in KEEP else 'check webhook_url'}); "
                f"records wait in {self.folder} and are sent once it accepts them",
            )
            return "later"
        text = body.decode("utf-8", "replace")
        self._reject(path, f"HTTP {status}\n{text}")
        return "rejected"

    def _reject(self, path: Path, why: str) -> None:
        folder = self.folder / REJECTED
        folder.mkdir(exist_ok=True)
        (folder / f"{path.name}.response").write_text(why + "\n", encoding="utf-8")
        os.replace(path, folder / path.name)
        _warn(
            f"webhook-rejected:{self.url}",
            f"the webhook {self.url} refused a record ({why.splitlines()[0]}); it is kept in "
            f"{folder} with the answer. Move it back to {self.folder} to send it again.",
        )


def _sender_for(folder: Path, url: str, token: str | None) -> _Sender:
    with _senders_lock:
        sender = _senders.get((str(folder), url))
        if sender is None or not sender.alive:
            sender = _Sender(folder, url, token)
            _senders[(str(folder), url)] = sender
            sender.users += 1
            sender.thread.start()
        else:
            with sender.cond:
                sender.token = token
                sender.users += 1
                sender.kicked = sender.forced = True  # a new run: try the receiver again now
                sender.cond.notify_all()
        return sender


class WebhookSink:
    def __init__(self, settings: Any, meta: dict[str, Any]) -> None:
        self.url = settings.webhook_url
        self.run_id = meta["run_id"]
        self.folder = spool_folder(settings.output_dir).resolve()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.seq = 0
        self.sender = _sender_for(self.folder, self.url, settings.webhook_token)
        self.closed = False

    def write(self, result: Any) -> None:
        self.seq += 1
        self._spool(f"{self.run_id}:{self.seq}", f"{self.run_id}-{self.seq:06d}", result)

    def recovered(self, result: Any) -> None:
        # A run is recovered once (its journal is claimed atomically): one key per run.
        self._spool(f"{result.run_id}:recovered", f"{result.run_id}-recovered", result)

    def _spool(self, key: str, name: str, result: Any) -> None:
        body = {"type": "wattprint.record", "version": 1, "key": key, "record": record(result)}
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        name = f"{time.time_ns():020d}-{name}.json"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.folder / name)
        self.sender.kick()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        left = self.sender.release(self.run_id, CLOSE_WAIT_S)
        if left:
            why = self.sender.error or f"no answer within {CLOSE_WAIT_S:g} s"
            _warn(
                f"webhook-pending:{self.url}",
                f"the webhook {self.url} has not taken every record yet ({why}); they wait in "
                f"{self.folder} and are sent when it answers (by this process while it runs, "
                "else by the next run that uses this webhook)",
            )


def open(settings: Any, meta: dict[str, Any]) -> WebhookSink:
    return WebhookSink(settings, meta)
