"""Job API figures: GetJobStatus against an empty handler, and how fast a
progress report reaches 1, 100 and 1,000 watchers."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc

from forgesyte.jobs.v1 import job_pb2, job_service_pb2_grpc, worker_service_pb2_grpc
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from forgesyte.jobs.v1 import worker_service_pb2 as worker_pb
from tests.bench.bench_server import BASELINE_METHOD, BENCH_WORKER_TOKEN
from tests.bench.harness import LoadResult, Report, closed_loop, percentile, server_process

AUTH = (("authorization", f"Bearer {BENCH_WORKER_TOKEN}"),)


async def _submit(channel: grpc.aio.Channel, plugin_id: str = "bench") -> str:
    """A pending job for a plugin of its own, so claims can target it."""
    worker = worker_service_pb2_grpc.WorkerServiceStub(channel)
    plugin = job_pb2.PluginManifest(
        id=plugin_id, tools=[job_pb2.ToolManifest(id="noop", input_types=["video"])]
    )
    await worker.AdvertisePlugins(
        worker_pb.AdvertisePluginsRequest(worker_id="bench", plugins=[plugin]), metadata=AUTH
    )

    async def upload() -> object:
        header = jobs_pb.SubmitJobHeader(
            plugin_id=plugin_id, tool="noop", original_filename="b.mp4"
        )
        yield jobs_pb.SubmitJobRequest(header=header)
        yield jobs_pb.SubmitJobRequest(chunk=b"x" * 1024)
        yield jobs_pb.SubmitJobRequest(end=job_pb2.UploadEnd(size_bytes=1024))

    response = await job_service_pb2_grpc.JobServiceStub(channel).SubmitJob(upload())  # type: ignore[arg-type]
    return response.job.job_id


async def bench_get_job_status(port: int, report: Report, seconds: float) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        job_id = await _submit(channel)
        request = jobs_pb.GetJobStatusRequest(job_id=job_id)
        real = job_service_pb2_grpc.JobServiceStub(channel).GetJobStatus
        empty = channel.unary_unary(
            BASELINE_METHOD,
            request_serializer=jobs_pb.GetJobStatusRequest.SerializeToString,
            response_deserializer=jobs_pb.GetJobStatusResponse.FromString,
        )
        handlers: dict[str, Callable[[], Awaitable[object]]] = {
            "empty handler": lambda: empty(request),
            "GetJobStatus": lambda: real(request),
        }
        for in_flight in (1, 16):
            runs: dict[str, list[LoadResult]] = {name: [] for name in handlers}
            # Alternate and repeat, so drift in machine load hits both alike.
            for name in list(handlers) * 2:
                await closed_loop(handlers[name], in_flight, 0.3)  # warm up
                runs[name].append(await closed_loop(handlers[name], in_flight, seconds / 2))
            merged = {name: LoadResult.merge(results) for name, results in runs.items()}
            for name, result in merged.items():
                case = f"{name}, {in_flight} in flight"
                report.add("status calls/s", case, result.rate, "calls/s")
                report.add("status latency", case, result.p50, "ms p50", f"p99 {result.p99:.2f} ms")
            ratio = merged["GetJobStatus"].rate / merged["empty handler"].rate
            report.add(
                "status vs empty handler", f"{in_flight} in flight", ratio, "ratio", "target >= 0.7"
            )


async def bench_delivery(
    port: int, report: Report, watcher_counts: tuple[int, ...], reports: int
) -> None:
    """Latency from sending ReportProgress to each watcher receiving the change.

    Watchers are streams in this one client process, spread over 10 channels;
    the figure includes the client's own time to receive every message.
    """
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(10)]
    try:
        for watchers in watcher_counts:
            latencies = await _delivery_latencies(channels, watchers, reports)
            case = f"{watchers} watcher(s)"
            note = f"{len(latencies)}/{watchers * reports} deliveries"
            report.add("progress delivery", f"{case}, p50", percentile(latencies, 50), "ms", note)
            target = "target <= 100 ms at 1,000" if watchers == 1000 else ""
            report.add("progress delivery", f"{case}, p99", percentile(latencies, 99), "ms", target)
    finally:
        for channel in channels:
            await channel.close()


async def _delivery_latencies(
    channels: list[grpc.aio.Channel],
    watchers: int,
    reports: int,
    report_channel: grpc.aio.Channel | None = None,
) -> list[float]:
    """Watch on ``channels``; submit and report on ``report_channel`` (default: the first)."""
    reporting = report_channel or channels[0]
    plugin_id = f"delivery-{watchers}-{time.monotonic_ns()}"
    job_id = await _submit(reporting, plugin_id)
    worker = worker_service_pb2_grpc.WorkerServiceStub(reporting)
    claim = await worker.ClaimJob(
        worker_pb.ClaimJobRequest(worker_id="bench", plugin_ids=[plugin_id]), metadata=AUTH
    )
    assert claim.job.job_id == job_id, "another job was pending"
    lease = worker_pb.LeaseRef(job_id=job_id, lease_id=claim.lease_id)
    received: dict[int, list[float]] = defaultdict(list)
    ready = asyncio.Semaphore(0)

    async def watch(channel: grpc.aio.Channel) -> None:
        stream = job_service_pb2_grpc.JobServiceStub(channel).WatchProgress(
            jobs_pb.WatchProgressRequest(job_id=job_id)
        )
        first = True
        async for message in stream:
            if first:
                ready.release()
                first = False
            elif message.job.HasField("progress"):
                received[message.job.progress].append(time.perf_counter())

    tasks = [asyncio.create_task(watch(channels[i % len(channels)])) for i in range(watchers)]
    for _ in range(watchers):
        await ready.acquire()
    sent: dict[int, float] = {}
    interval = 0.05 + watchers / 4000  # let each broadcast finish before the next
    for step in range(1, reports + 1):
        percent = step * (99 // (reports + 1))
        sent[percent] = time.perf_counter()
        await worker.ReportProgress(
            worker_pb.ReportProgressRequest(lease=lease, percent=percent), metadata=AUTH
        )
        await asyncio.sleep(interval)
    await asyncio.sleep(0.5)
    await worker.CompleteJob(_complete(lease), metadata=AUTH)  # type: ignore[arg-type]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
    return sorted((t - sent[p]) * 1000 for p, times in received.items() if p in sent for t in times)


async def _complete(lease: worker_pb.LeaseRef) -> object:
    yield worker_pb.CompleteJobRequest(header=worker_pb.CompleteJobHeader(lease=lease))
    yield worker_pb.CompleteJobRequest(chunk=b"{}")
    yield worker_pb.CompleteJobRequest(end=job_pb2.UploadEnd(size_bytes=2))


def run(report: Report, data_dir: Path, quick: bool, only: str | None) -> None:
    print("job API (server in its own process, SQLite, same interceptors for both handlers)")
    with server_process("tests.bench.bench_server", str(data_dir / "job_api")) as (_, port):
        if only in (None, "status"):
            asyncio.run(bench_get_job_status(port, report, seconds=1.0 if quick else 6.0))
        if only in (None, "delivery"):
            counts = (1, 10) if quick else (1, 100, 1000)
            asyncio.run(bench_delivery(port, report, counts, reports=3 if quick else 15))
