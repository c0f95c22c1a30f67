"""Follow a job to its end over WatchProgress, riding out job API restarts.

A WatchProgress stream can end early for reasons that say nothing about the
job: the job API restarts (``forgesyte up`` restarts a crashed one), or a
replica shuts down and ends its streams with UNAVAILABLE so clients move to
another. Once a job has been seen, such an ending is not the user's problem:
the CLI waits for the job API to answer again and re-subscribes; the first
message of the new stream is the current snapshot, so nothing is missed.
If the job API stays away for ``RECONNECT_SECONDS`` the original error is
reported. Failures before the first snapshot (unknown job, job API down)
are reported at once: retrying them would only delay the answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import grpc

from services.cli.client import JobApiClient
from services.cli.errors import CliError, ExitCode
from services.cli.views import JobView

RECONNECT_SECONDS = 60.0
RECONNECT_PAUSE_SECONDS = 0.5


async def follow_job(
    client: JobApiClient,
    job_id: str,
    on_snapshot: Callable[[JobView], None],
    on_note: Callable[[str], None],
) -> JobView:
    """Call ``on_snapshot`` for every change until the job ends; returns the last snapshot."""
    seen = False
    while True:
        try:
            async for message in client.watch(job_id):
                job = JobView.from_proto(message)
                seen = True
                on_snapshot(job)
                if job.terminal:
                    return job
        except grpc.aio.AioRpcError as error:
            if not seen or error.code() != grpc.StatusCode.UNAVAILABLE:
                raise
        if not seen:
            raise CliError(
                f"the job API ended WatchProgress for {job_id} without a snapshot",
                ExitCode.UNAVAILABLE,
            )
        on_note("lost the connection to the job API; reconnecting")
        await _wait_until_answering(client, job_id)


async def _wait_until_answering(client: JobApiClient, job_id: str) -> None:
    deadline = time.monotonic() + RECONNECT_SECONDS
    while True:
        await asyncio.sleep(RECONNECT_PAUSE_SECONDS)
        try:
            await client.status(job_id, wait_for_ready=True)
            return
        except grpc.aio.AioRpcError as error:
            retryable = error.code() in (
                grpc.StatusCode.UNAVAILABLE,
                grpc.StatusCode.DEADLINE_EXCEEDED,
            )
            if not retryable or time.monotonic() >= deadline:
                raise
