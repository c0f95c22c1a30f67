"""``forgesyte-worker``: claim video jobs from the job API and run them.

    forgesyte-worker [--addr HOST:PORT] [--concurrency N] [--worker-id ID]
                     [--drain-seconds S]

The worker needs FORGESYTE_WORKER_TOKEN and the job API's address
(FORGESYTE_JOB_API_ADDR); it holds no database connection and needs no disk
shared with the job API. Plugins are found through the ``forgesyte.plugins``
entry points. SIGTERM or Ctrl-C: stop claiming, give running jobs
--drain-seconds to finish, then hand them back for another worker.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import structlog

from services.common.channels import open_channel
from services.common.config import ConfigError, Settings, load_settings
from services.common.grpc_server import wait_for_termination_signal
from services.common.logging import configure_logging
from services.worker.client import WorkerClient, default_worker_id
from services.worker.plugin_api import PluginRegistry
from services.worker.runtime import Worker

log = structlog.get_logger("forgesyte.worker")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forgesyte-worker", description=__doc__.splitlines()[0])
    parser.add_argument("--addr", help="the job API's address (FORGESYTE_JOB_API_ADDR)")
    parser.add_argument("--concurrency", type=int, default=1, help="jobs run at once (1)")
    parser.add_argument("--worker-id", default=None, help="name in logs (host-pid)")
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=5.0,
        help="on shutdown, how long running jobs may finish before being handed back (5)",
    )
    return parser


async def _run(settings: Settings, addr: str, token: str, options: argparse.Namespace) -> None:
    registry = PluginRegistry.from_entry_points()
    if not registry.plugin_ids:
        raise ConfigError("no plugins are installed (entry point group 'forgesyte.plugins')")
    for failure in registry.load_failures:
        log.warning("plugin not loaded", entry_point=failure.entry_point, reason=failure.reason)
    async with open_channel(addr, settings.tls) as channel:
        client = WorkerClient(channel, token, options.worker_id or default_worker_id())
        worker = Worker(
            client,
            registry,
            concurrency=options.concurrency,
            drain_seconds=options.drain_seconds,
        )
        running = asyncio.create_task(worker.run())
        signal_received = asyncio.create_task(wait_for_termination_signal())
        print(f"worker {client.worker_id} serving jobs from {addr}", flush=True)
        await asyncio.wait({running, signal_received}, return_when=asyncio.FIRST_COMPLETED)
        if signal_received.done():
            log.info("shutting down", signal=signal_received.result().name)
        signal_received.cancel()
        worker.stop()
        await running


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    configure_logging("worker")
    try:
        settings = load_settings()
        if options.concurrency < 1:
            raise ConfigError("--concurrency must be at least 1")
        if not settings.worker_token:
            raise ConfigError(
                "FORGESYTE_WORKER_TOKEN is required: the job API only accepts workers that "
                "present it (`forgesyte up` generates one for the local stack)"
            )
        addr = options.addr or settings.job_api_addr
        asyncio.run(_run(settings, addr, settings.worker_token, options))
    except ConfigError as error:
        print(f"forgesyte-worker: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
