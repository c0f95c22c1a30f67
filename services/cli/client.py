"""The CLI's connection to the job API: one grpc.aio channel, deadlines, the API token.

Every unary call carries a deadline, so a job API that accepts connections
but never answers shows up as "did not answer in time" instead of a hung
terminal. The long-lived calls (upload, WatchProgress, results) carry none:
they last as long as the file or the job does. ``FORGESYTE_API_TOKEN``, when
set, is sent as ``authorization: Bearer <token>`` on every call; it is only
ever read from the environment, never from the command line, where other
users could read it in the process list.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2

from forgesyte.jobs.v1 import job_pb2, job_service_pb2, job_service_pb2_grpc
from services.cli.errors import CliError, ExitCode
from services.cli.views import status_value

DEFAULT_TIMEOUT_SECONDS = 15.0
UPLOAD_CHUNK_BYTES = 1024 * 1024
"""The contract advises at most 1 MiB per SubmitJob message."""
MAX_LIST_PAGE = 1000
API_TOKEN_VARIABLE = "FORGESYTE_API_TOKEN"

CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    # Reconnect quickly when a local job API restarts under `forgesyte up`.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]

Metadata = tuple[tuple[str, str], ...]


def api_token_from_environment() -> str | None:
    token = os.environ.get(API_TOKEN_VARIABLE, "").strip()
    return token or None


class JobApiClient:
    """The public JobService (and health) as plain async methods."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        addr: str,
        token: str | None,
        call_timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.addr = addr
        self._channel = channel
        self._jobs = job_service_pb2_grpc.JobServiceStub(channel)
        # The published health stubs leave HealthStub untyped: call it by path.
        self._health_check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        self._metadata: Metadata | None = (("authorization", f"Bearer {token}"),) if token else None
        self._timeout = call_timeout

    async def status(self, job_id: str, *, wait_for_ready: bool = False) -> job_pb2.Job:
        """One snapshot. ``wait_for_ready`` waits (up to the deadline) for a
        job API that is restarting instead of failing at once."""
        response = await self._jobs.GetJobStatus(
            job_service_pb2.GetJobStatusRequest(job_id=job_id),
            timeout=self._timeout,
            metadata=self._metadata,
            wait_for_ready=wait_for_ready,
        )
        return response.job

    async def watch(self, job_id: str) -> AsyncIterator[job_pb2.Job]:
        """Snapshots until the job ends: the current one first, then one per change."""
        call = self._jobs.WatchProgress(
            job_service_pb2.WatchProgressRequest(job_id=job_id), metadata=self._metadata
        )
        try:
            async for message in call:
                yield message.job
        finally:
            call.cancel()

    async def list_jobs(self, limit: int, status: str | None = None) -> list[job_pb2.Job]:
        """Up to ``limit`` jobs (of one ``status``, e.g. "running"), newest first,
        following page tokens as needed."""
        status_filter = job_pb2.JOB_STATUS_UNSPECIFIED if status is None else status_value(status)
        jobs: list[job_pb2.Job] = []
        token = ""
        while len(jobs) < limit:
            response = await self._jobs.ListJobs(
                job_service_pb2.ListJobsRequest(
                    page_size=min(limit - len(jobs), MAX_LIST_PAGE),
                    page_token=token,
                    status=status_filter,
                ),
                timeout=self._timeout,
                metadata=self._metadata,
            )
            jobs.extend(response.jobs)
            token = response.next_page_token
            if not token or not response.jobs:
                break
        return jobs[:limit]

    async def cancel(self, job_id: str) -> job_pb2.Job:
        response = await self._jobs.CancelJob(
            job_service_pb2.CancelJobRequest(job_id=job_id),
            timeout=self._timeout,
            metadata=self._metadata,
        )
        return response.job

    async def results(self, job_id: str) -> AsyncIterator[bytes]:
        """The results document, chunk by chunk, so it never has to fit in memory."""
        call = self._jobs.GetJobResults(
            job_service_pb2.GetJobResultsRequest(job_id=job_id), metadata=self._metadata
        )
        try:
            async for message in call:
                yield message.chunk
        finally:
            call.cancel()

    async def plugins(self) -> list[job_pb2.PluginManifest]:
        response = await self._jobs.ListPlugins(
            job_service_pb2.ListPluginsRequest(), timeout=self._timeout, metadata=self._metadata
        )
        return list(response.plugins)

    async def submit(
        self,
        path: Path,
        *,
        plugin_id: str,
        tool: str,
        request_id: str | None = None,
        on_sent: Callable[[int], None] = lambda _: None,
    ) -> job_pb2.Job:
        """Stream ``path`` to SubmitJob; ``on_sent(n)`` after each chunk is handed over."""
        header = job_service_pb2.SubmitJobHeader(
            plugin_id=plugin_id, tool=tool, original_filename=path.name, request_id=request_id
        )
        try:
            response = await self._jobs.SubmitJob(
                _upload_messages(path, header, on_sent), metadata=self._metadata
            )
        except grpc.aio.AioRpcError as error:
            if not _closed_early(error):
                raise
            raise CliError(
                "the job API ended the upload before the whole file was sent; the file may "
                "be larger than its upload limit (FORGESYTE_MAX_UPLOAD_BYTES)",
                ExitCode.REJECTED,
            ) from None
        return response.job

    async def serving(self, service: str = "") -> bool:
        """Whether the health service reports SERVING (for readiness checks)."""
        response: health_pb2.HealthCheckResponse = await self._health_check(
            health_pb2.HealthCheckRequest(service=service), timeout=self._timeout
        )
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def _closed_early(error: grpc.aio.AioRpcError) -> bool:
    """grpc/grpc#36066: when the server ends a client stream while a chunk is
    in flight, grpcio's asyncio client may replace the server's status with
    INTERNAL "Failed execute_batch". The server's reason is then lost; what
    is known is that it stopped reading part-way."""
    return error.code() == grpc.StatusCode.INTERNAL and "execute_batch" in (
        error.debug_error_string() or ""
    )


async def _upload_messages(
    path: Path, header: job_service_pb2.SubmitJobHeader, on_sent: Callable[[int], None]
) -> AsyncIterator[job_service_pb2.SubmitJobRequest]:
    yield job_service_pb2.SubmitJobRequest(header=header)
    sent = 0
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, UPLOAD_CHUNK_BYTES):
            yield job_service_pb2.SubmitJobRequest(chunk=chunk)
            sent += len(chunk)
            on_sent(len(chunk))
    # Without this last message the job API treats the upload as cut off.
    yield job_service_pb2.SubmitJobRequest(end=job_pb2.UploadEnd(size_bytes=sent))


@asynccontextmanager
async def connect(
    addr: str, *, token: str | None = None, call_timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> AsyncIterator[JobApiClient]:
    """A client on a fresh channel, closed on exit."""
    async with grpc.aio.insecure_channel(addr, options=CHANNEL_OPTIONS) as channel:
        yield JobApiClient(channel, addr, token, call_timeout)
