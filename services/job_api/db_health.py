"""gRPC health follows the database: NOT_SERVING while it cannot be reached.

Load balancers and Kubernetes then send calls to replicas that can serve
them, and a replica comes back by itself once the database does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from grpc_health.v1 import health, health_pb2
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = structlog.get_logger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


async def follow_database(
    engine: Engine,
    servicer: health.aio.HealthServicer,
    service_names: Sequence[str],
    interval_seconds: float,
) -> None:
    """Check the database every ``interval_seconds`` and report it as health."""
    serving = True
    while True:
        await asyncio.sleep(interval_seconds)
        reachable = await asyncio.to_thread(database_reachable, engine)
        if reachable == serving:
            continue
        serving = reachable
        log.warning("database reachable" if reachable else "database unreachable")
        for name in ("", *service_names):
            await servicer.set(name, SERVING if reachable else NOT_SERVING)
