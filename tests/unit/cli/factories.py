"""Job snapshots for the CLI's pure units, built as the job API would send them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from forgesyte.jobs.v1 import job_pb2
from services.cli.views import JobView

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
JOB_ID = "7d9f3c2e-8a41-4b6e-9f0a-0c1d2e3f4a5b"


def snapshot(
    status: str = "running",
    *,
    progress: int | None = None,
    frame: int | None = None,
    total: int | None = None,
    attempt: int = 1,
    started: float | None = 0.0,
    updated: float = 0.0,
    cancel_requested: bool = False,
    error: str | None = None,
) -> JobView:
    """A snapshot whose times are seconds after ``T0``."""
    return JobView(
        job_id=JOB_ID,
        status=status,
        progress=progress,
        current_frame=frame,
        total_frames=total,
        plugin_id="motion",
        tool="detect_motion",
        job_type="video",
        original_filename="clip.mp4",
        input_size_bytes=2048,
        attempt=attempt,
        max_attempts=3,
        cancel_requested=cancel_requested,
        error_message=error,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=updated),
        started_at=None if started is None else T0 + timedelta(seconds=started),
        finished_at=None,
        version=1,
    )


def proto_job(**fields: object) -> job_pb2.Job:
    """A running job as the job API sends it; ``fields`` override or add."""
    defaults: dict[str, object] = {
        "job_id": JOB_ID,
        "status": job_pb2.JOB_STATUS_RUNNING,
        "plugin_id": "motion",
        "tool": "detect_motion",
        "job_type": "video",
        "original_filename": "clip.mp4",
        "attempt": 1,
        "max_attempts": 3,
        "version": 4,
        "input_size_bytes": 2048,
    }
    job = job_pb2.Job(**{**defaults, **fields})  # type: ignore[arg-type]
    job.created_at.FromDatetime(T0)
    job.updated_at.FromDatetime(T0 + timedelta(seconds=2))
    return job
