"""Exit 0 when a gRPC server reports SERVING: for container health checks.

    python -m services.common.healthcheck [HOST:PORT] [--service NAME]

The address defaults to FORGESYTE_JOB_API_ADDR. Images carry no separate
probe binary; Kubernetes uses its native gRPC probes instead.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import grpc
from grpc_health.v1 import health_pb2

from services.common.config import load_settings

CHECK_TIMEOUT_SECONDS = 3.0


async def is_serving(addr: str, service: str = "") -> bool:
    async with grpc.aio.insecure_channel(addr) as channel:
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        try:
            response = await check(
                health_pb2.HealthCheckRequest(service=service), timeout=CHECK_TIMEOUT_SECONDS
            )
        except grpc.aio.AioRpcError:
            return False
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.common.healthcheck")
    parser.add_argument("addr", nargs="?", help="HOST:PORT (FORGESYTE_JOB_API_ADDR)")
    parser.add_argument("--service", default="", help="a service name; empty means the server")
    options = parser.parse_args(argv)
    addr = options.addr or load_settings().job_api_addr
    serving = asyncio.run(is_serving(addr, options.service))
    print("SERVING" if serving else "NOT_SERVING", file=sys.stderr)
    return 0 if serving else 1


if __name__ == "__main__":
    raise SystemExit(main())
