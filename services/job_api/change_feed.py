"""Job changes shared between job API replicas through PostgreSQL LISTEN/NOTIFY.

Every transaction that changes a job also runs ``pg_notify`` with the new
snapshot, so the notification is delivered exactly when (and only if) the
change commits. Each replica listens on one dedicated connection and hands
what arrives to its watchers, its snapshot cache and its waiting claimers:
a watcher on replica A sees progress reported to replica B without polling.

Notifications can be missed (the listening connection drops, the database
restarts). So the feed tells the replica whether it is connected; while it is
not, the snapshot cache is not trusted, and watchers' slow poll covers the gap.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from services.common.backoff import Backoff
from services.job_api.domain import JobRecord, JobStatus

log = structlog.get_logger(__name__)

CHANNEL = "forgesyte_jobs"
RECONNECT_INITIAL_SECONDS = 0.2
RECONNECT_MAX_SECONDS = 5.0
_DATETIME_FIELDS = ("created_at", "updated_at", "started_at", "finished_at")


def encode(record: JobRecord) -> str:
    """A snapshot as a NOTIFY payload (well under PostgreSQL's 8000-byte limit)."""
    data: dict[str, Any] = dict(record.__dict__)
    data["job_id"] = str(record.job_id)
    data["status"] = record.status.value
    for name in _DATETIME_FIELDS:
        value = data[name]
        data[name] = value.isoformat() if value is not None else None
    return json.dumps(data, separators=(",", ":"))


def decode(payload: str) -> JobRecord:
    data: dict[str, Any] = json.loads(payload)
    data["job_id"] = uuid.UUID(data["job_id"])
    data["status"] = JobStatus(data["status"])
    for name in _DATETIME_FIELDS:
        value = data[name]
        data[name] = datetime.fromisoformat(value) if value is not None else None
    return JobRecord(**data)


def notify(session: Session, record: JobRecord) -> None:
    """Queue a change notification; PostgreSQL sends it when the transaction commits."""
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {
            "channel": CHANNEL,
            "payload": encode(record),
        },
    )


def libpq_url(sqlalchemy_url: str) -> str:
    """The psycopg connection string for a SQLAlchemy ``postgresql+psycopg`` URL."""
    url = make_url(sqlalchemy_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ChangeFeed:
    """Listens for other replicas' changes and hands each to ``on_change``."""

    def __init__(
        self,
        database_url: str,
        on_change: Callable[[JobRecord], None],
        on_connection_change: Callable[[bool], None],
    ) -> None:
        self._conninfo = libpq_url(database_url)
        self._on_change = on_change
        self._on_connection_change = on_connection_change
        self.connected = False

    async def run(self) -> None:
        """Listen forever, reconnecting with backoff (until cancelled)."""
        backoff = Backoff(RECONNECT_INITIAL_SECONDS, RECONNECT_MAX_SECONDS, jitter=False)
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError) as error:
                log.warning("change feed disconnected; reconnecting", error=str(error))
            if self.connected:
                backoff.reset()  # it had worked: retry promptly
            self._set_connected(False)
            await asyncio.sleep(backoff.delay())

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True
        ) as connection:
            await connection.execute(f"LISTEN {CHANNEL}")
            self._set_connected(True)
            async for notification in connection.notifies():
                try:
                    record = decode(notification.payload)
                except (ValueError, KeyError, TypeError):
                    log.error("ignored a malformed change notification")
                    continue
                self._on_change(record)

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            log.info("change feed", connected=connected)
            self._on_connection_change(connected)
