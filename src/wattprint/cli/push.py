"""``wattprint push``: rows of existing emissions CSVs (wattprint's, CodeCarbon's) to a server.

Files are read as ``report`` reads them (``report.read``: a BOM, damaged lines skipped and said)
and sent as they are read, in batches: a file refused part-way (or a server that stops
answering) leaves the rows before it on the server; pushing again after the fix adds the rest.
Each row goes as a record envelope keyed ``<run_id>:csv:<sha1 of the row>``: the same row always
has the same key, so pushing a file twice adds nothing (the server answers "duplicate"). A value
``report`` counts as unknown (not finite, negative, not a number) goes as null.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

BATCH = 500
ATTEMPTS = 4  # per batch, for answers that say "later" (5xx, 429, no connection)


def key_of(run_id: str, row: dict[str, str]) -> str:
    digest = hashlib.sha1(json.dumps(row, sort_keys=True).encode("utf-8")).hexdigest()
    return f"{run_id}:csv:{digest}"


def envelopes(files: list[Path]) -> Iterator[tuple[dict[str, Any], str]]:
    """The files' rows as (envelope, where the row is), read as ``report`` reads them, one at
    a time (a file of a million rows is not held in memory)."""
    from ..records import RECORD_TYPE, envelope, record_from_csv
    from ..report.read import iter_runs

    for path in files:
        for run in iter_runs(path):
            record = record_from_csv(run.row)
            for column in run.invalid():
                record[column] = None  # unknown, as report counts it
            key = key_of(run.run_id, run.row)
            yield envelope(RECORD_TYPE, key, record), f"{path}:{run.line}"


def _send(url: str, token: str | None, batch: list[dict[str, Any]]) -> dict[str, Any]:
    """One batch, retried on "later" answers; the per-item results. ValueError when the
    server will not take it (one line)."""
    from ..retry import backoff_delay
    from ..sinks import spool
    from ..sinks.server import results_of

    data = json.dumps(batch, separators=(",", ":"), allow_nan=False).encode()
    for attempt in range(ATTEMPTS):
        answer = spool.post(url, token, data)
        verdict = spool.judge(answer.status)
        if verdict == "sent":
            return results_of(answer.body)
        if verdict != "later" or attempt == ATTEMPTS - 1:
            break
        time.sleep(min(answer.retry_after or backoff_delay(attempt + 1, 1.0), 30.0))
    why = answer.error or f"HTTP {answer.status}"
    text = answer.body.decode("utf-8", "replace").strip().splitlines()
    detail = f": {text[0][:200]}" if text else ""
    if answer.status in spool.KEEP:
        raise ValueError(f"{url} refused the token ({why}{detail}); check --token / server_token")
    raise ValueError(f"{url} did not take the rows ({why}{detail}); nothing more was sent")


def push(paths: list[Path], server: str | None, token: str | None, as_json: bool) -> int:
    from ..config import load_settings
    from ..report.read import find_files
    from ..sinks.server import endpoint

    settings = load_settings({"server_url": server, "server_token": token})
    if settings.server_url is None:
        raise ValueError("no server: give --server URL (or set server_url / WATTPRINT_SERVER_URL)")
    url = endpoint(settings.server_url)
    items = envelopes(find_files(paths))
    counts: Counter[str] = Counter()
    rejected: list[str] = []
    rows = 0
    while chunk := list(islice(items, BATCH)):
        rows += len(chunk)
        results = _send(url, settings.server_token, [e for e, _ in chunk])
        for envelope, where in chunk:
            status, error = results.get(envelope["key"], ("unanswered", None))
            counts[status] += 1
            if status not in ("created", "duplicate"):
                rejected.append(f"{where}: {error or status}")
    summary = {"rows": rows, "created": counts["created"],
               "duplicate": counts["duplicate"], "rejected": counts["rejected"],
               "unanswered": counts["unanswered"], "problems": rejected}  # fmt: skip
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        unanswered = summary["unanswered"]
        print(
            f"{summary['rows']} row(s) to {settings.server_url}: {summary['created']} created, "
            f"{summary['duplicate']} duplicate, {summary['rejected']} rejected"
            + (f", {unanswered} unanswered" if unanswered else "")
        )
        for line in rejected[:20]:
            print(f"  rejected {line}", file=sys.stderr)
        if len(rejected) > 20:
            print(f"  ... and {len(rejected) - 20} more (--json lists them all)", file=sys.stderr)
    return 1 if rejected else 0
