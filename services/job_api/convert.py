"""Translation between protobuf messages and the job API's domain values."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from forgesyte.jobs.v1 import job_pb2, worker_service_pb2
from services.job_api.domain import (
    JobRecord,
    JobStatus,
    LeaseRef,
    PluginManifest,
    ToolManifest,
    parse_job_id,
)
from services.job_api.errors import InvalidArgument

_STATUS_TO_PROTO: dict[JobStatus, job_pb2.JobStatus.ValueType] = {
    JobStatus.PENDING: job_pb2.JOB_STATUS_PENDING,
    JobStatus.RUNNING: job_pb2.JOB_STATUS_RUNNING,
    JobStatus.COMPLETED: job_pb2.JOB_STATUS_COMPLETED,
    JobStatus.FAILED: job_pb2.JOB_STATUS_FAILED,
    JobStatus.CANCELLED: job_pb2.JOB_STATUS_CANCELLED,
}
_STATUS_FROM_PROTO = {value: key for key, value in _STATUS_TO_PROTO.items()}


def status_filter(value: job_pb2.JobStatus.ValueType) -> JobStatus | None:
    """A status filter from a request: UNSPECIFIED means "any"."""
    if value == job_pb2.JOB_STATUS_UNSPECIFIED:
        return None
    try:
        return _STATUS_FROM_PROTO[value]
    except KeyError:
        raise InvalidArgument(f"status {value} is not a known JobStatus value") from None


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def job(record: JobRecord) -> job_pb2.Job:
    message = job_pb2.Job(
        job_id=str(record.job_id),
        status=_STATUS_TO_PROTO[record.status],
        created_at=_timestamp(record.created_at),
        updated_at=_timestamp(record.updated_at),
        plugin_id=record.plugin_id,
        tool=record.tool,
        job_type=record.job_type,
        original_filename=record.original_filename,
        attempt=record.attempt,
        max_attempts=record.max_attempts,
        cancel_requested=record.cancel_requested,
        version=record.version,
        input_size_bytes=record.input_size_bytes,
    )
    # Optional fields stay absent when unknown: "no progress data" is not 0.
    if record.progress is not None:
        message.progress = record.progress
    if record.current_frame is not None:
        message.current_frame = record.current_frame
    if record.total_frames is not None:
        message.total_frames = record.total_frames
    if record.error_message is not None:
        message.error_message = record.error_message
    if record.started_at is not None:
        message.started_at.CopyFrom(_timestamp(record.started_at))
    if record.finished_at is not None:
        message.finished_at.CopyFrom(_timestamp(record.finished_at))
    return message


def lease(message: worker_service_pb2.LeaseRef) -> LeaseRef:
    if not message.lease_id:
        raise InvalidArgument("lease.lease_id is required")
    return LeaseRef(job_id=parse_job_id(message.job_id), lease_id=message.lease_id)


def plugin_manifest_from_proto(message: job_pb2.PluginManifest) -> PluginManifest:
    if not message.id:
        raise InvalidArgument("every advertised plugin needs an id")
    tools = []
    for tool in message.tools:
        if not tool.id:
            raise InvalidArgument(f"plugin {message.id!r} advertises a tool without an id")
        tools.append(
            ToolManifest(
                id=tool.id,
                description=tool.description,
                input_types=tuple(tool.input_types),
                output_description=tool.output_description,
            )
        )
    return PluginManifest(
        id=message.id,
        name=message.name or message.id,
        version=message.version,
        description=message.description,
        tools=tuple(tools),
    )
