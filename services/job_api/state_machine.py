"""The job state machine and the progress rules, in one place.

Every change to a job goes through a function here; the store only loads the
row (locked), calls one of these and commits. The rules (ARCHITECTURE.md,
"Progress semantics"):

* ``progress`` is null until the first report of the current attempt; a new
  attempt starts from null again.
* While running it only goes up (a lower report is ignored, not an error) and
  stays at most 99; it is 100 exactly when the job completed.
* Reports for a finished or cancelled job are refused (FAILED_PRECONDITION);
  a value outside 0-100 is INVALID_ARGUMENT.
* Only the current lease holder may report, complete, fail or release.

Transitions::

    pending --claim--> running --complete--> completed
       |                  |----fail--------> failed | pending (retryable, attempts left)
       |                  |----release-----> pending (attempt not counted)
       |                  |----lease lost--> pending | failed (no attempts left)
       |                  '----cancel------> cancel_requested --ack/lease lost--> cancelled
       '--cancel--> cancelled
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Protocol

from services.job_api.domain import JobStatus, ProgressReport
from services.job_api.errors import IllegalTransition, InvalidArgument, LeaseNotHeld

MAX_PROGRESS_WHILE_RUNNING = 99
COMPLETED_PROGRESS = 100


class JobState(Protocol):
    """The mutable fields of a job the rules read and write (an ORM row)."""

    @property
    def job_id(self) -> uuid.UUID: ...

    status: str
    progress: int | None
    current_frame: int | None
    total_frames: int | None
    attempt: int
    max_attempts: int
    error_message: str | None
    output_path: str | None
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    cancel_requested: bool
    version: int
    lease_id: str | None
    lease_owner: str | None
    lease_expires_at: datetime | None


def validate_report(report: ProgressReport) -> None:
    """Reject impossible values before looking at the job at all."""
    if report.percent is not None and not 0 <= report.percent <= COMPLETED_PROGRESS:
        raise InvalidArgument(f"percent must be between 0 and 100, got {report.percent}")
    if report.current_frame is not None and report.current_frame < 0:
        raise InvalidArgument(f"current_frame must not be negative, got {report.current_frame}")
    if report.total_frames is not None and report.total_frames < 0:
        raise InvalidArgument(f"total_frames must not be negative, got {report.total_frames}")


def next_progress(stored: int | None, reported: int) -> int:
    """The progress to store while running: monotonic and capped at 99."""
    capped = min(reported, MAX_PROGRESS_WHILE_RUNNING)
    return capped if stored is None else max(stored, capped)


def claim(job: JobState, worker_id: str, lease_id: str, now: datetime, lease: timedelta) -> None:
    """Start a new attempt: running, leased, progress back to null."""
    if job.status != JobStatus.PENDING:
        raise IllegalTransition(f"job {job.job_id} is {job.status}; only pending jobs are claimed")
    job.status = JobStatus.RUNNING
    job.attempt += 1
    job.started_at = now
    job.error_message = None
    _reset_attempt_progress(job)
    job.lease_id = lease_id
    job.lease_owner = worker_id
    job.lease_expires_at = now + lease
    _touch(job, now)


def report_progress(
    job: JobState, lease_id: str, report: ProgressReport, now: datetime, lease: timedelta
) -> bool:
    """Record a report and renew the lease; True when a visible field changed."""
    validate_report(report)
    require_lease(job, lease_id, action="report progress")
    job.lease_expires_at = now + lease
    changed = False
    if report.percent is not None:
        progress = next_progress(job.progress, report.percent)
        if progress != job.progress:
            job.progress = progress
            changed = True
    if report.current_frame is not None and report.current_frame > (job.current_frame or 0):
        job.current_frame = report.current_frame
        changed = True
    # The total is an estimate the worker may correct, so the latest one wins.
    if report.total_frames is not None and report.total_frames != job.total_frames:
        job.total_frames = report.total_frames
        changed = True
    if changed:
        _touch(job, now)
    return changed


def complete(
    job: JobState, lease_id: str, output_path: str, total_frames: int | None, now: datetime
) -> None:
    """Finish successfully: the only way progress becomes 100."""
    require_lease(job, lease_id, action="complete the job")
    if total_frames is not None:
        if total_frames < 0:
            raise InvalidArgument(f"total_frames must not be negative, got {total_frames}")
        job.total_frames = total_frames
        job.current_frame = total_frames
    job.status = JobStatus.COMPLETED
    job.progress = COMPLETED_PROGRESS
    job.output_path = output_path
    _finish(job, now)


def fail(job: JobState, lease_id: str, message: str, retryable: bool, now: datetime) -> None:
    """End the attempt with an error; retry while attempts remain, if it may help."""
    require_lease(job, lease_id, action="fail the job")
    message = message.strip() or "the worker reported an unspecified error"
    if job.cancel_requested:
        _cancel(job, now)
    elif retryable and job.attempt < job.max_attempts:
        _requeue(job, now)
    else:
        if retryable:
            message = f"{message} (gave up after {job.attempt} of {job.max_attempts} attempts)"
        job.status = JobStatus.FAILED
        job.error_message = message
        _finish(job, now)


def release(job: JobState, lease_id: str, now: datetime) -> None:
    """Hand the job back unfinished; the attempt does not count against it."""
    require_lease(job, lease_id, action="release the job")
    if job.cancel_requested:
        _cancel(job, now)
        return
    job.attempt -= 1
    _requeue(job, now)


def acknowledge_cancellation(job: JobState, lease_id: str, now: datetime) -> None:
    """The worker stopped as asked: the job is cancelled."""
    require_lease(job, lease_id, action="acknowledge cancellation")
    if not job.cancel_requested:
        raise IllegalTransition(f"cancellation of job {job.job_id} was not requested")
    _cancel(job, now)


def request_cancellation(job: JobState, now: datetime) -> bool:
    """Cancel at once if pending, else ask the worker; True when anything changed."""
    if job.status == JobStatus.CANCELLED or job.cancel_requested:
        return False
    if job.status == JobStatus.PENDING:
        _cancel(job, now)
        return True
    if job.status == JobStatus.RUNNING:
        job.cancel_requested = True
        _touch(job, now)
        return True
    raise IllegalTransition(f"job {job.job_id} is {job.status} and can no longer be cancelled")


def expire_lease(job: JobState, now: datetime) -> None:
    """The worker stopped renewing its lease: retry, give up, or finish cancelling."""
    if job.status != JobStatus.RUNNING:
        raise IllegalTransition(f"job {job.job_id} is {job.status}; it holds no lease")
    if job.cancel_requested:
        _cancel(job, now)
    elif job.attempt < job.max_attempts:
        _requeue(job, now)
    else:
        job.status = JobStatus.FAILED
        job.error_message = (
            f"the worker stopped responding (lease expired) on attempt {job.attempt} "
            f"of {job.max_attempts}; giving up"
        )
        _finish(job, now)


def require_lease(job: JobState, lease_id: str, *, action: str) -> None:
    """Only the current lease holder of a running job may act on it."""
    if job.status != JobStatus.RUNNING:
        raise IllegalTransition(f"job {job.job_id} is {job.status}; cannot {action}")
    if job.lease_id != lease_id:
        raise LeaseNotHeld(
            f"lease {lease_id!r} is not the current lease of job {job.job_id}; cannot {action}"
        )


def _requeue(job: JobState, now: datetime) -> None:
    job.status = JobStatus.PENDING
    job.started_at = None
    _reset_attempt_progress(job)
    _clear_lease(job)
    _touch(job, now)


def _cancel(job: JobState, now: datetime) -> None:
    job.status = JobStatus.CANCELLED
    _finish(job, now)


def _finish(job: JobState, now: datetime) -> None:
    job.finished_at = now
    _clear_lease(job)
    _touch(job, now)


def _reset_attempt_progress(job: JobState) -> None:
    job.progress = None
    job.current_frame = None
    job.total_frames = None


def _clear_lease(job: JobState) -> None:
    job.lease_id = None
    job.lease_owner = None
    job.lease_expires_at = None


def _touch(job: JobState, now: datetime) -> None:
    job.updated_at = now
    job.version += 1
