"""Follow one job through ``WatchProgress``, across job API restarts.

A watch can outlive the job API process it started on: when the stream
breaks (UNAVAILABLE while the job API restarts, or a stream that ends
before the job did), the gateway opens a new one and carries on. The new
stream starts with the current snapshot, so nothing is lost; snapshots the
client already has (``version`` not newer) are dropped, so nothing is sent
twice. Only after ``resume_seconds`` without getting a stream back does the
watch give up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Final

import grpc
import structlog

from forgesyte.jobs.v1 import job_pb2
from services.gateway.errors import ApiError
from services.gateway.job_client import JobApiClient, Metadata
from services.gateway.views import is_terminal

log = structlog.get_logger("forgesyte.gateway.watch")

RESUMABLE_CODES: Final = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED})
RETRY_DELAY_SECONDS: Final = 0.25


async def follow_job(
    client: JobApiClient, job_id: str, metadata: Metadata, *, resume_seconds: float
) -> AsyncGenerator[job_pb2.Job, None]:
    """The current snapshot, then one per change, ending after the terminal one.

    The first stream's failures propagate as they are (the caller answers
    them with an HTTP status); later ones are retried.
    """
    loop = asyncio.get_running_loop()
    last_version: int | None = None
    give_up_at: float | None = None
    while True:
        call = client.watch(job_id, metadata)
        try:
            async for message in call:
                job = message.job
                give_up_at = None
                if last_version is None or job.version > last_version:
                    last_version = job.version
                    yield job
                if is_terminal(job):
                    return
        except grpc.aio.AioRpcError as error:
            if last_version is None or error.code() not in RESUMABLE_CODES:
                raise
            log.info("watch interrupted; resuming", job_id=job_id, code=error.code().name)
        finally:
            call.cancel()
        if last_version is None:
            raise ApiError(502, "The job API ended the stream before sending the job")
        if give_up_at is None:
            give_up_at = loop.time() + resume_seconds
        elif loop.time() >= give_up_at:
            raise ApiError(503, "The job API is unavailable; reconnect to resume")
        await asyncio.sleep(RETRY_DELAY_SECONDS)
