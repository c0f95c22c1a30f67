"""What "healthy" means for each service, as probes ``up`` polls.

* job API: the gRPC health service reports SERVING (the same check the
  Kubernetes and Compose probes use).
* worker: the process is alive (the supervisor sees to that) and plugins
  appear in ListPlugins, i.e. a worker has reached the job API with the
  token and advertised what it can run.
* gateway: ``/healthz`` (the process serves HTTP) and ``/readyz`` (it can
  reach the job API) both answer 200.

A probe answers True or False and never raises: "not yet" is the normal
answer while a service starts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import grpc

from services.cli.client import connect

Probe = Callable[[], Awaitable[bool]]
PROBE_TIMEOUT_SECONDS = 2.0


def grpc_serving(addr: str) -> Probe:
    async def probe() -> bool:
        try:
            async with connect(addr, call_timeout=PROBE_TIMEOUT_SECONDS) as client:
                return await client.serving()
        except grpc.aio.AioRpcError:
            return False

    return probe


def plugins_advertised(addr: str, token: str | None) -> Probe:
    async def probe() -> bool:
        try:
            async with connect(addr, token=token, call_timeout=PROBE_TIMEOUT_SECONDS) as client:
                return bool(await client.plugins())
        except grpc.aio.AioRpcError:
            return False

    return probe


def http_ok(base_url: str, paths: Sequence[str]) -> Probe:
    # Imported here: aiohttp adds a tenth of a second to every command's
    # start-up, and only `up` needs it.
    import aiohttp

    async def probe() -> bool:
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_SECONDS)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                for path in paths:
                    async with session.get(base_url.rstrip("/") + path) as response:
                        if response.status != 200:
                            return False
        except (aiohttp.ClientError, TimeoutError):
            return False
        return True

    return probe
