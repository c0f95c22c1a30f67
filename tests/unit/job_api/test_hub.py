"""Fan-out of job changes to watchers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from services.job_api.domain import JobRecord, JobStatus
from services.job_api.errors import ServerShuttingDown
from services.job_api.hub import ProgressHub

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def record(job_id: uuid.UUID, version: int) -> JobRecord:
    return JobRecord(
        job_id=job_id,
        status=JobStatus.RUNNING,
        progress=version,
        created_at=NOW,
        updated_at=NOW,
        plugin_id="motion",
        tool="detect_motion",
        job_type="video",
        original_filename="a.mp4",
        input_size_bytes=1,
        current_frame=None,
        total_frames=None,
        attempt=1,
        max_attempts=3,
        error_message=None,
        started_at=NOW,
        finished_at=None,
        cancel_requested=False,
        version=version,
    )


async def test_each_watcher_gets_every_change_of_its_job_only() -> None:
    hub = ProgressHub()
    mine, other = uuid.uuid4(), uuid.uuid4()
    with hub.subscribe(mine) as first, hub.subscribe(mine) as second, hub.subscribe(other) as third:
        hub.publish(record(mine, 2))
        hub.publish(record(mine, 3))
        for subscription in (first, second):
            got = [await subscription.next(1.0), await subscription.next(1.0)]
            assert [r.version for r in got if r] == [2, 3]
        assert await third.next(0.01) is None
    assert hub.watcher_count == 0


async def test_closing_ends_every_watch() -> None:
    hub = ProgressHub()
    with hub.subscribe(uuid.uuid4()) as subscription:
        hub.close()
        with pytest.raises(ServerShuttingDown):
            await subscription.next(1.0)
    with pytest.raises(ServerShuttingDown), hub.subscribe(uuid.uuid4()):
        pass
