"""The worker against a real job API: analysis, progress, failures, cancellation."""

from __future__ import annotations

import json
from pathlib import Path

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from tests.integration.worker.conftest import (
    TERMINAL,
    StartWorker,
    follow,
    wait_for,
    wait_until_advertised,
)
from tests.support.api import Clients
from tests.videos import (
    audio_only_file,
    avi_without_frame_data,
    make_flat_video,
    make_moving_box_video,
    text_file_named_as_video,
    truncated_copy,
)


async def test_motion_job_completes_with_monotonic_progress_and_real_results(
    clients: Clients, start_worker: StartWorker, videos: Path
) -> None:
    video = make_moving_box_video(videos / "box.mp4", frame_count=60)
    await start_worker()
    await wait_until_advertised(clients, "motion")
    job = await clients.submit(video.path.read_bytes(), plugin_id="motion", tool="detect_motion")
    snapshots = await follow(clients, job.job_id)

    assert snapshots[-1].status == job_pb2.JOB_STATUS_COMPLETED
    assert snapshots[-1].attempt == 1
    progress = [s.progress for s in snapshots if s.HasField("progress")]
    assert progress == sorted(progress), "progress only rises"
    assert progress[-1] == 100
    assert all(p <= 99 for p in progress[:-1]), "never 100 while running"
    assert len(progress) - 1 <= 22, "at most 22 progress writes"
    running = [s for s in snapshots if s.status == job_pb2.JOB_STATUS_RUNNING]
    assert not running[0].HasField("progress"), "null until the first report"

    results = json.loads(await clients.results(job.job_id))
    assert results["summary"]["total_frames"] == 60
    moving = {f["frame_index"] for f in results["frames"] if f["detections"]}
    assert set(range(21, 45)) <= moving  # the box moves in frames 20-44
    assert not moving & set(range(0, 19))
    assert snapshots[-1].total_frames == 60


async def test_unusable_inputs_fail_clearly_and_the_worker_carries_on(
    clients: Clients, start_worker: StartWorker, videos: Path
) -> None:
    good = make_flat_video(videos / "good.avi", frame_count=12)
    bad_inputs = {
        "text.mp4": text_file_named_as_video(videos / "text.mp4"),
        "audio.wav": audio_only_file(videos / "audio.wav"),
        "headers-only.avi": avi_without_frame_data(good, videos / "headers.avi"),
    }
    await start_worker()
    await wait_until_advertised(clients, "scene_cuts")
    for name, path in bad_inputs.items():
        job = await clients.submit(
            path.read_bytes(), plugin_id="scene_cuts", tool="detect_scene_cuts", filename=name
        )
        final = await wait_for(clients, job.job_id, lambda j: j.status in TERMINAL)
        assert final.status == job_pb2.JOB_STATUS_FAILED, name
        assert final.error_message, name
        assert "Traceback" not in final.error_message
        assert "/" not in final.error_message, "no server paths in messages"
    job = await clients.submit(good.read_bytes(), plugin_id="scene_cuts", tool="detect_scene_cuts")
    final = await wait_for(clients, job.job_id, lambda j: j.status in TERMINAL)
    assert final.status == job_pb2.JOB_STATUS_COMPLETED


async def test_a_truncated_file_is_processed_up_to_its_last_good_frame(
    clients: Clients, start_worker: StartWorker, videos: Path
) -> None:
    whole = make_flat_video(videos / "whole.avi", frame_count=40)
    cut = truncated_copy(whole, videos / "cut.avi", keep_fraction=0.5)
    await start_worker()
    await wait_until_advertised(clients, "scene_cuts")
    job = await clients.submit(cut.read_bytes(), plugin_id="scene_cuts", tool="detect_scene_cuts")
    final = await wait_for(clients, job.job_id, lambda j: j.status in TERMINAL)
    assert final.status == job_pb2.JOB_STATUS_COMPLETED
    frames = json.loads(await clients.results(job.job_id))["summary"]["total_frames"]
    assert 0 < frames < 40


async def test_a_plugin_exception_fails_the_job_with_its_message(
    clients: Clients, start_worker: StartWorker, videos: Path
) -> None:
    video = make_flat_video(videos / "v.avi", frame_count=10)
    await start_worker()
    await wait_until_advertised(clients)
    job = await clients.submit(video.read_bytes(), plugin_id="paced", tool="explode")
    final = await wait_for(clients, job.job_id, lambda j: j.status in TERMINAL)
    assert final.status == job_pb2.JOB_STATUS_FAILED
    assert final.error_message == (
        "paced/explode failed: RuntimeError: the detector ran out of memory at frame 3"
    )


async def test_a_tool_without_progress_keeps_null_until_completion(
    clients: Clients, start_worker: StartWorker, videos: Path
) -> None:
    video = make_flat_video(videos / "v.avi", frame_count=40)
    await start_worker(seconds_per_frame=0.02)
    await wait_until_advertised(clients)
    job = await clients.submit(video.read_bytes(), plugin_id="paced", tool="silent")
    snapshots = await follow(clients, job.job_id)
    running = [s for s in snapshots if s.status == job_pb2.JOB_STATUS_RUNNING]
    assert running
    assert not any(s.HasField("progress") for s in running)
    assert snapshots[-1].status == job_pb2.JOB_STATUS_COMPLETED
    assert snapshots[-1].progress == 100


async def test_cancel_mid_job_stops_the_tool_and_discards_results(
    clients: Clients, start_worker: StartWorker, videos: Path
) -> None:
    video = make_flat_video(videos / "v.avi", frame_count=200)
    await start_worker(seconds_per_frame=0.02)
    await wait_until_advertised(clients)
    job = await clients.submit(video.read_bytes(), plugin_id="paced", tool="slow_frames")
    await wait_for(clients, job.job_id, lambda j: j.HasField("progress") and j.progress >= 10)
    await clients.jobs.CancelJob(jobs_pb.CancelJobRequest(job_id=job.job_id))
    final = await wait_for(clients, job.job_id, lambda j: j.status in TERMINAL, within=20)
    assert final.status == job_pb2.JOB_STATUS_CANCELLED
    assert final.progress < 100
    assert final.current_frame < 200, "stopped before the end of the video"


async def test_stopping_a_worker_hands_its_job_to_another_at_once(
    clients: Clients, start_worker: StartWorker, videos: Path
) -> None:
    video = make_flat_video(videos / "v.avi", frame_count=120)
    first = await start_worker("worker-a", seconds_per_frame=0.02, drain_seconds=0)
    await wait_until_advertised(clients)
    job = await clients.submit(video.read_bytes(), plugin_id="paced", tool="slow_frames")
    await wait_for(clients, job.job_id, lambda j: j.HasField("progress") and j.progress >= 10)
    first.stop()
    released = await wait_for(clients, job.job_id, lambda j: j.status == job_pb2.JOB_STATUS_PENDING)
    assert released.attempt == 0, "a handed-back attempt is not held against the job"
    assert not released.HasField("progress")
    await start_worker("worker-b", seconds_per_frame=0.0)
    final = await wait_for(clients, job.job_id, lambda j: j.status in TERMINAL)
    assert final.status == job_pb2.JOB_STATUS_COMPLETED
    assert final.attempt == 1
