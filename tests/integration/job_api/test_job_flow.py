"""A job's whole life over real gRPC, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import pytest

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from forgesyte.jobs.v1 import worker_service_pb2 as worker_pb
from tests.support.api import Clients, lease_of, worker_metadata


@pytest.fixture
def job_api_database_url(database_url: str) -> str:
    return database_url


VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 900  # ~230 KB, several chunks


async def watch_all(clients: Clients, job_id: str) -> list[job_pb2.Job]:
    stream = clients.jobs.WatchProgress(jobs_pb.WatchProgressRequest(job_id=job_id))
    return [message.job async for message in stream]


async def test_submit_claim_progress_complete_watch_and_fetch_results(clients: Clients) -> None:
    await clients.advertise()
    submitted = await clients.submit(VIDEO, filename="../../etc/passwd")
    assert submitted.status == job_pb2.JOB_STATUS_PENDING
    assert not submitted.HasField("progress")
    assert submitted.input_size_bytes == len(VIDEO)
    assert submitted.original_filename == "passwd"

    watcher = asyncio.create_task(watch_all(clients, submitted.job_id))
    await asyncio.sleep(0.2)  # the watcher holds its snapshot before work starts

    claim = await clients.claim()
    assert claim.job.job_id == submitted.job_id
    assert claim.job.attempt == 1
    lease = lease_of(claim)
    downloaded = b"".join(
        [
            m.chunk
            async for m in clients.worker.DownloadInput(
                worker_pb.DownloadInputRequest(lease=lease),
                metadata=worker_metadata(),
            )
        ]
    )
    assert downloaded == VIDEO

    for percent, frame in [(0, 1), (5, 5), (50, 50), (40, 40), (100, 100)]:
        ack = await clients.report(lease, percent, current_frame=frame, total_frames=100)
        assert not ack.cancel_requested
    running = await clients.status(submitted.job_id)
    assert running.status == job_pb2.JOB_STATUS_RUNNING
    assert running.progress == 99  # never 100 while running
    assert running.current_frame == 100

    document = json.dumps({"frames": [], "summary": {"total_frames": 100}}).encode()
    completed = await clients.complete(lease, document)
    assert completed.status == job_pb2.JOB_STATUS_COMPLETED
    assert completed.progress == 100
    assert completed.HasField("finished_at")

    snapshots = await asyncio.wait_for(watcher, timeout=10)
    statuses = [s.status for s in snapshots]
    assert statuses[0] == job_pb2.JOB_STATUS_PENDING
    assert statuses[-1] == job_pb2.JOB_STATUS_COMPLETED
    progress = [s.progress for s in snapshots if s.HasField("progress")]
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert 99 in progress
    versions = [s.version for s in snapshots]
    assert versions == sorted(set(versions))  # one message per change, in order

    assert json.loads(await clients.results(submitted.job_id)) == json.loads(document)


async def test_watch_of_a_finished_job_sends_one_snapshot_and_ends(clients: Clients) -> None:
    await clients.advertise()
    job = await clients.submit(VIDEO)
    await clients.jobs.CancelJob(jobs_pb.CancelJobRequest(job_id=job.job_id))
    snapshots = await asyncio.wait_for(watch_all(clients, job.job_id), timeout=5)
    assert [s.status for s in snapshots] == [job_pb2.JOB_STATUS_CANCELLED]
