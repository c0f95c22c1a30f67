"""Real job API and worker processes: the whole pipeline, crashes and shutdowns."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from tests.integration.worker.conftest import TERMINAL, follow, wait_for, wait_until_advertised
from tests.support.api import WORKER_TOKEN, Clients, connect
from tests.support.processes import job_api_env, read_listening_port, running_process, script
from tests.support.test_plugins import FRAME_SECONDS_VARIABLE, install_test_plugins
from tests.videos import make_flat_video, make_moving_box_video

LEASE_SECONDS = "4"

StartWorker = Callable[[str], subprocess.Popen[str]]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[int, StartWorker]]:
    """A job API process, and a way to start worker processes against it."""
    with ExitStack() as processes:
        api = processes.enter_context(
            running_process(
                [script("forgesyte-job-api")],
                job_api_env(tmp_path / "data", FORGESYTE_LEASE_SECONDS=LEASE_SECONDS),
            )
        )
        port = read_listening_port(api)
        plugin_env = install_test_plugins(tmp_path / "plugins")

        def start_worker(name: str) -> subprocess.Popen[str]:
            env = {
                "FORGESYTE_JOB_API_ADDR": f"127.0.0.1:{port}",
                "FORGESYTE_WORKER_TOKEN": WORKER_TOKEN,
                "FORGESYTE_LOG_LEVEL": "WARNING",
                FRAME_SECONDS_VARIABLE: "0.03",
                **plugin_env,
            }
            command = [script("forgesyte-worker"), "--worker-id", name, "--drain-seconds", "0"]
            return processes.enter_context(running_process(command, env))

        yield port, start_worker


@pytest.fixture
async def clients(stack: tuple[int, StartWorker]) -> AsyncIterator[Clients]:
    async with connect(stack[0]) as connected:
        yield connected


async def test_a_video_job_runs_end_to_end(
    stack: tuple[int, StartWorker], clients: Clients, tmp_path: Path
) -> None:
    _, start_worker = stack
    video = make_moving_box_video(tmp_path / "box.mp4", frame_count=60)
    start_worker("worker-a")
    await wait_until_advertised(clients, "motion")
    job = await clients.submit(video.path.read_bytes(), plugin_id="motion", tool="detect_motion")
    snapshots = await follow(clients, job.job_id)
    progress = [s.progress for s in snapshots if s.HasField("progress")]
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert snapshots[-1].status == job_pb2.JOB_STATUS_COMPLETED
    results = json.loads(await clients.results(job.job_id))
    assert results["summary"]["total_frames"] == 60
    assert any(frame["detections"] for frame in results["frames"])


async def test_a_killed_worker_s_job_is_completed_once_by_another(
    stack: tuple[int, StartWorker], clients: Clients, tmp_path: Path
) -> None:
    _, start_worker = stack
    video = make_flat_video(tmp_path / "v.avi", frame_count=120)
    doomed = start_worker("worker-doomed")
    await wait_until_advertised(clients)
    job = await clients.submit(video.read_bytes(), plugin_id="paced", tool="slow_frames")
    watcher = asyncio.create_task(follow(clients, job.job_id, within=90))
    await wait_for(clients, job.job_id, lambda j: j.HasField("progress") and j.progress >= 10)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    start_worker("worker-rescuer")

    snapshots = await watcher
    final = snapshots[-1]
    assert final.status == job_pb2.JOB_STATUS_COMPLETED
    assert final.attempt == 2
    assert [s.status for s in snapshots].count(job_pb2.JOB_STATUS_COMPLETED) == 1
    requeued = next(
        i
        for i, s in enumerate(snapshots)
        if s.attempt == 1 and s.status == job_pb2.JOB_STATUS_PENDING
    )
    assert not snapshots[requeued].HasField("progress"), "the new attempt starts from null"
    second_attempt = [s.progress for s in snapshots[requeued:] if s.HasField("progress")]
    assert second_attempt == sorted(second_attempt)
    assert second_attempt[-1] == 100
    results = json.loads(await clients.results(job.job_id))
    assert results["summary"]["total_frames"] == 120


async def test_cancel_mid_job_then_the_worker_takes_the_next_job(
    stack: tuple[int, StartWorker], clients: Clients, tmp_path: Path
) -> None:
    _, start_worker = stack
    long_video = make_flat_video(tmp_path / "long.avi", frame_count=300)
    short_video = make_flat_video(tmp_path / "short.avi", frame_count=10)
    start_worker("worker-a")
    await wait_until_advertised(clients)
    job = await clients.submit(long_video.read_bytes(), plugin_id="paced", tool="slow_frames")
    await wait_for(clients, job.job_id, lambda j: j.HasField("progress") and j.progress >= 5)
    await clients.jobs.CancelJob(jobs_pb.CancelJobRequest(job_id=job.job_id))
    final = await wait_for(clients, job.job_id, lambda j: j.status in TERMINAL)
    assert final.status == job_pb2.JOB_STATUS_CANCELLED
    next_job = await clients.submit(short_video.read_bytes(), plugin_id="paced", tool="slow_frames")
    done = await wait_for(clients, next_job.job_id, lambda j: j.status in TERMINAL)
    assert done.status == job_pb2.JOB_STATUS_COMPLETED


async def test_sigterm_hands_the_job_back_at_once(
    stack: tuple[int, StartWorker], clients: Clients, tmp_path: Path
) -> None:
    _, start_worker = stack
    video = make_flat_video(tmp_path / "v.avi", frame_count=150)
    leaving = start_worker("worker-leaving")
    await wait_until_advertised(clients)
    job = await clients.submit(video.read_bytes(), plugin_id="paced", tool="slow_frames")
    await wait_for(clients, job.job_id, lambda j: j.HasField("progress") and j.progress >= 5)
    leaving.send_signal(signal.SIGTERM)
    # Handed back well within the lease (4 s): nobody waits for it to lapse.
    pending = await wait_for(
        clients, job.job_id, lambda j: j.status == job_pb2.JOB_STATUS_PENDING, within=2.5
    )
    assert pending.attempt == 0
    assert await asyncio.to_thread(leaving.wait, 15) == 0
    start_worker("worker-next")
    final = await wait_for(clients, job.job_id, lambda j: j.status in TERMINAL, within=60)
    assert final.status == job_pb2.JOB_STATUS_COMPLETED
    assert final.attempt == 1
