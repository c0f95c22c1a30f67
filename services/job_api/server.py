"""Assembles the job API: database, files, domain layer, servicers, server.

``start_job_api`` is what ``forgesyte-job-api`` runs and what the tests
start on port 0; ``RunningJobApi.stop`` is the graceful shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import grpc
import structlog
from sqlalchemy import Engine

from forgesyte.jobs.v1 import job_service_pb2_grpc, worker_service_pb2_grpc
from services.common.config import Settings
from services.common.grpc_server import ServerHandle, build_server, mark_serving, shut_down
from services.common.tls import server_credentials
from services.job_api.blobs import LocalBlobStore
from services.job_api.change_feed import ChangeFeed
from services.job_api.db import create_db_engine
from services.job_api.db_health import follow_database
from services.job_api.hub import ProgressHub
from services.job_api.interceptors import JOB_SERVICE, WORKER_SERVICE, default_interceptors
from services.job_api.job_servicer import JobServicer
from services.job_api.jobs import JobManager, Timings
from services.job_api.migrate import migrate
from services.job_api.snapshots import SnapshotCache
from services.job_api.store import JobStore
from services.job_api.worker_servicer import WorkerServicer

log = structlog.get_logger(__name__)

SERVICE_NAMES = (JOB_SERVICE, WORKER_SERVICE)
DEFAULT_GRACE_SECONDS = 10.0


@dataclass
class RunningJobApi:
    """A started job API and what it owns."""

    handle: ServerHandle
    jobs: JobManager
    engine: Engine
    background: list[asyncio.Task[None]]

    @property
    def port(self) -> int:
        return self.handle.port

    @property
    def watcher_count(self) -> int:
        """Open WatchProgress streams, e.g. to see that clients really let go."""
        return self.jobs.watcher_count

    async def stop(self, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> None:
        """NOT_SERVING, end watch streams, drain calls, then release resources."""
        await shut_down(self.handle, end_streams=self._end_streams, grace_seconds=grace_seconds)
        for task in self.background:
            task.cancel()
        for task in self.background:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.jobs.close()
        self.engine.dispose()

    async def _end_streams(self) -> None:
        self.jobs.end_watches()


async def start_job_api(
    settings: Settings,
    *,
    timings: Timings | None = None,
    credentials: grpc.ServerCredentials | None = None,
    extra_handlers: Sequence[grpc.GenericRpcHandler] = (),
) -> RunningJobApi:
    """Migrate the database, then serve on ``settings.job_api_addr``.

    ``extra_handlers`` adds services beside the job API's own, behind the
    same interceptors (the benchmarks use it for a baseline handler).
    """
    if not settings.worker_token:
        raise ValueError("FORGESYTE_WORKER_TOKEN is required to run the job API")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.database_url)
    await asyncio.to_thread(migrate, engine)
    blobs = LocalBlobStore(settings.data_dir)
    removed = blobs.remove_stale_temp_files()
    if removed:
        log.info("removed unfinished uploads", count=removed)
    store = JobStore(
        engine, lease_seconds=settings.lease_seconds, max_attempts=settings.max_attempts
    )
    jobs = JobManager(
        store,
        blobs,
        ProgressHub(),
        SnapshotCache(),
        max_upload_bytes=settings.max_upload_bytes,
        timings=timings,
    )

    def register(server: grpc.aio.Server) -> None:
        job_service_pb2_grpc.add_JobServiceServicer_to_server(JobServicer(jobs), server)
        worker_service_pb2_grpc.add_WorkerServiceServicer_to_server(WorkerServicer(jobs), server)
        server.add_generic_rpc_handlers(tuple(extra_handlers))

    handle = build_server(
        settings.job_api_addr,
        register=register,
        service_names=SERVICE_NAMES,
        interceptors=default_interceptors(settings.worker_token, settings.api_token),
        credentials=credentials or server_credentials(settings.tls),
    )
    await handle.server.start()
    await mark_serving(handle, SERVICE_NAMES)
    timings = timings or Timings()
    background = [
        asyncio.create_task(jobs.run_reaper(), name="lease-reaper"),
        asyncio.create_task(
            follow_database(engine, handle.health, SERVICE_NAMES, timings.database_check_seconds),
            name="database-health",
        ),
    ]
    if engine.dialect.name == "postgresql":
        feed = ChangeFeed(
            settings.database_url, jobs.apply_remote_change, jobs.change_feed_connected
        )
        background.append(asyncio.create_task(feed.run(), name="change-feed"))
    log.info("job API serving", port=handle.port, database=engine.url.get_backend_name())
    return RunningJobApi(handle, jobs, engine, background)
