"""The latest known snapshot of recently used jobs, so that status polling
does not cost a database round trip per call.

Every change this process commits, and (on PostgreSQL) every change another
replica announces, passes through ``offer``. A snapshot is kept only if its
version is not older than the one held, so writers, readers and
notifications can offer in any order and the newest always wins. The job
manager decides when the cache may be trusted at all (see ``jobs``).
"""

from __future__ import annotations

import uuid
from collections import OrderedDict

from services.job_api.domain import JobRecord

DEFAULT_CAPACITY = 10_000


class SnapshotCache:
    """A bounded, version-checked map from job id to its newest snapshot."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._entries: OrderedDict[uuid.UUID, JobRecord] = OrderedDict()
        self._capacity = capacity

    def get(self, job_id: uuid.UUID) -> JobRecord | None:
        record = self._entries.get(job_id)
        if record is not None:
            self._entries.move_to_end(job_id)
        return record

    def offer(self, record: JobRecord) -> None:
        """Keep ``record`` unless a newer version of the job is already held."""
        held = self._entries.get(record.job_id)
        if held is not None and held.version > record.version:
            return
        self._entries[record.job_id] = record
        self._entries.move_to_end(record.job_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
