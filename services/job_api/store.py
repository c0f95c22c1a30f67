"""All SQL of the job API: load rows (locked when changing them), apply a
state-machine rule, commit.

Methods are synchronous and each runs one short transaction; the async
layer (``jobs.JobManager``) runs them on a small thread pool. Write
transactions lock the row first: ``SELECT ... FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite (see ``db.writer``), so concurrent reports,
cancellations and lease expiry never overwrite each other.

On SQLite the database takes one writer at a time, so the store's writers
also take turns on a lock before they begin (the job API has one store, so
that is every writer of the process). Left to SQLite, a waiting writer polls
its busy handler, sleeping up to 100 ms between tries: with 16 concurrent
claimers that put the slowest claims near half a second.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.job_api import change_feed, state_machine
from services.job_api.db import writer
from services.job_api.domain import (
    Claim,
    JobRecord,
    JobStatus,
    LeaseRef,
    NewJob,
    PluginManifest,
    ProgressAck,
    ProgressReport,
    ToolManifest,
)
from services.job_api.errors import DuplicateRequest, JobNotFound
from services.job_api.models import JobRow, PluginRow
from services.job_api.pagination import PageCursor

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def input_key(job_id: uuid.UUID) -> str:
    """Where a job's input is stored: derived from the job id only."""
    return f"inputs/{job_id}"


def result_key(lease: LeaseRef) -> str:
    """Where an attempt's results are stored: derived from server-made ids only.

    The lease is part of the key so that a worker whose lease was lost can
    never overwrite, or clean up, the results of the attempt that replaced it.
    """
    return f"results/{lease.job_id}.{lease.lease_id}.json"


