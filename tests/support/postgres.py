"""A throw-away schema in the real PostgreSQL, one per test.

PostgreSQL runs on this machine kind (127.0.0.1:5432, trust auth, database
``test``); ``FORGESYTE_TEST_POSTGRES_URL`` points elsewhere. The tests need
it and fail loudly when it is missing rather than skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    return os.environ.get("FORGESYTE_TEST_POSTGRES_URL", DEFAULT_URL)


@contextmanager
def temporary_schema() -> Iterator[str]:
    """Yield a URL whose search_path is a new, empty schema; drop it afterwards."""
    schema = f"fs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        admin.dispose()
        raise RuntimeError(
            f"PostgreSQL is required for these tests and is not reachable at {admin_url()}: {error}"
        ) from error
    url = make_url(admin_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class DatabaseSwitch:
    """Makes a throw-away database refuse and then accept connections again."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _admin(self, statement: str) -> None:
        admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(statement))
        finally:
            admin.dispose()

    def cut_off(self) -> None:
        """Refuse new connections and drop the open ones: the database is 'down'."""
        self._admin(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS false')
        self._admin(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'"
        )

    def restore(self) -> None:
        self._admin(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS true')


@contextmanager
def temporary_database() -> Iterator[tuple[str, DatabaseSwitch]]:
    """A new database of its own (so cutting it off disturbs nobody else)."""
    name = f"fs_test_{uuid.uuid4().hex[:12]}"
    switch = DatabaseSwitch(name)
    switch._admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url()).set(database=name).render_as_string(hide_password=False), switch
    finally:
        switch.restore()
        switch._admin(f'DROP DATABASE "{name}" WITH (FORCE)')
