"""The gateway when things go wrong around it: a job API that restarts or
stalls, and clients that stall or vanish in the middle of an upload."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import pytest

from services.common.config import sqlite_url
from services.common.tls import TlsSettings
from services.gateway.app import RunningGateway
from services.job_api.server import start_job_api
from tests.conftest import FAST_TIMINGS, job_api_settings
from tests.integration.gateway.helpers import (
    eventually,
    finish,
    get_json,
    job_count,
    job_events,
    next_event,
    restartable_job_api,
    start,
    stored_files,
    submit,
)
from tests.support.api import Clients, connect
from tests.support.certificates import CertificateAuthority
from tests.support.gateway import MultipartFraming, running_gateway
from tests.support.processes import job_api_env, read_listening_port, running_process, script


async def test_a_job_api_restart_is_503_then_recovers_and_event_streams_carry_on(
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
        async with http.get(f"/v1/jobs/{job_id}/events") as stream:
            snapshot = await asyncio.wait_for(next_event(stream), 5)
            while snapshot is not None and snapshot.kind != "job":
                snapshot = await asyncio.wait_for(next_event(stream), 5)
            assert snapshot is not None
            assert snapshot.json()["status"] == "pending"

            await api.stop()
            down = await http.get(f"/v1/video/status/{job_id}")
            assert down.status == 503
            assert down.headers["Retry-After"] == "1"
            assert (await down.json())["detail"].startswith("The job API is unavailable")
            assert (await http.get("/readyz")).status == 503
            assert (await http.get("/healthz")).status == 200

            await api.restart()
            for _ in range(100):
                if (await http.get("/readyz")).status == 200:
                    break
                await asyncio.sleep(0.1)
            body = await get_json(http, f"/v1/video/status/{job_id}")
            assert body["status"] == "pending"
            # The event stream watches again, and so does the status cache
            # for the job just polled.
            await eventually(lambda: api.current.watcher_count == 2, "both watch again")

            async with connect(api.port) as clients:
                await finish(clients, await start(clients, job_id))
            rest = await asyncio.wait_for(job_events(stream), 10)
        # The resumed stream skips the snapshot the client already had.
        assert [e["status"] for e in rest] == ["running", "completed"]


async def test_a_stalled_job_api_is_504_then_recovers(tmp_path: Path) -> None:
    """The job API process is frozen with SIGSTOP: calls hit their deadline."""
    with running_process([script("forgesyte-job-api")], job_api_env(tmp_path / "data")) as api:
        port = await asyncio.to_thread(read_listening_port, api)
        async with (
            running_gateway(port, call_timeout_seconds=0.5, health_timeout_seconds=0.5) as gateway,
            aiohttp.ClientSession(base_url=f"http://127.0.0.1:{gateway.port}") as http,
        ):
            assert (await get_json(http, "/v1/plugins"))["count"] == 0
            api.send_signal(signal.SIGSTOP)
            try:
                stalled = await get_json(http, "/v1/plugins", status=504)
                assert stalled == {"detail": "The job API did not answer in time; retry shortly"}
                assert (await http.get("/readyz")).status == 503
            finally:
                api.send_signal(signal.SIGCONT)
            assert (await get_json(http, "/v1/plugins"))["count"] == 0


def _request_head(port: int, framing: MultipartFraming, length: int) -> bytes:
    return (
        "POST /v1/video/submit?plugin_id=motion&tool=detect_motion HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nContent-Type: {framing.content_type}\r\n"
        f"Content-Length: {framing.content_length(length)}\r\n\r\n"
    ).encode() + framing.head


@pytest.mark.parametrize("gateway_overrides", [{"upload_idle_seconds": 0.3}])
async def test_an_upload_that_stalls_is_408_and_stores_nothing(
    gateway: RunningGateway, advertised: Clients, tmp_path: Path
) -> None:
    framing = MultipartFraming("slow.mp4")
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    try:
        writer.write(_request_head(gateway.port, framing, 10_000_000) + b"\x00" * 700_000)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        assert status_line.startswith(b"HTTP/1.1 408")
    finally:
        writer.close()
    await eventually(lambda: stored_files(tmp_path) == [], "the partial upload is removed")
    assert await job_count(advertised) == 0


async def test_a_client_that_vanishes_mid_upload_leaves_nothing_behind(
    gateway: RunningGateway, advertised: Clients, tmp_path: Path
) -> None:
    framing = MultipartFraming("gone.mp4")
    _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    writer.write(_request_head(gateway.port, framing, 10_000_000) + b"\x00" * 2_000_000)
    await writer.drain()
    # The job API is storing the first chunks when the client goes away.
    await eventually(lambda: stored_files(tmp_path) != [], "the upload reaches the job API")
    writer.transport.abort()
    await eventually(lambda: stored_files(tmp_path) == [], "the partial upload is removed")
    assert await job_count(advertised) == 0


async def test_the_gateway_reaches_a_job_api_that_serves_tls(tmp_path: Path) -> None:
    """FORGESYTE_TLS_CA on the gateway's side: the channel verifies the job API."""
    (tmp_path / "pki").mkdir()
    authority = CertificateAuthority(tmp_path / "pki")
    issued = authority.issue("job-api", server=True)
    data = tmp_path / "data"
    settings = job_api_settings(data, sqlite_url(data), tls=TlsSettings(issued.cert, issued.key))
    api = await start_job_api(settings, timings=FAST_TIMINGS)
    try:
        trusting = TlsSettings(ca_file=authority.issued.cert)
        async with (
            running_gateway(api.port, tls=trusting) as gateway,
            aiohttp.ClientSession(base_url=f"http://127.0.0.1:{gateway.port}") as http,
        ):
            assert await get_json(http, "/readyz") == {"status": "ready"}
            assert (await get_json(http, "/v1/plugins"))["count"] == 0
        async with (
            running_gateway(api.port, call_timeout_seconds=2.0) as plaintext,
            aiohttp.ClientSession(base_url=f"http://127.0.0.1:{plaintext.port}") as http,
        ):
            assert (await http.get("/readyz")).status == 503
    finally:
        await api.stop(grace_seconds=0.5)
