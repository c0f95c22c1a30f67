"""The gateway's only way to reach the job API: one ``grpc.aio`` channel on
the gateway's own event loop, and a method per call with its deadline.

Unary calls always carry a deadline, so a stalled job API costs a request at
most ``call_timeout_seconds`` (504), never a hung connection. The long
streams (``WatchProgress``, ``SubmitJob``, ``GetJobResults``) have no overall
deadline, because their length is the client's business; instead HTTP/2
keepalive pings notice a job API that vanished, and the HTTP handler
cancels the call when its client goes away.

The channel comes from the shared factory (TLS by configuration, quick
reconnects after a job API restart), so the gateway answers 503 only while
the job API is really down.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import grpc
from grpc_health.v1 import health_pb2

from forgesyte.jobs.v1 import job_pb2, job_service_pb2_grpc
from forgesyte.jobs.v1 import job_service_pb2 as pb
from services.common.channels import open_channel
from services.common.tls import TlsSettings

Metadata = tuple[tuple[str, str], ...]
WatchCall = grpc.aio.UnaryStreamCall[pb.WatchProgressRequest, pb.WatchProgressResponse]
ResultsCall = grpc.aio.UnaryStreamCall[pb.GetJobResultsRequest, pb.GetJobResultsResponse]
SubmitCall = grpc.aio.StreamUnaryCall[pb.SubmitJobRequest, pb.SubmitJobResponse]

JOB_SERVICE: Final = "forgesyte.jobs.v1.JobService"
_HEALTH_CHECK: Final = "/grpc.health.v1.Health/Check"

# Added to the shared channel options: keep pinging while streams are open
# (even when no data flows), so an SSE client whose job API vanished without
# closing the connection hears about it. The job API accepts a ping every
# 10 s (grpc.http2.min_ping_interval_without_data_ms).
STREAM_KEEPALIVE_OPTIONS: Final[Sequence[tuple[str, int | str]]] = (
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 0),
    ("grpc.http2.max_pings_without_data", 0),
)


class JobApiClient:
    """Typed calls to the job API's ``JobService`` (and its health service)."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        call_timeout_seconds: float,
        health_timeout_seconds: float,
    ) -> None:
        self._channel = channel
        self._stub: job_service_pb2_grpc.JobServiceAsyncStub = job_service_pb2_grpc.JobServiceStub(
            channel
        )
        self._timeout = call_timeout_seconds
        self._health_timeout = health_timeout_seconds
        self._health_check = channel.unary_unary(
            _HEALTH_CHECK,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )

    @classmethod
    def connect(
        cls,
        addr: str,
        *,
        tls: TlsSettings | None = None,
        call_timeout_seconds: float,
        health_timeout_seconds: float,
    ) -> JobApiClient:
        """A client on a new channel; call it with the event loop running."""
        channel = open_channel(addr, tls, extra_options=STREAM_KEEPALIVE_OPTIONS)
        return cls(
            channel,
            call_timeout_seconds=call_timeout_seconds,
            health_timeout_seconds=health_timeout_seconds,
        )

    async def close(self) -> None:
        """Cancel whatever is still in flight and release the connection."""
        await self._channel.close(grace=None)

    async def get_status(self, job_id: str, metadata: Metadata) -> job_pb2.Job:
        response = await self._stub.GetJobStatus(
            pb.GetJobStatusRequest(job_id=job_id), timeout=self._timeout, metadata=metadata
        )
        return response.job

    async def list_jobs(
        self,
        *,
        page_size: int,
        page_token: str,
        status: job_pb2.JobStatus.ValueType,
        metadata: Metadata,
    ) -> pb.ListJobsResponse:
        request = pb.ListJobsRequest(page_size=page_size, page_token=page_token, status=status)
        return await self._stub.ListJobs(request, timeout=self._timeout, metadata=metadata)

    async def cancel(self, job_id: str, metadata: Metadata) -> job_pb2.Job:
        response = await self._stub.CancelJob(
            pb.CancelJobRequest(job_id=job_id), timeout=self._timeout, metadata=metadata
        )
        return response.job

    async def list_plugins(self, metadata: Metadata) -> list[job_pb2.PluginManifest]:
        response = await self._stub.ListPlugins(
            pb.ListPluginsRequest(), timeout=self._timeout, metadata=metadata
        )
        return list(response.plugins)

    def watch(self, job_id: str, metadata: Metadata) -> WatchCall:
        """WatchProgress: no deadline; the caller cancels it when its client leaves."""
        return self._stub.WatchProgress(pb.WatchProgressRequest(job_id=job_id), metadata=metadata)

    def results(self, job_id: str, metadata: Metadata) -> ResultsCall:
        """GetJobResults: no overall deadline (the document may be large and the
        HTTP client slow); the caller bounds the wait for the first message."""
        return self._stub.GetJobResults(pb.GetJobResultsRequest(job_id=job_id), metadata=metadata)

    def submit(self, metadata: Metadata) -> SubmitCall:
        """SubmitJob, to be fed with ``write``: no overall deadline, since an upload
        lasts as long as the client takes; the caller times out idle uploads."""
        return self._stub.SubmitJob(metadata=metadata)

    async def serving(self) -> bool:
        """Whether the job API answers its health check with SERVING in time."""
        try:
            response: Any = await self._health_check(
                health_pb2.HealthCheckRequest(service=JOB_SERVICE), timeout=self._health_timeout
            )
        except grpc.aio.AioRpcError:
            return False
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)

    @property
    def call_timeout_seconds(self) -> float:
        return self._timeout
