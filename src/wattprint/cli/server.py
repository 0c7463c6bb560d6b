"""``wattprint server``: run the team server, migrate it, add users, bootstrap a project.

The server's packages (``pip install 'wattprint[server]'``) are imported inside the commands, so
``wattprint --help`` stays quick and works without them.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="server",
    help="The team server: one place for an organization's runs (needs the server extra).",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
users = typer.Typer(name="user", help="The server's users.", no_args_is_help=True)
app.add_typer(users)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        help="sqlite:///PATH or postgresql+psycopg://USER:PASS@HOST/DB "
        "(default: server_database_url, else SQLite in your data folder)"
    ),
]


def _group_url(ctx: typer.Context, given: str | None) -> str | None:
    return given or (ctx.obj or {}).get("database_url")


def _settings(**given: Any) -> Any:
    from importlib.util import find_spec

    missing = [
        m
        for m in ("fastapi", "sqlalchemy", "alembic", "uvicorn", "argon2", "platformdirs")
        if find_spec(m) is None
    ]
    if missing:
        typer.echo(
            f"wattprint: the server needs its extra ({', '.join(missing)} missing): "
            "pip install 'wattprint[server]'",
            err=True,
        )
        raise typer.Exit(2)
    from ..server.settings import load_settings

    try:
        return load_settings(**given)
    except ValueError as exc:
        typer.echo(f"wattprint: {exc}", err=True)
        raise typer.Exit(2) from None


def _guard(fn: Any, *args: Any) -> Any:
    """User errors (and a database newer than this wattprint) as one line, exit 2."""
    from ..server.migrate import DatabaseNewerError

    try:
        return fn(*args)
    except (ValueError, DatabaseNewerError) as exc:
        typer.echo(f"wattprint: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # a database that cannot be reached, mostly
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            typer.echo(f"wattprint: cannot use the database: {exc.orig}", err=True)
            raise typer.Exit(1) from None
        raise


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="address to listen on (default: server_host, 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port (default: server_port, 8000)")] = None,
    database_url: DatabaseUrl = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="worker processes (default: server_workers, 1)")
    ] = None,
) -> None:
    """Run the server (http://127.0.0.1:8000 by default); it migrates the database first."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"database_url": database_url}  # `server --database-url X migrate` works too
        return
    settings = _settings(host=host, port=port, database_url=database_url, workers=workers)
    _guard(_serve, settings)


def _serve(settings: Any) -> None:
    import os

    import uvicorn

    from ..server import admin, migrate

    engine = admin.migrated_engine(settings)
    engine.dispose()
    typer.echo(
        f"wattprint server: database {admin.shown_url(settings.url)} (schema {migrate.head()})",
        err=True,
    )
    if admin.user_count(settings) == 0:
        typer.echo(
            "wattprint server: no user yet; create the first one with\n"
            "    wattprint server user add you@example.org --admin",
            err=True,
        )
    typer.echo(
        f"wattprint server: http://{settings.host}:{settings.port} (API docs at /api/docs)",
        err=True,
    )
    # Each worker builds its app from the environment: hand the resolved settings down.
    from ..server.settings import as_environment

    os.environ.update(as_environment(settings))
    uvicorn.run(
        "wattprint.server.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level="info",
        server_header=False,
    )


@app.command()
def migrate(ctx: typer.Context, database_url: DatabaseUrl = None) -> None:
    """Bring the database's schema up to this version (``wattprint server`` does it on start)."""
    settings = _settings(database_url=_group_url(ctx, database_url))

    def run() -> None:
        from ..server import admin
        from ..server import migrate as migrations

        engine = admin.db.make_engine(settings.url)
        before = migrations.current(engine)
        after = migrations.upgrade(engine)
        engine.dispose()
        word = "already at" if before == after else f"migrated from {before or 'empty'} to"
        typer.echo(f"{admin.shown_url(settings.url)}: {word} schema {after}")

    _guard(run)


def _duration_s(text: str) -> float:
    """``90s``, ``30m``, ``1h``, ``2d`` (a bare number: seconds) in seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip().lower()
    factor = units.get(value[-1:], None)
    number = value[:-1] if factor else value
    try:
        seconds = float(number) * (factor or 1)
    except ValueError:
        raise typer.BadParameter(f"{text!r}: give a duration such as 90m, 1h or 2d") from None
    if seconds <= 0:
        raise typer.BadParameter(f"{text!r}: give a duration above zero")
    return seconds


@app.command("close-stale")
def close_stale(
    ctx: typer.Context,
    older_than: Annotated[
        str, typer.Option("--older-than", help="silent for at least this long: 90m, 1h, 2d")
    ] = "1h",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list them, close nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Close runs left "running" by a process that died: every run still running that has sent
    nothing for --older-than becomes "interrupted", with a note saying the server closed it and
    when it was last heard from. A run that sends again takes its status from its newest row."""
    seconds = _duration_s(older_than)
    settings = _settings(database_url=_group_url(ctx, database_url))
    from ..server import admin

    found = _guard(admin.close_stale, settings, seconds, dry_run)
    if as_json:
        typer.echo(json.dumps({"dry_run": dry_run, "runs": found}))
        return
    for run in found:
        what = "would close" if dry_run else ("closed" if run["closed"] else "left")
        why = f" ({run['why']})" if run.get("why") else ""
        typer.echo(
            f"{what} run {run['id']} ({run['run_id']}, project {run['project_id']}): "
            f"last heard from {run['last_seen'] or 'never'} UTC{why}"
        )
    closed = sum(1 for r in found if r["closed"])
    typer.echo(
        f"{len(found)} run(s) silent for {older_than} or more"
        + ("" if dry_run else f"; {closed} closed as interrupted")
    )


@users.command("add")
def user_add(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="the user's e-mail address (their sign-in)")],
    admin_: Annotated[bool, typer.Option("--admin", help="administrator of the server")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from stdin")
    ] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create a user (asks for the password, or reads it from stdin)."""
    settings = _settings(database_url=_group_url(ctx.parent or ctx, database_url))
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    from ..server import admin

    user_id = _guard(admin.add_user, settings, email, password, admin_)
    typer.echo(f"user {email} created (id {user_id}){', administrator' if admin_ else ''}")


@app.command()
def bootstrap(
    ctx: typer.Context,
    org: Annotated[str, typer.Option("--org", help="organization name")],
    project: Annotated[str, typer.Option("--project", help="project name")],
    team: Annotated[str | None, typer.Option("--team", help="team name")] = None,
    experiment: Annotated[str | None, typer.Option(help="experiment (default: default)")] = None,
    owner: Annotated[
        str | None, typer.Option(help="e-mail of a user to make owner (and a member of --team)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Create the organization, team, project and experiment named (those that do not exist yet)
    and an ingest token for the project, shown this once."""
    settings = _settings(database_url=_group_url(ctx, database_url))
    from ..server import admin

    made = _guard(admin.bootstrap, settings, org, team, project, experiment, owner)
    if as_json:
        typer.echo(json.dumps(made))
        return
    for key, value in made.items():
        if key != "token":
            typer.echo(f"{key}: {value}")
    typer.echo(f"token (ingest, shown once): {made['token']}")
    typer.echo("send runs with WATTPRINT_SERVER_URL=<this server> WATTPRINT_SERVER_TOKEN=<token>")
