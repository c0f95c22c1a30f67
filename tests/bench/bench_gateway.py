"""Gateway figures.

1. ``GET /v1/video/status/{job_id}``: requests/s and p50/p99 at 1, 16 and 64
   concurrent connections, side by side in one run with (a) the same query
   made straight to the job API over gRPC and (b) FastAPI + uvicorn reading
   the same job row from the same SQLite file, as ForgeSyte does today.
   The gateway runs twice: as shipped (repeated polls answered by its
   status cache) and with the cache off (every poll a GetJobStatus call).
   Every server runs in its own process, and so does every load generator.
   Runs alternate between the targets and repeat, so drift in machine load
   hits all alike.
2. The status cache's lag: after ``ReportProgress`` returns, how long until
   a gateway poll shows the new progress (polls back to back).
3. Peak gateway memory (RSS, sampled with psutil) while a 1 GiB upload
   streams through it. The upload is generated on the fly by the client and
   written to disk once, by the job API.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import grpc
import psutil

from forgesyte.jobs.v1 import job_pb2, job_service_pb2_grpc, worker_service_pb2_grpc
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from forgesyte.jobs.v1 import worker_service_pb2 as worker_pb
from tests.bench.bench_server import BENCH_WORKER_TOKEN
from tests.bench.harness import LoadResult, Report, percentile, server_process
from tests.bench.http_load import run_load
from tests.support.gateway import MultipartFraming, gateway_env
from tests.support.processes import read_listening_port, running_process, script

AUTH = (("authorization", f"Bearer {BENCH_WORKER_TOKEN}"),)
PLUGIN = job_pb2.PluginManifest(
    id="bench", tools=[job_pb2.ToolManifest(id="noop", input_types=["video"])]
)
CONNECTIONS = (1, 16, 64)
UPLOAD_CHUNK = 1024 * 1024
LAG_GIVE_UP_SECONDS = 10.0


async def prepare_running_job(port: int) -> tuple[str, worker_pb.LeaseRef]:
    """A job that is running at 42%, so every status answer carries progress;
    its id and the lease to report more progress with."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        worker = worker_service_pb2_grpc.WorkerServiceStub(channel)
        await worker.AdvertisePlugins(
            worker_pb.AdvertisePluginsRequest(worker_id="bench", plugins=[PLUGIN]), metadata=AUTH
        )

        async def upload() -> AsyncIterator[jobs_pb.SubmitJobRequest]:
            header = jobs_pb.SubmitJobHeader(plugin_id="bench", tool="noop", original_filename="b")
            yield jobs_pb.SubmitJobRequest(header=header)
            yield jobs_pb.SubmitJobRequest(chunk=b"x" * 1024)
            yield jobs_pb.SubmitJobRequest(end=job_pb2.UploadEnd(size_bytes=1024))

        jobs = job_service_pb2_grpc.JobServiceStub(channel)
        job_id = (await jobs.SubmitJob(upload())).job.job_id
        claim = await worker.ClaimJob(
            worker_pb.ClaimJobRequest(worker_id="bench", plugin_ids=["bench"]), metadata=AUTH
        )
        assert claim.job.job_id == job_id, "another job was pending"
        lease = worker_pb.LeaseRef(job_id=job_id, lease_id=claim.lease_id)
        await worker.ReportProgress(
            worker_pb.ReportProgressRequest(lease=lease, percent=42), metadata=AUTH
        )
        return job_id, lease


async def same_answer(urls: list[str]) -> None:
    """Every HTTP endpoint must say the same about the job before they race."""
    async with aiohttp.ClientSession() as session:
        for url in urls:
            async with session.get(url) as response:
                assert response.status == 200, url
                body = await response.json()
            assert (body["status"], body["progress"]) == ("running", 42), (url, body)


def bench_status(
    report: Report, targets: dict[str, list[str]], seconds: float, repeats: int
) -> None:
    for in_flight in CONNECTIONS:
        runs: dict[str, list[LoadResult]] = {name: [] for name in targets}
        for name in list(targets) * repeats:
            runs[name].append(run_load(targets[name], in_flight, seconds))
        merged = {name: LoadResult.merge(results) for name, results in runs.items()}
        for name, result in merged.items():
            case = f"{name}, {in_flight} conn"
            report.add("status req/s", case, result.rate, "req/s")
            report.add("status latency", case, result.p50, "ms p50", f"p99 {result.p99:.2f} ms")
        gateway, uncached = merged["gateway"].rate, merged["gateway, no cache"].rate
        direct, fastapi = merged["gRPC direct"].rate, merged["FastAPI"].rate
        report.add(
            "gateway vs FastAPI", f"{in_flight} conn", gateway / fastapi, "ratio", "target >= 1"
        )
        report.add("gateway no cache vs FastAPI", f"{in_flight} conn", uncached / fastapi, "ratio")
        report.add("gateway vs gRPC direct", f"{in_flight} conn", gateway / direct, "ratio")


