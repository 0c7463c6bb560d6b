"""The team server under load: ingest records/s, summary latency as emissions grow, RSS.

    .venv/bin/python benchmarks/server.py                      # SQLite only
    .venv/bin/python benchmarks/server.py --postgres-url postgresql+psycopg://u@host:port/db
    .venv/bin/python benchmarks/server.py --sizes 10000,100000,1000000 --json server.json
    .venv/bin/python benchmarks/server.py --baseline /tmp/before/src --sizes 10000  # before/after

Ingest: 8 client threads each POST batches of 100 record envelopes to ``wattprint server``
(a subprocess on a free port; each client one kept-alive http.client connection, bodies
serialised beforehand) with 1 worker on SQLite, 1 and 4 workers on PostgreSQL; beside it,
the rate of inserting the same rows with the database driver alone (the ceiling: executemany,
and on PostgreSQL COPY too, the line says which). Summaries:
rows written straight into the database (``--rows-per-run``, 1,000 by default; each layout on a
fresh database), then the median latency of GET /api/v1/projects/{id}/summary and of the same
?by=day at each size, beside GET /api/v1/projects/{id} (the request without a summary), and in
the server's process the SQL summary beside the report's summariser on one Run per run (what
the server did before; ``--per-run-repeats 0`` leaves it out). RSS: the server's
processes after each phase, and their CPU time per record ingested (the database's own not
counted). The PostgreSQL database given is emptied (schema dropped) first.
With ``--baseline SRC`` (the ``src`` folder of another checkout, e.g. ``git worktree add``
of an older commit), each ingest and HTTP summary figure is also taken from that code's server,
in turns with this one's, so that both share the machine's load of the moment.
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
from datetime import datetime, timedelta
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
    return [
        {"type": "wattprint.record", "version": 1, "key": f"{run}:{i}", "record": record(run, i)}
        for i in range(size)
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``wattprint server`` in a subprocess."""

    def __init__(self, url: str, workers: int, home: Path, src: Path = ROOT / "src") -> None:
        self.port = free_port()
        env = dict(
            os.environ, WATTPRINT_SERVER_DATABASE_URL=url, HOME=str(home), PYTHONPATH=str(src)
        )
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wattprint",
                "server",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
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


