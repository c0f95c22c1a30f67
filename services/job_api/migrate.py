"""Apply the Alembic migrations: on server start and as a command.

forgesyte-job-api migrate            # upgrade to head
forgesyte-job-api migrate --to 0002  # upgrade or downgrade to a revision
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs on ``engine`` without any alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # configparser treats "%" as interpolation; URLs may contain escapes.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


def migrate(engine: Engine, target: str = "head") -> None:
    """Move the schema to ``target`` (upgrading or downgrading as needed)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        current = MigrationContext.configure(connection).get_current_revision()
        script = ScriptDirectory.from_config(config)
        wanted = script.get_current_head() if target == "head" else target
        if current == wanted:
            return
        if current is not None and _is_ancestor(script, wanted, current):
            command.downgrade(config, target)
        else:
            command.upgrade(config, target)


def _is_ancestor(script: ScriptDirectory, maybe_ancestor: str | None, revision: str) -> bool:
    """True when ``maybe_ancestor`` lies below ``revision`` (so reaching it means downgrading)."""
    if maybe_ancestor is None or maybe_ancestor == "base":
        return True
    return any(r.revision == maybe_ancestor for r in script.iterate_revisions(revision, "base"))
