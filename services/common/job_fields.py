"""A Job message in ForgeSyte's plain terms, shared by everything that shows
jobs to people or scripts (the gateway's JSON, the CLI's output).

Protobuf's own JSON mapping is made for machines that know the schema (enum
names such as ``JOB_STATUS_RUNNING``, absent fields dropped). Here statuses
are the lower-case strings the database and REST API use, and a field the job
API has no data for is ``None``, so "no progress data" is never mistaken for 0.
Times are left to each caller, which formats them its own way.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from forgesyte.jobs.v1 import job_pb2

_PREFIX = "JOB_STATUS_"
STATUS_VALUES: Final[dict[str, job_pb2.JobStatus.ValueType]] = {
    name.removeprefix(_PREFIX).lower(): value
    for name, value in job_pb2.JobStatus.items()
    if value != job_pb2.JOB_STATUS_UNSPECIFIED
}
STATUS_NAMES: Final[dict[job_pb2.JobStatus.ValueType, str]] = {
    value: name for name, value in STATUS_VALUES.items()
}
TERMINAL_STATUS_NAMES: Final = frozenset({"completed", "failed", "cancelled"})

OptionalField = Literal["progress", "current_frame", "total_frames", "error_message"]


def status_name(status: job_pb2.JobStatus.ValueType) -> str:
    """``JOB_STATUS_RUNNING`` → ``running``; unknown numbers keep a visible name."""
    try:
        name = job_pb2.JobStatus.Name(status)
    except ValueError:
        return f"unknown({int(status)})"
    return name.removeprefix(_PREFIX).lower()


def optional(job: job_pb2.Job, field: OptionalField) -> Any:
    """A proto3 ``optional`` field's value, or None when the job API sent none."""
    return getattr(job, field) if job.HasField(field) else None


def job_fields(job: job_pb2.Job) -> dict[str, Any]:
    """Every field of a job except its four timestamps, by REST name."""
    return {
        "job_id": job.job_id,
        "status": status_name(job.status),
        "progress": optional(job, "progress"),
        "current_frame": optional(job, "current_frame"),
        "total_frames": optional(job, "total_frames"),
        "plugin_id": job.plugin_id,
        "tool": job.tool,
        "job_type": job.job_type,
        "original_filename": job.original_filename,
        "input_size_bytes": job.input_size_bytes,
        "attempt": job.attempt,
        "max_attempts": job.max_attempts,
        "cancel_requested": job.cancel_requested,
        "error_message": optional(job, "error_message"),
        "version": job.version,
    }
