"""The snapshot cache keeps the newest version and expires shared-database entries."""

from __future__ import annotations

import uuid
from dataclasses import replace

from services.job_api.domain import JobStatus
from services.job_api.snapshots import SnapshotCache
from tests.unit.job_api.test_hub import record


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_newest_version_wins_whatever_the_order() -> None:
    cache = SnapshotCache(max_age_seconds=None)
    job_id = uuid.uuid4()
    cache.offer(record(job_id, 5))
    cache.offer(record(job_id, 3))  # a slow reader arriving late
    held = cache.get(job_id)
    assert held is not None
    assert held.version == 5
    cache.offer(record(job_id, 6))
    assert (cache.get(job_id) or record(job_id, 0)).version == 6


def test_without_max_age_entries_never_expire() -> None:
    clock = FakeClock()
    cache = SnapshotCache(max_age_seconds=None, clock=clock)
    job_id = uuid.uuid4()
    cache.offer(record(job_id, 1))
    clock.now = 1e9
    assert cache.get(job_id) is not None


def test_with_max_age_unfinished_jobs_expire_but_finished_ones_do_not() -> None:
    clock = FakeClock()
    cache = SnapshotCache(max_age_seconds=0.5, clock=clock)
    running, done = uuid.uuid4(), uuid.uuid4()
    cache.offer(record(running, 1))
    cache.offer(replace(record(done, 2), status=JobStatus.COMPLETED))
    clock.now = 0.4
    assert cache.get(running) is not None
    clock.now = 0.6
    assert cache.get(running) is None
    assert cache.get(done) is not None


def test_capacity_evicts_the_least_recently_used() -> None:
    cache = SnapshotCache(max_age_seconds=None, capacity=2)
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cache.offer(record(first, 1))
    cache.offer(record(second, 1))
    assert cache.get(first) is not None  # first is now the most recently used
    cache.offer(record(third, 1))
    assert len(cache) == 2
    assert cache.get(second) is None
    assert cache.get(first) is not None
    assert cache.get(third) is not None
