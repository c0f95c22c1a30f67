"""Two job API replicas and four workers on one real PostgreSQL.

Jobs are submitted through both replicas and claimed by workers connected
to either; watchers on one replica follow jobs driven through the other.
Midway, the database drops every connection of this test
(``pg_terminate_backend``), and everything must recover.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from services.common.channels import open_channel
from services.job_api.server import RunningJobApi, start_job_api
from services.worker.attempt import AttemptStats
from services.worker.client import WorkerClient
from services.worker.plugin_api import PluginRegistry
from services.worker.runtime import Worker
from tests.conftest import FAST_TIMINGS, job_api_settings
from tests.integration.worker.conftest import TERMINAL, follow, wait_until_advertised
from tests.support.api import WORKER_TOKEN, Clients, connect, watch_health
from tests.support.postgres import admin_url, temporary_database, temporary_schema
from tests.support.test_plugins import PacedPlugin
from tests.videos import make_flat_video

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
JOBS = 200
WORKERS = 4
WATCHED = 20


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with temporary_schema() as url:
        name = f"fs_scale_{uuid.uuid4().hex[:8]}"
        yield (
            make_url(url)
            .update_query_dict({"application_name": name})
            .render_as_string(hide_password=False)
        )


def terminate_connections(url: str) -> int:
    """Drop every database connection this test's replicas hold."""
    name = make_url(url).query["application_name"]
    admin = create_engine(admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE application_name = :name"
                    ),
                    {"name": name},
                ).all()
            )
    finally:
        admin.dispose()


def overlapping(history: list[AttemptStats]) -> list[str]:
    """Jobs that two attempts ran at the same time."""
    by_job: dict[str, list[AttemptStats]] = defaultdict(list)
    for stats in history:
        by_job[stats.job_id].append(stats)
    clashes = []
    for job_id, attempts in by_job.items():
        attempts.sort(key=lambda a: a.started_at)
        for earlier, later in itertools.pairwise(attempts):
            if later.started_at < earlier.ended_at:
                clashes.append(job_id)
    return clashes


async def test_two_replicas_four_workers_and_a_database_outage(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = job_api_settings(tmp_path / "shared-data", postgres_url, lease_seconds=4.0)
    replicas: list[RunningJobApi] = []
    workers: list[tuple[Worker, asyncio.Task[None]]] = []
    channels: list[grpc.aio.Channel] = []
    try:
        replicas = [await start_job_api(settings, timings=FAST_TIMINGS) for _ in range(2)]
        for n in range(WORKERS):
            channel = open_channel(f"127.0.0.1:{replicas[n % 2].port}")
            channels.append(channel)
            worker = Worker(
                WorkerClient(channel, WORKER_TOKEN, f"worker-{n}"),
                PluginRegistry.from_plugins([PacedPlugin(0.0)]),
                claim_wait_seconds=2.0,
            )
            workers.append((worker, asyncio.create_task(worker.run())))
        video = make_flat_video(tmp_path / "short.avi", frame_count=8).read_bytes()

        async with connect(replicas[0].port) as a, connect(replicas[1].port) as b:
            await wait_until_advertised(a)
            await wait_until_advertised(b)
            submitted: list[job_pb2.Job] = []
            watchers: list[asyncio.Task[list[job_pb2.Job]]] = []
            for n in range(JOBS):
                through, other = (a, b) if n % 2 == 0 else (b, a)
                job = await through.submit(video, plugin_id="paced", tool="slow_frames")
                submitted.append(job)
                if n < WATCHED:  # follow it on the replica it was not submitted to
                    watchers.append(asyncio.create_task(follow(other, job.job_id, within=120)))
                if n == JOBS // 2:
                    assert terminate_connections(postgres_url) > 0

            finals = await asyncio.gather(
                *(wait_terminal(a if n % 2 else b, job.job_id) for n, job in enumerate(submitted))
            )
            watched = await asyncio.gather(*watchers)

        assert [f.status for f in finals] == [job_pb2.JOB_STATUS_COMPLETED] * JOBS
        assert all(f.progress == 100 for f in finals)
        history = [stats for worker, _ in workers for stats in worker.history]
        assert overlapping(history) == []
        completed = [s.job_id for s in history if s.outcome == "completed"]
        assert sorted(completed) == sorted(job.job_id for job in submitted), "each exactly once"
        for snapshots in watched:
            versions = [s.version for s in snapshots]
            # Every change reached the other replica's watcher, in order, none lost.
            assert versions == list(range(versions[0], versions[0] + len(versions)))
            assert snapshots[-1].status == job_pb2.JOB_STATUS_COMPLETED
            progress = [s.progress for s in snapshots if s.HasField("progress")]
            assert progress == sorted(progress)
            assert progress[-1] == 100
    finally:
        for worker, _ in workers:
            worker.stop()
        await asyncio.wait_for(asyncio.gather(*(t for _, t in workers)), timeout=30)
        for channel in channels:
            await channel.close()
        for replica in replicas:
            await replica.stop(grace_seconds=1.0)


async def wait_terminal(clients: Clients, job_id: str) -> job_pb2.Job:
    for _ in range(1200):
        try:
            job = await clients.status(job_id)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:
                raise
        else:
            if job.status in TERMINAL:
                return job
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} never finished")


async def test_health_follows_the_database_down_and_back_up(tmp_path: Path) -> None:
    with temporary_database() as (url, database):
        api = await start_job_api(job_api_settings(tmp_path / "d", url), timings=FAST_TIMINGS)
        try:
            async with connect(api.port) as clients:
                updates = watch_health(clients.channel)
                assert (await next_status(updates)) == SERVING
                await clients.advertise()
                job = await clients.submit(b"video" * 100)

                await asyncio.to_thread(database.cut_off)
                assert (await next_status(updates)) == NOT_SERVING
                with pytest.raises(grpc.aio.AioRpcError) as raised:
                    await clients.jobs.ListJobs(jobs_pb.ListJobsRequest())
                assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
                assert "database is unavailable" in (raised.value.details() or "")

                await asyncio.to_thread(database.restore)
                assert (await next_status(updates)) == SERVING
                listed = await clients.jobs.ListJobs(jobs_pb.ListJobsRequest())
                assert [j.job_id for j in listed.jobs] == [job.job_id]
        finally:
            await api.stop(grace_seconds=1.0)


async def next_status(updates: grpc.aio.UnaryStreamCall[Any, Any]) -> int:
    message = await asyncio.wait_for(updates.read(), timeout=15)
    assert isinstance(message, health_pb2.HealthCheckResponse)
    return int(message.status)


async def test_a_waiting_claim_on_one_replica_is_woken_by_a_submission_on_the_other(
    tmp_path: Path,
) -> None:
    # Polling is pushed out past the claim's wait, so only NOTIFY can wake it.
    no_polling = replace(FAST_TIMINGS, claim_poll_seconds=60.0)
    with temporary_schema() as url:
        settings = job_api_settings(tmp_path / "shared", url)
        replicas = [await start_job_api(settings, timings=no_polling) for _ in range(2)]
        try:
            async with connect(replicas[0].port) as a, connect(replicas[1].port) as b:
                await a.advertise()
                waiting = asyncio.create_task(a.claim(wait=timedelta(seconds=20)))
                await asyncio.sleep(0.5)
                assert not waiting.done()
                job = await b.submit(b"video" * 100)
                claim = await asyncio.wait_for(waiting, timeout=15)
                assert claim.job.job_id == job.job_id
        finally:
            for replica in replicas:
                await replica.stop(grace_seconds=1.0)
