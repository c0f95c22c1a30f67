"""Server-Sent Events for one job: ``GET /v1/jobs/{job_id}/events``.

Each snapshot is one ``job`` event whose ``id`` is the job's ``version``, so
an EventSource that reconnects sends ``Last-Event-ID`` and receives only
what it has not seen. The stream starts with the current snapshot, sends a
``: keep-alive`` comment whenever it has been quiet for a while (proxies
close silent connections, and a failed write is how a vanished client is
noticed), and ends after the terminal snapshot. A client that reconnects
after it already has the terminal snapshot gets ``204 No Content``, which
tells an EventSource to stop reconnecting.

Errors before the stream starts are ordinary JSON errors; after it started
they become one ``error`` event, and the stream ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator
from typing import Any, Final

import grpc
import structlog
from aiohttp import web

from forgesyte.jobs.v1 import job_pb2
from services.gateway.errors import ApiError, default_detail, from_rpc_error
from services.gateway.views import is_terminal, job_view

log = structlog.get_logger("forgesyte.gateway.sse")

KEEPALIVE: Final = b": keep-alive\n\n"
# How long an EventSource waits before reconnecting after the stream broke.
RECONNECT_MILLISECONDS: Final = 2000
HEADERS: Final = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    # Tell buffering reverse proxies (nginx) to pass events on at once.
    "X-Accel-Buffering": "no",
}


def job_event(job: job_pb2.Job) -> bytes:
    data = json.dumps(job_view(job), separators=(",", ":"))
    return f"id: {job.version}\nevent: job\ndata: {data}\n\n".encode()


def error_event(detail: str) -> bytes:
    return f"event: error\ndata: {json.dumps({'detail': detail})}\n\n".encode()


async def stream_job_events(
    request: web.Request,
    snapshots: AsyncGenerator[job_pb2.Job, None],
    *,
    last_event_id: int,
    keepalive_seconds: float,
    first_timeout_seconds: float,
    stopping: asyncio.Event,
) -> web.StreamResponse:
    """Answer ``request`` with the events of ``snapshots``."""
    try:
        first = await asyncio.wait_for(anext(snapshots), first_timeout_seconds)
    except TimeoutError:
        raise ApiError(504, "The job API did not answer in time; retry shortly") from None
    if is_terminal(first) and first.version <= last_event_id:
        await snapshots.aclose()
        return web.Response(status=204)
    response = web.StreamResponse(headers=HEADERS)
    await response.prepare(request)
    try:
        await response.write(f"retry: {RECONNECT_MILLISECONDS}\n\n".encode())
        if first.version > last_event_id:
            await response.write(job_event(first))
        if not is_terminal(first):
            await _relay(response, snapshots, last_event_id, keepalive_seconds, stopping)
    except ConnectionResetError:
        pass  # the client left; nothing more to say
    except Exception:
        # Headers are sent, so the middleware cannot answer any more: say it here.
        log.exception("event stream failed", job_id=first.job_id)
        with contextlib.suppress(ConnectionResetError):
            await response.write(error_event(default_detail(500)))
    finally:
        with contextlib.suppress(RuntimeError):  # already closed by a cancelled step
            await snapshots.aclose()
    return response


async def _relay(
    response: web.StreamResponse,
    snapshots: AsyncGenerator[job_pb2.Job, None],
    last_event_id: int,
    keepalive_seconds: float,
    stopping: asyncio.Event,
) -> None:
    """Write each later snapshot, with keep-alives in the pauses, until the end."""
    stop: asyncio.Future[Any] = asyncio.ensure_future(stopping.wait())
    following: asyncio.Future[Any] = asyncio.ensure_future(anext(snapshots))
    try:
        while True:
            done, _ = await asyncio.wait(
                {following, stop}, timeout=keepalive_seconds, return_when=asyncio.FIRST_COMPLETED
            )
            if stop in done:
                return  # the gateway is shutting down; the client reconnects elsewhere
            if following not in done:
                await response.write(KEEPALIVE)
                continue
            try:
                job: job_pb2.Job = following.result()
            except StopAsyncIteration:
                return
            except grpc.aio.AioRpcError as error:
                await response.write(error_event(from_rpc_error(error).detail))
                return
            except ApiError as error:
                await response.write(error_event(error.detail))
                return
            if job.version > last_event_id:
                await response.write(job_event(job))
            if is_terminal(job):
                return
            following = asyncio.ensure_future(anext(snapshots))
    finally:
        stop.cancel()
        following.cancel()
        # Cancelling the pending step closes the generator (and its call); wait
        # for that without re-raising whatever the step ended with.
        await asyncio.wait({following})
