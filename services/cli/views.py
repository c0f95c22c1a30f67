"""Plain views of the protobuf messages: what the CLI prints and what ``--json`` emits.

Protobuf's own JSON mapping is made for machines that already know the
schema (camelCase names, enum names such as ``JOB_STATUS_RUNNING``, 64-bit
integers as strings, absent fields dropped). Scripts reading
``forgesyte --json`` get the names the rest of ForgeSyte uses instead: the
REST field names, lower-case status strings, and ``null`` where the job API
has no data, so "no progress data" can never be mistaken for 0%.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from forgesyte.jobs.v1 import job_pb2


class JobStatusName(StrEnum):
    """Every job status, in lifecycle order; the same strings as the REST API."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


STATUSES = tuple(status.value for status in JobStatusName)
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})

_STATUS_PREFIX = "JOB_STATUS_"


def status_name(status: job_pb2.JobStatus.ValueType) -> str:
    """``JOB_STATUS_RUNNING`` → ``running``; unknown numbers keep a visible name."""
    try:
        name = job_pb2.JobStatus.Name(status)
    except ValueError:
        return f"unknown({int(status)})"
    return name.removeprefix(_STATUS_PREFIX).lower()


def status_value(name: str) -> job_pb2.JobStatus.ValueType:
    """``running`` → ``JOB_STATUS_RUNNING``, for list filters."""
    return job_pb2.JobStatus.Value(_STATUS_PREFIX + name.upper())


def _time(stamp: Timestamp, present: bool) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if present else None


@dataclass(frozen=True)
class JobView:
    """One job snapshot with proto3 presence turned into ``None``."""

    job_id: str
    status: str
    progress: int | None
    current_frame: int | None
    total_frames: int | None
    plugin_id: str
    tool: str
    job_type: str
    original_filename: str
    input_size_bytes: int
    attempt: int
    max_attempts: int
    cancel_requested: bool
    error_message: str | None
    created_at: datetime | None
    updated_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    version: int

    @classmethod
    def from_proto(cls, job: job_pb2.Job) -> JobView:
        return cls(
            job_id=job.job_id,
            status=status_name(job.status),
            progress=job.progress if job.HasField("progress") else None,
            current_frame=job.current_frame if job.HasField("current_frame") else None,
            total_frames=job.total_frames if job.HasField("total_frames") else None,
            plugin_id=job.plugin_id,
            tool=job.tool,
            job_type=job.job_type,
            original_filename=job.original_filename,
            input_size_bytes=job.input_size_bytes,
            attempt=job.attempt,
            max_attempts=job.max_attempts,
            cancel_requested=job.cancel_requested,
            error_message=job.error_message if job.HasField("error_message") else None,
            created_at=_time(job.created_at, job.HasField("created_at")),
            updated_at=_time(job.updated_at, job.HasField("updated_at")),
            started_at=_time(job.started_at, job.HasField("started_at")),
            finished_at=_time(job.finished_at, job.HasField("finished_at")),
            version=job.version,
        )

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` shape: REST names, ISO 8601 times, ``null`` for no data."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        return data


def plugin_to_json(plugin: job_pb2.PluginManifest) -> dict[str, Any]:
    """A plugin manifest with its tools, as ``plugins --json`` prints it."""
    return {
        "id": plugin.id,
        "name": plugin.name,
        "version": plugin.version,
        "description": plugin.description,
        "tools": [
            {
                "id": tool.id,
                "description": tool.description,
                "input_types": list(tool.input_types),
                "output_description": tool.output_description,
            }
            for tool in plugin.tools
        ],
    }