class JobStore:
    """Jobs and plugin manifests in one SQL database."""

    def __init__(
        self,
        engine: Engine,
        *,
        lease_seconds: float,
        max_attempts: int,
        clock: Clock = utc_now,
    ) -> None:
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(writer(engine), expire_on_commit=False)
        self._lease = timedelta(seconds=lease_seconds)
        self._max_attempts = max_attempts
        self._clock = clock
        self._lock_rows = engine.dialect.name != "sqlite"
        # Replicas share PostgreSQL and learn of each other's changes by NOTIFY.
        self._notify = engine.dialect.name == "postgresql"
        self._writer_turn: AbstractContextManager[object] = (
            nullcontext() if self._lock_rows else threading.Lock()
        )

    @property
    def single_writer(self) -> bool:
        """True for the embedded SQLite database: only this process writes to it."""
        return not self._notify and not self._lock_rows

    # -- public job queries -------------------------------------------------

    def get_job(self, job_id: uuid.UUID) -> JobRecord:
        with self._read() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(job_id)
            return to_record(row)

    def find_by_request_id(self, request_id: str) -> tuple[JobRecord, NewJob] | None:
        """The job a request_id created, with what it asked for, if any."""
        with self._read() as session:
            row = session.scalars(select(JobRow).where(JobRow.request_id == request_id)).first()
            return None if row is None else (to_record(row), _as_new_job(row))

    def list_jobs(
        self, limit: int, after: PageCursor | None, status: JobStatus | None
    ) -> list[JobRecord]:
        """Newest first, continuing strictly after ``after`` (keyset pagination)."""
        query = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.job_id.desc())
        if status is not None:
            query = query.where(JobRow.status == status.value)
        if after is not None:
            query = query.where(
                or_(
                    JobRow.created_at < after.created_at,
                    and_(JobRow.created_at == after.created_at, JobRow.job_id < after.job_id),
                )
            )
        with self._read() as session:
            return [to_record(row) for row in session.scalars(query.limit(limit))]

    def output_key(self, job_id: uuid.UUID) -> tuple[JobRecord, str | None]:
        with self._read() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise JobNotFound(job_id)
            return to_record(row), row.output_path

    # -- public job changes -------------------------------------------------

    def create_job(self, job_id: uuid.UUID, new: NewJob, input_size: int) -> JobRecord:
        """Insert a pending job whose input is already stored under ``input_key``.

        Raises ``DuplicateRequest`` when another submission with the same
        request_id won the race; the caller then returns that job instead.
        """
        now = self._clock()
        row = JobRow(
            job_id=job_id,
            plugin_id=new.plugin_id,
            tool=new.tool,
            input_path=input_key(job_id),
            job_type=new.job_type,
            status=JobStatus.PENDING.value,
            progress=None,
            created_at=now,
            updated_at=now,
            original_filename=new.original_filename,
            input_size_bytes=input_size,
            request_id=new.request_id,
            attempt=0,
            max_attempts=self._max_attempts,
            cancel_requested=False,
            version=1,
        )
        try:
            with self._writing() as session:
                session.add(row)
                session.flush()
                self._announce(session, row)
        except IntegrityError as error:
            if new.request_id is not None:
                raise DuplicateRequest(
                    f"request_id {new.request_id!r} was used by another submission"
                ) from error
            raise
        return to_record(row)

    def request_cancellation(self, job_id: uuid.UUID) -> tuple[JobRecord, bool]:
        with self._locked(job_id) as row:
            changed = state_machine.request_cancellation(row, self._clock())
            return to_record(row), changed

    # -- worker calls -------------------------------------------------------

    def claim_job(self, worker_id: str, plugin_ids: Sequence[str]) -> Claim | None:
        """Lease the oldest pending job for these plugins, or return None.

        PostgreSQL skips rows other claimers hold locked; SQLite serialises
        writers with BEGIN IMMEDIATE, so the oldest pending row is ours.
        """
        query = (
            select(JobRow)
            .where(JobRow.status == JobStatus.PENDING.value)
            .order_by(JobRow.created_at, JobRow.job_id)
            .limit(1)
        )
        if plugin_ids:
            query = query.where(JobRow.plugin_id.in_(plugin_ids))
        if self._lock_rows:
            query = query.with_for_update(skip_locked=True)
        with self._writing() as session:
            row = session.scalars(query).first()
            if row is None:
                return None
            lease_id = str(uuid.uuid4())
            state_machine.claim(row, worker_id, lease_id, self._clock(), self._lease)
            self._announce(session, row)
            assert row.lease_expires_at is not None
            return Claim(to_record(row), lease_id, row.lease_expires_at)

    def input_key_for(self, lease: LeaseRef) -> str:
        """The stored input of a job, for its lease holder only."""
        with self._read() as session:
            row = session.get(JobRow, lease.job_id)
            if row is None:
                raise JobNotFound(lease.job_id)
            state_machine.require_lease(row, lease.lease_id, action="download the input")
            return row.input_path

    def report_progress(self, lease: LeaseRef, report: ProgressReport) -> ProgressAck:
        state_machine.validate_report(report)
        with self._locked(lease.job_id) as row:
            changed = state_machine.report_progress(
                row, lease.lease_id, report, self._clock(), self._lease
            )
            assert row.lease_expires_at is not None
            return ProgressAck(to_record(row), row.lease_expires_at, changed)

    def check_lease(self, lease: LeaseRef, action: str) -> None:
        """Fail early (before a long upload) when the caller holds no lease."""
        with self._read() as session:
            row = session.get(JobRow, lease.job_id)
            if row is None:
                raise JobNotFound(lease.job_id)
            state_machine.require_lease(row, lease.lease_id, action=action)

    def complete_job(self, lease: LeaseRef, output_key: str, total_frames: int | None) -> JobRecord:
        with self._locked(lease.job_id) as row:
            state_machine.complete(row, lease.lease_id, output_key, total_frames, self._clock())
            return to_record(row)

    def fail_job(self, lease: LeaseRef, message: str, retryable: bool) -> JobRecord:
        with self._locked(lease.job_id) as row:
            state_machine.fail(row, lease.lease_id, message, retryable, self._clock())
            return to_record(row)

    def release_job(self, lease: LeaseRef) -> JobRecord:
        with self._locked(lease.job_id) as row:
            state_machine.release(row, lease.lease_id, self._clock())
            return to_record(row)

    def acknowledge_cancellation(self, lease: LeaseRef) -> JobRecord:
        with self._locked(lease.job_id) as row:
            state_machine.acknowledge_cancellation(row, lease.lease_id, self._clock())
            return to_record(row)

    def expire_leases(self, limit: int = 100) -> list[JobRecord]:
        """Requeue, fail or cancel running jobs whose lease ran out.

        Safe to run from several replicas at once: each row is re-checked
        under its lock and skipped if another reaper got there first.
        """
        now = self._clock()
        query = (
            select(JobRow)
            .where(JobRow.status == JobStatus.RUNNING.value, JobRow.lease_expires_at < now)
            .limit(limit)
        )
        if self._lock_rows:
            query = query.with_for_update(skip_locked=True)
        with self._writing() as session:
            rows = list(session.scalars(query))
            for row in rows:
                state_machine.expire_lease(row, now)
                self._announce(session, row)
            return [to_record(row) for row in rows]

    # -- plugins ------------------------------------------------------------

    def save_plugins(self, worker_id: str, manifests: Sequence[PluginManifest]) -> None:
        """Remember what a worker advertised; the newest manifest of an id wins."""
        now = self._clock()
        with self._writing() as session:
            for manifest in manifests:
                session.merge(
                    PluginRow(
                        plugin_id=manifest.id,
                        manifest_json=json.dumps(asdict(manifest), sort_keys=True),
                        advertised_by=worker_id,
                        updated_at=now,
                    )
                )

    def list_plugins(self) -> list[PluginManifest]:
        with self._read() as session:
            rows = session.scalars(select(PluginRow).order_by(PluginRow.plugin_id))
            return [_manifest_from_json(row.manifest_json) for row in rows]

    # -- helpers ------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """One write transaction (on SQLite, after this process's other writers)."""
        with self._writer_turn, self._write.begin() as session:
            yield session

    @contextmanager
    def _locked(self, job_id: uuid.UUID) -> Iterator[JobRow]:
        """One write transaction holding the job's row lock; announces the
        change to other replicas if a visible field changed."""
        query = select(JobRow).where(JobRow.job_id == job_id)
        if self._lock_rows:
            query = query.with_for_update()
        with self._writing() as session:
            row = session.scalars(query).first()
            if row is None:
                raise JobNotFound(job_id)
            version_before = row.version
            yield row
            if row.version != version_before:
                self._announce(session, row)

    def _announce(self, session: Session, row: JobRow) -> None:
        if self._notify:
            change_feed.notify(session, to_record(row))