def ingest_rate(
    server: Server, token: str, clients: int, batches: int, size: int, tag: str
) -> float:
    # Serialised beforehand: the clients share the machine with the server, and should cost it
    # as little as they can.
    payloads = [
        [json.dumps(envelopes(c, b, size, tag)).encode() for b in range(batches)]
        for c in range(clients)
    ]
    created = [0] * clients
    errors: list[str] = []
    # Warm-up, not timed: a worker builds its routes and statements at its first requests
    # (a second or more under load), which is not the rate it takes runs at.
    warm = [[json.dumps(envelopes(c, 0, 1, f"warm-{tag}")).encode()] for c in range(clients)]
    warm_threads = [
        threading.Thread(target=post_all, args=(server, token, warm[c], [0], 0, errors))
        for c in range(clients)
    ]
    for t in warm_threads:
        t.start()
    for t in warm_threads:
        t.join()
    threads = [
        threading.Thread(target=post_all, args=(server, token, payloads[c], created, c, errors))
        for c in range(clients)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError(errors[0])
    return sum(created) / elapsed


def post_all(
    server: Server, token: str, batches: list[bytes], created: list[int], c: int, errors: list[str]
) -> None:
    """One client: its batches, one after the other on one kept-alive HTTP/1.1 connection;
    what was created added to created[c]. The standard library's http.client rather than
    httpx: the clients share the machine's cores with the server, and httpx's own work per
    request was a fair part of a core at 8 clients (the server's figures do not change: its
    CPU per record is measured on its processes)."""
    import http.client

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    host, port = server.base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=120)
    try:
        for batch in batches:
            connection.request("POST", "/api/v1/records", body=batch, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                errors.append(answer[:200].decode(errors="replace"))
                return
            created[c] += json.loads(answer)["created"]
    finally:
        connection.close()


#: What tells the filled runs apart, one value each by the run's number (a summary groups on them).
STATUSES = ("finished", "finished", "failed", "running")
COUNTRIES = ("FRA", "DEU", "USA", "SWE", "IND")


def _table_rows(
    project: int, run_pk: int, start: int, count: int, run_name: str, number: int | None = None
):
    from wattprint.server.values import parse_time

    out = []
    for i in range(start, start + count):
        row = record(run_name, i)
        if number is not None:  # a filled run: on its own day of the year, status and country
            day = datetime(2026, 1, 1) + timedelta(days=number % 365, seconds=i)
            row.update(
                timestamp=day.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                status=STATUSES[number % 4],
                country_iso_code=COUNTRIES[number % 5],
            )
        row.update(
            project_pk=project,
            run_pk=run_pk,
            key=f"{run_name}:{i}",
            seq=i,
            at=parse_time(row["timestamp"]),
            origin="wattprint",
            task_name=None,
        )
        out.append(row)
    return out


RAW_METHODS = {"sqlite": ("executemany",), "postgresql": ("executemany", "copy")}
METHOD_NAMES = {"executemany": "executemany", "copy": "binary COPY"}


def raw_insert_rate(url: str, project: int, rows: int, method: str = "executemany") -> float:
    """The same rows inserted with the driver alone, one transaction per 100: ``executemany``
    of a one-row INSERT, or (PostgreSQL) ``copy``: binary COPY ... FROM STDIN straight into
    the table (psycopg's write_row), no conflict handling."""
    from sqlalchemy import insert

    from wattprint.server import db
    from wattprint.server.models import Emission, Run

    engine = db.make_engine(url)
    with engine.begin() as c:
        run_pk = c.execute(
            insert(Run)
            .values(
                project_id=project,
                experiment_id=_experiment(c),
                client_run_id=f"raw-{method}",
                emissions_count=0,
                name="",
                source="wattprint",
                status="running",
                last_seen=datetime(2026, 3, 1),
            )
            .returning(Run.id)
        ).scalar()
    columns = [c.name for c in Emission.__table__.c if c.name != "id"]
    batches = [
        _table_rows(project, run_pk, b * 100, 100, f"raw-{method}") for b in range(rows // 100)
    ]
    batches = [[tuple(r[c] for c in columns) for r in batch] for batch in batches]
    marks = ", ".join(["?" if url.startswith("sqlite") else "%s"] * len(columns))
    sql = f"INSERT INTO emissions ({', '.join(columns)}) VALUES ({marks})"
    copy_sql = f"COPY emissions ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        # binary, as the server's: each column's type named
        types = _types_in_order(cursor, columns) if method == "copy" else []
        start = time.perf_counter()
        for batch in batches:
            if method == "copy":
                with cursor.copy(copy_sql) as copy:
                    copy.set_types(types)
                    for row in batch:
                        copy.write_row(row)
            else:
                cursor.executemany(sql, batch)
            raw.commit()
        elapsed = time.perf_counter() - start
    finally:
        raw.close()
        engine.dispose()
    return rows / elapsed


def _types_in_order(cursor: Any, columns: list[str]) -> list[int]:
    cursor.execute(
        "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = 'emissions'::regclass "
        "AND attnum > 0 AND NOT attisdropped"
    )
    oids = dict(cursor.fetchall())
    return [oids[c] for c in columns]


def _experiment(connection: Any) -> int:
    from sqlalchemy import text

    return connection.execute(text("SELECT min(id) FROM experiments")).scalar()


def fill(url: str, project: int, target: int, have: int, per_run: int = ROWS_PER_RUN) -> int:
    """Rows straight into the database up to ``target`` emissions, ``per_run`` per run, each
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
            run_pk = s.execute(
                insert(Run)
                .values(
                    project_id=project,
                    experiment_id=experiment,
                    client_run_id=name,
                    name="",
                    source="wattprint",
                    status="running",
                    emissions_count=0,
                    last_seen=datetime(2026, 3, 1),
                )
                .returning(Run.id)
            ).scalar()
            rows = _table_rows(project, run_pk, 0, per_run, name, number=have // per_run)
            insert_new(s, Emission.__table__, rows, ("project_pk", "key"))
            last_id = s.scalar(select(func.max(Emission.id)).where(Emission.run_pk == run_pk))
            last = rows[-1]
            apply_totals(s, run_pk, last, last["at"], last["seq"], last_id)
            s.execute(update(Run).where(Run.id == run_pk).values(emissions_count=per_run))
        have += per_run
    engine.dispose()
    return have


def latency_ms(server: Server, token: str, path: str, repeats: int = 7) -> tuple[float, float]:
    """(the first request's time, which also warms caches and builds summary cells; the
    median of the next ``repeats``)."""
    import httpx

    times = []
    with httpx.Client(
        base_url=server.base, timeout=120, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        start = time.perf_counter()
        http.get(path).raise_for_status()
        first = (time.perf_counter() - start) * 1000
        for _ in range(repeats):
            start = time.perf_counter()
            http.get(path).raise_for_status()
            times.append((time.perf_counter() - start) * 1000)
    return first, statistics.median(times)


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
    if args.no_ingest:
        workers = []
    else:
        for method in RAW_METHODS[name]:
            rate = raw_insert_rate(url, project, args.raw_rows, method)
            suffix = "" if method == "executemany" else f"_{method}"  # the first: as before
            out[f"raw_insert{suffix}_rows_per_s"] = round(rate)
            print(
                f"{name}: the limit, the driver alone ({METHOD_NAMES[method]}, "
                f"100 rows a transaction): {rate:,.0f} rows/s",
                file=sys.stderr,
            )
    sources = [("", ROOT / "src")]
    if args.baseline:
        sources.insert(0, ("baseline_", Path(args.baseline)))
    for n in workers:
        for prefix, src in sources:
            server = Server(url, n, home, src)
            try:
                ingest_rate(server, token, args.clients, 1, 1, tag=f"{prefix}warm{n}-")
                cpu = server.cpu_s()
                rate = ingest_rate(
                    server, token, args.clients, args.batches, args.batch_size, tag=f"{prefix}w{n}-"
                )
                records_sent = args.clients * args.batches * args.batch_size
                cpu_us = (server.cpu_s() - cpu) / records_sent * 1e6
                out[f"{prefix}ingest_records_per_s_{n}_workers"] = round(rate)
                out[f"{prefix}server_cpu_us_per_record_{n}_workers"] = round(cpu_us)
                out[f"{prefix}rss_mb_{n}_workers"] = round(server.rss_mb())
            finally:
                server.stop()
            print(
                f"{name}: {prefix or 'this code, '}{n} worker(s): {rate:,.0f} records/s, "
                f"server CPU {cpu_us:.0f} µs/record (load average {os.getloadavg()[0]:.1f})",
                file=sys.stderr,
            )
    out["summaries"] = summaries_section(name, url, args, home)
    return out


def in_process_ms(url: str, project: int, by: str | None, repeats: int) -> dict[str, float]:
    """A summary in the server's process, without HTTP: added up in SQL (``summary``) and by
    the report's summariser on one Run per run (``reference_summary``, what the server did
    before), medians of ``repeats``."""
    from wattprint.server import db, summaries
    from wattprint.server.store import RunFilter

    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    f = RunFilter(project_id=project)
    out = {}
    for name, summarise in (("sql", summaries.summary), ("per_run", summaries.reference_summary)):
        times = []
        for _ in range(repeats + 1):  # the first warms the caches
            with db.transaction(factory) as s:
                start = time.perf_counter()
                summarise(s, f, by)
                times.append((time.perf_counter() - start) * 1000)
        out[name] = statistics.median(times[1:])
    engine.dispose()
    return out


def _sources(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """(figure prefix, src folder): this code's, and first the baseline's where one is given."""
    sources = [("", ROOT / "src")]
    if args.baseline:
        sources.insert(0, ("baseline_", Path(args.baseline)))
    return sources


def summaries_section(name: str, url: str, args: argparse.Namespace, home: Path):
    """For each layout (rows per run), a fresh database filled up to each size: the latency of
    the project summary and of its day-by-day series over HTTP, and in the process both ways."""
    sizes = []
    for per_run in args.rows_per_run:
        project, token = setup(url)
        have = 0
        for size in args.sizes:
            have = fill(url, project, size, have, per_run)
            total = count_emissions(url)
            timed: dict[str, float] = {}
            servers = []
            try:
                for prefix, src in _sources(args):
                    servers.append((prefix, Server(url, 1, home, src)))
                paths = {
                    # the same request's cost without a summary: token, routing, JSON
                    "project_ms": f"/api/v1/projects/{project}",
                    "summary_ms": f"/api/v1/projects/{project}/summary",
                    "by_day_ms": f"/api/v1/projects/{project}/summary?by=day",
                }
                for key, path in paths.items():
                    for prefix, server in servers:  # in turns: both share the load of the moment
                        first, timed[f"{prefix}{key}"] = latency_ms(server, token, path)
                        # the first summary after new runs builds their settled days' cells
                        timed[f"{prefix}first_{key}"] = first
                for prefix, server in servers:
                    timed[f"{prefix}rss_mb"] = server.rss_mb()
            finally:
                for _, server in servers:
                    server.stop()
            figures: dict[str, Any] = {"emissions": total, "runs": total // per_run}
            figures.update({k: round(v, 1) for k, v in timed.items()})
            if args.per_run_repeats:
                for by in (None, "day"):
                    both = in_process_ms(url, project, by, args.per_run_repeats)
                    tag = "_by_day" if by else ""
                    figures[f"in_process{tag}_sql_ms"] = round(both["sql"], 1)
                    figures[f"in_process{tag}_per_run_ms"] = round(both["per_run"], 1)
            figures["load_average"] = round(os.getloadavg()[0], 2)
            sizes.append(figures)
            print(f"{name}: {figures}", file=sys.stderr)
    return sizes


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
    parser.add_argument(
        "--rows-per-run",
        default=str(ROWS_PER_RUN),
        help="summaries: rows per run, one layout each (1000,100: 1,000,000 "
        "emissions in 1,000 and in 10,000 runs)",
    )
    parser.add_argument(
        "--per-run-repeats",
        type=int,
        default=3,
        help="summaries: also time, in the process, the SQL summary beside the "
        "report's summariser on one Run per run (the server before); 0: not",
    )
    parser.add_argument("--no-ingest", action="store_true", help="summaries only")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.rows_per_run = [int(s) for s in args.rows_per_run.split(",")]
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
