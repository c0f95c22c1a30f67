"""``POST /v1/video/submit``: a multipart upload streamed into ``SubmitJob``.

The file is read from the request in pieces and each piece is written to
the gRPC call before the next is read, so the gateway holds about one chunk
per upload whatever the file's size, and HTTP/2 flow control slows the
client down when the job API is slower.

Everything that can refuse an upload is checked before or while the bytes
flow, not left to the job API to say half-way: grpc.aio loses a server's
early status when the client is in the middle of a write (it reports
INTERNAL "Internal error from Core" instead; grpc/grpc#36066). So the
gateway asks ``ListPlugins`` first (unknown plugin or tool: 400; a missing
token: 401), refuses a body whose declared length is too large before
reading it, and counts the bytes it forwards (413 as soon as the limit is
passed). The job API still checks all of it; these checks only make the
answer exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Final, TypeVar

import grpc
import structlog
from aiohttp import BodyPartReader, ClientPayloadError, MultipartReader, web

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as pb
from services.gateway.errors import ApiError, from_rpc_error
from services.gateway.job_client import JobApiClient, Metadata, SubmitCall

FILE_FIELD: Final = "file"
VIDEO: Final = "video"
# Room for the multipart boundaries and part headers around the file, so a
# file just under the limit is not refused for its envelope.
MULTIPART_OVERHEAD_BYTES: Final = 64 * 1024

_CLOSE: Final = {"Connection": "close"}

log = structlog.get_logger("forgesyte.gateway.upload")

T = TypeVar("T")


@dataclass(frozen=True)
class UploadLimits:
    max_upload_bytes: int
    chunk_bytes: int
    idle_seconds: float
    finish_timeout_seconds: float


def too_large(max_upload_bytes: int) -> ApiError:
    # Close the connection: the rest of the body is not worth reading.
    return ApiError(413, f"The upload is larger than the limit of {max_upload_bytes} bytes", _CLOSE)


def check_declared_size(request: web.Request, max_upload_bytes: int) -> None:
    """413 at once when Content-Length says the body cannot fit."""
    declared = request.content_length
    if declared is not None and declared > max_upload_bytes + MULTIPART_OVERHEAD_BYTES:
        raise too_large(max_upload_bytes)


async def check_tool(client: JobApiClient, metadata: Metadata, plugin_id: str, tool: str) -> None:
    """400 unless a worker offers ``plugin_id``/``tool`` for video."""
    plugins = await client.list_plugins(metadata)
    plugin = next((p for p in plugins if p.id == plugin_id), None)
    if plugin is None:
        available = ", ".join(p.id for p in plugins) or "none (no worker has advertised any yet)"
        raise ApiError(400, f"unknown plugin {plugin_id[:64]!r}; available plugins: {available}")
    manifest = next((t for t in plugin.tools if t.id == tool), None)
    if manifest is None:
        available = ", ".join(t.id for t in plugin.tools) or "none"
        raise ApiError(
            400, f"plugin {plugin_id!r} has no tool {tool[:64]!r}; available tools: {available}"
        )
    if VIDEO not in manifest.input_types:
        accepted = ", ".join(manifest.input_types) or "nothing"
        raise ApiError(
            400, f"tool {plugin_id}/{tool} does not accept video input (accepts: {accepted})"
        )


async def submit_upload(
    request: web.Request,
    client: JobApiClient,
    metadata: Metadata,
    *,
    plugin_id: str,
    tool: str,
    limits: UploadLimits,
) -> job_pb2.Job:
    """Stream the request's ``file`` field into a new job; returns the job."""
    if request.content_type != "multipart/form-data":
        raise ApiError(415, f"Send the video as multipart/form-data in a {FILE_FIELD!r} field")
    check_declared_size(request, limits.max_upload_bytes)
    await check_tool(client, metadata, plugin_id, tool)
    try:
        reader = await request.multipart()
    except ValueError as error:
        raise ApiError(400, f"Malformed multipart body: {error}") from None
    part = await _file_part(reader, limits.idle_seconds)
    header = pb.SubmitJobHeader(
        plugin_id=plugin_id, tool=tool, original_filename=part.filename or ""
    )
    call = client.submit(metadata)
    try:
        if await _write(call, pb.SubmitJobRequest(header=header)):
            await _send_file(call, part, limits)
        response = await asyncio.wait_for(call, limits.finish_timeout_seconds)
    except grpc.aio.AioRpcError as error:
        raise from_rpc_error(error, upload=True) from None
    except TimeoutError:
        raise ApiError(504, "The job API did not confirm the upload in time") from None
    except (ConnectionResetError, ClientPayloadError):
        call.cancel()  # the client went away mid-upload: nothing is stored
        log.info("upload abandoned by the client", plugin_id=plugin_id, tool=tool)
        raise ApiError(400, "The upload ended before the file was complete", _CLOSE) from None
    except BaseException:
        call.cancel()  # the client left or the upload stalled: nothing is stored
        raise
    return response.job


async def _file_part(reader: MultipartReader, idle_seconds: float) -> BodyPartReader:
    """The ``file`` part; other fields before it are skipped."""
    while True:
        try:
            part = await _within(reader.next(), idle_seconds)
        except ValueError as error:
            raise ApiError(400, f"Malformed multipart body: {error}") from None
        if part is None:
            raise ApiError(400, f"The multipart body has no {FILE_FIELD!r} field")
        if isinstance(part, BodyPartReader) and part.name == FILE_FIELD:
            return part
        await _within(part.release(), idle_seconds)


async def _send_file(call: SubmitCall, part: BodyPartReader, limits: UploadLimits) -> None:
    """Copy the part into the call, ``chunk_bytes`` at a time."""
    pending = bytearray()
    received = 0
    while True:
        piece = await _within(part.read_chunk(limits.chunk_bytes), limits.idle_seconds)
        if not piece:
            break
        received += len(piece)
        if received > limits.max_upload_bytes:
            raise too_large(limits.max_upload_bytes)
        pending += piece
        if len(pending) >= limits.chunk_bytes:
            if not await _write(call, pb.SubmitJobRequest(chunk=bytes(pending))):
                return
            pending.clear()
    if pending and not await _write(call, pb.SubmitJobRequest(chunk=bytes(pending))):
        return
    # Only the end message makes the upload count: a request cut off before
    # it (the browser went away) leaves nothing stored.
    if not await _write(call, pb.SubmitJobRequest(end=job_pb2.UploadEnd(size_bytes=received))):
        return
    await call.done_writing()


async def _write(call: SubmitCall, message: pb.SubmitJobRequest) -> bool:
    """Send one message; False when the job API already ended the call (its
    status, e.g. RESOURCE_EXHAUSTED, is then read by awaiting the call)."""
    try:
        await call.write(message)
    except asyncio.InvalidStateError:
        return False
    return True


async def _within(step: Awaitable[T], idle_seconds: float) -> T:
    try:
        return await asyncio.wait_for(step, idle_seconds)
    except TimeoutError:
        raise ApiError(
            408, f"The upload sent nothing for {idle_seconds:g} s and was abandoned", _CLOSE
        ) from None
