"""``GET /v1/jobs/{job_id}/events``: Server-Sent Events fed by WatchProgress."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from services.gateway.app import RunningGateway
from services.job_api.server import RunningJobApi
from tests.integration.gateway.helpers import finish, job_events, next_event, start, submit
from tests.support.api import Clients


async def wait_until_watched(job_api: RunningJobApi, watchers: int) -> None:
    """Until the job API has this many WatchProgress streams open."""
    for _ in range(200):
        if job_api.watcher_count == watchers:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"{job_api.watcher_count} watchers, expected {watchers}")


async def test_snapshot_first_then_one_event_per_change_then_the_stream_ends(
    http: aiohttp.ClientSession, advertised: Clients, job_api: RunningJobApi
) -> None:
    job_id = await submit(http)
    async with http.get(f"/v1/jobs/{job_id}/events") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["Cache-Control"] == "no-cache"
        reading = asyncio.create_task(job_events(response))
        await wait_until_watched(job_api, 1)

        lease = await start(advertised, job_id)
        for percent in (5, 40, 95):
            await advertised.report(lease, percent)
        await finish(advertised, lease)
        events = await asyncio.wait_for(reading, timeout=10)
        assert response.content.at_eof()

    assert [(e["status"], e["progress"]) for e in events] == [
        ("pending", None),
        ("running", None),
        ("running", 5),
        ("running", 40),
        ("running", 95),
        ("completed", 100),
    ]
    versions = [e["version"] for e in events]
    assert [int(e["id"]) for e in events] == versions
    assert versions == list(range(versions[0], versions[0] + len(events)))


async def test_last_event_id_resumes_after_what_the_client_has(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    lease = await start(advertised, job_id)
    await advertised.report(lease, 30)
    running = await advertised.status(job_id)

    async with http.get(
        f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": str(running.version - 1)}
    ) as response:
        first = await asyncio.wait_for(next_event(response), 5)
        while first is not None and first.kind != "job":
            first = await asyncio.wait_for(next_event(response), 5)
        assert first is not None
        assert first.id == str(running.version)
        assert first.json()["progress"] == 30
        await finish(advertised, lease)
        rest = await asyncio.wait_for(job_events(response), 10)
    assert [(e["status"], e["progress"]) for e in rest] == [("completed", 100)]


async def test_a_client_that_has_the_terminal_event_gets_204(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    """204 tells an EventSource to stop reconnecting."""
    job_id = await submit(http)
    await finish(advertised, await start(advertised, job_id))
    done = await advertised.status(job_id)
    async with http.get(
        f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": str(done.version)}
    ) as response:
        assert response.status == 204
    async with http.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "garbage"}) as fresh:
        events = await asyncio.wait_for(job_events(fresh), 5)
    assert [e["status"] for e in events] == ["completed"]


@pytest.mark.parametrize("gateway_overrides", [{"keepalive_seconds": 0.2}])
async def test_a_quiet_stream_sends_keep_alive_comments(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    async with http.get(f"/v1/jobs/{job_id}/events") as response:
        kinds = [(await asyncio.wait_for(next_event(response), 5)) for _ in range(4)]
    assert [event.kind if event else None for event in kinds[1:]] == [
        "job",
        "comment",
        "comment",
    ]
    async with http.get(f"/v1/jobs/{job_id}/events") as raw:
        text = b""
        while b": keep-alive\n\n" not in text:
            text += await asyncio.wait_for(raw.content.readany(), 5)
    assert text.startswith(b"retry: 2000\n\n")


async def test_cancelling_ends_the_stream_with_the_cancelled_state(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    async with http.get(f"/v1/jobs/{job_id}/events") as response:
        reading = asyncio.create_task(job_events(response))
        await asyncio.sleep(0.1)
        async with http.delete(f"/v1/jobs/{job_id}") as cancelled:
            assert cancelled.status == 200
        events = await asyncio.wait_for(reading, 10)
    assert [e["status"] for e in events] == ["pending", "cancelled"]


async def test_a_client_that_leaves_releases_its_watch(
    http: aiohttp.ClientSession, advertised: Clients, job_api: RunningJobApi
) -> None:
    job_id = await submit(http)
    response = await http.get(f"/v1/jobs/{job_id}/events")
    assert await asyncio.wait_for(next_event(response), 5) is not None
    await wait_until_watched(job_api, 1)
    response.close()
    await wait_until_watched(job_api, 0)


@pytest.mark.parametrize("gateway_overrides", [{"shutdown_grace_seconds": 60.0}])
async def test_stopping_the_gateway_ends_open_streams_instead_of_waiting_for_them(
    gateway: RunningGateway, http: aiohttp.ClientSession, advertised: Clients
) -> None:
    """With a minute of grace, a stop that waited for the stream would time out."""
    job_id = await submit(http)
    async with http.get(f"/v1/jobs/{job_id}/events") as response:
        reading = asyncio.create_task(job_events(response))
        await asyncio.sleep(0.1)
        await asyncio.wait_for(gateway.stop(), timeout=15)
        events = await asyncio.wait_for(reading, 5)
    assert [e["status"] for e in events] == ["pending"]
