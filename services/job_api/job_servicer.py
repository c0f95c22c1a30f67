"""The public JobService: translates protobuf to ``JobManager`` calls and back."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any

import structlog

from forgesyte.jobs.v1 import job_service_pb2 as pb
from forgesyte.jobs.v1 import job_service_pb2_grpc
from services.common.manifests import manifest_to_proto
from services.job_api import convert
from services.job_api.domain import JobRecord, parse_job_id
from services.job_api.jobs import JobManager
from services.job_api.submission import validate_new_job
from services.job_api.upload_stream import split_upload

Context = Any  # grpc.aio.ServicerContext; the servicers never touch it


@functools.lru_cache(maxsize=4096)
def _watch_response(record: JobRecord) -> pb.WatchProgressResponse:
    """One message per change, shared by every stream watching that job.

    A broadcast to many watchers then converts the record once instead of
    once per watcher. Records are immutable values, so sharing is safe.
    """
    return pb.WatchProgressResponse(job=convert.job(record))


class JobServicer(job_service_pb2_grpc.JobServiceServicer):
    def __init__(self, jobs: JobManager) -> None:
        self._jobs = jobs

    async def SubmitJob(
        self, request_iterator: AsyncIterator[pb.SubmitJobRequest], context: Context
    ) -> pb.SubmitJobResponse:
        header, chunks = await split_upload(request_iterator)
        new = validate_new_job(
            plugin_id=header.plugin_id,
            tool=header.tool,
            job_type=header.job_type,
            original_filename=header.original_filename,
            request_id=header.request_id if header.HasField("request_id") else None,
        )
        record = await self._jobs.submit(new, chunks)
        structlog.contextvars.bind_contextvars(job_id=str(record.job_id))
        return pb.SubmitJobResponse(job=convert.job(record))

    async def GetJobStatus(
        self, request: pb.GetJobStatusRequest, context: Context
    ) -> pb.GetJobStatusResponse:
        record = await self._jobs.get(parse_job_id(request.job_id))
        return pb.GetJobStatusResponse(job=convert.job(record))

    async def WatchProgress(
        self, request: pb.WatchProgressRequest, context: Context
    ) -> AsyncIterator[pb.WatchProgressResponse]:
        async for record in self._jobs.watch(parse_job_id(request.job_id)):
            yield _watch_response(record)

    async def ListJobs(self, request: pb.ListJobsRequest, context: Context) -> pb.ListJobsResponse:
        records, next_token = await self._jobs.list_page(
            request.page_size, request.page_token, convert.status_filter(request.status)
        )
        return pb.ListJobsResponse(
            jobs=[convert.job(r) for r in records], next_page_token=next_token
        )

    async def CancelJob(
        self, request: pb.CancelJobRequest, context: Context
    ) -> pb.CancelJobResponse:
        record = await self._jobs.cancel(parse_job_id(request.job_id))
        return pb.CancelJobResponse(job=convert.job(record))

    async def GetJobResults(
        self, request: pb.GetJobResultsRequest, context: Context
    ) -> AsyncIterator[pb.GetJobResultsResponse]:
        download = await self._jobs.results(parse_job_id(request.job_id))
        first = True
        async for chunk in download.chunks:
            if first:
                yield pb.GetJobResultsResponse(
                    chunk=chunk,
                    content_type=download.content_type,
                    total_size_bytes=download.size,
                )
                first = False
            else:
                yield pb.GetJobResultsResponse(chunk=chunk)

    async def ListPlugins(
        self, request: pb.ListPluginsRequest, context: Context
    ) -> pb.ListPluginsResponse:
        plugins = await self._jobs.plugins()
        return pb.ListPluginsResponse(plugins=[manifest_to_proto(p) for p in plugins])
