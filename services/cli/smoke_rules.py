"""What ``forgesyte smoke`` counts as a deviation: pure checks on what came back.

The checks take the values as they arrived (a JSON number may be a float,
a status may be any string), not as the client would like them to be, so
the same rules judge the gRPC API and the gateway's REST API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from services.cli.views import STATUSES, TERMINAL_STATUSES, JobView


class SmokeDeviation(Exception):
    """What the deployment did that a client would not expect."""


@dataclass(frozen=True)
class Snapshot:
    """One observed state of the smoke job, values unjudged."""

    job_id: str
    status: object
    progress: object
    attempt: int | None = None
    error: str | None = None

    @classmethod
    def from_view(cls, job: JobView) -> Snapshot:
        return cls(job.job_id, job.status, job.progress, job.attempt, job.error_message)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        attempt = data.get("attempt")
        error = data.get("error_message")
        return cls(
            job_id=str(data.get("job_id")),
            status=data.get("status"),
            progress=data.get("progress"),
            attempt=attempt if isinstance(attempt, int) else None,
            error=error if isinstance(error, str) else None,
        )

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def describe(self) -> str:
        return f"{self.status}, progress {json.dumps(self.progress)}"


def snapshot_problem(job: Snapshot, previous: Snapshot | None = None) -> str | None:
    """Why this snapshot breaks the contract, or None if it does not."""
    if job.status not in STATUSES:
        return f"status is {job.status!r}, expected one of {', '.join(STATUSES)}"
    progress = job.progress
    if progress is not None and (
        not isinstance(progress, int) or isinstance(progress, bool) or not 0 <= progress <= 100
    ):
        return f"progress is {json.dumps(progress)}, expected null or an integer from 0 to 100"
    if job.status == "pending" and progress is not None:
        return f"a pending job has progress {progress}; expected null (no data yet)"
    if job.status == "running" and progress is not None and progress > 99:
        return f"a running job has progress {progress}; expected at most 99 until it completes"
    if job.status == "completed" and progress != 100:
        return f"a completed job has progress {json.dumps(progress)}; expected 100"
    if (
        previous is not None
        and job.attempt is not None
        and previous.attempt == job.attempt
        and isinstance(previous.progress, int)
        and (progress is None or progress < previous.progress)
    ):
        return (
            f"progress went from {previous.progress} to {json.dumps(progress)} "
            f"within attempt {job.attempt}; it may only go up"
        )
    return None


def results_problem(document: bytes) -> str | None:
    """Why the results document is not what clients parse, or None."""
    try:
        parsed = json.loads(document)
    except ValueError as error:
        return f"the results are not JSON ({error})"
    if not isinstance(parsed, dict):
        return f"the results are a JSON {type(parsed).__name__}, expected an object"
    missing = [key for key in ("frames", "summary") if key not in parsed]
    if missing:
        return f"the results lack {' and '.join(repr(key) for key in missing)}"
    if not isinstance(parsed["frames"], list):
        return "the results' 'frames' is not a list"
    return None
