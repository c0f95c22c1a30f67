"""SIGKILL the gateway while a browser-like client follows a job over SSE,
start it again on the same address: the client resumes with Last-Event-ID
and sees every remaining change exactly once, through to completion.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from contextlib import ExitStack
from pathlib import Path

import aiohttp

from tests.integration.gateway.helpers import next_event
from tests.integration.worker.conftest import wait_until_advertised
from tests.support.api import WORKER_TOKEN, connect
from tests.support.gateway import gateway_env
from tests.support.processes import job_api_env, read_listening_port, running_process, script
from tests.support.test_plugins import FRAME_SECONDS_VARIABLE, install_test_plugins
from tests.videos import make_flat_video


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def read_events(
    http: aiohttp.ClientSession, url: str, last_event_id: str | None, until_version: int | None
) -> list[tuple[int, dict[str, object]]]:
    """Job events (version, body) until the stream ends or breaks, or a version is reached."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    events: list[tuple[int, dict[str, object]]] = []
    try:
        async with http.get(url, headers=headers) as response:
            assert response.status == 200
            while (event := await next_event(response)) is not None:
                if event.kind == "job" and event.id is not None:
                    events.append((int(event.id), event.json()))
                    if until_version is not None and int(event.id) >= until_version:
                        break
    except aiohttp.ClientPayloadError:
        pass  # the gateway died mid-stream
    return events


async def test_an_event_stream_resumes_across_a_gateway_restart(tmp_path: Path) -> None:
    with ExitStack() as processes:
        api = processes.enter_context(
            running_process([script("forgesyte-job-api")], job_api_env(tmp_path / "data"))
        )
        port = read_listening_port(api)
        worker_env = {
            "FORGESYTE_JOB_API_ADDR": f"127.0.0.1:{port}",
            "FORGESYTE_WORKER_TOKEN": WORKER_TOKEN,
            FRAME_SECONDS_VARIABLE: "0.03",
            **install_test_plugins(tmp_path / "plugins"),
        }
        processes.enter_context(running_process([script("forgesyte-worker")], worker_env))
        web = f"127.0.0.1:{free_port()}"
        gateway_command = [script("forgesyte-gateway"), "--addr", web]
        gateway = processes.enter_context(running_process(gateway_command, gateway_env(port)))
        read_listening_port(gateway)

        async with connect(port) as clients, aiohttp.ClientSession() as http:
            await wait_until_advertised(clients)
            video = make_flat_video(tmp_path / "v.avi", frame_count=150).read_bytes()
            job = await clients.submit(video, plugin_id="paced", tool="slow_frames")
            url = f"http://{web}/v1/jobs/{job.job_id}/events"

            # Follow until a few changes arrived, then lose the gateway.
            before = await read_events(http, url, None, until_version=job.version + 3)
            gateway.send_signal(signal.SIGKILL)
            await asyncio.to_thread(gateway.wait, 10)
            restarted = processes.enter_context(running_process(gateway_command, gateway_env(port)))
            read_listening_port(restarted)
            after = await read_events(http, url, str(before[-1][0]), until_version=None)

    versions = [version for version, _ in before + after]
    assert versions == sorted(set(versions)), "resumed without repeating or reordering"
    assert after[0][0] > before[-1][0]
    assert after[-1][1]["status"] == "completed"
    assert after[-1][1]["progress"] == 100
    progress = [body["progress"] for _, body in before + after if body["progress"] is not None]
    assert progress == sorted(progress)  # type: ignore[type-var]
