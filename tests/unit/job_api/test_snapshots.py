"""The snapshot cache keeps the newest version of each job, within a bound."""

from __future__ import annotations

import uuid

from services.job_api.snapshots import SnapshotCache
from tests.unit.job_api.test_hub import record


def test_the_newest_version_wins_whatever_the_order() -> None:
    cache = SnapshotCache()
    job_id = uuid.uuid4()
    cache.offer(record(job_id, 5))
    cache.offer(record(job_id, 3))  # a slow reader arriving late
    held = cache.get(job_id)
    assert held is not None
    assert held.version == 5
    cache.offer(record(job_id, 6))
    assert (cache.get(job_id) or record(job_id, 0)).version == 6


def test_capacity_evicts_the_least_recently_used() -> None:
    cache = SnapshotCache(capacity=2)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cache.offer(record(first, 1))
    cache.offer(record(second, 1))
    assert cache.get(first) is not None  # first is now the most recently used
    cache.offer(record(third, 1))
    assert len(cache) == 2
    assert cache.get(second) is None
    assert cache.get(first) is not None
    assert cache.get(third) is not None


def test_clear_forgets_everything() -> None:
    cache = SnapshotCache()
    job_id = uuid.uuid4()
    cache.offer(record(job_id, 1))
    cache.clear()
    assert cache.get(job_id) is None
    assert len(cache) == 0
