"""The job API's domain layer: what each RPC does, in domain terms.

Servicers translate protobuf to the calls here and back. This layer runs the
store's short transactions on a thread pool (so the event loop never waits on
SQL), stores and streams files, publishes every committed change to the hub
for WatchProgress, and wakes workers waiting in ClaimJob when work arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import structlog
from sqlalchemy.exc import InterfaceError, OperationalError

from services.job_api import submission
from services.job_api.blobs import BlobStore, BlobWriter
from services.job_api.domain import (
    Claim,
    JobRecord,
    JobStatus,
    LeaseRef,
    NewJob,
    PluginManifest,
    ProgressAck,
    ProgressReport,
)
from services.job_api.errors import (
    DuplicateRequest,
    IllegalTransition,
    InvalidArgument,
    StorageUnavailable,
    UploadStalled,
)
from services.job_api.hub import ProgressHub
from services.job_api.pagination import PageCursor, decode_token, encode_token, page_size
from services.job_api.snapshots import SnapshotCache
from services.job_api.store import JobStore, input_key, result_key

T = TypeVar("T")
log = structlog.get_logger(__name__)

MAX_CLAIM_WAIT_SECONDS = 30.0
RESULTS_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Timings:
    """How often background checks run; tests shorten them."""

    # A watcher re-reads its job this often when no change arrived, so a
    # change made elsewhere (another replica) is seen even without a signal.
    watch_poll_seconds: float = 10.0
    # A waiting ClaimJob re-checks this often even without a wake-up.
    claim_poll_seconds: float = 2.0
    # How often expired leases are looked for.
    reaper_interval_seconds: float = 2.0
    # How often the database is checked for the health service.
    database_check_seconds: float = 2.0
    # An upload (input or results) that sends nothing for this long is
    # abandoned, so a stalled client cannot hold a call and a file forever.
    upload_idle_seconds: float = 60.0


@dataclass(frozen=True)
class ResultsDownload:
    """A completed job's results, ready to stream."""

    size: int
    content_type: str
    chunks: AsyncIterator[bytes]


