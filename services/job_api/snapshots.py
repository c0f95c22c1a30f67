"""The latest known snapshot of recently used jobs, so that status polling
does not cost a database round trip per call.

Every change this process commits passes through ``offer``; a snapshot is
kept only if its version is not older than the one held, so concurrent
writers and readers can offer in any order and the newest always wins.

When this process is the only writer (the embedded SQLite deployment), that
makes the cache exact. When replicas share a database, changes made by the
others arrive late or not at all, so entries of unfinished jobs then expire
after ``max_age_seconds``. Finished jobs never change and never expire.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable

from services.job_api.domain import JobRecord

DEFAULT_CAPACITY = 10_000


class SnapshotCache:
    """A bounded, version-checked map from job id to its newest snapshot."""

    def __init__(
        self,
        *,
        max_age_seconds: float | None,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[uuid.UUID, tuple[JobRecord, float]] = OrderedDict()
        self._max_age = max_age_seconds
        self._capacity = capacity
        self._clock = clock

    def get(self, job_id: uuid.UUID) -> JobRecord | None:
        entry = self._entries.get(job_id)
        if entry is None:
            return None
        record, stored_at = entry
        expired = (
            self._max_age is not None
            and not record.status.is_terminal
            and self._clock() - stored_at > self._max_age
        )
        if expired:
            del self._entries[job_id]
            return None
        self._entries.move_to_end(job_id)
        return record

    def offer(self, record: JobRecord) -> None:
        """Keep ``record`` unless a newer version of the job is already held."""
        held = self._entries.get(record.job_id)
        if held is not None and held[0].version > record.version:
            return
        self._entries[record.job_id] = (record, self._clock())
        self._entries.move_to_end(record.job_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
