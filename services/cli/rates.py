"""Frames per second and time remaining, computed from job snapshots.

Speed is measured on the job API's clock (``updated_at`` of each snapshot,
``started_at`` of the attempt), never on the client's: a CLI on another
machine, or one that attaches half-way through a job, still gets the rate
at which the worker is actually going. The estimate prefers the frames done
between the first and the latest snapshot it has seen of the current
attempt, which leaves out start-up costs (opening the file, counting
frames, loading models); with only one snapshot it falls back to the
average since the attempt started.

Workers report once per 5% of the video, so between two reports the ETA
counts down on the client's clock (``seconds_since_snapshot``) rather than
sitting still.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.cli.views import JobView


@dataclass(frozen=True)
class _Point:
    at: datetime
    frame: int


class ThroughputMeter:
    """Follows one job's snapshots and estimates its speed and time remaining."""

    def __init__(self) -> None:
        self._attempt: int | None = None
        self._first: _Point | None = None
        self._latest: JobView | None = None

    def observe(self, job: JobView) -> None:
        """Take in the next snapshot.

        A new attempt (or a frame count that went back) restarts the measurement.
        """
        if job.attempt != self._attempt:
            self._attempt = job.attempt
            self._first = None
        self._latest = job
        if job.current_frame is None or job.updated_at is None:
            return
        point = _Point(job.updated_at, job.current_frame)
        if self._first is None or point.frame < self._first.frame:
            self._first = point

    @property
    def frames_per_second(self) -> float | None:
        """Frames per second of the current attempt, or None until it can be known."""
        job = self._latest
        if job is None or job.status != "running" or job.current_frame is None:
            return None
        first = self._first
        if first is not None and job.updated_at is not None and job.current_frame > first.frame:
            return _rate(job.current_frame - first.frame, first.at, job.updated_at)
        if job.started_at is not None and job.updated_at is not None and job.current_frame > 0:
            return _rate(job.current_frame, job.started_at, job.updated_at)
        return None

    def eta_seconds(self, seconds_since_snapshot: float = 0.0) -> float | None:
        """Seconds until the job should finish, or None while that is unknowable.

        From frames when the worker reports a frame total, otherwise from the
        percentage's pace since the attempt started.
        """
        job = self._latest
        if job is None or job.status != "running":
            return None
        remaining = _frames_eta(job, self.frames_per_second)
        if remaining is None:
            remaining = _percent_eta(job)
        if remaining is None:
            return None
        return max(0.0, remaining - max(0.0, seconds_since_snapshot))


def _rate(frames: int, start: datetime, end: datetime) -> float | None:
    seconds = (end - start).total_seconds()
    return frames / seconds if seconds > 0 else None


def _frames_eta(job: JobView, fps: float | None) -> float | None:
    if fps is None or fps <= 0 or job.current_frame is None or not job.total_frames:
        return None
    return max(0, job.total_frames - job.current_frame) / fps


def _percent_eta(job: JobView) -> float | None:
    if not job.progress or job.started_at is None or job.updated_at is None:
        return None
    elapsed = (job.updated_at - job.started_at).total_seconds()
    if elapsed <= 0:
        return None
    return elapsed * (100 - job.progress) / job.progress