class JobManager:
    """Every job operation the servicers offer, as async methods."""

    def __init__(
        self,
        store: JobStore,
        blobs: BlobStore,
        hub: ProgressHub,
        snapshots: SnapshotCache,
        *,
        max_upload_bytes: int,
        timings: Timings | None = None,
        db_threads: int = 8,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._hub = hub
        self._snapshots = snapshots
        # With one writer (SQLite) every change passes through this process,
        # so the cache is exact. Replicas sharing PostgreSQL trust it only
        # while their change feed is connected (``change_feed_connected``).
        self._cache_trusted = store.single_writer
        self._max_upload_bytes = max_upload_bytes
        self._timings = timings or Timings()
        self._executor = ThreadPoolExecutor(max_workers=db_threads, thread_name_prefix="db")
        self._work_available = asyncio.Event()
        # Strong references, so fire-and-forget tasks are not collected early.
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def watcher_count(self) -> int:
        """How many WatchProgress streams this process is serving now."""
        return self._hub.watcher_count

    def end_watches(self) -> None:
        """Make every WatchProgress stream end (the server is shutting down)."""
        self._hub.close()

    async def close(self) -> None:
        self.end_watches()
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown)

    # -- public API ---------------------------------------------------------

    async def submit(self, new: NewJob, chunks: AsyncIterator[bytes]) -> JobRecord:
        """Store an upload and create its pending job, or nothing at all."""
        submission.validate_plugin_tool(new, await self._db(self._store.list_plugins))
        if new.request_id is not None:
            existing = await self._existing_submission(new)
            if existing is not None:
                return existing
        job_id = uuid.uuid4()
        key = input_key(job_id)
        writer = self._blobs.create(key, self._max_upload_bytes)
        size = await self._receive(writer, chunks, empty_error="the uploaded file is empty")
        try:
            record = await self._commit_or_delete(
                partial(self._store.create_job, job_id, new, size), key
            )
        except DuplicateRequest:
            existing = await self._existing_submission(new)
            if existing is None:
                raise
            return existing
        log.info("job submitted", job_id=str(job_id), plugin_id=new.plugin_id, tool=new.tool)
        self._changed(record)
        self._signal_work()
        return record

    async def get(self, job_id: uuid.UUID) -> JobRecord:
        """The job's snapshot; usually from memory (see ``snapshots``)."""
        cached = self._snapshots.get(job_id) if self._cache_trusted else None
        if cached is not None:
            return cached
        return await self._read_job(job_id)

    async def watch(self, job_id: uuid.UUID) -> AsyncIterator[JobRecord]:
        """The current snapshot, then one per change, ending after a terminal one."""
        with self._hub.subscribe(job_id) as changes:
            current = await self.get(job_id)
            yield current
            while not current.status.is_terminal:
                change = await changes.next(self._timings.watch_poll_seconds)
                if change is None:
                    change = await self._read_job(job_id)
                if change.version > current.version:
                    current = change
                    yield current

    async def list_page(
        self, requested_size: int, token: str, status: JobStatus | None
    ) -> tuple[list[JobRecord], str]:
        """One page of jobs, newest first, and the token of the next page."""
        size = page_size(requested_size)
        status_filter = status.value if status else ""
        cursor = decode_token(token, status_filter)
        # One extra row tells whether another page exists.
        rows = await self._db(self._store.list_jobs, size + 1, cursor, status)
        page = rows[:size]
        next_token = ""
        if len(rows) > size:
            last = page[-1]
            next_token = encode_token(PageCursor(last.created_at, last.job_id), status_filter)
        return page, next_token

    async def cancel(self, job_id: uuid.UUID) -> JobRecord:
        record, changed = await self._db(self._store.request_cancellation, job_id)
        if changed:
            log.info("cancellation requested", job_id=str(job_id), status=record.status.value)
            self._changed(record)
        return record

    async def results(self, job_id: uuid.UUID) -> ResultsDownload:
        record, key = await self._db(self._store.output_key, job_id)
        if record.status != JobStatus.COMPLETED or key is None:
            raise IllegalTransition(
                f"job {job_id} is {record.status.value}; results exist only for completed jobs"
            )
        size = await asyncio.to_thread(self._blobs.size, key)
        return ResultsDownload(size, RESULTS_CONTENT_TYPE, self._read(key))

    async def plugins(self) -> list[PluginManifest]:
        return await self._db(self._store.list_plugins)

    # -- other replicas ----------------------------------------------------

    def apply_remote_change(self, record: JobRecord) -> None:
        """A change committed by some replica (this one included), via NOTIFY."""
        self._changed(record)
        if record.status == JobStatus.PENDING:
            self._signal_work()

    def change_feed_connected(self, connected: bool) -> None:
        """Changes may have been missed while disconnected: start the cache afresh."""
        self._snapshots.clear()
        self._cache_trusted = connected

    # -- worker API ---------------------------------------------------------

    async def advertise(self, worker_id: str, manifests: Sequence[PluginManifest]) -> None:
        await self._db(self._store.save_plugins, worker_id, manifests)
        log.info("plugins advertised", worker_id=worker_id, plugins=[m.id for m in manifests])

    async def claim(
        self, worker_id: str, plugin_ids: Sequence[str], wait_seconds: float
    ) -> Claim | None:
        """Lease the oldest runnable job, waiting up to ``wait_seconds`` for one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(max(wait_seconds, 0.0), MAX_CLAIM_WAIT_SECONDS)
        while True:
            # Take the wake-up signal before looking, so a job submitted while
            # we look still wakes us.
            wake_up = self._work_available
            claim = await self._claim_once(worker_id, plugin_ids)
            if claim is not None:
                return claim
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    wake_up.wait(), min(remaining, self._timings.claim_poll_seconds)
                )

    async def input_chunks(self, lease: LeaseRef) -> AsyncIterator[bytes]:
        key = await self._db(self._store.input_key_for, lease)
        async for chunk in self._read(key):
            yield chunk

    async def report_progress(self, lease: LeaseRef, report: ProgressReport) -> ProgressAck:
        ack = await self._db(self._store.report_progress, lease, report)
        if ack.changed:
            self._changed(ack.job)
        return ack

    async def complete(
        self, lease: LeaseRef, total_frames: int | None, chunks: AsyncIterator[bytes]
    ) -> JobRecord:
        """Store the results, then mark the job completed (100%)."""
        await self._db(self._store.check_lease, lease, "complete the job")
        key = result_key(lease)
        writer = self._blobs.create(key, self._max_upload_bytes)
        size = await self._receive(writer, chunks, empty_error="results are empty")
        try:
            await asyncio.to_thread(_require_json_object, self._blobs, key)
        except InvalidArgument:
            self._blobs.delete(key)
            raise
        record = await self._commit_or_delete(
            partial(self._store.complete_job, lease, key, total_frames), key
        )
        log.info("job completed", job_id=str(lease.job_id), result_bytes=size)
        self._changed(record)
        return record

    async def fail(self, lease: LeaseRef, message: str, retryable: bool) -> JobRecord:
        record = await self._db(self._store.fail_job, lease, message, retryable)
        log.info("attempt failed", job_id=str(lease.job_id), status=record.status.value)
        self._after_attempt_ended(record)
        return record

    async def release(self, lease: LeaseRef) -> JobRecord:
        record = await self._db(self._store.release_job, lease)
        log.info("job released", job_id=str(lease.job_id), status=record.status.value)
        self._after_attempt_ended(record)
        return record

    async def acknowledge_cancellation(self, lease: LeaseRef) -> JobRecord:
        record = await self._db(self._store.acknowledge_cancellation, lease)
        log.info("job cancelled", job_id=str(lease.job_id))
        self._changed(record)
        return record

    async def expire_leases(self) -> int:
        """One reaper pass; returns how many jobs it moved on."""
        records = await self._db(self._store.expire_leases)
        for record in records:
            log.warning("lease expired", job_id=str(record.job_id), status=record.status.value)
            self._after_attempt_ended(record)
        return len(records)

    async def run_reaper(self) -> None:
        """Expire leases forever (until cancelled)."""
        while True:
            await asyncio.sleep(self._timings.reaper_interval_seconds)
            try:
                await self.expire_leases()
            except StorageUnavailable:
                log.warning("lease reaper skipped a pass: database unavailable")

    # -- helpers ------------------------------------------------------------

    async def _db(self, function: Callable[..., T], *args: Any) -> T:
        """Run a store call on the database threads."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, partial(function, *args))
        except (OperationalError, InterfaceError) as error:
            log.error("database unavailable", error=str(error.orig or error))
            raise StorageUnavailable("the database is unavailable; retry shortly") from error

    async def _read_job(self, job_id: uuid.UUID) -> JobRecord:
        """Read the job from the database, bypassing (and refreshing) the cache."""
        record = await self._db(self._store.get_job, job_id)
        self._snapshots.offer(record)
        return record

    async def _claim_once(self, worker_id: str, plugin_ids: Sequence[str]) -> Claim | None:
        attempt = asyncio.ensure_future(self._db(self._store.claim_job, worker_id, plugin_ids))
        try:
            claim = await asyncio.shield(attempt)
        except asyncio.CancelledError:
            # The caller went away, but the claim may still commit: hand it
            # back at once instead of letting the job wait for its lease to lapse.
            attempt.add_done_callback(self._release_orphaned_claim)
            raise
        if claim is not None:
            log.info("job claimed", job_id=str(claim.job.job_id), worker_id=worker_id)
            self._changed(claim.job)
        return claim

    def _release_orphaned_claim(self, attempt: asyncio.Future[Claim | None]) -> None:
        if attempt.cancelled() or attempt.exception() is not None:
            return
        claim = attempt.result()
        if claim is not None:
            lease = LeaseRef(claim.job.job_id, claim.lease_id)
            self._in_background(self.release(lease))

    async def _receive(
        self, writer: BlobWriter, chunks: AsyncIterator[bytes], *, empty_error: str
    ) -> int:
        """Write every chunk and commit; on any failure nothing is left behind."""
        idle = self._timings.upload_idle_seconds
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(anext(chunks), idle)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise UploadStalled(
                        f"the upload stalled: no data arrived for {idle:g} seconds"
                    ) from None
                writer.write(chunk)
            if writer.size == 0:
                raise InvalidArgument(empty_error)
            await asyncio.to_thread(writer.commit)
        except BaseException:
            writer.abort()
            raise
        return writer.size

    async def _commit_or_delete(self, change: Callable[[], JobRecord], key: str) -> JobRecord:
        """Record a stored file in the database, or delete the file.

        The database call is shielded from cancellation: once it runs it may
        commit, so the file is only deleted if it really failed.
        """
        attempt = asyncio.ensure_future(self._db(change))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            attempt.add_done_callback(partial(self._delete_unless_committed, key))
            raise
        except BaseException:
            self._blobs.delete(key)
            raise

    def _delete_unless_committed(self, key: str, attempt: asyncio.Future[JobRecord]) -> None:
        if attempt.cancelled() or attempt.exception() is not None:
            self._blobs.delete(key)
        else:
            self._changed(attempt.result())

    async def _read(self, key: str) -> AsyncIterator[bytes]:
        chunks = self._blobs.read_chunks(key)
        while (chunk := await asyncio.to_thread(next, chunks, b"")) != b"":
            yield chunk

    async def _existing_submission(self, new: NewJob) -> JobRecord | None:
        assert new.request_id is not None
        found = await self._db(self._store.find_by_request_id, new.request_id)
        if found is None:
            return None
        record, original = found
        if not submission.same_submission(original, new):
            raise DuplicateRequest(
                f"request_id {new.request_id!r} was already used for a different submission "
                f"({original.plugin_id}/{original.tool})"
            )
        log.info("repeated submission", job_id=str(record.job_id), request_id=new.request_id)
        return record

    def _in_background(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _after_attempt_ended(self, record: JobRecord) -> None:
        self._changed(record)
        if record.status == JobStatus.PENDING:
            self._signal_work()

    def _changed(self, record: JobRecord) -> None:
        self._snapshots.offer(record)
        self._hub.publish(record)

    def _signal_work(self) -> None:
        self._work_available.set()
        self._work_available = asyncio.Event()


def _require_json_object(blobs: BlobStore, key: str) -> None:
    """Results must be one JSON object; anything else is the worker's bug."""
    try:
        document = json.loads(b"".join(blobs.read_chunks(key)))
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidArgument(f"results are not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidArgument("results must be a JSON object")
