"""A closed-loop load generator in a process of its own, so the server under
test and the client never share an interpreter (or its GIL).

    python -m tests.bench.http_load http URL IN_FLIGHT SECONDS
    python -m tests.bench.http_load grpc HOST:PORT JOB_ID IN_FLIGHT SECONDS

Prints one JSON line: calls, seconds and every latency in milliseconds. HTTP
uses one aiohttp session with a connection per caller; gRPC one channel, as
a service calling the job API would.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable

import aiohttp
import grpc

from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from forgesyte.jobs.v1 import job_service_pb2_grpc
from tests.bench.harness import ROOT, LoadResult, closed_loop

WARM_UP_SECONDS = 0.5


async def _measure(call: Callable[[], Awaitable[object]], in_flight: int, seconds: float) -> str:
    await closed_loop(call, in_flight, WARM_UP_SECONDS)
    result = await closed_loop(call, in_flight, seconds)
    latencies = [round(ms, 4) for ms in result.latencies_ms]
    return json.dumps({"calls": result.calls, "seconds": result.seconds, "latencies": latencies})


async def _http(url: str, in_flight: int, seconds: float) -> str:
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def call() -> None:
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{url} answered {response.status}")

        return await _measure(call, in_flight, seconds)


async def _grpc(addr: str, job_id: str, in_flight: int, seconds: float) -> str:
    async with grpc.aio.insecure_channel(addr) as channel:
        stub = job_service_pb2_grpc.JobServiceStub(channel)
        request = jobs_pb.GetJobStatusRequest(job_id=job_id)

        async def call() -> None:
            await stub.GetJobStatus(request, timeout=10)

        return await _measure(call, in_flight, seconds)


def run_load(target: list[str], in_flight: int, seconds: float) -> LoadResult:
    """Run one load in a fresh process; ``target`` is ``["http", URL]`` or
    ``["grpc", ADDR, JOB_ID]``."""
    output = subprocess.run(
        [sys.executable, "-m", "tests.bench.http_load", *target, str(in_flight), str(seconds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds * 4 + 60,
    ).stdout
    values = json.loads(output.strip().splitlines()[-1])
    return LoadResult(values["calls"], values["seconds"], values["latencies"])


def main(argv: list[str]) -> None:
    kind, *rest = argv
    if kind == "http":
        url, in_flight, seconds = rest
        print(asyncio.run(_http(url, int(in_flight), float(seconds))))
    elif kind == "grpc":
        addr, job_id, in_flight, seconds = rest
        print(asyncio.run(_grpc(addr, job_id, int(in_flight), float(seconds))))
    else:
        raise SystemExit(f"unknown target kind {kind!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
