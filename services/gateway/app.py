"""Assembles the gateway: the aiohttp application, its job API client, and
the server that runs both on one event loop.

``start_gateway`` is what ``forgesyte-gateway`` runs and what the tests
start on port 0; ``RunningGateway.stop`` ends open event streams, lets
in-flight requests finish within the grace period, then closes the channel.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from importlib import metadata

import structlog
from aiohttp import web
from aiohttp.typedefs import Middleware

from services.gateway.auth import token_middleware
from services.gateway.cors import allow_origins
from services.gateway.job_client import JobApiClient
from services.gateway.middleware import error_and_access_middleware
from services.gateway.openapi import build_spec
from services.gateway.options import GatewayOptions, split_host_port
from services.gateway.routes import CLIENT, OPENAPI, OPTIONS, STATUS_CACHE, STOPPING, add_routes
from services.gateway.status_cache import StatusCache

log = structlog.get_logger("forgesyte.gateway")


def _version() -> str:
    try:
        return metadata.version("forgesyte")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def create_app(options: GatewayOptions, client: JobApiClient) -> web.Application:
    """The application, with its routes, middleware and state."""
    # Outermost first: errors and the access log see what the token check refused.
    middlewares: list[Middleware] = [error_and_access_middleware]
    if options.api_token:
        middlewares.append(token_middleware(options.api_token))
    app = web.Application(middlewares=middlewares)
    app[CLIENT] = client
    app[OPTIONS] = options
    app[STATUS_CACHE] = StatusCache(
        client,
        max_jobs=options.status_cache_jobs,
        idle_seconds=options.status_cache_idle_seconds,
        max_age_seconds=options.status_cache_max_age_seconds,
    )
    app[STOPPING] = asyncio.Event()
    app[OPENAPI] = json.dumps(build_spec(_version())).encode()
    add_routes(app)
    allow_origins(app, options.cors_origins)
    app.on_shutdown.append(_end_event_streams)
    app.on_cleanup.append(_close_status_cache)
    return app


async def _end_event_streams(app: web.Application) -> None:
    app[STOPPING].set()


async def _close_status_cache(app: web.Application) -> None:
    await app[STATUS_CACHE].close()


@dataclass
class RunningGateway:
    """A started gateway."""

    runner: web.AppRunner
    client: JobApiClient
    port: int
    stopped: bool = False

    @property
    def status_cache(self) -> StatusCache:
        return self.runner.app[STATUS_CACHE]

    async def stop(self) -> None:
        """End event streams, finish in-flight requests, close the channel (once)."""
        if self.stopped:
            return
        self.stopped = True
        await self.runner.cleanup()
        await self.client.close()


async def start_gateway(options: GatewayOptions) -> RunningGateway:
    """Listen on ``options.listen_addr`` (port 0 picks a free port)."""
    host, port = split_host_port(options.listen_addr)
    client = JobApiClient.connect(
        options.job_api_addr,
        tls=options.tls,
        call_timeout_seconds=options.call_timeout_seconds,
        health_timeout_seconds=options.health_timeout_seconds,
    )
    runner = web.AppRunner(
        create_app(options, client),
        # The middleware writes a structured access line with the job id.
        access_log=None,
        # A client that disconnects cancels its handler, and with it the
        # handler's gRPC calls (an abandoned upload or event stream).
        handler_cancellation=True,
        shutdown_timeout=options.shutdown_grace_seconds,
    )
    try:
        await runner.setup()
        site = web.TCPSite(runner, host, port, backlog=1024)
        await site.start()
    except BaseException:
        await runner.cleanup()
        await client.close()
        raise
    bound_port = int(runner.addresses[0][1])
    log.info("gateway serving", port=bound_port, job_api=options.job_api_addr)
    return RunningGateway(runner, client, bound_port)
