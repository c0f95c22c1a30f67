"""The job API's behaviour and errors, call by call, over a real server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from pathlib import Path

import grpc
import pytest

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from forgesyte.jobs.v1 import worker_service_pb2 as worker_pb
from services.job_api.server import RunningJobApi, start_job_api
from tests.conftest import FAST_TIMINGS, job_api_settings
from tests.support.api import Clients, connect, lease_of, upload_messages, worker_metadata

VIDEO = b"not really a video, but bytes all the same" * 100


def stored_files(api_dir: Path) -> list[Path]:
    return sorted(
        p for p in api_dir.rglob("*") if p.is_file() and not p.name.startswith("forgesyte.db")
    )


async def job_count(clients: Clients) -> int:
    page = await clients.jobs.ListJobs(jobs_pb.ListJobsRequest(page_size=1000))
    return len(page.jobs)


async def expect_error(call: Awaitable[object], code: grpc.StatusCode, match: str = "") -> str:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    assert raised.value.code() == code, raised.value.details()
    details = raised.value.details() or ""
    assert match in details
    assert "Traceback" not in details
    return details


@pytest.fixture
def data_dir(job_api: RunningJobApi, tmp_path: Path) -> Path:
    return tmp_path / "data"


# -- GetJobStatus -------------------------------------------------------------


async def test_unknown_job_is_not_found(clients: Clients) -> None:
    await expect_error(
        clients.status("0b5d7c1e-2f3a-4b6c-8d9e-0f1a2b3c4d5e"),
        grpc.StatusCode.NOT_FOUND,
        "job 0b5d7c1e-2f3a-4b6c-8d9e-0f1a2b3c4d5e not found",
    )


@pytest.mark.parametrize("bad", ["", "nope", "1234", "{0b5d7c1e-2f3a-4b6c-8d9e-0f1a2b3c4d5e}"])
async def test_malformed_job_id_is_invalid(clients: Clients, bad: str) -> None:
    await expect_error(clients.status(bad), grpc.StatusCode.INVALID_ARGUMENT, "not a valid UUID")


# -- SubmitJob ----------------------------------------------------------------


async def test_unknown_plugin_is_rejected_and_nothing_is_stored(
    clients: Clients, data_dir: Path
) -> None:
    await clients.advertise()
    await expect_error(
        clients.submit(VIDEO, plugin_id="people"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "unknown plugin 'people'; available plugins: motion",
    )
    await expect_error(
        clients.submit(VIDEO, tool="describe_image"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "does not accept video input",
    )
    assert stored_files(data_dir) == []
    assert await job_count(clients) == 0


async def test_empty_upload_is_rejected_and_nothing_is_stored(
    clients: Clients, data_dir: Path
) -> None:
    await clients.advertise()
    await expect_error(clients.submit(b""), grpc.StatusCode.INVALID_ARGUMENT, "empty")
    assert stored_files(data_dir) == []
    assert await job_count(clients) == 0


@pytest.mark.parametrize("job_api_overrides", [{"max_upload_bytes": 100_000}])
async def test_upload_over_the_limit_is_resource_exhausted(
    clients: Clients, data_dir: Path
) -> None:
    await clients.advertise()
    await expect_error(
        clients.submit(b"x" * 100_001), grpc.StatusCode.RESOURCE_EXHAUSTED, "limit of 100000"
    )
    assert stored_files(data_dir) == []
    assert await job_count(clients) == 0
    accepted = await clients.submit(b"x" * 100_000)  # exactly the limit is fine
    assert accepted.input_size_bytes == 100_000


async def test_an_upload_cancelled_midway_leaves_nothing(clients: Clients, data_dir: Path) -> None:
    await clients.advertise()
    sent_some = asyncio.Event()

    async def stalling_upload() -> AsyncIterator[jobs_pb.SubmitJobRequest]:
        async for message in upload_messages(VIDEO):
            if message.WhichOneof("payload") != "end":  # the client never finishes
                yield message
        sent_some.set()
        await asyncio.sleep(60)

    call = clients.jobs.SubmitJob(stalling_upload())
    await sent_some.wait()
    await asyncio.sleep(0.2)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.sleep(0.3)  # the server notices the cancellation
    assert stored_files(data_dir) == []
    assert await job_count(clients) == 0


async def test_an_upload_that_trickles_is_abandoned_and_leaves_nothing(
    clients: Clients, data_dir: Path
) -> None:
    await clients.advertise()

    async def trickle() -> AsyncIterator[jobs_pb.SubmitJobRequest]:
        async for message in upload_messages(VIDEO[:100]):
            yield message
        await asyncio.sleep(30)  # longer than the server's idle limit (2 s in tests)
        yield jobs_pb.SubmitJobRequest(chunk=b"late")

    await expect_error(
        clients.jobs.SubmitJob(trickle()),
        grpc.StatusCode.DEADLINE_EXCEEDED,
        "the upload stalled: no data arrived for 2 seconds",
    )
    assert stored_files(data_dir) == []
    assert await job_count(clients) == 0


@pytest.mark.parametrize(
    ("ending", "message"),
    [
        ([], "stopped before its end message"),
        ([job_pb2.UploadEnd(size_bytes=len(VIDEO) - 1)], "the upload is incomplete"),
        (
            [job_pb2.UploadEnd(size_bytes=len(VIDEO)), job_pb2.UploadEnd(size_bytes=0)],
            "nothing may follow the end message",
        ),
    ],
)
async def test_only_an_upload_closed_by_a_matching_end_message_is_stored(
    clients: Clients, data_dir: Path, ending: list[job_pb2.UploadEnd], message: str
) -> None:
    await clients.advertise()

    async def upload() -> AsyncIterator[jobs_pb.SubmitJobRequest]:
        async for request in upload_messages(VIDEO):
            if request.WhichOneof("payload") != "end":
                yield request
        for end in ending:
            yield jobs_pb.SubmitJobRequest(end=end)

    await expect_error(clients.jobs.SubmitJob(upload()), grpc.StatusCode.INVALID_ARGUMENT, message)
    assert stored_files(data_dir) == []
    assert await job_count(clients) == 0


async def test_stream_must_start_with_exactly_one_header(clients: Clients) -> None:
    await clients.advertise()

    async def chunk_first() -> AsyncIterator[jobs_pb.SubmitJobRequest]:
        yield jobs_pb.SubmitJobRequest(chunk=b"data")

    async def two_headers() -> AsyncIterator[jobs_pb.SubmitJobRequest]:
        header = jobs_pb.SubmitJobHeader(plugin_id="motion", tool="detect_motion")
        yield jobs_pb.SubmitJobRequest(header=header)
        yield jobs_pb.SubmitJobRequest(chunk=b"data")
        yield jobs_pb.SubmitJobRequest(header=header)

    async def nothing() -> AsyncIterator[jobs_pb.SubmitJobRequest]:
        return
        yield

    for stream, message in [
        (chunk_first(), "first message must carry the header"),
        (two_headers(), "only chunks and then the end message may follow the header"),
        (nothing(), "stream was empty"),
    ]:
        await expect_error(
            clients.jobs.SubmitJob(stream),
            grpc.StatusCode.INVALID_ARGUMENT,
            message,
        )
    assert await job_count(clients) == 0


async def test_a_repeated_request_id_returns_the_first_job(
    clients: Clients, data_dir: Path
) -> None:
    await clients.advertise()
    first = await clients.submit(VIDEO, request_id="upload-42")
    again = await clients.submit(VIDEO, request_id="upload-42")
    assert again.job_id == first.job_id
    assert await job_count(clients) == 1
    assert len(list((data_dir / "inputs").iterdir())) == 1
    await expect_error(
        clients.submit(VIDEO, request_id="upload-42", tool="describe_image"),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    other_advert = job_pb2.PluginManifest(
        id="scenes",
        name="Scenes",
        tools=[job_pb2.ToolManifest(id="cuts", input_types=["video"])],
    )
    await clients.worker.AdvertisePlugins(
        worker_pb.AdvertisePluginsRequest(worker_id="w2", plugins=[other_advert]),
        metadata=worker_metadata(),
    )
    await expect_error(
        clients.submit(VIDEO, request_id="upload-42", plugin_id="scenes", tool="cuts"),
        grpc.StatusCode.ALREADY_EXISTS,
        "already used for a different submission",
    )


async def test_concurrent_retries_with_one_request_id_create_one_job(clients: Clients) -> None:
    await clients.advertise()
    jobs = await asyncio.gather(*(clients.submit(VIDEO, request_id="race") for _ in range(6)))
    assert len({job.job_id for job in jobs}) == 1
    assert await job_count(clients) == 1


# -- ListJobs -----------------------------------------------------------------


async def test_list_pages_newest_first_with_opaque_tokens(clients: Clients) -> None:
    await clients.advertise()
    submitted = [(await clients.submit(VIDEO)).job_id for _ in range(7)]
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await clients.jobs.ListJobs(jobs_pb.ListJobsRequest(page_size=3, page_token=token))
        seen.extend(job.job_id for job in page.jobs)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert seen == list(reversed(submitted))


async def test_list_filters_by_status(clients: Clients) -> None:
    await clients.advertise()
    keep = await clients.submit(VIDEO)
    cancelled = await clients.submit(VIDEO)
    await clients.jobs.CancelJob(jobs_pb.CancelJobRequest(job_id=cancelled.job_id))
    page = await clients.jobs.ListJobs(jobs_pb.ListJobsRequest(status=job_pb2.JOB_STATUS_CANCELLED))
    assert [job.job_id for job in page.jobs] == [cancelled.job_id]
    page = await clients.jobs.ListJobs(jobs_pb.ListJobsRequest(status=job_pb2.JOB_STATUS_PENDING))
    assert [job.job_id for job in page.jobs] == [keep.job_id]


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"page_size": -5}, "page_size must not be negative"),
        ({"page_token": "garbage!!"}, "page_token is malformed"),
        ({"status": 42}, "not a known JobStatus"),
    ],
)
async def test_bad_list_requests_are_invalid(
    clients: Clients, request_fields: dict[str, object], message: str
) -> None:
    await expect_error(
        clients.jobs.ListJobs(jobs_pb.ListJobsRequest(**request_fields)),  # type: ignore[arg-type]
        grpc.StatusCode.INVALID_ARGUMENT,
        message,
    )


async def test_a_token_is_bound_to_its_filter(clients: Clients) -> None:
    await clients.advertise()
    for _ in range(3):
        await clients.submit(VIDEO)
    page = await clients.jobs.ListJobs(jobs_pb.ListJobsRequest(page_size=1))
    await expect_error(
        clients.jobs.ListJobs(
            jobs_pb.ListJobsRequest(
                page_token=page.next_page_token, status=job_pb2.JOB_STATUS_PENDING
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "different status filter",
    )


# -- worker calls -------------------------------------------------------------


async def running_job(clients: Clients) -> tuple[job_pb2.Job, worker_pb.LeaseRef]:
    await clients.advertise()
    job = await clients.submit(VIDEO)
    claim = await clients.claim()
    assert claim.job.job_id == job.job_id
    return claim.job, lease_of(claim)


async def test_results_larger_than_4_mb_round_trip(clients: Clients) -> None:
    job, lease = await running_job(clients)
    frames = [{"frame_index": i, "detections": [{"box": [i, i, 10, 10]}]} for i in range(120_000)]
    document = json.dumps({"frames": frames, "summary": {"total_frames": len(frames)}}).encode()
    assert len(document) > 6 * 1024 * 1024
    await clients.complete(lease, document)
    stream = clients.jobs.GetJobResults(jobs_pb.GetJobResultsRequest(job_id=job.job_id))
    messages = [message async for message in stream]
    assert messages[0].content_type == "application/json"
    assert messages[0].total_size_bytes == len(document)
    assert b"".join(m.chunk for m in messages) == document


async def test_results_of_an_unfinished_job_are_a_failed_precondition(clients: Clients) -> None:
    job, _ = await running_job(clients)
    await expect_error(
        clients.results(job.job_id), grpc.StatusCode.FAILED_PRECONDITION, "is running"
    )


async def test_results_must_be_a_json_object(clients: Clients, data_dir: Path) -> None:
    job, lease = await running_job(clients)
    for bad in (b"{not json", b"[1, 2, 3]"):
        await expect_error(clients.complete(lease, bad), grpc.StatusCode.INVALID_ARGUMENT)
    assert list((data_dir / "results").iterdir()) == []
    assert (await clients.status(job.job_id)).status == job_pb2.JOB_STATUS_RUNNING


async def test_progress_out_of_range_is_invalid(clients: Clients) -> None:
    _, lease = await running_job(clients)
    for percent in (-1, 101):
        await expect_error(
            clients.report(lease, percent), grpc.StatusCode.INVALID_ARGUMENT, "between 0 and 100"
        )


async def test_only_the_lease_holder_may_act(clients: Clients) -> None:
    job, _ = await running_job(clients)
    stranger = worker_pb.LeaseRef(job_id=job.job_id, lease_id="not-the-lease")
    await expect_error(clients.report(stranger, 10), grpc.StatusCode.FAILED_PRECONDITION, "lease")
    await expect_error(
        clients.complete(stranger, b"{}"), grpc.StatusCode.FAILED_PRECONDITION, "lease"
    )
    await expect_error(
        clients.worker.FailJob(
            worker_pb.FailJobRequest(lease=stranger, error_message="x"),
            metadata=worker_metadata(),
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
    )


async def test_double_completion_is_a_failed_precondition(clients: Clients) -> None:
    _, lease = await running_job(clients)
    await clients.complete(lease, b"{}")
    await expect_error(
        clients.complete(lease, b"{}"), grpc.StatusCode.FAILED_PRECONDITION, "completed"
    )
    await expect_error(clients.report(lease, 50), grpc.StatusCode.FAILED_PRECONDITION)


async def test_cancel_a_running_job_reaches_the_worker(clients: Clients) -> None:
    job, lease = await running_job(clients)
    await clients.report(lease, 20)
    response = await clients.jobs.CancelJob(jobs_pb.CancelJobRequest(job_id=job.job_id))
    assert response.job.status == job_pb2.JOB_STATUS_RUNNING
    assert response.job.cancel_requested
    ack = await clients.report(lease, 25)
    assert ack.cancel_requested
    cancelled = await clients.worker.AcknowledgeCancellation(
        worker_pb.AcknowledgeCancellationRequest(lease=lease), metadata=worker_metadata()
    )
    assert cancelled.job.status == job_pb2.JOB_STATUS_CANCELLED
    await expect_error(clients.report(lease, 30), grpc.StatusCode.FAILED_PRECONDITION, "cancelled")
    await expect_error(clients.results(job.job_id), grpc.StatusCode.FAILED_PRECONDITION)


async def test_a_completed_job_cannot_be_cancelled(clients: Clients) -> None:
    job, lease = await running_job(clients)
    await clients.complete(lease, b"{}")
    await expect_error(
        clients.jobs.CancelJob(jobs_pb.CancelJobRequest(job_id=job.job_id)),
        grpc.StatusCode.FAILED_PRECONDITION,
        "can no longer be cancelled",
    )


async def test_failure_and_retry(clients: Clients) -> None:
    job, lease = await running_job(clients)
    retried = await clients.worker.FailJob(
        worker_pb.FailJobRequest(lease=lease, error_message="I/O hiccup", retryable=True),
        metadata=worker_metadata(),
    )
    assert retried.job.status == job_pb2.JOB_STATUS_PENDING
    second = await clients.claim()
    assert second.job.attempt == 2
    failed = await clients.worker.FailJob(
        worker_pb.FailJobRequest(lease=lease_of(second), error_message="not a video"),
        metadata=worker_metadata(),
    )
    assert failed.job.status == job_pb2.JOB_STATUS_FAILED
    assert failed.job.error_message == "not a video"
    status = await clients.status(job.job_id)
    assert status.error_message == "not a video"


async def test_release_hands_the_job_back_without_using_an_attempt(clients: Clients) -> None:
    _, lease = await running_job(clients)
    await clients.report(lease, 30)
    released = await clients.worker.ReleaseJob(
        worker_pb.ReleaseJobRequest(lease=lease, reason="shutting down"),
        metadata=worker_metadata(),
    )
    assert released.job.status == job_pb2.JOB_STATUS_PENDING
    assert not released.job.HasField("progress")
    again = await clients.claim()
    assert again.job.attempt == 1


async def test_claim_waits_for_work_and_wakes_on_submit(clients: Clients) -> None:
    await clients.advertise()
    waiting = asyncio.create_task(clients.claim(wait=timedelta(seconds=20)))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    job = await clients.submit(VIDEO)
    claim = await asyncio.wait_for(waiting, timeout=5)
    assert claim.job.job_id == job.job_id


async def test_claim_without_work_returns_no_job(clients: Clients) -> None:
    claim = await clients.claim(wait=timedelta(seconds=0.3))
    assert not claim.HasField("job")


@pytest.mark.parametrize("job_api_overrides", [{"lease_seconds": 0.3, "max_attempts": 2}])
async def test_a_lost_lease_requeues_then_fails_after_max_attempts(clients: Clients) -> None:
    job, first_lease = await running_job(clients)
    await clients.report(first_lease, 40)
    second = await clients.claim(wait=timedelta(seconds=5))
    assert second.job.job_id == job.job_id
    assert second.job.attempt == 2
    assert not second.job.HasField("progress")  # a new attempt starts from null
    await expect_error(clients.report(first_lease, 50), grpc.StatusCode.FAILED_PRECONDITION)
    for _ in range(50):
        status = await clients.status(job.job_id)
        if status.status == job_pb2.JOB_STATUS_FAILED:
            break
        await asyncio.sleep(0.1)
    assert status.status == job_pb2.JOB_STATUS_FAILED
    assert "attempt 2 of 2" in status.error_message


async def test_plugins_are_listed_and_survive_a_restart(
    tmp_path: Path, sqlite_database_url: str
) -> None:
    settings = job_api_settings(tmp_path / "restarted", sqlite_database_url)
    for restart in range(2):
        api = await start_job_api(settings, timings=FAST_TIMINGS)
        try:
            async with connect(api.port) as clients:
                if restart == 0:
                    await clients.advertise()
                listed = await clients.jobs.ListPlugins(jobs_pb.ListPluginsRequest())
                assert [p.id for p in listed.plugins] == ["motion"]
                tools = [t.id for t in listed.plugins[0].tools]
                assert tools == ["detect_motion", "describe_image"]
        finally:
            await api.stop(grace_seconds=1.0)


# -- authentication -----------------------------------------------------------


async def test_worker_calls_need_the_worker_token(clients: Clients) -> None:
    request = worker_pb.ClaimJobRequest(worker_id="w")
    await expect_error(
        clients.worker.ClaimJob(request), grpc.StatusCode.UNAUTHENTICATED, "missing credentials"
    )
    await expect_error(
        clients.worker.ClaimJob(request, metadata=worker_metadata("wrong")),
        grpc.StatusCode.PERMISSION_DENIED,
    )


@pytest.mark.parametrize("job_api_overrides", [{"api_token": "public-secret"}])
async def test_public_calls_need_the_api_token_when_set(clients: Clients) -> None:
    job_id = "0b5d7c1e-2f3a-4b6c-8d9e-0f1a2b3c4d5e"
    await expect_error(clients.status(job_id), grpc.StatusCode.UNAUTHENTICATED)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await clients.jobs.GetJobStatus(
            jobs_pb.GetJobStatusRequest(job_id=job_id),
            metadata=(("authorization", "Bearer public-secret"),),
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND  # authenticated, then looked up
