"""The JSON shapes of the REST API, built from job API messages.

``status_view`` is ForgeSyte's ``/v1/video/status`` body, field for field;
``job_view`` adds everything else a client may want to show. ``progress``
is null when the job API has no progress data: never replaced by 0.
"""

from __future__ import annotations

import time
from typing import Any, Final, Literal, TypeAlias

from google.protobuf.timestamp_pb2 import Timestamp

from forgesyte.jobs.v1 import job_pb2
from services.gateway.eta import eta_seconds

JsonObject = dict[str, Any]

StatusValue: TypeAlias = job_pb2.JobStatus.ValueType
STATUS_VALUES: Final[dict[str, StatusValue]] = {
    "pending": job_pb2.JOB_STATUS_PENDING,
    "running": job_pb2.JOB_STATUS_RUNNING,
    "completed": job_pb2.JOB_STATUS_COMPLETED,
    "failed": job_pb2.JOB_STATUS_FAILED,
    "cancelled": job_pb2.JOB_STATUS_CANCELLED,
}
STATUS_NAMES: Final[dict[StatusValue, str]] = {value: name for name, value in STATUS_VALUES.items()}
# The Job fields that may be absent (proto3 ``optional`` or unset messages).
TimestampField = Literal["created_at", "updated_at", "started_at", "finished_at"]
OptionalField = Literal["progress", "current_frame", "total_frames", "error_message"]
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


def _optional(job: job_pb2.Job, field: OptionalField) -> Any:
    return getattr(job, field) if job.HasField(field) else None


def status_view(job: job_pb2.Job) -> JsonObject:
    """``GET /v1/video/status/{job_id}``, as ForgeSyte answers it."""
    return {
        "job_id": job.job_id,
        "status": status_name(job),
        "progress": job.progress if job.HasField("progress") else None,
        "created_at": timestamp(job, "created_at"),
        "updated_at": timestamp(job, "updated_at"),
    }


def job_view(job: job_pb2.Job, now: float | None = None) -> JsonObject:
    """A job with everything the job API knows about it (no results)."""
    view = status_view(job)
    view.update(
        plugin_id=job.plugin_id,
        tool=job.tool,
        job_type=job.job_type,
        original_filename=job.original_filename,
        input_size_bytes=job.input_size_bytes,
        attempt=job.attempt,
        max_attempts=job.max_attempts,
        current_frame=_optional(job, "current_frame"),
        total_frames=_optional(job, "total_frames"),
        error_message=_optional(job, "error_message"),
        cancel_requested=job.cancel_requested,
        started_at=timestamp(job, "started_at"),
        finished_at=timestamp(job, "finished_at"),
        version=job.version,
        eta_seconds=_eta(job, time.time() if now is None else now),
    )
    return view


def _eta(job: job_pb2.Job, now: float) -> float | None:
    if job.status != job_pb2.JOB_STATUS_RUNNING or not job.HasField("started_at"):
        return None
    started = job.started_at.seconds + job.started_at.nanos / 1e9
    return eta_seconds(
        elapsed_seconds=now - started,
        progress=_optional(job, "progress"),
        current_frame=_optional(job, "current_frame"),
        total_frames=_optional(job, "total_frames"),
    )


def tool_view(tool: job_pb2.ToolManifest) -> JsonObject:
    return {
        "id": tool.id,
        "description": tool.description,
        "input_types": list(tool.input_types),
        "output_description": tool.output_description,
    }


def plugin_view(plugin: job_pb2.PluginManifest) -> JsonObject:
    """A plugin manifest in ForgeSyte's shape (tools as a list with ``input_types``)."""
    return {
        "id": plugin.id,
        "name": plugin.name or plugin.id,
        "version": plugin.version,
        "description": plugin.description,
        "tools": [tool_view(tool) for tool in plugin.tools],
    }
