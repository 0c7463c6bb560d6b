"""Schema migrations (Alembic, shipped in the package), run from code.

``upgrade`` brings a database to this version's schema; a database that a newer wattprint has
migrated is refused with the command to run, never altered.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
UPGRADE_HINT = "pip install --upgrade 'wattprint[server]'"


class DatabaseNewerError(RuntimeError):
    """The database's schema is newer than this wattprint's."""


def _config(connection=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The newest revision this code has. Read once: it reads every migration script (some
    13 ms), and the health check asks at each request."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def current(engine: Engine) -> str | None:
    """The database's revision; None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def check_not_newer(engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    revision = current(engine)
    if revision is None:
        return
    scripts = ScriptDirectory.from_config(_config())
    known = {s.revision for s in scripts.walk_revisions()}
    if revision not in known:
        raise DatabaseNewerError(
            f"the database is at schema revision {revision}, which this wattprint does not know: "
            f"a newer wattprint migrated it. Upgrade this one ({UPGRADE_HINT}) rather than let "
            "an older server write to it."
        )


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Migrate to ``revision``; the revision the database is at afterwards."""
    from alembic import command

    check_not_newer(engine)
    with engine.begin() as connection:
        command.upgrade(_config(connection), revision)
    return current(engine) or ""


def downgrade(engine: Engine, revision: str) -> str | None:
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(_config(connection), revision)
    return current(engine)


def is_current(engine: Engine) -> bool:
    return current(engine) == head()
