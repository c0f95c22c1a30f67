"""Clients for a job API under test: the real stubs over a real channel."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
from google.protobuf.duration_pb2 import Duration
from grpc_health.v1 import health_pb2

from forgesyte.jobs.v1 import job_pb2, job_service_pb2_grpc, worker_service_pb2_grpc
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from forgesyte.jobs.v1 import worker_service_pb2 as worker_pb

WORKER_TOKEN = "test-worker-token"
TEST_PLUGIN = job_pb2.PluginManifest(
    id="motion",
    name="Motion",
    version="1.0",
    description="Finds moving regions.",
    tools=[
        job_pb2.ToolManifest(
            id="detect_motion",
            description="Boxes around moving regions, per frame.",
            input_types=["video"],
            output_description="frames with detections",
        ),
        job_pb2.ToolManifest(
            id="describe_image",
            description="An image-only tool.",
            input_types=["image"],
            output_description="text",
        ),
    ],
)


def worker_metadata(token: str = WORKER_TOKEN) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def upload_messages(
    data: bytes,
    *,
    plugin_id: str = "motion",
    tool: str = "detect_motion",
    filename: str = "clip.mp4",
    request_id: str | None = None,
    chunk_size: int = 64 * 1024,
) -> AsyncIterator[jobs_pb.SubmitJobRequest]:
    header = jobs_pb.SubmitJobHeader(
        plugin_id=plugin_id, tool=tool, original_filename=filename, request_id=request_id
    )
    yield jobs_pb.SubmitJobRequest(header=header)
    for start in range(0, len(data), chunk_size):
        yield jobs_pb.SubmitJobRequest(chunk=data[start : start + chunk_size])
    yield jobs_pb.SubmitJobRequest(end=job_pb2.UploadEnd(size_bytes=len(data)))


async def result_messages(
    lease: worker_pb.LeaseRef, document: bytes, chunk_size: int = 64 * 1024
) -> AsyncIterator[worker_pb.CompleteJobRequest]:
    yield worker_pb.CompleteJobRequest(header=worker_pb.CompleteJobHeader(lease=lease))
    for start in range(0, len(document), chunk_size):
        yield worker_pb.CompleteJobRequest(chunk=document[start : start + chunk_size])
    yield worker_pb.CompleteJobRequest(end=job_pb2.UploadEnd(size_bytes=len(document)))


@dataclass
class Clients:
    """Stubs for both services on one channel."""

    channel: grpc.aio.Channel
    jobs: job_service_pb2_grpc.JobServiceAsyncStub
    worker: worker_service_pb2_grpc.WorkerServiceAsyncStub

    async def submit(self, data: bytes, **header: str | None) -> job_pb2.Job:
        response = await self.jobs.SubmitJob(upload_messages(data, **header))  # type: ignore[arg-type]
        return response.job

    async def advertise(self, plugins: Sequence[job_pb2.PluginManifest] = (TEST_PLUGIN,)) -> None:
        await self.worker.AdvertisePlugins(
            worker_pb.AdvertisePluginsRequest(worker_id="test-worker", plugins=plugins),
            metadata=worker_metadata(),
        )

    async def claim(
        self, wait: timedelta = timedelta(0), worker_id: str = "test-worker"
    ) -> worker_pb.ClaimJobResponse:
        wait_message = Duration()
        wait_message.FromTimedelta(wait)
        return await self.worker.ClaimJob(
            worker_pb.ClaimJobRequest(worker_id=worker_id, wait=wait_message),
            metadata=worker_metadata(),
        )

    async def report(
        self,
        lease: worker_pb.LeaseRef,
        percent: int | None,
        current_frame: int | None = None,
        total_frames: int | None = None,
    ) -> worker_pb.ReportProgressResponse:
        return await self.worker.ReportProgress(
            worker_pb.ReportProgressRequest(
                lease=lease,
                percent=percent,
                current_frame=current_frame,
                total_frames=total_frames,
            ),
            metadata=worker_metadata(),
        )

    async def complete(self, lease: worker_pb.LeaseRef, document: bytes) -> job_pb2.Job:
        response = await self.worker.CompleteJob(
            result_messages(lease, document),
            metadata=worker_metadata(),
        )
        return response.job

    async def status(self, job_id: str) -> job_pb2.Job:
        response = await self.jobs.GetJobStatus(jobs_pb.GetJobStatusRequest(job_id=job_id))
        return response.job

    async def results(self, job_id: str) -> bytes:
        stream = self.jobs.GetJobResults(jobs_pb.GetJobResultsRequest(job_id=job_id))
        return b"".join([message.chunk async for message in stream])


@asynccontextmanager
async def connect(port: int) -> AsyncIterator[Clients]:
    """Clients on a fresh channel to a job API on this machine."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield Clients(
            channel=channel,
            jobs=job_service_pb2_grpc.JobServiceStub(channel),
            worker=worker_service_pb2_grpc.WorkerServiceStub(channel),
        )


def watch_health(
    channel: grpc.aio.Channel, service: str = ""
) -> grpc.aio.UnaryStreamCall[Any, health_pb2.HealthCheckResponse]:
    """Health/Watch as a typed call (the published stubs leave HealthStub bare)."""
    watch = channel.unary_stream(
        "/grpc.health.v1.Health/Watch",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    return watch(health_pb2.HealthCheckRequest(service=service))


def lease_of(claim: worker_pb.ClaimJobResponse) -> worker_pb.LeaseRef:
    return worker_pb.LeaseRef(job_id=claim.job.job_id, lease_id=claim.lease_id)


def new_job_id() -> str:
    return str(uuid.uuid4())
