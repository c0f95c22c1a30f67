"""Load and soak: 1,000 WatchProgress streams and 200 status requests/s through
the gateway, for 60 s, while two workers process a steady flow of jobs.

Everything runs as real processes on 127.0.0.1; the load is bounded in time
(``FORGESYTE_SOAK_SECONDS``, default 60) and in count. Passing means: no
request or stream failed, the job API's file descriptors went back to where
they were, and its memory stayed flat (no growth beyond allocator warm-up).
The figures are printed for the verification report.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import grpc
import psutil
import pytest

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from tests.integration.worker.conftest import TERMINAL, wait_until_advertised
from tests.support.api import WORKER_TOKEN, Clients, connect
from tests.support.processes import job_api_env, read_listening_port, running_process, script
from tests.support.test_plugins import FRAME_SECONDS_VARIABLE, install_test_plugins
from tests.videos import make_flat_video

SECONDS = float(os.environ.get("FORGESYTE_SOAK_SECONDS", "60"))
WATCHERS = 1000
STATUS_PER_SECOND = 200
SUBMIT_EVERY_SECONDS = 0.5
RECENT_JOBS_WATCHED = 10
# A leak of one small object per request or stream would grow far past this
# over 12,000 requests and thousands of streams; warm-up growth stays below it.
MAX_MEMORY_GROWTH_BYTES = 40 * 1024 * 1024
DB_POOL_SIZE = 8  # create_db_engine's default: pool_size plus as many overflow


@dataclass
class Tally:
    """What the load generator saw."""

    status_ok: int = 0
    status_errors: list[str] = field(default_factory=list)
    streams_finished: int = 0
    stream_errors: list[str] = field(default_factory=list)
    job_ids: list[str] = field(default_factory=list)


@dataclass
class Stack:
    job_api: subprocess.Popen[str]
    job_api_port: int
    gateway_port: int


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    with ExitStack() as processes:
        api = processes.enter_context(
            running_process([script("forgesyte-job-api")], job_api_env(tmp_path / "data"))
        )
        port = read_listening_port(api)
        worker_env = {
            "FORGESYTE_JOB_API_ADDR": f"127.0.0.1:{port}",
            "FORGESYTE_WORKER_TOKEN": WORKER_TOKEN,
            "FORGESYTE_LOG_LEVEL": "WARNING",
            FRAME_SECONDS_VARIABLE: "0.01",
            **install_test_plugins(tmp_path / "plugins"),
        }
        for _ in range(2):
            processes.enter_context(running_process([script("forgesyte-worker")], worker_env))
        gateway = processes.enter_context(
            running_process(
                [script("forgesyte-gateway"), "--addr", "127.0.0.1:0"],
                {"FORGESYTE_JOB_API_ADDR": f"127.0.0.1:{port}", "FORGESYTE_LOG_LEVEL": "WARNING"},
            )
        )
        yield Stack(api, port, read_listening_port(gateway))


async def submit_jobs(clients: Clients, video: bytes, tally: Tally, until: float) -> None:
    while time.monotonic() < until:
        job = await clients.submit(video, plugin_id="paced", tool="slow_frames")
        tally.job_ids.append(job.job_id)
        await asyncio.sleep(SUBMIT_EVERY_SECONDS)


async def watch_jobs(clients: Clients, tally: Tally, until: float) -> None:
    """Watch one of the newest jobs to its end, then another, until time is up."""
    while time.monotonic() < until:
        job_id = random.choice(tally.job_ids[-RECENT_JOBS_WATCHED:])
        stream = clients.jobs.WatchProgress(jobs_pb.WatchProgressRequest(job_id=job_id))
        try:
            last: job_pb2.Job | None = None
            async for message in stream:
                last = message.job
                if time.monotonic() >= until:
                    stream.cancel()
                    break
            if last is not None and last.status in TERMINAL:
                tally.streams_finished += 1
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                tally.stream_errors.append(f"{error.code().name}: {error.details()}")


async def poll_status(base_url: str, tally: Tally, until: float) -> None:
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=64), timeout=aiohttp.ClientTimeout(total=10)
    ) as http:

        async def one(job_id: str) -> None:
            try:
                async with http.get(f"{base_url}/v1/video/status/{job_id}") as response:
                    body = await response.json()
                    progress = body.get("progress")
                    if response.status != 200 or not (
                        progress is None or (isinstance(progress, int) and 0 <= progress <= 100)
                    ):
                        tally.status_errors.append(f"{response.status}: {body}")
                        return
                    tally.status_ok += 1
            except (aiohttp.ClientError, TimeoutError) as error:
                tally.status_errors.append(repr(error))

        requests: set[asyncio.Task[None]] = set()
        interval = 1 / STATUS_PER_SECOND
        next_at = time.monotonic()
        while next_at < until:
            task = asyncio.create_task(one(random.choice(tally.job_ids)))
            requests.add(task)
            task.add_done_callback(requests.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*requests)


def open_descriptors(pid: int, prefix: str) -> int:
    """How many of the process's file descriptors point at something named ``prefix``."""
    directory = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in directory.iterdir():
        try:
            count += os.readlink(fd).startswith(prefix)
        except FileNotFoundError:
            continue
    return count


