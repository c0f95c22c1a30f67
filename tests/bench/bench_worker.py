"""Worker figures: what progress tracking costs, what frame counting costs,
how close the cheapest tool comes to a bare decode loop, and how many
progress writes a 100,000-frame video makes."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import grpc
import numpy as np

from forgesyte.jobs.v1 import job_pb2, job_service_pb2_grpc
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from services.worker.attempt import Attempt, AttemptStats
from services.worker.client import WorkerClient
from services.worker.plugin_api import PluginRegistry
from tests.bench.bench_server import BENCH_WORKER_TOKEN
from tests.bench.harness import Report, server_process

CHEAP_PLUGIN, CHEAP_TOOL = "scene_cuts", "detect_scene_cuts"


def make_video(path: Path, frames: int, width: int, height: int) -> Path:
    """Moving noise blocks (MJPG), so decoding does real work on every frame."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (width, height))
    assert writer.isOpened(), "OpenCV cannot write MJPG here"
    rng = np.random.default_rng(7)
    base = rng.integers(0, 255, size=(height, width, 3), dtype=np.uint8)
    for index in range(frames):
        writer.write(np.roll(base, index * 3, axis=1))
    writer.release()
    return path


def bare_decode(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while True:
        ok, _ = capture.read()
        if not ok:
            break
        frames += 1
    capture.release()
    return frames


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def bench_tool_vs_decode(report: Report, video: Path, repeats: int) -> None:
    registry = PluginRegistry.from_entry_points()
    frames = bare_decode(video)
    args = {"video_path": str(video), "total_frames": frames}
    decode, tool = [], []
    for _ in range(repeats):  # interleaved, so load drift hits both alike
        decode.append(median_seconds(lambda: bare_decode(video), 1))
        tool.append(
            median_seconds(lambda: registry.run_plugin_tool(CHEAP_PLUGIN, CHEAP_TOOL, args), 1)
        )
    decode_fps = frames / statistics.median(decode)
    tool_fps = frames / statistics.median(tool)
    report.add("decode loop", f"bare cv2 read, {frames} frames", decode_fps, "frames/s")
    report.add("cheapest tool", f"{CHEAP_PLUGIN}/{CHEAP_TOOL}", tool_fps, "frames/s")
    report.add(
        "tool vs bare decode", "frames/s ratio", tool_fps / decode_fps, "ratio", "target >= 0.9"
    )


async def _run_job(
    channel: grpc.aio.Channel, registry: PluginRegistry, video: Path, track: bool
) -> tuple[float, AttemptStats]:
    jobs = job_service_pb2_grpc.JobServiceStub(channel)
    data = await asyncio.to_thread(video.read_bytes)

    async def upload() -> object:
        header = jobs_pb.SubmitJobHeader(
            plugin_id=CHEAP_PLUGIN, tool=CHEAP_TOOL, original_filename=video.name
        )
        yield jobs_pb.SubmitJobRequest(header=header)
        for start in range(0, len(data), 1024 * 1024):
            yield jobs_pb.SubmitJobRequest(chunk=data[start : start + 1024 * 1024])
        yield jobs_pb.SubmitJobRequest(end=job_pb2.UploadEnd(size_bytes=len(data)))

    submitted = await jobs.SubmitJob(upload())  # type: ignore[arg-type]
    client = WorkerClient(channel, BENCH_WORKER_TOKEN, "bench-worker")
    claimed = await client.claim([CHEAP_PLUGIN], 5.0)
    assert claimed is not None
    assert claimed.job.job_id == submitted.job.job_id
    started = time.perf_counter()
    stats = await Attempt(client, registry, claimed, track_progress=track).run()
    elapsed = time.perf_counter() - started
    status = await jobs.GetJobStatus(jobs_pb.GetJobStatusRequest(job_id=submitted.job.job_id))
    assert status.job.status == job_pb2.JOB_STATUS_COMPLETED, stats.outcome
    return elapsed, stats


async def bench_worker_jobs(
    port: int, report: Report, video: Path, long_video: Path, repeats: int
) -> None:
    registry = PluginRegistry.from_entry_points()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await WorkerClient(channel, BENCH_WORKER_TOKEN, "bench").advertise(registry.manifests())
        on: list[float] = []
        off: list[float] = []
        count_share: list[float] = []
        for _ in range(repeats):
            for track in (True, False):
                elapsed, stats = await _run_job(channel, registry, video, track)
                (on if track else off).append(elapsed)
                count_share.append(stats.seconds["count_frames"] / elapsed)
        report.add("worker wall time", "progress tracking on", statistics.median(on), "s")
        report.add("worker wall time", "progress tracking off", statistics.median(off), "s")
        report.add(
            "worker wall time",
            "on / off",
            statistics.median(on) / statistics.median(off),
            "ratio",
            "target <= 1.02",
        )
        report.add(
            "frame counting", "share of job wall time", 100 * statistics.median(count_share), "%"
        )
        _, stats = await _run_job(channel, registry, long_video, True)
        report.add(
            "progress writes",
            f"one job, {stats.frames:,} frames",
            stats.progress_writes,
            "writes",
            f"target <= 22; {stats.heartbeats} heartbeat(s)",
        )


def run(report: Report, data_dir: Path, quick: bool) -> None:
    print("worker (built-in scene_cuts tool; job API in its own process)")
    data_dir.mkdir(parents=True, exist_ok=True)
    repeats = 3 if quick else 7
    video = make_video(data_dir / "hd.avi", 60 if quick else 300, 1280, 720)
    long_video = make_video(data_dir / "long.avi", 5_000 if quick else 100_000, 32, 24)
    bench_tool_vs_decode(report, video, repeats)
    with server_process("tests.bench.bench_server", str(data_dir / "job_api")) as (_, port):
        asyncio.run(bench_worker_jobs(port, report, video, long_video, repeats))
