"""The JSON shapes of the REST API, built from job API messages.

``status_view`` is ForgeSyte's ``/v1/video/status`` body, field for field;
``job_view`` adds everything else a client may want to show. ``progress``
is null when the job API has no progress data: never replaced by 0.
"""

from __future__ import annotations

import time
from typing import Any, Final, Literal

from google.protobuf.timestamp_pb2 import Timestamp

from forgesyte.jobs.v1 import job_pb2
from services.common.job_fields import STATUS_NAMES, job_fields, optional
from services.gateway.eta import eta_seconds

JsonObject = dict[str, Any]

# The Job fields that may be absent (unset messages).
TimestampField = Literal["created_at", "updated_at", "started_at", "finished_at"]
TERMINAL_STATUSES: Final = frozenset(
    {job_pb2.JOB_STATUS_COMPLETED, job_pb2.JOB_STATUS_FAILED, job_pb2.JOB_STATUS_CANCELLED}
)


def status_name(job: job_pb2.Job) -> str:
    return STATUS_NAMES.get(job.status, "unknown")


def is_terminal(job: job_pb2.Job) -> bool:
    return job.status in TERMINAL_STATUSES


def timestamp(job: job_pb2.Job, field: TimestampField) -> str | None:
    """An RFC 3339 UTC time (``2025-01-02T03:04:05.678Z``), or None when unset."""
    if not job.HasField(field):
        return None
    stamp: Timestamp = getattr(job, field)
    return stamp.ToJsonString()


def status_view(job: job_pb2.Job) -> JsonObject:
    """``GET /v1/video/status/{job_id}``, as ForgeSyte answers it."""
    return {
        "job_id": job.job_id,
        "status": status_name(job),
        "progress": optional(job, "progress"),
        "created_at": timestamp(job, "created_at"),
        "updated_at": timestamp(job, "updated_at"),
    }


def job_view(job: job_pb2.Job, now: float | None = None) -> JsonObject:
    """A job with everything the job API knows about it (no results)."""
    view = status_view(job)
    view.update(
        job_fields(job),
        status=status_name(job),
        started_at=timestamp(job, "started_at"),
        finished_at=timestamp(job, "finished_at"),
        eta_seconds=_eta(job, time.time() if now is None else now),
    )
    return view


def _eta(job: job_pb2.Job, now: float) -> float | None:
    if job.status != job_pb2.JOB_STATUS_RUNNING or not job.HasField("started_at"):
        return None
    started = job.started_at.seconds + job.started_at.nanos / 1e9
    return eta_seconds(
        elapsed_seconds=now - started,
        progress=optional(job, "progress"),
        current_frame=optional(job, "current_frame"),
        total_frames=optional(job, "total_frames"),
    )
