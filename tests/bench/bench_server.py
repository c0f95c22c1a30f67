"""The job API as benchmarked: a real server process with one extra RPC.

``/forgesyte.bench.Baseline/GetJobStatus`` takes and returns the same
messages as ``JobService/GetJobStatus`` and passes the same interceptors,
but answers from memory: the ratio between the two is what the database
and domain layers cost.

    python -m tests.bench.bench_server DATA_DIR [DATABASE_URL]
    # prints "port N", runs until SIGTERM; SQLite in DATA_DIR by default
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import grpc

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from services.common.config import load_settings, sqlite_url
from services.common.grpc_server import wait_for_termination_signal
from services.common.logging import configure_logging
from services.job_api.server import start_job_api

BASELINE_METHOD = "/forgesyte.bench.Baseline/GetJobStatus"
BENCH_WORKER_TOKEN = "bench-worker-token"


def baseline_handler() -> grpc.GenericRpcHandler:
    canned = jobs_pb.GetJobStatusResponse(
        job=job_pb2.Job(
            job_id="00000000-0000-4000-8000-000000000000",
            status=job_pb2.JOB_STATUS_RUNNING,
            progress=42,
        )
    )

    async def get_job_status(request: jobs_pb.GetJobStatusRequest, context: Any) -> Any:
        return canned

    return grpc.method_handlers_generic_handler(
        "forgesyte.bench.Baseline",
        {
            "GetJobStatus": grpc.unary_unary_rpc_method_handler(
                get_job_status,
                request_deserializer=jobs_pb.GetJobStatusRequest.FromString,
                response_serializer=jobs_pb.GetJobStatusResponse.SerializeToString,
            )
        },
    )


async def serve(data_dir: Path, database_url: str | None) -> None:
    configure_logging("job_api")
    settings = load_settings().with_overrides(
        data_dir=data_dir,
        database_url=database_url or sqlite_url(data_dir),
        job_api_addr="127.0.0.1:0",
        worker_token=BENCH_WORKER_TOKEN,
    )
    api = await start_job_api(settings, extra_handlers=[baseline_handler()])
    print(f"port {api.port}", flush=True)
    await wait_for_termination_signal()
    await api.stop(grace_seconds=2.0)


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None))
