"""``forgesyte-gateway``: serve the REST API, the event streams and the web UI.

forgesyte-gateway [--addr HOST:PORT] [--job-api-addr HOST:PORT] [--keepalive-seconds S]
                  [--status-cache-jobs N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import structlog

from services.common.config import ConfigError, load_settings
from services.common.grpc_server import wait_for_termination_signal
from services.common.logging import configure_logging
from services.common.tls import TlsConfigError
from services.gateway.app import start_gateway
from services.gateway.options import GatewayOptions, split_host_port

log = structlog.get_logger("forgesyte.gateway")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forgesyte-gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--addr", help="listen address (FORGESYTE_GATEWAY_ADDR)")
    parser.add_argument("--job-api-addr", help="job API address (FORGESYTE_JOB_API_ADDR)")
    parser.add_argument(
        "--keepalive-seconds",
        type=float,
        help="quiet time before an event stream sends a keep-alive comment (default 15)",
    )
    parser.add_argument(
        "--status-cache-jobs",
        type=int,
        help="how many polled jobs to answer from WatchProgress pushes (default 1000; 0: off)",
    )
    return parser


def _options(parsed: argparse.Namespace) -> GatewayOptions:
    settings = load_settings().with_overrides(
        gateway_addr=parsed.addr, job_api_addr=parsed.job_api_addr
    )
    split_host_port(settings.gateway_addr)  # a bad address fails here, with its name
    if parsed.keepalive_seconds is not None and not parsed.keepalive_seconds > 0:
        raise ConfigError("--keepalive-seconds must be a positive number")
    if parsed.status_cache_jobs is not None and parsed.status_cache_jobs < 0:
        raise ConfigError("--status-cache-jobs must be 0 or more")
    overrides = {
        "keepalive_seconds": parsed.keepalive_seconds,
        "status_cache_jobs": parsed.status_cache_jobs,
    }
    return GatewayOptions.from_settings(
        settings, **{k: v for k, v in overrides.items() if v is not None}
    )


async def _serve(options: GatewayOptions) -> None:
    gateway = await start_gateway(options)
    host = options.listen_addr.rsplit(":", 1)[0]
    print(f"gateway listening on {host}:{gateway.port} (http://{host}:{gateway.port}/)", flush=True)
    received = await wait_for_termination_signal()
    log.info("shutting down", signal=received.name)
    await gateway.stop()


def main(argv: list[str] | None = None) -> int:
    parsed = _parser().parse_args(argv)
    configure_logging("gateway")
    try:
        options = _options(parsed)
        asyncio.run(_serve(options))
    except (ConfigError, TlsConfigError) as error:
        print(f"forgesyte-gateway: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"forgesyte-gateway: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