async def sample_memory(process: psutil.Process, samples: list[int], until: float) -> None:
    while time.monotonic() < until:
        samples.append(process.memory_info().rss)
        await asyncio.sleep(2.0)


async def wait_all_finished(clients: Clients, job_ids: list[str]) -> list[job_pb2.Job]:
    finals = []
    for job_id in job_ids:
        for _ in range(600):
            job = await clients.status(job_id)
            if job.status in TERMINAL:
                finals.append(job)
                break
            await asyncio.sleep(0.1)
    return finals


async def test_watchers_and_status_polling_under_a_steady_flow_of_jobs(
    stack: Stack, tmp_path: Path
) -> None:
    video = make_flat_video(tmp_path / "clip.avi", frame_count=20).read_bytes()
    job_api = psutil.Process(stack.job_api.pid)
    tally = Tally()
    memory: list[int] = []
    async with connect(stack.job_api_port) as control:
        await wait_until_advertised(control)
        first = await control.submit(video, plugin_id="paced", tool="slow_frames")
        tally.job_ids.append(first.job_id)
        # Warm up every path first (the gateway connects to the job API on its
        # first request), so the baseline holds every connection that stays.
        await poll_status(f"http://127.0.0.1:{stack.gateway_port}", tally, time.monotonic() + 0.5)
        sockets_before = open_descriptors(job_api.pid, "socket:")
        until = time.monotonic() + SECONDS
        async with AsyncExitStack() as channels:
            watchers = [
                await channels.enter_async_context(connect(stack.job_api_port)) for _ in range(10)
            ]
            await asyncio.gather(
                submit_jobs(control, video, tally, until),
                poll_status(f"http://127.0.0.1:{stack.gateway_port}", tally, until),
                sample_memory(job_api, memory, until),
                *(watch_jobs(watchers[n % 10], tally, until) for n in range(WATCHERS)),
            )
        await asyncio.sleep(2.0)  # let the server notice every closed stream
        sockets_after = open_descriptors(job_api.pid, "socket:")
        database_files = open_descriptors(job_api.pid, str(tmp_path / "data" / "forgesyte.db"))
        finals = await wait_all_finished(control, tally.job_ids)

    warmed_up = memory[len(memory) // 3]
    growth = max(memory[-3:]) - warmed_up
    print(
        f"\nsoak {SECONDS:.0f} s: {tally.status_ok} status requests "
        f"({tally.status_ok / SECONDS:.0f}/s), {tally.streams_finished} watch streams followed "
        f"to the end by {WATCHERS} watchers, {len(tally.job_ids)} jobs; "
        f"job API sockets {sockets_before} -> {sockets_after}, database files open "
        f"{database_files}; RSS {warmed_up / 2**20:.1f} MiB after "
        f"warm-up, {max(memory[-3:]) / 2**20:.1f} MiB at the end"
    )
    assert tally.status_errors == []
    assert tally.stream_errors == []
    assert tally.status_ok >= STATUS_PER_SECOND * SECONDS * 0.9, "the poller kept its rate"
    assert tally.streams_finished > WATCHERS, "watchers followed jobs to their end, repeatedly"
    assert sockets_after <= sockets_before, "no connection outlived its client"
    # Pooled database connections stay open by design; the pool bounds them
    # (each SQLite connection holds the database and its WAL open).
    assert database_files <= 2 * (DB_POOL_SIZE * 2) + 1
    assert growth < MAX_MEMORY_GROWTH_BYTES
    assert [job.status for job in finals] == [job_pb2.JOB_STATUS_COMPLETED] * len(tally.job_ids)
