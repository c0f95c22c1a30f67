"""Scale-out figures: jobs/s with 1, 2 and 4 worker processes on SQLite (one
job API) and on PostgreSQL (two replicas), delivery of progress from one
replica to watchers on the other, and claim latency under contention."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import grpc

from forgesyte.jobs.v1 import job_pb2, job_service_pb2_grpc
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from services.worker.client import WorkerClient
from services.worker.plugin_api import PluginRegistry
from tests.bench.bench_job_api import _delivery_latencies, _submit
from tests.bench.bench_server import BENCH_WORKER_TOKEN
from tests.bench.bench_worker import make_video
from tests.bench.harness import Report, percentile, script_path, server_process
from tests.support.postgres import temporary_schema

TERMINAL = {job_pb2.JOB_STATUS_COMPLETED, job_pb2.JOB_STATUS_FAILED, job_pb2.JOB_STATUS_CANCELLED}


@contextmanager
def job_apis(data_dir: Path, database_url: str | None, replicas: int) -> Iterator[list[int]]:
    with ExitStack() as stack:
        args = [str(data_dir)] + ([database_url] if database_url else [])
        yield [
            stack.enter_context(server_process("tests.bench.bench_server", *args))[1]
            for _ in range(replicas)
        ]


@contextmanager
def worker_processes(ports: list[int], count: int) -> Iterator[None]:
    processes = []
    try:
        for n in range(count):
            env = {
                **os.environ,
                "FORGESYTE_JOB_API_ADDR": f"127.0.0.1:{ports[n % len(ports)]}",
                "FORGESYTE_WORKER_TOKEN": BENCH_WORKER_TOKEN,
                "FORGESYTE_LOG_LEVEL": "WARNING",
            }
            processes.append(
                subprocess.Popen(
                    [script_path("forgesyte-worker"), "--worker-id", f"bench-{n}"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
            )
        for process in processes:  # the clock starts once every worker serves
            assert process.stdout is not None
            if "serving jobs" not in process.stdout.readline():
                raise RuntimeError("a worker did not start")
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
            if process.stdout is not None:
                process.stdout.close()


async def jobs_per_second(ports: list[int], video: bytes, jobs: int) -> float:
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for port in ports]
    try:
        stubs = [job_service_pb2_grpc.JobServiceStub(c) for c in channels]
        await _wait_for_plugin(stubs[0], "scene_cuts")
        started = time.perf_counter()
        job_ids = [await _submit_video(stubs[n % len(stubs)], video) for n in range(jobs)]
        for n, job_id in enumerate(job_ids):
            stub = stubs[n % len(stubs)]
            while True:
                status = await stub.GetJobStatus(jobs_pb.GetJobStatusRequest(job_id=job_id))
                if status.job.status in TERMINAL:
                    assert status.job.status == job_pb2.JOB_STATUS_COMPLETED, status.job
                    break
                await asyncio.sleep(0.02)
        return jobs / (time.perf_counter() - started)
    finally:
        for channel in channels:
            await channel.close()


async def _wait_for_plugin(stub: job_service_pb2_grpc.JobServiceAsyncStub, plugin: str) -> None:
    for _ in range(300):
        listed = await stub.ListPlugins(jobs_pb.ListPluginsRequest())
        if plugin in {p.id for p in listed.plugins}:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the workers never advertised their plugins")


async def _submit_video(stub: job_service_pb2_grpc.JobServiceAsyncStub, video: bytes) -> str:
    async def upload() -> object:
        header = jobs_pb.SubmitJobHeader(
            plugin_id="scene_cuts", tool="detect_scene_cuts", original_filename="short.avi"
        )
        yield jobs_pb.SubmitJobRequest(header=header)
        yield jobs_pb.SubmitJobRequest(chunk=video)
        yield jobs_pb.SubmitJobRequest(end=job_pb2.UploadEnd(size_bytes=len(video)))

    response = await stub.SubmitJob(upload())  # type: ignore[arg-type]
    return response.job.job_id


async def claim_latencies(port: int, claimers: int, jobs: int) -> list[float]:
    """``claimers`` clients claiming at once from a queue of ``jobs`` pending jobs."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        for _ in range(jobs):
            await _submit(channel, "contention")
        client = WorkerClient(channel, BENCH_WORKER_TOKEN, "claimer")
        latencies: list[float] = []

        async def claimer() -> None:
            while True:
                started = time.perf_counter()
                claimed = await client.claim(["contention"], 0.0)
                latencies.append((time.perf_counter() - started) * 1000)
                if claimed is None:
                    return

        await asyncio.gather(*(claimer() for _ in range(claimers)))
        return sorted(latencies)


async def cross_replica_delivery(ports: list[int], watchers: int, reports: int) -> list[float]:
    watch = [grpc.aio.insecure_channel(f"127.0.0.1:{ports[1]}") for _ in range(4)]
    report = grpc.aio.insecure_channel(f"127.0.0.1:{ports[0]}")
    try:
        return await _delivery_latencies(watch, watchers, reports, report_channel=report)
    finally:
        for channel in [*watch, report]:
            await channel.close()


def run(report: Report, data_dir: Path, quick: bool) -> None:
    print("scale-out (worker processes; SQLite: one job API; PostgreSQL: two replicas)")
    data_dir.mkdir(parents=True, exist_ok=True)
    video = make_video(data_dir / "short.avi", 10, 160, 120).read_bytes()
    jobs = 12 if quick else 60
    PluginRegistry.from_entry_points()  # fail early if the built-in plugins are missing
    with temporary_schema() as postgres_url:
        for backend, url, replicas in (("SQLite", None, 1), ("PostgreSQL", postgres_url, 2)):
            backend_dir = data_dir / backend
            with job_apis(backend_dir, url, replicas) as ports:
                for workers in (1, 2, 4):
                    with worker_processes(ports, workers):
                        rate = asyncio.run(jobs_per_second(ports, video, jobs))
                    report.add("jobs/s", f"{backend}, {workers} worker(s)", rate, "jobs/s")
                latencies = asyncio.run(claim_latencies(ports[0], 16, 40 if quick else 400))
                case = f"{backend}, 16 claimers"
                note = f"p99 {percentile(latencies, 99):.2f} ms"
                report.add("claim latency", case, percentile(latencies, 50), "ms p50", note)
                if replicas == 2:
                    for watchers in (1, 100):
                        delivered = asyncio.run(cross_replica_delivery(ports, watchers, 5))
                        case = f"replica B watchers={watchers}"
                        note = f"p99 {percentile(delivered, 99):.2f} ms"
                        p50 = percentile(delivered, 50)
                        report.add("cross-replica delivery", case, p50, "ms p50", note)
