"""The worker process's main loop: N slots, each claiming and running jobs.

Each slot long-polls ClaimJob (the job API wakes it when work arrives), runs
the attempt, and claims again. Transient trouble reaching the job API (it
restarts, the network blips) is retried with capped exponential backoff; a
job never makes the worker exit.

Shutdown (``stop``): slots stop claiming at once; running attempts get
``drain_seconds`` to finish, then are stopped at their next frame and handed
back with ReleaseJob, so another worker takes them immediately instead of
waiting for the lease to run out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

import grpc
import structlog

from services.common.backoff import Backoff
from services.worker.attempt import Attempt, AttemptStats
from services.worker.client import ClaimedJob, WorkerClient
from services.worker.plugin_api import PluginRegistry
from services.worker.progress_bridge import StopReason

log = structlog.get_logger(__name__)

CLAIM_WAIT_SECONDS = 20.0
HISTORY_LENGTH = 1000
RETRY_INITIAL_SECONDS = 0.5
RETRY_MAX_SECONDS = 10.0
_TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    }
)


class Worker:
    """Runs jobs from the job API until stopped."""

    def __init__(
        self,
        client: WorkerClient,
        registry: PluginRegistry,
        *,
        concurrency: int = 1,
        drain_seconds: float = 5.0,
        claim_wait_seconds: float = CLAIM_WAIT_SECONDS,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._client = client
        self._registry = registry
        self._concurrency = concurrency
        self._drain_seconds = drain_seconds
        self._claim_wait = claim_wait_seconds
        self._stopping = asyncio.Event()
        self._attempts: set[Attempt] = set()
        self._claims: set[asyncio.Future[ClaimedJob | None]] = set()
        # The most recent attempts, newest last: what this worker did, when.
        self.history: deque[AttemptStats] = deque(maxlen=HISTORY_LENGTH)

    async def run(self) -> None:
        """Advertise the plugins, then run the slots until ``stop``."""
        await self._advertise()
        slots = [
            asyncio.create_task(self._slot(n), name=f"slot-{n}") for n in range(self._concurrency)
        ]
        await self._stopping.wait()
        await self._drain(slots)

    def stop(self) -> None:
        self._stopping.set()

    async def _advertise(self) -> None:
        backoff = Backoff(RETRY_INITIAL_SECONDS, RETRY_MAX_SECONDS)
        manifests = self._registry.manifests()
        while not self._stopping.is_set():
            try:
                await self._client.advertise(manifests)
                log.info("plugins advertised", plugins=list(self._registry.plugin_ids))
                return
            except grpc.aio.AioRpcError as error:
                if error.code() not in _TRANSIENT:
                    raise
                log.warning("job API not reachable; retrying", code=error.code().name)
                await self._sleep_unless_stopping(backoff.delay())

    async def _slot(self, number: int) -> None:
        backoff = Backoff(RETRY_INITIAL_SECONDS, RETRY_MAX_SECONDS)
        while not self._stopping.is_set():
            try:
                claimed = await self._claim()
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    return  # stop() cut the long poll short
                raise
            except grpc.aio.AioRpcError as error:
                if error.code() in _TRANSIENT:
                    log.warning("claim failed; retrying", slot=number, code=error.code().name)
                else:
                    log.error("claim refused", code=error.code().name, detail=error.details())
                await self._sleep_unless_stopping(backoff.delay())
                continue
            backoff.reset()
            if claimed is None:
                continue
            attempt = Attempt(self._client, self._registry, claimed)
            if self._stopping.is_set():
                attempt.stop(StopReason.SHUTTING_DOWN)  # claimed as we stopped: hand it back
            self._attempts.add(attempt)
            try:
                await attempt.run()
            except grpc.aio.AioRpcError as error:
                # The job API could not be told the outcome; the lease will
                # lapse and the job will be retried elsewhere.
                log.error(
                    "could not report the outcome",
                    job_id=claimed.job.job_id,
                    code=error.code().name,
                    detail=error.details(),
                )
                await self._sleep_unless_stopping(backoff.delay())
            finally:
                self._attempts.discard(attempt)
                self.history.append(attempt.stats)

    async def _claim(self) -> ClaimedJob | None:
        """One long-poll claim that ``stop`` may cancel (nothing else is cancelled)."""
        claim = asyncio.ensure_future(
            self._client.claim(self._registry.plugin_ids, self._claim_wait)
        )
        self._claims.add(claim)
        try:
            return await claim
        finally:
            self._claims.discard(claim)

    async def _drain(self, slots: list[asyncio.Task[None]]) -> None:
        """Let running attempts finish for a while, then hand them back."""
        for claim in list(self._claims):
            claim.cancel()
        _, still_running = await asyncio.wait(slots, timeout=self._drain_seconds)
        if still_running:
            for attempt in list(self._attempts):
                attempt.stop(StopReason.SHUTTING_DOWN)
            await asyncio.wait(still_running)
        for slot in slots:
            slot.result()  # surface a slot's unexpected crash

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
