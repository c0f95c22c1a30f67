"""The job API's own vocabulary: plain values passed between its layers.

Nothing here knows about gRPC or SQL. The store returns these, the servicers
translate them to protobuf messages.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from services.job_api.errors import InvalidArgument


class JobStatus(enum.StrEnum):
    """Lifecycle states; the values are what the database and REST API store."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})


def parse_job_id(text: str) -> uuid.UUID:
    """Parse a canonical UUID, rejecting anything else with a clear message."""
    try:
        parsed = uuid.UUID(text)
    except (ValueError, TypeError, AttributeError):
        raise InvalidArgument(f"job_id {text!r} is not a valid UUID") from None
    if str(parsed) != text.lower():
        # uuid.UUID also accepts braces, URNs and missing hyphens; one spelling
        # keeps ids comparable as text in logs, URLs and client caches.
        raise InvalidArgument(f"job_id {text!r} is not a valid UUID")
    return parsed


@dataclass(frozen=True)
class JobRecord:
    """One job as stored."""

    job_id: uuid.UUID
    status: JobStatus
    progress: int | None
    created_at: datetime
    updated_at: datetime
    plugin_id: str
    tool: str
    job_type: str
    original_filename: str
    input_size_bytes: int
    current_frame: int | None
    total_frames: int | None
    attempt: int
    max_attempts: int
    error_message: str | None
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool
    version: int


@dataclass(frozen=True)
class NewJob:
    """What a submission asks for, validated before its upload is stored."""

    plugin_id: str
    tool: str
    job_type: str
    original_filename: str
    request_id: str | None


@dataclass(frozen=True)
class LeaseRef:
    """Names a claimed job and the lease its worker holds on it."""

    job_id: uuid.UUID
    lease_id: str


@dataclass(frozen=True)
class Claim:
    """A job handed to a worker, with the lease that lets it act on the job."""

    job: JobRecord
    lease_id: str
    lease_expires_at: datetime


@dataclass(frozen=True)
class ProgressReport:
    """One ReportProgress call; ``percent`` is None for a heartbeat."""

    percent: int | None
    current_frame: int | None
    total_frames: int | None


@dataclass(frozen=True)
class ProgressAck:
    """What the store recorded for a progress report."""

    job: JobRecord
    lease_expires_at: datetime
    changed: bool


@dataclass(frozen=True)
class ToolManifest:
    """One tool a plugin offers."""

    id: str
    description: str
    input_types: tuple[str, ...]
    output_description: str


@dataclass(frozen=True)
class PluginManifest:
    """A plugin as advertised by workers."""

    id: str
    name: str
    version: str
    description: str
    tools: tuple[ToolManifest, ...] = field(default_factory=tuple)

    def tool(self, tool_id: str) -> ToolManifest | None:
        return next((t for t in self.tools if t.id == tool_id), None)
