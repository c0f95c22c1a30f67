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
from services.common.job_fields import (
    STATUS_VALUES,
    TERMINAL_STATUS_NAMES,
    job_fields,
)


class JobStatusName(StrEnum):
    """The statuses ``list --status`` accepts, in lifecycle order."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


STATUSES = tuple(STATUS_VALUES)
TERMINAL_STATUSES = TERMINAL_STATUS_NAMES


def status_value(name: str) -> job_pb2.JobStatus.ValueType:
    """``running`` → ``JOB_STATUS_RUNNING``, for list filters."""
    return STATUS_VALUES[name]


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
            **job_fields(job),
            created_at=_time(job.created_at, job.HasField("created_at")),
            updated_at=_time(job.updated_at, job.HasField("updated_at")),
            started_at=_time(job.started_at, job.HasField("started_at")),
            finished_at=_time(job.finished_at, job.HasField("finished_at")),
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
