"""Server sink: every row and every sampling interval of a run, to a wattprint team server.

Turned on by ``server_url``; ``server_token`` (a project token with the ``ingest`` scope) goes as
``Authorization: Bearer ...``. It keeps the webhook's promises with the webhook's spool and
sender (``wattprint.sinks.spool``), in ``<output_dir>/.wattprint/spool/server/``: the server
down for ten minutes, or restarted mid-run, loses nothing and duplicates nothing, and a later
run sends what an earlier one left.

What it sends: each row the CSV gets, as a record envelope (``records.record_envelope``, key
``<run_id>:<seq>``), and each sampling interval, as an interval envelope
(``records.interval_envelope``, key ``<run_id>:i<seq>``), so that the server shows runs in
progress. Intervals are taken from the run's ``snapshot()`` by a thread of this sink, twice an
interval: the sampling thread does no more work than without the sink. An interval missed (a
stop in progress held the snapshot) is folded into the next one, whose ``interval_s`` says how
long it covers.

How: ``POST {server_url}/api/v1/records`` with a JSON array of up to ``BATCH`` envelopes. The
server answers 200 with ``{"results": [{"key": ..., "status": "created" | "duplicate" |
"rejected", "error": null | "why"}, ...]}``: created and duplicate delete the spooled file,
rejected moves it to ``rejected/`` with the reason. A whole batch refused with a 4xx other than
401/403 is sent again one envelope at a time, so that only the envelopes the server refuses are
set aside. Every other answer follows the spool's rules (401/403 kept and said once; 408, 429,
5xx and no connection: back off, honouring ``Retry-After``).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from ..records import interval_envelope
from . import spool
from .http import SpoolSink

FOLDER = Path(".wattprint") / "spool" / "server"
PATH = "/api/v1/records"
BATCH = 500  # envelopes per request
DELIVERED = ("created", "duplicate")


def spool_folder(output_dir: str | Path) -> Path:
    return Path(output_dir) / FOLDER


def results_of(body: bytes) -> dict[str, tuple[str, str | None]]:
    """The server's per-item answers: key -> (status, error). ValueError if it has none."""
    try:
        results = json.loads(body)["results"]
        return {r["key"]: (r["status"], r.get("error")) for r in results}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"an answer without per-item results ({type(exc).__name__})") from None


def endpoint(server_url: str) -> str:
    """Where envelopes go: ``{server_url}/api/v1/records``."""
    return server_url.rstrip("/") + PATH


class ServerSender(spool.Sender):
    """Batches of envelopes, answered item by item."""

    setting = "server"

    def _send_files(self, paths: list[Path]) -> bool:
        for start in range(0, len(paths), BATCH):
            if not self._send_batch(paths[start : start + BATCH]):
                return False
        return True

    def _send_batch(self, paths: list[Path]) -> bool:
        """Send ``paths`` in one request; True when each was delivered or set aside."""
        files: dict[str, list[Path]] = {}
        envelopes: list[bytes] = []
        for path in paths:
            try:
                data = path.read_bytes()
                key = json.loads(data)["key"]
                if not isinstance(key, str):
                    raise ValueError(f"key {key!r} is not text")
            except FileNotFoundError:
                continue  # another process delivered it meanwhile
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self._reject(path, f"unreadable spool file: {type(exc).__name__}: {exc}")
                continue
            if key not in files:  # one key sent once, whichever files hold it
                files[key] = []
                envelopes.append(data)
            files[key].append(path)
        if not envelopes:
            return True
        answer = self._post(b"[" + b",".join(envelopes) + b"]", {})
        if spool.judge(answer.status) != "sent":
            if self._failed(answer) != "rejected":
                return False
            if len(files) > 1:  # which of them? ask one at a time
                return all(self._send_batch(group) for group in files.values())
            text = answer.body.decode("utf-8", "replace")
            for group in files.values():
                for path in group:
                    self._reject(path, f"HTTP {answer.status}\n{text}")
            return True
        return self._settle(files, answer.body)

    def _settle(self, files: dict[str, list[Path]], body: bytes) -> bool:
        """Apply the server's per-item answers; True when every key got one."""
        try:
            answered = results_of(body)
        except ValueError as exc:
            self.error = str(exc)
            spool._warn(
                f"server-answer:{self.url}",
                f"the server {self.url} answered 2xx without a list of results ({exc}); is it "
                f"a wattprint server? Records wait in {self.folder}",
            )
            return False
        for key, paths in files.items():
            status, error = answered.get(key, (None, None))
            if status in DELIVERED:
                for path in paths:
                    path.unlink(missing_ok=True)
            elif status == "rejected":
                for path in paths:
                    self._reject(path, f"rejected by the server: {error or 'no reason given'}")
        missing = [k for k in files if answered.get(k, (None,))[0] not in (*DELIVERED, "rejected")]
        if missing:
            self.error = f"the server did not answer for {len(missing)} record(s)"
            return False
        return True


class ServerSink(SpoolSink):
    sender_class = ServerSender

    def __init__(self, settings: Any, meta: dict[str, Any]) -> None:
        folder = spool_folder(settings.output_dir)
        url = endpoint(settings.server_url)
        super().__init__(folder, url, settings.server_token, meta["run_id"])
        self.period_s = settings.interval_s / 2
        self.intervals = 0
        self.last: Any = None  # the interval sent last
        self.done = threading.Event()
        self.puller: threading.Thread | None = None

    def live(self, snapshot: Any) -> None:
        self.puller = threading.Thread(
            target=self._pull, args=(snapshot,), name="wattprint-server-intervals", daemon=True
        )
        self.puller.start()

    def _pull(self, snapshot: Any) -> None:
        while not self.done.wait(self.period_s):
            try:
                self.interval(snapshot())
            except Exception as exc:  # never kill the thread silently, never reach the run
                spool._warn(
                    f"server-intervals:{type(exc).__name__}",
                    f"the server sink could not take an interval ({type(exc).__name__}: {exc})",
                )

    def interval(self, result: Any) -> None:
        """Spool ``result`` as the next interval, unless it is the one sent last."""
        if result is None or result is self.last or self.done.is_set():
            return
        if self.last is not None and result.duration_s <= self.last.duration_s:
            return
        self.intervals += 1
        envelope = interval_envelope(result, self.intervals, previous=self.last)
        self.last = result
        self.put(f"{self.run_id}-i{self.intervals:06d}", envelope)

    def close(self) -> None:
        # Not joined: close() runs under the tracker's lock, which the puller may be waiting
        # for (snapshot() gives up after 1 s, then the thread sees ``done`` and ends).
        self.done.set()
        super().close()


def open(settings: Any, meta: dict[str, Any]) -> ServerSink:
    return ServerSink(settings, meta)
