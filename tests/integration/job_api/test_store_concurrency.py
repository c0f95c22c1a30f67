"""Claims and leases under concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from services.job_api.db import create_db_engine
from services.job_api.domain import JobStatus, LeaseRef, NewJob, ProgressReport
from services.job_api.migrate import migrate
from services.job_api.store import JobStore

NEW = NewJob("motion", "detect_motion", "video", "clip.mp4", None)


@pytest.fixture
def store(database_url: str) -> Iterator[JobStore]:
    engine = create_db_engine(database_url, pool_size=8)
    migrate(engine)
    yield JobStore(engine, lease_seconds=30, max_attempts=3)
    engine.dispose()


def test_concurrent_claimers_never_share_a_job(store: JobStore) -> None:
    job_ids = {store.create_job(uuid.uuid4(), NEW, 10).job_id for _ in range(40)}
    claimed: list[uuid.UUID] = []
    lock = threading.Lock()

    def claim_until_empty(worker: int) -> None:
        while (claim := store.claim_job(f"worker-{worker}", ["motion"])) is not None:
            with lock:
                claimed.append(claim.job.job_id)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(claim_until_empty, range(6)))
    assert Counter(claimed).most_common(1)[0][1] == 1  # no job claimed twice
    assert set(claimed) == job_ids


def test_on_sqlite_this_process_writers_take_turns_before_the_database_lock(
    sqlite_database_url: str,
) -> None:
    """With SQLite's busy timeout at zero, a writer that found the database
    locked would fail at once ("database is locked"). 16 threads claiming
    together all succeed: the store lets one of them write at a time."""
    engine = create_db_engine(sqlite_database_url, pool_size=16)
    migrate(engine)
    event.listen(engine, "connect", _no_busy_timeout)
    engine.dispose()  # new connections, with the listener
    store = JobStore(engine, lease_seconds=30, max_attempts=3)
    try:
        job_ids = {store.create_job(uuid.uuid4(), NEW, 10).job_id for _ in range(160)}

        def claim_until_empty(worker: int) -> list[uuid.UUID]:
            claimed = []
            while (claim := store.claim_job(f"worker-{worker}", ["motion"])) is not None:
                claimed.append(claim.job.job_id)
            return claimed

        with ThreadPoolExecutor(max_workers=16) as pool:
            claimed = [job for jobs in pool.map(claim_until_empty, range(16)) for job in jobs]
        assert sorted(claimed) == sorted(job_ids)
    finally:
        engine.dispose()


def _no_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


def test_claims_only_take_the_plugins_asked_for(store: JobStore) -> None:
    store.create_job(uuid.uuid4(), NEW, 10)
    assert store.claim_job("w", ["people"]) is None
    assert store.claim_job("w", ["motion"]) is not None


def test_concurrent_progress_reports_are_never_lost_or_reordered(store: JobStore) -> None:
    job = store.create_job(uuid.uuid4(), NEW, 10)
    claim = store.claim_job("w", [])
    assert claim is not None
    lease = LeaseRef(job.job_id, claim.lease_id)

    def report(percent: int) -> None:
        store.report_progress(lease, ProgressReport(percent, percent, 100))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(report, range(0, 100, 3)))
    final = store.get_job(job.job_id)
    assert final.progress == 99  # the highest report wins, whatever the order
    assert final.current_frame == 99


def test_reapers_running_together_expire_each_lease_once(database_url: str) -> None:
    engine = create_db_engine(database_url)
    migrate(engine)
    later = datetime.now(UTC) + timedelta(minutes=5)
    store = JobStore(engine, lease_seconds=1, max_attempts=3)
    future_store = JobStore(engine, lease_seconds=1, max_attempts=3, clock=lambda: later)
    try:
        for _ in range(10):
            store.create_job(uuid.uuid4(), NEW, 10)
            assert store.claim_job("w", []) is not None
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda _: future_store.expire_leases(), range(4)))
        expired = [record.job_id for batch in results for record in batch]
        assert len(expired) == len(set(expired)) == 10
        page = store.list_jobs(100, None, None)
        assert {job.status for job in page} == {JobStatus.PENDING}
        assert {job.attempt for job in page} == {1}
    finally:
        engine.dispose()
