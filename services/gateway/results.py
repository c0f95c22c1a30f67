"""Results of a completed job, read from the ``GetJobResults`` stream.

``/v1/video/results/{job_id}`` wraps the document in ForgeSyte's envelope
while it streams through, so a large document is never held whole.
``/v1/jobs/{job_id}`` embeds the parsed document, up to a size that is
reasonable to parse in the gateway; beyond that it points at the results
route instead.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Final

import grpc
import structlog
from aiohttp import web

from forgesyte.jobs.v1 import job_service_pb2 as pb
from services.gateway.errors import ApiError
from services.gateway.job_client import JobApiClient, Metadata, ResultsCall

INLINE_RESULTS_MAX_BYTES: Final = 8 * 1024 * 1024

log = structlog.get_logger("forgesyte.gateway.results")


class OpenResults:
    """A results stream whose first message (with the size) has arrived."""

    def __init__(self, call: ResultsCall, first: pb.GetJobResultsResponse) -> None:
        self.call = call
        self.first = first

    @property
    def size(self) -> int:
        return self.first.total_size_bytes

    @property
    def content_type(self) -> str:
        return self.first.content_type or "application/json"

    async def chunks(self) -> AsyncIterator[bytes]:
        """Every chunk of the document, the first one included."""
        yield self.first.chunk
        while True:  # read() as for the first message: gRPC forbids mixing styles
            message = await self.call.read()
            if message is grpc.aio.EOF:
                return
            assert isinstance(message, pb.GetJobResultsResponse)
            yield message.chunk


async def open_results(
    client: JobApiClient, job_id: str, metadata: Metadata, timeout_seconds: float
) -> OpenResults:
    """Start the stream and wait (within the deadline) for its first message,
    so errors such as "not completed" surface before any byte is sent."""
    call = client.results(job_id, metadata)
    try:
        first = await asyncio.wait_for(call.read(), timeout_seconds)
    except TimeoutError:
        call.cancel()
        raise ApiError(504, "The job API did not answer in time; retry shortly") from None
    except BaseException:
        call.cancel()
        raise
    if first is grpc.aio.EOF:
        raise ApiError(502, "The job API sent an empty results document")
    assert isinstance(first, pb.GetJobResultsResponse)
    return OpenResults(call, first)


async def read_document(results: OpenResults) -> Any:
    """The parsed document, or None when it is too large to embed."""
    if results.size > INLINE_RESULTS_MAX_BYTES:
        results.call.cancel()
        return None
    body = b"".join([chunk async for chunk in results.chunks()])
    try:
        return json.loads(body)
    except ValueError:
        raise ApiError(502, "The job's results are not valid JSON") from None


async def stream_enveloped(
    request: web.Request, results: OpenResults, envelope: dict[str, Any], key: str
) -> web.StreamResponse:
    """Send ``envelope`` with the document streamed in as ``envelope[key]``."""
    opening = json.dumps(envelope, separators=(",", ":"))[:-1]
    head = f'{opening},"{key}":'.encode() if envelope else f'{{"{key}":'.encode()
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.content_length = len(head) + results.size + 1
    await response.prepare(request)
    try:
        await response.write(head)
        async for chunk in results.chunks():
            await response.write(chunk)
        await response.write(b"}")
    except Exception:
        # Too late for an error status: cut the connection, so the client sees
        # a body shorter than Content-Length instead of a document that ends early.
        log.warning("results stream broke", job_id=envelope.get("job_id"), exc_info=True)
        if request.transport is not None:
            request.transport.close()
    finally:
        results.call.cancel()
    return response
