"""The worker's only link to the rest of the system: WorkerService over gRPC.

Every call carries the worker token and a deadline, and waits for the
channel to be ready (``wait_for_ready``), so a job API that restarts is
ridden out: calls queue until it is back or their deadline passes. Errors
that mean "you no longer hold this job" become ``LeaseLost``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import grpc
from google.protobuf.duration_pb2 import Duration

from forgesyte.jobs.v1 import job_pb2, worker_service_pb2_grpc
from forgesyte.jobs.v1 import worker_service_pb2 as pb
from services.common.backoff import Backoff
from services.common.manifests import manifest_to_proto
from services.worker.plugin_api import PluginManifest

T = TypeVar("T")

CALL_DEADLINE_SECONDS = 30.0
# A call the job API answered UNAVAILABLE (e.g. its database restarting) is
# retried this many times, backing off from 0.2 s to 2 s (about 8 s in all).
TRANSIENT_RETRIES = 6
TRANSFER_DEADLINE_SECONDS = 3600.0
UPLOAD_CHUNK_BYTES = 1024 * 1024


class LeaseLost(Exception):
    """The job API no longer accepts calls for this job from us (lease expired
    and the job moved on, or it was finished elsewhere)."""


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker holds a lease on."""

    job: job_pb2.Job
    lease: pb.LeaseRef
    lease_seconds: float


class WorkerClient:
    """Typed calls to the job API's WorkerService."""

    def __init__(self, channel: grpc.aio.Channel, token: str, worker_id: str) -> None:
        self._stub = worker_service_pb2_grpc.WorkerServiceStub(channel)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self.worker_id = worker_id

    def _options(self, deadline: float = CALL_DEADLINE_SECONDS) -> dict[str, Any]:
        return {"metadata": self._metadata, "timeout": deadline, "wait_for_ready": True}

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        """Repeat ``call`` while the job API answers UNAVAILABLE.

        Every call retried this way is safe to repeat: progress is monotonic,
        and an outcome that did land makes the repeat fail as LeaseLost.
        """
        backoff = Backoff(initial=0.2, ceiling=2.0, jitter=False)
        for remaining in range(TRANSIENT_RETRIES, -1, -1):
            try:
                return await call()
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE or remaining == 0:
                    raise
            await asyncio.sleep(backoff.delay())
        raise AssertionError("unreachable")

    async def advertise(self, manifests: Sequence[PluginManifest]) -> None:
        request = pb.AdvertisePluginsRequest(
            worker_id=self.worker_id, plugins=[manifest_to_proto(m) for m in manifests]
        )
        await self._stub.AdvertisePlugins(request, **self._options())

    async def claim(self, plugin_ids: Sequence[str], wait_seconds: float) -> ClaimedJob | None:
        wait = Duration()
        wait.FromTimedelta(timedelta(seconds=wait_seconds))
        request = pb.ClaimJobRequest(worker_id=self.worker_id, plugin_ids=plugin_ids, wait=wait)
        response = await self._stub.ClaimJob(
            request, **self._options(CALL_DEADLINE_SECONDS + wait_seconds)
        )
        if not response.HasField("job"):
            return None
        lease_seconds = (
            response.lease_expires_at.ToDatetime() - response.job.started_at.ToDatetime()
        ).total_seconds()
        return ClaimedJob(
            job=response.job,
            lease=pb.LeaseRef(job_id=response.job.job_id, lease_id=response.lease_id),
            lease_seconds=max(lease_seconds, 1.0),
        )

    async def download_input(self, lease: pb.LeaseRef, destination: Path) -> int:
        """Stream the job's input into ``destination``; returns its size."""
        size = 0
        with _lease_errors():
            stream = self._stub.DownloadInput(
                pb.DownloadInputRequest(lease=lease), **self._options(TRANSFER_DEADLINE_SECONDS)
            )
            with destination.open("wb") as file:
                async for message in stream:
                    file.write(message.chunk)
                    size += len(message.chunk)
        return size

    async def report(
        self,
        lease: pb.LeaseRef,
        percent: int | None,
        current_frame: int | None,
        total_frames: int | None,
    ) -> bool:
        """Record progress (or, with nothing set, just renew the lease).

        Returns True when cancellation of the job was requested.
        """
        request = pb.ReportProgressRequest(
            lease=lease, percent=percent, current_frame=current_frame, total_frames=total_frames
        )
        with _lease_errors():
            response = await self._retrying(
                lambda: self._stub.ReportProgress(request, **self._options())
            )
        return response.cancel_requested

    async def complete(
        self, lease: pb.LeaseRef, results: Path, total_frames: int | None
    ) -> job_pb2.Job:
        async def messages() -> AsyncIterator[pb.CompleteJobRequest]:
            header = pb.CompleteJobHeader(lease=lease, total_frames=total_frames)
            yield pb.CompleteJobRequest(header=header)
            sent = 0
            with results.open("rb") as file:
                while chunk := file.read(UPLOAD_CHUNK_BYTES):
                    sent += len(chunk)
                    yield pb.CompleteJobRequest(chunk=chunk)
            yield pb.CompleteJobRequest(end=job_pb2.UploadEnd(size_bytes=sent))

        with _lease_errors():
            response = await self._retrying(
                lambda: self._stub.CompleteJob(
                    messages(), **self._options(TRANSFER_DEADLINE_SECONDS)
                )
            )
        return response.job

    async def fail(self, lease: pb.LeaseRef, message: str, retryable: bool) -> job_pb2.Job:
        request = pb.FailJobRequest(lease=lease, error_message=message, retryable=retryable)
        with _lease_errors():
            response = await self._retrying(lambda: self._stub.FailJob(request, **self._options()))
        return response.job

    async def release(self, lease: pb.LeaseRef, reason: str) -> job_pb2.Job:
        request = pb.ReleaseJobRequest(lease=lease, reason=reason)
        with _lease_errors():
            response = await self._retrying(
                lambda: self._stub.ReleaseJob(request, **self._options())
            )
        return response.job

    async def acknowledge_cancellation(self, lease: pb.LeaseRef) -> job_pb2.Job:
        request = pb.AcknowledgeCancellationRequest(lease=lease)
        with _lease_errors():
            response = await self._retrying(
                lambda: self._stub.AcknowledgeCancellation(request, **self._options())
            )
        return response.job


@contextmanager
def _lease_errors() -> Iterator[None]:
    """Turn FAILED_PRECONDITION (and NOT_FOUND) into LeaseLost."""
    try:
        yield
    except grpc.aio.AioRpcError as error:
        if error.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.NOT_FOUND):
            raise LeaseLost(error.details() or "lease lost") from error
        raise


def default_worker_id() -> str:
    return f"{os.uname().nodename}-{os.getpid()}"
