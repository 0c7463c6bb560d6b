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
interval: the sampling thread does no more work than without the sink. Rows are spooled and
sent at once; intervals are held and spooled together, one file every ``INTERVALS_WITHIN_S``
(and at the end of the run), so that a short interval does not cost a file and a request each
(a process killed loses at most those held; its journal still gives its final row). An
interval missed (a stop in progress held the snapshot) is folded into the next one, whose
``interval_s`` says how long it covers.

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
import time
from pathlib import Path
from typing import Any

from ..records import interval_envelope
from . import spool
from .spool import SpoolSink

FOLDER = Path(".wattprint") / "spool" / "server"
PATH = "/api/v1/records"
BATCH = 500  # envelopes per request
INTERVALS_WITHIN_S = 5.0  # intervals wait at most this long, to go several in one request
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


Item = tuple[Path, list[tuple[str, Any]]]  # a spool file and its (key, envelope)s


class ServerSender(spool.Sender):
    """Batches of envelopes, answered item by item. A spool file holds one envelope (a row) or
    a list of them (a run's intervals, spooled together)."""

    setting = "server"

    def _send_files(self, paths: list[Path]) -> bool:
        chunk: list[Item] = []
        size = 0
        for path in paths:
            try:
                envelopes = _load(path)
            except FileNotFoundError:
                continue  # another process delivered it meanwhile
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                self._reject(path, f"unreadable spool file: {type(exc).__name__}: {exc}")
                continue
            if chunk and size + len(envelopes) > BATCH:
                if not self._send_batch(chunk):
                    return False
                chunk, size = [], 0
            chunk.append((path, envelopes))
            size += len(envelopes)
        return self._send_batch(chunk) if chunk else True

    def _send_batch(self, chunk: list[Item]) -> bool:
        """Send the envelopes of ``chunk`` in one request (each key once); True when each file
        was delivered or set aside."""
        unique: dict[str, Any] = {}
        for _, envelopes in chunk:
            for key, envelope in envelopes:
                unique.setdefault(key, envelope)
        data = json.dumps(list(unique.values()), separators=(",", ":"), ensure_ascii=False)
        answer = self._post(data.encode("utf-8"), {})
        if spool.judge(answer.status) != "sent":
            if self._failed(answer) != "rejected":
                return False
            if len(chunk) > 1:  # which of them? ask one file at a time
                return all(self._send_batch([item]) for item in chunk)
            text = answer.body.decode("utf-8", "replace")
            self._reject(chunk[0][0], f"HTTP {answer.status}\n{text}")
            return True
        try:
            answered = results_of(answer.body)
        except ValueError as exc:
            self.error = str(exc)
            spool._warn(
                f"server-answer:{self.url}",
                f"the server {self.url} answered 2xx without a list of results ({exc}); is it "
                f"a wattprint server? Records wait in {self.folder}",
            )
            return False
        return all([self._settle(item, answered) for item in chunk])  # every item settled

    def _settle(self, item: Item, answered: dict[str, tuple[str, str | None]]) -> bool:
        """Delete a file the server has whole, set aside one it refused (part of); False (kept)
        when the server did not answer for each of its keys."""
        path, envelopes = item
        answers = [answered.get(key, ("", None)) for key, _ in envelopes]
        if any(status not in (*DELIVERED, "rejected") for status, _ in answers):
            self.error = "the server did not answer for every record"
            return False
        refused = [
            (key, error or "no reason given")
            for (key, _), (status, error) in zip(envelopes, answers, strict=True)
            if status == "rejected"
        ]
        if not refused:
            path.unlink(missing_ok=True)
        elif len(envelopes) == 1:
            self._reject(path, f"rejected by the server: {refused[0][1]}")
        else:  # the others are stored: sending the file again only adds duplicates
            why = "; ".join(f"{key}: {error}" for key, error in refused)
            self._reject(path, f"rejected by the server: {why}")
        return True


def _load(path: Path) -> list[tuple[str, Any]]:
    loaded = json.loads(path.read_bytes())
    envelopes = loaded if isinstance(loaded, list) else [loaded]
    out = []
    for envelope in envelopes:
        key = envelope["key"]
        if not isinstance(key, str):
            raise ValueError(f"key {key!r} is not text")
        out.append((key, envelope))
    return out


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
        self.lock = threading.Lock()
        self.held: list[dict[str, Any]] = []  # intervals not spooled yet
        self.held_since = 0.0

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
        """Take ``result`` as the next interval, unless it is the one taken last; the intervals
        taken go to the spool together, within INTERVALS_WITHIN_S (one file, one request)."""
        if result is None or result is self.last or self.done.is_set():
            return
        if self.last is not None and result.duration_s <= self.last.duration_s:
            return
        self.intervals += 1
        envelope = interval_envelope(result, self.intervals, previous=self.last)
        self.last = result
        with self.lock:
            if self.done.is_set():
                return  # the run has ended meanwhile: its held intervals are spooled
            if not self.held:
                self.held_since = time.monotonic()
            self.held.append(envelope)
            due = time.monotonic() - self.held_since >= INTERVALS_WITHIN_S
        if due or len(self.held) >= BATCH:
            self._spool_intervals()

    def _spool_intervals(self) -> None:
        with self.lock:
            held, self.held = self.held, []
        if held:
            first = held[0]["interval"]["seq"]
            self.put(f"{self.run_id}-i{first:06d}", held)

    def close(self) -> None:
        # The puller is not joined: close() runs under the tracker's lock, which it may be
        # waiting for (snapshot() gives up after 1 s, then the thread sees ``done`` and ends).
        with self.lock:
            self.done.set()  # no interval is held after this
        self._spool_intervals()
        super().close()


def open(settings: Any, meta: dict[str, Any]) -> ServerSink:
    return ServerSink(settings, meta)