async def measure_cache_lag(
    api_port: int, status_url: str, lease: worker_pb.LeaseRef, steps: range
) -> list[float]:
    """Milliseconds from each ``ReportProgress`` returning to the first gateway
    poll that shows it."""
    lags = []
    async with (
        grpc.aio.insecure_channel(f"127.0.0.1:{api_port}") as channel,
        aiohttp.ClientSession() as session,
    ):
        worker = worker_service_pb2_grpc.WorkerServiceStub(channel)
        for percent in steps:
            request = worker_pb.ReportProgressRequest(lease=lease, percent=percent)
            await worker.ReportProgress(request, metadata=AUTH)
            reported = time.perf_counter()
            while True:
                async with session.get(status_url) as response:
                    body = await response.json()
                if body["progress"] == percent:
                    break
                if time.perf_counter() - reported > LAG_GIVE_UP_SECONDS:
                    raise AssertionError(f"the gateway never showed {percent}%: {body}")
            lags.append((time.perf_counter() - reported) * 1000)
    return lags


def bench_cache_lag(
    report: Report, api_port: int, status_url: str, lease: worker_pb.LeaseRef
) -> None:
    lags = sorted(asyncio.run(measure_cache_lag(api_port, status_url, lease, range(43, 93))))
    report.add(
        "status cache lag",
        f"{len(lags)} progress reports",
        percentile(lags, 50),
        "ms p50",
        f"p99 {percentile(lags, 99):.2f} ms; ReportProgress returned -> poll shows it",
    )


class PeakRss:
    """Samples a process's resident memory in a thread until stopped."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self._process = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self.baseline = self._process.memory_info().rss
        self.peak = self.baseline
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(self._interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def upload_generated(gateway_port: int, size: int) -> None:
    """POST ``size`` generated bytes as a multipart file, with an exact length."""
    framing = MultipartFraming("generated.bin")
    block = bytes(range(256)) * (UPLOAD_CHUNK // 256)

    async def body() -> AsyncIterator[bytes]:
        yield framing.head
        for start in range(0, size, UPLOAD_CHUNK):
            yield block[: min(UPLOAD_CHUNK, size - start)]
        yield framing.tail

    url = f"http://127.0.0.1:{gateway_port}/v1/video/submit?plugin_id=bench&tool=noop"
    headers = {
        "Content-Type": framing.content_type,
        "Content-Length": str(framing.content_length(size)),
    }
    timeout = aiohttp.ClientTimeout(total=None, sock_read=120)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, data=body(), headers=headers) as response,
    ):
        assert response.status == 200, await response.text()


def bench_upload_memory(report: Report, gateway_pid: int, gateway_port: int, size: int) -> None:
    with PeakRss(gateway_pid) as rss:
        started = time.perf_counter()
        asyncio.run(upload_generated(gateway_port, size))
        elapsed = time.perf_counter() - started
    mib = 1024 * 1024
    case = f"{size // mib} MiB upload"
    note = f"baseline {rss.baseline / mib:.1f} MiB; target < 150 MB"
    report.add("gateway peak RSS", case, rss.peak / mib, "MiB", note)
    report.add("gateway upload rate", case, size / mib / elapsed, "MiB/s", "into the job API")


def run(report: Report, data_dir: Path, quick: bool) -> None:
    print("gateway (job API, gateway, FastAPI and each load generator in its own process)")
    api_dir = data_dir / "gateway"
    # A lease that outlasts the run: the job must stay running at its progress
    # while every target is measured (the default 30 s would requeue it).
    lease_env = {"FORGESYTE_LEASE_SECONDS": "3600"}
    with server_process("tests.bench.bench_server", str(api_dir), env=lease_env) as (_, api_port):
        job_id, lease = asyncio.run(prepare_running_job(api_port))
        gateway_command = [script("forgesyte-gateway")]
        with (
            running_process(gateway_command, gateway_env(api_port)) as gateway,
            running_process(
                [*gateway_command, "--status-cache-jobs", "0"], gateway_env(api_port)
            ) as uncached_gateway,
            server_process("tests.bench.fastapi_status_app", str(api_dir / "forgesyte.db")) as (
                _,
                fastapi_port,
            ),
        ):
            gateway_port = read_listening_port(gateway)
            path = f"/v1/video/status/{job_id}"
            gateway_url = f"http://127.0.0.1:{gateway_port}{path}"
            uncached_url = f"http://127.0.0.1:{read_listening_port(uncached_gateway)}{path}"
            fastapi_url = f"http://127.0.0.1:{fastapi_port}{path}"
            asyncio.run(same_answer([gateway_url, uncached_url, fastapi_url]))
            targets = {
                "gateway": ["http", gateway_url],
                "gateway, no cache": ["http", uncached_url],
                "gRPC direct": ["grpc", f"127.0.0.1:{api_port}", job_id],
                "FastAPI": ["http", fastapi_url],
            }
            bench_status(report, targets, seconds=1.0 if quick else 4.0, repeats=1 if quick else 2)
            bench_cache_lag(report, api_port, gateway_url, lease)
            size = (128 if quick else 1024) * 1024 * 1024
            bench_upload_memory(report, gateway.pid, gateway_port, size)
