"""The interceptor chain on a real server: request logs and error mapping."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import grpc
import pytest
import structlog

from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from services.job_api.server import RunningJobApi, start_job_api
from tests.conftest import FAST_TIMINGS, job_api_settings
from tests.support.api import connect

BROKEN_METHOD = "/forgesyte.test.Broken/Explode"


def broken_handler() -> grpc.GenericRpcHandler:
    """An RPC whose handler has a bug, behind the job API's interceptors."""

    async def explode(request: jobs_pb.GetJobStatusRequest, context: Any) -> Any:
        raise RuntimeError("secret internal detail: /srv/forgesyte/config.py line 12")

    return grpc.method_handlers_generic_handler(
        "forgesyte.test.Broken",
        {
            "Explode": grpc.unary_unary_rpc_method_handler(
                explode,
                request_deserializer=jobs_pb.GetJobStatusRequest.FromString,
                response_serializer=jobs_pb.GetJobStatusResponse.SerializeToString,
            )
        },
    )


@pytest.fixture
async def api_with_a_bug(tmp_path: Path, sqlite_database_url: str) -> AsyncIterator[RunningJobApi]:
    settings = job_api_settings(tmp_path / "data", sqlite_database_url)
    api = await start_job_api(settings, timings=FAST_TIMINGS, extra_handlers=[broken_handler()])
    yield api
    await api.stop(grace_seconds=1.0)


async def test_an_unexpected_error_is_internal_with_a_generic_message(
    api_with_a_bug: RunningJobApi,
) -> None:
    async with connect(api_with_a_bug.port) as clients:
        call = clients.channel.unary_unary(
            BROKEN_METHOD,
            request_serializer=jobs_pb.GetJobStatusRequest.SerializeToString,
            response_deserializer=jobs_pb.GetJobStatusResponse.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call(jobs_pb.GetJobStatusRequest(job_id="x"))
    assert raised.value.code() == grpc.StatusCode.INTERNAL
    details = raised.value.details() or ""
    assert details == "internal error; see the job API's log"
    assert "secret" not in details
    assert "Traceback" not in details


async def logged_calls(port: int, job_id: str) -> list[MutableMapping[str, Any]]:
    """What the job API logs for a GetJobStatus of an unknown job, then a worker call."""
    with structlog.testing.capture_logs() as logs:
        async with connect(port) as clients:
            with pytest.raises(grpc.aio.AioRpcError):
                await clients.status(job_id)
            await clients.advertise()
    return logs


async def test_each_call_is_logged_with_method_job_code_and_duration(
    api_with_a_bug: RunningJobApi,
) -> None:
    job_id = str(uuid.uuid4())
    logs = await logged_calls(api_with_a_bug.port, job_id)
    status_method = "/forgesyte.jobs.v1.JobService/GetJobStatus"
    calls = [e for e in logs if e["event"] == "rpc" and e["method"] == status_method]
    assert len(calls) == 1
    entry = calls[0]
    assert entry["method"] == "/forgesyte.jobs.v1.JobService/GetJobStatus"
    assert entry["code"] == "NOT_FOUND"
    assert entry["job_id"] == job_id
    assert isinstance(entry["duration_ms"], float)
    assert entry["duration_ms"] >= 0


async def test_the_log_carries_the_job_id_and_never_the_token(
    api_with_a_bug: RunningJobApi,
) -> None:
    job_id = str(uuid.uuid4())
    rendered = repr(await logged_calls(api_with_a_bug.port, job_id))
    assert job_id in rendered
    assert "test-worker-token" not in rendered
