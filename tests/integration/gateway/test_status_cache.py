"""The gateway's status cache: polls of a job answered from the snapshots its
``WatchProgress`` stream pushes, against a real job API on SQLite.

``hits`` and ``misses`` tell which polls the cache answered and which asked
the job API; the job API's ``watcher_count`` shows the streams it holds.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from forgesyte.jobs.v1 import job_pb2
from services.gateway.app import RunningGateway
from services.job_api.server import RunningJobApi
from tests.integration.gateway.helpers import (
    eventually,
    finish,
    get_json,
    poll_json,
    restartable_job_api,
    start,
    submit,
)
from tests.support.api import Clients, connect
from tests.support.gateway import running_gateway
from tests.support.processes import job_api_env, read_listening_port, running_process, script

TOKEN = "status-cache-token"


def status_path(job_id: str) -> str:
    return f"/v1/video/status/{job_id}"


async def poll_until_cached(
    http: aiohttp.ClientSession,
    gateway: RunningGateway,
    job_id: str,
    headers: dict[str, str] | None = None,
) -> Any:
    """Poll until the cache answers (its stream delivered); that poll's body."""
    cache = gateway.status_cache
    for _ in range(500):
        hits = cache.hits
        async with http.get(status_path(job_id), headers=headers) as response:
            body = await response.json()
            if response.status == 200 and cache.hits > hits:
                return body
        await asyncio.sleep(0.02)
    raise AssertionError(f"the cache never answered a poll; last {body}")


async def poll_until(
    http: aiohttp.ClientSession, job_id: str, status: str, progress: int | None
) -> None:
    await poll_json(
        http,
        status_path(job_id),
        lambda body: (body["status"], body["progress"]) == (status, progress),
    )


async def test_later_polls_are_answered_from_the_stream_and_follow_every_change(
    http: aiohttp.ClientSession,
    gateway: RunningGateway,
    job_api: RunningJobApi,
    advertised: Clients,
) -> None:
    cache = gateway.status_cache
    job_id = await submit(http)
    first = await get_json(http, status_path(job_id))
    assert (first["status"], first["progress"]) == ("pending", None)
    assert (cache.misses, cache.jobs) == (1, 1)
    await eventually(lambda: job_api.watcher_count == 1, "the cache watches the job")

    assert await poll_until_cached(http, gateway, job_id) == first
    misses = cache.misses

    lease = await start(advertised, job_id)
    await poll_until(http, job_id, "running", None)
    await advertised.report(lease, 75, current_frame=75, total_frames=100)
    await poll_until(http, job_id, "running", 75)
    job = await get_json(http, f"/v1/jobs/{job_id}")
    assert (job["current_frame"], job["total_frames"]) == (75, 100)

    await finish(advertised, lease)
    await poll_until(http, job_id, "completed", 100)
    assert cache.misses == misses, "a poll asked the job API although the stream was live"
    # The stream ends with the job; its final snapshot is still served.
    await eventually(lambda: job_api.watcher_count == 0, "the stream closes at the end")
    assert cache.open_streams == 0
    hits = cache.hits
    body = await get_json(http, status_path(job_id))
    assert (body["status"], body["progress"], cache.hits) == ("completed", 100, hits + 1)
    results = await get_json(http, f"/v1/video/results/{job_id}")
    assert (results["job_id"], cache.hits) == (job_id, hits + 2)


async def test_a_cancel_through_the_gateway_is_seen_by_the_next_poll(
    http: aiohttp.ClientSession, gateway: RunningGateway, advertised: Clients
) -> None:
    job_id = await submit(http)
    await poll_until_cached(http, gateway, job_id)
    cancelled = await http.delete(f"/v1/jobs/{job_id}")
    assert (await cancelled.json())["status"] == "cancelled"
    hits = gateway.status_cache.hits
    body = await get_json(http, status_path(job_id))
    assert body["status"] == "cancelled"
    assert gateway.status_cache.hits == hits + 1


async def test_an_older_snapshot_never_replaces_a_newer_one(
    http: aiohttp.ClientSession, gateway: RunningGateway, advertised: Clients
) -> None:
    job_id = await submit(http)
    lease = await start(advertised, job_id)
    await advertised.report(lease, 75)
    assert (await poll_until_cached(http, gateway, job_id))["progress"] == 75

    older = job_pb2.Job()
    older.CopyFrom(await advertised.status(job_id))
    older.version -= 1
    older.progress = 10
    gateway.status_cache.offer(older)
    assert (await get_json(http, status_path(job_id)))["progress"] == 75


@pytest.mark.parametrize("gateway_overrides", [{"status_cache_idle_seconds": 0.5}])
async def test_a_job_nobody_polls_is_forgotten_and_its_stream_closed(
    http: aiohttp.ClientSession,
    gateway: RunningGateway,
    job_api: RunningJobApi,
    advertised: Clients,
) -> None:
    job_id = await submit(http)
    await poll_until_cached(http, gateway, job_id)  # polling keeps it from expiring
    assert job_api.watcher_count == 1
    await eventually(lambda: gateway.status_cache.jobs == 0, "the idle job is forgotten")
    await eventually(lambda: job_api.watcher_count == 0, "its stream is closed")

    misses = gateway.status_cache.misses
    await get_json(http, status_path(job_id))
    assert gateway.status_cache.misses == misses + 1


@pytest.mark.parametrize("gateway_overrides", [{"status_cache_jobs": 2}])
async def test_the_cache_follows_at_most_its_limit_evicting_the_least_recently_polled(
    http: aiohttp.ClientSession,
    gateway: RunningGateway,
    job_api: RunningJobApi,
    advertised: Clients,
) -> None:
    jobs = [await submit(http) for _ in range(3)]
    for job_id in jobs:
        await get_json(http, status_path(job_id))
    assert gateway.status_cache.jobs == 2
    await eventually(lambda: job_api.watcher_count == 2, "two streams, the first one closed")
    assert gateway.status_cache.open_streams == 2

    misses = gateway.status_cache.misses
    await get_json(http, status_path(jobs[0]))
    assert gateway.status_cache.misses == misses + 1


