"""SIGKILL the job API in the middle of a job, start it again: nothing is lost.

The worker keeps analysing while the job API is gone, its calls wait and
retry, and when the job API is back (same address, same data) the job
completes on its first attempt. A watcher's stream breaks with UNAVAILABLE
and, watched again, carries on to the end.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import grpc
import pytest

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from tests.integration.worker.conftest import TERMINAL, follow, wait_for, wait_until_advertised
from tests.support.api import WORKER_TOKEN, connect
from tests.support.processes import job_api_env, read_listening_port, running_process, script
from tests.support.test_plugins import FRAME_SECONDS_VARIABLE, install_test_plugins
from tests.videos import make_flat_video


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def processes() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


async def test_the_job_survives_a_killed_and_restarted_job_api(
    tmp_path: Path, processes: ExitStack
) -> None:
    addr = f"127.0.0.1:{free_port()}"
    api_env = job_api_env(tmp_path / "data", FORGESYTE_JOB_API_ADDR=addr)
    api = processes.enter_context(running_process([script("forgesyte-job-api")], api_env))
    port = read_listening_port(api)
    worker_env = {
        "FORGESYTE_JOB_API_ADDR": addr,
        "FORGESYTE_WORKER_TOKEN": WORKER_TOKEN,
        FRAME_SECONDS_VARIABLE: "0.03",
        **install_test_plugins(tmp_path / "plugins"),
    }
    processes.enter_context(running_process([script("forgesyte-worker")], worker_env))
    video = make_flat_video(tmp_path / "v.avi", frame_count=150)

    async with connect(port) as clients:
        await wait_until_advertised(clients)
        job = await clients.submit(video.read_bytes(), plugin_id="paced", tool="slow_frames")
        stream = clients.jobs.WatchProgress(jobs_pb.WatchProgressRequest(job_id=job.job_id))
        await wait_for(clients, job.job_id, lambda j: j.HasField("progress") and j.progress >= 10)

        api.send_signal(signal.SIGKILL)
        await asyncio.to_thread(api.wait, 10)
        with pytest.raises(grpc.aio.AioRpcError) as broken:
            async for _ in stream:
                pass
        assert broken.value.code() == grpc.StatusCode.UNAVAILABLE
        await asyncio.sleep(1.0)  # the worker carries on alone for a while

        restarted = processes.enter_context(running_process([script("forgesyte-job-api")], api_env))
        assert read_listening_port(restarted) == port
        resumed = await follow(clients, job.job_id, within=60)

    assert resumed[-1].status == job_pb2.JOB_STATUS_COMPLETED
    assert resumed[-1].attempt == 1, "the worker's lease outlived the outage"
    progress = [s.progress for s in resumed if s.HasField("progress")]
    assert progress == sorted(progress)
    assert resumed[-1].progress == 100
    assert {s.status for s in resumed} <= {job_pb2.JOB_STATUS_RUNNING} | TERMINAL