def to_record(row: JobRow) -> JobRecord:
    return JobRecord(
        job_id=row.job_id,
        status=JobStatus(row.status),
        progress=row.progress,
        created_at=row.created_at,
        updated_at=row.updated_at,
        plugin_id=row.plugin_id,
        tool=row.tool,
        job_type=row.job_type,
        original_filename=row.original_filename,
        input_size_bytes=row.input_size_bytes,
        current_frame=row.current_frame,
        total_frames=row.total_frames,
        attempt=row.attempt,
        max_attempts=row.max_attempts,
        error_message=row.error_message,
        started_at=row.started_at,
        finished_at=row.finished_at,
        cancel_requested=row.cancel_requested,
        version=row.version,
    )


def _as_new_job(row: JobRow) -> NewJob:
    return NewJob(
        plugin_id=row.plugin_id,
        tool=row.tool,
        job_type=row.job_type,
        original_filename=row.original_filename,
        request_id=row.request_id,
    )


def _manifest_from_json(text: str) -> PluginManifest:
    data = json.loads(text)
    tools = tuple(
        ToolManifest(
            id=t["id"],
            description=t["description"],
            input_types=tuple(t["input_types"]),
            output_description=t["output_description"],
        )
        for t in data["tools"]
    )
    return PluginManifest(
        id=data["id"],
        name=data["name"],
        version=data["version"],
        description=data["description"],
        tools=tools,
    )