async def test_a_finished_job_is_cached_without_a_stream(
    http: aiohttp.ClientSession,
    gateway: RunningGateway,
    job_api: RunningJobApi,
    advertised: Clients,
) -> None:
    job_id = await submit(http)
    await finish(advertised, await start(advertised, job_id))
    for _ in range(2):
        body = await get_json(http, status_path(job_id))
        assert (body["status"], body["progress"]) == ("completed", 100)
    cache = gateway.status_cache
    assert (cache.misses, cache.hits, cache.open_streams) == (1, 1, 0)
    assert job_api.watcher_count == 0


@pytest.mark.parametrize("gateway_overrides", [{"status_cache_max_age_seconds": 1.0}])
async def test_a_snapshot_nothing_confirmed_lately_is_checked_with_the_job_api(
    http: aiohttp.ClientSession, gateway: RunningGateway, advertised: Clients
) -> None:
    job_id = await submit(http)  # pending: its stream stays quiet
    await poll_until_cached(http, gateway, job_id)
    await asyncio.sleep(1.1)
    cache = gateway.status_cache
    misses, hits = cache.misses, cache.hits
    for _ in range(2):
        await get_json(http, status_path(job_id))
    assert (cache.misses, cache.hits) == (misses + 1, hits + 1), "one check, then cached"


async def test_a_frozen_job_api_is_504_within_the_max_age_not_a_cached_answer(
    tmp_path: Path,
) -> None:
    """SIGSTOP leaves the stream open but silent, as a lost network path
    would; keepalive pings would take tens of seconds to notice."""
    with running_process([script("forgesyte-job-api")], job_api_env(tmp_path / "data")) as api:
        port = await asyncio.to_thread(read_listening_port, api)
        async with (
            running_gateway(
                port, call_timeout_seconds=0.5, status_cache_max_age_seconds=1.0
            ) as gateway,
            aiohttp.ClientSession(base_url=f"http://127.0.0.1:{gateway.port}") as http,
            connect(port) as clients,
        ):
            await clients.advertise()
            job_id = await submit(http)
            await poll_until_cached(http, gateway, job_id)
            api.send_signal(signal.SIGSTOP)
            stopped = time.monotonic()
            try:
                statuses = []
                while time.monotonic() - stopped < 15:
                    statuses.append((await http.get(status_path(job_id))).status)
                    if statuses[-1] == 504:
                        break
                    await asyncio.sleep(0.1)
                assert statuses[-1] == 504, statuses
                assert set(statuses) <= {200, 504}
                # Max age plus one call timeout, with room for a slow machine;
                # keepalive pings alone would take 40 s.
                assert time.monotonic() - stopped < 5
            finally:
                api.send_signal(signal.SIGCONT)
            assert (await get_json(http, status_path(job_id)))["status"] == "pending"


@pytest.mark.parametrize("job_api_overrides", [{"api_token": TOKEN}])
async def test_a_cached_job_is_served_only_with_the_credentials_that_opened_it(
    http: aiohttp.ClientSession, gateway: RunningGateway, job_api: RunningJobApi
) -> None:
    """This gateway has no token of its own: the job API checks the caller's."""
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    async with connect(job_api.port) as clients:
        await clients.advertise()
    job_id = await submit(http, headers=bearer)
    await poll_until_cached(http, gateway, job_id, bearer)

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        async with http.get(status_path(job_id), headers=headers) as refused:
            assert refused.status == 401, headers
        async with http.get(f"/v1/jobs/{job_id}", headers=headers) as refused:
            assert refused.status == 401, headers
    assert (await get_json(http, status_path(job_id), headers=bearer))["status"] == "pending"


async def test_unknown_jobs_are_not_cached(
    http: aiohttp.ClientSession, gateway: RunningGateway, job_api: RunningJobApi
) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    for _ in range(2):
        assert await get_json(http, status_path(unknown), status=404) == {"detail": "Job not found"}
    assert (gateway.status_cache.misses, gateway.status_cache.jobs) == (2, 0)


@pytest.mark.parametrize("gateway_overrides", [{"status_cache_jobs": 0}])
async def test_with_the_cache_off_every_poll_asks_the_job_api(
    http: aiohttp.ClientSession,
    gateway: RunningGateway,
    job_api: RunningJobApi,
    advertised: Clients,
) -> None:
    job_id = await submit(http)
    for _ in range(3):
        await get_json(http, status_path(job_id))
    cache = gateway.status_cache
    assert (cache.misses, cache.hits, cache.jobs) == (3, 0, 0)
    assert job_api.watcher_count == 0


async def test_while_the_job_api_is_down_polls_get_503_not_the_cached_snapshot(
    tmp_path: Path,
) -> None:
    async with (
        restartable_job_api(tmp_path) as api,
        running_gateway(api.port) as gateway,
        aiohttp.ClientSession(base_url=f"http://127.0.0.1:{gateway.port}") as http,
    ):
        async with connect(api.port) as clients:
            await clients.advertise()
        job_id = await submit(http)
        await poll_until_cached(http, gateway, job_id)

        await api.stop()
        # The broken stream takes the entry with it.
        await eventually(lambda: gateway.status_cache.jobs == 0, "the entry is dropped")
        assert (await http.get(status_path(job_id))).status == 503

        await api.restart()
        assert (await poll_until_cached(http, gateway, job_id))["status"] == "pending"
        assert api.current.watcher_count == 1
