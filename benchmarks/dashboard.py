"""The dashboard's server time per page as a project's emissions grow.

    .venv/bin/python benchmarks/dashboard.py                          # SQLite, 10k and 100k
    .venv/bin/python benchmarks/dashboard.py --sizes 10000,100000,1000000 --json dashboard.json
    .venv/bin/python benchmarks/dashboard.py --postgres-url postgresql+psycopg://u@host:port/db
    .venv/bin/python benchmarks/dashboard.py --sizes 1000000 --database /tmp/dash.sqlite3 \
        --baseline /tmp/before/src          # before/after on one database, kept for next time

Rows go straight into the database as benchmarks/server.py's summaries do (1,000 per run), then
``wattprint server`` (a subprocess) is asked for the organization, project, run, team,
experiment and map pages, as HTML and as their ``?format=json`` data, with a signed-in
administrator's session cookie; each figure is the median of 7 requests after one to warm up
(``_kb``: the HTML page's size).
The goal (issue 12): < 300 ms a page at 1,000,000 emissions. The PostgreSQL database given is
emptied (schema dropped) first. ``--database FILE``: an SQLite file kept between runs (filled
once; a later run adds only what a larger size needs). ``--baseline SRC`` (the ``src`` folder
of another checkout): that code's server is asked for each page too, in turns with this one's
on the same database, so that both share the machine's load of the moment.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import server as load  # noqa: E402  (benchmarks/server.py: its setup, fill and Server)


def admin_session(url: str) -> tuple[str, int, int, int, int]:
    """(a session token of a server administrator, the organization id, a run id, a team id,
    an experiment id): the project joins a team made for the team page."""
    from sqlalchemy import select

    from wattprint.server import db, store
    from wattprint.server.models import Project, Run, Team

    engine = db.make_engine(url)
    with db.transaction(db.session_factory(engine)) as s:
        user = store.user_by_email(s, "bench@example.org")
        if user is None:
            user = store.create_user(s, "bench@example.org", "a bench password", True)
        _, token = store.create_personal_token(s, user.id, "sign-in", None)
        organization = s.scalar(select(Project.organization_id).limit(1))
        run = s.scalar(select(Run.id).order_by(Run.id.desc()).limit(1))
        experiment = s.scalar(select(Run.experiment_id).where(Run.id == run))
        team = s.scalar(select(Team.id).where(Team.organization_id == organization).limit(1))
        if team is None:
            team = store.create_team(s, organization, "bench-team", "").id
        for project in s.scalars(select(Project).where(Project.organization_id == organization)):
            project.team_id = team
    engine.dispose()
    return token, organization, run, team, experiment


def page_ms(base: str, token: str, path: str, repeats: int = 7) -> tuple[float, int]:
    """(the median time of ``repeats`` requests after one to warm up, the answer's size)."""
    import httpx

    with httpx.Client(base_url=base, timeout=120, cookies={"wattprint_session": token}) as http:
        http.get(path).raise_for_status()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            answer = http.get(path)
            times.append((time.perf_counter() - start) * 1000)
            answer.raise_for_status()
    return statistics.median(times), len(answer.content)


def bench(
    name: str, url: str, sizes: list[int], home: Path, baseline: Path | None, keep: bool = False
) -> dict[str, Any]:
    project, have = _reuse(url) if keep else (None, 0)
    if project is None:
        project, _token = load.setup(url)
    out = []
    sources = [("", load.ROOT / "src")]
    if baseline is not None:
        sources.insert(0, ("baseline_", baseline))
    for size in sizes:
        have = load.fill(url, project, size, have) if size > have else have
        token, organization, run, team, experiment = admin_session(url)
        servers = []
        try:
            for prefix, src in sources:
                servers.append((prefix, load.Server(url, 1, home, src)))
            row: dict[str, Any] = {
                "emissions": load.count_emissions(url),
                "runs": have // load.ROWS_PER_RUN,
            }
            pages = {"organization": f"/org/{organization}", "project": f"/project/{project}",
                     "run": f"/run/{run}", "team": f"/team/{team}",
                     "experiment": f"/experiment/{experiment}",
                     "map": f"/org/{organization}/map"}  # fmt: skip
            for page, path in pages.items():
                for prefix, server in servers:  # in turns: both share the load of the moment
                    html_ms, size = page_ms(server.base, token, path)
                    row[f"{prefix}{page}_ms"] = round(html_ms, 1)
                    row[f"{prefix}{page}_kb"] = round(size / 1024)
                    json_ms, _ = page_ms(server.base, token, path + "?format=json")
                    row[f"{prefix}{page}_json_ms"] = round(json_ms, 1)
            row["load_average"] = round(os.getloadavg()[0], 2)
        finally:
            for _, server in servers:
                server.stop()
        print(f"{name}: {row}", file=sys.stderr)
        out.append(row)
    return {"database": name, "pages": out}


def _reuse(url: str) -> tuple[int | None, int]:
    """(the project, how many emissions it has) of a database this benchmark filled before;
    (None, 0) where there is none."""
    from sqlalchemy import text

    from wattprint.server import db

    if not Path(url.removeprefix("sqlite:///")).exists():
        return None, 0
    engine = db.make_engine(url)
    try:
        with engine.connect() as c:
            project = c.execute(text("SELECT min(id) FROM projects")).scalar()
    finally:
        engine.dispose()
    return (project, load.count_emissions(url)) if project is not None else (None, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--database", help="an SQLite file to fill once and keep (SQLite's)")
    parser.add_argument("--baseline", help="another checkout's src folder: its pages too")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    baseline = Path(args.baseline) if args.baseline else None
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = Path(args.database).resolve() if args.database else home / "bench.sqlite3"
        results.append(
            bench("sqlite", f"sqlite:///{path}", sizes, home, baseline, bool(args.database))
        )
        if args.postgres_url:
            results.append(bench("postgresql", args.postgres_url, sizes, home, baseline))
    text = json.dumps({"cpus": os.cpu_count(), "results": results}, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")


if __name__ == "__main__":
    main()
