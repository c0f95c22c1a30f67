"""Status polls answered from ``WatchProgress`` pushes.

ForgeSyte's clients poll ``GET /v1/video/status/{job_id}`` every second or
two for as long as a job runs. Asking the job API each time costs every poll
a gRPC round trip, the largest part of its latency. Instead, the first poll
of a job asks the job API and opens a ``WatchProgress`` stream for the job;
while that stream is live, later polls are answered from the newest
snapshot it pushed, with no call at all.

What a poll may see:

* A change reaches the cache when the stream delivers it (milliseconds after
  the job API committed it), and the gateway's own writes (a cancel) are
  applied at once. So while the stream is healthy a poll lags the job API
  by at most the stream's delivery time.
* Only a live stream's snapshot is served. When the stream breaks (a job API
  restart) the entry is dropped, and the next poll asks the job API again:
  503 while it is down, never a stale answer from the cache.
* A stream can also die silently (a frozen job API, a lost network path),
  which keepalive pings notice only after tens of seconds. So a snapshot
  nothing has confirmed for ``max_age_seconds`` (no message on the stream, no
  answer from the job API) is checked with the job API by the next poll:
  one call per job every few seconds at most, whatever the poll rate.
* Snapshots are accepted only when their ``version`` is newer, so a client
  never sees a job go back (a stream opened on another job API replica may
  start a few milliseconds behind the answer that opened it).
* A terminal snapshot never changes, so it is kept after its stream ends
  (and a job that had already ended when first polled gets no stream).
* A cached snapshot is served only to callers presenting the credentials
  that opened its stream, so a gateway that leaves the token check to the
  job API never hands a job to a caller the job API would refuse.

It is bounded: at most ``max_jobs`` jobs (the least recently polled is
evicted and its stream closed), and a job not polled for ``idle_seconds``
is forgotten.
"""

from __future__ import annotations

import asyncio
import hmac
from collections import OrderedDict
from dataclasses import dataclass, field

import grpc
import structlog

from forgesyte.jobs.v1 import job_pb2
from services.gateway.job_client import JobApiClient, Metadata, WatchCall
from services.gateway.views import is_terminal

log = structlog.get_logger("forgesyte.gateway.status_cache")


@dataclass
class _Entry:
    """What the cache knows about one job."""

    # The newest snapshot seen by any path (the poll that opened the entry,
    # the stream, the gateway's own writes).
    job: job_pb2.Job
    # The caller's ``Authorization`` header that opened the entry (b"" if none).
    credentials: bytes
    last_polled: float
    # When the stream or the job API last vouched for ``job``.
    confirmed_at: float
    # Served only when True: the stream has delivered its first snapshot, so
    # every later change will reach ``job`` too (or the job is terminal).
    live: bool = False
    stream: asyncio.Task[None] | None = field(default=None, repr=False)

    def offer(self, job: job_pb2.Job) -> None:
        if job.version > self.job.version:
            self.job = job

    def servable(self, credentials: bytes, now: float, max_age_seconds: float) -> bool:
        """Whether a poll may be answered from ``job`` without asking the job API."""
        if not self.live or not hmac.compare_digest(credentials, self.credentials):
            return False
        return is_terminal(self.job) or now - self.confirmed_at < max_age_seconds

    def close(self) -> None:
        if self.stream is not None:
            self.stream.cancel()


class StatusCache:
    """The newest snapshot of each recently polled job, kept current by push."""

    def __init__(
        self,
        client: JobApiClient,
        *,
        max_jobs: int,
        idle_seconds: float,
        max_age_seconds: float,
    ) -> None:
        self._client = client
        self._max_jobs = max_jobs
        self._idle_seconds = idle_seconds
        self._max_age_seconds = max_age_seconds
        # Least recently polled first, so eviction and expiry look at the front.
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False
        # Polls answered from the cache, and polls that asked the job API.
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self._max_jobs > 0

    @property
    def jobs(self) -> int:
        """How many jobs the cache holds."""
        return len(self._entries)

    @property
    def open_streams(self) -> int:
        """How many ``WatchProgress`` streams the cache holds open."""
        return sum(1 for e in self._entries.values() if e.stream and not e.stream.done())

    async def get(self, job_id: str, metadata: Metadata) -> job_pb2.Job:
        """The job's status: from the cache when its stream is live, else from
        the job API (whose errors propagate as they are)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        credentials = _credentials(metadata)
        entry = self._entries.get(job_id)
        if entry is not None:
            entry.last_polled = now
            self._entries.move_to_end(job_id)
            if entry.servable(credentials, now, self._max_age_seconds):
                self.hits += 1
                return entry.job
        self.misses += 1
        job = await self._client.get_status(job_id, metadata)
        entry = self._entries.get(job_id)  # the call may have taken a while
        if entry is None:
            if self.enabled and not self._closed:
                self._track(job, metadata, loop.time())
            return job
        entry.offer(job)
        entry.confirmed_at = loop.time()
        # The newest either has seen: another replica may answer a little behind.
        return entry.job

    def offer(self, job: job_pb2.Job) -> None:
        """A snapshot the gateway came by itself (its own write): applied at
        once, so the writer's next poll sees it."""
        entry = self._entries.get(job.job_id)
        if entry is not None:
            entry.offer(job)

    async def close(self) -> None:
        """Close every stream and stop expiring entries."""
        self._closed = True
        tasks = [e.stream for e in self._entries.values() if e.stream is not None]
        if self._sweeper is not None:
            tasks.append(self._sweeper)
        for task in tasks:
            task.cancel()
        self._entries.clear()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _track(self, job: job_pb2.Job, metadata: Metadata, now: float) -> None:
        while len(self._entries) >= self._max_jobs:
            _, evicted = self._entries.popitem(last=False)
            evicted.close()
        entry = _Entry(
            job=job, credentials=_credentials(metadata), last_polled=now, confirmed_at=now
        )
        if is_terminal(job):
            entry.live = True
        else:
            entry.stream = asyncio.create_task(self._follow(job.job_id, entry, metadata))
        self._entries[job.job_id] = entry
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._expire_idle())

    async def _follow(self, job_id: str, entry: _Entry, metadata: Metadata) -> None:
        """Keep ``entry`` current until the job ends; drop it if the stream breaks."""
        loop = asyncio.get_running_loop()
        call: WatchCall | None = None
        finished = False
        try:
            call = self._client.watch(job_id, metadata)
            async for message in call:
                entry.offer(message.job)
                entry.confirmed_at = loop.time()
                entry.live = True
                if is_terminal(message.job):
                    finished = True  # the entry stays: a terminal snapshot is final
                    return
        except grpc.aio.AioRpcError as error:
            log.info("status stream ended", job_id=job_id, code=error.code().name)
        except Exception:
            log.exception("status stream failed", job_id=job_id)
        finally:
            if call is not None:
                call.cancel()
            # Ended before the job did (or evicted): from now on its snapshot
            # would go stale, so polls must ask the job API again.
            if not finished and self._entries.get(job_id) is entry:
                del self._entries[job_id]

    async def _expire_idle(self) -> None:
        loop = asyncio.get_running_loop()
        interval = max(self._idle_seconds / 4, 0.01)
        while True:
            await asyncio.sleep(interval)
            cutoff = loop.time() - self._idle_seconds
            while self._entries:
                job_id, entry = next(iter(self._entries.items()))
                if entry.last_polled > cutoff:
                    break
                del self._entries[job_id]
                entry.close()


def _credentials(metadata: Metadata) -> bytes:
    header = next((value for key, value in metadata if key == "authorization"), "")
    return header.encode()
