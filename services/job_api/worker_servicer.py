"""The worker-facing WorkerService: translates protobuf to ``JobManager`` calls."""

from __future__ import annotations

from collections.abc import AsyncIterator

import structlog
from google.protobuf.timestamp_pb2 import Timestamp

from forgesyte.jobs.v1 import worker_service_pb2 as pb
from forgesyte.jobs.v1 import worker_service_pb2_grpc
from services.job_api import convert
from services.job_api.domain import ProgressReport
from services.job_api.errors import InvalidArgument
from services.job_api.job_servicer import Context
from services.job_api.jobs import JobManager
from services.job_api.upload_stream import split_upload

MAX_WORKER_ID_LENGTH = 128


def _worker_id(value: str) -> str:
    if not 0 < len(value) <= MAX_WORKER_ID_LENGTH:
        raise InvalidArgument(f"worker_id must be 1 to {MAX_WORKER_ID_LENGTH} characters long")
    return value


def _optional(message: pb.ReportProgressRequest, field: str) -> int | None:
    return getattr(message, field) if message.HasField(field) else None  # type: ignore[arg-type]


class WorkerServicer(worker_service_pb2_grpc.WorkerServiceServicer):
    def __init__(self, jobs: JobManager) -> None:
        self._jobs = jobs

    async def AdvertisePlugins(
        self, request: pb.AdvertisePluginsRequest, context: Context
    ) -> pb.AdvertisePluginsResponse:
        manifests = [convert.plugin_manifest_from_proto(p) for p in request.plugins]
        await self._jobs.advertise(_worker_id(request.worker_id), manifests)
        return pb.AdvertisePluginsResponse()

    async def ClaimJob(self, request: pb.ClaimJobRequest, context: Context) -> pb.ClaimJobResponse:
        claim = await self._jobs.claim(
            _worker_id(request.worker_id),
            list(request.plugin_ids),
            request.wait.ToTimedelta().total_seconds(),
        )
        if claim is None:
            return pb.ClaimJobResponse()
        structlog.contextvars.bind_contextvars(job_id=str(claim.job.job_id))
        expires = Timestamp()
        expires.FromDatetime(claim.lease_expires_at)
        return pb.ClaimJobResponse(
            job=convert.job(claim.job), lease_id=claim.lease_id, lease_expires_at=expires
        )

    async def DownloadInput(
        self, request: pb.DownloadInputRequest, context: Context
    ) -> AsyncIterator[pb.DownloadInputResponse]:
        async for chunk in self._jobs.input_chunks(convert.lease(request.lease)):
            yield pb.DownloadInputResponse(chunk=chunk)

    async def ReportProgress(
        self, request: pb.ReportProgressRequest, context: Context
    ) -> pb.ReportProgressResponse:
        report = ProgressReport(
            percent=_optional(request, "percent"),
            current_frame=_optional(request, "current_frame"),
            total_frames=_optional(request, "total_frames"),
        )
        ack = await self._jobs.report_progress(convert.lease(request.lease), report)
        expires = Timestamp()
        expires.FromDatetime(ack.lease_expires_at)
        response = pb.ReportProgressResponse(
            cancel_requested=ack.job.cancel_requested, lease_expires_at=expires
        )
        if ack.job.progress is not None:
            response.progress = ack.job.progress
        return response

    async def CompleteJob(
        self, request_iterator: AsyncIterator[pb.CompleteJobRequest], context: Context
    ) -> pb.CompleteJobResponse:
        header, chunks = await split_upload(request_iterator)
        lease = convert.lease(header.lease)
        structlog.contextvars.bind_contextvars(job_id=str(lease.job_id))
        total = header.total_frames if header.HasField("total_frames") else None
        record = await self._jobs.complete(lease, total, chunks)
        return pb.CompleteJobResponse(job=convert.job(record))

    async def FailJob(self, request: pb.FailJobRequest, context: Context) -> pb.FailJobResponse:
        record = await self._jobs.fail(
            convert.lease(request.lease), request.error_message, request.retryable
        )
        return pb.FailJobResponse(job=convert.job(record))

    async def ReleaseJob(
        self, request: pb.ReleaseJobRequest, context: Context
    ) -> pb.ReleaseJobResponse:
        record = await self._jobs.release(convert.lease(request.lease))
        return pb.ReleaseJobResponse(job=convert.job(record))

    async def AcknowledgeCancellation(
        self, request: pb.AcknowledgeCancellationRequest, context: Context
    ) -> pb.AcknowledgeCancellationResponse:
        record = await self._jobs.acknowledge_cancellation(convert.lease(request.lease))
        return pb.AcknowledgeCancellationResponse(job=convert.job(record))
