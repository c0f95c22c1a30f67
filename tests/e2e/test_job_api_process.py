"""``forgesyte-job-api`` as a real process: start-up, and graceful SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2

from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from tests.support.api import connect, watch_health
from tests.support.processes import job_api_env, read_listening_port, running_process, script


async def stream_error(call: grpc.aio.UnaryStreamCall[Any, Any]) -> grpc.aio.AioRpcError:
    """Read a stream until it fails (the claim's "running" snapshot comes first)."""
    try:
        while True:
            await asyncio.wait_for(call.read(), timeout=5)
    except grpc.aio.AioRpcError as error:
        return error


def run_job_api(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [script("forgesyte-job-api"), *args],
        env={**os.environ, **job_api_env(data_dir, **env)},
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"FORGESYTE_WORKER_TOKEN": ""}, "FORGESYTE_WORKER_TOKEN is required"),
        ({"FORGESYTE_MAX_UPLOAD_BYTES": "lots"}, "FORGESYTE_MAX_UPLOAD_BYTES='lots'"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_clear_line(
    tmp_path: Path, setting: dict[str, str], message: str
) -> None:
    result = run_job_api(tmp_path / "data", **setting)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_migrate_command_reports_the_revision(tmp_path: Path) -> None:
    result = run_job_api(tmp_path / "data", "migrate")
    assert result.returncode == 0, result.stderr
    assert "database at revision 0004" in result.stdout
    assert (tmp_path / "data" / "forgesyte.db").exists()


async def test_sigterm_drains_calls_ends_streams_and_exits_cleanly(tmp_path: Path) -> None:
    with running_process([script("forgesyte-job-api")], job_api_env(tmp_path / "data")) as process:
        port = await asyncio.to_thread(read_listening_port, process)
        async with connect(port) as clients:
            health_updates = watch_health(clients.channel)
            first = await health_updates.read()
            assert isinstance(first, health_pb2.HealthCheckResponse)
            assert first.status == health_pb2.HealthCheckResponse.SERVING

            await clients.advertise()
            job = await clients.submit(b"video" * 100)
            watch = clients.jobs.WatchProgress(jobs_pb.WatchProgressRequest(job_id=job.job_id))
            snapshot = await watch.read()
            assert isinstance(snapshot, jobs_pb.WatchProgressResponse)
            assert snapshot.job.job_id == job.job_id
            claimed = await clients.claim()
            assert claimed.job.job_id == job.job_id
            # A call still in flight when the signal arrives must finish normally:
            # this claim waits 1.5 s for work that never comes.
            waiting = asyncio.create_task(clients.claim(wait=timedelta(seconds=1.5)))
            await asyncio.sleep(0.3)

            process.send_signal(signal.SIGTERM)

            update = await asyncio.wait_for(health_updates.read(), timeout=5)
            assert isinstance(update, health_pb2.HealthCheckResponse)
            assert update.status == health_pb2.HealthCheckResponse.NOT_SERVING
            ended = await stream_error(watch)
            assert ended.code() == grpc.StatusCode.UNAVAILABLE
            assert "shutting down" in (ended.details() or "")
            drained = await asyncio.wait_for(waiting, timeout=5)
            assert not drained.HasField("job")
        assert await asyncio.to_thread(process.wait, 15) == 0
