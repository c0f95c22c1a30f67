"""The one gRPC server bootstrap: grpc.aio, health, reflection, interceptors,
and graceful shutdown.

``build_server(addr, ...)`` returns the server and the port it bound, so
tests pass ``127.0.0.1:0`` and read the port back. Shutdown follows the
usual order: health goes NOT_SERVING (load balancers stop sending), the
owner ends its long-lived streams, in-flight calls drain for a grace period,
then the server stops.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

log = structlog.get_logger(__name__)

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
SERVER_OPTIONS: Sequence[tuple[str, int]] = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # Bursts above ~1,000 queued calls are otherwise cancelled (measured).
    ("grpc.server.max_pending_requests", 20_000),
    # Keep idle streams (WatchProgress) alive through proxies and NATs.
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
)


class ServerHandle(NamedTuple):
    """A built (not yet started) server, the port it bound, and its health."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer


def build_server(
    addr: str,
    *,
    register: Callable[[grpc.aio.Server], None],
    service_names: Sequence[str],
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
    credentials: grpc.ServerCredentials | None = None,
) -> ServerHandle:
    """Create the server, add the services, health and reflection, bind ``addr``."""
    server = grpc.aio.server(interceptors=list(interceptors), options=list(SERVER_OPTIONS))
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    if credentials is None:
        port = server.add_insecure_port(addr)
    else:
        port = server.add_secure_port(addr, credentials)
    if port == 0:
        raise OSError(f"could not listen on {addr}")
    return ServerHandle(server, port, health_servicer)


async def mark_serving(handle: ServerHandle, service_names: Sequence[str]) -> None:
    """Report SERVING for the whole server and each named service."""
    for name in ("", *service_names):
        await handle.health.set(name, health_pb2.HealthCheckResponse.SERVING)


async def shut_down(
    handle: ServerHandle,
    *,
    end_streams: Callable[[], Awaitable[None]],
    grace_seconds: float,
) -> None:
    """NOT_SERVING, end long-lived streams, drain in-flight calls, stop."""
    await handle.health.enter_graceful_shutdown()
    await end_streams()
    await handle.server.stop(grace_seconds)


async def wait_for_termination_signal() -> signal.Signals:
    """Block until SIGTERM or SIGINT arrives; returns which one."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[signal.Signals] = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _resolve_once, received, sig)
    try:
        return await received
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _resolve_once(future: asyncio.Future[signal.Signals], sig: signal.Signals) -> None:
    if not future.done():
        future.set_result(sig)
