"""A real job API and an in-process worker with the built-in and test plugins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from services.common.channels import open_channel
from services.job_api.server import RunningJobApi
from services.worker.client import WorkerClient
from services.worker.plugin_api import PluginRegistry
from services.worker.runtime import Worker
from tests.support.api import WORKER_TOKEN, Clients
from tests.support.test_plugins import PacedPlugin

StartWorker = Callable[..., Awaitable[Worker]]
TERMINAL = {
    job_pb2.JOB_STATUS_COMPLETED,
    job_pb2.JOB_STATUS_FAILED,
    job_pb2.JOB_STATUS_CANCELLED,
}


def registry(seconds_per_frame: float = 0.02) -> PluginRegistry:
    builtin = PluginRegistry.from_entry_points()
    plugins = [builtin.plugin(plugin_id) for plugin_id in builtin.plugin_ids]
    return PluginRegistry.from_plugins([*plugins, PacedPlugin(seconds_per_frame)])


@pytest.fixture
async def start_worker(job_api: RunningJobApi) -> AsyncIterator[StartWorker]:
    """Start in-process workers against the job API; all are stopped at the end."""
    running: list[tuple[Worker, asyncio.Task[None]]] = []
    channel = open_channel(f"127.0.0.1:{job_api.port}")

    async def start(
        name: str = "worker-a", seconds_per_frame: float = 0.02, drain_seconds: float = 5.0
    ) -> Worker:
        client = WorkerClient(channel, WORKER_TOKEN, name)
        worker = Worker(
            client,
            registry(seconds_per_frame),
            drain_seconds=drain_seconds,
            claim_wait_seconds=2.0,
        )
        task = asyncio.create_task(worker.run())
        running.append((worker, task))
        return worker

    yield start
    for worker, _ in running:
        worker.stop()
    await asyncio.wait_for(asyncio.gather(*(task for _, task in running)), timeout=30)
    await channel.close()


async def wait_until_advertised(clients: Clients, plugin_id: str = "paced") -> None:
    for _ in range(100):
        listed = await clients.jobs.ListPlugins(jobs_pb.ListPluginsRequest())
        if plugin_id in {p.id for p in listed.plugins}:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"plugin {plugin_id} was never advertised")


async def follow(clients: Clients, job_id: str, within: float = 60) -> list[job_pb2.Job]:
    """Every snapshot WatchProgress sends until the job ends."""

    async def collect() -> list[job_pb2.Job]:
        stream = clients.jobs.WatchProgress(jobs_pb.WatchProgressRequest(job_id=job_id))
        return [message.job async for message in stream]

    return await asyncio.wait_for(collect(), within)


async def wait_for(
    clients: Clients, job_id: str, done: Callable[[job_pb2.Job], bool], within: float = 30
) -> job_pb2.Job:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        job = await clients.status(job_id)
        if done(job):
            return job
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"job never reached the expected state; last: {job}")
        await asyncio.sleep(0.05)


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    directory = tmp_path / "videos"
    directory.mkdir()
    return directory
