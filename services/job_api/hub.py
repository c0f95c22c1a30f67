"""Fan-out of job changes to the WatchProgress streams of this process.

Every change the job API commits is published here; each watcher has its own
small queue, so one slow stream never delays the others. Watchers also
re-read the job now and then (see ``jobs.JobManager.watch``), so a change
that never reaches the hub (another replica, a lost notification) delays an
update but never stalls a stream.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from services.job_api.domain import JobRecord
from services.job_api.errors import ServerShuttingDown


class Subscription:
    """The changes of one job, for one watcher."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[JobRecord | None] = asyncio.Queue()

    def deliver(self, record: JobRecord | None) -> None:
        self._queue.put_nowait(record)

    async def next(self, within_seconds: float) -> JobRecord | None:
        """The next change, or None when none came within the given time."""
        try:
            record = await asyncio.wait_for(self._queue.get(), within_seconds)
        except TimeoutError:
            return None
        if record is None:
            raise ServerShuttingDown("the server is shutting down; watch again to resume")
        return record


class ProgressHub:
    """Routes each published job change to that job's subscribers."""

    def __init__(self) -> None:
        self._subscribers: dict[uuid.UUID, set[Subscription]] = defaultdict(set)
        self._closed = False

    @contextmanager
    def subscribe(self, job_id: uuid.UUID) -> Iterator[Subscription]:
        if self._closed:
            raise ServerShuttingDown("the server is shutting down; retry shortly")
        subscription = Subscription()
        self._subscribers[job_id].add(subscription)
        try:
            yield subscription
        finally:
            watchers = self._subscribers.get(job_id)
            if watchers is not None:
                watchers.discard(subscription)
                if not watchers:
                    del self._subscribers[job_id]

    def publish(self, record: JobRecord) -> None:
        for subscription in self._subscribers.get(record.job_id, ()):
            subscription.deliver(record)

    def close(self) -> None:
        """Wake every watcher so its stream can end (server shutdown)."""
        self._closed = True
        for watchers in self._subscribers.values():
            for subscription in watchers:
                subscription.deliver(None)

    @property
    def watcher_count(self) -> int:
        return sum(len(watchers) for watchers in self._subscribers.values())
