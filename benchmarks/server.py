"""The team server under load: ingest records/s, summary latency as emissions grow, RSS.

    .venv/bin/python benchmarks/server.py                      # SQLite only
    .venv/bin/python benchmarks/server.py --postgres-url postgresql+psycopg://u@host:port/db
    .venv/bin/python benchmarks/server.py --sizes 10000,100000,1000000 --json server.json
    .venv/bin/python benchmarks/server.py --baseline /tmp/before/src --sizes 10000  # before/after

Ingest: 8 client threads each POST batches of 100 record envelopes to ``wattprint server``
(a subprocess on a free port) with 1 worker on SQLite, 1 and 4 workers on PostgreSQL; beside it,
the rate of inserting the same rows with the database driver alone (the ceiling). Summaries:
rows written straight into the database (1,000 rows per run), then the median latency of
GET /api/v1/projects/{id}/summary and of the same ?by=day, at each size. RSS: the server's
processes after each phase, and their CPU time per record ingested (the database's own not
counted). The PostgreSQL database given is emptied (schema dropped) first.
With ``--baseline SRC`` (the ``src`` folder of another checkout, e.g. ``git worktree add``
of an older commit), each ingest figure is also taken from that code's server, in turns with
this one's, so that both share the machine's load of the moment.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from wattprint import records  # noqa: E402

ROWS_PER_RUN = 1000


def record(run: str, seq: int) -> dict[str, Any]:
    """A realistic row: every column with a value of its kind."""
    row: dict[str, Any] = {}
    for i, column in enumerate(records.SPEC):
        if column.kind == "float":
            row[column.name] = 0.001 * (i + 1) * (seq + 1)
        elif column.kind == "int":
            row[column.name] = i
        elif column.kind == "timestamp":
            row[column.name] = f"2026-03-{1 + seq // 86400 % 28:02d}T00:00:00+00:00"
        else:
            row[column.name] = column.name
    row.update(run_id=run, status="running", experiment_name="bench", wattprint_version="0.1.0")
    return row


def envelopes(client: int, batch: int, size: int, tag: str = "") -> list[dict[str, Any]]:
    run = f"{tag}c{client}-b{batch}"
    return [{"type": "wattprint.record", "version": 1, "key": f"{run}:{i}",
             "record": record(run, i)} for i in range(size)]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``wattprint server`` in a subprocess."""

    def __init__(self, url: str, workers: int, home: Path, src: Path = ROOT / "src") -> None:
        self.port = free_port()
        env = dict(os.environ, WATTPRINT_SERVER_DATABASE_URL=url, HOME=str(home),
                   PYTHONPATH=str(src))  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "wattprint", "server", "--port", str(self.port),
             "--workers", str(workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        import httpx

        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(self.base + "/api/v1/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.time() > deadline or self.process.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)

    def rss_mb(self) -> float:
        import psutil

        proc = psutil.Process(self.process.pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20

    def cpu_s(self) -> float:
        """CPU seconds the server's processes (all workers) have used: less swayed than
        records/s by other processes sharing the machine."""
        import psutil

        proc = psutil.Process(self.process.pid)
        total = 0.0
        for p in [proc, *proc.children(recursive=True)]:
            times = p.cpu_times()
            total += times.user + times.system
        return total

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def setup(url: str) -> tuple[int, str]:
    """An empty database with one project; (project id, a read+ingest token)."""
    from wattprint.server import admin, db, store
    from wattprint.server.settings import load_settings

    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    if url.startswith("postgresql"):
        from sqlalchemy import text

        engine = db.make_engine(url)
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    settings = load_settings({}, database_url=url)
    made = admin.bootstrap(settings, "bench", None, "bench", None, None)
    engine = db.make_engine(url)
    with db.transaction(db.session_factory(engine)) as s:
        _, token = store.create_project_token(s, made["project_id"], "bench", ["ingest", "read"])
    engine.dispose()
    return made["project_id"], token


def ingest_rate(server: Server, token: str, clients: int, batches: int, size: int,
                tag: str) -> float:  # fmt: skip
    # Serialised beforehand: the clients share the machine with the server, and should cost it
    # as little as they can.
    payloads = [[json.dumps(envelopes(c, b, size, tag)).encode() for b in range(batches)]
                for c in range(clients)]  # fmt: skip
    created = [0] * clients
    errors: list[str] = []
    # Warm-up, not timed: a worker builds its routes and statements at its first requests
    # (a second or more under load), which is not the rate it takes runs at.
    warm = [[json.dumps(envelopes(c, 0, 1, f"warm-{tag}")).encode()] for c in range(clients)]
    warm_threads = [threading.Thread(target=post_all, args=(server, token, warm[c], [0], 0, errors))
                    for c in range(clients)]  # fmt: skip
    for t in warm_threads:
        t.start()
    for t in warm_threads:
        t.join()
    threads = [threading.Thread(target=post_all, args=(server, token, payloads[c], created, c,
                                                       errors))
               for c in range(clients)]  # fmt: skip
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors[0])
    return sum(created) / elapsed


def post_all(server: Server, token: str, batches: list[bytes], created: list[int], c: int,
             errors: list[str]) -> None:  # fmt: skip
    """One client: its batches, one after the other; what was created added to created[c]."""
    import httpx

    with httpx.Client(base_url=server.base, timeout=120,
                      headers={"Authorization": f"Bearer {token}"}) as http:  # fmt: skip
        for batch in batches:
            r = http.post("/api/v1/records", content=batch,
                          headers={"Content-Type": "application/json"})  # fmt: skip
            if r.status_code != 200:
                errors.append(r.text[:200])
                return
            created[c] += r.json()["created"]


def _table_rows(project: int, run_pk: int, start: int, count: int, run_name: str):
    from wattprint.server.values import parse_time

    out = []
    for i in range(start, start + count):
        row = record(run_name, i)
        row.update(project_pk=project, run_pk=run_pk, key=f"{run_name}:{i}", seq=i,
                   at=parse_time(row["timestamp"]), origin="wattprint", task_name=None)  # fmt: skip
        out.append(row)
    return out


def raw_insert_rate(url: str, project: int, rows: int) -> float:
    """The same rows inserted with the driver alone (executemany, one transaction per 100)."""
    from sqlalchemy import insert

    from wattprint.server import db
    from wattprint.server.models import Emission, Run

    engine = db.make_engine(url)
    with engine.begin() as c:
        run_pk = c.execute(insert(Run).values(project_id=project, experiment_id=_experiment(c),
                                              client_run_id="raw", emissions_count=0,
                                              name="", source="wattprint", status="running",
                                              last_seen=datetime(2026, 3, 1))
                           .returning(Run.id)).scalar()  # fmt: skip
    columns = [c.name for c in Emission.__table__.c if c.name != "id"]
    batches = [_table_rows(project, run_pk, b * 100, 100, "raw") for b in range(rows // 100)]
    batches = [[tuple(r[c] for c in columns) for r in batch] for batch in batches]
    marks = ", ".join(["?" if url.startswith("sqlite") else "%s"] * len(columns))
    sql = f"INSERT INTO emissions ({', '.join(columns)}) VALUES ({marks})"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        start = time.perf_counter()
        for batch in batches:
            cursor.executemany(sql, batch)
            raw.commit()
        elapsed = time.perf_counter() - start
    finally:
        raw.close()
        engine.dispose()
    return rows / elapsed


def _experiment(connection: Any) -> int:
    from sqlalchemy import text

    return connection.execute(text("SELECT min(id) FROM experiments")).scalar()


def fill(url: str, project: int, target: int, have: int) -> int:
    """Rows straight into the database up to ``target`` emissions, ROWS_PER_RUN per run, each
    run's totals pointing at its last row (as ingest leaves them)."""
    from sqlalchemy import func, insert, select, update

    from wattprint.server import db
    from wattprint.server.db import insert_new
    from wattprint.server.ingest import apply_totals
    from wattprint.server.models import Emission, Run

    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    while have < target:
        with db.transaction(factory) as s:
            experiment = _experiment(s)
            name = f"fill-{have}"
            run_pk = s.execute(insert(Run).values(
                project_id=project, experiment_id=experiment, client_run_id=name, name="",
                source="wattprint", status="running", emissions_count=0,
                last_seen=datetime(2026, 3, 1),
            ).returning(Run.id)).scalar()  # fmt: skip
            rows = _table_rows(project, run_pk, 0, ROWS_PER_RUN, name)
            insert_new(s, Emission.__table__, rows, ("project_pk", "key"))
            last_id = s.scalar(select(func.max(Emission.id)).where(Emission.run_pk == run_pk))
            last = rows[-1]
            apply_totals(s, run_pk, last, last["at"], last["seq"], last_id)
            s.execute(update(Run).where(Run.id == run_pk).values(emissions_count=ROWS_PER_RUN))
        have += ROWS_PER_RUN
    engine.dispose()
    return have


def latency_ms(server: Server, token: str, path: str, repeats: int = 7) -> float:
    import httpx

    times = []
    with httpx.Client(base_url=server.base, timeout=120,
                      headers={"Authorization": f"Bearer {token}"}) as http:  # fmt: skip
        http.get(path).raise_for_status()  # warm
        for _ in range(repeats):
            start = time.perf_counter()
            http.get(path).raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def count_emissions(url: str) -> int:
    from sqlalchemy import text

    from wattprint.server import db

    engine = db.make_engine(url)
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM emissions")).scalar()
    engine.dispose()
    return n


def bench(name: str, url: str, workers: list[int], args: argparse.Namespace, home: Path):
    out: dict[str, Any] = {"database": name}
    project, token = setup(url)
    out["raw_insert_rows_per_s"] = round(raw_insert_rate(url, project, args.raw_rows))
    sources = [("", ROOT / "src")]
    if args.baseline:
        sources.insert(0, ("baseline_", Path(args.baseline)))
    for n in workers:
        for prefix, src in sources:
            server = Server(url, n, home, src)
            try:
                ingest_rate(server, token, args.clients, 1, 1, tag=f"{prefix}warm{n}-")
                cpu = server.cpu_s()
                rate = ingest_rate(server, token, args.clients, args.batches, args.batch_size,
                                   tag=f"{prefix}w{n}-")  # fmt: skip
                records_sent = args.clients * args.batches * args.batch_size
                cpu_us = (server.cpu_s() - cpu) / records_sent * 1e6
                out[f"{prefix}ingest_records_per_s_{n}_workers"] = round(rate)
                out[f"{prefix}server_cpu_us_per_record_{n}_workers"] = round(cpu_us)
                out[f"{prefix}rss_mb_{n}_workers"] = round(server.rss_mb())
            finally:
                server.stop()
            print(f"{name}: {prefix or 'this code, '}{n} worker(s): {rate:,.0f} records/s, "
                  f"server CPU {cpu_us:.0f} µs/record (load average {os.getloadavg()[0]:.1f})",
                  file=sys.stderr)  # fmt: skip
    project, token = setup(url)  # summaries on a fresh database
    have, sizes = 0, []
    for size in args.sizes:
        have = fill(url, project, size, have)
        server = Server(url, 1, home)
        try:
            total = count_emissions(url)
            summary = latency_ms(server, token, f"/api/v1/projects/{project}/summary")
            by_day = latency_ms(server, token, f"/api/v1/projects/{project}/summary?by=day")
            sizes.append({"emissions": total, "runs": total // ROWS_PER_RUN,
                          "summary_ms": round(summary, 1), "by_day_ms": round(by_day, 1),
                          "rss_mb": round(server.rss_mb())})  # fmt: skip
        finally:
            server.stop()
        print(f"{name}: {sizes[-1]}", file=sys.stderr)
    out["summaries"] = sizes
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("WATTPRINT_TEST_POSTGRES_URL"))
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batches", type=int, default=25, help="per client")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--raw-rows", type=int, default=20000)
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="which to measure (PostgreSQL where --postgres-url is given)",
    )
    parser.add_argument("--baseline", help="another checkout's src folder: its ingest too")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        if "sqlite" in args.databases:
            url = f"sqlite:///{home / 'bench.sqlite3'}"
            results.append(bench("sqlite", url, [1], args, home))
        if args.postgres_url and "postgresql" in args.databases:
            results.append(bench("postgresql", args.postgres_url, [1, 4], args, home))
    text = json.dumps({"cpus": os.cpu_count(), "results": results}, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
