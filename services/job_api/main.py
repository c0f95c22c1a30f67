"""``forgesyte-job-api``: serve the job API, or migrate its database.

forgesyte-job-api [--addr HOST:PORT] [--data-dir DIR] [--database-url URL]
forgesyte-job-api migrate [--to REVISION]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import structlog

from services.common.config import ConfigError, Settings, load_settings, sqlite_url
from services.common.grpc_server import wait_for_termination_signal
from services.common.logging import configure_logging
from services.job_api.db import create_db_engine
from services.job_api.migrate import current_revision, migrate
from services.job_api.server import start_job_api

log = structlog.get_logger("forgesyte.job_api")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="forgesyte-job-api", description=__doc__.splitlines()[0])
    parser.add_argument("--addr", help="listen address (FORGESYTE_JOB_API_ADDR)")
    parser.add_argument("--data-dir", type=Path, help="files and SQLite (FORGESYTE_DATA_DIR)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (FORGESYTE_DATABASE_URL)")
    commands = parser.add_subparsers(dest="command")
    migrate_cmd = commands.add_parser("migrate", help="apply database migrations and exit")
    migrate_cmd.add_argument("--to", default="head", help="target revision (default: head)")
    return parser


def _settings(options: argparse.Namespace) -> Settings:
    settings = load_settings()
    if options.data_dir is not None and options.database_url is None:
        # The embedded database lives in the data dir unless a URL is given.
        default_url = sqlite_url(settings.data_dir)
        if settings.database_url == default_url:
            settings = settings.with_overrides(database_url=sqlite_url(options.data_dir))
    return settings.with_overrides(
        job_api_addr=options.addr, data_dir=options.data_dir, database_url=options.database_url
    )


def _migrate(settings: Settings, target: str) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.database_url)
    try:
        migrate(engine, target)
        print(f"database at revision {current_revision(engine)}")
    finally:
        engine.dispose()


async def _serve(settings: Settings) -> None:
    api = await start_job_api(settings)
    print(f"job API listening on {settings.job_api_addr.rsplit(':', 1)[0]}:{api.port}", flush=True)
    received = await wait_for_termination_signal()
    log.info("shutting down", signal=received.name)
    await api.stop()


def main(argv: list[str] | None = None) -> int:
    options = _parser().parse_args(argv)
    configure_logging("job_api")
    try:
        settings = _settings(options)
        if options.command == "migrate":
            _migrate(settings, options.to)
            return 0
        if not settings.worker_token:
            raise ConfigError(
                "FORGESYTE_WORKER_TOKEN is required: workers authenticate with it "
                "(`forgesyte up` generates one for the local stack)"
            )
        asyncio.run(_serve(settings))
    except ConfigError as error:
        print(f"forgesyte-job-api: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"forgesyte-job-api: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
